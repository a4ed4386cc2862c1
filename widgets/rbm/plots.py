"""An RBM's training curves and its model-vs-data observables (pyqtgraph).

The curves come from the per-epoch history, from epoch 0 (``lab.rbm.task.RBMSnapshot.history``
live, ``lab.rbm.runs.RBMRunView.history`` of a saved run):

- NLL of the training and held-out data, nats per configuration, with ±1σ bars at the epochs
  where log Z came from annealed importance sampling (``log_z_exact == 0``; exact log Z has none);
- mean log pseudo-likelihood per configuration (nats);
- reconstruction mismatch: the fraction of spins changed by one v → h → v pass;
- free-energy gap ⟨F⟩_held-out − ⟨F⟩_train (nats): grows when the model overfits;
- norms ‖W‖_F, max|Wᵢⱼ|, ‖a‖, ‖b‖.

A dashed vertical line on every curve marks the epoch of the checkpoint on display. The
observables (e, |m|, U₄, and c, χ when the data share one temperature) of equilibrium samples of
the model are compared with the data's: in a plot, both divided by the data's value (so that
quantities of different sizes share one axis; 1 is perfect agreement), and in a table of values
with their ±1σ errors and the difference in units of the combined σ.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

TRAIN, HELD_OUT = "#f4d03f", "#5dade2"
NORM_COLOURS = {
    "weight_norm": "#f4d03f",
    "weight_max": "#e67e22",
    "visible_bias_norm": "#5dade2",
    "hidden_bias_norm": "#58d68d",
}
MARKER_PEN = pg.mkPen((200, 200, 200), style=Qt.PenStyle.DashLine)
SYMBOLS_UP_TO = 60  # draw point symbols while there are at most this many epochs

OBSERVABLES = (("e", "e"), ("abs_m", "|m|"), ("binder", "U₄"), ("c", "c"), ("chi", "χ"))
Pair = tuple[tuple[float, float], tuple[float, float]]  # ((data, σ), (model, σ))


def _span(colour: str, text: str) -> str:
    return f"<span style='color:{colour}'>{text}</span>"


def observable_pairs(observables: dict | None) -> dict[str, Pair]:
    """{name: ((data, σ), (model, σ))} from a snapshot's ``observables`` (Estimate objects)."""
    if not observables:
        return {}
    model, data = observables.get("model", {}), observables.get("data", {})
    return {
        name: (
            (float(data[name].value), float(data[name].error)),
            (float(model[name].value), float(model[name].error)),
        )
        for name, _ in OBSERVABLES
        if name in model and name in data
    }


def observables_from_evaluation(group: dict) -> dict[str, Pair]:
    """The same pairs from a run's ``evaluation`` group (written by ``main.py evaluate``)."""
    keys = [
        name
        for name, _ in OBSERVABLES
        if all(
            f"{side}_{name}{suffix}" in group
            for side in ("model", "data")
            for suffix in ("", "_error")
        )
    ]
    return {
        name: (
            (float(group[f"data_{name}"]), float(group[f"data_{name}_error"])),
            (float(group[f"model_{name}"]), float(group[f"model_{name}_error"])),
        )
        for name in keys
    }


class TrainingCurves(QWidget):
    """NLL, pseudo-likelihood, reconstruction mismatch, free-energy gap and norms against epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rbmCurves")
        self.plots: dict[str, pg.PlotWidget] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.markers: list[pg.InfiniteLine] = []
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        specs = (
            (
                "nll",
                f"NLL (nats): {_span(TRAIN, 'train')} · {_span(HELD_OUT, 'held-out')}",
                (0, 0, 1, 2),
            ),
            ("pseudo", "log pseudo-likelihood (nats)", (0, 2, 1, 1)),
            ("recon", "reconstruction mismatch", (1, 0, 1, 1)),
            ("gap", "free-energy gap F̄<sub>held-out</sub> − F̄<sub>train</sub>", (1, 1, 1, 1)),
            (
                "norms",
                " ".join(
                    _span(c, t)
                    for c, t in zip(
                        NORM_COLOURS.values(), ("‖W‖", "max|W|", "‖a‖", "‖b‖"), strict=True
                    )
                ),
                (1, 2, 1, 1),
            ),
        )
        for key, title, cell in specs:
            plot = pg.PlotWidget(title=title)
            plot.setLabel("bottom", "epoch")
            plot.getPlotItem().titleLabel.setMaximumHeight(22)
            plot.showGrid(x=True, y=True, alpha=0.15)
            marker = pg.InfiniteLine(angle=90, movable=False, pen=MARKER_PEN)
            marker.setVisible(False)
            plot.addItem(marker, ignoreBounds=True)
            self.markers.append(marker)
            self.plots[key] = plot
            plot.setMinimumSize(120, 100)
            grid.addWidget(plot, *cell)
        nll = self.plots["nll"]
        self.nll_errors = {
            name: pg.ErrorBarItem(pen=pg.mkPen(colour), beam=0.0)
            for name, colour in (("nll_train", TRAIN), ("nll_valid", HELD_OUT))
        }
        for name, colour in (("nll_train", TRAIN), ("nll_valid", HELD_OUT)):
            nll.addItem(self.nll_errors[name])
            self.curves[name] = nll.plot(pen=pg.mkPen(colour, width=2), name=name)
        self.curves["pseudo_likelihood"] = self.plots["pseudo"].plot(pen=pg.mkPen(TRAIN, width=2))
        self.curves["reconstruction_mismatch"] = self.plots["recon"].plot(
            pen=pg.mkPen(TRAIN, width=2)
        )
        self.plots["gap"].addItem(pg.InfiniteLine(angle=0, pos=0.0, pen=pg.mkPen((120, 120, 120))))
        self.curves["free_energy_gap"] = self.plots["gap"].plot(pen=pg.mkPen(HELD_OUT, width=2))
        for name, colour in NORM_COLOURS.items():
            self.curves[name] = self.plots["norms"].plot(pen=pg.mkPen(colour, width=2))
        self.epochs_drawn = 0

    def clear(self) -> None:
        for curve in self.curves.values():
            curve.setData([], [])
        for bars in self.nll_errors.values():
            bars.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
        self.set_marker(None)
        self.epochs_drawn = 0

    def show_history(self, history: dict[str, np.ndarray]) -> None:
        """Draw every metric of a per-epoch history (arrays of equal length, from epoch 0)."""
        epoch = history.get("epoch")
        if epoch is None or epoch.size == 0:
            self.clear()
            return
        for name, curve in self.curves.items():
            values = history.get(name)
            if values is None or values.size != epoch.size:
                curve.setData([], [])
                continue
            # Only the measured epochs (metrics_every: the others hold NaN), joined by lines.
            keep = np.isfinite(values)
            symbols = (
                {"symbol": "o", "symbolSize": 4}
                if np.count_nonzero(keep) <= SYMBOLS_UP_TO
                else {"symbol": None}
            )
            curve.setData(
                epoch[keep],
                values[keep],
                symbolPen=None,
                symbolBrush=curve.opts["pen"].color(),
                **symbols,
            )
        exact_log_z = history.get("log_z_exact", np.ones_like(epoch))
        ais = exact_log_z == 0
        for name, bars in self.nll_errors.items():
            values, errors = history.get(name), history.get(f"{name}_error")
            if values is None or errors is None:
                bars.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
                continue
            keep = ais & np.isfinite(values) & np.isfinite(errors)
            bars.setData(x=epoch[keep], y=values[keep], height=2 * errors[keep])
        measured = exact_log_z[np.isfinite(exact_log_z)]
        method = "AIS, ±1σ" if measured.size and measured[-1] == 0 else "exact log Z"
        self.plots["nll"].setTitle(
            f"NLL (nats, {method}): {_span(TRAIN, 'train')} · {_span(HELD_OUT, 'held-out')}"
        )
        self.epochs_drawn = int(epoch.size)

    def set_marker(self, epoch: float | None) -> None:
        """Mark ``epoch`` on every curve (None hides the marks)."""
        for marker in self.markers:
            marker.setVisible(epoch is not None)
            if epoch is not None:
                marker.setValue(epoch)


class ObservablesView(QWidget):
    """Model against data for e, |m|, U₄ (and c, χ): a ratio plot and a table of values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rbmObservables")
        self.plot = pg.PlotWidget(
            title=f"model / data: {_span(TRAIN, '● data')} {_span(HELD_OUT, '■ model')} (±1σ)"
        )
        self.plot.getPlotItem().titleLabel.setMaximumHeight(22)
        self.plot.addItem(pg.InfiniteLine(angle=0, pos=1.0, pen=pg.mkPen((120, 120, 120))))
        self.plot.setMouseEnabled(x=False, y=True)
        self.plot.setMinimumSize(120, 90)
        self.data_points = pg.ScatterPlotItem(size=8, brush=TRAIN, pen=None, symbol="o")
        self.model_points = pg.ScatterPlotItem(size=8, brush=HELD_OUT, pen=None, symbol="s")
        self.data_bars = pg.ErrorBarItem(pen=pg.mkPen(TRAIN), beam=0.1)
        self.model_bars = pg.ErrorBarItem(pen=pg.mkPen(HELD_OUT), beam=0.1)
        for item in (self.data_bars, self.model_bars, self.data_points, self.model_points):
            self.plot.addItem(item)
        self.table = QLabel(objectName="rbmObservablesTable")
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.table)
        self.pairs: dict[str, Pair] = {}
        self.show_pairs({}, "")

    def show_pairs(self, pairs: dict[str, Pair], note: str) -> None:
        """Draw ``{name: ((data, σ), (model, σ))}``; ``note`` says where they come from."""
        self.pairs = pairs
        names = [(name, label) for name, label in OBSERVABLES if name in pairs]
        rows = []
        for x, (name, _) in enumerate(names):
            (d, sd), (m, sm) = pairs[name]
            if d != 0 and all(math.isfinite(v) for v in (d, sd, m, sm)):
                rows.append((x, 1.0, sd / abs(d), m / d, sm / abs(d)))
        x, dy, de, my, me = np.asarray(rows, dtype=float).reshape(-1, 5).T
        self.data_points.setData(x - 0.12, dy)
        self.model_points.setData(x + 0.12, my)
        self.data_bars.setData(x=x - 0.12, y=dy, height=2 * de)
        self.model_bars.setData(x=x + 0.12, y=my, height=2 * me)
        self.plot.getAxis("bottom").setTicks([[(i, label) for i, (_, label) in enumerate(names)]])
        self.plot.setXRange(-0.6, max(len(names), 1) - 0.4, padding=0)
        self.table.setText(self._table(names, note))

    def _table(self, names: list[tuple[str, str]], note: str) -> str:
        header = "<tr><th align=left></th><th>data ±1σ</th><th>model ±1σ</th><th>Δ/σ</th></tr>"
        rows = []
        for name, label in names:
            (d, sd), (m, sm) = self.pairs[name]
            sigma = math.hypot(sd, sm)
            z = f"{(m - d) / sigma:+.1f}" if sigma > 0 else "—"
            rows.append(
                f"<tr><td>{label}</td><td align=right>{d:.4g} ± {sd:.2g}</td>"
                f"<td align=right>{m:.4g} ± {sm:.2g}</td><td align=right>{z}</td></tr>"
            )
        if not rows:
            return f"<i>{note or 'no observables yet'}</i>"
        return f"<table cellpadding=2>{header}{''.join(rows)}</table><small>{note}</small>"
