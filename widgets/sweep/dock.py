"""The Sweep dock: build a grid of one command's runs, run it on Dask, watch its points finish.

The grid: a command (simulate, train, …) and its own options, each a value (fixed), a list
``a,b`` or a range ``start:stop:count`` (swept), checked as typed by the command's parser (the
message in the error label, the number of points beside Start); seeds per point and the base
seed; options to zip. Where: local worker processes (0: one per core) or a scheduler's
address. Start, Cancel, Resume; the table of points with their status, live; the plot of any
scalar result against any swept option with error bars; the Dask dashboard's link. A sweep
selected in the session browser reopens here with its table and plot.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.core.views import RunView
from lab.sweep.controller import SweepController
from lab.sweep.plan import PlanError, SweepPlan
from lab.sweep.runs import SweepRunView
from widgets.common.dock import FeatureDock
from widgets.sweep.plots import SweepPlot

COLUMNS = ("#", "values", "seed", "run", "status", "time (s)")


class SweepDock(FeatureDock):
    """Build, run, cancel and resume sweeps; their points' table and plot."""

    refresh_hz = 5.0

    def __init__(self, controller: SweepController, parent: QWidget | None = None) -> None:
        super().__init__(
            "Sweep", "sweepDock", controller, parent, error_label_name="sweepErrorLabel"
        )
        self.controller: SweepController = controller
        self.shown_id = ""
        self.plan: SweepPlan | None = None
        self._drawn: tuple | None = None
        self._fields: dict[str, QWidget] = {}

        controls = QWidget()
        form = QFormLayout(controls)
        self.kind_box = QComboBox(objectName="sweepKindBox")
        self.kind_box.addItems(controller.commands())
        form.addRow("command", self.kind_box)
        self.options_box = QWidget(objectName="sweepOptions")
        self.options_form = QFormLayout(self.options_box)
        self.options_form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.options_box)
        self.seeds_box = QSpinBox(objectName="sweepSeedsBox", minimum=1, maximum=10_000)
        self.seed_edit = QLineEdit("0", objectName="sweepSeedEdit")
        self.zip_edit = QLineEdit(objectName="sweepZipEdit", placeholderText="e.g. hidden,lr")
        form.addRow("seeds per point", self.seeds_box)
        form.addRow("base seed", self.seed_edit)
        form.addRow("zip", self.zip_edit)
        self.workers_box = QSpinBox(objectName="sweepWorkersBox", minimum=0, maximum=4096)
        self.workers_box.setSpecialValueText("one per core")
        self.scheduler_edit = QLineEdit(
            objectName="sweepSchedulerEdit", placeholderText="tcp://host:8786 (empty: local)"
        )
        form.addRow("local workers", self.workers_box)
        form.addRow("scheduler", self.scheduler_edit)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start", objectName="sweepStartButton")
        self.cancel_button = QPushButton("Cancel", objectName="sweepCancelButton")
        self.resume_button = QPushButton("Resume", objectName="sweepResumeButton")
        for button in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        self.points_label = QLabel("", objectName="sweepPointsLabel")
        self.progress_label = QLabel("", objectName="sweepProgressLabel")
        self.dashboard_label = QLabel("", objectName="sweepDashboardLabel")
        self.dashboard_label.setOpenExternalLinks(True)
        self.dashboard_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        for label in (
            self.points_label,
            self.progress_label,
            self.dashboard_label,
            self.error_label,
        ):
            label.setWordWrap(True)
            form.addRow(label)

        self.table = QTableWidget(0, len(COLUMNS), objectName="sweepTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.plot = SweepPlot()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(self.plot)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(controls)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        container = QWidget()
        QVBoxLayout(container).addWidget(body)
        self.setWidget(container)

        self.kind_box.currentTextChanged.connect(self._build_options)
        for widget in (self.seed_edit, self.zip_edit):
            widget.textChanged.connect(lambda _: self.check())
        self.seeds_box.valueChanged.connect(lambda _: self.check())
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.resume_button.clicked.connect(self.resume)
        controller.sweepChanged.connect(self._on_sweep_changed)
        controller.failed.connect(self.show_error)
        self._build_options(self.kind_box.currentText())
        self.start_refresh()

    # ------------------------------------------------------------------ the grid
    def _build_options(self, command: str) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self._fields = {}
        for option in self.controller.options(command):
            name = f"sweepOption_{option.dest}"
            if option.takes_value:
                field = QLineEdit(objectName=name)
                shown = "" if option.default in (None, "", []) else str(option.default)
                field.setPlaceholderText(shown)
                field.textChanged.connect(lambda _: self.check())
            else:
                field = QCheckBox(objectName=name)
                field.toggled.connect(lambda _: self.check())
            field.setToolTip(option.help)
            self._fields[option.dest] = field
            self.options_form.addRow(option.flag.removeprefix("--"), field)
        self.check()

    def field(self, dest: str) -> QWidget:
        """The field of option ``dest`` (tests type into it)."""
        return self._fields[dest]

    def check(self) -> SweepPlan | None:
        """The plan the fields give, checked (its message in the error label otherwise)."""
        texts = {d: f.text() for d, f in self._fields.items() if isinstance(f, QLineEdit)}
        flags = {d: f.isChecked() for d, f in self._fields.items() if isinstance(f, QCheckBox)}
        try:
            seed = int(self.seed_edit.text() or 0)
        except ValueError:
            return self._refuse(f"base seed: '{self.seed_edit.text()}' is not an integer")
        try:
            plan = self.controller.plan(
                self.kind_box.currentText(),
                texts,
                flags,
                self.seeds_box.value(),
                seed,
                self.zip_edit.text(),
            )
        except PlanError as exc:
            return self._refuse(str(exc))
        self.plan = plan
        self.points_label.setText(f"{plan.n_points} point{'s' if plan.n_points != 1 else ''}")
        self.show_error("")
        self._update_buttons()
        return plan

    def _refuse(self, message: str) -> None:
        self.plan = None
        self.points_label.setText("")
        self.show_error(message)
        self._update_buttons()
        return None

    # ------------------------------------------------------------------ actions
    def _where(self) -> tuple[int | None, str | None]:
        return (self.workers_box.value() or None, self.scheduler_edit.text().strip() or None)

    def start(self) -> None:
        plan = self.check()
        if plan is None:
            return
        try:
            self.shown_id = self.controller.start(plan, *self._where())
        except (PlanError, RuntimeError) as exc:
            self.show_error(str(exc))
        self._show_shown()

    def resume(self) -> None:
        if not self.shown_id:
            return
        try:
            self.controller.resume_sweep(self.shown_id, *self._where())
        except (PlanError, RuntimeError, KeyError) as exc:
            self.show_error(str(exc))
        self._show_shown()

    def _update_buttons(self) -> None:
        running = self.controller.running
        self.start_button.setEnabled(self.plan is not None and not running)
        self.cancel_button.setEnabled(running)
        view = self._view()
        resumable = (
            view is not None
            and view.status != "finished"
            and any(p.status != "finished" for p in view.points())
        )
        self.resume_button.setEnabled(resumable and not running)

    # ------------------------------------------------------------------ showing
    def _view(self) -> SweepRunView | None:
        run = self.controller.lookup(self.shown_id) if self.shown_id else None
        return None if run is None else SweepRunView(run)

    def show_run(self, view: RunView) -> None:
        if isinstance(view, SweepRunView):
            self.shown_id = view.id
            self._show_shown()

    def _on_sweep_changed(self, sweep_id: str) -> None:
        if sweep_id == self.shown_id:
            self._show_shown()

    def _show_shown(self) -> None:
        view = self._view()
        self._update_buttons()
        self._fill_table(view)
        self.plot.show_sweep(view, self.controller.lookup)
        if view is not None:
            counts = view.counts()
            self.progress_label.setText(
                f"{view.id}: {view.status}, {counts['finished']} of "
                f"{view.n_points} finished, {counts['failed']} failed"
            )

    def _fill_table(
        self, view: SweepRunView | None, statuses: tuple[str, ...] | None = None
    ) -> None:
        if view is None:
            self.table.setRowCount(0)
            return
        points = view.points()
        self.table.setRowCount(len(points))
        for row, point in enumerate(points):
            status = (
                statuses[row]
                if statuses and point.status in ("pending", "running")
                else point.status
            )
            values = ", ".join(f"{k}={v}" for k, v in point.values.items())
            took = "" if math.isnan(point.seconds) else f"{point.seconds:.1f}"
            cells = (str(point.index + 1), values, str(point.seed), point.run_id, status, took)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 4 and point.message:
                    item.setToolTip(point.message)
                self.table.setItem(row, column, item)

    def refresh(self) -> None:
        """Pull the running sweep's snapshot: live statuses, progress, the dashboard link."""
        snapshot = self.controller.snapshot()
        if snapshot is None or snapshot == self._drawn:
            self._update_buttons()
            return
        self._drawn = snapshot
        running = (
            self.controller.running
            and self.controller.sweep_state is not None
            and self.controller.sweep_state.id == self.shown_id
        )
        if running:
            self._fill_table(self._view(), snapshot.statuses)
            self.progress_label.setText(
                f"{self.shown_id}: {snapshot.describe()}"
                + (f" — {snapshot.cluster}" if snapshot.cluster else "")
            )
        link = snapshot.dashboard
        self.dashboard_label.setText(f'dashboard: <a href="{link}">{link}</a>' if link else "")
        self._update_buttons()
