"""Plain NumPy checkerboard Metropolis: the honest textbook version, as a speed reference.

Each half sweep computes the neighbour sums of the whole lattice with ``np.roll``, draws one
uniform per site with ``np.random.Generator.random`` and flips the accepted sites of one colour
with a boolean mask. No numba, no lookup table, no tricks: what one would write first in NumPy.
L must be even so that the two colours are independent sets of the torus.
"""

from __future__ import annotations

import numpy as np


def checkerboard_masks(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the sites with (r + c) even and odd."""
    if size % 2:
        raise ValueError(f"The NumPy checkerboard needs an even L, got {size}.")
    r, c = np.indices((size, size))
    even = (r + c) % 2 == 0
    return even, ~even


def metropolis_sweep(
    spins: np.ndarray,
    beta: float,
    rng: np.random.Generator,
    masks: tuple[np.ndarray, np.ndarray],
    coupling: float = 1.0,
    field: float = 0.0,
) -> None:
    """One Metropolis sweep (both colours) of an (L, L) int8 lattice in place."""
    for mask in masks:
        neighbours = (
            np.roll(spins, 1, axis=0)
            + np.roll(spins, -1, axis=0)
            + np.roll(spins, 1, axis=1)
            + np.roll(spins, -1, axis=1)
        )
        delta_e = 2.0 * spins * (coupling * neighbours + field)
        accept = mask & (rng.random(spins.shape) < np.exp(-beta * delta_e))
        spins[accept] *= -1
