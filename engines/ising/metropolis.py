"""Checkerboard Metropolis sweeps for the 2D Ising model (numba, GIL released).

One sweep = one flip attempt per spin: first every site with (r + c) even, then every site with
(r + c) odd. The sites are visited one after the other, each move seeing the current values of its
neighbours, so every single move satisfies detailed balance on its own and the sweep leaves the
Boltzmann distribution invariant for any L, odd L included (where the two colours are not an exact
bipartition of the torus). Flipping s costs ``ΔE = 2 s (J n + h)`` with ``n`` the sum of the four
neighbours; the acceptance ``min(1, exp(-β ΔE))`` is read from a 2×5 table indexed by
``(s + 1) / 2`` and ``(n + 4) / 2``. One uniform double is drawn per spin, even for moves that are
always accepted: the branch-free flip is faster than skipping the draw at a mispredicted branch.

Known property of any fixed-order Metropolis sweep (not of this code): at h = 0 a move with
ΔE = 0 is accepted with probability 1, so there are configurations from which every move of every
sweep is forced. They form closed deterministic cycles: four 2-cycles (8 of the 512 states) on
the 3×3 torus, 36 states of energy 0 on the 4×4 torus, the diagonal stripes ``++--`` whenever 4
divides L. A chain started outside never enters them and one started inside never leaves, so the
chain samples the Boltzmann distribution restricted to the other states. Their weight is
negligible beyond tiny lattices; for L ≤ 4 at h = 0 prefer heat bath or a cluster algorithm.
"""

from __future__ import annotations

import numpy as np

from engines.ising.jit import kernel
from engines.ising.rng import uniform


def acceptance_table(beta: float, coupling: float, field: float) -> np.ndarray:
    """``A[(s+1)//2, (n+4)//2] = min(1, exp(-β · 2 s (J n + h)))`` as a float64 (2, 5) array."""
    s = np.array([-1.0, 1.0])[:, None]
    n = np.arange(-4.0, 5.0, 2.0)[None, :]
    delta_e = 2.0 * s * (coupling * n + field)
    return np.exp(np.minimum(0.0, -beta * delta_e))


@kernel
def metropolis_sweeps(spins, n_sweeps, table, state):
    """Run ``n_sweeps`` checkerboard Metropolis sweeps in place; advances the generator state."""
    size = spins.shape[0]
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    for _ in range(n_sweeps):
        for parity in range(2):
            for r in range(size):
                ru = r - 1 if r > 0 else size - 1
                rd = r + 1 if r + 1 < size else 0
                for c in range((r + parity) & 1, size, 2):
                    cl = c - 1 if c > 0 else size - 1
                    cr = c + 1 if c + 1 < size else 0
                    s = spins[r, c]
                    n = spins[ru, c] + spins[rd, c] + spins[r, cl] + spins[r, cr]
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    flip = u < table[(s + 1) >> 1, (n + 4) >> 1]
                    spins[r, c] = s - 2 * s * flip
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
