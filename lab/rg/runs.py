"""Coarse-graining as session runs: the levels of one Ising run, and a whole RG flow.

An ``rg`` run holds, for every level k = 1 … levels, ``level_<k>/samples`` (N, L/b^k, L/b^k)
int8 ±1 and ``level_<k>/r``, ``level_<k>/C``, ``level_<k>/C_error`` (C(r), r in original lattice
spacings), and the per-level curves ``size``, ``e``, ``abs_m``, ``binder`` (with ``*_error``),
``effective_temperature`` (energy matched to Kaufman's exact e of the coarse size; ``*_error``)
and ``binder_temperature`` (U4 matched to the exact finite-size U4 for coarse sizes ≤ 8, NaN
beyond). Its params: ``rule``, ``block``, ``levels``, ``size``, ``data``, ``temperature`` (when
the data has one) and ``mode``: ``"coarse-grain"`` or ``"rbm-flow"`` (runs made before it
existed are coarse-grainings).

With the rule ``rbm`` level k is made by the hidden layer of the k-th RBM of a stack (one RBM is
a stack of one), whose units are matched to blocks (m must be (L/b^k)²) and oriented (a unit
with negative weights on its block stands for the block spin −1 when it fires); a level whose
units are not local enough (mean matched share below ``min_share``) is refused
(:mod:`engines.rg.stack`). The inputs are the data run then the RBM runs, level 1 first (param
``rbm``: the same ids); ``locality/*`` describe level 1's units, ``level_<k>/block_share`` (m,)
is each unit's share of squared weight on its matched block and the curve ``block_share`` its
mean per level.

With the rule ``rbm-flow`` (param ``mode="rbm-flow"``, ``block`` 1) the "levels" are the steps of
the Iso–Shiba–Yokoo flow v → h → v′ (:mod:`engines.rg.rbm_flow`): every level has the size L of
the data, and C(r) is in lattice spacings; the inputs are the data and the RBM run.

An ``rg-flow`` run (:mod:`lab.rg.flow`) holds ``temperature`` (the simulated T that were done)
and ``effective_temperature``, ``binder_temperature`` (with ``*_error``), each (T, level); its
inputs are its ``rg`` runs, one per temperature.

What the docks read is :class:`RGRunView` and :class:`RGFlowRunView` (registered at the bottom
for the kinds ``rg`` and ``rg-flow``); the Ising runs coarse-grained and the RBMs used are read
through their own features' views (``IsingRunView``, ``RBMRunView``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data import RunRecord
from engines.exact import critical_temperature
from engines.ising import Estimate
from engines.rg import (
    MIN_BLOCK_SHARE,
    RULES,
    binder_temperature,
    coarse_grain,
    level_observables,
    locality,
    rbm_flow,
)
from lab.core.ids import utc_now
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.ising.runs import Correlation
from lab.rbm.runs import RunInputError, rbm_from_run
from lab.rg.settings import check_levels

BINDER_MAX_SIZE = 8
CURVES = ("e", "abs_m", "binder")
TEMPERATURE_CURVES = ("effective_temperature", "binder_temperature")
T_C = float(critical_temperature())
"""Onsager's T_c = 2/ln(1 + √2) (J = 1): the fixed point an RG flow of the 2D Ising model
leaves."""


def check_stack(rbm_runs: Sequence[RunRecord], size: int, block: int) -> None:
    """RunInputError unless RBM k has (size/b^(k-1))² visible and (size/b^k)² hidden units."""
    L = size
    for k, run in enumerate(rbm_runs, start=1):
        W = rbm_from_run(run).W
        if L % block or W.shape != ((L * L, (L // block) ** 2)):
            raise RunInputError(
                f"run '{run.id}' cannot be level {k} of a stack on L = {size} with blocks "
                f"b = {block}: it has {W.shape[0]} visible and {W.shape[1]} hidden units, level "
                f"{k} needs {L * L} and {(L // block) ** 2}"
            )
        L //= block


def _rbm_levels(
    rbm_runs: Sequence[RunRecord], samples: np.ndarray, block: int, seed: int, min_share: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from engines.rg import coarse_grain_stack  # torch: loaded only when a stack is used

    check_stack(rbm_runs, samples.shape[1], block)
    stack = []
    for run in rbm_runs:
        params = rbm_from_run(run).to_numpy()
        stack.append((params["W"], params["b"]))
    try:
        return coarse_grain_stack(samples, stack, block, seed, min_share)
    except ValueError as exc:
        raise RunInputError(f"{exc} (RBM runs {', '.join(r.id for r in rbm_runs)})") from None


def _binder_temperature(binder: Estimate, size: int) -> Estimate | None:
    if size > BINDER_MAX_SIZE:
        return None
    try:
        return binder_temperature(binder, size)
    except ValueError:
        return None  # U4 outside the exact curve's range in the bracket


def _samples_of(data_run: RunRecord) -> np.ndarray:
    samples = data_run.datasets.get("samples")
    if samples is None or samples.shape[0] < 2:
        raise RunInputError(f"run '{data_run.id}' has no recorded configurations")
    return samples


def _as_stack(rbm_run: RunRecord | Sequence[RunRecord] | None) -> list[RunRecord]:
    if rbm_run is None:
        return []
    return [rbm_run] if isinstance(rbm_run, RunRecord) else list(rbm_run)


def coarse_grain_run(
    run_id: str,
    data_run: RunRecord,
    rule: str,
    block: int,
    levels: int,
    seed: int = 0,
    rbm_run: RunRecord | Sequence[RunRecord] | None = None,
    min_share: float = MIN_BLOCK_SHARE,
) -> RunRecord:
    """The ``rg`` run of ``data_run`` (ValueError / RunInputError with a clear message).

    For the rule ``rbm``, ``rbm_run`` is one RBM run or the stack (level 1 first), and
    ``levels`` must equal the number of RBMs.
    """
    samples = _samples_of(data_run)
    if rule not in (*RULES, "rbm"):
        raise RunInputError(f"unknown rule '{rule}' (majority, decimation or rbm)")
    if levels < 1:
        raise RunInputError(f"levels must be ≥ 1, got {levels}")
    try:
        check_levels(int(samples.shape[1]), block, levels)
    except ValueError as exc:
        raise RunInputError(str(exc)) from None
    inputs = [data_run.id]
    datasets: dict[str, np.ndarray] = {}
    extra: dict[str, object] = {}
    if rule == "rbm":
        stack = _as_stack(rbm_run)
        if not stack:
            raise RunInputError("the rbm rule needs the RBM run (--rbm RUN)")
        if levels != len(stack):
            raise RunInputError(
                f"the rbm rule makes one level per RBM: {len(stack)} RBM runs for {levels} levels"
            )
        inputs += [r.id for r in stack]
        configs, shares = _rbm_levels(stack, samples, block, seed, min_share)
        datasets.update(locality_datasets(stack[0], samples.shape[1], block))
        for k, share in enumerate(shares, start=1):
            datasets[f"level_{k}/block_share"] = np.asarray(share, dtype=float)
        datasets["block_share"] = np.array([np.mean(s) for s in shares], dtype=float)
        extra = {"rbm": [r.id for r in stack], "min_share": float(min_share)}
    else:
        configs = coarse_grain(samples, rule, block, levels, seed)
    run = levels_run(
        run_id,
        data_run,
        configs,
        block,
        seed,
        inputs,
        {"rule": rule, "block": block, "levels": levels, **extra},
    )
    run.datasets.update(datasets)
    if rule == "rbm":
        run.dataset_attrs["block_share"] = {
            "units": "fraction",
            "axes": "level",
            "description": "mean share of a unit's squared weight on its matched block",
        }
    return run


def rbm_flow_run(
    run_id: str, data_run: RunRecord, rbm_run: RunRecord, steps: int, seed: int = 0
) -> RunRecord:
    """The ``rg`` run of the Iso–Shiba–Yokoo flow of ``data_run``: one level per step."""
    samples = _samples_of(data_run)
    model = rbm_from_run(rbm_run)
    if model.n_visible != samples.shape[1] ** 2:
        raise RunInputError(
            f"run '{rbm_run.id}' has {model.n_visible} visible units, the data "
            f"L = {samples.shape[1]} needs {samples.shape[1] ** 2}"
        )
    params = model.to_numpy()
    try:
        configs = rbm_flow(params["W"], params["a"], params["b"], samples, steps, seed)
    except ValueError as exc:
        raise RunInputError(str(exc)) from None
    return levels_run(
        run_id,
        data_run,
        configs,
        1,
        seed,
        [data_run.id, rbm_run.id],
        {"rule": "rbm-flow", "block": 1, "levels": steps, "mode": "rbm-flow", "rbm": [rbm_run.id]},
    )


def levels_run(
    run_id: str,
    data_run: RunRecord,
    configs: list[np.ndarray],
    block: int,
    seed: int,
    inputs: list[str],
    params: dict[str, object],
) -> RunRecord:
    """An ``rg`` run from ``configs`` = [level 0, level 1, …]: per-level datasets and curves.

    C(r) of level k is reported at r = b^k × (coarse distance). ``params`` (rule, block, levels,
    …) are completed with the data's size, id and temperature and ``mode`` (default
    "coarse-grain").
    """
    datasets: dict[str, np.ndarray] = {}
    curves: dict[str, list[float]] = {"size": []}
    for name in (*CURVES, *TEMPERATURE_CURVES):
        curves[name], curves[f"{name}_error"] = [], []
    for k, level in enumerate(configs[1:], start=1):
        obs = level_observables(level, scale=block**k)
        size = level.shape[1]
        curves["size"].append(size)
        for name in CURVES:
            curves[name].append(obs[name].value)
            curves[f"{name}_error"].append(obs[name].error)
        for name, estimate in (
            ("effective_temperature", obs.get("t_eff")),
            ("binder_temperature", _binder_temperature(obs["binder"], size)),
        ):
            curves[name].append(np.nan if estimate is None else estimate.value)
            curves[f"{name}_error"].append(np.nan if estimate is None else estimate.error)
        datasets[f"level_{k}/samples"] = level.astype(np.int8)
        for key in ("r", "C", "C_error"):
            datasets[f"level_{k}/{key}"] = np.asarray(obs[key], dtype=float)
    datasets.update({k: np.asarray(v, dtype=float) for k, v in curves.items()})
    samples = configs[0]
    params = {"mode": "coarse-grain", **params, "size": int(samples.shape[1]), "data": data_run.id}
    if "temperature" in data_run.params:
        params["temperature"] = float(data_run.params["temperature"])
    run = RunRecord(
        id=run_id,
        kind="rg",
        status="finished",
        seed=seed,
        params=params,
        inputs=inputs,
        created=utc_now(),
        finished=utc_now(),
        datasets=datasets,
    )
    run.dataset_attrs = {
        "effective_temperature": {
            "units": "T in units of J",
            "axes": "level",
            "description": "T where Kaufman's exact e(L', T) equals the "
            "coarse configurations' energy per spin",
        },
        "binder_temperature": {
            "units": "T in units of J",
            "axes": "level",
            "description": "T where the exact U4(L', T) equals theirs (L' <= 8, NaN beyond)",
        },
    }
    return run


def locality_datasets(rbm_run: RunRecord, L: int, b: int) -> dict[str, np.ndarray]:
    """Where each hidden unit looks: ``locality/centre`` (m, 2) (row, col) on the torus,
    ``locality/best_block`` (m, 2), ``locality/block_share`` (m,) (share of its squared weight
    in that b×b block: 1 for a perfectly block-local unit), ``locality/spread`` (m,) (RMS
    distance of |w| from the centre, lattice spacings)."""
    found = locality(rbm_from_run(rbm_run).to_numpy()["W"], L, b)
    return {
        f"locality/{key}": np.asarray(found[key])
        for key in ("centre", "best_block", "block_share", "spread")
    }


def matched_shares(weights: np.ndarray, L: int, b: int) -> dict[str, float] | None:
    """The locality figure of a hidden layer read as the coarse lattice: its (n, m) ``weights``'
    units matched one to one to the b×b blocks (:func:`engines.rg.matched_locality`, best grid
    offset): ``mean``, ``min`` matched share, ``distinct`` best blocks and ``chance`` (b²/L²).
    None when the layer has more units than blocks."""
    if np.asarray(weights).shape[1] > (L // b) ** 2:
        return None
    from engines.rg import matched_locality  # scipy's assignment: loaded only when asked

    found = matched_locality(np.asarray(weights), L, b, offset="best")
    return {
        "mean": float(found["mean_matched_share"]),
        "min": float(found["min_matched_share"]),
        "distinct": float(found["distinct_blocks"]),
        "chance": float(found["chance"]),
    }


def format_locality(run: RunRecord) -> list[str]:
    """One line per hidden unit of an rbm-rule ``rg`` run: centre, best block, share, spread."""
    found = RGRunView(run).locality
    if found is None:
        return []
    lines = [f"{'unit':>4} {'centre (row, col)':>18} {'best block':>11} {'share':>7} {'spread':>7}"]
    for j, share in enumerate(found.block_share):
        row, col = found.centre[j]
        br, bc = found.best_block[j]
        lines.append(
            f"{j:>4} {f'({row:.2f}, {col:.2f})':>18} {f'({br}, {bc})':>11} "
            f"{share:>7.3f} {found.spread[j]:>7.3f}"
        )
    return lines


def format_levels(run: RunRecord) -> list[str]:
    """A table of an ``rg`` run's levels: size, e, U4 and both effective temperatures."""
    lines = [
        f"{'level':>5} {'L':>4} {'e':>18} {'U4':>18} {'T_eff (energy)':>18} {'T_U (Binder)':>18}"
    ]

    def cell(estimate: Estimate) -> str:
        value, error = estimate.value, estimate.error
        return "—" if not np.isfinite(value) else f"{value:.4f} ± {error:.4f}"

    for level in RGRunView(run).levels:
        lines.append(
            f"{level.index:>5} {level.size:>4} {cell(level.e):>18} "
            f"{cell(level.binder):>18} {cell(level.effective_temperature):>18} "
            f"{cell(level.binder_temperature):>18}"
        )
    return lines


# ---------------------------------------------------------------------------- views
NAN_ESTIMATE = Estimate(math.nan, math.nan)


@dataclass(frozen=True, eq=False)
class UnitLocality:
    """Where each hidden unit of level 1's RBM looks (rbm rule): ``centre`` (m, 2) (row, col)
    on the torus, ``best_block`` (m, 2), ``block_share`` (m,) (share of its squared weight in
    that block) and ``spread`` (m,) (RMS distance of |w| from the centre, lattice spacings)."""

    centre: np.ndarray
    best_block: np.ndarray
    block_share: np.ndarray
    spread: np.ndarray


@dataclass(frozen=True, eq=False)
class RGLevel:
    """Level k of an ``rg`` run: its configurations, C(r) and observables with ±1σ.

    ``size`` is L′ (L/b^k, or L for the rbm-flow); ``samples`` (N, L′, L′) int8 ±1 or None;
    ``correlation`` or None; ``e``, ``abs_m``, ``binder`` (U₄) measured on the level;
    ``effective_temperature`` (energy matched to Kaufman's exact e of size L′) and
    ``binder_temperature`` (U₄ matched to the exact finite-size U₄, NaN beyond L′ = 8);
    ``block_share`` (m,) each unit's share of squared weight on its block (rbm rule) or None,
    ``mean_block_share`` its mean (NaN without)."""

    index: int
    size: int
    samples: np.ndarray | None
    correlation: Correlation | None
    e: Estimate
    abs_m: Estimate
    binder: Estimate
    effective_temperature: Estimate
    binder_temperature: Estimate
    block_share: np.ndarray | None
    mean_block_share: float


class RGRunView(RunView):
    """An ``rg`` run: how it was made (rule, block, mode, data, RBMs) and its levels."""

    kind = "rg"

    @property
    def rule(self) -> str:
        """majority, decimation, rbm or rbm-flow."""
        return str(self._param("rule", ""))

    @property
    def block(self) -> int:
        """The block side b (1 for the rbm-flow)."""
        return int(self._param("block", 0))

    @property
    def mode(self) -> str:
        """ "coarse-grain" or "rbm-flow" (runs made before the mode existed: coarse-grain)."""
        return str(self._param("mode", "coarse-grain"))

    @property
    def n_levels(self) -> int:
        return int(self._param("levels", 0))

    @property
    def size(self) -> int:
        """L of the original lattice."""
        return int(self._param("size", 0))

    @property
    def data_id(self) -> str:
        """The id of the Ising run coarse-grained."""
        return str(self._param("data", ""))

    @property
    def temperature(self) -> float:
        """The data's temperature (NaN when it has none)."""
        return float(self._param("temperature", math.nan))

    @property
    def rbm_ids(self) -> tuple[str, ...]:
        """The RBM runs used (the inputs after the data, level 1 first); () for block rules."""
        return self.inputs[1:]

    @property
    def rbm_id(self) -> str | None:
        """The RBM behind level 1 of an ``rbm``-rule run, else None."""
        if self.rule != "rbm" or len(self.inputs) < 2:
            return None
        return self.inputs[1]

    @property
    def min_share(self) -> float:
        """The locality an RBM level had to reach (rbm rule; NaN otherwise)."""
        return float(self._param("min_share", math.nan))

    def _curve(self, name: str, i: int) -> float:
        values = self._dataset(name)
        return float(values[i]) if values is not None and i < values.size else math.nan

    def _estimate(self, name: str, i: int) -> Estimate:
        return Estimate(self._curve(name, i), self._curve(f"{name}_error", i))

    def _correlation(self, prefix: str, error: str) -> Correlation | None:
        arrays = [self._dataset(f"{prefix}/{key}") for key in ("r", "C", error)]
        return None if any(a is None for a in arrays) else Correlation(*arrays)

    def level(self, k: int) -> RGLevel:
        """Level ``k`` (1 … n_levels)."""
        samples = self._dataset(f"level_{k}/samples")
        size = self._curve("size", k - 1)
        if not math.isfinite(size):
            size = samples.shape[1] if samples is not None else 0
        return RGLevel(
            index=k,
            size=int(size),
            samples=samples,
            correlation=self._correlation(f"level_{k}", "C_error"),
            e=self._estimate("e", k - 1),
            abs_m=self._estimate("abs_m", k - 1),
            binder=self._estimate("binder", k - 1),
            effective_temperature=self._estimate("effective_temperature", k - 1),
            binder_temperature=self._estimate("binder_temperature", k - 1),
            block_share=self._dataset(f"level_{k}/block_share"),
            mean_block_share=self._curve("block_share", k - 1),
        )

    @property
    def levels(self) -> tuple[RGLevel, ...]:
        """Levels 1 … n_levels, in order."""
        return tuple(self.level(k) for k in range(1, self.n_levels + 1))

    @property
    def locality(self) -> UnitLocality | None:
        """Where level 1's hidden units look (rbm rule), or None."""
        arrays = [
            self._dataset(f"locality/{key}")
            for key in ("centre", "best_block", "block_share", "spread")
        ]
        return None if any(a is None for a in arrays) else UnitLocality(*arrays)


@dataclass(frozen=True, eq=False)
class FlowCurve:
    """T′ of one level at each simulated T, with one-sigma errors (NaN where unknown)."""

    values: np.ndarray
    errors: np.ndarray


@dataclass(frozen=True, eq=False)
class FlowLevel:
    """Level k of an ``rg-flow`` run: T′ against T, energy- and Binder-matched."""

    index: int
    temperatures: np.ndarray
    energy: FlowCurve
    binder: FlowCurve


class RGFlowRunView(RunView):
    """An ``rg-flow`` run: T → T′ per level over a range of simulated temperatures."""

    kind = "rg-flow"

    @property
    def rule(self) -> str:
        return str(self._param("rule", ""))

    @property
    def block(self) -> int:
        return int(self._param("block", 0))

    @property
    def mode(self) -> str:
        return str(self._param("mode", "coarse-grain"))

    @property
    def n_levels(self) -> int:
        """Levels per temperature (steps for the rbm-flow)."""
        return int(self._param("levels", 0))

    @property
    def size(self) -> int:
        return int(self._param("size", 0))

    @property
    def algorithm(self) -> str:
        return str(self._param("algorithm", ""))

    @property
    def samples_per_temperature(self) -> int:
        return int(self._param("samples", 0))

    @property
    def planned_temperatures(self) -> np.ndarray:
        """Every T asked for (some may not be done: see :attr:`temperatures`)."""
        return np.asarray(self._param("temperatures", []), dtype=float)

    @property
    def temperatures(self) -> np.ndarray:
        """The simulated T that were done, in order (empty when none)."""
        values = self._dataset("temperature")
        return np.zeros(0) if values is None else values

    @property
    def rbm_ids(self) -> tuple[str, ...]:
        """The RBM runs used or trained (rbm and rbm-flow rules), level 1 first."""
        return tuple(str(i) for i in self._param("rbm", ()))

    @property
    def rg_ids(self) -> tuple[str, ...]:
        """The ``rg`` run of each temperature done."""
        return self.inputs

    def _flow_curve(self, name: str, k: int) -> FlowCurve:
        values, errors = self._dataset(name), self._dataset(f"{name}_error")
        count = self.temperatures.size
        nan = np.full(count, np.nan)
        return FlowCurve(
            nan if values is None else values[:, k], nan if errors is None else errors[:, k]
        )

    @property
    def levels(self) -> tuple[FlowLevel, ...]:
        """T′(T) of every level (none while no temperature is done)."""
        T = self.temperatures
        curves = self._dataset("effective_temperature")
        if T.size == 0 or curves is None or curves.ndim != 2:
            return ()
        return tuple(
            FlowLevel(
                k + 1,
                T,
                self._flow_curve("effective_temperature", k),
                self._flow_curve("binder_temperature", k),
            )
            for k in range(curves.shape[1])
        )


# ---------------------------------------------------------------------------- registry
def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _rg_summary(view: RunView) -> str:
    """'majority, b = 2, 2 levels, T′ 2.28 / 2.31' (T′ energy-matched, per level)."""
    assert isinstance(view, RGRunView)
    if view.mode == "rbm-flow":
        text = f"rbm-flow, {_plural(view.n_levels, 'step')}"
    else:
        text = f"{view.rule}, b = {view.block}, {_plural(view.n_levels, 'level')}"
    found = [level.effective_temperature.value for level in view.levels]
    if any(math.isfinite(t) for t in found):
        text += ", T′ " + " / ".join(f"{t:.3g}" if math.isfinite(t) else "—" for t in found)
    return text


def _flow_summary(view: RunView) -> str:
    """'majority, b = 2, 2 levels, 7 temperatures' ('5 of 7 temperatures' when cut short)."""
    assert isinstance(view, RGFlowRunView)
    if view.mode == "rbm-flow":
        text = f"rbm-flow, {_plural(view.n_levels, 'step')}"
    else:
        text = f"{view.rule}, b = {view.block}, {_plural(view.n_levels, 'level')}"
    done, planned = view.temperatures.size, view.planned_temperatures.size
    if done < planned:
        return f"{text}, {done} of {_plural(planned, 'temperature')}"
    return f"{text}, {_plural(done, 'temperature')}"


register(RunKind("rg", RGRunView, _rg_summary, dock="rgDock"))
register(RunKind("rg-flow", RGFlowRunView, _flow_summary, dock="rgDock"))
