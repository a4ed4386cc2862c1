"""The geometry dock: the cone/OT geometry of an RBM's training, finished or live.

A thin view of :class:`lab.geometry.controller.GeometryController`. The left column picks the
source: a finished ``geometry`` run of the session (drawn at once), or an ``rbm`` run (finished,
or the one training in the RBM trainer dock, marked "training") with "Compute": ε (checked as
typed, the message under the field; > 0, explicit and recorded), model samples per checkpoint,
the seed, Gaussian draws and k of the Monge–Ampère compression. A timer pulls the computation's
snapshot at ``FRAME_HZ`` and redraws when it changed.

The views (``widgets.geometry.plots``) sit in tabs; a slider picks the checkpoint singled out
(it follows the newest while at its end). Every tab has "Export…", which writes each of its
plots to PNG and SVG with the session and run in the files (``widgets.common.plot_export``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engines.geometry import wishart_spectrum
from lab.geometry.controller import GeometryController
from lab.geometry.task import GeometryOptions
from widgets.common.number_field import ERROR_STYLE, NumberField
from widgets.common.plot_export import export_views, safe_name
from widgets.common.scrolled import scrolled_controls
from widgets.geometry.plots import (
    BlochView,
    CovarianceView,
    EigenvectorView,
    EntropyView,
    ModularFlowView,
    ResidualView,
    SpectrumView,
    TrajectoryView,
    TransportView,
)

FRAME_HZ = 10
FLOW_BASIS_MAX = 32
HINT_STYLE = "color: gray;"
TABS = (("Spectrum", SpectrumView), ("Eigenvectors", EigenvectorView),
        ("Trajectory", TrajectoryView), ("Bloch disk", BlochView), ("Residuals", ResidualView),
        ("Transport", TransportView), ("Entropy", EntropyView),
        ("Covariances", CovarianceView))


class GeometryDock(QDockWidget):
    """The geometry of learning: spectrum, eigenvectors, trajectory, Bloch disk, residuals,
    transport, entropy, covariances and the modular flow of an RBM's checkpoints."""

    def __init__(self, controller: GeometryController, parent: QWidget | None = None) -> None:
        super().__init__("Geometry", parent)
        self.setObjectName("geometryDock")
        self.controller = controller
        self.session = controller.session
        self.datasets: dict | None = None
        self.shown_id = ""  # the run drawn (geometry run, or the rbm run being analysed)
        self._drawn: object = None
        self._follow = True
        self._flow_key: tuple = ()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([splitter.widget(0).minimumWidth(), 1000])
        self.setWidget(splitter)

        controller.stateChanged.connect(lambda _: self._sync())
        controller.followingChanged.connect(lambda _: self._sync())
        controller.failed.connect(lambda msg: self.status_label.setText(f"failed: {msg}"))
        controller.runMade.connect(self._on_run_made)
        controller.trainer.runChanged.connect(lambda _: self.refresh_sources())
        controller.trainer.stateChanged.connect(lambda _: self.refresh_sources())
        self.session.runAdded.connect(lambda _: self.refresh_sources())
        self.session.reloaded.connect(self._on_reloaded)
        self.timer = QTimer(self, interval=int(1000 / FRAME_HZ))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh_sources()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> QWidget:
        box = QWidget(objectName="geometryControls")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)
        source_group = QGroupBox("Source")
        source_layout = QVBoxLayout(source_group)
        self.source_box = QComboBox(objectName="geometrySourceBox")
        self.source_box.currentIndexChanged.connect(lambda _: self._on_source())
        self.source_hint = QLabel("", objectName="geometrySourceHint")
        self.source_hint.setWordWrap(True)
        self.source_hint.setStyleSheet(HINT_STYLE)
        source_layout.addWidget(self.source_box)
        source_layout.addWidget(self.source_hint)

        options_group = QGroupBox("Computation")
        grid = QGridLayout(options_group)
        defaults = GeometryOptions()
        self.epsilon_field = NumberField("ε", defaults.epsilon, lambda v: v > 0,
                                         "a finite number > 0", "geometryEpsilonEdit")
        self.epsilon_field.edit.setToolTip("explicit regularization Σ + εI (spin²) of every "
                                           "metric, entropy and Gaussian")
        self.epsilon_field.changed.connect(self._sync)
        self.samples_box = QSpinBox(objectName="geometrySamplesBox", minimum=2, maximum=100_000,
                                    value=defaults.samples)
        self.samples_box.setToolTip("model samples per checkpoint for the transport distances")
        self.seed_box = QSpinBox(objectName="geometrySeedBox", minimum=0, maximum=2**31 - 1,
                                 value=defaults.seed)
        self.points_box = QSpinBox(objectName="geometryPointsBox", minimum=2, maximum=1_000_000,
                                   value=defaults.n_points)
        self.points_box.setToolTip("draws of N(0, WWᵀ + εI) for the Gaussian OT residual")
        self.k_box = QSpinBox(objectName="geometryKBox", minimum=1, maximum=defaults.k,
                              value=defaults.k)
        self.k_box.setToolTip("size of the compression for the Monge–Ampère residual")
        for row, (label, widget) in enumerate((("ε", self.epsilon_field),
                                               ("samples", self.samples_box),
                                               ("seed", self.seed_box),
                                               ("Gaussian draws", self.points_box),
                                               ("k (Monge–Ampère)", self.k_box))):
            grid.addWidget(QLabel(label), row, 0, alignment=Qt.AlignmentFlag.AlignRight
                           | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(widget, row, 1, alignment=Qt.AlignmentFlag.AlignTop)
        self.compute_button = QPushButton("Compute", objectName="geometryComputeButton")
        self.compute_button.clicked.connect(self.compute)
        self.stop_button = QPushButton("Stop", objectName="geometryStopButton")
        self.stop_button.clicked.connect(self.controller.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compute_button)
        buttons.addWidget(self.stop_button)
        self.error_label = QLabel("", objectName="geometryErrorLabel")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.status_label = QLabel("idle", objectName="geometryStatusLabel")
        self.status_label.setWordWrap(True)
        for widget in (source_group, options_group):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        return scrolled_controls(box)

    def _build_views(self) -> QWidget:
        self.checkpoint_slider = QSlider(Qt.Orientation.Horizontal,
                                         objectName="geometryCheckpointSlider")
        self.checkpoint_slider.valueChanged.connect(self._on_slider)
        self.checkpoint_label = QLabel("no checkpoint", objectName="geometryCheckpointLabel")
        row = QHBoxLayout()
        row.addWidget(QLabel("checkpoint"))
        row.addWidget(self.checkpoint_slider, 1)
        row.addWidget(self.checkpoint_label)
        self.tabs = QTabWidget(objectName="geometryTabs")
        self.views: dict[str, QWidget] = {}
        for title, view_class in TABS:
            self._add_tab(title, view_class())
        self.flow = ModularFlowView()
        self._add_tab("Modular flow", self.flow)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.tabs, 1)
        return box

    def _add_tab(self, title: str, view: QWidget) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(view, 1)
        export = QPushButton("Export…", objectName=f"geometryExport{safe_name(title)}")
        export.setToolTip("write every plot of this tab to PNG and SVG")
        export.clicked.connect(lambda _=False, t=title: self._export_dialog(t))
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(export)
        layout.addLayout(bar)
        self.tabs.addTab(page, title)
        self.views[title] = view

    # ------------------------------------------------------------------ sources
    def refresh_sources(self) -> None:
        """List the geometry runs and the rbm runs of the session (keeping the choice)."""
        current = self.source_box.currentData()
        self.source_box.blockSignals(True)
        self.source_box.clear()
        for run in self.controller.geometry_runs():
            source = run.inputs[0] if run.inputs else "?"
            self.source_box.addItem(f"{run.id}: geometry of {source} ({run.status})",
                                    f"geometry:{run.id}")
        for run in self.controller.rbm_candidates():
            live = " — training" if self.controller.is_live(run.id) else ""
            self.source_box.addItem(f"{run.id}: compute{live}", f"rbm:{run.id}")
        index = self.source_box.findData(current)
        self.source_box.setCurrentIndex(index if index >= 0 else 0)
        self.source_box.blockSignals(False)
        if self.source_box.currentData() != current:
            self._on_source()
        self._sync()

    def source(self) -> tuple[str, str] | None:
        """('geometry' | 'rbm', run id) of the chosen source, None when there is none."""
        data = self.source_box.currentData()
        return None if data is None else tuple(data.split(":", 1))

    def select_source(self, kind: str, run_id: str) -> None:
        index = self.source_box.findData(f"{kind}:{run_id}")
        if index < 0:
            raise KeyError(f"no {kind} source '{run_id}'")
        self.source_box.setCurrentIndex(index)

    def _on_source(self) -> None:
        source = self.source()
        if source is not None and source[0] == "geometry":
            run = self.session.run(source[1])
            self.source_hint.setText(f"ε = {run.params.get('epsilon', '?')}, "
                                     f"{run.params.get('samples', '?')} samples, seed "
                                     f"{run.params.get('seed', run.seed)}")
            self.show_run(run.id)
        elif source is not None:
            self.source_hint.setText("Compute analyses every checkpoint of this RBM"
                                     + (" and follows its training" if
                                        self.controller.is_live(source[1]) else ""))
        else:
            self.source_hint.setText("no rbm or geometry run in the session yet")
        self._sync()

    # ------------------------------------------------------------------ control
    def options(self) -> GeometryOptions:
        """The options as typed (ValueError with the field's message when invalid)."""
        return GeometryOptions(epsilon=self.epsilon_field.parse(),
                               samples=self.samples_box.value(), seed=self.seed_box.value(),
                               n_points=self.points_box.value(), k=self.k_box.value())

    def compute(self) -> None:
        source = self.source()
        if source is None or source[0] != "rbm":
            return
        try:
            options = self.options()
            k_max = self._hidden_units(source[1])
            if k_max is not None and options.k > k_max:
                raise ValueError(f"k must be at most the {k_max} hidden units")
            self.controller.compute(source[1], options)
        except (ValueError, RuntimeError, KeyError) as exc:
            self.error_label.setText(str(exc))
            return
        self.error_label.setText("")
        self.shown_id = source[1]
        self._drawn = None
        self._follow = True

    def _hidden_units(self, rbm_id: str) -> int | None:
        params = self.session.run(rbm_id).params
        return int(params["n_hidden"]) if "n_hidden" in params else None

    def _sync(self) -> None:
        busy = self.controller.running or self.controller.following
        epsilon_error = self.epsilon_field.error()
        source = self.source()
        self.compute_button.setEnabled(not busy and not epsilon_error and source is not None
                                       and source[0] == "rbm")
        self.stop_button.setEnabled(busy)
        if busy:
            what = "following the training" if self.controller.following else "computing"
            self.status_label.setText(f"{what}: {self.controller.rbm_id}")
        elif self.controller.state != "idle" and not self.status_label.text().startswith(
                "failed"):
            self.status_label.setText(f"{self.controller.state}")

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Pull the live computation's snapshot and redraw when it changed (at FRAME_HZ)."""
        if self.controller.task is None or self.shown_id != self.controller.rbm_id:
            return
        snapshot = self.controller.latest()
        if snapshot is None or snapshot is self._drawn or snapshot.done == 0:
            return
        self._drawn = snapshot
        self.status_label.setText(
            f"{self.controller.rbm_id}: {snapshot.done} of {snapshot.total} checkpoint(s)"
            + (" — following the training" if self.controller.following else ""))
        self.show_datasets(snapshot.datasets)

    def show_run(self, run_id: str) -> None:
        """Draw a finished ``geometry`` run of the session."""
        self.shown_id = run_id
        self._follow = True
        self.show_datasets(dict(self.session.run(run_id).datasets))

    def show_datasets(self, datasets: dict) -> None:
        """Draw a dict of the geometry contract (a run's datasets or a live snapshot's)."""
        self.datasets = datasets
        count = int(np.asarray(datasets["epoch"]).size)
        self.checkpoint_slider.blockSignals(True)
        self.checkpoint_slider.setRange(0, max(count - 1, 0))
        if self._follow:
            self.checkpoint_slider.setValue(count - 1)
        self.checkpoint_slider.blockSignals(False)
        self.draw()

    def _on_slider(self, value: int) -> None:
        self._follow = value == self.checkpoint_slider.maximum()
        self.draw()

    def draw(self) -> None:
        d = self.datasets
        if d is None or np.asarray(d["epoch"]).size == 0:
            return
        index = self.checkpoint_slider.value()
        epoch = int(np.asarray(d["epoch"])[index])
        self.checkpoint_label.setText(f"epoch {epoch} ({index + 1} of "
                                      f"{np.asarray(d['epoch']).size})")
        for title, _ in TABS:
            self.views[title].show_data(d, index)
        self._update_flow(d, index, epoch)

    def _update_flow(self, d: dict, index: int, epoch: int) -> None:
        """Hand the modular flow view ρ's leading eigenvectors at the checkpoint: from W when
        the analysed checkpoints are known (k ≤ 32), else the run's K eigenvector images."""
        key = (self.shown_id, epoch, id(d))
        if key == self._flow_key:
            return
        self._flow_key = key
        probabilities = np.exp(-np.asarray(d["modular_spectrum"][index], dtype=np.float64))
        W = self.controller.weights(epoch) if self.shown_id == self.controller.rbm_id else None
        if W is not None:
            spectrum = wishart_spectrum(W)
            k = min(FLOW_BASIS_MAX, spectrum.values.size)
            basis = spectrum.vectors[:, :k]
        else:
            images = np.asarray(d["eigenvectors"][index], dtype=np.float64)
            basis = images.reshape(images.shape[0], -1).T
        observables = {"data spin–spin ⟨s_i s_j⟩": np.asarray(d["data_covariance"], np.float64)}
        model = np.asarray(d["model_covariance"], dtype=np.float64)
        if np.all(np.isfinite(model)):
            observables["model spin–spin ⟨s_i s_j⟩ (last checkpoint)"] = model
        self.flow.set_state(basis, probabilities[:basis.shape[1]], observables, epoch)

    # ------------------------------------------------------------------ export
    def _export_dialog(self, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Export the {title} plots")
        if folder:
            written = self.export_tab(title, Path(folder))
            self.status_label.setText(f"exported {len(written)} file(s) to {folder}")

    def export_tab(self, title: str, folder: Path) -> list[Path]:
        """Write every plot of tab ``title`` to ``folder`` as PNG and SVG; returns the files."""
        run = self.shown_id or "none"
        if self.shown_id and self.shown_id == self.controller.rbm_id and (
                self.controller.running or self.controller.following):
            run = f"{self.shown_id} (live geometry, not yet a run)"
        return export_views(self.views[title].plots, folder, self.shown_id or "geometry",
                            self.session, run, f"Monge Lab geometry dock, tab {title}")

    # ------------------------------------------------------------------ session
    def _on_run_made(self, run_id: str) -> None:
        self.refresh_sources()
        self.status_label.setText(f"{run_id} added to the session")

    def _on_reloaded(self) -> None:
        self.datasets = None
        self.shown_id = ""
        self._drawn = None
        self.refresh_sources()
