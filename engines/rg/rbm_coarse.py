"""The RBM as a coarse-graining map: hidden activations, receptive fields, and the coarse lattice.

Conventions (those of :mod:`engines.rbm`): visible spins ``v ∈ {-1,+1}^n`` with ``n = L²`` and the
row-major flattening of the L x L lattice (spin (r, c) is visible unit ``L·r + c``); hidden units
``h ∈ {0,1}^m``; ``W`` is (n, m), ``b`` (m,), and ``p(h_j = 1 | v) = σ(b_j + (Wᵀv)_j)``. The visible
biases play no part in the hidden layer's conditional, so they are not arguments here.

A hidden unit is read as a *block spin* when its weights are concentrated on a small patch of the
lattice. Its *receptive field* is the map ``(r, c) -> W[L·r + c, j]``; from it:

* the **centre**: the circular mean on the torus, per axis, of the positions weighted by the squared
  weight ``w²`` (a position r is the angle 2πr/L; the centre is the angle of the weighted
  resultant, mapped back to [0, L)). It is the natural centre of mass on a periodic lattice: a
  patch straddling the boundary (rows L-1 and 0) gets the centre L - 1/2, not L/2. If the
  resultant along an axis vanishes (the weight spread evenly around the torus, or all weights
  zero) the centre along that axis is undefined and reported as NaN.
* the **block share**: the largest fraction of the squared weight ``Σ w²`` held by one of the
  (L/b)² aligned b x b blocks of :mod:`engines.rg.block_spin` (block (i, j) covers rows
  b·i .. b·i+b-1 and columns b·j .. b·j+b-1). 1 for a unit that sees exactly one block, about
  b²/L² for weights spread evenly.
* the **matched share** (:func:`matched_locality`): units matched one to one to blocks
  (Hungarian assignment maximizing the total share), then the share of each unit's squared
  weight on *its* block. This is the locality figure to report: the best-block share alone
  hides units that collapse onto the same block (four units all on block 0 have best-block
  share 1 each, but only one of them can stand for block 0; the others get the share of the
  block left to them, about 0).
* the **spread**: the RMS torus distance from the centre, weighted by ``w²``, in lattice
  spacings (the torus distance along an axis is the shorter way round). A unit looking at one
  b x b block has spread √(2·(b² - 1)/12) (√0.5 for b = 2); evenly spread weights give about
  L/√6. Why ``w²`` and not ``|w|``: trained weights carry a floor of small values on every
  site, and with ``|w|`` the many far sites outweigh the few strong near ones. Measured (L = 16
  at T_c, 64 hidden units, 10⁴ Wolff samples, CD-1, 30 epochs, no L1): between the quarter of
  units with the largest best-block share (median 0.23) and the quarter with the smallest
  (0.07), the ``|w|``-weighted spread differs only 5.4 vs 5.9 (correlation with the share
  -0.63), the ``w²``-weighted one 3.8 vs 5.4 (-0.83); with L1 = 0.003, 1.4 vs 2.5.
* the **effective sites**: the participation number ``(Σ w²)² / Σ w⁴``, how many sites carry
  the weight (b² for one block with equal weights, about L²/3 for Gaussian weights).

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
    """(m, 2) centres (row, col) in [0, L) of the receptive fields: circular means weighted by w².

    NaN along an axis where the weighted resultant vanishes (see the module docstring).
    """
    fields = _weights(W, L) ** 2
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
      :func:`receptive_field_centres`, weighted by w², in lattice spacings (module doc);
    * ``"centre"`` (m, 2): those centres;
    * ``"effective_sites"`` (m,): the participation number (Σ w²)² / Σ w⁴.

    The best-block share says how concentrated each unit is, not whether the units together
    tile the lattice: for that use :func:`matched_locality`. A unit with all weights zero has
    NaN block share, spread and effective sites (and best block (0, 0)); the spread is also NaN
    where the centre is undefined.
    """
    fields = _weights(W, L)
    b = _block_size(L, b)
    k, m = L // b, fields.shape[2]
    shares = _block_shares(fields, b)
    best = np.argmax(shares, axis=1)
    nonzero = np.any(fields != 0, axis=(0, 1))
    share = np.where(nonzero, shares[np.arange(m), best], np.nan)
    centre = receptive_field_centres(W, L)
    squares = fields**2
    dr = _torus_offsets(L, centre[:, 0])  # (L, m), rows
    dc = _torus_offsets(L, centre[:, 1])  # (L, m), columns
    second_moment = np.einsum("rcm,rm->m", squares, dr**2) + np.einsum("rcm,cm->m", squares, dc**2)
    total = squares.sum(axis=(0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.sqrt(second_moment / total)
        effective = np.where(nonzero, total**2 / (squares**2).sum(axis=(0, 1)), np.nan)
    return {
        "block_share": share,
        "best_block": np.stack(np.divmod(best, k), axis=1).astype(np.int64),
        "spread": spread,
        "centre": centre,
        "effective_sites": effective,
    }


def _offset(offset, b: int) -> tuple[int, int]:
    """(dr, dc) with 0 <= dr, dc < b, or ValueError."""
    try:
        dr, dc = (int(x) for x in offset)
    except (TypeError, ValueError):
        raise ValueError(f"The grid offset must be two integers, got {offset!r}.") from None
    if not (0 <= dr < b and 0 <= dc < b):
        raise ValueError(f"The grid offset must lie in [0, {b}) along each axis, got {offset!r}.")
    return dr, dc


def block_shares(W, L: int, b: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """(m, (L/b)²): the share Σ_block w² / Σ w² of each unit's squared weight in each block.

    Blocks are numbered row-major, i·(L/b) + j. With ``offset = (dr, dc)`` the block grid is
    shifted: block (i, j) covers rows dr + b·i .. dr + b·i + b - 1 and columns
    dc + b·j .. dc + b·j + b - 1, modulo L (the b² offsets give the b² tilings of the torus by
    b x b blocks). An all-zero unit has share 0 everywhere.
    """
    b = _block_size(L, b)
    dr, dc = _offset(offset, b)
    fields = np.roll(_weights(W, L), (-dr, -dc), axis=(0, 1))
    return _block_shares(fields, b)


def matched_locality(W, L: int, b: int, offset: tuple[int, int] | str = (0, 0)) -> dict:
    """Locality of a hidden layer read as the coarse lattice: units matched one to one to blocks.

    Needs m <= (L/b)² hidden units. The assignment maximizes the total share
    (``scipy.optimize.linear_sum_assignment``, the Hungarian method); each unit's *matched share*
    is then the share of its squared weight on the block it was given. Units that collapse onto
    one block cannot all be given that block, so the matched share, unlike the best-block
    share, is low for a collapsed layer.

    ``offset`` is the shift of the block grid (:func:`block_shares`); the default is the aligned
    grid of :mod:`engines.rg.block_spin`, the one the stack draws. ``"best"`` tries the b²
    tilings and keeps the one with the largest mean matched share: on a translation-invariant
    lattice the units may tile it on a shifted grid just as well (at L = 4 with four units this
    is common), and block-spin RG on a shifted grid is the same transformation. Returns a dict
    of plain numbers and arrays:

    * ``"matched_share"`` (m,), ``"mean_matched_share"``, ``"min_matched_share"``;
    * ``"assignment"`` (m,) int64: the block (row-major) each unit was given;
    * ``"best_share"`` (m,), ``"mean_best_share"``, ``"best_block"`` (m,) int64 (row-major);
    * ``"distinct_blocks"``: how many different blocks the units' best blocks are;
    * ``"units_on_best_block"``: how many units were given their own best block;
    * ``"blocks_covered"``: whether every block is the best block of some unit;
    * ``"offset"``: the grid offset (dr, dc) used;
    * ``"n_units"``, ``"n_blocks"``, ``"chance"`` = b²/L² (the share of weights spread evenly).

    An all-zero unit has share 0 on every block (not NaN), so it lowers the mean.
    """
    b = _block_size(L, b)
    if isinstance(offset, str):
        if offset != "best":
            raise ValueError(f"offset must be (dr, dc) or 'best', got {offset!r}.")
        candidates = [matched_locality(W, L, b, (dr, dc)) for dr in range(b) for dc in range(b)]
        return max(candidates, key=lambda c: c["mean_matched_share"])
    offset = _offset(offset, b)
    shares = block_shares(W, L, b, offset)
    m, blocks = shares.shape
    if m > blocks:
        raise ValueError(
            f"Matching hidden units to blocks needs at most as many units as blocks: m = {m}, "
            f"but an L = {L} lattice has (L/b)² = {blocks} blocks of size b = {b}."
        )
    units, assigned = linear_sum_assignment(shares, maximize=True)
    assignment = np.empty(m, dtype=np.int64)
    assignment[units] = assigned
    matched = shares[np.arange(m), assignment]
    best = np.argmax(shares, axis=1).astype(np.int64)
    best_share = shares[np.arange(m), best]
    distinct = int(np.unique(best).size)
    return {
        "matched_share": matched,
        "mean_matched_share": float(matched.mean()),
        "min_matched_share": float(matched.min()),
        "assignment": assignment,
        "best_share": best_share,
        "mean_best_share": float(best_share.mean()),
        "best_block": best,
        "distinct_blocks": distinct,
        "units_on_best_block": int(np.count_nonzero(assignment == best)),
        "blocks_covered": distinct == blocks,
        "offset": offset,
        "n_units": int(m),
        "n_blocks": int(blocks),
        "chance": float(b * b / (L * L)),
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
