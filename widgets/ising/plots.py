"""Live plots of a simulation: e(t) and m(t), the histogram of m, running means with error bars.

The series show the last ``WINDOW`` measurements. The estimates with their autocorrelation-aware
error bars are computed by the worker (``lab.ising.task``) and only displayed here, so the GUI
thread never spends long on statistics.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from lab.ising.runs import Estimate

WINDOW = 2000
HISTOGRAM_MAX = 1 << 16
EXACT_PEN = pg.mkPen("#e74c3c", style=Qt.PenStyle.DashLine)
ROWS = (("e", "e"), ("|m|", "abs_m"), ("c", "c"), ("χ", "chi"), ("U₄", "binder"))


class IsingPlots(QWidget):
    """Time series, histogram and a table of estimates against exact values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.energy_plot = pg.PlotWidget(title="energy per spin")
        self.energy_curve = self.energy_plot.plot(pen=pg.mkPen("#f4d03f", width=1))
        self.energy_exact = pg.InfiniteLine(angle=0, pen=EXACT_PEN)
        self.energy_plot.addItem(self.energy_exact)
        self.magnet_plot = pg.PlotWidget(title="magnetization per spin")
        self.magnet_curve = self.magnet_plot.plot(pen=pg.mkPen("#5dade2", width=1))
        self.magnet_exact = [pg.InfiniteLine(angle=0, pen=EXACT_PEN) for _ in range(2)]
        for line in self.magnet_exact:
            self.magnet_plot.addItem(line)
        self.magnet_plot.setYRange(-1.05, 1.05)
        self.histogram_plot = pg.PlotWidget(title="histogram of m")
        self.histogram = self.histogram_plot.plot(
            stepMode="center", fillLevel=0, brush=(93, 173, 226, 120)
        )
        for plot in (self.energy_plot, self.magnet_plot):
            plot.setLabel("bottom", "measurement")
        self.plots: dict[str, pg.PlotWidget] = {
            "energy per spin": self.energy_plot,
            "magnetization per spin": self.magnet_plot,
            "histogram of m": self.histogram_plot,
        }
        self.table = QLabel()
        self.table.setObjectName("estimatesTable")
        self.table.setTextFormat(Qt.TextFormat.RichText)

        splitter = QSplitter()
        splitter.addWidget(self.energy_plot)
        splitter.addWidget(self.magnet_plot)
        splitter.addWidget(self.histogram_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.table)
        self._last_key: tuple | None = None
        self.estimates: dict = {}
        self.clear()

    def clear(self) -> None:
        """Empty plots, no reference lines, no table (before a run, or when one starts)."""
        for line in (self.energy_exact, *self.magnet_exact):
            line.setVisible(False)
        self.energy_curve.setData([], [])
        self.magnet_curve.setData([], [])
        self.histogram.setData([0, 1], [0])
        self.table.setText("")
        self.estimates = {}
        self._last_key = None

    #: The parts :meth:`show_series` can draw alone: the live dock draws one per frame in turn,
    #: so that no single frame pays for laying out all three plots (the longest event-loop stall
    #: at L = 2048 is a frame's painting, not the engine).
    PARTS = ("energy", "magnetization", "histogram")

    def show_series(
        self,
        energy: np.ndarray,
        magnetization: np.ndarray,
        exact: dict[str, float],
        parts: tuple[str, ...] = PARTS,
    ) -> None:
        """Draw the last WINDOW measurements, the histogram of m and the exact lines (only the
        plots named in ``parts``, all by default)."""
        n = energy.size
        start = max(0, n - WINDOW)
        x = np.arange(start, n)
        if "energy" in parts:
            self.energy_curve.setData(x, energy[start:], skipFiniteCheck=True)
            self.energy_exact.setVisible("e" in exact)
            if "e" in exact:
                self.energy_exact.setValue(exact["e"])
        if "magnetization" in parts:
            self.magnet_curve.setData(x, magnetization[start:], skipFiniteCheck=True)
            m_ref = exact.get("abs_m", exact.get("m_inf"))
            for sign, line in zip((1, -1), self.magnet_exact, strict=True):
                line.setVisible(m_ref is not None)
                if m_ref is not None:
                    line.setValue(sign * m_ref)
        if "histogram" in parts and n:
            counts, edges = np.histogram(magnetization[-HISTOGRAM_MAX:], bins=41, range=(-1, 1))
            self.histogram.setData(edges, counts)

    def show_estimates(
        self,
        estimates: dict[str, Estimate] | None,
        count: int,
        size: int,
        exact: dict[str, float],
        note: str = "",
    ) -> None:
        """The table of estimates (value ± 1σ, τ_int) next to the exact finite-L values."""
        key = (id(estimates), count, size, tuple(sorted(exact.items())), note)
        if key == self._last_key:
            return
        self._last_key = key
        self.estimates = estimates or {}
        header = (
            "<tr><th align=left>observable</th><th>measured (±1σ)</th>"
            f"<th>exact L={size}</th><th>τ_int</th></tr>"
        )
        if not estimates:
            self.table.setText(f"<table cellpadding=3>{header}</table><i>{note}</i>")
            return
        rows = []
        for label, name in ROWS:
            est = estimates.get(name)
            if est is None:
                continue
            ref = exact.get(name)
            ref_text = f"{ref:.5f}" if ref is not None else "—"
            tau = f"{est.tau:.1f}" if est.tau is not None else ""
            rows.append(
                f"<tr><td>{label}</td><td align=right>{est.value:.5f} ± {est.error:.5f}"
                f"</td><td align=right>{ref_text}</td><td align=right>{tau}</td></tr>"
            )
        self.table.setText(
            f"<table cellpadding=3>{header}{''.join(rows)}</table>"
            f"<small>{count} measurements {note}</small>"
        )
