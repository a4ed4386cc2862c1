"""The Reproductions dock: run a paper's headline experiment and read its table and figures.

A thin view of :class:`lab.reproduce.controller.ReproduceController`. Choose the experiment
(the paper is named under it), quick or full, the seed and any ``key=value`` overrides (checked
as typed, with the experiment's own message), then Start / Stop; the progress bar follows every
epoch. When it finishes (or when a ``reproduction`` run is selected in the session browser) the
dock shows the table — published claim | Monge Lab | verdict | settings | time — the notes and
every figure, drawn exactly as the report draws them; "Write report…" writes the report folder
(README table, results.json, PNG and SVG figures).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lab.reproduce.controller import ReproduceController
from lab.reproduce.figures import render_png
from lab.reproduce.runs import ReproductionRunView
from widgets.common.dock import FeatureDock

COLUMNS = ("published claim", "Monge Lab", "verdict", "settings", "time")
VERDICT_COLOURS = {"reproduced": "#27ae60", "partly": "#e67e22", "not reproduced": "#e74c3c"}


class ReproduceDock(FeatureDock):
    """Reproduce the papers' headline experiments and look at the result."""

    refresh_hz = 5.0

    def __init__(self, controller: ReproduceController, parent: QWidget | None = None) -> None:
        super().__init__(
            "Reproductions",
            "reproduceDock",
            controller,
            parent,
            error_label_name="reproduceErrorLabel",
        )
        self.controller: ReproduceController = controller
        self.shown_id = ""
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        self.setWidget(splitter)
        controller.stateChanged.connect(self._sync)
        controller.failed.connect(lambda msg: self.show_error(f"the reproduction failed: {msg}"))
        controller.outcomeReady.connect(self._on_outcome)
        self._sync()
        self.start_refresh()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> QWidget:
        box = QWidget(objectName="reproduceControls")
        box.setMaximumWidth(330)
        form = QFormLayout()
        self.experiment_box = QComboBox(objectName="reproduceExperimentBox")
        for name, exp in self.controller.experiments().items():
            self.experiment_box.addItem(exp.title, name)
        self.paper_label = QLabel("", objectName="reproducePaperLabel")
        self.paper_label.setWordWrap(True)
        self.paper_label.setStyleSheet("color: gray;")
        self.quick_box = QCheckBox(
            "quick (scaled down, under a minute)", objectName="reproduceQuickBox"
        )
        self.seed_box = QSpinBox(objectName="reproduceSeedBox", minimum=0, maximum=2**31 - 1)
        self.overrides_edit = QLineEdit(objectName="reproduceOverridesEdit")
        self.overrides_edit.setPlaceholderText("key=value; key=value")
        self.settings_label = QLabel("", objectName="reproduceSettingsLabel")
        self.settings_label.setWordWrap(True)
        self.settings_label.setStyleSheet("color: gray; font-size: small;")
        form.addRow("experiment", self.experiment_box)
        form.addRow("", self.paper_label)
        form.addRow("", self.quick_box)
        form.addRow("seed", self.seed_box)
        form.addRow("settings", self.overrides_edit)
        form.addRow("", self.settings_label)
        self.start_button = QPushButton("Start", objectName="reproduceStartButton")
        self.stop_button = QPushButton("Stop", objectName="reproduceStopButton")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.controller.stop)
        self.report_button = QPushButton("Write report…", objectName="reproduceReportButton")
        self.report_button.clicked.connect(self._report_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        self.progress = QProgressBar(objectName="reproduceProgress")
        self.status_label = QLabel("idle", objectName="reproduceStatusLabel")
        self.status_label.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.report_button)
        layout.addStretch(1)
        for signal in (self.experiment_box.currentIndexChanged, self.quick_box.toggled):
            signal.connect(lambda *_: self._validate())
        self.overrides_edit.textChanged.connect(lambda _: self._validate())
        self._validate()
        return box

    def _build_views(self) -> QWidget:
        self.table = QTableWidget(0, len(COLUMNS), objectName="reproduceTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((260, 300, 90, 220, 60)):
            self.table.setColumnWidth(column, width)
        # the notes scroll in their own pane, so a long list never squeezes the table to a row
        self.notes_view = QTextBrowser(objectName="reproduceNotes")
        self.notes_view.setOpenLinks(False)
        self.figure_tabs = QTabWidget(objectName="reproduceFigures")
        views = QSplitter(Qt.Orientation.Vertical)
        views.addWidget(self.table)
        views.addWidget(self.notes_view)
        views.addWidget(self.figure_tabs)
        views.setSizes([260, 140, 560])
        views.setStretchFactor(2, 1)
        return views

    # ------------------------------------------------------------------ values
    def name(self) -> str:
        return str(self.experiment_box.currentData())

    def overrides(self) -> list[str]:
        return [part.strip() for part in self.overrides_edit.text().split(";") if part.strip()]

    def _validate(self) -> bool:
        exp = self.controller.experiments()[self.name()]
        self.paper_label.setText(exp.paper)
        try:
            settings = self.controller.settings_with(
                self.name(), self.quick_box.isChecked(), self.overrides()
            )
        except ValueError as exc:
            self.show_error(str(exc))
            self.overrides_edit.setStyleSheet("border: 1px solid #e74c3c;")
            self._valid = False
        else:
            self.show_error("")
            self.overrides_edit.setStyleSheet("")
            self.settings_label.setText(", ".join(f"{k} = {v}" for k, v in settings.items()))
            self._valid = True
        self._sync()
        return self._valid

    # ------------------------------------------------------------------ actions
    def start(self) -> None:
        if not self._validate():
            return
        try:
            self.controller.start(
                self.name(), self.quick_box.isChecked(), self.seed_box.value(), self.overrides()
            )
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))
            return
        self.status_label.setText("starting")

    def _sync(self, *_: object) -> None:
        running = self.controller.running
        self.start_button.setEnabled(not running and getattr(self, "_valid", False))
        self.stop_button.setEnabled(running)
        for widget in (self.experiment_box, self.quick_box, self.seed_box, self.overrides_edit):
            widget.setEnabled(not running)
        self.report_button.setEnabled(bool(self.shown_id) and not running)
        if not running and self.controller.state not in ("idle", "finished"):
            self.status_label.setText(self.controller.state)

    def refresh(self) -> None:
        snapshot = self.controller.snapshot()
        if snapshot is None or not self.controller.running:
            return
        self.progress.setValue(round(100 * snapshot.progress))
        self.status_label.setText(snapshot.text)

    def _on_outcome(self, run_id: str) -> None:
        self.progress.setValue(100)
        self.status_label.setText(f"finished: {run_id}")
        self.show_run(self.controller.view(run_id))

    # ------------------------------------------------------------------ a stored run
    def show_run(self, view: ReproductionRunView) -> None:
        """Show a ``reproduction`` run: its table, notes and figures."""
        if not isinstance(view, ReproductionRunView):
            return
        self.shown_id = view.id
        rows = view.rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            seconds = f"{row.seconds:.0f} s" if row.seconds == row.seconds else "—"
            for column, text in enumerate(
                (row.claim, row.measured, row.verdict, row.settings, seconds)
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 2:
                    item.setForeground(Qt.GlobalColor.white)
                    item.setBackground(QColor(VERDICT_COLOURS.get(row.verdict, "#7f8c8d")))
                self.table.setItem(i, column, item)
        self.table.resizeRowsToContents()
        self.notes_view.setHtml(
            "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in view.notes) + "</ul>"
            if view.notes
            else ""
        )
        self.figure_tabs.clear()
        for figure in view.figures:
            label = QLabel(objectName=f"reproduceFigure_{figure.name}")
            pixmap = QPixmap()
            pixmap.loadFromData(render_png(figure))
            label.setPixmap(pixmap)
            scroll = QScrollArea()
            scroll.setWidget(label)
            self.figure_tabs.addTab(scroll, figure.title)
        self.status_label.setText(
            f"viewing {view.id}: {view.title} ({'quick' if view.quick else 'full'})"
        )
        self._sync()

    def _report_dialog(self) -> None:
        if self.shown_id:
            self.export_dialog(
                "Write the report into…",
                lambda folder: self.controller.write_report(self.shown_id, folder / self.shown_id),
            )

    def write_report(self, folder: Path) -> list[Path]:
        """Write the shown run's report into ``folder`` (for tests and scripts)."""
        return self.controller.write_report(self.shown_id, folder)
