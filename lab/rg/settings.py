"""The settings of a coarse-graining as the RG dock's form offers them (:mod:`lab.core.settings`
rows over :mod:`engines.constraints` objects).

The block size depends on the lattice: ``b`` must be an integer ≥ 2 whose ``levels``-th power
divides L (each level divides the side by b), leaving a coarsest lattice of at least
:data:`MIN_COARSE_SIZE` (the observables of a level, its energy, U₄ and C(r), need L′ ≥ 2). That
rule is :func:`check_levels` (used by ``coarse-grain``, ``train-stack`` and ``rg-flow`` before any
work) and :class:`BlockDivides`, and
:func:`block_setting` gives the row for a given L and number of levels (the plain ``BLOCK`` row
while either is unknown), so the dock rebuilds the row when the data or the levels change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from numbers import Integral
from typing import Any

from engines.constraints import SEED, Constraint, Interval, number_from_text
from lab.core.settings import Setting

MAX_LEVELS = 10
MIN_COARSE_SIZE = 2
"""The smallest side L / b^levels a coarse-graining may leave: a 1×1 lattice has no bonds, so no
energy, effective temperature or C(r)."""

BLOCK = Setting("block", "block b", Interval(integer=True, low=2), 2, help="block size b")
LEVELS = Setting(
    "levels",
    "levels",
    Interval(integer=True, low=1, high=MAX_LEVELS),
    2,
    help="coarse-graining steps (the RBM makes one)",
)
SEED_ROW = Setting("seed", "seed", SEED, 0, help="majority tie-breaks and the RBM's hidden samples")


def coarsest_size(size: int, block: int, levels: int) -> int:
    """L / b^levels, or 0 when b^levels does not divide L (computed level by level, so a huge
    ``levels`` costs nothing)."""
    L = int(size)
    for _ in range(int(levels)):
        if L % block:
            return 0
        L //= block
        if L == 0:
            return 0
    return L


def check_levels(size: int, block: int, levels: int) -> None:
    """ValueError with one sentence unless ``levels`` coarse-grainings by b×b blocks (b =
    ``block``) fit an L×L lattice (L = ``size``): 1 ≤ levels ≤ :data:`MAX_LEVELS`, b an integer
    ≥ 2, b^levels dividing L and L / b^levels ≥ :data:`MIN_COARSE_SIZE`."""
    if (
        isinstance(levels, bool)
        or not isinstance(levels, Integral)
        or not 1 <= levels <= MAX_LEVELS
    ):
        raise ValueError(f"levels must be an integer from 1 to {MAX_LEVELS}, got {levels!r}")
    if isinstance(block, bool) or not isinstance(block, Integral) or block < 2:
        raise ValueError(f"the block size b must be an integer ≥ 2, got {block!r}")
    coarsest = coarsest_size(size, block, levels)
    if coarsest == 0:
        raise ValueError(f"L = {size} must be divisible by b^levels = {block}^{levels}")
    if coarsest < MIN_COARSE_SIZE:
        raise ValueError(
            f"{levels} levels of {block}×{block} blocks take L = {size} down to "
            f"{coarsest}×{coarsest}: the coarsest lattice must be at least "
            f"{MIN_COARSE_SIZE}×{MIN_COARSE_SIZE} (fewer levels, or L ≥ "
            f"{MIN_COARSE_SIZE * block**levels})"
        )


@dataclass(frozen=True)
class BlockDivides(Constraint):
    """An integer b ≥ 2 with b^levels dividing L = ``size`` and leaving a coarsest lattice of at
    least :data:`MIN_COARSE_SIZE` (:func:`check_levels`)."""

    size: int
    levels: int

    def describe(self) -> str:
        return f"an integer ≥ 2 with b^{self.levels} dividing L = {self.size}"

    def check(self, name: str, value: Any) -> Any:
        try:
            block = BLOCK.constraint.check(name, value)
        except ValueError:
            block = None
        if block is None or coarsest_size(self.size, block, self.levels) == 0:
            raise ValueError(f"{name} must be {self.describe()}, got {value!r}.")
        coarsest = coarsest_size(self.size, block, self.levels)
        if coarsest < MIN_COARSE_SIZE:
            raise ValueError(
                f"{name} = {block} takes L = {self.size} down to {coarsest}×{coarsest} in "
                f"{self.levels} levels; the coarsest lattice must be at least "
                f"{MIN_COARSE_SIZE}×{MIN_COARSE_SIZE}."
            )
        return block

    def parse(self, name: str, text: str) -> Any:
        text = text.strip()
        try:
            value = number_from_text(text, integer=True)
        except ValueError:
            raise ValueError(f"{name} must be {self.describe()}, got '{text}'.") from None
        return self.check(name, value)


def block_setting(size: int | None, levels: int | None) -> Setting:
    """The block row for data of side ``size`` coarse-grained ``levels`` times (the plain
    :data:`BLOCK` row when either is None)."""
    if size is None or levels is None:
        return BLOCK
    return replace(BLOCK, constraint=BlockDivides(int(size), int(levels)))


__all__ = [
    "BLOCK",
    "LEVELS",
    "MAX_LEVELS",
    "MIN_COARSE_SIZE",
    "SEED_ROW",
    "BlockDivides",
    "block_setting",
    "check_levels",
    "coarsest_size",
]
