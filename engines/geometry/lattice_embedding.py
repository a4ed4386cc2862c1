"""Coarse levels embedded back on the original L × L lattice, so that levels of different sizes
live in one space R^(L²) and distances and transport costs between them are comparable.

Conventions (those of :mod:`engines.rbm` and :mod:`engines.rg`): visible spins v ∈ {-1,+1}^n,
n = L², flattened row-major (spin (r, c) is unit L·r + c); hidden units h ∈ {0,1}^m; W is (n, m),
a (n,), and ``p(v_i = +1 | h) = σ(2(a_i + (W h)_i))``, hence the reconstruction

    E[v_i | h] = 2 σ(2 z_i) − 1 = tanh(z_i),   z = a + W h,

a real number in (−1, 1) per site.

Embeddings:

* :func:`repeat_blocks`: a coarse lattice of size l = L / f (a block-spin level k with f = b^k, or
  an RBM hidden layer drawn as a lattice by :func:`engines.rg.hidden_lattice`) is embedded by
  repeating each coarse spin over its f × f block (block (i, j) covers rows f·i … f·i + f − 1 and
  columns f·j … f·j + f − 1, the block convention of :mod:`engines.rg.block_spin`). This is the
  configuration the block spins would describe if every spin agreed with its block; it keeps ±1
  values, and a level-0 lattice is returned unchanged.
* :func:`rbm_reconstruction`: an RBM hidden layer h (samples in {0,1} or activations in [0,1]) is
  embedded by ``tanh(a + W h)`` — exact conditional means, one per visible site.
* :func:`stack_embedding`: the levels of a stack v → h₁ → h₂ → … (:func:`engines.rg.
  coarse_grain_stack`: level k is an (L/b^k)² lattice of oriented ±1 block spins, the visible
  layer of RBM k + 1) are embedded level by level through the stack's reconstructions. Level k's
  lattice is turned back into RBM k's hidden units (:func:`hidden_units_from_lattice`, the
  inverse of the matching to blocks and the orientation of :func:`engines.rg.rbm_level`),
  reconstructed on level k − 1 by ``tanh(a_k + W_k h_k)``, and so on down to level 0. Below the
  top RBM the real-valued reconstruction m ∈ (−1,1) stands in for a configuration: the hidden
  units of the next RBM down are set to ``(1 + o·m)/2`` (mean field). Level 1's embedding is
  therefore an exact conditional mean; deeper levels are the mean-field down-pass, not
  ``E[v | h_k]`` (that would need a sum over all intermediate layers).

All functions take and return numpy arrays; nothing here samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _lattices(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1] != x.shape[2] or x.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, l, l), got {x.shape}.")
    return x


def repeat_blocks(lattice: np.ndarray, L: int) -> np.ndarray:
    """(N, l, l) → (N, L, L): each coarse spin repeated over its (L/l) × (L/l) block.

    The dtype is kept (int8 block spins stay int8 ±1; real values stay real). ValueError when l
    does not divide L.
    """
    lattice = _lattices(lattice, "The coarse lattice")
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"L must be a positive integer, got {L!r}.")
    l = lattice.shape[1]
    if L % l:
        raise ValueError(f"A coarse lattice of size {l} does not tile an L = {L} lattice.")
    f = L // l
    return np.repeat(np.repeat(lattice, f, axis=1), f, axis=2)


def rbm_reconstruction(
    W: np.ndarray, a: np.ndarray, hidden: np.ndarray, L: int | None = None
) -> np.ndarray:
    """E[v | h] = tanh(a + W h) for each row of ``hidden`` (N, m): (N, n) float64 in (−1, 1).

    ``hidden`` may hold 0/1 samples or activations in [0, 1]. With ``L`` given (n = L²) the
    result is reshaped to (N, L, L).
    """
    W = np.asarray(W, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    h = np.asarray(hidden, dtype=np.float64)
    if W.ndim != 2 or a.shape != (W.shape[0],):
        raise ValueError(f"W must be (n, m) and a (n,), got {W.shape} and {a.shape}.")
    if h.ndim != 2 or h.shape[1] != W.shape[1]:
        raise ValueError(f"hidden must have shape (N, {W.shape[1]}), got {h.shape}.")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(a)) and np.all(np.isfinite(h))):
        raise ValueError("W, a and the hidden layer must be finite.")
    if np.any(h < 0) or np.any(h > 1):
        raise ValueError("Hidden units must lie in [0, 1] (0/1 samples or activations).")
    v = np.tanh(a + h @ W.T)
    if L is None:
        return v
    if W.shape[0] != L * L:
        raise ValueError(f"n = {W.shape[0]} visible units is not L² for L = {L}.")
    return v.reshape(h.shape[0], L, L)


def hidden_units_from_lattice(
    lattice: np.ndarray, assignment: np.ndarray, orientation: np.ndarray
) -> np.ndarray:
    """The hidden units (N, m) of one stack level from its drawn lattice (N, k, k), k² = m.

    Inverse of :func:`engines.rg.rbm_level`'s drawing: unit u sits on block ``assignment[u]``
    (row-major) with orientation ``orientation[u]`` = ±1 (per unit, as returned by
    :func:`engines.rg.unit_orientations`), and the lattice value there is ``o_u (2 h_u − 1)``;
    hence ``h_u = (1 + o_u · lattice[assignment[u]]) / 2``. For a ±1 lattice this is exactly the
    0/1 sample; for a real lattice in [−1, 1] (a reconstruction) it is the mean-field activation.
    """
    lattice = _lattices(lattice, "The lattice")
    N, k = lattice.shape[0], lattice.shape[1]
    assignment = np.asarray(assignment)
    orientation = np.asarray(orientation)
    if assignment.shape != (k * k,) or not np.array_equal(np.sort(assignment), np.arange(k * k)):
        raise ValueError(f"The assignment must be a permutation of 0..{k * k - 1}.")
    if orientation.shape != (k * k,) or not np.all(np.abs(orientation) == 1):
        raise ValueError(f"The orientation must be ({k * k},) of ±1.")
    values = lattice.reshape(N, k * k).astype(np.float64)
    if np.any(np.abs(values) > 1):
        raise ValueError("Lattice values must lie in [−1, 1].")
    return (1.0 + orientation.astype(np.float64) * values[:, assignment]) / 2.0


def stack_orientation(W: np.ndarray, L: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(assignment, per-unit orientation) of one stack level, exactly as :func:`engines.rg.
    rbm_level` draws it (:func:`engines.rg.match_units_to_blocks`, :func:`engines.rg.
    unit_orientations`)."""
    from engines.rg.rbm_coarse import match_units_to_blocks, unit_orientations

    assignment = match_units_to_blocks(W, L, block)
    return assignment, unit_orientations(W, assignment, L, block)


def stack_embedding(
    levels: Sequence[np.ndarray],
    rbms: Sequence[tuple[np.ndarray, np.ndarray]],
    block: int,
    orientations: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[np.ndarray]:
    """Every level of a stack embedded on the original lattice: a list of (N, L, L) float64.

    ``levels`` = ``[level 0 (N, L, L) ±1, level 1 (N, L/b, L/b), …]`` as returned by
    :func:`engines.rg.coarse_grain_stack`; ``rbms`` = ``[(W_1, a_1), (W_2, a_2), …]`` (level k's
    RBM has (L/b^(k−1))² visible and (L/b^k)² hidden units; hidden biases play no part in a
    reconstruction). ``orientations[k-1] = (assignment, orientation)`` of level k; computed by
    :func:`stack_orientation` when not given. Level 0 is returned as float64; level k ≥ 1 is the
    mean-field down-pass of the module docstring.
    """
    if len(levels) < 1:
        raise ValueError("The stack needs at least level 0.")
    if len(rbms) != len(levels) - 1:
        raise ValueError(f"{len(levels)} levels need {len(levels) - 1} RBMs, got {len(rbms)}.")
    if orientations is not None and len(orientations) != len(rbms):
        raise ValueError(f"Need one (assignment, orientation) per RBM, got {len(orientations)}.")
    lattices = [_lattices(x, f"Level {k}") for k, x in enumerate(levels)]
    N, L = lattices[0].shape[0], lattices[0].shape[1]
    for k, x in enumerate(lattices):
        if x.shape[0] != N:
            raise ValueError(f"Level {k} has {x.shape[0]} samples, level 0 has {N}.")
        if x.shape[1] * block**k != L:
            raise ValueError(f"Level {k} has size {x.shape[1]}; L / b^{k} = {L / block**k:g}.")
    keys = []
    for k, (W, _) in enumerate(rbms, start=1):
        if orientations is not None:
            keys.append(tuple(np.asarray(o) for o in orientations[k - 1]))
        else:
            keys.append(
                stack_orientation(np.asarray(W, dtype=np.float64), L // block ** (k - 1), block)
            )
    out = [lattices[0].astype(np.float64)]
    for k in range(1, len(lattices)):
        m = lattices[k].astype(np.float64)
        for j in range(k, 0, -1):  # level j lattice -> RBM j's hidden units -> level j - 1
            W, a = rbms[j - 1]
            assignment, orientation = keys[j - 1]
            h = hidden_units_from_lattice(m, assignment, orientation)
            m = rbm_reconstruction(W, a, h, L // block ** (j - 1))
        out.append(m)
    return out
