"""The views of the "Wasserstein scores" page, each drawn from one dict of a ``scores`` run.

A finished ``scores`` run (its view's ``contract``, :class:`lab.geometry.score_runs.
ScoresRunView`) and the live snapshot of a :class:`lab.geometry.score_task.ScoreTask` expose
the same arrays (``docs/session-format.md``, kind ``scores``; NaN where not computed yet). Each
view's ``show_data(d, mode, group)`` draws the dict ``d`` of a scoring in ``mode`` (rbm-flow,
block-spin, stack or training) with the group (temperature) ``group`` singled out:

- :class:`ScoreCurvesView`: OTS of each map k → k+1 with its bootstrap error bar, one curve per
  temperature (the chosen one thick), 1 (the optimal map) dashed; LSS and the whole map's OTS
  against temperature with their error bars. For a training: W between the model and the data
  per checkpoint (with the solver's bracket) and the steps W(μ_k, μ_k+1).
- :class:`DistributionView`: the distribution-level line shape: W(μ_k, μ_k+1) and W(μ₀, μ_k)
  against the level (or epoch), and the running ratio Σ steps / distance from the start (1 on a
  geodesic).
- :class:`TracksView`: the tracks of the kept samples as lattices side by side — the chosen
  sample at every level, embedded on the L × L lattice (spins ±1 or reconstructions in (−1, 1),
  one diverging scale), and under level k + 1 the image of its OT partner at map k (the sample
  the optimal plan pairs it with); for a training, model samples at a few checkpoints above
  their OT partners among the data.

Every view lists its plots in ``plots`` (title → PlotWidget or GraphicsLayoutWidget) for export.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QWidget

from widgets.common.weight_grid import DIVERGING

VIRIDIS = pg.colormap.get("viridis")
ONE_PEN = pg.mkPen((170, 170, 170), style=Qt.PenStyle.DashLine)
TRACK_COLUMNS_MAX = 8
COLOURS = {
    "lss": "#f4d03f",
    "ots_total": "#5dade2",
    "steps": "#e67e22",
    "start": "#58d68d",
    "to_data": "#c39bd3",
}


def _plot(title: str, x: str, y: str = "") -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.getPlotItem().titleLabel.setMaximumHeight(22)
    plot.setLabel("bottom", x)
    if y:
        plot.setLabel("left", y)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setMinimumSize(160, 120)
    plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)
    return plot


def _ticks(plot: pg.PlotWidget, labels: list[str] | None, first: int = 0) -> None:
    """Integer ticks labelled ``labels`` at first, first + 1, … (None: automatic ticks)."""
    axis = plot.getAxis("bottom")
    axis.setTicks(
        None if labels is None else [[(float(first + i), text) for i, text in enumerate(labels)]]
    )


def group_colour(index: int, count: int) -> str:
    """The colour of group ``index`` of ``count`` (viridis, dark to yellow)."""
    t = index / (count - 1) if count > 1 else 0.6
    return VIRIDIS.map(float(t), mode="qcolor").name()


def _finite(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v), v, np.nan)


def group_labels(d: dict) -> list[str]:
    """'T = 2.269' per group ('group 1', … without temperatures)."""
    T = np.asarray(d.get("temperature", np.full(1, np.nan)), dtype=np.float64)
    return [f"T = {t:.4g}" if math.isfinite(t) else f"group {i + 1}" for i, t in enumerate(T)]


class _Curves:
    """Curves and error bars of one plot, cleared and redrawn as a whole."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.items: list = []

    def clear(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items.clear()
        legend = self.plot.getPlotItem().legend
        if legend is not None:
            legend.clear()

    def curve(
        self, x, y, colour: str, name: str = "", width: float = 2.0, error=None, low=None, high=None
    ) -> None:
        x, y = np.asarray(x, dtype=np.float64), _finite(y)
        if not np.isfinite(y).any():  # nothing computed yet
            return
        item = self.plot.plot(
            x,
            y,
            pen=pg.mkPen(colour, width=width),
            name=name or None,
            connect="finite",
            symbol="o",
            symbolSize=5,
            symbolPen=None,
            symbolBrush=colour,
        )
        self.items.append(item)
        if error is not None or low is not None:
            if error is not None:
                e = np.nan_to_num(_finite(error), nan=0.0)
                top = bottom = e
            else:
                bottom = np.nan_to_num(y - _finite(low), nan=0.0)
                top = np.nan_to_num(_finite(high) - y, nan=0.0)
            keep = np.isfinite(y)
            span = float(np.ptp(x)) if x.size > 1 else 1.0
            if keep.any():
                bars = pg.ErrorBarItem(
                    x=x[keep],
                    y=y[keep],
                    top=np.abs(top[keep]),
                    bottom=np.abs(bottom[keep]),
                    beam=0.03 * (span or 1.0),
                    pen=pg.mkPen(colour, width=1),
                )
                self.plot.addItem(bars)
                self.items.append(bars)

    def one(self) -> None:
        line = pg.InfiniteLine(pos=1.0, angle=0, movable=False, pen=ONE_PEN)
        self.plot.addItem(line, ignoreBounds=True)
        self.items.append(line)


class ScoreCurvesView(QWidget):
    """OTS per map (one curve per temperature) and LSS / whole-map OTS per temperature; for a
    training, W to the data and the steps per checkpoint."""

    OTS = "OTS of each map (1 = optimal transport)"
    LSS = "LSS of the tracks and OTS of the whole map"
    TO_DATA = "W between the model's samples and the data"
    STEPS = "W between consecutive checkpoints"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.left = _plot(self.OTS, "map k → k+1", "OTS")
        self.right = _plot(self.LSS, "T (J)", "score")
        layout.addWidget(self.left, 0, 0)
        layout.addWidget(self.right, 0, 1)
        self._left, self._right = _Curves(self.left), _Curves(self.right)
        self.plots = {"per map": self.left, "per temperature": self.right}
        self.drawn: dict[str, np.ndarray] = {}

    def show_data(self, d: dict, mode: str, group: int) -> None:
        self._left.clear()
        self._right.clear()
        self.drawn = {}
        if mode == "training":
            self._training(d)
            return
        self.left.setTitle(self.OTS)
        self.right.setTitle(self.LSS)
        self.left.setLabel("left", "OTS")
        self.right.setLabel("left", "score")
        ots = np.asarray(d["ots"], dtype=np.float64)
        G, K = ots.shape
        labels = group_labels(d)
        x = np.arange(K, dtype=np.float64)
        _ticks(self.left, [f"{k}→{k + 1}" for k in range(K)])
        self.left.setLabel("bottom", "map k → k+1")
        for g in range(G):
            width = 3.0 if g == group else 1.2
            self._left.curve(
                x, ots[g], group_colour(g, G), labels[g], width, error=np.asarray(d["ots_error"])[g]
            )
        self._left.one()
        self.drawn["ots"] = ots[group]
        T = np.asarray(d["temperature"], dtype=np.float64)
        t = T if np.all(np.isfinite(T)) else np.arange(G, dtype=np.float64)
        self.right.setLabel("bottom", "T (J)" if np.all(np.isfinite(T)) else "group")
        order = np.argsort(t)
        for key, label in (("lss", "LSS (mean over tracks)"), ("ots_total", "OTS of x⁰ → x^K")):
            values = np.asarray(d[key], dtype=np.float64)
            errors = np.asarray(d[f"{key}_error"], dtype=np.float64)
            self._right.curve(t[order], values[order], COLOURS[key], label, error=errors[order])
            self.drawn[key] = values
        self._right.one()

    def _training(self, d: dict) -> None:
        self.left.setTitle(self.TO_DATA)
        self.right.setTitle(self.STEPS)
        self.left.setLabel("left", "W")
        self.right.setLabel("left", "W")
        epochs = np.asarray(d["epoch"], dtype=np.float64)
        _ticks(self.left, None)
        self.left.setLabel("bottom", "epoch")
        self.right.setLabel("bottom", "epoch")
        to_data = np.asarray(d["to_data"], dtype=np.float64)
        self._left.curve(
            epochs,
            to_data,
            COLOURS["to_data"],
            "W(model, data)",
            low=d["to_data_lower"],
            high=d["to_data_upper"],
        )
        steps = np.asarray(d["w_steps"], dtype=np.float64).reshape(-1)
        self._right.curve(
            epochs[1:],
            steps,
            COLOURS["steps"],
            "W(μ_k−1, μ_k)",
            low=np.asarray(d["w_steps_lower"]).reshape(-1),
            high=np.asarray(d["w_steps_upper"]).reshape(-1),
        )
        self.drawn = {"to_data": to_data, "w_steps": steps}


class DistributionView(QWidget):
    """The distribution-level line shape: steps, distance from the start, running ratio."""

    DISTANCES = "W steps and W from the start"
    RUNNING = "line shape ΣW / W(μ₀, μ_k) (1 = geodesic)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.distances = _plot(self.DISTANCES, "level", "W")
        self.running = _plot(self.RUNNING, "level", "ΣW / W")
        layout.addWidget(self.distances, 0, 0)
        layout.addWidget(self.running, 0, 1)
        self._distances, self._running = _Curves(self.distances), _Curves(self.running)
        self.plots = {"distances": self.distances, "line shape": self.running}
        self.drawn: dict[str, np.ndarray] = {}

    def show_data(self, d: dict, mode: str, group: int) -> None:
        self._distances.clear()
        self._running.clear()
        steps = np.asarray(d["w_steps"], dtype=np.float64)
        G, K = steps.shape
        if mode == "training":
            x = np.asarray(d["epoch"], dtype=np.float64)[1 : K + 1]
            axis, labels = "epoch", None
        else:
            x = np.arange(1, K + 1, dtype=np.float64)
            axis, labels = "level k", [str(k) for k in range(1, K + 1)]
        for plot in (self.distances, self.running):
            plot.setLabel("bottom", axis)
            _ticks(plot, labels, 1)
        g = min(group, G - 1)
        if K == 0:
            self.drawn = {}
            return
        self._distances.curve(
            x,
            steps[g],
            COLOURS["steps"],
            "W(μ_k−1, μ_k)",
            low=np.asarray(d["w_steps_lower"])[g],
            high=np.asarray(d["w_steps_upper"])[g],
        )
        start = np.asarray(d["w_from_start"], dtype=np.float64)[g]
        self._distances.curve(
            x,
            start,
            COLOURS["start"],
            "W(μ_0, μ_k)",
            low=np.asarray(d["w_from_start_lower"])[g],
            high=np.asarray(d["w_from_start_upper"])[g],
        )
        running = np.asarray(d["running"], dtype=np.float64)
        labels = group_labels(d) if mode != "training" else ["training"]
        for j in range(G):
            self._running.curve(
                x, running[j], group_colour(j, G), labels[j], 3.0 if j == g else 1.2
            )
        self._running.one()
        self.drawn = {"w_steps": steps[g], "w_from_start": start, "running": running[g]}


class TracksView(pg.GraphicsLayoutWidget):
    """A kept sample's track through the levels above its OT partners (module doc)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 160)
        self.plots = {"tracks": self}
        self.images: list[pg.ImageItem] = []
        self.shown: list[np.ndarray | None] = []  # what each image shows (row-major order)
        self._layout_key: tuple = ()

    def _build(self, columns: int, titles: list[str], rows: tuple[str, str]) -> None:
        key = (columns, tuple(titles), rows)
        if key == self._layout_key:
            return
        self.clear()
        self.images = []
        self._layout_key = key
        for c, title in enumerate(titles):
            self.addLabel(title, row=0, col=c + 1)
        for r, name in enumerate(rows):
            self.addLabel(name, row=r + 1, col=0, angle=-90)
            for c in range(columns):
                box = self.addViewBox(
                    row=r + 1, col=c + 1, lockAspect=True, invertY=True, enableMenu=False
                )
                image = pg.ImageItem(axisOrder="row-major")
                image.setColorMap(DIVERGING)
                box.addItem(image)
                self.images.append(image)

    def _set(self, arrays: list[np.ndarray | None]) -> None:
        self.shown = arrays
        for image, array in zip(self.images, arrays, strict=True):
            if array is None or not np.all(np.isfinite(array)):
                image.clear()
            else:
                image.setImage(
                    np.asarray(array, dtype=np.float32), autoLevels=False, levels=(-1.0, 1.0)
                )
                image.getViewBox().autoRange(padding=0.02)

    def show_track(self, d: dict, mode: str, group: int, track: int) -> None:
        if mode == "training":
            self._training(d, track)
            return
        tracks = np.asarray(d["track_images"])
        partners = np.asarray(d["partner_images"])
        sizes = [int(s) for s in np.asarray(d["sizes"])]
        V = tracks.shape[1]
        if tracks.shape[2] == 0:
            return
        g, s = min(group, tracks.shape[0] - 1), min(track, tracks.shape[2] - 1)
        titles = [
            f"level {k} ({sizes[k]}×{sizes[k]})" if mode != "rbm-flow" else f"step {k}"
            for k in range(V)
        ]
        self._build(V, titles, ("track", "OT partner"))
        row = [tracks[g, k, s] for k in range(V)]
        below: list[np.ndarray | None] = [None] + [partners[g, k, s] for k in range(V - 1)]
        self._set(row + below)

    def _training(self, d: dict, track: int) -> None:
        samples = np.asarray(d["sample_images"])
        partners = np.asarray(d["data_partner_images"])
        C = samples.shape[0]
        if C == 0 or samples.shape[1] == 0:
            return
        s = min(track, samples.shape[1] - 1)
        picks = np.unique(np.linspace(0, C - 1, min(C, TRACK_COLUMNS_MAX)).round().astype(int))
        epochs = np.asarray(d["epoch"])
        self._build(
            picks.size,
            [f"epoch {int(epochs[c])}" for c in picks],
            ("model sample", "OT partner (data)"),
        )
        self._set([samples[c, s] for c in picks] + [partners[c, s] for c in picks])
