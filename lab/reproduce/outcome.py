"""What a reproduction produces: a table, figures, notes, and the data and models behind them.

An :class:`Outcome` is plain data (no Qt, no files): the command writes it into the session (a
``reproduction`` run, :mod:`lab.reproduce.runs`) and into a report folder
(:mod:`lab.reproduce.report`); the dock draws the same figures. Each table row sets a published
claim beside the lab's figure with its error bar, a verdict, the settings and the time it took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

VERDICTS = ("reproduced", "partly", "not reproduced")


@dataclass
class Row:
    """One line of the report's table."""

    claim: str
    measured: str
    verdict: str
    settings: str = ""
    seconds: float = float("nan")

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"a verdict is one of {VERDICTS}, got {self.verdict!r}")


@dataclass
class Series:
    """One curve or set of points of a panel: ``y`` against ``x`` with optional one-sigma
    ``error``; ``style`` is 'points' (with error bars), 'line' or 'dashed'."""

    name: str
    x: np.ndarray
    y: np.ndarray
    error: np.ndarray | None = None
    style: str = "points"


@dataclass
class Panel:
    """One plot: curves (``series``) on axes, or a mosaic of L×L images (``images``, (k, L, L),
    drawn with a diverging colour map centred on 0, ``image_titles`` under them), ``columns``
    images per row (0: a near-square grid)."""

    title: str
    xlabel: str = ""
    ylabel: str = ""
    series: list[Series] = field(default_factory=list)
    images: np.ndarray | None = None
    image_titles: list[str] = field(default_factory=list)
    hlines: list[tuple[float, str]] = field(default_factory=list)
    vlines: list[tuple[float, str]] = field(default_factory=list)
    columns: int = 0


@dataclass
class Figure:
    """A figure of the report: ``name`` (file stem), ``title`` and its panels side by side."""

    name: str
    title: str
    panels: list[Panel]


@dataclass
class Outcome:
    """Everything a reproduction produced (module doc). ``data`` lists the configuration sets
    drawn (dicts of role, temperature, seed, samples, algorithm, thermalize, interval), stored as
    Ising runs; ``models`` the trained RBMs (dicts of name, W, and a and b when known), stored in
    the reproduction run; ``results`` the headline numbers (flat, for the session browser and
    the benchmark)."""

    experiment: str
    title: str
    quick: bool
    seed: int
    rows: list[Row]
    figures: list[Figure]
    notes: list[str]
    settings: dict[str, Any]
    results: dict[str, float]
    seconds: float
    data: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)


def pm(value: float, error: float, digits: int = 3) -> str:
    """'0.625 ± 0.012' (or the value alone when the error is not finite)."""
    if not np.isfinite(error):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ± {error:.{digits}f}"
