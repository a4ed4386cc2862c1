"""Real-space block-spin transformations of Ising configurations (Kadanoff blocks of b x b spins).

Conventions: ``samples`` is an (n, L, L) array of spins ±1 (int8), one configuration per row of
the first axis; blocks are the b x b squares whose top-left corner is at (b·i, b·j), so the block
spin (i, j) of the coarse (L/b) x (L/b) lattice covers rows b·i .. b·i+b-1 and columns
b·j .. b·j+b-1. The coarse lattice keeps the periodic boundary of the fine one.

Rules:

* majority: the sign of the block sum. For even b a block can sum to zero; such a tie is broken
  by a fair coin from ``np.random.default_rng(seed)``, which draws exactly one number per tied
  block, in row-major order of (sample, block row, block column), so the result depends only on
  the input and the seed.
* decimation: the top-left spin of each block (the other b² - 1 spins are summed over).
"""

from __future__ import annotations

import numpy as np

RULES: tuple[str, ...] = ("majority", "decimation")


def _checked(samples: np.ndarray, b: int) -> np.ndarray:
    """The samples as a contiguous (n, L, L) int8 array, after checking shape, spins and b."""
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 2:
        raise ValueError(f"The block size b must be an integer >= 2, got {b!r}.")
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Samples must have shape (n, L, L), got {samples.shape}.")
    L = samples.shape[1]
    if L == 0 or L % b != 0:
        raise ValueError(f"The lattice size L = {L} is not divisible by the block size b = {b}.")
    if not np.all(np.abs(samples) == 1):
        raise ValueError("Samples must contain only spins +1 and -1.")
    return np.ascontiguousarray(samples, dtype=np.int8)


def majority(samples: np.ndarray, b: int, seed=0) -> np.ndarray:
    """Majority-rule block spins: (n, L, L) ±1 -> (n, L/b, L/b) int8 ±1, the sign of each block sum.

    Ties (possible only for even b) are broken by a fair coin from ``np.random.default_rng(seed)``
    (``seed`` is anything ``default_rng`` accepts: an int or a ``SeedSequence``), one draw per
    tied block in row-major order of (sample, block row, block column).
    """
    samples = _checked(samples, b)
    n, L = samples.shape[0], samples.shape[1] // b
    sums = samples.reshape(n, L, b, L, b).sum(axis=(2, 4), dtype=np.int32)
    blocks = np.sign(sums).astype(np.int8)
    ties = blocks == 0
    n_ties = int(np.count_nonzero(ties))
    if n_ties:
        coins = np.random.default_rng(seed).integers(0, 2, size=n_ties, dtype=np.int8)
        blocks[ties] = 2 * coins - 1
    return blocks


def decimation(samples: np.ndarray, b: int) -> np.ndarray:
    """Decimation: (n, L, L) ±1 -> (n, L/b, L/b) int8, the top-left spin of each b x b block."""
    samples = _checked(samples, b)
    return np.ascontiguousarray(samples[:, ::b, ::b])


def coarse_grain(
    samples: np.ndarray, rule: str, b: int, levels: int, seed: int = 0
) -> list[np.ndarray]:
    """Iterate a block-spin rule: returns ``[level 0 = input (int8), level 1, ..., level levels]``.

    Level k has linear size L / b**k, so L must be divisible by b**levels. For the majority rule
    the tie-break coins of level k (k = 1, 2, ...) come from ``SeedSequence([seed, k])``: the
    levels draw from independent streams, and equal seeds give equal results.
    """
    if rule not in RULES:
        raise ValueError(f"Unknown block-spin rule {rule!r}; valid ones are {', '.join(RULES)}.")
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 0:
        raise ValueError(f"levels must be a non-negative integer, got {levels!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The seed must be a non-negative integer, got {seed!r}.")
    samples = _checked(samples, b)
    L = samples.shape[1]
    if L % b**levels != 0:
        raise ValueError(
            f"{levels} levels of blocks of size b = {b} need L divisible by b**{levels} = "
            f"{b**levels}, got L = {L}."
        )
    out = [samples]
    for k in range(1, levels + 1):
        if rule == "majority":
            out.append(majority(out[-1], b, np.random.SeedSequence([int(seed), k])))
        else:
            out.append(decimation(out[-1], b))
    return out
