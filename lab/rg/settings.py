"""The settings of a coarse-graining as the RG dock's form offers them (:mod:`lab.core.settings`
rows over :mod:`engines.constraints` objects).

The block size depends on the lattice: ``b`` must be an integer ≥ 2 whose ``levels``-th power
divides L (each level divides the side by b). That rule is :class:`BlockDivides`, and
:func:`block_setting` gives the row for a given L and number of levels (the plain ``BLOCK`` row
while either is unknown), so the dock rebuilds the row when the data or the levels change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engines.constraints import SEED, Constraint, Interval
from lab.core.settings import Setting

MAX_LEVELS = 10

BLOCK = Setting("block", "block b", Interval(integer=True, low=2), 2, help="block size b")
LEVELS = Setting(
    "levels",
    "levels",
    Interval(integer=True, low=1, high=MAX_LEVELS),
    2,
    help="coarse-graining steps (the RBM makes one)",
)
SEED_ROW = Setting("seed", "seed", SEED, 0, help="majority tie-breaks and the RBM's hidden samples")


@dataclass(frozen=True)
class BlockDivides(Constraint):
    """An integer b ≥ 2 with b^levels dividing L = ``size``."""

    size: int
    levels: int

    def describe(self) -> str:
        return f"an integer ≥ 2 with b^{self.levels} dividing L = {self.size}"

    def check(self, name: str, value: Any) -> Any:
        try:
            block = BLOCK.constraint.check(name, value)
        except ValueError:
            block = None
        if block is None or self.size % block**self.levels:
            raise ValueError(f"{name} must be {self.describe()}, got {value!r}.")
        return block

    def parse(self, name: str, text: str) -> Any:
        text = text.strip()
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{name} must be {self.describe()}, got '{text}'.") from None
        return self.check(name, value)


def block_setting(size: int | None, levels: int | None) -> Setting:
    """The block row for data of side ``size`` coarse-grained ``levels`` times (the plain
    :data:`BLOCK` row when either is None)."""
    if size is None or levels is None:
        return BLOCK
    return replace(BLOCK, constraint=BlockDivides(int(size), int(levels)))


__all__ = ["BLOCK", "LEVELS", "MAX_LEVELS", "SEED_ROW", "BlockDivides", "block_setting"]
