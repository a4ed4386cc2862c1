"""The geometry dock: the cone/OT geometry of an RBM's training, finished or live.

A thin view of :class:`lab.geometry.controller.GeometryController`. The left column picks the
source: a finished ``geometry`` run of the session (drawn at once), or an ``rbm`` run (finished,
or the one training in the RBM trainer dock, marked "training") with "Compute": ε (checked as
typed, the message under the field; > 0, explicit and recorded), model samples per checkpoint,
the seed, Gaussian draws and k of the Monge–Ampère compression. The dock's refresh timer
(:class:`widgets.common.dock.FeatureDock`) pulls the computation's snapshot at ``FRAME_HZ`` and
redraws when it changed. Runs are read through their views only
(:class:`lab.geometry.runs.GeometryRunView`, the controller's ``rbm_sources``); the session
browser's "show" arrives as :meth:`GeometryDock.show_run` with the run's view.

A second page, "Wasserstein scores" (:class:`widgets.geometry.score_panel.ScoresPanel`), scores
an rg-flow, rg or rbm run by Gai & Zhang's LSS and OTS and shows ``scores`` runs; the session
browser's "show" of a ``scores`` run opens that page.

The views (``widgets.geometry.plots``) sit in tabs; a slider picks the checkpoint singled out
(it follows the newest while at its end). Every tab has "Export…", which writes each of its
plots to PNG and SVG with the session and run in the files (``widgets.common.plot_export``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lab.core.views import RunView
from lab.geometry.common import leading_eigenvectors
from lab.geometry.controller import GeometryController
from lab.geometry.options import SETTINGS, GeometryOptions
from lab.geometry.runs import GeometryRunView
from lab.geometry.score_runs import ScoresRunView
from widgets.common.dock import FeatureDock
from widgets.common.forms import Form
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
from widgets.geometry.score_panel import ScoresPanel

FRAME_HZ = 10
FLOW_BASIS_MAX = 32
HINT_STYLE = "color: gray;"
TABS = (
    ("Spectrum", SpectrumView),
    ("Eigenvectors", EigenvectorView),
    ("Trajectory", TrajectoryView),
    ("Bloch disk", BlochView),
    ("Residuals", ResidualView),
    ("Transport", TransportView),
    ("Entropy", EntropyView),
    ("Covariances", CovarianceView),
)


class GeometryDock(FeatureDock):
    """The geometry of learning: spectrum, eigenvectors, trajectory, Bloch disk, residuals,
    transport, entropy, covariances and the modular flow of an RBM's checkpoints."""

    refresh_hz = FRAME_HZ
    controller: GeometryController

    def __init__(self, controller: GeometryController, parent: QWidget | None = None) -> None:
        super().__init__(
            "Geometry", "geometryDock", controller, parent, error_label_name="geometryErrorLabel"
        )
        self.session = controller.session
        self.contract: dict | None = None  # the dict drawn (a run's or a live snapshot's)
        self.shown_id = ""  # the run drawn (geometry run, or the rbm run being analysed)
        self._drawn: object = None
        self._follow = True
        self._flow_key: tuple = ()

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([splitter.widget(0).minimumWidth(), 1000])
        self.scores_panel = ScoresPanel(controller.scores, self)
        self.pages = QTabWidget(objectName="geometryPages")
        self.pages.addTab(splitter, "Geometry")
        self.pages.addTab(self.scores_panel, "Wasserstein scores")
        self.setWidget(self.pages)

        controller.stateChanged.connect(lambda _: self._sync())
        controller.followingChanged.connect(lambda _: self._sync())
        controller.failed.connect(lambda msg: self.status_label.setText(f"failed: {msg}"))
        controller.runMade.connect(self._on_run_made)
        controller.trainer.runChanged.connect(lambda _: self.refresh_sources())
        controller.trainer.stateChanged.connect(lambda _: self.refresh_sources())
        self.session.runAdded.connect(lambda _: self.refresh_sources())
        self.session.reloaded.connect(self._on_reloaded)
        self.start_refresh()
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
        self.form = Form(SETTINGS[:5], parent=self)
        self.epsilon_field = self.form.widget("epsilon")
        self.samples_box = self.form.widget("samples")
        self.seed_box = self.form.widget("seed")
        self.points_box = self.form.widget("n_points")
        self.k_box = self.form.widget("k")
        self.k_box.setSpecialValueText("fit the model")
        self.form.changed.connect(self._sync)
        for row, setting in enumerate(SETTINGS[:5]):
            grid.addWidget(
                QLabel(setting.label),
                row,
                0,
                alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            )
            grid.addWidget(
                self.form.widget(setting.key), row, 1, alignment=Qt.AlignmentFlag.AlignTop
            )
        self.compute_button = QPushButton("Compute", objectName="geometryComputeButton")
        self.compute_button.clicked.connect(self.compute)
        self.stop_button = QPushButton("Stop", objectName="geometryStopButton")
        self.stop_button.clicked.connect(self.controller.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compute_button)
        buttons.addWidget(self.stop_button)
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
        self.checkpoint_slider = QSlider(
            Qt.Orientation.Horizontal, objectName="geometryCheckpointSlider"
        )
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
        export.clicked.connect(
            lambda _=False, t=title: self.export_dialog(
                f"Export the {t} plots", lambda folder: self.export_tab(t, folder)
            )
        )
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
        for view in self.controller.geometry_views():
            self.source_box.addItem(
                f"{view.id}: geometry of {view.rbm_id or '?'} ({view.status})",
                f"geometry:{view.id}",
            )
        for rbm in self.controller.rbm_sources():
            live = " — training" if rbm.live else ""
            self.source_box.addItem(f"{rbm.id}: compute{live}", f"rbm:{rbm.id}")
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

    def show_run(self, view: RunView) -> None:
        """Show the ``geometry`` or ``scores`` run the session browser selected: choose it as
        the source of its page, and show that page."""
        if isinstance(view, ScoresRunView):
            self.pages.setCurrentWidget(self.scores_panel)
            self.scores_panel.show_run(view)
            return
        self.pages.setCurrentIndex(0)
        self.select_source("geometry", view.id)

    def _on_source(self) -> None:
        source = self.source()
        if source is not None and source[0] == "geometry":
            view = self.controller.geometry_view(source[1])
            epsilon = "?" if view.epsilon is None else view.epsilon
            samples = "?" if view.samples is None else view.samples
            self.source_hint.setText(f"ε = {epsilon}, {samples} samples, seed {view.seed}")
            self._draw_run(view)
        elif source is not None:
            self.source_hint.setText(
                "Compute analyses every checkpoint of this RBM"
                + (" and follows its training" if self.controller.is_live(source[1]) else "")
            )
        else:
            self.source_hint.setText("no rbm or geometry run in the session yet")
        self._sync()

    # ------------------------------------------------------------------ control
    def options(self) -> GeometryOptions:
        """The options as typed (ValueError with the field's message when invalid)."""
        return GeometryOptions(**self.form.values())

    def compute(self) -> None:
        source = self.source()
        if source is None or source[0] != "rbm":
            return
        try:
            options = self.options()
            hidden = self.controller.hidden_units(source[1])
            if hidden is not None:
                options.compression(hidden)  # ValueError when k does not fit the model
            self.controller.compute(source[1], options)
        except (ValueError, RuntimeError, KeyError) as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.shown_id = source[1]
        self._drawn = None
        self._follow = True

    def _sync(self) -> None:
        busy = self.controller.running or self.controller.following
        epsilon_error = self.form.errors()
        source = self.source()
        self.compute_button.setEnabled(
            not busy and not epsilon_error and source is not None and source[0] == "rbm"
        )
        self.stop_button.setEnabled(busy)
        if busy:
            what = "following the training" if self.controller.following else "computing"
            self.status_label.setText(f"{what}: {self.controller.rbm_id}")
        elif self.controller.state != "idle" and not self.status_label.text().startswith("failed"):
            self.status_label.setText(f"{self.controller.state}")

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Pull the live computation's snapshot and redraw when it changed (at FRAME_HZ); the
        scores page likewise."""
        self.scores_panel.refresh()
        if self.controller.task is None or self.shown_id != self.controller.rbm_id:
            return
        snapshot = self.controller.latest()
        if snapshot is None or snapshot is self._drawn or snapshot.done == 0:
            return
        self._drawn = snapshot
        self.status_label.setText(
            f"{self.controller.rbm_id}: {snapshot.done} of {snapshot.total} checkpoint(s)"
            + (" — following the training" if self.controller.following else "")
        )
        self.show_datasets(snapshot.contract)

    def _draw_run(self, view: GeometryRunView) -> None:
        """Draw a finished ``geometry`` run of the session."""
        self.shown_id = view.id
        self._follow = True
        self.show_datasets(view.contract)

    def show_datasets(self, contract: dict) -> None:
        """Draw a dict of the geometry contract (a run's arrays or a live snapshot's)."""
        self.contract = contract
        count = int(np.asarray(contract["epoch"]).size)
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
        d = self.contract
        if d is None or np.asarray(d["epoch"]).size == 0:
            return
        index = self.checkpoint_slider.value()
        epoch = int(np.asarray(d["epoch"])[index])
        self.checkpoint_label.setText(
            f"epoch {epoch} ({index + 1} of {np.asarray(d['epoch']).size})"
        )
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
            basis = leading_eigenvectors(W, FLOW_BASIS_MAX)
        else:
            images = np.asarray(d["eigenvectors"][index], dtype=np.float64)
            basis = images.reshape(images.shape[0], -1).T
        observables = {"data spin–spin ⟨s_i s_j⟩": np.asarray(d["data_covariance"], np.float64)}
        model = np.asarray(d["model_covariance"], dtype=np.float64)
        if np.all(np.isfinite(model)):
            observables["model spin–spin ⟨s_i s_j⟩ (last checkpoint)"] = model
        self.flow.set_state(basis, probabilities[: basis.shape[1]], observables, epoch)

    # ------------------------------------------------------------------ export
    def export_tab(self, title: str, folder: Path) -> list[Path]:
        """Write every plot of tab ``title`` to ``folder`` as PNG and SVG; returns the files."""
        run = self.shown_id or "none"
        if (
            self.shown_id
            and self.shown_id == self.controller.rbm_id
            and (self.controller.running or self.controller.following)
        ):
            run = f"{self.shown_id} (live geometry, not yet a run)"
        return export_views(
            self.views[title].plots,
            folder,
            self.shown_id or "geometry",
            self.session,
            run,
            f"Monge Lab geometry dock, tab {title}",
        )

    # ------------------------------------------------------------------ session
    def _on_run_made(self, run_id: str) -> None:
        self.refresh_sources()
        self.status_label.setText(f"{run_id} added to the session")

    def _on_reloaded(self) -> None:
        self.contract = None
        self.shown_id = ""
        self._drawn = None
        self.refresh_sources()
