"""The Ising lattice viewer dock: controls, the live lattice, its plots, and recorded-run replay.

A thin view of :class:`lab.ising.controller.LiveIsingController`: the buttons call the controller,
a timer pulls the job's latest snapshot at ``FRAME_HZ`` and draws it. When no simulation is live,
selecting a recorded run in the session browser replays it: a replay bar
(:class:`widgets.common.replay.ReplayBar`, slider and Play/Pause at a chosen speed) walks through
its measurements, and every view is redrawn as it was at measurement k: the configuration
``samples[k]`` (when recorded), e(t) and m(t) up to k, the histogram of those m, and the
estimates from the first k + 1 measurements (recomputed at most every ``ESTIMATE_DELAY_MS``
while playing, since on long series they cost tens of ms). "Export plots…" writes the lattice and
the three plots to PNG and SVG with the session and the run in the files.

A lattice with more sites than the view has pixels is drawn from the block image the worker
publishes (``IsingSnapshot.image``: the share of +1 spins in blocks of ``ceil(L / pixels)``
sites), redrawn only when the worker made a new one; the dock tells the controller how many
pixels the view has whenever that changes. Recorded frames are reduced the same way here.
The algorithm defaults to ``lab.ising.settings.GUI_ALGORITHM`` (multi-spin Metropolis); the
device box offers cuda for a torch algorithm when CUDA is available.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from lab.ising.controller import LiveIsingController, device_choices
from lab.ising.exact import exact_reference
from lab.ising.runs import IsingRunView
from lab.ising.settings import GUI_ALGORITHM, TORCH_ALGORITHMS
from lab.ising.task import (
    ALGORITHMS,
    IsingParams,
    IsingPlan,
    display_block,
    initial_configuration,
    spins_image,
)
from widgets.common.dock import FeatureDock
from widgets.common.lattice_view import LatticeView
from widgets.common.plot_export import export_views
from widgets.common.replay import ReplayBar
from widgets.ising.plots import IsingPlots

FRAME_HZ = 30
FRAME_PARTS = (*IsingPlots.PARTS, "text")
"""What each live frame redraws besides the lattice, one in turn (each at FRAME_HZ / 4): laying
out all three plots and the table in one frame stalled the event loop for ~40-70 ms at L = 2048."""
ESTIMATE_DELAY_MS = 150
T_MIN, T_MAX = 0.05, 8.0
SCALAR_NOTE_SIZE = 256
"""From this L on, starting the scalar Metropolis kernel shows a note: the multi-spin one is
about 20× faster there, with the same physics."""


class IsingDock(FeatureDock):
    """Simulate the 2D Ising model live; record into the session; replay recorded runs."""

    def __init__(self, controller: LiveIsingController, parent: QWidget | None = None) -> None:
        super().__init__(
            "Ising lattice", "isingDock", controller, parent, error_label_name="errorLabel"
        )
        self.controller: LiveIsingController = controller
        self._drawn_snapshot = None
        self._drawn_image = None
        self._replay_run: IsingRunView | None = None
        self._replay_exact: dict[str, float] = {}
        self._fps_frames = 0
        self._frame_index = 0
        self._fps_time = time.monotonic()
        self.fps = 0.0

        self._build_controls()
        self.lattice = LatticeView()
        self.plots = IsingPlots()
        self.replay = ReplayBar("frames")
        self.frame_slider = self.replay.slider
        self.frame_label = QLabel("", objectName="replayFrameLabel")
        self.replay.indexChanged.connect(self._show_replay_frame)
        self._estimate_timer = self.add_timer(
            ESTIMATE_DELAY_MS, self.update_replay_estimates, single_shot=True
        )
        replay_row = QHBoxLayout()
        replay_row.addWidget(self.frame_label)
        replay_row.addWidget(self.replay, 1)
        self.replay_row = QWidget()
        self.replay_row.setLayout(replay_row)
        self.replay_row.setVisible(False)

        lattice_box = QWidget()
        lattice_layout = QVBoxLayout(lattice_box)
        lattice_layout.setContentsMargins(0, 0, 0, 0)
        lattice_layout.addWidget(self.lattice, 1)
        lattice_layout.addWidget(self.replay_row)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.controls)
        top.addWidget(lattice_box)
        top.setStretchFactor(1, 1)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.plots)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        self.setWidget(main)

        self.lattice.painted.connect(self._paint)
        controller.stateChanged.connect(self._sync_buttons)
        controller.failed.connect(lambda msg: self.show_error(f"simulation failed: {msg}"))
        controller.recordingChanged.connect(lambda _: self._sync_buttons())
        self._t_debounce = self.add_timer(150, self._apply_temperature, single_shot=True)
        self._initial_debounce = self.add_timer(
            150, self.show_initial_configuration, single_shot=True
        )
        for box in (self.size_box, self.seed_box):
            box.valueChanged.connect(lambda _: self._initial_debounce.start())
        self.show_initial_configuration()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.start_refresh()
        self._sync_buttons()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> None:
        self.controls = QWidget()
        self.controls.setObjectName("isingControls")
        form = QFormLayout()
        self.size_box = QSpinBox(objectName="sizeBox", minimum=2, maximum=4096, value=64)
        self.temperature = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.temperature.setObjectName("temperatureSlider")
        self.temperature.setRange(T_MIN, T_MAX)
        self.temperature.setDecimals(4)
        self.temperature.setValue(2.269185)
        self.field_box = QDoubleSpinBox(
            objectName="fieldBox", minimum=-5.0, maximum=5.0, decimals=4, singleStep=0.01
        )
        self.algorithm_box = QComboBox(objectName="algorithmBox")
        self.algorithm_box.addItems([*ALGORITHMS, *TORCH_ALGORITHMS])
        self.algorithm_box.setCurrentText(GUI_ALGORITHM)
        self.device_box = QComboBox(objectName="deviceBox")
        self.device_box.setToolTip("where metropolis-torch runs (the other algorithms: cpu)")
        self._sync_devices()
        self.algorithm_box.currentTextChanged.connect(lambda _: self._sync_devices())
        self.seed_box = QSpinBox(objectName="seedBox", minimum=0, maximum=2**31 - 1, value=1)
        self.thermalize_box = QSpinBox(
            objectName="thermalizeBox", minimum=0, maximum=10**8, value=200
        )
        self.interval_box = QSpinBox(objectName="intervalBox", minimum=1, maximum=10**6, value=1)
        self.record_box = QCheckBox("record into the session", objectName="recordBox")
        self.samples_box = QSpinBox(
            objectName="samplesBox",
            minimum=0,
            maximum=10**8,
            value=0,
            specialValueText="until stopped",
        )
        form.addRow("size L", self.size_box)
        form.addRow("temperature T", self.temperature)
        form.addRow("field h", self.field_box)
        form.addRow("algorithm", self.algorithm_box)
        form.addRow("device", self.device_box)
        form.addRow("seed", self.seed_box)
        form.addRow("thermalize (sweeps)", self.thermalize_box)
        form.addRow("measure every (sweeps)", self.interval_box)
        form.addRow("samples", self.samples_box)
        form.addRow("", self.record_box)

        self.start_button = QPushButton("Start", objectName="startButton")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.step_button = QPushButton("Step", objectName="stepButton")
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.export_button = QPushButton("Export plots…", objectName="isingExportButton")
        self.export_button.clicked.connect(
            lambda: self.export_dialog("Export the Ising plots", self.export_plots)
        )
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.step_button.clicked.connect(self.controller.step)
        self.stop_button.clicked.connect(self.controller.stop)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.step_button, self.stop_button):
            buttons.addWidget(button)
        self.status_label = QLabel("idle", objectName="statusLabel")
        self.status_label.setWordWrap(True)
        hint = QLabel("Paused: paint spins with the left (+1) and right (−1) mouse buttons.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray;")
        self.paint_hint = hint

        layout = QVBoxLayout(self.controls)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.export_button)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.temperature.valueChanged.connect(lambda _: self._t_debounce.start())
        self.field_box.editingFinished.connect(self._apply_field)

    def _sync_devices(self) -> None:
        """The devices of the chosen algorithm (cpu; cuda too for a torch one when present)."""
        current = self.device_box.currentText()
        choices = device_choices(self.algorithm_box.currentText())
        self.device_box.blockSignals(True)
        self.device_box.clear()
        self.device_box.addItems(choices)
        if current in choices:
            self.device_box.setCurrentText(current)
        self.device_box.blockSignals(False)
        self.device_box.setEnabled(len(choices) > 1 and not self.controller.running)

    # ------------------------------------------------------------------ values
    def params(self) -> IsingParams:
        return IsingParams(
            size=self.size_box.value(),
            temperature=float(self.temperature.value()),
            field=float(self.field_box.value()),
            algorithm=self.algorithm_box.currentText(),
            seed=self.seed_box.value(),
            device=self.device_box.currentText() or "cpu",
        )

    def plan(self) -> IsingPlan:
        samples = self.samples_box.value()
        return IsingPlan(
            thermalize=self.thermalize_box.value(),
            interval=self.interval_box.value(),
            samples=samples or None,
            record_spins=True,
        )

    def show_initial_configuration(self) -> None:
        """Before Start (and after a stop), show the configuration the next run starts from:
        the lattice is never an empty square."""
        if self.controller.running or self._replay_run is not None:
            return
        try:
            self._draw_spins(initial_configuration(self.params()))
        except ValueError as exc:
            self.show_error(str(exc))

    def _draw_spins(self, spins) -> None:
        """Draw a full configuration: as it is when it fits the view, else as a block image."""
        size = spins.shape[0]
        block = display_block(size, self.lattice.pixels())
        if block == 1:
            self.lattice.set_spins(spins)
        else:
            self.lattice.set_image(spins_image(spins, block), block, size)

    # ------------------------------------------------------------------ actions
    def start(self) -> None:
        self.show_error("")
        self.controller.set_display_pixels(self.lattice.pixels())
        try:
            self.controller.start(self.params(), self.plan(), self.record_box.isChecked())
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))
            return
        self._replay_run = None
        self.replay.pause()
        self._estimate_timer.stop()
        self.replay_row.setVisible(False)
        self.plots.clear()
        params = self.params()
        metropolis = params.algorithm in ("metropolis", "metropolis-msc", "metropolis-torch")
        if metropolis and params.size <= 4 and params.field == 0.0:
            self.show_error(
                "note: on L ≤ 4 at h = 0 Metropolis is not ergodic (a few states "
                "cycle deterministically); prefer heat bath or a cluster algorithm"
            )
        elif params.algorithm == "metropolis" and params.size >= SCALAR_NOTE_SIZE:
            self.show_error(
                "note: metropolis-msc (multi-spin coded) is about 20× faster at this "
                "size, with the same physics"
            )

    def _toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def _apply_temperature(self) -> None:
        if self.controller.running:
            self._guard(self.controller.set_temperature, float(self.temperature.value()))

    def _apply_field(self) -> None:
        if self.controller.running:
            self._guard(self.controller.set_field, float(self.field_box.value()))

    def _paint(self, cells: list, value: int) -> None:
        self._guard(self.controller.paint, cells, value)

    def _guard(self, action, *args) -> None:
        try:
            action(*args)
            self.show_error("")
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))

    def _sync_buttons(self, *_: object) -> None:
        state = self.controller.state
        live = state in ("running", "paused")
        for box in (
            self.size_box,
            self.algorithm_box,
            self.seed_box,
            self.thermalize_box,
            self.interval_box,
            self.record_box,
            self.samples_box,
        ):
            box.setEnabled(not live)
        self.device_box.setEnabled(not live and self.device_box.count() > 1)
        self.start_button.setEnabled(not live)
        self.pause_button.setEnabled(live)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.step_button.setEnabled(state == "paused")
        self.stop_button.setEnabled(live)
        self.lattice.set_paint_enabled(state == "paused")
        self.paint_hint.setVisible(state == "paused")
        if state != "running":  # paused or ended: draw every part of the last snapshot once
            self._drawn_snapshot = None
            self.refresh()
        if not live:
            self.status_label.setText(state)

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Pull the latest snapshot and draw it if it is new (called at FRAME_HZ).

        The lattice is drawn every frame; the plots, whose axes are costly to lay out, and the
        text take turns (FRAME_PARTS), one per frame; all are drawn at the start of a run and
        once it has stopped, so what stays on screen is complete.
        """
        if self.controller.running:
            self.controller.set_display_pixels(self.lattice.pixels())
        snapshot = self.controller.snapshot()
        if snapshot is None or snapshot is self._drawn_snapshot or self._replay_run is not None:
            return
        self._drawn_snapshot = snapshot
        if snapshot.image is not None:
            if snapshot.image is not self._drawn_image:  # else: no new frame from the worker
                self._drawn_image = snapshot.image
                self.lattice.set_image(snapshot.image, snapshot.block, snapshot.size)
                self._count_frame()
        elif snapshot.spins is not None:
            self.lattice.set_spins(snapshot.spins)
            self._count_frame()
        self._frame_index += 1
        if snapshot.energy.size > 1 and self.controller.state == "running":
            parts: tuple[str, ...] = (FRAME_PARTS[self._frame_index % len(FRAME_PARTS)],)
        else:
            parts = FRAME_PARTS
        params = self.controller.params
        exact = exact_reference(params.size, snapshot.temperature, params.coupling, snapshot.field)
        plotted = tuple(part for part in parts if part in IsingPlots.PARTS)
        if plotted:
            self.plots.show_series(snapshot.energy, snapshot.magnetization, exact, plotted)
        if "text" not in parts:
            return
        note = {"thermalizing": "(thermalizing…)"}.get(snapshot.phase, "since the last change")
        self.plots.show_estimates(
            snapshot.estimates, snapshot.estimates_count, params.size, exact, note
        )
        recording = self.controller.recording_run_id
        cluster = (
            f", ⟨cluster⟩ {snapshot.mean_cluster_size:.1f}" if snapshot.mean_cluster_size else ""
        )
        self.status_label.setText(
            f"{self.controller.state}: {snapshot.phase}, sweep {snapshot.sweeps}, "
            f"{snapshot.energy.size} measurements{cluster}, {self.fps:.0f} frames/s"
            + (
                f"<br>recording into <b>{recording}</b>: {snapshot.recorded} samples"
                if recording
                else ""
            )
        )

    def _count_frame(self) -> None:
        self._fps_frames += 1
        now = time.monotonic()
        if now - self._fps_time >= 1.0:
            self.fps = self._fps_frames / (now - self._fps_time)
            self._fps_frames, self._fps_time = 0, now

    # ------------------------------------------------------------------ replay
    def show_run(self, view: IsingRunView) -> None:
        """Replay a recorded Ising run (when no simulation is live), at its last measurement."""
        if not isinstance(view, IsingRunView) or self.controller.running:
            return
        self.replay.pause()
        self._replay_run = view
        self._replay_exact = view.exact()
        count = view.n_measurements
        self.replay_row.setVisible(count > 0)
        self.replay.blockSignals(True)
        self.replay.set_count(count, count - 1)
        self.replay.blockSignals(False)
        self.plots.clear()
        self._show_replay_frame(max(count - 1, 0))
        self.update_replay_estimates()
        self.status_label.setText(f"viewing recorded run <b>{view.id}</b> ({view.status})")

    def _show_replay_frame(self, index: int) -> None:
        """Draw measurement ``index`` of the replayed run: its lattice and the series up to it."""
        view = self._replay_run
        if view is None:
            return
        energy, magnetization = view.energy, view.magnetization
        if not 0 <= index < energy.size:
            return
        samples = view.samples
        if samples is not None and index < samples.shape[0]:
            self._draw_spins(samples[index])
        self.plots.show_series(energy[: index + 1], magnetization[: index + 1], self._replay_exact)
        sweeps = view.sweeps
        at = f", sweep {int(sweeps[index])}" if sweeps is not None else ""
        self.frame_label.setText(f"frame {index + 1}/{energy.size}{at}")
        if not self._estimate_timer.isActive():
            self._estimate_timer.start()

    def update_replay_estimates(self) -> None:
        """The estimates table for the measurements up to the replay bar's index."""
        self._estimate_timer.stop()
        view = self._replay_run
        if view is None:
            return
        count = self.replay.index + 1
        self.plots.show_estimates(
            view.estimates_up_to(count),
            count,
            view.size,
            self._replay_exact,
            f"recorded in {view.id}, up to frame {count}",
        )

    # ------------------------------------------------------------------ export
    def shown_run_label(self) -> str:
        """The run the views show: the replayed run, the run being recorded, or 'live'."""
        if self._replay_run is not None:
            return f"{self._replay_run.id} (frame {self.replay.index + 1})"
        recording = self.controller.recording_run_id
        return recording or "live simulation, not recorded"

    def export_plots(self, folder: Path) -> list[Path]:
        """Write the lattice and the plots as PNG and SVG into ``folder``; returns the files."""
        run = self.shown_run_label()
        stem = self._replay_run.id if self._replay_run is not None else "ising-live"
        return export_views(
            {"lattice": self.lattice, **self.plots.plots},
            folder,
            stem,
            self.controller.session,
            run,
            "Monge Lab Ising lattice dock",
        )
