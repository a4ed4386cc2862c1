"""The geometry dock's views, each drawn from one dict of the geometry contract.

A finished ``geometry`` run (its view's ``contract``, ``lab.geometry.runs.GeometryRunView``) and
the live snapshot of a running ``lab.geometry.task.GeometryTask`` expose the same arrays
(``docs/session-format.md``, kind ``geometry``): per checkpoint (C of them, in epoch order) the
spectrum of W Wᵀ, the leading eigenvectors as L×L images, distances along the trajectory per
metric, the Bloch point, residuals, transport distances, entropies and the modular spectrum; once,
the Marchenko–Pastur law of the initialization, the data's and model's covariances and an optimal
plan. Each view's ``show_data(d, index)`` draws the dict ``d`` with the checkpoint ``index`` (the
dock's slider) singled out.

- :class:`SpectrumView`: every eigenvalue of W Wᵀ against epoch (log y), the MP bulk
  [λ₋, λ₊] of the initialization as a band and its outlier threshold as a dashed line; the
  spectrum at the chosen checkpoint as a density histogram against the MP density of the
  initialization (solid) and of the checkpoint's moment fit (dashed).
- :class:`EigenvectorView`: the K leading eigenvectors as L×L lattices, one diverging scale.
- :class:`TrajectoryView`: distance from the first checkpoint and line shape per metric.
- :class:`BlochView`: the unit disk and the trajectory's Bloch points coloured by epoch.
- :class:`ResidualView`: the Monge–Ampère residual (nats) and the Gaussian OT residual (log y),
  and the Gaussian W₂.
- :class:`TransportView`: W₁ of configurations, energy and magnetization against the data, and
  the optimal plan between model and data samples as an image.
- :class:`EntropyView`: S(ρ), S(ρ_model ‖ ρ_data) and the modular spectrum −log p at a checkpoint.
- :class:`CovarianceView`: the data's and the model's second moment ⟨v vᵀ⟩ side by side.
- :class:`ModularFlowView`: Re σ_t(X) on the compression to the k leading eigenvectors of ρ,
  animated in t, with ω(σ_t(X)) read out (it stays ω(X): the state is invariant).

Every view lists its plots in ``plots`` (title → PlotWidget or GraphicsLayoutWidget) for export.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lab.core.timers import new_timer
from lab.geometry.runs import (
    TRAJECTORY_METRICS,
    MarchenkoPastur,
    fitted_law,
    mp_fit_value,
    mp_law,
)
from widgets.common.weight_grid import DIVERGING, mosaic

ALL_METRICS = TRAJECTORY_METRICS
METRIC_LABELS = {
    "affine_invariant": "affine-invariant",
    "log_euclidean": "log-Euclidean",
    "bures_wasserstein": "Bures–Wasserstein",
    "thompson": "Thompson",
    "bures_wasserstein_exact": "Bures–Wasserstein (ε = 0)",
}
METRIC_COLOURS = {
    "affine_invariant": "#f4d03f",
    "log_euclidean": "#5dade2",
    "bures_wasserstein": "#58d68d",
    "thompson": "#e67e22",
    "bures_wasserstein_exact": "#c39bd3",
}
TRANSPORT = (
    ("wasserstein_to_data", "configurations (fraction of spins)", "#f4d03f"),
    ("energy_w1", "energy per spin (J = 1)", "#e67e22"),
    ("magnetization_w1", "magnetization", "#5dade2"),
)
BAND_BRUSH = pg.mkBrush(93, 173, 226, 45)
GUIDE_PEN = pg.mkPen((170, 170, 170), style=Qt.PenStyle.DashLine)
VIRIDIS = pg.colormap.get("viridis")
HISTOGRAM_BINS = 40
FLOW_K_MAX = 32
FLOW_FRAMES = 240  # slider steps over one period of the time axis


def _plot(title: str, x: str = "epoch", y: str = "", log_y: bool = False) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.getPlotItem().titleLabel.setMaximumHeight(22)
    plot.setLabel("bottom", x)
    if y:
        plot.setLabel("left", y)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setLogMode(y=log_y)
    plot.setMinimumSize(160, 120)
    return plot


def _marker(plot: pg.PlotWidget) -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=False, pen=GUIDE_PEN)
    line.setVisible(False)
    plot.addItem(line, ignoreBounds=True)
    return line


def _positive(values: np.ndarray) -> np.ndarray:
    """``values`` as float with every entry ≤ 0 (or non-finite) NaN: what a log axis can draw."""
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _column(d: dict, name: str) -> np.ndarray | None:
    value = d.get(name)
    return None if value is None else np.asarray(value)


def epoch_colours(epochs: np.ndarray) -> list[pg.QtGui.QBrush]:
    """One viridis brush per epoch, from the first (dark) to the last (yellow)."""
    e = np.asarray(epochs, dtype=np.float64)
    span = e[-1] - e[0] if e.size > 1 else 0.0
    t = (e - e[0]) / span if span > 0 else np.ones_like(e)
    return [pg.mkBrush(VIRIDIS.map(float(x), mode="qcolor")) for x in t]


class SpectrumView(QWidget):
    """The spectrum of W Wᵀ against epoch over the MP band, and its histogram at a checkpoint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evolution = _plot(
            "eigenvalues of W Wᵀ (MP bulk of the initialization shaded)", y="λ", log_y=True
        )
        self.band = pg.LinearRegionItem(
            orientation="horizontal", movable=False, brush=BAND_BRUSH, pen=pg.mkPen(None)
        )
        self.band.setZValue(-10)
        self.evolution.addItem(self.band, ignoreBounds=True)
        self.threshold = pg.InfiniteLine(angle=0, movable=False, pen=GUIDE_PEN)
        self.evolution.addItem(self.threshold, ignoreBounds=True)
        self.marker = _marker(self.evolution)
        self.curves: list[pg.PlotDataItem] = []
        self.band_edges: tuple[float, float] | None = None

        self.histogram = _plot("spectrum at the checkpoint", x="λ", y="density")
        self.bars = pg.PlotDataItem(
            stepMode="center",
            fillLevel=0.0,
            brush=pg.mkBrush(244, 208, 63, 110),
            pen=pg.mkPen("#f4d03f"),
        )
        self.density = pg.PlotDataItem(pen=pg.mkPen("#5dade2", width=2))
        self.fitted_density = pg.PlotDataItem(
            pen=pg.mkPen("#58d68d", width=2, style=Qt.PenStyle.DashLine)
        )
        for item in (self.bars, self.density, self.fitted_density):
            self.histogram.addItem(item)
        self.note = QLabel("", objectName="geometrySpectrumNote")
        self.note.setWordWrap(True)

        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.evolution, 0, 0)
        layout.addWidget(self.histogram, 0, 1)
        layout.addWidget(self.note, 1, 0, 1, 2)
        layout.setColumnStretch(0, 3)
        layout.setColumnStretch(1, 2)
        self.plots = {
            "spectrum against epoch": self.evolution,
            "spectrum histogram": self.histogram,
        }

    def _ensure_curves(self, m: int) -> None:
        while len(self.curves) > m:
            self.evolution.removeItem(self.curves.pop())
        while len(self.curves) < m:
            self.curves.append(self.evolution.plot(connect="finite"))
        for j, curve in enumerate(self.curves):
            colour = VIRIDIS.map(1.0 - j / max(m - 1, 1), mode="qcolor")
            curve.setPen(pg.mkPen(colour, width=2 if j < 8 else 1))

    def show_data(self, d: dict, index: int) -> None:
        epochs = np.asarray(d["epoch"], dtype=np.float64)
        spectrum = np.asarray(d["spectrum"], dtype=np.float64)
        self._ensure_curves(spectrum.shape[1])
        for j, curve in enumerate(self.curves):
            curve.setData(epochs, _positive(spectrum[:, j]))
        law = mp_law(d)
        self.band.setVisible(law is not None)
        self.threshold.setVisible(law is not None)
        self.band_edges = None if law is None else law.edges
        if law is not None:
            lower, upper = law.edges
            floor = np.nanmin(_positive(spectrum)) if np.any(spectrum > 0) else upper / 10
            shown_lower = lower if lower > 0 else min(floor, upper) / 2
            self.band.setRegion((math.log10(shown_lower), math.log10(upper)))
            self.threshold.setValue(math.log10(law.outlier_threshold()))
        self.marker.setVisible(True)
        self.marker.setValue(epochs[index])
        self._show_histogram(d, index, law)

    def _show_histogram(self, d: dict, index: int, law: MarchenkoPastur | None) -> None:
        values = np.asarray(d["spectrum"], dtype=np.float64)[index]
        n, m = int(np.asarray(d["mp_law"])[0]), values.size
        nonzero = values[: min(n, m)]
        fitted = fitted_law(d, index)
        upper = max(fitted.edges[1], law.edges[1] if law is not None else 0.0)
        top = min(float(np.max(nonzero)), 1.5 * upper) if nonzero.size else upper
        top = top if top > 0 else 1.0
        counts, edges = np.histogram(nonzero, bins=HISTOGRAM_BINS, range=(0.0, top))
        density = counts / (max(nonzero.size, 1) * (edges[1] - edges[0]))
        self.bars.setData(edges, density)
        grid = np.linspace(0.0, top, 400)
        self.density.setData(grid, law.pdf(grid) if law is not None else np.zeros(0))
        if law is None:
            self.density.setData([], [])
        self.fitted_density.setData(grid, fitted.pdf(grid))
        beyond = int(np.count_nonzero(nonzero > top))
        outliers = int(mp_fit_value(d, index, "n_outliers"))
        epoch = int(np.asarray(d["epoch"])[index])
        self.histogram.setTitle(
            f"epoch {epoch} against MP: initialization (blue), fit (green, dashed)"
        )
        rank = int(np.asarray(d["rank"])[index])
        condition = float(np.asarray(d["condition"])[index])
        self.note.setText(
            f"epoch {epoch}: rank {rank} of {m}, condition λmax/λmin = {condition:.4g}, "
            f"{outliers} outlier(s) above the MP edge of the fit"
            + (f"; {beyond} eigenvalue(s) beyond {top:.3g} not in the histogram" if beyond else "")
            + ("" if law is not None else "; no epoch-0 checkpoint: no initialization law")
        )


class EigenvectorView(pg.GraphicsLayoutWidget):
    """The K leading eigenvectors of W Wᵀ at a checkpoint as L×L lattices in one row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 100)
        self.title = self.addLabel("leading eigenvectors of W Wᵀ", row=0, col=0, colspan=2)
        self.viewbox = self.addViewBox(
            row=1, col=0, lockAspect=True, invertY=True, enableMenu=False
        )
        self.image = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image)
        self.colorbar = pg.ColorBarItem(
            values=(-1.0, 1.0), colorMap=DIVERGING, width=14, interactive=False, colorMapMenu=False
        )
        self.colorbar.setImageItem(self.image)
        self.addItem(self.colorbar, row=1, col=1)
        self.tiles = np.zeros((0, 0, 0), dtype=np.float32)
        self.plots = {"leading eigenvectors": self}

    def show_data(self, d: dict, index: int) -> None:
        self.tiles = np.asarray(d["eigenvectors"][index], dtype=np.float32)
        if self.tiles.shape[0] == 0:
            self.image.clear()
            return
        image = mosaic(self.tiles, self.tiles.shape[0], np.nan)
        scale = float(np.max(np.abs(self.tiles))) or 1.0
        self.image.setImage(image, autoLevels=False, levels=(-scale, scale))
        self.colorbar.setLevels(values=(-scale, scale))
        self.viewbox.autoRange(padding=0.02)
        values = np.asarray(d["spectrum"])[index][: self.tiles.shape[0]]
        epoch = int(np.asarray(d["epoch"])[index])
        self.title.setText(
            f"leading eigenvectors of W Wᵀ at epoch {epoch}: λ = "
            + ", ".join(f"{v:.3g}" for v in values)
        )


class _EpochCurves(QWidget):
    """Plots of per-checkpoint series against epoch, a legend each, a marker at the checkpoint."""

    def __init__(
        self, specs: list[tuple[str, str, bool]], columns: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        self.markers: list[pg.InfiniteLine] = []
        for i, (title, y, log_y) in enumerate(specs):
            plot = _plot(title, y=y, log_y=log_y)
            plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
            self.plots[title] = plot
            self.curves[title] = {}
            self.markers.append(_marker(plot))
            layout.addWidget(plot, i // columns, i % columns)

    def _curve(self, title: str, key: str, label: str, colour: str) -> pg.PlotDataItem:
        curves = self.curves[title]
        if key not in curves:
            curves[key] = self.plots[title].plot(
                pen=pg.mkPen(colour, width=2),
                name=label,
                connect="finite",
                symbol="o",
                symbolSize=4,
                symbolPen=None,
                symbolBrush=colour,
            )
        return curves[key]

    def _draw(
        self,
        title: str,
        key: str,
        label: str,
        colour: str,
        epochs: np.ndarray,
        values: np.ndarray | None,
        log_y: bool = False,
    ) -> None:
        if values is None:
            return
        values = np.asarray(values, dtype=np.float64)
        self._curve(title, key, label, colour).setData(
            epochs, _positive(values) if log_y else values
        )

    def _mark(self, epoch: float) -> None:
        for marker in self.markers:
            marker.setVisible(True)
            marker.setValue(epoch)


class TrajectoryView(_EpochCurves):
    """Distance from the first checkpoint and line shape (distance / path length) per metric."""

    DISTANCE = "distance from the first checkpoint"
    SHAPE = "line shape: distance / path length (1 = geodesic)"
    SPEED = "speed: step length per epoch"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            [(self.DISTANCE, "d", False), (self.SHAPE, "", False), (self.SPEED, "d / epoch", True)],
            columns=3,
            parent=parent,
        )

    def show_data(self, d: dict, index: int) -> None:
        epochs = np.asarray(d["epoch"], dtype=np.float64)
        for metric in ALL_METRICS:
            label, colour = METRIC_LABELS[metric], METRIC_COLOURS[metric]
            self._draw(
                self.DISTANCE, metric, label, colour, epochs, _column(d, f"distance/{metric}")
            )
            self._draw(
                self.SHAPE, metric, label, colour, epochs, _column(d, f"line_shape/{metric}")
            )
            self._draw(
                self.SPEED, metric, label, colour, epochs, _column(d, f"speed/{metric}"), log_y=True
            )
        self._mark(epochs[index])


class ResidualView(_EpochCurves):
    """The Monge–Ampère residual, the Gaussian OT residual (log y) and the Gaussian W₂."""

    MONGE = "Monge–Ampère residual of the cone potential (nats)"
    GAUSS = "Gaussian OT residual (relative): N(0, WWᵀ+εI) → N(0, Σ_data+εI)"
    W2 = "Gaussian W₂ to the data"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            [(self.MONGE, "nats", True), (self.GAUSS, "", True), (self.W2, "W₂", False)],
            columns=3,
            parent=parent,
        )

    def show_data(self, d: dict, index: int) -> None:
        epochs = np.asarray(d["epoch"], dtype=np.float64)
        self._draw(
            self.MONGE,
            "ma",
            "Monge–Ampère",
            "#f4d03f",
            epochs,
            _column(d, "monge_ampere_residual"),
            log_y=True,
        )
        self._draw(
            self.GAUSS,
            "gauss",
            "Theorem 1",
            "#5dade2",
            epochs,
            _column(d, "gaussian_ot_residual"),
            log_y=True,
        )
        self._draw(self.W2, "w2", "W₂", "#58d68d", epochs, _column(d, "gaussian_w2"))
        self._mark(epochs[index])


class EntropyView(_EpochCurves):
    """S(ρ), S(ρ_model ‖ ρ_data) against epoch and the modular spectrum at the checkpoint."""

    ENTROPY = "von Neumann entropy S(ρ) (nats)"
    RELATIVE = "relative entropy S(ρ_model ‖ ρ_data) (nats)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            [(self.ENTROPY, "nats", False), (self.RELATIVE, "nats", False)],
            columns=3,
            parent=parent,
        )
        self.modular = _plot("modular spectrum −log p at the checkpoint", x="index", y="−log p")
        self.modular_curve = self.modular.plot(
            pen=None, symbol="o", symbolSize=4, symbolPen=None, symbolBrush="#c39bd3"
        )
        self.layout().addWidget(self.modular, 0, 2)
        self.plots["modular spectrum"] = self.modular

    def show_data(self, d: dict, index: int) -> None:
        epochs = np.asarray(d["epoch"], dtype=np.float64)
        self._draw(self.ENTROPY, "s", "S(ρ)", "#f4d03f", epochs, _column(d, "entropy"))
        self._draw(
            self.RELATIVE,
            "rel",
            "S(ρ‖ρ_data)",
            "#5dade2",
            epochs,
            _column(d, "relative_entropy_to_data"),
        )
        spectrum = _column(d, "modular_spectrum")
        if spectrum is not None:
            values = np.asarray(spectrum[index], dtype=np.float64)
            self.modular_curve.setData(np.arange(values.size), values)
            self.modular.setTitle(
                f"modular spectrum −log p at epoch {int(np.asarray(d['epoch'])[index])}"
            )
        self._mark(epochs[index])


class _ImagePanel(pg.GraphicsLayoutWidget):
    """Images side by side (row-major, y down) with one colorbar."""

    def __init__(
        self, titles: list[str], colormap: pg.ColorMap, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 120)
        self.labels, self.images, self.viewboxes = [], [], []
        for col, title in enumerate(titles):
            self.labels.append(self.addLabel(title, row=0, col=col))
            box = self.addViewBox(row=1, col=col, lockAspect=True, invertY=True, enableMenu=False)
            image = pg.ImageItem(axisOrder="row-major")
            box.addItem(image)
            self.images.append(image)
            self.viewboxes.append(box)
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=colormap, width=14, interactive=False, colorMapMenu=False
        )
        self.colorbar.setImageItem(self.images)
        self.addItem(self.colorbar, row=1, col=len(titles))

    def set_images(self, arrays: list[np.ndarray | None], levels: tuple[float, float]) -> None:
        for image, box, array in zip(self.images, self.viewboxes, arrays, strict=True):
            if array is None:
                image.clear()
                continue
            image.setImage(np.asarray(array, dtype=np.float32), autoLevels=False, levels=levels)
            box.autoRange(padding=0.02)
        self.colorbar.setLevels(values=levels)


class CovarianceView(_ImagePanel):
    """The data's and the model's second moment ⟨v vᵀ⟩ (n×n), one diverging scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(["data ⟨v vᵀ⟩", "model ⟨v vᵀ⟩ (last checkpoint)"], DIVERGING, parent)
        self.plots = {"covariances": self}

    def show_data(self, d: dict, index: int) -> None:
        data, model = _column(d, "data_covariance"), _column(d, "model_covariance")
        arrays = [a for a in (data, model) if a is not None and a.size]
        scale = max((float(np.max(np.abs(a))) for a in arrays), default=1.0) or 1.0
        self.set_images([data, model], (-scale, scale))


class TransportView(QWidget):
    """W₁ of configurations, energy and magnetization to the data, and the optimal plan."""

    W1 = "W₁ from model samples to the data"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.distances = _EpochCurves([(self.W1, "W₁", False)], columns=1)
        self.plan = _ImagePanel(["optimal plan: model samples (rows) → data samples"], VIRIDIS)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.distances, 3)
        layout.addWidget(self.plan, 2)
        self.plots = {**self.distances.plots, "optimal plan": self.plan}

    def show_data(self, d: dict, index: int) -> None:
        epochs = np.asarray(d["epoch"], dtype=np.float64)
        for key, label, colour in TRANSPORT:
            self.distances._draw(self.W1, key, label, colour, epochs, _column(d, key))
        self.distances._mark(epochs[index])
        plan = _column(d, "ot_plan")
        if plan is not None and plan.size:
            top = float(np.max(plan)) or 1.0
            self.plan.set_images([plan], (0.0, top))


class BlochView(pg.PlotWidget):
    """The real Bloch disk: unit circle, the trajectory's (x, z) points coloured by epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            title="Bloch disk on the last checkpoint's two leading "
            "eigenvectors (dark → light: epoch)",
        )
        self.getPlotItem().titleLabel.setMaximumHeight(22)
        self.setAspectLocked(True)
        self.setLabel("bottom", "x = 2C₁₂ / tr C")
        self.setLabel("left", "z = (C₁₁ − C₂₂) / tr C")
        angle = np.linspace(0.0, 2.0 * math.pi, 361)
        self.plot(np.cos(angle), np.sin(angle), pen=pg.mkPen((170, 170, 170), width=1.5))
        self.addItem(pg.InfiniteLine(angle=0, pen=pg.mkPen((90, 90, 90))))
        self.addItem(pg.InfiniteLine(angle=90, pen=pg.mkPen((90, 90, 90))))
        self.path = self.plot(pen=pg.mkPen((200, 200, 200, 120), width=1))
        self.scatter = pg.ScatterPlotItem(size=9, pen=None)
        self.current = pg.ScatterPlotItem(size=16, pen=pg.mkPen("w", width=2), brush=None)
        self.addItem(self.scatter)
        self.addItem(self.current)
        self.setRange(xRange=(-1.05, 1.05), yRange=(-1.05, 1.05))
        self.setMinimumSize(200, 200)
        self.points = np.zeros((0, 2))
        self.plots = {"Bloch disk": self}

    def show_data(self, d: dict, index: int) -> None:
        self.points = np.asarray(d["bloch"], dtype=np.float64).reshape(-1, 2)
        x, z = self.points[:, 0], self.points[:, 1]
        self.path.setData(x, z)
        self.scatter.setData(x=x, y=z, brush=epoch_colours(np.asarray(d["epoch"])))
        self.current.setData(x=[x[index]], y=[z[index]])


def compressed_observable(X: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """``Bᵀ X B`` (k×k): the observable X (n×n) in the k leading eigenvectors B (n, k) of ρ."""
    return basis.T @ X @ basis


def modular_frame(X: np.ndarray, log_p: np.ndarray, t: float) -> np.ndarray:
    """σ_t(X) in the eigenbasis of ρ: ``X_ab e^{it(log p_a − log p_b)}`` (complex k×k)."""
    return X * np.exp(1j * t * (log_p[:, None] - log_p[None, :]))


def state_value(X: np.ndarray, p: np.ndarray) -> complex:
    """ω(X) = tr(ρ X) with ρ = diag(p) on the compression: Σ_a p_a X_aa."""
    return complex(np.sum(p * np.diagonal(X)))


def flow_period(log_p: np.ndarray) -> float:
    """The time axis' length: one turn, 2π / ⟨|log p_a − log p_b|⟩, of the mean phase speed
    over the off-diagonal pairs with distinct eigenvalues (1 when all are equal)."""
    gaps = np.abs(log_p[:, None] - log_p[None, :])
    gaps = gaps[gaps > 1e-12]
    return 2.0 * math.pi / float(np.mean(gaps)) if gaps.size else 1.0


class ModularFlowView(QWidget):
    """Re σ_t(X) animated in t on the compression to the k leading eigenvectors of ρ.

    ``set_state(basis, p, observables)``: the (n, k) orthonormal eigenvectors of ρ with their
    eigenvalues p (descending) and the candidate observables (name → n×n, or a callable of the
    site index for site-local ones). The readout shows ω(σ_t(X)) next to ω(X).
    """

    frameShown = Signal(float)

    SITE_PROJECTOR = "local spin projector |i⟩⟨i|"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.observable_box = QComboBox(objectName="geometryFlowObservable")
        self.site_box = QSpinBox(objectName="geometryFlowSite", minimum=0)
        self.site_box.setToolTip("the lattice site i of the projector (row-major)")
        self.k_box = QSpinBox(objectName="geometryFlowK", minimum=1, maximum=FLOW_K_MAX)
        self.k_box.setToolTip("compress to the k leading eigenvectors of ρ")
        self.play_button = QPushButton("Play", objectName="geometryFlowPlay")
        self.play_button.setCheckable(True)
        self.time_slider = QSlider(Qt.Orientation.Horizontal, objectName="geometryFlowTime")
        self.time_slider.setRange(0, FLOW_FRAMES)
        self.readout = QLabel("", objectName="geometryFlowReadout")
        self.readout.setWordWrap(True)
        self.panel = _ImagePanel(["Re σ_t(X) in the eigenbasis of ρ"], DIVERGING)
        controls = QHBoxLayout()
        for label, widget in (
            ("observable", self.observable_box),
            ("site", self.site_box),
            ("k", self.k_box),
        ):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addWidget(self.play_button)
        controls.addWidget(self.time_slider, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.readout)
        self.plots = {"modular flow": self.panel}

        self.timer = new_timer(self, 40, self._advance)
        self.play_button.toggled.connect(self._toggle_play)
        self.time_slider.valueChanged.connect(lambda _: self.draw())
        self.observable_box.currentIndexChanged.connect(lambda _: self._recompress())
        self.site_box.valueChanged.connect(lambda _: self._recompress())
        self.k_box.valueChanged.connect(lambda _: self._recompress())

        self.basis = np.zeros((0, 0))
        self.p = np.zeros(0)
        self.observables: dict[str, np.ndarray] = {}
        self.X = np.zeros((0, 0))
        self.period = 1.0
        self.frame = np.zeros((0, 0), dtype=complex)
        self.epoch: int | None = None

    # ----------------------------------------------------------------- state
    def set_state(
        self, basis: np.ndarray, p: np.ndarray, observables: dict[str, np.ndarray], epoch: int
    ) -> None:
        """A new state: eigenvectors (n, K) of ρ, eigenvalues p (K,), observables (n×n)."""
        self.basis, self.p, self.epoch = np.asarray(basis), np.asarray(p), epoch
        self.observables = dict(observables)
        names = [*self.observables, self.SITE_PROJECTOR]
        current = self.observable_box.currentText()
        self.observable_box.blockSignals(True)
        self.observable_box.clear()
        self.observable_box.addItems(names)
        self.observable_box.setCurrentText(current if current in names else names[0])
        self.observable_box.blockSignals(False)
        self.site_box.setMaximum(max(self.basis.shape[0] - 1, 0))
        k = self.k_box.value()
        self.k_box.setMaximum(max(1, min(FLOW_K_MAX, self.basis.shape[1])))
        self.k_box.setValue(min(max(k, 8), self.k_box.maximum()))
        self._recompress()

    def _recompress(self) -> None:
        if self.basis.size == 0:
            return
        k = min(self.k_box.value(), self.basis.shape[1])
        B = self.basis[:, :k]
        name = self.observable_box.currentText()
        if name == self.SITE_PROJECTOR:
            row = B[self.site_box.value()]
            self.X = np.outer(row, row)  # Bᵀ e_i e_iᵀ B
        else:
            self.X = compressed_observable(self.observables[name], B)
        self.period = flow_period(np.log(self.p[:k]))
        self.draw()

    def time(self) -> float:
        return self.period * self.time_slider.value() / FLOW_FRAMES

    def draw(self) -> None:
        if self.X.size == 0:
            return
        k = self.X.shape[0]
        t = self.time()
        p = self.p[:k]
        self.frame = modular_frame(self.X, np.log(p), t)
        real = self.frame.real
        scale = float(np.max(np.abs(self.X))) or 1.0
        self.panel.set_images([real], (-scale, scale))
        self.panel.labels[0].setText(f"Re σ_t(X), t = {t:.3f} (epoch {self.epoch}, k = {k})")
        flowed, initial = state_value(self.frame, p), state_value(self.X, p)
        self.readout.setText(
            f"ω(σ_t(X)) = {flowed.real:.10g}{flowed.imag:+.2g}i   ω(X) = {initial.real:.10g}   "
            f"(ω = tr ρ· on the compression; the flow leaves the state invariant). "
            f"Time axis: one turn of the mean phase speed, {self.period:.4g}."
        )
        self.frameShown.emit(t)

    # ----------------------------------------------------------------- animation
    def _toggle_play(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            self.timer.start()
        else:
            self.timer.stop()

    def _advance(self) -> None:
        self.time_slider.setValue((self.time_slider.value() + 1) % (FLOW_FRAMES + 1))
