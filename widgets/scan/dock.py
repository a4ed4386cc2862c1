"""The temperature-scan dock: e, |m|, c, χ and U₄ against T with error bars over exact curves.

Measured points come from :class:`lab.scan.controller.ScanController` (live) or from a recorded
``ising-scan`` run selected in the session browser. The curves drawn under them are Kaufman's
exact finite-L e and c, the transfer-matrix |m|, χ and U₄ (small L), and Onsager's L = ∞ curves.
"Export plots…" writes each plot to PNG and SVG with the session and the run in the files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.ising.exact import critical_temperature, exact_curves
from lab.ising.task import ALGORITHMS, IsingParams, IsingPlan
from lab.scan.controller import ScanController
from lab.scan.runs import ScanRunView
from lab.scan.task import SCAN_OBSERVABLES, parse_temperatures, scan_datasets
from widgets.common.dock import FeatureDock
from widgets.common.plot_export import export_views

TITLES = {
    "e": "energy e",
    "abs_m": "⟨|m|⟩",
    "c": "specific heat c",
    "chi": "susceptibility χ",
    "binder": "Binder U₄",
}
INFINITE = {"e": "e_inf", "abs_m": "m_inf", "c": "c_inf"}


class ScanDock(FeatureDock):
    """Run a temperature scan and compare it with the exact curves."""

    refresh_hz = 10.0

    def __init__(self, controller: ScanController, parent: QWidget | None = None) -> None:
        super().__init__(
            "Temperature scan", "scanDock", controller, parent, error_label_name="scanErrorLabel"
        )
        self.controller: ScanController = controller
        self._drawn = None
        self.shown_id = ""  # the scan run on display (recorded, or the one running)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.addWidget(self._build_controls())
        grid = QGridLayout()
        self.plots: dict[str, pg.PlotWidget] = {}
        self.points: dict[str, pg.ScatterPlotItem] = {}
        self.errors: dict[str, pg.ErrorBarItem] = {}
        self.exact_finite: dict[str, pg.PlotDataItem] = {}
        self.exact_infinite: dict[str, pg.PlotDataItem] = {}
        for i, name in enumerate(SCAN_OBSERVABLES):
            plot = pg.PlotWidget(title=TITLES[name])
            plot.setLabel("bottom", "T")
            plot.addItem(
                pg.InfiniteLine(
                    critical_temperature(),
                    angle=90,
                    pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DotLine),
                )
            )
            self.exact_infinite[name] = plot.plot(
                pen=pg.mkPen((150, 150, 150), width=1, style=Qt.PenStyle.DashLine)
            )
            self.exact_finite[name] = plot.plot(pen=pg.mkPen("#e74c3c", width=2))
            self.errors[name] = pg.ErrorBarItem(pen=pg.mkPen("#f4d03f"), beam=0.0)
            plot.addItem(self.errors[name])
            self.points[name] = pg.ScatterPlotItem(size=7, brush="#f4d03f", pen=None)
            plot.addItem(self.points[name])
            self.plots[name] = plot
            grid.addWidget(plot, i // 3, i % 3)
        legend = QLabel(
            "<span style='color:#f4d03f'>●</span> measured ±1σ &nbsp; "
            "<span style='color:#e74c3c'>━</span> exact, this L &nbsp; "
            "<span style='color:gray'>╌</span> Onsager L=∞ &nbsp; ┊ T_c"
        )
        grid.addWidget(legend, 1, 2, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addLayout(grid, 1)
        self.setWidget(body)
        controller.stateChanged.connect(self._sync_buttons)
        controller.failed.connect(lambda msg: self.show_error(f"scan failed: {msg}"))
        self.start_refresh()
        self._sync_buttons()

    def _build_controls(self) -> QWidget:
        box = QWidget()
        box.setMaximumWidth(300)
        form = QFormLayout()
        self.temperatures_edit = QLineEdit("1.5:3.5:11", objectName="temperaturesEdit")
        self.temperatures_edit.setToolTip("'start:stop:count' or a list 'T1, T2, …'")
        self.temperatures_edit.textChanged.connect(self._validate)
        self.size_box = QSpinBox(objectName="scanSizeBox", minimum=2, maximum=1024, value=8)
        self.algorithm_box = QComboBox(objectName="scanAlgorithmBox")
        self.algorithm_box.addItems(ALGORITHMS)
        self.algorithm_box.setCurrentText("wolff")
        self.samples_box = QSpinBox(
            objectName="scanSamplesBox", minimum=10, maximum=10**7, value=2000
        )
        self.thermalize_box = QSpinBox(
            objectName="scanThermalizeBox", minimum=0, maximum=10**7, value=500
        )
        self.interval_box = QSpinBox(
            objectName="scanIntervalBox", minimum=1, maximum=10**5, value=2
        )
        self.seed_box = QSpinBox(objectName="scanSeedBox", minimum=0, maximum=2**31 - 1, value=1)
        form.addRow("temperatures", self.temperatures_edit)
        form.addRow("", self.error_label)
        form.addRow("size L", self.size_box)
        form.addRow("algorithm", self.algorithm_box)
        form.addRow("samples per T", self.samples_box)
        form.addRow("thermalize (sweeps)", self.thermalize_box)
        form.addRow("measure every (sweeps)", self.interval_box)
        form.addRow("seed", self.seed_box)
        self.start_button = QPushButton("Start scan", objectName="scanStartButton")
        self.stop_button = QPushButton("Stop", objectName="scanStopButton")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.controller.stop)
        self.export_button = QPushButton("Export plots…", objectName="scanExportButton")
        self.export_button.clicked.connect(
            lambda: self.export_dialog("Export the scan plots", self.export_plots)
        )
        self.progress = QProgressBar(objectName="scanProgress")
        self.status_label = QLabel("", objectName="scanStatus")
        self.status_label.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        layout.addWidget(self.export_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        return box

    def _validate(self) -> np.ndarray | None:
        try:
            temperatures = parse_temperatures(self.temperatures_edit.text())
        except ValueError as exc:
            self.show_error(str(exc))
            self.temperatures_edit.setStyleSheet("border: 1px solid #e74c3c;")
            return None
        self.show_error("")
        self.temperatures_edit.setStyleSheet("")
        return temperatures

    def start(self) -> None:
        temperatures = self._validate()
        if temperatures is None:
            return
        base = IsingParams(
            size=self.size_box.value(),
            temperature=float(temperatures[0]),
            algorithm=self.algorithm_box.currentText(),
            seed=self.seed_box.value(),
        )
        plan = IsingPlan(
            thermalize=self.thermalize_box.value(),
            interval=self.interval_box.value(),
            samples=self.samples_box.value(),
            record_spins=True,
        )
        try:
            self.controller.start(base, temperatures, plan)
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))
            return
        self.shown_id = self.controller.scan_run.id
        self._draw_exact(base.size, temperatures, base.coupling, base.field)
        self._draw_points(scan_datasets([]))

    def _sync_buttons(self, *_: object) -> None:
        running = self.controller.running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def refresh(self) -> None:
        snapshot = self.controller.snapshot()
        if snapshot is None or snapshot is self._drawn:
            return
        self._drawn = snapshot
        total = snapshot.temperatures.size
        within = 0.0
        if snapshot.index < total and snapshot.current is not None:
            within = snapshot.current.progress or 0.0
        self.progress.setValue(round(100 * (snapshot.index + within) / total))
        if snapshot.index < total:
            self.status_label.setText(
                f"T = {snapshot.temperatures[snapshot.index]:.4f} ({snapshot.index + 1} of {total})"
            )
        else:
            self.status_label.setText(f"done: {total} temperatures")
        self._draw_points(scan_datasets(list(snapshot.points)))

    def _draw_exact(
        self, size: int, temperatures: np.ndarray, coupling: float, field: float
    ) -> None:
        grid = np.linspace(float(temperatures.min()), float(temperatures.max()), 80)
        if grid[0] == grid[-1]:
            grid = np.linspace(grid[0] * 0.8, grid[0] * 1.2, 80)
        curves = exact_curves(size, grid, coupling, field)
        for name in SCAN_OBSERVABLES:
            for item, key in (
                (self.exact_finite[name], name),
                (self.exact_infinite[name], INFINITE.get(name, "")),
            ):
                values = curves.get(key)
                item.setData(
                    grid if values is not None else [], values if values is not None else []
                )

    def _draw_points(self, curves: dict[str, np.ndarray]) -> None:
        t = curves["temperature"]
        for name in SCAN_OBSERVABLES:
            y, err = curves[name], curves[f"{name}_error"]
            ok = np.isfinite(y)
            self.points[name].setData(t[ok], y[ok])
            self.errors[name].setData(x=t[ok], y=y[ok], height=2 * np.nan_to_num(err[ok]))

    def show_run(self, view: ScanRunView) -> None:
        """Draw a recorded scan run (kind 'ising-scan')."""
        if not isinstance(view, ScanRunView) or not view.has_curves:
            return
        temperatures = view.planned_temperatures
        if temperatures.size:
            self._draw_exact(view.size, temperatures, view.coupling, view.field)
        self._draw_points(view.curves())
        self.shown_id = view.id
        self.status_label.setText(f"viewing {view.id} ({view.status})")

    def export_plots(self, folder: Path) -> list[Path]:
        """Write every plot as PNG and SVG into ``folder``; returns the files written."""
        live = self.controller.scan_run
        run = (
            f"{live.id} (scan running)"
            if self.controller.running and live is not None
            else self.shown_id or "none"
        )
        return export_views(
            self.plots,
            folder,
            self.shown_id or "scan",
            self.controller.session,
            run,
            "Monge Lab temperature scan",
            titles=TITLES,
        )
