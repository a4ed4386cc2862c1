"""Checkerboard heat-bath (Glauber) sweeps for the 2D Ising model (numba, GIL released).

One sweep = one update per spin, colour (r + c) even first, then odd, visited sequentially (see
:mod:`engines.ising.metropolis` for why this is exact for any L). Each spin is redrawn from its
conditional distribution given its neighbours, ``P(s = +1) = 1 / (1 + exp(-2β (J n + h)))`` with
``n`` the sum of the four neighbours, read from a 5-entry table indexed by ``(n + 4) / 2``. One
uniform double is drawn per spin.
"""

from __future__ import annotations

import numpy as np

from engines.ising.jit import kernel
from engines.ising.logistic import expit
from engines.ising.rng import uniform


def up_probability_table(beta: float, coupling: float, field: float) -> np.ndarray:
    """Return ``P[(n+4)//2] = 1 / (1 + exp(-2β (J n + h)))`` for n = -4, -2, 0, 2, 4 (float64)."""
    n = np.arange(-4.0, 5.0, 2.0)
    return expit(2.0 * beta * (coupling * n + field))


@kernel
def heatbath_sweeps(spins, n_sweeps, table, state):
    """Run ``n_sweeps`` checkerboard heat-bath sweeps in place; advances the generator state."""
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
                    n = spins[ru, c] + spins[rd, c] + spins[r, cl] + spins[r, cr]
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    spins[r, c] = 1 if u < table[(n + 4) >> 1] else -1
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
