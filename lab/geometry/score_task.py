"""Gai & Zhang's scores of a plan (:mod:`lab.geometry.score_sources`) as a steppable task.

**Levels** (modes ``rbm-flow``, ``block-spin``, ``stack``; G groups, one per temperature, of
V = K + 1 levels): every group is first cut to the same N samples (``options.samples``, or all
of them when fewer; the same N for every group, so every map is scored at equal N), drawn
without replacement from the stream ``(seed, 4, 0)``, and its levels are embedded on the L × L
lattice (:mod:`engines.geometry.lattice_embedding`: the rbm-flow's steps are lattices already,
block spins are repeated over their blocks, a stack's levels are its mean-field
reconstruction or its repeated block spins). Then each ``step()`` does one of

- *map k* (k = 0 … K−1): the OTS of x^k → x^{k+1}, with its bootstrap error bar (replicates
  seeded ``[seed, k]``), the map's and the OT's costs, the solver's bracket, the agreement with
  the optimal plan and each sample's OT partner; its W is the step W(μ_k, μ_{k+1}) of the
  distribution-level line shape;
- *the whole map* (once per group, after its K maps): the OTS of x⁰ → x^K (seeded
  ``[seed, K]``; the one map itself when K = 1), the distances W(μ₀, μ_k) still missing, the LSS
  of every sample's track and the distribution-level line shape Σ W(μ_k, μ_{k+1}) / W(μ₀, μ_K).

These are exactly the calls and seeds of :func:`engines.geometry.score_levels` (hence of
``score_rbm_flow``, ``score_block_spin``, ``score_stack``), split into steps; the tests check the
numbers are the engine's.

**Training** (mode ``training``, V = C checkpoints): each ``step()`` draws N equilibrium samples
of one checkpoint (``engines.rbm.sample_model``: ``chains`` fresh Gibbs chains with the global
flip v → −v, ``burn_in`` then every ``thin`` sweeps; never reconstructions), and solves
W(model_c, data) against a fixed subsample of N data configurations, W(model_{c−1}, model_c)
and W(model_0, model_c): the distribution-level line shape of :func:`engines.geometry.
score_training` from the initialization to checkpoint c, and W to the data per checkpoint. The
chains and the data subsample are seeded exactly as :class:`lab.geometry.task.GeometryTask`
seeds its own (streams ``(seed, 2, epoch)`` and ``(seed, 1, 0)``), so with ``cost = hamming``
the W to the data is the geometry run's ``wasserstein_to_data``.

One step costs one OT solve per bootstrap replicate plus one (about 0.5 s for N = 500 with 20
replicates), or the sampling of one checkpoint: Stop answers within a step.

:meth:`ScoreTask.datasets` are the arrays of a ``scores`` run (names, shapes and units in
:mod:`lab.geometry.score_runs`); what is not computed yet is NaN (−1 for integers), and a
training's arrays grow by one checkpoint per step. Each step also appends one line of text to
:attr:`ScoreTask.lines` (what the ``score`` command prints).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from lab.geometry.score_options import ScoreOptions
from lab.geometry.score_sources import LevelsPlan, Plan, TrainingPlan
from lab.geometry.task import STREAM_DATA, STREAM_MODEL, stream_seed

STREAM_SUBSAMPLE = 4
"""The stream of :func:`lab.geometry.task.stream_seed` that draws the scored samples."""
_EXPONENT = {"sqeuclidean": 2.0, "hamming": 1.0}
_MAP_ROWS = (
    "ots",
    "ots_error",
    "ots_low",
    "ots_high",
    "map_cost",
    "map_cost_error",
    "ot_cost",
    "ot_lower",
    "ot_upper",
    "agreement",
    "plan_entropy",
)
_DISTANCE_ROWS = (
    "w_steps",
    "w_steps_lower",
    "w_steps_upper",
    "w_from_start",
    "w_from_start_lower",
    "w_from_start_upper",
    "running",
)
_GROUP_ROWS = (
    "ots_total",
    "ots_total_error",
    "ots_total_low",
    "ots_total_high",
    "lss",
    "lss_error",
    "lss_median",
    "lss_pooled",
    "line_shape",
    "line_shape_low",
    "line_shape_high",
)
_GROUP_COUNTS = ("lss_valid", "lss_closed", "lss_static")


@dataclass(frozen=True)
class ScoreSnapshot:
    """What a view draws: the run's arrays so far, the steps done and the lines printed."""

    datasets: dict[str, np.ndarray]
    done: int
    total: int
    lines: tuple[str, ...]
    mode: str
    solvers: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def contract(self) -> dict[str, np.ndarray]:
        """The arrays, as the panel's plots name them (those of a ``scores`` run)."""
        return self.datasets


def _distances(ot_cost: float, lower: float, upper: float, cost: str) -> tuple[float, ...]:
    """(W, W_lower, W_upper) = OT^(1/p) (p = 2 for sqeuclidean, 1 for hamming)."""
    p = _EXPONENT[cost]
    return tuple(max(v, 0.0) ** (1.0 / p) for v in (ot_cost, lower, upper))


def subsample(count: int, keep: int, seed: int, stream: int) -> np.ndarray:
    """Sorted indices of ``keep`` of ``count`` samples drawn without replacement from the
    stream ``(seed, stream, 0)`` (all of them, in order, when ``keep >= count``)."""
    rng = np.random.default_rng(stream_seed(seed, stream, 0))
    return np.sort(rng.choice(count, min(keep, count), replace=False))


class ScoreTask:
    """Steps through a plan's maps (levels) or checkpoints (training), one per ``step()``
    (module doc); ``finished`` when none is left."""

    def __init__(self, plan: Plan, options: ScoreOptions | None = None) -> None:
        self.plan = plan
        self.options = options if options is not None else ScoreOptions()
        self.mode = plan.mode
        self.lines: list[str] = []
        self.solvers: list[str] = []
        self.seconds = 0.0
        self.done = 0
        self.n_samples = min(self.options.samples, plan.n_available)
        self.size = int(plan.size)
        self.n_levels = int(plan.n_levels)
        self.n_maps = self.n_levels - 1
        self.n_tracks = min(self.options.tracks, self.n_samples)
        if isinstance(plan, LevelsPlan):
            self._init_levels(plan)
        else:
            self._init_training(plan)

    # ------------------------------------------------------------------ progress
    @property
    def total(self) -> int:
        if self.mode == "training":
            return self.n_levels
        return len(self.plan.groups) * (self.n_maps + 1)

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def step(self) -> ScoreSnapshot:
        if not self.finished:
            start = time.perf_counter()
            if self.mode == "training":
                self._checkpoint_step(self.done)
            else:
                group, item = divmod(self.done, self.n_maps + 1)
                if item < self.n_maps:
                    self._map_step(group, item)
                else:
                    self._whole_step(group)
            self.done += 1
            self.seconds += time.perf_counter() - start
        return self.snapshot()

    def snapshot(self) -> ScoreSnapshot:
        return ScoreSnapshot(
            self.datasets(),
            self.done,
            self.total,
            tuple(self.lines),
            self.mode,
            tuple(self.solvers),
            self.seconds,
        )

    def _solver(self, name: str) -> None:
        if name not in self.solvers:
            self.solvers.append(name)

    # ------------------------------------------------------------------ levels
    def _init_levels(self, plan: LevelsPlan) -> None:
        G, K, V = len(plan.groups), self.n_maps, self.n_levels
        N, S, L = self.n_samples, self.n_tracks, self.size
        nan = np.nan
        self._rows = {name: np.full((G, K), nan) for name in (*_MAP_ROWS, *_DISTANCE_ROWS)}
        self._rows["ots_ci"] = np.full((G, K, 2), nan)
        self._rows.update({name: np.full(G, nan) for name in _GROUP_ROWS})
        self._counts = {name: np.full(G, -1, dtype=np.int64) for name in _GROUP_COUNTS}
        self._per_track = np.full((G, N), nan)
        self._step_lengths = np.full((G, K, N), nan)
        self._partner = np.full((G, K, N), -1, dtype=np.int64)
        self._index = np.full((G, N), -1, dtype=np.int64)
        self._track_images = np.full((G, V, S, L, L), nan, dtype=np.float32)
        self._partner_images = np.full((G, K, S, L, L), nan, dtype=np.float32)
        self._arrays: list[np.ndarray] | None = None  # the current group's embedded levels
        self._arrays_group = -1
        self._maps: list[dict] = []

    def _embedded(self, g: int) -> list[np.ndarray]:
        """Group g's levels cut to the N samples and embedded on the lattice (cached)."""
        if self._arrays_group == g and self._arrays is not None:
            return self._arrays
        from engines.geometry import repeat_blocks, stack_embedding

        plan, opts = self.plan, self.options
        group = plan.groups[g]
        index = subsample(group.n_available, self.n_samples, opts.seed, STREAM_SUBSAMPLE)
        levels = [np.asarray(x)[index] for x in group.levels]
        L = self.size
        if plan.mode == "rbm-flow":
            arrays = levels
        elif plan.mode == "block-spin":
            arrays = [repeat_blocks(x, L) for x in levels]
        elif opts.embedding == "reconstruction":
            arrays = stack_embedding(levels, plan.rbms, plan.block)
        else:
            arrays = [repeat_blocks(x, L).astype(np.float64) for x in levels]
        self._index[g] = index
        S = self.n_tracks
        for v, x in enumerate(arrays):
            self._track_images[g, v] = np.asarray(x[:S], dtype=np.float32)
        self._arrays, self._arrays_group, self._maps = arrays, g, []
        return arrays

    def _label(self, g: int) -> str:
        return f"{self.plan.groups[g].source_id}  {self.plan.groups[g].label}"

    def _map_step(self, g: int, k: int) -> None:
        from engines.geometry import optimal_transport_score
        from engines.geometry.wasserstein_scores import EXACT_MAX

        opts = self.options
        arrays = self._embedded(g)
        r = optimal_transport_score(
            arrays[k],
            arrays[k + 1],
            opts.cost,
            opts.bootstrap,
            [opts.seed, k],
            opts.solver,
            EXACT_MAX,
            None,
            plan_max=0,
        )
        self._maps.append(r)
        self._solver(r["solver"])
        rows = self._rows
        for name, key in (
            ("ots", "ots"),
            ("ots_error", "ots_se"),
            ("ots_low", "ots_low"),
            ("ots_high", "ots_high"),
            ("map_cost", "map_cost"),
            ("map_cost_error", "map_cost_se"),
            ("ot_cost", "ot_cost"),
            ("ot_lower", "ot_lower"),
            ("ot_upper", "ot_upper"),
            ("agreement", "agreement"),
            ("plan_entropy", "plan_entropy"),
        ):
            rows[name][g, k] = r[key]
        rows["ots_ci"][g, k] = r["ots_ci"]
        w = _distances(r["ot_cost"], r["ot_lower"], r["ot_upper"], opts.cost)
        for name, value in zip(("w_steps", "w_steps_lower", "w_steps_upper"), w, strict=True):
            rows[name][g, k] = value
        partner = np.asarray(r["partner"], dtype=np.int64)
        self._partner[g, k] = partner
        S = self.n_tracks
        self._partner_images[g, k] = np.asarray(arrays[k + 1][partner[:S]], dtype=np.float32)
        sizes = self.plan.groups[g].sizes
        error = "" if not math.isfinite(r["ots_se"]) else f" ± {r['ots_se']:.5f}"
        self.lines.append(
            f"{self._label(g)}  map {k}→{k + 1} ({sizes[k]}→{sizes[k + 1]})  "
            f"OTS {r['ots']:.5f}{error}  map cost {r['map_cost']:.4g}  OT {r['ot_cost']:.4g}  "
            f"agreement {r['agreement']:.3f}  [{r['solver']}, N = {r['n']}]"
        )

    def _whole_step(self, g: int) -> None:
        from engines.geometry import line_shape_score, optimal_transport, optimal_transport_score
        from engines.geometry.wasserstein_scores import EXACT_MAX

        opts, K = self.options, self.n_maps
        arrays = self._embedded(g)
        assert len(self._maps) == K, "the whole map comes after the group's K maps"
        total = (
            self._maps[0]
            if K == 1
            else optimal_transport_score(
                arrays[0],
                arrays[K],
                opts.cost,
                opts.bootstrap,
                [opts.seed, K],
                opts.solver,
                EXACT_MAX,
                None,
                plan_max=0,
            )
        )
        self._solver(total["solver"])
        steps = np.array(
            [_distances(r["ot_cost"], r["ot_lower"], r["ot_upper"], opts.cost) for r in self._maps]
        )
        start = np.empty((K, 3))
        start[0] = steps[0]
        start[K - 1] = _distances(total["ot_cost"], total["ot_lower"], total["ot_upper"], opts.cost)
        for k in range(2, K):
            res = optimal_transport(
                arrays[0], arrays[k], opts.cost, opts.solver, EXACT_MAX, None, plan_max=0
            )
            start[k - 1] = (res["distance"], res["distance_lower"], res["distance_upper"])
            self._solver(res["solver"])
        lss = line_shape_score(arrays, opts.metric, opts.unit_steps)
        rows = self._rows
        path = np.cumsum(steps[:, 0])
        with np.errstate(divide="ignore", invalid="ignore"):
            running = np.where(start[:, 0] > 0, path / start[:, 0], np.nan)
        chord = start[-1]
        for j, name in enumerate(("w_from_start", "w_from_start_lower", "w_from_start_upper")):
            rows[name][g] = start[:, j]
        rows["running"][g] = running
        rows["line_shape"][g] = running[-1]
        rows["line_shape_low"][g] = steps[:, 1].sum() / chord[2] if chord[2] > 0 else np.nan
        rows["line_shape_high"][g] = steps[:, 2].sum() / chord[1] if chord[1] > 0 else np.nan
        for name, key in (
            ("ots_total", "ots"),
            ("ots_total_error", "ots_se"),
            ("ots_total_low", "ots_low"),
            ("ots_total_high", "ots_high"),
        ):
            rows[name][g] = total[key]
        for name, key in (
            ("lss", "mean"),
            ("lss_error", "sem"),
            ("lss_median", "median"),
            ("lss_pooled", "pooled"),
        ):
            rows[name][g] = lss[key]
        for name, key in (
            ("lss_valid", "n_valid"),
            ("lss_closed", "n_closed"),
            ("lss_static", "n_static"),
        ):
            self._counts[name][g] = lss[key]
        self._per_track[g] = lss["per_track"]
        self._step_lengths[g] = lss["step_lengths"]
        sem = "" if not math.isfinite(lss["sem"]) else f" ± {lss['sem']:.4f}"
        total_error = "" if not math.isfinite(total["ots_se"]) else f" ± {total['ots_se']:.5f}"
        self.lines.append(
            f"{self._label(g)}  whole 0→{K}  LSS {lss['mean']:.4f}{sem} "
            f"({lss['n_valid']} tracks, {lss['n_closed']} closed, {lss['n_static']} static)  "
            f"OTS {total['ots']:.5f}{total_error}  ΣW/W {running[-1]:.4f}"
        )
        self._maps = []

    # ------------------------------------------------------------------ training
    def _init_training(self, plan: TrainingPlan) -> None:
        opts = self.options
        self._data_index = subsample(plan.n_available, opts.samples, opts.seed, STREAM_DATA)
        self._data = plan.data[self._data_index]
        self._first: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._train_rows: dict[str, list] = {
            name: []
            for name in (
                "epoch",
                "to_data",
                "to_data_lower",
                "to_data_upper",
                "sample_images",
                "data_partner_images",
                *_DISTANCE_ROWS,
            )
        }

    def model_samples(self, index: int) -> np.ndarray:
        """(N, L, L) int8 equilibrium samples of checkpoint ``index`` (module doc)."""
        import torch

        from engines.rbm import RBM, sample_model

        opts = self.options
        epoch, W, a, b = self.plan.checkpoints[index]
        model = RBM(
            np.array(W, np.float32), np.array(a, np.float32), np.array(b, np.float32)
        )  # copies: a run's arrays are read-only
        generator = torch.Generator().manual_seed(stream_seed(opts.seed, STREAM_MODEL, int(epoch)))
        samples, _ = sample_model(
            model,
            self.n_samples,
            burn_in=opts.burn_in,
            thin=opts.thin,
            n_chains=opts.chains,
            generator=generator,
            flip_moves=True,
        )
        return samples.reshape(-1, self.size, self.size)

    def _checkpoint_step(self, c: int) -> None:
        from engines.geometry import optimal_transport
        from engines.geometry.wasserstein_scores import EXACT_MAX

        opts, rows, S = self.options, self._train_rows, self.n_tracks
        epoch = int(self.plan.checkpoints[c][0])
        samples = self.model_samples(c)
        to = optimal_transport(
            samples, self._data, opts.cost, opts.solver, EXACT_MAX, None, plan_max=0
        )
        self._solver(to["solver"])
        rows["epoch"].append(epoch)
        rows["to_data"].append(to["distance"])
        rows["to_data_lower"].append(to["distance_lower"])
        rows["to_data_upper"].append(to["distance_upper"])
        rows["sample_images"].append(samples[:S].astype(np.int8))
        rows["data_partner_images"].append(self._data[to["partner"][:S]].astype(np.int8))
        text = f"{self.plan.source_id}  epoch {epoch}  W→data {to['distance']:.4f}"
        if c > 0:
            step = optimal_transport(
                self._previous, samples, opts.cost, opts.solver, EXACT_MAX, None, plan_max=0
            )
            self._solver(step["solver"])
            start = (
                step
                if c == 1
                else optimal_transport(
                    self._first, samples, opts.cost, opts.solver, EXACT_MAX, None, plan_max=0
                )
            )
            self._solver(start["solver"])
            for name, key in (
                ("w_steps", "distance"),
                ("w_steps_lower", "distance_lower"),
                ("w_steps_upper", "distance_upper"),
                ("w_from_start", "distance"),
                ("w_from_start_lower", "distance_lower"),
                ("w_from_start_upper", "distance_upper"),
            ):
                rows[name].append((step if name.startswith("w_steps") else start)[key])
            path = float(np.sum(rows["w_steps"]))
            chord = start["distance"]
            rows["running"].append(path / chord if chord > 0 else math.nan)
            text += (
                f"  W step {step['distance']:.4f}  W from start {chord:.4f}  "
                f"ΣW/W {rows['running'][-1]:.4f}"
            )
        else:
            self._first = samples
        self._previous = samples
        self.lines.append(text + f"  [{to['solver']}, N = {samples.shape[0]}]")

    # ------------------------------------------------------------------ results
    def datasets(self) -> dict[str, np.ndarray]:
        """The ``scores`` run's arrays so far (copies; module doc)."""
        if self.mode == "training":
            return self._training_datasets()
        out: dict[str, np.ndarray] = {name: values.copy() for name, values in self._rows.items()}
        out.update({name: values.copy() for name, values in self._counts.items()})
        out["temperature"] = np.array([g.temperature for g in self.plan.groups])
        out["sizes"] = np.array(self.plan.groups[0].sizes, dtype=np.int64)
        out["lss_per_track"] = self._per_track.copy()
        out["step_lengths"] = self._step_lengths.copy()
        out["partner"] = self._partner.copy()
        out["sample_index"] = self._index.copy()
        out["track_images"] = self._track_images.copy()
        out["partner_images"] = self._partner_images.copy()
        return out

    def _training_datasets(self) -> dict[str, np.ndarray]:
        rows, C, S, L = self._train_rows, len(self._train_rows["epoch"]), self.n_tracks, self.size
        out: dict[str, np.ndarray] = {
            "epoch": np.array(rows["epoch"], dtype=np.int64),
            "data_index": self._data_index.astype(np.int64),
            "sample_images": np.array(rows["sample_images"], dtype=np.int8).reshape(C, S, L, L),
            "data_partner_images": np.array(rows["data_partner_images"], dtype=np.int8).reshape(
                C, S, L, L
            ),
        }
        for name in ("to_data", "to_data_lower", "to_data_upper"):
            out[name] = np.array(rows[name], dtype=np.float64)
        for name in _DISTANCE_ROWS:
            out[name] = np.array(rows[name], dtype=np.float64).reshape(1, max(C - 1, 0))
        running = out["running"][0]
        steps = out["w_steps_lower"][0], out["w_steps_upper"][0]
        chord = out["w_from_start_lower"][0], out["w_from_start_upper"][0]
        done = running.size > 0
        out["line_shape"] = np.array([running[-1] if done else math.nan])
        out["line_shape_low"] = np.array(
            [steps[0].sum() / chord[1][-1] if done and chord[1][-1] > 0 else math.nan]
        )
        out["line_shape_high"] = np.array(
            [steps[1].sum() / chord[0][-1] if done and chord[0][-1] > 0 else math.nan]
        )
        return out
