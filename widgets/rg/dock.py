"""The RG comparator dock: block spins and an RBM's hidden layer side by side, and the RG flow.

A thin view of :class:`lab.rg.controller.RGController`. The left column picks a set of
configurations (an Ising run of the session with recorded samples), the methods (majority,
decimation, and the RBM rule, offered only when an ``rbm`` run with n = L² and m = (L/b)² exists),
the block size b, the number of levels and the seed; b and the levels are checked as typed (the
message appears under the field) and "Coarse-grain" stays disabled while anything is invalid.
Coarse-graining runs in a worker job and adds one ``rg`` run per method to the session.

The views compare the newest rg run of each (method, b) made from the chosen Ising run (an
older one picked in the session browser takes its place): one configuration (slider) as the
original lattice, every block-spin level, the RBM's hidden layer drawn as a lattice and its
reconstruction ⟨v|h⟩; the RBM's receptive fields with their centres and block shares; P(m) per
level; C(r) in original spacings; a table of per-level observables; and the flow T → T′ of every
``rg-flow`` run of the session. Everything follows the session (runs added by other docks, by
File > Open).

Runs are read only through their views (:mod:`lab.rg.runs`), which the controller's queries
return; the dock skeleton (timer, error label, export dialog) is
:class:`widgets.common.dock.FeatureDock`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from lab.core.views import RunView
from lab.ising.runs import IsingRunView
from lab.rg.controller import RULE_ORDER, RGController
from lab.rg.runs import RGRunView, matched_shares
from lab.rg.settings import BLOCK, LEVELS, block_setting
from widgets.common.dock import FeatureDock
from widgets.common.number_field import NumberField
from widgets.common.plot_export import export_views
from widgets.common.scrolled import scrolled_controls
from widgets.rg.plots import (
    CentredFieldsView,
    CorrelationPlot,
    FlowDiagram,
    LatticeStrip,
    MagnetizationHistograms,
    ObservablesTable,
    Panel,
    Series,
    method_label,
    observable_rows,
)

FRAME_HZ = 10
HINT_STYLE = "color: gray;"


class RGDock(FeatureDock):
    """Coarse-grain Ising configurations by several rules and compare the levels and flows."""

    refresh_hz = FRAME_HZ
    controller: RGController

    def __init__(self, controller: RGController, parent: QWidget | None = None) -> None:
        super().__init__(
            "RG comparator", "rgDock", controller, parent, error_label_name="rgErrorLabel"
        )
        self.session = controller.session
        self._valid = False
        self._generation = 0  # bumped by File > Open: the same ids may hold other runs
        self._data_key: tuple = ()
        self._comparison_key: tuple = ()
        self._flow_key: tuple = ()
        self._pins: dict[tuple[str, int], str] = {}  # (rule, b) → an older rg run to show
        self.compared: list[RGRunView] = []

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_controls())
        splitter.addWidget(self._build_views())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([splitter.widget(0).minimumWidth(), 1000])
        self.setWidget(splitter)

        controller.stateChanged.connect(self._sync_buttons)
        controller.failed.connect(
            lambda msg: self.status_label.setText(f"coarse-graining failed: {msg}")
        )
        controller.runsMade.connect(self._on_runs_made)
        controller.reconstructionReady.connect(lambda _: self.refresh_comparison())
        self.session.runAdded.connect(self._on_run_added)
        self.session.runChanged.connect(lambda _: self.refresh_all())
        self.session.reloaded.connect(self._on_reloaded)
        self.start_refresh()
        self.refresh_all()

    # ------------------------------------------------------------------ building
    def _build_controls(self) -> QWidget:
        box = QWidget(objectName="rgControls")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)

        data_group = QGroupBox("Configurations: an Ising run")
        data_layout = QVBoxLayout(data_group)
        self.data_box = QComboBox(objectName="rgDataBox")
        self.data_box.currentIndexChanged.connect(lambda _: self._on_data_chosen())
        self.data_summary = QLabel("", objectName="rgDataSummary")
        self.data_summary.setWordWrap(True)
        self.data_summary.setStyleSheet(HINT_STYLE)
        data_layout.addWidget(self.data_box)
        data_layout.addWidget(self.data_summary)

        method_group = QGroupBox("Methods")
        method_layout = QGridLayout(method_group)
        self.majority_box = QCheckBox("majority rule", objectName="rgMajorityBox")
        self.majority_box.setChecked(True)
        self.decimation_box = QCheckBox("decimation", objectName="rgDecimationBox")
        self.decimation_box.setChecked(True)
        self.rbm_box = QCheckBox("RBM hidden layer", objectName="rgRbmBox")
        self.rbm_box.setToolTip("an RBM's hidden units matched to the b×b blocks (one level)")
        self.rbm_run_box = QComboBox(objectName="rgRbmRunBox")
        self.rbm_hint = QLabel("", objectName="rgRbmHint")
        self.rbm_hint.setWordWrap(True)
        self.rbm_hint.setStyleSheet(HINT_STYLE)
        method_layout.addWidget(self.majority_box, 0, 0, 1, 2)
        method_layout.addWidget(self.decimation_box, 1, 0, 1, 2)
        method_layout.addWidget(self.rbm_box, 2, 0, 1, 2)
        method_layout.addWidget(self.rbm_run_box, 3, 1)
        method_layout.addWidget(self.rbm_hint, 4, 0, 1, 2)
        method_layout.setColumnMinimumWidth(0, 16)
        method_layout.setColumnStretch(1, 1)

        steps_group = QGroupBox("Blocks")
        steps_layout = QGridLayout(steps_group)
        self.block_field = NumberField(BLOCK, BLOCK.default, "rgBlockEdit")
        self.levels_field = NumberField(LEVELS, LEVELS.default, "rgLevelsEdit")
        self.levels_field.edit.setToolTip(LEVELS.help)
        self.seed_box = QSpinBox(objectName="rgSeedBox", minimum=0, maximum=2**31 - 1)
        self.seed_box.setToolTip("majority tie-breaks and the RBM's hidden samples")
        for row, (label, widget) in enumerate(
            (("block b", self.block_field), ("levels", self.levels_field), ("seed", self.seed_box))
        ):
            steps_layout.addWidget(
                QLabel(label),
                row,
                0,
                alignment=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            )
            steps_layout.addWidget(widget, row, 1, alignment=Qt.AlignmentFlag.AlignTop)
        steps_layout.setColumnStretch(1, 1)

        for field in (self.block_field, self.levels_field):
            field.changed.connect(self._validate)
        for check in (self.majority_box, self.decimation_box, self.rbm_box):
            check.toggled.connect(lambda _: self._validate())

        self.coarse_button = QPushButton("Coarse-grain", objectName="rgCoarseGrainButton")
        self.coarse_button.clicked.connect(self.coarse_grain)
        self.stop_button = QPushButton("Stop", objectName="rgStopButton")
        self.stop_button.clicked.connect(self.controller.stop)
        self.export_button = QPushButton("Export plots…", objectName="rgExportButton")
        self.export_button.clicked.connect(
            lambda: self.export_dialog("Export the RG plots", self.export_plots)
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.coarse_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.export_button)
        self.status_label = QLabel("idle", objectName="rgStatusLabel")
        self.status_label.setWordWrap(True)

        shown_group = QGroupBox("Configuration shown")
        shown_layout = QGridLayout(shown_group)
        self.sample_slider = QSlider(Qt.Orientation.Horizontal, objectName="rgSampleSlider")
        self.sample_box = QSpinBox(objectName="rgSampleBox")
        self.sample_slider.valueChanged.connect(self.sample_box.setValue)
        self.sample_box.valueChanged.connect(self.sample_slider.setValue)
        self.sample_box.valueChanged.connect(self._show_sample)
        self.compared_label = QLabel("", objectName="rgComparedLabel")
        self.compared_label.setWordWrap(True)
        self.compared_label.setStyleSheet(HINT_STYLE)
        shown_layout.addWidget(QLabel("sample"), 0, 0)
        shown_layout.addWidget(self.sample_box, 0, 1)
        shown_layout.addWidget(self.sample_slider, 1, 0, 1, 2)
        shown_layout.addWidget(self.compared_label, 2, 0, 1, 2)

        for widget in (data_group, method_group, steps_group):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.status_label)
        layout.addWidget(shown_group)
        layout.addStretch(1)
        return scrolled_controls(box)

    def export_plots(self, folder: Path) -> list[Path]:
        """Write every view shown (lattices, receptive fields, P(m), C(r), flow diagram) as PNG
        and SVG into ``folder``, with the session and the compared runs' ids in the metadata;
        returns the files written."""
        runs = ", ".join(r.id for r in self.compared) or "none"
        views = {}
        for group in (self.strip, self.fields_view, self.histograms, self.correlations, self.flow):
            views.update(group.plots)
        return export_views(
            views,
            folder,
            self.compared[0].id if self.compared else "rg",
            self.controller.session,
            runs,
            "Monge Lab RG comparator",
        )

    def _build_views(self) -> QWidget:
        self.strip = LatticeStrip()
        self.fields_view = CentredFieldsView()
        self.fields_label = QLabel("", objectName="rgFieldsLabel")
        self.fields_label.setWordWrap(True)
        self.hover_label = QLabel("", objectName="rgHoverLabel")
        self.hover_label.setStyleSheet(HINT_STYLE)
        self.fields_view.hovered.connect(self.hover_label.setText)
        fields_box = QWidget()
        fields_layout = QVBoxLayout(fields_box)
        fields_layout.setContentsMargins(0, 0, 0, 0)
        fields_layout.addWidget(self.fields_label)
        fields_layout.addWidget(self.fields_view, 1)
        fields_layout.addWidget(self.hover_label)
        self.histograms = MagnetizationHistograms()
        self.correlations = CorrelationPlot()
        self.table = ObservablesTable()
        self.flow = FlowDiagram()

        middle = QSplitter(Qt.Orientation.Horizontal)
        for widget in (fields_box, self.histograms, self.correlations):
            middle.addWidget(widget)
        middle.setSizes([300, 300, 300])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.table)
        bottom.addWidget(self.flow)
        bottom.setSizes([600, 400])
        main = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.strip, middle, bottom):
            main.addWidget(widget)
        main.setSizes([220, 300, 430])
        return main

    # ------------------------------------------------------------------ values
    def data_id(self) -> str | None:
        """The id of the chosen Ising run (None when the session has none)."""
        return self.data_box.currentData()

    def _data_size(self) -> int | None:
        data_id = self.data_id()
        if data_id is None:
            return None
        return self.controller.data_run(data_id).size

    def _levels(self) -> int | None:
        try:
            return int(self.levels_field.parse())
        except ValueError:
            return None

    def block(self) -> int:
        return int(self.block_field.parse())

    def rules(self) -> list[str]:
        """The checked methods, in the order majority, decimation, rbm."""
        checked = {
            "majority": self.majority_box,
            "decimation": self.decimation_box,
            "rbm": self.rbm_box,
        }
        return [
            rule for rule in RULE_ORDER if checked[rule].isChecked() and checked[rule].isEnabled()
        ]

    # ------------------------------------------------------------------ validation
    def _validate(self) -> bool:
        """Check b and the levels against L, offer the fitting RBMs; enable Coarse-grain."""
        size, levels = self._data_size(), self._levels()
        self.block_field.setting = block_setting(size, levels)  # b^levels must divide L
        errors = [self.levels_field.error(), self.block_field.error()]
        block = None if errors[1] else self.block()
        self._offer_rbms(size, block)
        problem = ""
        if size is None:
            problem = "no configurations to coarse-grain"
        elif not self.rules():
            problem = "choose at least one method"
        self._valid = not any(errors) and not problem
        if not any(errors):
            self.show_error(problem if size is not None else "")
        self._sync_buttons()
        return self._valid

    def _offer_rbms(self, size: int | None, block: int | None) -> None:
        """List the rbm runs that fit L and b; the RBM method is enabled only with one."""
        fitting = (
            [] if size is None or block is None else self.controller.rbm_candidates(size, block)
        )
        ids = [r.id for r in fitting]
        current = self.rbm_run_box.currentData()
        if ids != [self.rbm_run_box.itemData(i) for i in range(self.rbm_run_box.count())]:
            self.rbm_run_box.blockSignals(True)
            self.rbm_run_box.clear()
            for run in fitting:
                self.rbm_run_box.addItem(f"{run.id} (m = {run.n_hidden})", run.id)
            if current in ids:
                self.rbm_run_box.setCurrentIndex(ids.index(current))
            self.rbm_run_box.blockSignals(False)
        self.rbm_box.setEnabled(bool(ids))
        self.rbm_run_box.setEnabled(bool(ids))
        if ids or size is None or block is None:
            self.rbm_hint.setText("")
        else:
            self.rbm_hint.setText(
                f"RBM: needs an rbm run with n = {size * size} visible and "
                f"m = {(size // block) ** 2} hidden units (train one on "
                f"L = {size} data with --hidden {(size // block) ** 2})"
                if size % block == 0
                else ""
            )

    # ------------------------------------------------------------------ actions
    def coarse_grain(self) -> None:
        """Coarse-grain the chosen run with every checked method (in a worker job)."""
        if not self._validate():
            return
        rbm_id = self.rbm_run_box.currentData() if "rbm" in self.rules() else None
        try:
            self.controller.start(
                self.data_id(),
                self.rules(),
                self.block(),
                int(self.levels_field.parse()),
                self.seed_box.value(),
                rbm_id,
            )
        except (ValueError, RuntimeError) as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        self.status_label.setText("coarse-graining…")

    def _sync_buttons(self, *_: object) -> None:
        live = self.controller.running
        for widget in (
            self.data_box,
            self.majority_box,
            self.decimation_box,
            self.block_field,
            self.levels_field,
            self.seed_box,
        ):
            widget.setEnabled(not live)
        self.rbm_box.setEnabled(not live and self.rbm_run_box.count() > 0)
        self.rbm_run_box.setEnabled(not live and self.rbm_run_box.count() > 0)
        self.coarse_button.setEnabled(not live and self._valid)
        self.stop_button.setEnabled(live)

    def refresh(self) -> None:
        """Pull the job's progress (at FRAME_HZ) while it runs."""
        snapshot = self.controller.snapshot()
        if self.controller.running and snapshot is not None and snapshot.current:
            self.status_label.setText(
                f"coarse-graining: {snapshot.done} of {snapshot.total} "
                f"methods done, now {snapshot.current}"
            )

    def _on_runs_made(self, ids: list[str]) -> None:
        state = self.controller.state
        error = self.controller.job.error if self.controller.job is not None else ""
        self.status_label.setText(
            f"{state}: added {', '.join(ids) or 'no run'}" + (f" ({error})" if error else "")
        )
        self._sync_buttons()

    # ------------------------------------------------------------------ session
    def _on_run_added(self, run_id: str) -> None:
        view = self.controller.rg_run(run_id)
        if view is not None:
            self._pins.pop((view.rule, view.block), None)
        self.refresh_all()

    def _on_reloaded(self) -> None:
        self._generation += 1
        self._pins.clear()
        self.refresh_all()

    def refresh_all(self) -> None:
        """Follow the session: the data list, the fitting RBMs, the comparison, the flow."""
        self.refresh_data()
        self._validate()
        self.refresh_comparison()
        self.refresh_flow()

    def refresh_data(self) -> None:
        """Rebuild the list of Ising runs (keeping the chosen one) when it changed."""
        candidates = self.controller.data_candidates()
        rows = tuple((v.id, v.count, v.size, v.temperature) for v in candidates)
        key = (self._generation, rows)
        if key == self._data_key:
            return
        self._data_key = key
        current = self.data_id()
        self.data_box.blockSignals(True)
        self.data_box.clear()
        for run_id, count, size, temperature in rows:
            self.data_box.addItem(f"{run_id}  L = {size}  T = {temperature:.4g}  ({count})", run_id)
        ids = [row[0] for row in rows]
        if current in ids:
            self.data_box.setCurrentIndex(ids.index(current))
        self.data_box.blockSignals(False)
        self._on_data_chosen()

    def select_data(self, data_id: str) -> None:
        """Choose an Ising run as the configurations (if it is one of the candidates)."""
        index = self.data_box.findData(data_id)
        if index >= 0:
            self.data_box.setCurrentIndex(index)

    def _on_data_chosen(self) -> None:
        data_id = self.data_id()
        if data_id is None:
            self.data_summary.setText(
                "no Ising run with recorded configurations: record one "
                "in the Ising lattice dock or run 'main.py simulate'"
            )
            self.sample_box.setRange(0, 0)
            self.sample_slider.setRange(0, 0)
        else:
            data = self.controller.data_run(data_id)
            count, size, algorithm = data.count, data.size, data.algorithm
            self.data_summary.setText(
                f"{count} configurations of {size}×{size}, "
                f"T = {data.temperature:.4g}"
                f"{', ' + algorithm if algorithm else ''}"
            )
            self.sample_box.setRange(0, count - 1)
            self.sample_slider.setRange(0, count - 1)
        self._validate()
        self.refresh_comparison()

    # ------------------------------------------------------------------ comparison
    def comparison(self) -> list[RGRunView]:
        """The rg runs shown: per (method, b), the newest made from the chosen run, or the
        one picked in the session browser; ordered majority, decimation, rbm, then by b."""
        data_id = self.data_id()
        if data_id is None:
            return []
        chosen: dict[tuple[str, int], RGRunView] = {}
        for run in self.controller.rg_runs_of(data_id):
            chosen[(run.rule, run.block)] = run
        for key, run_id in self._pins.items():
            run = self.controller.rg_run(run_id)
            if run is not None and run.data_id == data_id:
                chosen[key] = run
        order = {rule: i for i, rule in enumerate(RULE_ORDER)}
        return sorted(chosen.values(), key=lambda r: (order.get(r.rule, 9), r.block))

    def refresh_comparison(self) -> None:
        """Redraw the lattices, fields, histograms, C(r) and table when what is shown changed."""
        runs = self.comparison()
        reconstructions = {
            r.id: self.controller.reconstruction(r.id) for r in runs if r.rbm_id is not None
        }
        key = (
            self._generation,
            self.data_id(),
            tuple(r.id for r in runs),
            tuple(k for k, v in reconstructions.items() if v is not None),
        )
        if key == self._comparison_key:
            return
        self._comparison_key = key
        self.compared = runs
        data_id = self.data_id()
        if data_id is None:
            self.strip.set_panels([])
            self.histograms.show_levels([])
            self.correlations.show_levels([])
            self.table.show_rows([])
            self._show_fields(None)
            self.compared_label.setText("")
            return
        data = self.controller.data_run(data_id)
        self.strip.set_panels(self._panels(data, runs, reconstructions))
        self._show_sample(self.sample_box.value())
        self.histograms.show_levels(self._level_samples(data, runs))
        self.correlations.show_levels(self._correlations(data, runs))
        self.table.show_rows(observable_rows(data, runs))
        self._show_fields(next((r for r in runs if r.rbm_id is not None), None))
        self.compared_label.setText(
            "compared: " + ", ".join(f"{r.id} ({method_label(r)})" for r in runs)
            if runs
            else "no rg run of this Ising run yet: press Coarse-grain"
        )

    def _panels(
        self,
        data: IsingRunView,
        runs: list[RGRunView],
        reconstructions: dict[str, np.ndarray | None],
    ) -> list[Panel]:
        size = data.size
        panels = [
            Panel(
                "original",
                f"<b>original</b><br>{size}×{size}, T = {data.temperature:.4g}",
                data.samples,
            )
        ]
        for run in runs:
            rule = run.rule
            for level in run.levels:
                frames = level.samples
                if frames is None:
                    continue
                what = {"rbm": "RBM hidden", "rbm-flow": "RBM v′ step"}.get(rule, rule)
                k = level.index
                panels.append(
                    Panel(
                        f"{run.id}/{k}",
                        f"<b>{what} {k}</b><br>{frames.shape[1]}×{frames.shape[2]}, {run.id}",
                        frames,
                    )
                )
            recon = reconstructions.get(run.id)
            if recon is not None:
                panels.append(
                    Panel(
                        f"{run.id}/reconstruction",
                        f"<b>⟨v|h⟩ = tanh(a+Wh)</b><br>{size}×{size}, {run.rbm_id}",
                        recon,
                        mean=True,
                    )
                )
        return panels

    def _show_sample(self, index: int) -> None:
        self.strip.show_sample(index)

    @staticmethod
    def _series(run: RGRunView, k: int) -> Series:
        return Series(f"{method_label(run)}, level {k}", run.rule, k)

    def _level_samples(
        self, data: IsingRunView, runs: list[RGRunView]
    ) -> list[tuple[Series, np.ndarray]]:
        out = [(Series("original", "original", 0), data.samples)]
        for run in runs:
            for level in run.levels:
                if level.samples is not None:
                    out.append((self._series(run, level.index), level.samples))
        return out

    def _correlations(self, data: IsingRunView, runs: list[RGRunView]) -> list[tuple]:
        out = []
        original = data.correlation
        if original is not None:
            out.append((Series("original", "original", 0), original.r, original.C, original.error))
        for run in runs:
            for level in run.levels:
                found = level.correlation
                if found is not None:
                    out.append((self._series(run, level.index), found.r, found.C, found.error))
        return out

    def _show_fields(self, run: RGRunView | None) -> None:
        """The receptive fields of the RBM behind an rbm rg run, centres and block shares."""
        rbm_id = None if run is None else run.rbm_id
        rbm = self.controller.rbm_run(rbm_id)
        found = None if run is None else run.locality
        if rbm is None or rbm.weights is None or found is None:
            self.fields_view.clear_fields()
            self.fields_label.setText(
                "<b>Receptive fields</b>: no RBM coarse-graining of these configurations"
            )
            return
        size, block = run.size, run.block
        shares = np.asarray(found.block_share, dtype=float)
        self.fields_view.set_centred_fields(
            np.asarray(rbm.weights), rbm.hidden_bias, size, found.centre, shares
        )
        matched = matched_shares(np.asarray(rbm.weights), size, block)
        matched_text = (
            ""
            if matched is None
            else f"matched share mean {matched['mean']:.2f}, min {matched['min']:.2f} (units "
            f"matched one to one to the blocks; {int(matched['distinct'])} distinct best "
            "blocks); "
        )
        self.fields_label.setText(
            f"<b>Receptive fields</b> of {rbm_id} (+ centre); {matched_text}best-block share "
            f"mean {np.nanmean(shares):.2f}, min {np.nanmin(shares):.2f} (1: one {block}×{block} "
            f"block; {block * block / size**2:.2f}: spread evenly)"
        )

    # ------------------------------------------------------------------ flow
    def refresh_flow(self) -> None:
        flows = self.controller.flow_runs()
        key = (self._generation, tuple((r.id, r.status, r.temperatures.size) for r in flows))
        if key != self._flow_key:
            self._flow_key = key
            self.flow.show_flows(flows)

    # ------------------------------------------------------------------ session browser
    def show_run(self, view: RunView) -> None:
        """Show an rg run (its Ising run, with it in its method's place) or an Ising run."""
        if isinstance(view, RGRunView):
            self._pins[(view.rule, view.block)] = view.id
            self.select_data(view.data_id)
            self.refresh_comparison()
        elif view.run_kind == "ising":
            self.select_data(view.id)
