"""Lattice kernels (numba): random initial state, bond sums, magnetization, pair correlations.

Conventions (shared by the whole package): an L×L periodic square lattice of int8 spins ±1, site
(r, c) with row r and column c; each site owns two bonds, to (r, c+1) and (r+1, c), so the lattice
has 2N bonds (N = L²). For L = 2 the two bonds of a pair of neighbours are distinct bonds that join
the same two sites, which is what "2N bonds on the torus" means there.
"""

from __future__ import annotations

import numpy as np

from engines.ising.jit import kernel
from engines.ising.rng import xoshiro_next

_TOP_BIT = np.uint64(63)
_ONE = np.uint64(1)


@kernel
def random_spins(size, state):
    """Infinite-temperature configuration: each spin is +1 or -1 from one bit of the generator."""
    spins = np.empty((size, size), dtype=np.int8)
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    for r in range(size):
        for c in range(size):
            x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
            spins[r, c] = 1 if (x >> _TOP_BIT) & _ONE else -1
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return spins


@kernel
def bond_sum_and_magnetization(spins):
    """Return ``(B, M)`` with ``B = Σ_<ij> s_i s_j`` over the 2N bonds and ``M = Σ_i s_i``."""
    size = spins.shape[0]
    bonds = 0
    total = 0
    for r in range(size):
        rd = r + 1 if r + 1 < size else 0
        for c in range(size):
            cr = c + 1 if c + 1 < size else 0
            s = spins[r, c]
            bonds += s * (spins[r, cr] + spins[rd, c])
            total += s
    return bonds, total


@kernel
def bond_sums_and_magnetizations(samples):
    """Batched :func:`bond_sum_and_magnetization` over an ``(n, L, L)`` array (two int64 arrays)."""
    n = samples.shape[0]
    bonds = np.empty(n, dtype=np.int64)
    totals = np.empty(n, dtype=np.int64)
    for k in range(n):
        bonds[k], totals[k] = bond_sum_and_magnetization(samples[k])
    return bonds, totals


@kernel
def pair_correlations(samples, r_max):
    """``G[k, r] = (1/2N) Σ_i s_i (s_{i+r x̂} + s_{i+r ŷ})`` for each sample k, r = 0..r_max."""
    n, size = samples.shape[0], samples.shape[1]
    out = np.empty((n, r_max + 1), dtype=np.float64)
    norm = 1.0 / (2.0 * size * size)
    for k in range(n):
        for dr in range(r_max + 1):
            acc = 0
            for r in range(size):
                rr = r + dr
                if rr >= size:
                    rr -= size
                for c in range(size):
                    cc = c + dr
                    if cc >= size:
                        cc -= size
                    s = samples[k, r, c]
                    acc += s * (samples[k, r, cc] + samples[k, rr, c])
            out[k, dr] = acc * norm
    return out
