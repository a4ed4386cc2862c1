"""The sweep dock's plot: any scalar result of the points' runs against any swept option, one
curve per value of the other swept options, with one-sigma error bars (e.g. U₄ against T for
each L: the Binder crossing; the held-out NLL against n_h)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from lab.sweep.runs import Curve, SweepRunView

COLOURS = ("#3498db", "#e74c3c", "#2ecc71", "#f39c12", "#9b59b6", "#1abc9c", "#e67e22", "#95a5a6")
PREFERRED_Y = ("binder", "nll_valid", "evaluation.nll", "e", "abs_m")
"""The result shown first when a sweep's runs have it."""


class SweepPlot(QWidget):
    """Two choosers (x: a swept option, y: a scalar result) over a plot of the curves."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_box = QComboBox(objectName="sweepXBox")
        self.y_box = QComboBox(objectName="sweepYBox")
        self.plot = pg.PlotWidget(objectName="sweepPlot")
        self.plot.addLegend(offset=(10, 10))
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        choosers = QHBoxLayout()
        choosers.addWidget(QLabel("x"))
        choosers.addWidget(self.x_box, 1)
        choosers.addWidget(QLabel("y"))
        choosers.addWidget(self.y_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(choosers)
        layout.addWidget(self.plot, 1)
        self.curves: list[Curve] = []
        self._view: SweepRunView | None = None
        self._lookup = None
        self.x_box.currentTextChanged.connect(lambda _: self.redraw())
        self.y_box.currentTextChanged.connect(lambda _: self.redraw())

    def show_sweep(self, view: SweepRunView | None, lookup) -> None:
        """Offer ``view``'s swept options and its runs' results, keeping the choices that
        still exist, and draw."""
        self._view, self._lookup = view, lookup
        xs = [] if view is None else view.numeric_axes()
        ys = [] if view is None else view.scalar_names(lookup)
        _refill(self.x_box, xs, xs[-1] if xs else "")
        default_y = next((y for y in PREFERRED_Y if y in ys), ys[0] if ys else "")
        _refill(self.y_box, ys, default_y)
        self.redraw()

    def redraw(self) -> None:
        self.plot.clear()
        self.curves = []
        view, x, y = self._view, self.x_box.currentText(), self.y_box.currentText()
        if view is None or not x or not y:
            return
        self.curves = view.curves(self._lookup, x, y)
        self.plot.setLabel("bottom", x)
        self.plot.setLabel("left", y)
        for i, curve in enumerate(self.curves):
            colour = COLOURS[i % len(COLOURS)]
            self.plot.plot(
                curve.x,
                curve.y,
                pen=pg.mkPen(colour, width=2),
                symbol="o",
                symbolSize=6,
                symbolBrush=colour,
                name=curve.label,
            )
            errors = np.where(np.isfinite(curve.error), curve.error, 0.0)
            if errors.any():
                self.plot.addItem(
                    pg.ErrorBarItem(
                        x=curve.x,
                        y=curve.y,
                        height=2 * errors,
                        beam=_beam(curve.x),
                        pen=pg.mkPen(colour),
                    )
                )


def _beam(x: np.ndarray) -> float:
    if x.size < 2:
        return 0.0
    span = float(np.ptp(x))
    return 0.0 if not math.isfinite(span) or span == 0 else span / (8 * x.size)


def _refill(box: QComboBox, items: list[str], default: str) -> None:
    current = box.currentText()
    if [box.itemText(i) for i in range(box.count())] == items:
        return
    box.blockSignals(True)
    box.clear()
    box.addItems(items)
    box.setCurrentText(current if current in items else default)
    box.blockSignals(False)
