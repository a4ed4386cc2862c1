"""The RG comparator's views: lattices side by side, m histograms, C(r), observables, the flow.

- :class:`LatticeStrip`: one configuration and its coarse-grained images side by side, every
  one a :class:`widgets.common.lattice_view.LatticeView` (the spin LUT); the RBM's reconstruction
  ⟨v|h⟩ ∈ (−1, 1) is drawn by :class:`MeanLatticeView` on a 256-step ramp between the same two
  spin colours, so a certain +1 looks like a +1 spin and 0 lies halfway.
- :class:`CentredFieldsView`: the receptive-field mosaic of ``widgets.common.weight_grid`` (units in
  index order) with each unit's centre (the circular mean of |w| on the torus) marked.
- :class:`MagnetizationHistograms`: the distribution of m = (1/L′²) Σ s per level.
- :class:`CorrelationPlot`: C(r) against r in spacings of the *original* lattice (rg runs store
  r·b^level), so a level's curve lands on the original one where block spins are faithful.
- :class:`ObservablesTable`: L′, e, |m|, U₄, T_eff (energy-matched), T_U (Binder-matched), ±1σ.
- :class:`FlowDiagram`: T′ against T for every level of every ``rg-flow`` run, energy-matched
  (filled circles) and Binder-matched (open squares), the diagonal T′ = T and the fixed point
  T_c = 2/ln(1+√2) marked on both axes.

They take the runs' read-only views (:mod:`lab.rg.runs`: ``RGRunView``, ``RGFlowRunView``,
``IsingRunView``) or plain arrays, never the stored runs.

Graphics items and lattice views are created on demand and then reused, never removed or
deleted: a Qt object dropped by Python can be collected by the cyclic garbage collector in
whatever thread happens to trigger it — a worker's — and destroying Qt objects (their timers)
outside the GUI thread crashes. For the same reason the legends are coloured rich text in a
QLabel rather than pyqtgraph LegendItems, which rebuild their entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.ising.runs import IsingRunView
from lab.rg.runs import T_C, RGFlowRunView, RGRunView
from widgets.common.lattice_view import SPIN_LUT, LatticeView
from widgets.common.weight_grid import SORT_KEYS, ReceptiveFieldsView

RULE_COLOURS = {
    "original": "#e5e5e5",
    "majority": "#f4d03f",
    "decimation": "#5dade2",
    "rbm": "#58d68d",
    "rbm-flow": "#c39bd3",
}
LEVEL_STYLES = (
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.SolidLine,
    Qt.PenStyle.DashLine,
    Qt.PenStyle.DotLine,
    Qt.PenStyle.DashDotLine,
)
GUIDE_PEN = pg.mkPen((150, 150, 150), style=Qt.PenStyle.DashLine)
MEAN_LUT = np.round(
    SPIN_LUT[0] + np.linspace(0.0, 1.0, 256)[:, None] * (SPIN_LUT[1].astype(float) - SPIN_LUT[0])
).astype(np.uint8)
HISTOGRAM_BINS_MAX = 41
TABLE_COLUMNS = ("run", "method", "level", "L′", "e", "|m|", "U₄", "T_eff (e)", "T_U (U₄)")


def level_pen(rule: str, level: int, width: float = 2.0) -> pg.QtGui.QPen:
    """The pen of one (rule, level) curve: the rule's colour, the level's dash pattern."""
    style = LEVEL_STYLES[min(level, len(LEVEL_STYLES) - 1)]
    return pg.mkPen(RULE_COLOURS.get(rule, "#ffffff"), width=width, style=style)


def mean_to_index(values: np.ndarray) -> np.ndarray:
    """uint8 index 0…255 of values in [−1, 1] on :data:`MEAN_LUT` (−1 → 0, +1 → 255)."""
    scaled = np.rint((np.clip(values, -1.0, 1.0) + 1.0) * 127.5)
    return scaled.astype(np.uint8)


def magnetization_histogram(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bin edges, probability density) of m per configuration of (N, L, L) ±1 samples.

    m takes the L² + 1 values −1, −1 + 2/L², …, 1; while there are at most
    ``HISTOGRAM_BINS_MAX`` of them every value has its own bin (centred on it), beyond that
    ``HISTOGRAM_BINS_MAX`` equal bins cover [−1, 1] with half a bin to spare on each side. The
    density integrates to 1 (Σ density · width = 1).
    """
    n, L = samples.shape[0], samples.shape[1]
    m = samples.reshape(n, -1).mean(axis=1, dtype=np.float64)
    count = min(L * L + 1, HISTOGRAM_BINS_MAX)
    half = 1.0 / (count - 1)
    edges = np.linspace(-1.0 - half, 1.0 + half, count + 1)
    density, _ = np.histogram(m, bins=edges, density=True)
    return edges, density


@dataclass
class Panel:
    """One lattice of the strip: ``frames`` (N, L′, L′), int8 spins or float means in [−1, 1]."""

    key: str
    title: str
    frames: np.ndarray
    mean: bool = False


class MeanLatticeView(LatticeView):
    """A lattice of spins, or of real values in [−1, 1] (mean spins) on the ramp between the
    spin colours."""

    def set_spins(self, spins: np.ndarray) -> None:
        self.image.setLookupTable(SPIN_LUT)
        super().set_spins(spins)

    def set_means(self, values: np.ndarray) -> None:
        """Draw an (L, L) array of mean spins."""
        self.image.setLookupTable(MEAN_LUT)
        self.image.setImage(mean_to_index(values), autoLevels=False, levels=(0, 255))
        if values.shape != self._shape:
            self._shape = values.shape
            self.viewbox.autoRange(padding=0.0)
        self.frames_drawn += 1


class LatticeStrip(QWidget):
    """Lattices side by side, each titled; all show the same configuration index.

    Slots (a title and a view) are added when more panels are needed and hidden when fewer are.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rgLatticeStrip")
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.grid.setRowStretch(1, 1)
        self.panels: list[Panel] = []
        self.slots: list[tuple[QLabel, MeanLatticeView]] = []
        self.views: dict[str, MeanLatticeView] = {}
        self.index = 0

    def _slot(self, col: int) -> tuple[QLabel, MeanLatticeView]:
        while len(self.slots) <= col:
            i = len(self.slots)
            title = QLabel(objectName=f"rgPanelTitle_{i}")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title.setWordWrap(True)
            title.setStyleSheet("font-size: small;")
            view = MeanLatticeView()
            view.setObjectName(f"rgPanel_{i}")
            view.setMinimumSize(90, 90)
            self.grid.addWidget(title, 0, i)
            self.grid.addWidget(view, 1, i)
            self.slots.append((title, view))
        return self.slots[col]

    def set_panels(self, panels: list[Panel]) -> None:
        """Show these panels, in order, at the current configuration index."""
        self.panels = list(panels)
        self.views = {}
        for col, panel in enumerate(panels):
            title, view = self._slot(col)
            title.setText(panel.title)
            self.views[panel.key] = view
        for col, (title, view) in enumerate(self.slots):
            shown = col < len(panels)
            title.setVisible(shown)
            view.setVisible(shown)
            self.grid.setColumnStretch(col, 1 if shown else 0)
        self.show_sample(self.index)

    @property
    def plots(self) -> dict[str, pg.GraphicsView]:
        """The lattice views shown, by panel key, for export (``widgets.common.plot_export``)."""
        return dict(self.views)

    def show_sample(self, index: int) -> None:
        """Draw configuration ``index`` in every panel."""
        self.index = index
        for panel in self.panels:
            if not 0 <= index < panel.frames.shape[0]:
                continue
            view = self.views[panel.key]
            if panel.mean:
                view.set_means(panel.frames[index])
            else:
                view.set_spins(panel.frames[index])


class CentredFieldsView(ReceptiveFieldsView):
    """Receptive fields in unit order, each unit's centre marked by a cross; hover says its
    centre and block share."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("rgFieldsView")
        self.centres_item = pg.ScatterPlotItem(
            symbol="+", size=11, pen=pg.mkPen("k", width=2), brush=None
        )
        self.viewbox.addItem(self.centres_item)
        self.centres = np.zeros((0, 2))
        self.shares = np.zeros(0)
        self.plots: dict[str, pg.GraphicsView] = {"rgReceptiveFields": self}  # for export

    def set_centred_fields(
        self,
        W: np.ndarray,
        b: np.ndarray | None,
        size: int,
        centres: np.ndarray,
        shares: np.ndarray,
    ) -> None:
        """Draw W's columns as L×L tiles in unit order with the (m, 2) centres (row, col)."""
        self.set_fields(W, b, size, SORT_KEYS[0])
        self.centres, self.shares = np.asarray(centres, float), np.asarray(shares, float)
        self.centres_item.setData(pos=self.centre_positions())

    def centre_positions(self) -> np.ndarray:
        """(m, 2) image coordinates (x, y) of the centres: tile origin + (col, row) + ½ (a
        lattice site (r, c) is the pixel [c, c+1) × [r, r+1))."""
        m = self.centres.shape[0]
        if m == 0:
            return np.zeros((0, 2))
        tile_row, tile_col = np.divmod(np.arange(m), self.cols)
        step = self.tile_size + 1
        x = tile_col * step + self.centres[:, 1] + 0.5
        y = tile_row * step + self.centres[:, 0] + 0.5
        keep = np.isfinite(x) & np.isfinite(y)
        return np.stack([x[keep], y[keep]], axis=1)

    def clear_fields(self) -> None:
        super().clear_fields()
        self.centres, self.shares = np.zeros((0, 2)), np.zeros(0)
        self.centres_item.setData(pos=np.zeros((0, 2)))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        unit = self.unit_at(self.image.mapFromScene(scene_pos))
        if unit is None or unit >= self.shares.size:
            self.hovered.emit("")
            return
        row, col = self.centres[unit]
        self.hovered.emit(
            f"unit {unit}: centre (row {row:.2f}, col {col:.2f}), block share "
            f"{self.shares[unit]:.3f}, ‖W‖ = {np.linalg.norm(self.W[:, unit]):.3f}"
        )


def _plot(title: str, bottom: str, left: str) -> pg.PlotWidget:
    """A plot with axis labels (no SI prefixes: the values are dimensionless)."""
    plot = pg.PlotWidget(title=title)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    for axis in ("bottom", "left"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    plot.getPlotItem().titleLabel.setMaximumHeight(22)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setMinimumSize(160, 120)
    return plot


@dataclass
class Series:
    """One curve of a level: its label, the rule (colour) and the level (dash pattern)."""

    label: str
    rule: str
    level: int


def legend_html(series: list[Series]) -> str:
    """The series as coloured text, level 1 (and the original) '—', level 2 '– –', 3+ '···'."""
    marks = {0: "—", 1: "—", 2: "– –"}
    return " &nbsp;".join(
        f"<span style='color:{RULE_COLOURS.get(s.rule, '#ffffff')}'>{marks.get(s.level, '···')}"
        f" {s.label}</span>"
        for s in series
    )


class CurvePool:
    """The curves (and error bars) of one plot, added when needed and hidden when not."""

    def __init__(self, plot: pg.PlotWidget, bars: bool, **curve_options) -> None:
        self.plot, self.with_bars, self.options = plot, bars, curve_options
        self.curves: list[pg.PlotDataItem] = []
        self.bars: list[pg.ErrorBarItem] = []

    def use(self, count: int) -> list[tuple[pg.PlotDataItem, pg.ErrorBarItem | None]]:
        """``count`` visible (curve, bars) pairs; the others are emptied and hidden."""
        while len(self.curves) < count:
            if self.with_bars:
                bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), beam=0.0)
                self.plot.addItem(bars)
                self.bars.append(bars)
            curve = pg.PlotDataItem(**self.options)
            self.plot.addItem(curve)
            self.curves.append(curve)
        for i, curve in enumerate(self.curves):
            curve.setVisible(i < count)
            if i >= count:
                curve.setData([], [])
                if self.with_bars:
                    self.bars[i].setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
            if self.with_bars:
                self.bars[i].setVisible(i < count)
        bars = self.bars[:count] if self.with_bars else [None] * count
        return list(zip(self.curves[:count], bars, strict=True))


class _PlotWithKey(QWidget):
    """A plot with a rich-text key of its series underneath."""

    def __init__(self, name: str, plot: pg.PlotWidget) -> None:
        super().__init__()
        self.setObjectName(name)
        self.plot = plot
        self.key = QLabel("", objectName=f"{name}Key")
        self.key.setWordWrap(True)
        self.key.setStyleSheet("font-size: small; background: black; padding: 2px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.plot, 1)
        self.plots: dict[str, pg.PlotWidget] = {name: self.plot}  # for export
        layout.addWidget(self.key)


class MagnetizationHistograms(_PlotWithKey):
    """P(m) of each level, one step curve per (method, level)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("rgHistograms", _plot("P(m) per level", "m", "density"))
        self.pool = CurvePool(self.plot, bars=False, stepMode="center")
        self.curves: list[pg.PlotDataItem] = []

    def show_levels(self, levels: list[tuple[Series, np.ndarray]]) -> None:
        """Draw the histogram of m of each (series, (N, L′, L′) samples)."""
        pairs = self.pool.use(len(levels))
        for (curve, _), (series, samples) in zip(pairs, levels, strict=True):
            edges, density = magnetization_histogram(samples)
            curve.setData(
                edges, density, stepMode="center", pen=level_pen(series.rule, series.level)
            )
        self.curves = [curve for curve, _ in pairs]
        self.key.setText(legend_html([series for series, _ in levels]))


class CorrelationPlot(_PlotWithKey):
    """C(r) of each level against r in original lattice spacings, with ±1σ bars."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "rgCorrelations",
            _plot("C(r), r in original spacings", "r (original lattice spacings)", "C(r)"),
        )
        self.plot.addItem(pg.InfiniteLine(angle=0, pos=0.0, pen=GUIDE_PEN))
        self.pool = CurvePool(self.plot, bars=True)
        self.curves: list[pg.PlotDataItem] = []

    def show_levels(self, levels: list[tuple[Series, np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """Draw each (series, r, C, C_error); r is already in original spacings."""
        pairs = self.pool.use(len(levels))
        for (curve, bars), (series, r, C, error) in zip(pairs, levels, strict=True):
            r, C, error = (np.asarray(x, dtype=float) for x in (r, C, error))
            pen = level_pen(series.rule, series.level)
            bars.setData(x=r, y=C, height=2 * error, pen=pg.mkPen(pen.color()))
            curve.setData(
                r, C, pen=pen, symbol="o", symbolSize=5, symbolPen=None, symbolBrush=pen.color()
            )
        self.curves = [curve for curve, _ in pairs]
        self.key.setText(legend_html([level[0] for level in levels]))


def _cell(value: float, error: float | None = None, digits: int = 4) -> str:
    """'value(error)' with two significant digits of the error in the value's last places
    (−1.742(19) is −1.742 ± 0.019); ``digits`` decimals when there is no error."""
    if value is None or not math.isfinite(value):
        return "—"
    if error is None or not math.isfinite(error) or error <= 0:
        return f"{value:.{digits}f}"
    decimals = max(0, min(6, 1 - math.floor(math.log10(error))))
    return f"{value:.{decimals}f}({round(error * 10**decimals)})"


def observable_rows(data: IsingRunView, rg_runs: list[RGRunView]) -> list[tuple[str, ...]]:
    """The table's rows: the original configurations (level 0, at their simulated T), then
    every level of every rg run, as texts of ``TABLE_COLUMNS``."""
    estimates = data.estimates()

    def measured(name: str) -> str:
        estimate = estimates.get(name)
        return _cell(math.nan) if estimate is None else _cell(estimate.value, estimate.error)

    rows = [
        (
            data.id,
            "original",
            "0",
            str(data.size),
            *(measured(k) for k in ("e", "abs_m", "binder")),
            f"T = {_cell(data.temperature)}",
            "—",
        )
    ]
    for run in rg_runs:
        for level in run.levels:
            rows.append(
                (
                    run.id,
                    method_label(run),
                    str(level.index),
                    str(level.size),
                    *(
                        _cell(x.value, x.error)
                        for x in (
                            level.e,
                            level.abs_m,
                            level.binder,
                            level.effective_temperature,
                            level.binder_temperature,
                        )
                    ),
                )
            )
    return rows


def method_label(run: RGRunView | RGFlowRunView) -> str:
    """'majority b=2', 'RBM rbm-001 b=2', 'RBM flow rbm-001', … for an rg or rg-flow run (the
    RBMs of an rg run are the inputs after the data: one per level of a stack)."""
    rule, block = run.rule, run.block
    rbms = "+".join(run.rbm_ids) if isinstance(run, RGRunView) else ""
    if rule == "rbm":
        return f"RBM {rbms} b={block}".replace("  ", " ")
    if rule == "rbm-flow":
        return f"RBM flow v→h→v′ {rbms}".strip()
    return f"{rule} b={block}"


class ObservablesTable(QTableWidget):
    """Per-level observables with ±1σ, one row per level of each method."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(TABLE_COLUMNS), parent)
        self.setObjectName("rgObservablesTable")
        self.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)

    def show_rows(self, rows: list[tuple[str, ...]]) -> None:
        self.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(
                    "value(error): the error, one standard deviation, in the last digits"
                    if "(" in text and j >= 4
                    else ""
                )
                if j >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(i, j, item)


FLOW_KINDS = (("energy", "o"), ("Binder", "s"))


class FlowDiagram(_PlotWithKey):
    """T′ against T for each level of each ``rg-flow`` run, with T′ = T and T_c marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "rgFlowDiagram",
            _plot(
                "T → T′: ● energy-, □ Binder-matched",
                "T of the simulated lattice",
                "T′ of the coarse lattice",
            ),
        )
        self.tc_lines = (
            pg.InfiniteLine(
                angle=90, pos=T_C, pen=GUIDE_PEN, label="T_c", labelOpts={"position": 0.95}
            ),
            pg.InfiniteLine(
                angle=0, pos=T_C, pen=GUIDE_PEN, label="T_c", labelOpts={"position": 0.95}
            ),
        )
        for line in self.tc_lines:
            self.plot.addItem(line, ignoreBounds=True)
        self.diagonal = self.plot.plot(pen=pg.mkPen((200, 200, 200), width=1))
        self.pool = CurvePool(self.plot, bars=True)
        self.curves: dict[tuple[str, int, str], pg.PlotDataItem] = {}
        self.show_flows([])

    def show_flows(self, flows: list[RGFlowRunView]) -> None:
        """Draw every level of every flow run (energy and Binder matched) over the guides."""
        todo = []
        lo, hi = T_C - 0.5, T_C + 0.5
        for run in flows:
            T = np.asarray(run.temperatures, dtype=float)
            if T.size == 0:
                continue
            lo, hi = min(lo, T.min()), max(hi, T.max())
            for level in run.levels:
                todo.extend((run, level, kind) for kind in FLOW_KINDS)
        self.curves = {}
        for (curve, bars), (run, level, (kind, symbol)) in zip(
            self.pool.use(len(todo)), todo, strict=True
        ):
            T = np.asarray(level.temperatures, dtype=float)
            found = level.energy if kind == "energy" else level.binder
            values = np.asarray(found.values, dtype=float)
            errors = np.asarray(found.errors, dtype=float)
            keep = np.isfinite(values)
            pen = level_pen(run.rule, level.index, width=1.5)
            colour = pen.color()
            bars.setData(
                x=T[keep],
                y=values[keep],
                height=2 * np.nan_to_num(errors[keep]),
                pen=pg.mkPen(colour),
            )
            curve.setData(
                T[keep],
                values[keep],
                pen=pen,
                symbol=symbol,
                symbolSize=7,
                symbolPen=pg.mkPen(colour, width=1.5),
                symbolBrush=colour if kind == "energy" else None,
            )
            self.curves[(run.id, level.index, kind)] = curve
        self.diagonal.setData([lo, hi], [lo, hi])
        series = [
            Series(f"{method_label(run)}, level {level.index}", run.rule, level.index)
            for run, level, (kind, _) in todo
            if kind == "energy"
        ]
        self.key.setText(
            legend_html(series) + " &nbsp;<span style='color:#c8c8c8'>— T′ = T</span>"
            if flows
            else "no rg-flow run in this session: python main.py rg-flow SESSION "
            "--temperatures 1.8:2.8:7 --size 16"
        )
