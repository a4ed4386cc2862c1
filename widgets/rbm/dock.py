"""The RBM trainer dock: data, hyperparameters, Start/Pause/Stop, and a live look at learning.

A thin view of :class:`lab.rbm.controller.RBMTrainingController` on the dock skeleton
(:class:`widgets.common.dock.FeatureDock`: the registered refresh timer, the error label, the
export dialog). The left column chooses the training data (Ising runs of the session with
recorded configurations, by temperature) and the hyperparameters of
:class:`lab.rbm.options.RBMConfig`; numbers typed in a text field are checked as they are typed
(the message appears under the field) and Start stays disabled while anything is invalid,
``RBMConfig.validate`` having the last word. The right side draws what the refresh timer pulls
from the training job at ``FRAME_HZ``, only when the snapshot changed: the training curves, the
receptive fields of a checkpoint (a slider scrubs through them; live it follows the newest
unless the user moved it), the persistent chains, and the model's observables next to the
data's. When nothing trains, selecting an ``rbm`` run in the session browser shows it the same
way (:meth:`RBMDock.show_run` with its :class:`lab.rbm.runs.RBMRunView`, the only way the dock
reads a saved run), and "Resume training" continues it from its last checkpoint or stop. The
checkpoint slider is a :class:`widgets.common.replay.ReplayBar`: Play walks through the
checkpoints at a chosen speed; on a saved run every view is redrawn as it was at that checkpoint
(its receptive fields, the training curves up to its epoch; the chains, saved only at the last
checkpoint or stop, at the last one only). "Export plots…" writes every view to PNG and SVG with
the session and run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.core.settings import SPIN_LIMIT, Setting
from lab.core.views import RunView
from lab.rbm.controller import RBMTrainingController
from lab.rbm.options import RBMConfig, available_devices
from lab.rbm.runs import Checkpoint, RBMRunView
from lab.rbm.settings import BY_KEY, EARLY_STOP, METRICS_EVERY, MONITOR_EVERY, recipe_defaults
from lab.rbm.task import RBMSnapshot, check_early_stop, default_monitor_every
from widgets.common.dock import FeatureDock
from widgets.common.number_field import ERROR_STYLE, NumberField
from widgets.common.plot_export import export_views
from widgets.common.replay import ReplayBar
from widgets.common.scrolled import scrolled_controls
from widgets.common.weight_grid import SORT_KEYS, ChainsView, ReceptiveFieldsView
from widgets.rbm.plots import (
    ObservablesView,
    TrainingCurves,
    observable_pairs,
    observables_from_evaluation,
)

FRAME_HZ = 10
CHAINS_SHOWN = 16
HINT_STYLE = "color: gray;"
DATA_COLUMNS = ("run", "T", "L", "algorithm", "samples")


def _spin(row: Setting, value: int, name: str, special: str = "") -> QSpinBox:
    """A spin box over the integers the row allows (up to what a spin box holds)."""
    low, high = row.integer_range or (int(row.constraint.low or 0), SPIN_LIMIT)
    box = QSpinBox(objectName=name, minimum=low, maximum=high, value=int(value))
    if special:
        box.setSpecialValueText(special)
    box.setToolTip(row.help)
    return box


def _combo(row: Setting, value: str, name: str) -> QComboBox:
    """A combo box of the row's choices."""
    combo = QComboBox(objectName=name)
    combo.addItems(list(row.choices))
    combo.setCurrentText(value)
    combo.setToolTip(row.help)
    return combo


class DeviceBox(QComboBox):
    """The devices to train on: "cpu" at once, the others (cuda, which takes torch to find) the
    first time the user reaches for the box (its popup, a key, the wheel), so that building the
    dock (the main window) does not import torch."""

    def __init__(self, objectName: str = "") -> None:  # noqa: N803 (Qt's keyword)
        super().__init__(objectName=objectName)
        self.addItem("cpu")
        self.completed = False

    def complete(self) -> None:
        """Add the devices of :func:`lab.rbm.options.available_devices` (once); the current
        device stays."""
        if self.completed:
            return
        self.completed = True
        for device in available_devices():
            if self.findText(device) < 0:
                self.addItem(device)

    def showPopup(self) -> None:
        self.complete()
        super().showPopup()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self.complete()
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.complete()
        super().wheelEvent(event)


class RBMDock(FeatureDock):
    """Train an RBM on Ising configurations and watch it learn; look back at saved runs."""

    refresh_hz = FRAME_HZ
    controller: RBMTrainingController

    def __init__(self, controller: RBMTrainingController, parent: QWidget | None = None) -> None:
        super().__init__(
            "RBM trainer", "rbmDock", controller, parent, error_label_name="rbmErrorLabel"
        )
        self.session = controller.session
        self._drawn: RBMSnapshot | None = None
        self._drawn_observables: object = None
        self._data_key: tuple = ()
        self._valid = False
        self._checkpoints: list[Checkpoint] = []
        self._size = 0
        self._follow = True
        self._moving_slider = False
        self._shown_run: RBMRunView | None = None  # a run shown while nothing trains
        self._view_id = ""  # the run on display, live or shown

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([splitter.widget(0).minimumWidth(), 1000])
        self.setWidget(splitter)

        controller.stateChanged.connect(self._sync_buttons)
        controller.failed.connect(lambda msg: self.show_error(f"training failed: {msg}"))
        controller.runChanged.connect(self._on_training_started)
        self.session.runAdded.connect(lambda _: self.refresh_data())
        self.session.runChanged.connect(self._on_run_changed)
        self.session.reloaded.connect(self._on_reloaded)
        self.start_refresh()
        self.refresh_data()
        self._sync_buttons()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> QWidget:
        defaults = recipe_defaults()  # train's Ising recipe; epochs follow the checked data
        box = QWidget(objectName="rbmControls")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)

        data_group = QGroupBox("Training data: Ising runs")
        data_layout = QVBoxLayout(data_group)
        self.data_table = QTableWidget(0, len(DATA_COLUMNS), objectName="rbmDataTable")
        self.data_table.setHorizontalHeaderLabels(list(DATA_COLUMNS))
        self.data_table.verticalHeader().setVisible(False)
        self.data_table.verticalHeader().setDefaultSectionSize(20)
        self.data_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.data_table.horizontalHeader().setStretchLastSection(True)
        self.data_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.data_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.data_table.setMinimumHeight(70)
        self.data_table.setMaximumHeight(70)
        self.data_table.itemChanged.connect(lambda _: self._validate())
        self.data_summary = QLabel("", objectName="rbmDataSummary")
        self.data_summary.setWordWrap(True)
        data_layout.addWidget(self.data_table)
        data_layout.addWidget(self.data_summary)

        rows = BY_KEY
        self.hidden_box = _spin(rows["n_hidden"], defaults.n_hidden, "rbmHiddenBox")
        self.method_box = _combo(rows["method"], defaults.method, "rbmMethodBox")
        self.k_box = _spin(rows["k"], defaults.k, "rbmKBox")
        self.chains_box = _spin(
            rows["n_chains"], defaults.n_chains, "rbmChainsBox", special="= batch"
        )
        self.replicas_box = _spin(rows["n_temperatures"], defaults.n_temperatures, "rbmReplicasBox")
        self.symmetry_box = _combo(rows["symmetry"], defaults.symmetry, "rbmSymmetryBox")
        self.centering_box = QCheckBox("centering", objectName="rbmCenteringBox")
        self.centering_box.setChecked(defaults.centering)
        self.centering_box.setToolTip(rows["centering"].help)
        self.flip_box = QCheckBox("flip moves", objectName="rbmFlipMovesBox")
        self.flip_box.setChecked(defaults.flip_moves)
        self.flip_box.setToolTip(rows["flip_moves"].help)
        model_group = self._grid_group(
            "Model and sampling",
            [
                ("hidden units m", self.hidden_box),
                ("method", self.method_box),
                ("Gibbs steps k", self.k_box),
                ("chains", self.chains_box),
                ("PT replicas", self.replicas_box),
                ("symmetry", self.symmetry_box),
                ("", self.centering_box),
                ("", self.flip_box),
            ],
        )

        self.lr_field = NumberField(
            rows["learning_rate"], defaults.learning_rate, "rbmLearningRateEdit"
        )
        self.optimizer_box = _combo(rows["optimizer"], defaults.optimizer, "rbmOptimizerBox")
        self.momentum_field = NumberField(rows["momentum"], defaults.momentum, "rbmMomentumEdit")
        self.schedule_box = _combo(rows["lr_schedule"], defaults.lr_schedule, "rbmScheduleBox")
        self.decay_field = NumberField(rows["lr_decay"], defaults.lr_decay, "rbmDecayEdit")
        self.batch_box = _spin(rows["batch_size"], defaults.batch_size, "rbmBatchBox")
        self.l1_field = NumberField(rows["l1"], defaults.l1, "rbmL1Edit")
        self.l2_field = NumberField(rows["l2"], defaults.l2, "rbmL2Edit")
        optimization_group = self._grid_group(
            "Optimization",
            [
                ("learning rate", self.lr_field),
                ("optimizer", self.optimizer_box),
                ("momentum μ", self.momentum_field),
                ("schedule", self.schedule_box),
                ("decay / epoch", self.decay_field),
                ("batch size", self.batch_box),
                ("L1", self.l1_field),
                ("L2", self.l2_field),
            ],
        )

        self.epochs_box = _spin(rows["epochs"], defaults.epochs, "rbmEpochsBox")
        self.validation_field = NumberField(
            rows["validation_fraction"], defaults.validation_fraction, "rbmValidationEdit"
        )
        self.validation_field.edit.setToolTip(rows["validation_fraction"].help)
        self.checkpoint_box = _spin(
            rows["checkpoint_every"], defaults.checkpoint_every, "rbmCheckpointBox"
        )
        self.seed_box = _spin(rows["seed"], defaults.seed, "rbmSeedBox")
        self.monitor_box = _spin(
            MONITOR_EVERY, default_monitor_every(defaults.epochs), "rbmMonitorBox", special="off"
        )
        self.metrics_box = _spin(METRICS_EVERY, 0, "rbmMetricsBox", special="auto")
        self.early_stop_box = _spin(EARLY_STOP, 0, "rbmEarlyStopBox", special="off")
        self.device_box = DeviceBox(objectName="rbmDeviceBox")
        run_group = self._grid_group(
            "Run",
            [
                ("epochs", self.epochs_box),
                ("held out", self.validation_field),
                ("seed", self.seed_box),
                ("device", self.device_box),
                ("checkpoint every", self.checkpoint_box),
                ("monitor every", self.monitor_box),
                ("metrics every", self.metrics_box),
                ("early stop after", self.early_stop_box),
            ],
        )
        # the recipe's epochs and monitor period follow the data's size until edited by hand
        self._edited: set[str] = set()
        self._setting_defaults = False
        for key, spin in (("epochs", self.epochs_box), ("monitor", self.monitor_box)):
            spin.valueChanged.connect(lambda _, key=key: self._mark_edited(key))
        self.fields = (
            self.lr_field,
            self.momentum_field,
            self.decay_field,
            self.l1_field,
            self.l2_field,
            self.validation_field,
        )
        for field in self.fields:
            field.changed.connect(self._validate)
        for combo in (
            self.method_box,
            self.optimizer_box,
            self.schedule_box,
            self.device_box,
            self.symmetry_box,
        ):
            combo.currentTextChanged.connect(self._validate)
        for spin in (
            self.hidden_box,
            self.k_box,
            self.chains_box,
            self.replicas_box,
            self.batch_box,
            self.epochs_box,
            self.checkpoint_box,
            self.seed_box,
            self.monitor_box,
            self.metrics_box,
            self.early_stop_box,
        ):
            spin.valueChanged.connect(self._validate)
        for check in (self.centering_box, self.flip_box):
            check.toggled.connect(lambda _: self._validate())

        self.start_button = QPushButton("Start", objectName="rbmStartButton")
        self.pause_button = QPushButton("Pause", objectName="rbmPauseButton")
        self.stop_button = QPushButton("Stop", objectName="rbmStopButton")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(self.controller.stop)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.progress = QProgressBar(objectName="rbmProgress")
        self.status_label = QLabel("idle", objectName="rbmStatusLabel")
        self.status_label.setWordWrap(True)

        resume_group = QGroupBox("Continue a saved run")
        resume_layout = QGridLayout(resume_group)
        self.shown_label = QLabel(
            "select an rbm run in the session browser", objectName="rbmShownLabel"
        )
        self.shown_label.setWordWrap(True)
        self.shown_label.setStyleSheet(HINT_STYLE)
        self.extra_epochs_box = QSpinBox(
            objectName="rbmExtraEpochsBox",
            minimum=0,
            maximum=10_000_000,
            value=0,
            specialValueText="as planned",
            prefix="+ ",
        )
        self.extra_epochs_box.setToolTip("epochs to add to the run's plan (0: finish the plan)")
        self.resume_button = QPushButton("Resume training", objectName="rbmResumeButton")
        self.resume_button.clicked.connect(self.resume_shown_run)
        resume_layout.addWidget(self.shown_label, 0, 0, 1, 2)
        resume_layout.addWidget(self.extra_epochs_box, 1, 0)
        resume_layout.addWidget(self.resume_button, 1, 1)
        self.export_button = QPushButton("Export plots…", objectName="rbmExportButton")
        self.export_button.clicked.connect(
            lambda: self.export_dialog("Export the RBM plots", self.export_plots)
        )
        resume_layout.addWidget(self.export_button, 2, 0, 1, 2)

        for widget in (data_group, model_group, optimization_group, run_group):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addWidget(resume_group)
        layout.addStretch(1)
        return scrolled_controls(box)

    @staticmethod
    def _grid_group(title: str, rows: list[tuple[str, QWidget]]) -> QGroupBox:
        """A group with two label–field pairs per row."""
        group = QGroupBox(title)
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        for i, (label, widget) in enumerate(rows):
            row, col = divmod(i, 2)
            grid.addWidget(
                QLabel(label),
                row,
                2 * col,
                alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            )
            grid.addWidget(widget, row, 2 * col + 1, alignment=Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        return group

    def _build_views(self) -> QWidget:
        self.fields_view = ReceptiveFieldsView()
        self.sort_box = QComboBox(objectName="rbmSortBox")
        self.sort_box.addItems(SORT_KEYS)
        self.sort_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sort_box.setMinimumContentsLength(12)
        self.sort_box.currentTextChanged.connect(lambda _: self._show_checkpoint())
        self.hover_label = QLabel("", objectName="rbmHoverLabel")
        self.hover_label.setStyleSheet(HINT_STYLE)
        self.fields_view.hovered.connect(self.hover_label.setText)
        self.replay = ReplayBar("checkpoints", slider_name="rbmCheckpointSlider")
        self.checkpoint_slider = self.replay.slider
        self.replay.indexChanged.connect(self._on_slider)
        self.checkpoint_label = QLabel("no checkpoint", objectName="rbmCheckpointLabel")
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Receptive fields</b> W<sub>ij</sub> of unit j"), 1)
        header.addWidget(QLabel("sort"))
        header.addWidget(self.sort_box)
        slider_row = QHBoxLayout()
        slider_row.addWidget(self.checkpoint_label)
        slider_row.addWidget(self.replay, 1)
        fields_box = QWidget()
        fields_layout = QVBoxLayout(fields_box)
        fields_layout.setContentsMargins(0, 0, 0, 0)
        fields_layout.addLayout(header)
        fields_layout.addWidget(self.fields_view, 1)
        fields_layout.addWidget(self.hover_label)
        fields_layout.addLayout(slider_row)

        self.chains_view = ChainsView()
        self.chains_label = QLabel("<b>Persistent chains</b>", objectName="rbmChainsLabel")
        self.chains_label.setWordWrap(True)
        self.observables = ObservablesView()
        side = QSplitter(Qt.Orientation.Vertical)
        chains_box = QWidget()
        chains_layout = QVBoxLayout(chains_box)
        chains_layout.setContentsMargins(0, 0, 0, 0)
        chains_layout.addWidget(self.chains_label)
        chains_layout.addWidget(self.chains_view, 1)
        side.addWidget(chains_box)
        side.addWidget(self.observables)
        side.setStretchFactor(0, 2)
        side.setStretchFactor(1, 3)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(fields_box)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        self.curves = TrainingCurves()
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.curves)
        main.setStretchFactor(0, 5)
        main.setStretchFactor(1, 4)
        return main

    # ------------------------------------------------------------------ values
    def config(self) -> RBMConfig:
        """The settings in the form as an RBMConfig (ValueError for the first bad field)."""
        return RBMConfig(
            n_hidden=self.hidden_box.value(),
            method=self.method_box.currentText(),
            k=self.k_box.value(),
            batch_size=self.batch_box.value(),
            learning_rate=self.lr_field.parse(),
            optimizer=self.optimizer_box.currentText(),
            momentum=self.momentum_field.parse(),
            l2=self.l2_field.parse(),
            l1=self.l1_field.parse(),
            lr_schedule=self.schedule_box.currentText(),
            lr_decay=self.decay_field.parse(),
            epochs=self.epochs_box.value(),
            centering=self.centering_box.isChecked(),
            flip_moves=self.flip_box.isChecked(),
            symmetry=self.symmetry_box.currentText(),
            n_chains=self.chains_box.value(),
            n_temperatures=self.replicas_box.value(),
            validation_fraction=self.validation_field.parse(),
            checkpoint_every=self.checkpoint_box.value(),
            seed=self.seed_box.value(),
            device=self.device_box.currentText(),
        )

    def checked_data(self) -> list[str]:
        """The ids of the Ising runs checked as training data, in table order."""
        ids = []
        for row in range(self.data_table.rowCount()):
            item = self.data_table.item(row, 0)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(item.data(Qt.ItemDataRole.UserRole))
        return ids

    def set_checked_data(self, run_ids: list[str]) -> None:
        """Check exactly the given runs in the data table."""
        wanted = set(run_ids)
        for row in range(self.data_table.rowCount()):
            item = self.data_table.item(row, 0)
            checked = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def refresh_data(self) -> None:
        """Rebuild the data table from the session's candidates (keeping the checked runs)."""
        candidates = self.controller.data_candidates()
        rows = [
            (v.id, v.temperature, int(v.samples.shape[1]), v.algorithm, int(v.samples.shape[0]))
            for v in candidates
        ]
        key = tuple(rows)
        if key == self._data_key:
            return
        self._data_key = key
        checked = set(self.checked_data())
        table = self.data_table
        table.blockSignals(True)
        table.setRowCount(len(rows))
        for i, (run_id, temperature, size, algorithm, count) in enumerate(rows):
            item = QTableWidgetItem(run_id)
            item.setData(Qt.ItemDataRole.UserRole, run_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if run_id in checked else Qt.CheckState.Unchecked
            )
            table.setItem(i, 0, item)
            for col, text in enumerate(
                (f"{temperature:.4g}", str(size), algorithm, str(count)), start=1
            ):
                cell = QTableWidgetItem(text)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                if col != 3:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(i, col, cell)
        table.blockSignals(False)
        header = table.horizontalHeader().sizeHint().height()
        table.setMaximumHeight(max(70, min(170, header + 20 * len(rows) + 6)))
        self._validate()

    # ------------------------------------------------------------------ validation
    def _data_problem(self) -> tuple[str, str]:
        """A summary of the checked data and its level: 'ok', 'hint' (nothing chosen yet) or
        'error' (cannot train on it); only 'ok' lets training start."""
        if not self._data_key:
            return (
                "no Ising run with recorded configurations in this session: record one in "
                "the Ising lattice dock ('record into the session')",
                "hint",
            )
        chosen = set(self.checked_data())
        rows = [row for row in self._data_key if row[0] in chosen]
        if not rows:
            return "check the Ising runs to train on", "hint"
        sizes = sorted({row[2] for row in rows})
        if len(sizes) > 1:
            return (
                f"the checked runs mix sizes L = {', '.join(map(str, sizes))}: keep one size",
                "error",
            )
        temperatures = sorted({row[1] for row in rows})
        t_text = (
            f"T = {temperatures[0]:.4g}"
            if len(temperatures) == 1
            else f"{len(temperatures)} temperatures"
        )
        return (
            f"{len(rows)} run(s): {sum(row[4] for row in rows)} configurations of "
            f"L = {sizes[0]} ({sizes[0] ** 2} visible units), {t_text}",
            "ok",
        )

    def _mark_edited(self, key: str) -> None:
        if not self._setting_defaults:
            self._edited.add(key)

    def _follow_recipe(self) -> None:
        """Epochs (about 42 000 updates, as ``train`` sets them) and the monitor period (about
        20 in the run) for the checked data's size, unless the user has set them."""
        chosen = set(self.checked_data())
        count = sum(row[4] for row in self._data_key if row[0] in chosen)
        if not count:
            return
        self._setting_defaults = True
        try:
            if "epochs" not in self._edited:
                self.epochs_box.setValue(recipe_defaults(count).epochs)
            if "monitor" not in self._edited:
                self.monitor_box.setValue(default_monitor_every(self.epochs_box.value()))
        finally:
            self._setting_defaults = False

    def _validate(self) -> bool:
        """Check every field and the data; enable Start only when training can begin."""
        summary, level = self._data_problem()
        self._follow_recipe()
        self.data_summary.setText(summary)
        self.data_summary.setStyleSheet(ERROR_STYLE if level == "error" else HINT_STYLE)
        field_errors = [f.error() for f in self.fields]
        valid = not any(field_errors) and level == "ok"
        if not any(field_errors):
            try:
                config = self.config()
                config.validate()
                check_early_stop(self.early_stop_box.value(), config.validation_fraction)
                self.show_error("")
            except ValueError as exc:
                self.show_error(str(exc))
                valid = False
        self._valid = valid
        self._sync_buttons()
        return valid

    # ------------------------------------------------------------------ actions
    def start(self) -> None:
        """Train a new RBM on the checked runs with the form's settings."""
        if not self._validate():
            return
        try:
            self.controller.start(
                self.checked_data(),
                self.config(),
                self.monitor_box.value(),
                metrics_every=self.metrics_box.value(),
                early_stop=self.early_stop_box.value(),
            )
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))

    def resume_shown_run(self) -> None:
        """Continue the shown run from its last checkpoint or stop (plus the extra epochs)."""
        run = self._shown_run
        if run is None or self.controller.running:
            return
        epoch = run.resumable_epoch
        if epoch is None:
            self.show_error(f"run '{run.id}' holds no trainer state to resume from")
            return
        extra = self.extra_epochs_box.value()
        planned = run.planned_epochs
        if not extra and epoch >= planned:
            self.show_error(
                f"{run.id} has done all its {planned} epochs: ask for more with '+ epochs'"
            )
            return
        try:
            self.controller.resume_run(run.id, epoch + extra if extra else None)
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))
        except KeyError as exc:  # a data run of the RBM is missing from the session
            self.show_error(str(exc.args[0]) if exc.args else "a data run is missing")

    def _toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def _sync_buttons(self, *_: object) -> None:
        state = self.controller.state
        live = self.controller.running
        for widget in (
            self.data_table,
            self.hidden_box,
            self.method_box,
            self.k_box,
            self.batch_box,
            self.optimizer_box,
            self.schedule_box,
            self.l1_field,
            self.l2_field,
            self.lr_field,
            self.epochs_box,
            self.centering_box,
            self.validation_field,
            self.checkpoint_box,
            self.seed_box,
            self.device_box,
            self.extra_epochs_box,
            self.symmetry_box,
            self.flip_box,
            self.monitor_box,
            self.metrics_box,
            self.early_stop_box,
        ):
            widget.setEnabled(not live)
        if not live:
            method = self.method_box.currentText()
            self.chains_box.setEnabled(method != "cd")
            self.replicas_box.setEnabled(method == "pt")
            self.momentum_field.setEnabled(self.optimizer_box.currentText() == "sgd")
            self.decay_field.setEnabled(self.schedule_box.currentText() == "exponential")
        else:
            for widget in (
                self.chains_box,
                self.replicas_box,
                self.momentum_field,
                self.decay_field,
            ):
                widget.setEnabled(False)
        self.start_button.setEnabled(not live and self._valid)
        self.pause_button.setEnabled(live)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.stop_button.setEnabled(live)
        self.resume_button.setEnabled(
            not live and self._shown_run is not None and self._shown_run.resumable_epoch is not None
        )

    # ------------------------------------------------------------------ live drawing
    def _on_training_started(self, run_id: str) -> None:
        """A run starts or resumes training: the views follow it from now on."""
        self._shown_run = None
        self.replay.pause()
        self._view_id = run_id
        self._drawn = None
        self._drawn_observables = None
        self._follow = True
        self._set_checkpoints([])
        self.curves.clear()
        self.chains_view.clear_image()
        self.observables.show_pairs({}, "")
        self.shown_label.setText(f"training <b>{run_id}</b>")
        self.show_error("")
        self._sync_buttons()

    def refresh(self) -> None:
        """Pull the training job's latest snapshot and draw what changed (at FRAME_HZ)."""
        snapshot = self.controller.snapshot()
        if not self.controller.running or snapshot is None or snapshot is self._drawn:
            return
        self._drawn = snapshot
        self._size = snapshot.size
        self.progress.setValue(round(100 * snapshot.progress))
        self.status_label.setText(self._live_status(snapshot))
        epochs = snapshot.history.get("epoch")
        if epochs is not None and epochs.size != self.curves.epochs_drawn:
            self.curves.show_history(snapshot.history)
        if snapshot.n_checkpoints != len(self._checkpoints):
            self._set_checkpoints(self.controller.checkpoints())
        method = self._method()
        self._draw_chains(
            snapshot.chains, "β = 1 replicas" if method == "pt" else "persistent chains", method
        )
        if snapshot.observables is not self._drawn_observables:
            self._drawn_observables = snapshot.observables
            pairs = observable_pairs(snapshot.observables)
            note = (
                f"model: fresh equilibrium chains at epoch {snapshot.observables['epoch']}; "
                "data: the training set"
                if pairs
                else "measured after the first epochs"
            )
            self.observables.show_pairs(pairs, note)

    def _method(self) -> str:
        run = self.controller.run_view
        return run.method if run is not None else ""

    def _live_status(self, s: RBMSnapshot) -> str:
        history = s.history
        nll = ""
        train = history.get("nll_train")
        measured = np.flatnonzero(np.isfinite(train)) if train is not None else np.zeros(0, int)
        if measured.size:  # the latest measured epoch (metrics_every: not every epoch)
            row = measured[-1]
            nll = f"<br>NLL train {train[row]:.4f}"
            valid = history.get("nll_valid")
            if valid is not None and math.isfinite(valid[row]):
                nll += f", held-out {valid[row]:.4f}"
            nll += f" nats (epoch {int(history['epoch'][row])})"
        return (
            f"{self.controller.state} <b>{self.controller.run_id}</b>: epoch {s.epoch} of "
            f"{s.epochs}, batch {s.batch}/{s.n_batches}, learning rate "
            f"{s.learning_rate:.3g}, {s.n_checkpoints} checkpoints{nll}"
        )

    def _draw_chains(self, chains: np.ndarray | None, what: str, method: str) -> None:
        """Draw the first chains, or say why there are none (CD has none; a run imported or
        saved without trainer state keeps none)."""
        if chains is None or not chains.size or self._size * self._size != chains.shape[1]:
            self.chains_view.clear_image()
            self.chains_label.setText(
                "<b>Chains</b>: CD restarts its chains at the data (no persistent chains)"
                if method == "cd"
                else "<b>Chains</b>: none saved with this run"
            )
            return
        shown = min(CHAINS_SHOWN, chains.shape[0])
        self.chains_view.set_chains(chains, self._size, shown)
        self.chains_label.setText(f"<b>Model samples</b>: {what}, {shown} of {chains.shape[0]}")

    # ------------------------------------------------------------------ checkpoints
    def _set_checkpoints(self, checkpoints: list[Checkpoint]) -> None:
        """New list of checkpoints: follow the newest unless the user moved the slider."""
        self._checkpoints = checkpoints
        self._moving_slider = True
        self.replay.set_count(len(checkpoints), len(checkpoints) - 1 if self._follow else None)
        self._moving_slider = False
        self._show_checkpoint()

    def _on_slider(self, value: int) -> None:
        if not self._moving_slider:
            self._follow = value == self.checkpoint_slider.maximum()
            self._show_checkpoint()

    def _show_checkpoint(self) -> None:
        """Draw the receptive fields of the checkpoint under the slider; mark its epoch."""
        index = self.checkpoint_slider.value()
        if not 0 <= index < len(self._checkpoints):
            self.fields_view.clear_fields()
            self.curves.set_marker(None)
            self.checkpoint_label.setText("no checkpoint")
            return
        epoch, W, _, b = self._checkpoints[index]
        try:
            self.fields_view.set_fields(W, b, self._size, self.sort_box.currentText())
        except ValueError as exc:
            self.fields_view.clear_fields()
            self.show_error(str(exc))
        self.curves.set_marker(epoch)
        last = index == len(self._checkpoints) - 1
        if self._shown_run is not None and not self.controller.running:
            self._show_saved_state(self._shown_run, None if last else epoch)
        latest = ", latest" if last else ""
        self.checkpoint_label.setText(
            f"epoch {epoch} (checkpoint {index + 1}/{len(self._checkpoints)}{latest})"
        )

    def _show_saved_state(self, run: RBMRunView, epoch: int | None) -> None:
        """A saved run's curves and chains as they were at ``epoch`` (None: at its end).

        The curves show the history up to ``epoch``; the chains are saved only at the last
        checkpoint or stop, so before that none are drawn.
        """
        history = run.history_up_to(epoch)
        if history:
            self.curves.show_history(history)
        else:
            self.curves.clear()
        method = run.method
        if epoch is None:
            self._draw_chains(
                run.chains,
                "β = 1 replicas at the last checkpoint or stop"
                if method == "pt"
                else "chains at the last checkpoint or stop",
                method,
            )
        else:
            self.chains_view.clear_image()
            self.chains_label.setText("<b>Chains</b>: saved only at the last checkpoint or stop")

    # ------------------------------------------------------------------ export
    def export_plots(self, folder: Path) -> list[Path]:
        """Write the receptive fields, chains, curves and observables as PNG and SVG into
        ``folder`` (named after the run on display); returns the files written."""
        index = self.checkpoint_slider.value()
        at = (
            f" at epoch {self._checkpoints[index][0]}"
            if 0 <= index < len(self._checkpoints)
            else ""
        )
        run = (
            f"{self._view_id}{at}" + (" (training)" if self.controller.running else "")
            if self._view_id
            else "none"
        )
        views = {
            "receptive fields": self.fields_view,
            "chains": self.chains_view,
            **self.curves.plots,
            "observables": self.observables.plot,
        }
        return export_views(
            views, folder, self._view_id or "rbm", self.session, run, "Monge Lab RBM trainer dock"
        )

    # ------------------------------------------------------------------ saved runs
    def show_run(self, view: RunView) -> None:
        """Show an ``rbm`` run of the session (its :class:`RBMRunView`, when nothing trains):
        curves, fields, chains."""
        if not isinstance(view, RBMRunView) or self.controller.running:
            return
        run = view
        if run.id != self._view_id:
            self._follow = True
        self._shown_run = run
        self._view_id = run.id
        self._size = run.size
        self.replay.pause()
        self._set_checkpoints(run.checkpoints)
        if not self._checkpoints:
            self._show_saved_state(run, None)
        pairs = observables_from_evaluation(run.evaluation)
        samples = run.evaluation_samples
        self.observables.show_pairs(
            pairs,
            (
                "measured by 'main.py evaluate'"
                + (f" on {samples} model samples" if samples is not None else "")
            )
            if pairs
            else "not measured for this run (see 'main.py evaluate')",
        )
        done = run.resumable_epoch
        planned = run.planned_epochs
        at = f"epoch {done} of {planned}" if done is not None else "no trainer state"
        self.shown_label.setText(f"<b>{run.id}</b> ({run.status}): {at}")
        self.status_label.setText(
            f"viewing <b>{run.id}</b> ({run.status}): {run.method}, "
            f"m = {run.n_hidden}, L = {run.size}, data {', '.join(run.data_ids)}"
            + (f"<br>{run.message}" if run.message else "")
        )
        self.progress.setValue(
            round(100 * min(1.0, done / planned)) if done is not None and planned else 0
        )
        self._sync_buttons()

    def _on_run_changed(self, run_id: str) -> None:
        self.refresh_data()
        if run_id == self.controller.run_id and not self.controller.running:
            # training ended: show the closed run
            self.show_run(RBMRunView(self.session.run(run_id)))

    def _on_reloaded(self) -> None:
        self._shown_run = None
        self._view_id = ""
        self._set_checkpoints([])
        self.curves.clear()
        self.chains_view.clear_image()
        self.observables.show_pairs({}, "")
        self.shown_label.setText("select an rbm run in the session browser")
        self.status_label.setText("idle")
        self.progress.setValue(0)
        self.refresh_data()
        self._sync_buttons()
