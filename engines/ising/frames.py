"""What a measurement and a viewer read from a running simulation, at the cost of one pass.

A sample of a large lattice must not cost more than a sweep of the multi-spin kernels (about
1 ms at L = 2048 on two cores), so these functions read the state where it lives and never
expose the int8 *mirror* of a packed simulation (``IsingSimulation.spins``: once handed out,
every sweep call packs it back and unpacks it again, two O(N) passes; see
:class:`engines.ising.simulation.IsingSimulation`):

* :func:`energy_and_magnetization`: (e, m) per spin, the very floats of
  ``energy_per_spin()`` / ``magnetization_per_spin()``, from one pass (popcounts of the packed
  words for the multi-spin algorithms, the live lattice for the others, the device for torch);
* :func:`configuration`: the int8 configuration, unpacked into a buffer the caller reuses (the
  live array itself for the unpacked algorithms): no allocation per sample;
* :func:`block_image` / :func:`spins_block_image`: what a viewer draws when the lattice has more
  sites than the screen has pixels: the fraction of +1 spins in each ``f × f`` block as uint8,
  0 (all −1) … 255 (all +1); ``f = 1`` is the configuration itself (0 or 255). Edge blocks of
  an L that ``f`` does not divide hold fewer sites and are normalized by their own count.
"""

from __future__ import annotations

import numpy as np

from engines.ising.jit import kernel
from engines.ising.lattice import bond_sum_and_magnetization
from engines.ising.multispin import unpack_into
from engines.ising.observables import _differing_pairs, popcount64
from engines.ising.params import PACKED_ALGORITHMS, TORCH_ALGORITHMS
from engines.ising.simulation import IsingSimulation

_ONE = np.uint64(1)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@kernel
def packed_bonds_and_magnetization(words, width):
    """``(B, M)`` of a packed lattice (B = Σ_<ij> s_i s_j over the 2N bonds, M = Σ s_i), the
    integers of :func:`engines.ising.multispin.packed_bond_sum_and_magnetization`, counted
    with the popcnt instruction over the flattened words: the vertical bonds are the words one
    row (S words) apart, the horizontal ones the next word, corrected at each row's seam (the
    right neighbours of word S - 1 are word 0 rotated by one bit, not the next row's word 0)."""
    size, n_words = words.shape
    flat = words.reshape(-1)
    n = flat.size
    mask = _ALL if width == 64 else (_ONE << np.uint64(width)) - _ONE
    up = np.uint64(0)
    for i in range(n):
        up += popcount64(flat[i])
    unsatisfied = _differing_pairs(flat[: n - n_words], flat[n_words:])
    unsatisfied += _differing_pairs(flat[n - n_words :], flat[:n_words])
    unsatisfied += _differing_pairs(flat[: n - 1], flat[1:])  # seams counted wrongly below
    last = n_words - 1
    for r in range(size):
        if r + 1 < size:
            unsatisfied -= popcount64(words[r, last] ^ words[r + 1, 0])
        x = words[r, 0]
        right = ((x >> _ONE) | (x << np.uint64(width - 1))) & mask
        unsatisfied += popcount64(words[r, last] ^ right)
    n_spins = size * size
    return 2 * n_spins - 2 * np.int64(unsatisfied), 2 * np.int64(up) - n_spins


def energy_and_magnetization(sim: IsingSimulation) -> tuple[float, float]:
    """``(e, m)`` per spin of the current configuration, bit for bit what
    ``sim.energy_per_spin()`` and ``sim.magnetization_per_spin()`` return, in one pass."""
    algorithm = sim.params.algorithm
    if algorithm in TORCH_ALGORITHMS:
        return sim.energy_per_spin(), sim.magnetization_per_spin()
    if algorithm in PACKED_ALGORITHMS:
        bonds, total = packed_bonds_and_magnetization(sim.packed_spins(), sim.packed_width)
    else:
        bonds, total = bond_sum_and_magnetization(sim.spins)
    bonds, total = int(bonds), int(total)
    p = sim.params
    return (-p.coupling * bonds - p.field * total) / sim.n_spins, total / sim.n_spins


def configuration(sim: IsingSimulation, buffer: np.ndarray | None = None) -> np.ndarray:
    """The current (L, L) int8 configuration, valid until the next sweep (copy it to keep it).

    Multi-spin algorithms unpack their words into ``buffer`` (an (L, L) int8 array the caller
    reuses; allocated when None); torch fills it from ``spins_copy()``; the other algorithms
    return their live lattice (read it, do not write it).
    """
    algorithm = sim.params.algorithm
    if algorithm not in PACKED_ALGORITHMS and algorithm not in TORCH_ALGORITHMS:
        return sim.spins
    size = sim.params.size
    if buffer is None or buffer.shape != (size, size) or buffer.dtype != np.int8:
        buffer = np.empty((size, size), dtype=np.int8)
    if algorithm in PACKED_ALGORITHMS:
        unpack_into(sim.packed_spins(), sim.packed_width, buffer)
    else:
        buffer[...] = sim.spins_copy()
    return buffer


def image_shape(size: int, block: int) -> tuple[int, int]:
    """The (rows, columns) of the block image of an L×L lattice with blocks of ``block`` sites."""
    side = -(-size // block)
    return side, side


@kernel
def _spins_blocks(spins, block, out):
    size = spins.shape[0]
    if block == 1:  # one site per pixel: 0 or 255
        for r in range(size):
            for c in range(size):
                out[r, c] = np.uint8(((np.int32(spins[r, c]) + 1) >> 1) * 255)
        return
    sums = np.zeros(size, dtype=np.int32)
    side = out.shape[1]
    for big in range(out.shape[0]):
        sums[:] = 0
        first = big * block
        last = min(first + block, size)
        for r in range(first, last):
            row = spins[r]
            for c in range(size):
                sums[c] += (np.int32(row[c]) + 1) >> 1
        _write_row(sums, block, last - first, side, out[big])


@kernel
def _packed_blocks(words, width, block, out):
    size, n_words = words.shape
    sums = np.zeros(size, dtype=np.int32)
    side = out.shape[1]
    for big in range(out.shape[0]):
        sums[:] = 0
        first = big * block
        last = min(first + block, size)
        for r in range(first, last):
            for k in range(width):
                shift = np.uint64(k)
                base = k * n_words
                for j in range(n_words):
                    sums[base + j] += np.int32((words[r, j] >> shift) & _ONE)
        _write_row(sums, block, last - first, side, out[big])


@kernel
def _write_row(sums, block, rows, side, out_row):
    """One image row from the column sums of ``rows`` lattice rows: 255 × the share of +1,
    rounded (a table for the full-width blocks, a division for a narrower last one)."""
    size = sums.shape[0]
    full = rows * block
    table = np.empty(full + 1, dtype=np.uint8)
    for up in range(full + 1):
        table[up] = (510 * up + full) // (2 * full)  # round(255 · up / count)
    for col in range(side):
        first = col * block
        last = min(first + block, size)
        up = 0
        for c in range(first, last):
            up += sums[c]
        count = rows * (last - first)
        if count == full:
            out_row[col] = table[up]
        else:
            out_row[col] = (510 * up + count) // (2 * count)


def _check_block(block: int) -> int:
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise ValueError(f"The block size must be an integer >= 1, got {block!r}.")
    return int(block)


def spins_block_image(spins: np.ndarray, block: int = 1) -> np.ndarray:
    """The uint8 block image (module doc) of an (L, L) int8 ±1 configuration."""
    block = _check_block(block)
    spins = np.ascontiguousarray(spins, dtype=np.int8)
    if spins.ndim != 2 or spins.shape[0] != spins.shape[1]:
        raise ValueError(f"The spins must be a square (L, L) array, got {spins.shape}.")
    out = np.empty(image_shape(spins.shape[0], block), dtype=np.uint8)
    _spins_blocks(spins, block, out)
    return out


def block_image(sim: IsingSimulation, block: int = 1) -> np.ndarray:
    """The uint8 block image (module doc) of the simulation's current configuration, read from
    its packed words for the multi-spin algorithms (no unpacking), from its lattice otherwise."""
    block = _check_block(block)
    if sim.params.algorithm in PACKED_ALGORITHMS:
        out = np.empty(image_shape(sim.params.size, block), dtype=np.uint8)
        _packed_blocks(sim.packed_spins(), sim.packed_width, block, out)
        return out
    if sim.params.algorithm in TORCH_ALGORITHMS:
        return spins_block_image(sim.spins_copy(), block)
    return spins_block_image(sim.spins, block)
