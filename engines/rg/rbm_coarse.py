"""The RBM as a coarse-graining map: hidden activations, receptive fields, and the coarse lattice.

Conventions (those of :mod:`engines.rbm`): visible spins ``v ∈ {-1,+1}^n`` with ``n = L²`` and the
row-major flattening of the L x L lattice (spin (r, c) is visible unit ``L·r + c``); hidden units
``h ∈ {0,1}^m``; ``W`` is (n, m), ``b`` (m,), and ``p(h_j = 1 | v) = σ(b_j + (Wᵀv)_j)``. The visible
biases play no part in the hidden layer's conditional, so they are not arguments here.

A hidden unit is read as a *block spin* when its weights are concentrated on a small patch of the
lattice. Its *receptive field* is the map ``(r, c) -> W[L·r + c, j]``; from it:

* the **centre**: the circular mean on the torus, per axis, of the positions weighted by ``|w|``
  (a position r is the angle 2πr/L; the centre is the angle of the weighted resultant, mapped back
  to [0, L)). It is the natural centre of mass on a periodic lattice: a patch straddling the
  boundary (rows L-1 and 0) gets the centre L - 1/2, not L/2. If the resultant along an axis
  vanishes (the weight spread evenly around the torus, or all weights zero) the centre along that
  axis is undefined and reported as NaN.
* the **block share**: the largest fraction of the squared weight ``Σ w²`` held by one of the
  (L/b)² aligned b x b blocks of :mod:`engines.rg.block_spin` (block (i, j) covers rows
  b·i .. b·i+b-1 and columns b·j .. b·j+b-1). 1 for a unit that sees exactly one block, about
  b²/L² for weights spread evenly.
* the **spread**: the RMS torus distance from the centre, weighted by ``|w|``, in lattice spacings
  (the torus distance along an axis is the shorter way round). A unit looking at one b x b block
  has spread √(2·(b² - 1)/12) (√0.5 for b = 2); evenly spread weights give about L/√6.

When there are as many hidden units as blocks, m = (L/b)², units are matched one to one to blocks
(maximizing the total block share) so that the hidden layer can be drawn as the coarse lattice and
compared with the block spins of majority rule.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import expit


def _weights(W, L: int) -> np.ndarray:
    """W as a float64 (L, L, m) array of receptive fields, after checking n = L²."""
    if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"The lattice size L must be a positive integer, got {L!r}.")
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] < 1:
        raise ValueError(f"W must be a non-empty (n_visible, n_hidden) matrix, got {W.shape}.")
    if W.shape[0] != L * L:
        raise ValueError(f"W has {W.shape[0]} visible units, but an L = {L} lattice has {L * L}.")
    if not np.all(np.isfinite(W)):
        raise ValueError("W contains NaN or infinite values.")
    return W.reshape(L, L, W.shape[1])


def _block_size(L: int, b) -> int:
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
        raise ValueError(f"The block size b must be a positive integer, got {b!r}.")
    if L % b != 0:
        raise ValueError(f"The lattice size L = {L} is not divisible by the block size b = {b}.")
    return int(b)


def _visible(W, b, samples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(v as (N, n) float64, W (n, m), b (m,)) after checking shapes and spins."""
    W = np.asarray(W, dtype=np.float64)
    bias = np.asarray(b, dtype=np.float64)
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Samples must have shape (N, L, L), got {samples.shape}.")
    n = samples.shape[1] * samples.shape[2]
    if W.ndim != 2 or W.shape[0] != n:
        raise ValueError(
            f"W must have shape ({n}, m) for samples of shape {samples.shape}, got {W.shape}."
        )
    if bias.shape != (W.shape[1],):
        raise ValueError(f"b must have shape ({W.shape[1]},), got {bias.shape}.")
    if not np.all(np.abs(samples) == 1):
        raise ValueError("Samples must contain only spins +1 and -1.")
    return samples.reshape(samples.shape[0], n).astype(np.float64), W, bias


def hidden_activations(W, b, samples) -> np.ndarray:
    """p(h_j = 1 | v) = σ(b_j + (Wᵀv)_j) for each configuration: (N, L, L) ±1 -> (N, m) float64."""
    v, W, bias = _visible(W, b, samples)
    return expit(v @ W + bias)


def hidden_samples(W, b, samples, seed=0) -> np.ndarray:
    """0/1 draws of the hidden units given each configuration: (N, L, L) ±1 -> (N, m) int8.

    ``h_j = 1`` when ``u < p(h_j = 1 | v)`` with ``u`` uniform on [0, 1) from
    ``np.random.default_rng(seed)``: one (N, m) array of draws in row-major order, so the result
    depends only on the inputs and the seed.
    """
    p = hidden_activations(W, b, samples)
    return (np.random.default_rng(seed).random(p.shape) < p).astype(np.int8)


def _circular_mean(weight: np.ndarray, L: int) -> np.ndarray:
    """Circular mean in [0, L) of weights (L, m) on positions 0..L-1 of a ring; NaN if undefined."""
    angles = 2.0 * np.pi * np.arange(L) / L
    resultant = np.exp(1j * angles) @ weight
    centre = np.mod(np.angle(resultant) * L / (2.0 * np.pi), L)
    centre = np.where(centre >= L, centre - L, centre)  # -0.0 or -1e-17 rounded up to L
    undefined = np.abs(resultant) <= 1e-12 * weight.sum(axis=0)
    return np.where(undefined, np.nan, centre)


def receptive_field_centres(W, L: int) -> np.ndarray:
    """(m, 2) centres (row, col) in [0, L) of the receptive fields: circular means weighted by |w|.

    NaN along an axis where the weighted resultant vanishes (see the module docstring).
    """
    fields = np.abs(_weights(W, L))
    rows = _circular_mean(fields.sum(axis=1), L)
    cols = _circular_mean(fields.sum(axis=0), L)
    return np.stack([rows, cols], axis=1)


def _torus_offsets(L: int, centre: np.ndarray) -> np.ndarray:
    """Signed shortest offsets (L, m) from positions 0..L-1 to each centre (m,) on a ring of L."""
    d = np.arange(L)[:, None] - centre[None, :]
    return np.mod(d + L / 2.0, L) - L / 2.0


def locality(W, L: int, b: int) -> dict:
    """How local each hidden unit is, measured against the aligned b x b blocks.

    Returns a dict with

    * ``"block_share"`` (m,): max over blocks of Σ_block w² / Σ w² (1 = entirely in one block);
    * ``"best_block"`` (m, 2) int64: the (block row, block column) of that block;
    * ``"spread"`` (m,): the RMS torus distance from the centre of
      :func:`receptive_field_centres`, weighted by |w|, in lattice spacings;
    * ``"centre"`` (m, 2): those centres.

    A unit with all weights zero has NaN block share and spread (and best block (0, 0)); the
    spread is also NaN where the centre is undefined.
    """
    fields = _weights(W, L)
    b = _block_size(L, b)
    k, m = L // b, fields.shape[2]
    shares = _block_shares(fields, b)
    best = np.argmax(shares, axis=1)
    share = np.where(np.any(fields != 0, axis=(0, 1)), shares[np.arange(m), best], np.nan)
    centre = receptive_field_centres(W, L)
    magnitude = np.abs(fields)
    dr = _torus_offsets(L, centre[:, 0])  # (L, m), rows
    dc = _torus_offsets(L, centre[:, 1])  # (L, m), columns
    second_moment = np.einsum("rcm,rm->m", magnitude, dr**2) + np.einsum(
        "rcm,cm->m", magnitude, dc**2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.sqrt(second_moment / magnitude.sum(axis=(0, 1)))
    return {
        "block_share": share,
        "best_block": np.stack(np.divmod(best, k), axis=1).astype(np.int64),
        "spread": spread,
        "centre": centre,
    }


def _block_shares(fields: np.ndarray, b: int) -> np.ndarray:
    """(m, (L/b)²) share of each unit's squared weight in each block (0 for all-zero units)."""
    L, m = fields.shape[0], fields.shape[2]
    k = L // b
    squares = fields**2
    per_block = squares.reshape(k, b, k, b, m).sum(axis=(1, 3)).reshape(k * k, m)
    total = squares.sum(axis=(0, 1))
    return np.divide(per_block, total, out=np.zeros_like(per_block), where=total > 0).T


def match_units_to_blocks(W, L: int, b: int) -> np.ndarray:
    """(m,) int64: the block (row-major index i·(L/b) + j) assigned to each hidden unit.

    Needs m == (L/b)²; the one-to-one assignment maximizes the total block share
    (``scipy.optimize.linear_sum_assignment``), so a unit is not forced onto its own best block
    when two units prefer the same one. Raises ValueError when m != (L/b)².
    """
    fields = _weights(W, L)
    b = _block_size(L, b)
    m, blocks = fields.shape[2], (L // b) ** 2
    if m != blocks:
        raise ValueError(
            f"Matching hidden units to blocks needs as many units as blocks: m = {m}, but an "
            f"L = {L} lattice has (L/b)² = {blocks} blocks of size b = {b}."
        )
    units, assigned = linear_sum_assignment(_block_shares(fields, b), maximize=True)
    out = np.empty(m, dtype=np.int64)
    out[units] = assigned
    return out


def hidden_lattice(hidden, assignment, L: int, b: int) -> np.ndarray:
    """The hidden layer drawn as the coarse lattice: (N, m) -> (N, L/b, L/b).

    Unit j is put on block ``assignment[j]`` (row-major, from :func:`match_units_to_blocks`).
    Float input (activations) stays float64 in [0, 1]; integer input (0/1 samples) becomes int8
    spins ``2h - 1``, directly comparable with the majority-rule block spins.
    """
    b = _block_size(L, b)
    k = L // b
    hidden = np.asarray(hidden)
    assignment = np.asarray(assignment)
    if hidden.ndim != 2 or hidden.shape[1] != k * k:
        raise ValueError(f"The hidden layer must have shape (N, {k * k}), got {hidden.shape}.")
    if assignment.shape != (k * k,) or not np.array_equal(np.sort(assignment), np.arange(k * k)):
        raise ValueError(f"The assignment must be a permutation of 0..{k * k - 1}.")
    if np.issubdtype(hidden.dtype, np.integer) or hidden.dtype == np.bool_:
        if not np.all((hidden == 0) | (hidden == 1)):
            raise ValueError("Integer hidden samples must contain only 0 and 1.")
        values = (2 * hidden.astype(np.int8) - 1).astype(np.int8)
    else:
        values = hidden.astype(np.float64)
    out = np.empty_like(values)
    out[:, assignment] = values
    return out.reshape(hidden.shape[0], k, k)


def unit_orientations(W, assignment, L: int, b: int) -> np.ndarray:
    """±1 per hidden unit: the sign of its summed weight on the block it is assigned to.

    A unit with negative weights on its block fires when the block points *down*, so its
    sample h = 1 stands for the block spin −1. Multiplying the drawn hidden lattice
    (:func:`hidden_lattice`) by the orientations of the units on each block makes the hidden
    layer directly comparable with block spins. A unit whose block weights sum to 0 gets +1.
    """
    b = _block_size(L, b)
    k = L // b
    W = np.asarray(W, dtype=np.float64)
    assignment = np.asarray(assignment)
    if W.shape != (L * L, k * k) or assignment.shape != (k * k,):
        raise ValueError(f"W must be ({L * L}, {k * k}) and the assignment ({k * k},).")
    blocks = W.reshape(k, b, k, b, k * k).sum(axis=(1, 3)).reshape(k * k, k * k)
    summed = blocks[assignment, np.arange(k * k)]
    return np.where(summed < 0, -1, 1).astype(np.int8)
