"""Gai & Zhang's Wasserstein scores as a session run of kind ``scores``.

Inputs: the scored run first (``rg-flow``, ``rg`` or ``rbm``), then every run read (the
``rg-flow``'s ``rg`` runs, the data runs, the RBMs of a stack). Parameters: the
:class:`lab.geometry.score_options.ScoreOptions` (the seed is the run's), ``mode``
(``rbm-flow``, ``block-spin``, ``stack`` or ``training``), ``source`` and ``source_kind``,
``rule``, ``block``, ``size`` (L), ``n_samples`` (N, the samples scored per level: every map at
this one N), ``n_levels`` (V), ``n_groups`` (G), ``dim`` (L², the sites of every embedding),
``embedding`` (how the levels were put on the lattice), ``solvers_used``, ``data`` and ``rbm``
(ids). Results: ``steps_done``, ``seconds`` (compute time) and, for one group, its LSS, whole-map
OTS and line shape (each with ``_error`` where it has one); for a training, the line shape and
the first and last W to the data.

Datasets (each with ``units``, ``axes`` and ``description``, :func:`dataset_info`), for the
modes of levels (G groups = temperatures, V = K + 1 levels, K maps, N samples, S tracks kept):

- per map (G, K): ``ots`` (≥ 1, 1 = an optimal map), ``ots_error`` (bootstrap std),
  ``ots_low``/``ots_high`` (the solver's certified bracket), ``ots_ci`` (G, K, 2) (2.5 and 97.5 %
  bootstrap percentiles), ``map_cost`` and ``map_cost_error``, ``ot_cost``, ``ot_lower``,
  ``ot_upper`` (per site, the cost's units), ``agreement`` (fraction of samples the map sends
  where an optimal plan does), ``plan_entropy`` (nats); the distribution level ``w_steps`` =
  W(μ_k, μ_{k+1}) and ``w_from_start`` = W(μ₀, μ_{k+1}) (with ``_lower``/``_upper``), and
  ``running`` (Σ steps so far / distance from the start);
- per group (G): ``ots_total`` (the whole map x⁰ → x^K, with ``_error``, ``_low``, ``_high``),
  ``lss`` (mean over tracks) with ``lss_error`` (its standard error), ``lss_median``,
  ``lss_pooled`` (Σ path / Σ chord), ``lss_valid``, ``lss_closed``, ``lss_static`` (counts),
  ``line_shape`` (Σ W steps / W(μ₀, μ_K)) with ``line_shape_low``/``_high``, ``temperature``;
- per sample: ``lss_per_track`` (G, N) (NaN static, inf closed), ``step_lengths`` (G, K, N),
  ``partner`` (G, K, N) (the OT partner of each sample at map k), ``sample_index`` (G, N) (the
  scored samples' indices in the source's configurations);
- ``sizes`` (V) (each level's linear size), ``track_images`` (G, V, S, L, L) (the first S
  samples' embedded tracks), ``partner_images`` (G, K, S, L, L) (the image, at level k + 1, of
  each of them's OT partner at map k).

For the mode ``training`` (V = C checkpoints, G = 1, K = C − 1): ``epoch`` (V), ``to_data``
(V) (W between the model's equilibrium samples and the data, with ``_lower``/``_upper``),
``w_steps``, ``w_from_start``, ``running`` (1, K), ``line_shape`` (1,) (initialization → last
checkpoint, with ``_low``/``_high``), ``data_index`` (N) (the data subsample), and
``sample_images``, ``data_partner_images`` (V, S, L, L) int8 (S model samples of each checkpoint
and their OT partners in the data).

Units: OTS, LSS and line shapes are dimensionless ratios ≥ 1 (1: optimal, straight); costs are
per site (``sqeuclidean``: spin² per site, ``‖x − y‖²/d``; ``hamming``: fraction of spins), W is
W₂ = √OT in spin per site (the RMS displacement) or W₁ in fraction of spins; track lengths are in
the track metric's units (``euclidean``: spin per site, ``‖x − y‖/√d``; ``hamming``: fraction of
spins; with unit steps: steps).

:class:`ScoresRunView` is what the dock reads (registered as the kind ``scores`` at the bottom,
with its summary and the dock ``geometryDock``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from data import RunRecord
from lab.core.ids import short_message
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.geometry.score_options import ScoreOptions

if TYPE_CHECKING:
    from lab.geometry.score_sources import Plan

KIND = "scores"
EMBEDDINGS = {
    "rbm-flow": "identity (every step is an L×L lattice)",
    "block-spin": "repeat (each block spin over its block)",
    "training": "identity (model samples are L×L lattices)",
}

_G, _GK, _GKN = "group", "group, map", "group, map, sample"
_COST_UNITS = {
    "sqeuclidean": "spin² per site (‖x − y‖²/d)",
    "hamming": "fraction of spins (‖x − y‖₁/2d)",
}
_W_UNITS = {
    "sqeuclidean": "spin per site (W₂ = √OT, the RMS displacement)",
    "hamming": "fraction of spins (W₁)",
}
_TRACK_UNITS = {"euclidean": "spin per site (‖x − y‖/√d)", "hamming": "fraction of spins"}
_RATIO = "dimensionless (≥ 1; 1 for an optimal map)"
_SHAPE = "dimensionless (≥ 1; 1 on a geodesic)"
_FIXED: dict[str, tuple[str, str, str]] = {
    "ots": (
        _RATIO,
        _GK,
        "optimal-transport score of map k → k+1: the map's mean cost over the "
        "OT cost between its input and output samples",
    ),
    "ots_error": (_RATIO, _GK, "bootstrap standard deviation of the OTS (pairs resampled)"),
    "ots_low": (_RATIO, _GK, "map cost / the solver's upper bound on OT (= ots when exact)"),
    "ots_high": (_RATIO, _GK, "map cost / the solver's lower bound on OT (= ots when exact)"),
    "ots_ci": (_RATIO, "group, map, (2.5 %, 97.5 %)", "bootstrap percentiles of the OTS"),
    "map_cost": ("{cost}", _GK, "mean cost c(x_i, T x_i) of the map's own pairing"),
    "map_cost_error": ("{cost}", _GK, "standard error of the map cost"),
    "ot_cost": ("{cost}", _GK, "optimal-transport cost between the input and output samples"),
    "ot_lower": ("{cost}", _GK, "certified lower bound on the OT cost (= ot_cost when exact)"),
    "ot_upper": ("{cost}", _GK, "certified upper bound on the OT cost (= ot_cost when exact)"),
    "agreement": ("fraction", _GK, "samples whose optimal partner has their own image"),
    "plan_entropy": ("nats", _GK, "entropy of the optimal plan (log N for a permutation)"),
    "w_steps": ("{w}", _GK, "W(μ_k, μ_k+1) between consecutive levels' (checkpoints') samples"),
    "w_steps_lower": ("{w}", _GK, "certified lower bound on w_steps"),
    "w_steps_upper": ("{w}", _GK, "certified upper bound on w_steps"),
    "w_from_start": (
        "{w}",
        _GK,
        "W(μ_0, μ_k+1): distance of level (checkpoint) k+1 from the first",
    ),
    "w_from_start_lower": ("{w}", _GK, "certified lower bound on w_from_start"),
    "w_from_start_upper": ("{w}", _GK, "certified upper bound on w_from_start"),
    "running": (_SHAPE, _GK, "Σ_{j≤k} W(μ_j, μ_j+1) / W(μ_0, μ_k+1): the line shape so far"),
    "ots_total": (_RATIO, _G, "OTS of the whole map x⁰ → x^K"),
    "ots_total_error": (_RATIO, _G, "bootstrap standard deviation of ots_total"),
    "ots_total_low": (_RATIO, _G, "ots_total from the solver's upper bound on OT"),
    "ots_total_high": (_RATIO, _G, "ots_total from the solver's lower bound on OT"),
    "lss": (
        _SHAPE,
        _G,
        "line-shape score: mean over tracks of path length / chord "
        "(static and closed tracks left out)",
    ),
    "lss_error": (_SHAPE, _G, "standard error of the mean LSS over tracks"),
    "lss_median": (_SHAPE, _G, "median LSS over tracks"),
    "lss_pooled": (_SHAPE, _G, "Σ path lengths / Σ chords over every track"),
    "lss_valid": ("count", _G, "tracks with a finite LSS (−1 before the group is done)"),
    "lss_closed": ("count", _G, "tracks that come back to their start (LSS = inf)"),
    "lss_static": ("count", _G, "tracks that never move (no LSS)"),
    "line_shape": (_SHAPE, _G, "distribution-level line shape Σ W(μ_k, μ_k+1) / W(μ_0, μ_K)"),
    "line_shape_low": (_SHAPE, _G, "line shape from the solvers' brackets, lowest"),
    "line_shape_high": (_SHAPE, _G, "line shape from the solvers' brackets, highest"),
    "temperature": ("T in units of J", _G, "temperature of the group's data (NaN if unknown)"),
    "sizes": ("lattice spacings (linear size)", "level", "linear size of each level"),
    "lss_per_track": (_SHAPE, "group, sample", "LSS of each track (NaN static, inf closed)"),
    "step_lengths": ("{track}", _GKN, "length of each track's step k → k+1"),
    "partner": ("sample index", _GKN, "the OT partner of each sample at map k (−1: not done)"),
    "sample_index": (
        "sample index",
        "group, sample",
        "the scored samples' indices in the source's configurations",
    ),
    "track_images": (
        "spin (±1, or a reconstruction in (−1, 1))",
        "group, level, track, row, column",
        "the first tracks kept, each level embedded on the L×L lattice",
    ),
    "partner_images": (
        "spin (±1, or a reconstruction in (−1, 1))",
        "group, map, track, row, column",
        "the image at level k+1 of each kept track's OT partner at map k",
    ),
    "epoch": ("epochs", "checkpoint", "training epoch of each checkpoint"),
    "to_data": (
        "{w}",
        "checkpoint",
        "W between the model's equilibrium samples at the checkpoint and the data subsample",
    ),
    "to_data_lower": ("{w}", "checkpoint", "certified lower bound on to_data"),
    "to_data_upper": ("{w}", "checkpoint", "certified upper bound on to_data"),
    "data_index": ("sample index", "sample", "the data subsample's indices in the pooled data"),
    "sample_images": (
        "spin (±1)",
        "checkpoint, sample, row, column",
        "the first model samples of each checkpoint",
    ),
    "data_partner_images": (
        "spin (±1)",
        "checkpoint, sample, row, column",
        "their OT partners among the data",
    ),
}


def dataset_info(
    name: str,
    cost: str = "sqeuclidean",
    metric: str = "euclidean",
    unit_steps: bool = False,
    mode: str = "",
) -> tuple[str, str, str]:
    """(units, axes, description) of a dataset of a ``scores`` run."""
    units, axes, description = _FIXED[name]
    track = "steps (1 per moving step)" if unit_steps else _TRACK_UNITS.get(metric, metric)
    units = units.format(cost=_COST_UNITS.get(cost, cost), w=_W_UNITS.get(cost, cost), track=track)
    if mode == "training" and (name.startswith(("w_", "running", "line_shape"))):
        axes = "1, step" if name.startswith(("w_", "running")) else "1"
    return units, axes, description


def _embedding(mode: str, options: ScoreOptions) -> str:
    if mode == "stack":
        return (
            "reconstruction (the stack's mean-field down-pass tanh(a + W h))"
            if options.embedding == "reconstruction"
            else "repeat (each drawn block spin over its block)"
        )
    return EMBEDDINGS.get(mode, "")


def scores_run(
    run_id: str,
    plan: Plan,
    options: ScoreOptions,
    datasets: Mapping[str, np.ndarray],
    status: str,
    *,
    n_samples: int,
    solvers: list[str],
    steps_done: int,
    seconds: float,
    created: str = "",
    finished: str | None = None,
    message: str = "",
) -> RunRecord:
    """A ``scores`` run holding ``datasets`` (a task's :meth:`datasets`, or a snapshot's)."""
    params: dict = {k: v for k, v in options.params().items() if k != "seed"}
    groups = getattr(plan, "groups", None)
    params.update(
        {
            "mode": plan.mode,
            "source": plan.source_id,
            "source_kind": plan.source_kind,
            "rule": plan.rule,
            "block": int(plan.block),
            "size": int(plan.size),
            "n_samples": int(n_samples),
            "n_levels": int(plan.n_levels),
            "n_groups": len(groups) if groups is not None else 1,
            "dim": int(plan.size) ** 2,
            "embedding": _embedding(plan.mode, options),
            "solvers_used": list(solvers),
            "data": list(plan.data_ids),
            "rbm": list(getattr(plan, "rbm_ids", [])),
        }
    )
    run = RunRecord(
        id=run_id,
        kind=KIND,
        status=status,
        seed=options.seed,
        params=params,
        inputs=list(dict.fromkeys(plan.inputs)),
        created=created,
        finished=finished,
        message=short_message(message),
    )
    run.datasets = {name: np.asarray(array) for name, array in datasets.items()}
    for name in run.datasets:
        units, axes, description = dataset_info(
            name, options.cost, options.metric, options.unit_steps, plan.mode
        )
        run.dataset_attrs[name] = {"units": units, "axes": axes, "description": description}
    run.results = _results(run.datasets, plan.mode, steps_done, seconds)
    return run


def _finite(value: float) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _results(
    ds: Mapping[str, np.ndarray], mode: str, steps_done: int, seconds: float
) -> dict[str, float | int]:
    out: dict[str, float | int] = {"steps_done": int(steps_done), "seconds": float(seconds)}
    if mode == "training":
        to_data = ds["to_data"]
        if to_data.size:
            out["to_data_first"] = float(to_data[0])
            out["to_data_last"] = float(to_data[-1])
        line = float(ds["line_shape"][0])
        if _finite(line):
            out["line_shape"] = line
        return out
    if ds["lss"].size != 1:
        return out
    for name, error in (("lss", "lss_error"), ("ots_total", "ots_total_error"), ("line_shape", "")):
        value = float(ds[name][0])
        if _finite(value):
            out[name] = value
            if error and _finite(float(ds[error][0])):
                out[f"{name}_error"] = float(ds[error][0])
    ots = ds["ots"][0]
    if np.isfinite(ots).any():
        out["ots_max"] = float(np.nanmax(ots))
    return out


# ---------------------------------------------------------------------------- text
def _pm(value: float, error: float, digits: int = 4) -> str:
    if not math.isfinite(value):
        return "—"
    text = f"{value:.{digits}f}"
    return text + (f" ± {error:.{digits}f}" if math.isfinite(error) else "")


def format_scores(run: RunRecord) -> str:
    """A table of a ``scores`` run for the command line: one line per map (or checkpoint),
    then one per group."""
    view = ScoresRunView(run)
    d = view.contract
    head = (
        f"{run.id}: Wasserstein scores of {view.source_id} ({view.mode}), N = "
        f"{view.n_samples} per level, cost {view.cost}, solver {', '.join(view.solvers_used)}"
        f", {view.bootstrap} bootstrap replicates; W in {_W_UNITS.get(view.cost)}"
    )
    lines = [head]
    if view.mode == "training":
        lines.append(f"{'epoch':>7} {'W→data':>9} {'W step':>9} {'W from 0':>9} {'ΣW/W':>8}")
        for i, epoch in enumerate(d["epoch"]):
            cells = [f"{d['to_data'][i]:9.4f}"]
            if i:
                cells += [
                    f"{d['w_steps'][0, i - 1]:9.4f}",
                    f"{d['w_from_start'][0, i - 1]:9.4f}",
                    f"{d['running'][0, i - 1]:8.4f}",
                ]
            lines.append(f"{int(epoch):>7} " + " ".join(cells))
        shape = _pm(float(d["line_shape"][0]), math.nan)
        lines.append(f"line shape (initialization → end): {shape}")
        return "\n".join(lines)
    sizes = d["sizes"]
    lines.append(
        f"{'group':>12} {'map':>7} {'OTS':>20} {'map cost':>9} {'OT cost':>9} "
        f"{'agree':>6} {'W step':>8}"
    )
    for g, T in enumerate(d["temperature"]):
        label = f"T = {T:.4g}" if math.isfinite(T) else view.source_id
        for k in range(d["ots"].shape[1]):
            lines.append(
                f"{label:>12} {f'{k}→{k + 1}':>7} "
                f"{_pm(d['ots'][g, k], d['ots_error'][g, k], 5):>20} "
                f"{d['map_cost'][g, k]:9.4g} {d['ot_cost'][g, k]:9.4g} "
                f"{d['agreement'][g, k]:6.3f} {d['w_steps'][g, k]:8.4f}"
            )
        lines.append(
            f"{label:>12} {'0→' + str(len(sizes) - 1):>7} "
            f"{_pm(d['ots_total'][g], d['ots_total_error'][g], 5):>20}   LSS "
            f"{_pm(d['lss'][g], d['lss_error'][g])} ({int(d['lss_valid'][g])} tracks)"
            f"   ΣW/W {_pm(d['line_shape'][g], math.nan)}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the run's view
class ScoresRunView(RunView):
    """A ``scores`` run as the dock reads it: what was scored, how, and the arrays (read-only)
    the plots draw (:attr:`contract`, the same names as a live snapshot's)."""

    kind = KIND

    @property
    def mode(self) -> str:
        """rbm-flow, block-spin, stack or training."""
        return str(self._param("mode", ""))

    @property
    def source_id(self) -> str:
        """The run scored ('' when the run names none)."""
        return str(self._param("source", self.inputs[0] if self.inputs else ""))

    @property
    def source_kind(self) -> str:
        return str(self._param("source_kind", ""))

    @property
    def cost(self) -> str:
        return str(self._param("cost", ""))

    @property
    def metric(self) -> str:
        return str(self._param("metric", ""))

    @property
    def solver(self) -> str:
        """The solver asked for (``auto`` lets the size decide; :attr:`solvers_used`)."""
        return str(self._param("solver", ""))

    @property
    def solvers_used(self) -> tuple[str, ...]:
        return tuple(str(s) for s in self._param("solvers_used", []))

    @property
    def bootstrap(self) -> int:
        return int(self._param("bootstrap", 0))

    @property
    def n_samples(self) -> int:
        """N, the samples scored per level (or checkpoint)."""
        return int(self._param("n_samples", 0))

    @property
    def size(self) -> int:
        return int(self._param("size", 0))

    @property
    def n_levels(self) -> int:
        """V: levels (steps + 1, checkpoints) per group."""
        return int(self._param("n_levels", 0))

    @property
    def n_groups(self) -> int:
        return int(self._param("n_groups", 0))

    @property
    def embedding(self) -> str:
        return str(self._param("embedding", ""))

    @property
    def temperatures(self) -> np.ndarray:
        values = self._dataset("temperature")
        return np.zeros(0) if values is None else values

    @property
    def contract(self) -> dict[str, np.ndarray]:
        """Every array of the run, by name, read-only: what the plots draw."""
        out = {}
        for name in self._run.datasets:
            array = self._dataset(name)
            if array is not None:
                out[name] = array
        return out


def _summary(view: RunView) -> str:
    """'rg-002 (block-spin), N = 500, LSS 1.38 ± 0.03, OTS 1.029' or 'rbm-001 (training),
    5 checkpoints, ΣW/W 1.8'."""
    assert isinstance(view, ScoresRunView)
    parts = [f"{view.source_id or '?'} ({view.mode or '?'})", f"N = {view.n_samples}"]
    results = view.record.results
    if view.mode == "training":
        parts.insert(1, f"{view.n_levels} checkpoints")
    elif view.n_groups > 1:
        parts.append(f"{view.n_groups} temperatures")
    if "lss" in results:
        parts.append(f"LSS {_pm(float(results['lss']), float(results.get('lss_error', 'nan')), 3)}")
    if "ots_total" in results:
        parts.append(f"OTS {float(results['ots_total']):.4f}")
    if "line_shape" in results:
        parts.append(f"ΣW/W {float(results['line_shape']):.3f}")
    return ", ".join(parts)


register(RunKind(KIND, ScoresRunView, _summary, dock="geometryDock"))
