"""The geometry dock's "Wasserstein scores" page: Gai & Zhang's LSS and OTS of a run.

A thin view of :class:`lab.geometry.score_controller.ScoreController`. The left column picks the
source: a ``scores`` run of the session (drawn at once) or a run to score (``rg-flow``, ``rg``,
``rbm`` with checkpoints) with "Compute", whose settings form comes from the same rows as the
``score`` command's options (:data:`lab.geometry.score_options.SETTINGS`; a bad value is shown
under its field and disables Compute; a run that cannot be scored is said in the page's error
label). The scoring runs in a job; the dock's refresh timer calls :meth:`ScoresPanel.refresh`,
which pulls its snapshot and redraws when it changed. When the job ends, the ``scores`` run it
filed becomes the source, drawn from the session like any saved one.

Views (:mod:`widgets.geometry.score_plots`) in tabs: "Scores" (OTS per map, LSS and the whole
map's OTS per temperature, with error bars; W to the data for a training), "Distribution" (the
distribution-level line shape), "Tracks" (a kept sample's track as lattices side by side above
its OT partners; the spin box picks the sample). The temperature box picks the group singled
out. Every tab has "Export…" (PNG and SVG, with the session and run in the files). Runs are
read through their views only (:class:`lab.geometry.score_runs.ScoresRunView`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lab.geometry.score_controller import ScoreController
from lab.geometry.score_options import SETTINGS, ScoreOptions
from lab.geometry.score_runs import ScoresRunView
from widgets.common.forms import Form
from widgets.common.number_field import ERROR_STYLE
from widgets.common.plot_export import export_views, safe_name
from widgets.common.scrolled import scrolled_controls
from widgets.geometry.score_plots import (
    DistributionView,
    ScoreCurvesView,
    TracksView,
    group_labels,
)

HINT_STYLE = "color: gray;"
TABS = (("Scores", ScoreCurvesView), ("Distribution", DistributionView), ("Tracks", TracksView))


class ScoresPanel(QWidget):
    """Controls and views of the Wasserstein scores (module doc); ``dock`` is the geometry dock
    (its export dialog and session)."""

    def __init__(self, controller: ScoreController, dock, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="scoresPanel")
        self.controller = controller
        self.dock = dock
        self.session = controller.session
        self.contract: dict | None = None
        self.mode = ""
        self.shown_id = ""  # the scores run drawn, or the source of the live scoring
        self._drawn: object = None
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        controller.stateChanged.connect(lambda _: self._sync())
        controller.failed.connect(lambda msg: self.status_label.setText(f"failed: {msg}"))
        controller.runMade.connect(self._on_run_made)
        self.session.runAdded.connect(lambda _: self.refresh_sources())
        self.session.reloaded.connect(self._on_reloaded)
        self.refresh_sources()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> QWidget:
        box = QWidget(objectName="scoresControls")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)
        source_group = QGroupBox("Source")
        source_layout = QVBoxLayout(source_group)
        self.source_box = QComboBox(objectName="scoresSourceBox")
        self.source_box.currentIndexChanged.connect(lambda _: self._on_source())
        self.source_hint = QLabel("", objectName="scoresSourceHint")
        self.source_hint.setWordWrap(True)
        self.source_hint.setStyleSheet(HINT_STYLE)
        source_layout.addWidget(self.source_box)
        source_layout.addWidget(self.source_hint)
        options_group = QGroupBox("Scoring")
        grid = QGridLayout(options_group)
        self.form = Form(SETTINGS, parent=self)
        self.form.changed.connect(self._sync)
        for row, setting in enumerate(SETTINGS):
            widget = self.form.widget(setting.key)
            if setting.field_kind != "flag":
                grid.addWidget(
                    QLabel(setting.label),
                    row,
                    0,
                    alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                )
            grid.addWidget(widget, row, 1, alignment=Qt.AlignmentFlag.AlignTop)
        self.compute_button = QPushButton("Compute", objectName="scoresComputeButton")
        self.compute_button.clicked.connect(self.compute)
        self.stop_button = QPushButton("Stop", objectName="scoresStopButton")
        self.stop_button.clicked.connect(self.controller.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compute_button)
        buttons.addWidget(self.stop_button)
        self.error_label = QLabel("", objectName="scoresErrorLabel")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.status_label = QLabel("idle", objectName="scoresStatusLabel")
        self.status_label.setWordWrap(True)
        layout.addWidget(source_group)
        layout.addWidget(options_group)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        return scrolled_controls(box)

    def _build_views(self) -> QWidget:
        self.group_box = QComboBox(objectName="scoresGroupBox")
        self.group_box.currentIndexChanged.connect(lambda _: self.draw())
        self.track_box = QSpinBox(objectName="scoresTrackBox", minimum=0, maximum=0)
        self.track_box.setToolTip("which kept sample's track the Tracks tab draws")
        self.track_box.valueChanged.connect(lambda _: self.draw())
        row = QHBoxLayout()
        row.addWidget(QLabel("temperature"))
        row.addWidget(self.group_box, 1)
        row.addWidget(QLabel("track"))
        row.addWidget(self.track_box)
        self.tabs = QTabWidget(objectName="scoresTabs")
        self.views: dict[str, QWidget] = {}
        for title, view_class in TABS:
            self._add_tab(title, view_class())
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
        export = QPushButton("Export…", objectName=f"scoresExport{safe_name(title)}")
        export.setToolTip("write every plot of this tab to PNG and SVG")
        export.clicked.connect(
            lambda _=False, t=title: self.dock.export_dialog(
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
        """List the scores runs and the runs that can be scored (keeping the choice)."""
        current = self.source_box.currentData()
        self.source_box.blockSignals(True)
        self.source_box.clear()
        for view in self.controller.score_views():
            self.source_box.addItem(
                f"{view.id}: scores of {view.source_id or '?'} ({view.mode}, {view.status})",
                f"scores:{view.id}",
            )
        for source in self.controller.sources():
            self.source_box.addItem(
                f"{source.id}: score this {source.kind} run", f"run:{source.id}"
            )
        index = self.source_box.findData(current)
        self.source_box.setCurrentIndex(index if index >= 0 else 0)
        self.source_box.blockSignals(False)
        if self.source_box.currentData() != current:
            self._on_source()
        self._sync()

    def source(self) -> tuple[str, str] | None:
        """('scores' | 'run', run id) of the chosen source, None when there is none."""
        data = self.source_box.currentData()
        return None if data is None else tuple(data.split(":", 1))

    def select_source(self, kind: str, run_id: str) -> None:
        index = self.source_box.findData(f"{kind}:{run_id}")
        if index < 0:
            raise KeyError(f"no {kind} source '{run_id}'")
        if index == self.source_box.currentIndex():
            self._on_source()  # already chosen: draw it again (it may have changed)
        else:
            self.source_box.setCurrentIndex(index)

    def show_run(self, view: ScoresRunView) -> None:
        """Show the ``scores`` run the session browser selected."""
        self.select_source("scores", view.id)

    def _on_source(self) -> None:
        source = self.source()
        if source is not None and source[0] == "scores":
            view = self.controller.score_view(source[1])
            self.source_hint.setText(
                f"{view.mode} of {view.source_id}: N = {view.n_samples}, cost {view.cost}, "
                f"solver {', '.join(view.solvers_used) or view.solver}, {view.bootstrap} "
                f"bootstrap, seed {view.seed}; {view.embedding}"
            )
            self.shown_id = view.id
            self.show_contract(view.contract, view.mode)
        elif source is not None:
            self.source_hint.setText(
                "Compute scores every map of this run (each level's or "
                "step's, or every checkpoint's equilibrium samples)"
            )
        else:
            self.source_hint.setText("no rg-flow, rg or rbm run in the session yet")
        self._sync()

    # ------------------------------------------------------------------ control
    def options(self) -> ScoreOptions:
        """The options as typed (ValueError with the field's message when invalid)."""
        return ScoreOptions(**self.form.values())

    def compute(self) -> None:
        source = self.source()
        if source is None or source[0] != "run":
            return
        try:
            self.controller.compute(source[1], self.options())
        except (ValueError, RuntimeError, KeyError) as exc:
            self.error_label.setText(str(exc))
            return
        self.error_label.setText("")
        self.shown_id = source[1]
        self._drawn = None
        self._sync()

    def _sync(self) -> None:
        busy = self.controller.running
        source = self.source()
        self.compute_button.setEnabled(
            not busy and not self.form.errors() and source is not None and source[0] == "run"
        )
        self.stop_button.setEnabled(busy)
        if busy:
            self.status_label.setText(f"scoring {self.controller.source_id}")

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Pull the live scoring's snapshot and redraw when it changed (the dock's timer)."""
        if self.controller.task is None or self.shown_id != self.controller.source_id:
            return
        snapshot = self.controller.latest()
        if snapshot is None or snapshot is self._drawn or snapshot.done == 0:
            return
        self._drawn = snapshot
        last = snapshot.lines[-1] if snapshot.lines else ""
        self.status_label.setText(f"{snapshot.done} of {snapshot.total} step(s): {last}")
        self.show_contract(snapshot.contract, snapshot.mode)

    def show_contract(self, contract: dict, mode: str) -> None:
        """Draw a dict of a ``scores`` run (a run's arrays or a live snapshot's)."""
        self.contract, self.mode = contract, mode
        labels = group_labels(contract) if mode != "training" else ["training"]
        if [self.group_box.itemText(i) for i in range(self.group_box.count())] != labels:
            self.group_box.blockSignals(True)
            self.group_box.clear()
            self.group_box.addItems(labels)
            self.group_box.blockSignals(False)
        images = contract.get("sample_images" if mode == "training" else "track_images")
        kept = 0 if images is None else int(images.shape[1 if mode == "training" else 2])
        self.track_box.blockSignals(True)
        self.track_box.setMaximum(max(kept - 1, 0))
        self.track_box.blockSignals(False)
        self.draw()

    def draw(self) -> None:
        d = self.contract
        if d is None:
            return
        group = max(self.group_box.currentIndex(), 0)
        self.views["Scores"].show_data(d, self.mode, group)
        self.views["Distribution"].show_data(d, self.mode, group)
        self.views["Tracks"].show_track(d, self.mode, group, self.track_box.value())

    # ------------------------------------------------------------------ export
    def export_tab(self, title: str, folder: Path) -> list[Path]:
        """Write every plot of tab ``title`` to ``folder`` as PNG and SVG; returns the files."""
        run = self.shown_id or "none"
        if self.controller.running and self.shown_id == self.controller.source_id:
            run = f"{self.shown_id} (live scores, not yet a run)"
        return export_views(
            self.views[title].plots,
            folder,
            self.shown_id or "scores",
            self.session,
            run,
            f"Monge Lab geometry dock, Wasserstein scores, tab {title}",
        )

    # ------------------------------------------------------------------ session
    def _on_run_made(self, run_id: str) -> None:
        self.refresh_sources()
        self.select_source("scores", run_id)
        self.status_label.setText(f"{run_id} added to the session")

    def _on_reloaded(self) -> None:
        self.contract = None
        self.shown_id = ""
        self._drawn = None
        self.refresh_sources()
