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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from data import RunRecord
from engines.ising import Estimate
from engines.rg import (
    MIN_BLOCK_SHARE,
    RULES,
    binder_temperature,
    coarse_grain,
    coarse_grain_stack,
    level_observables,
    locality,
    rbm_flow,
)
from lab.core.ids import utc_now
from lab.rbm.runs import RunInputError, rbm_from_run

BINDER_MAX_SIZE = 8
CURVES = ("e", "abs_m", "binder")
TEMPERATURE_CURVES = ("effective_temperature", "binder_temperature")
MODES = ("coarse-grain", "rbm-flow")


def check_stack(rbm_runs: Sequence[RunRecord], size: int, block: int) -> None:
    """RunInputError unless RBM k has (size/b^(k-1))² visible and (size/b^k)² hidden units."""
    L = size
    for k, run in enumerate(rbm_runs, start=1):
        W = rbm_from_run(run).W
        if L % block or W.shape != ((L * L, (L // block) ** 2)):
            raise RunInputError(
                f"run '{run.id}' cannot be level {k} of a stack on L = {size} with blocks "
                f"b = {block}: it has {W.shape[0]} visible and {W.shape[1]} hidden units, level "
                f"{k} needs {L * L} and {(L // block) ** 2}")
        L //= block


def _rbm_levels(rbm_runs: Sequence[RunRecord], samples: np.ndarray, block: int, seed: int,
                min_share: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
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


def coarse_grain_run(run_id: str, data_run: RunRecord, rule: str, block: int, levels: int,
                     seed: int = 0, rbm_run: RunRecord | Sequence[RunRecord] | None = None,
                     min_share: float = MIN_BLOCK_SHARE) -> RunRecord:
    """The ``rg`` run of ``data_run`` (ValueError / RunInputError with a clear message).

    For the rule ``rbm``, ``rbm_run`` is one RBM run or the stack (level 1 first), and
    ``levels`` must equal the number of RBMs.
    """
    samples = _samples_of(data_run)
    if rule not in (*RULES, "rbm"):
        raise RunInputError(f"unknown rule '{rule}' (majority, decimation or rbm)")
    if levels < 1:
        raise RunInputError(f"levels must be ≥ 1, got {levels}")
    inputs = [data_run.id]
    datasets: dict[str, np.ndarray] = {}
    extra: dict[str, object] = {}
    if rule == "rbm":
        stack = _as_stack(rbm_run)
        if not stack:
            raise RunInputError("the rbm rule needs the RBM run (--rbm RUN)")
        if levels != len(stack):
            raise RunInputError(f"the rbm rule makes one level per RBM: {len(stack)} RBM runs "
                                f"for {levels} levels")
        inputs += [r.id for r in stack]
        configs, shares = _rbm_levels(stack, samples, block, seed, min_share)
        datasets.update(locality_datasets(stack[0], samples.shape[1], block))
        for k, share in enumerate(shares, start=1):
            datasets[f"level_{k}/block_share"] = np.asarray(share, dtype=float)
        datasets["block_share"] = np.array([np.mean(s) for s in shares], dtype=float)
        extra = {"rbm": [r.id for r in stack], "min_share": float(min_share)}
    else:
        configs = coarse_grain(samples, rule, block, levels, seed)
    run = levels_run(run_id, data_run, configs, block, seed, inputs,
                     {"rule": rule, "block": block, "levels": levels, **extra})
    run.datasets.update(datasets)
    if rule == "rbm":
        run.dataset_attrs["block_share"] = {
            "units": "fraction", "axes": "level",
            "description": "mean share of a unit's squared weight on its matched block"}
    return run


def rbm_flow_run(run_id: str, data_run: RunRecord, rbm_run: RunRecord, steps: int,
                 seed: int = 0) -> RunRecord:
    """The ``rg`` run of the Iso–Shiba–Yokoo flow of ``data_run``: one level per step."""
    samples = _samples_of(data_run)
    model = rbm_from_run(rbm_run)
    if model.n_visible != samples.shape[1] ** 2:
        raise RunInputError(f"run '{rbm_run.id}' has {model.n_visible} visible units, the data "
                            f"L = {samples.shape[1]} needs {samples.shape[1] ** 2}")
    params = model.to_numpy()
    try:
        configs = rbm_flow(params["W"], params["a"], params["b"], samples, steps, seed)
    except ValueError as exc:
        raise RunInputError(str(exc)) from None
    return levels_run(run_id, data_run, configs, 1, seed, [data_run.id, rbm_run.id],
                      {"rule": "rbm-flow", "block": 1, "levels": steps, "mode": "rbm-flow",
                       "rbm": [rbm_run.id]})


def levels_run(run_id: str, data_run: RunRecord, configs: list[np.ndarray], block: int,
               seed: int, inputs: list[str], params: dict[str, object]) -> RunRecord:
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
        for name, estimate in (("effective_temperature", obs.get("t_eff")),
                               ("binder_temperature", _binder_temperature(obs["binder"], size))):
            curves[name].append(np.nan if estimate is None else estimate.value)
            curves[f"{name}_error"].append(np.nan if estimate is None else estimate.error)
        datasets[f"level_{k}/samples"] = level.astype(np.int8)
        for key in ("r", "C", "C_error"):
            datasets[f"level_{k}/{key}"] = np.asarray(obs[key], dtype=float)
    datasets.update({k: np.asarray(v, dtype=float) for k, v in curves.items()})
    samples = configs[0]
    params = {"mode": "coarse-grain", **params, "size": int(samples.shape[1]),
              "data": data_run.id}
    if "temperature" in data_run.params:
        params["temperature"] = float(data_run.params["temperature"])
    run = RunRecord(id=run_id, kind="rg", status="finished", seed=seed, params=params,
                    inputs=inputs, created=utc_now(), finished=utc_now(), datasets=datasets)
    run.dataset_attrs = {
        "effective_temperature": {"units": "T in units of J", "axes": "level",
                                  "description": "T where Kaufman's exact e(L', T) equals the "
                                                 "coarse configurations' energy per spin"},
        "binder_temperature": {"units": "T in units of J", "axes": "level",
                               "description": "T where the exact U4(L', T) equals theirs "
                                              "(L' <= 8, NaN beyond)"},
    }
    return run


def locality_datasets(rbm_run: RunRecord, L: int, b: int) -> dict[str, np.ndarray]:
    """Where each hidden unit looks: ``locality/centre`` (m, 2) (row, col) on the torus,
    ``locality/best_block`` (m, 2), ``locality/block_share`` (m,) (share of its squared weight
    in that b×b block: 1 for a perfectly block-local unit), ``locality/spread`` (m,) (RMS
    distance of |w| from the centre, lattice spacings)."""
    found = locality(rbm_from_run(rbm_run).to_numpy()["W"], L, b)
    return {f"locality/{key}": np.asarray(found[key])
            for key in ("centre", "best_block", "block_share", "spread")}


def format_locality(run: RunRecord) -> list[str]:
    """One line per hidden unit of an rbm-rule ``rg`` run: centre, best block, share, spread."""
    d = run.datasets
    if "locality/block_share" not in d:
        return []
    lines = [f"{'unit':>4} {'centre (row, col)':>18} {'best block':>11} {'share':>7} "
             f"{'spread':>7}"]
    for j, share in enumerate(d["locality/block_share"]):
        row, col = d["locality/centre"][j]
        br, bc = d["locality/best_block"][j]
        lines.append(f"{j:>4} {f'({row:.2f}, {col:.2f})':>18} {f'({br}, {bc})':>11} "
                     f"{share:>7.3f} {d['locality/spread'][j]:>7.3f}")
    return lines


def format_levels(run: RunRecord) -> list[str]:
    """A table of an ``rg`` run's levels: size, e, U4 and both effective temperatures."""
    d = run.datasets
    lines = [f"{'level':>5} {'L':>4} {'e':>18} {'U4':>18} {'T_eff (energy)':>18} "
             f"{'T_U (Binder)':>18}"]

    def cell(name: str, i: int) -> str:
        value, error = d[name][i], d[f"{name}_error"][i]
        return "—" if not np.isfinite(value) else f"{value:.4f} ± {error:.4f}"

    for i, size in enumerate(d["size"]):
        lines.append(f"{i + 1:>5} {int(size):>4} {cell('e', i):>18} {cell('binder', i):>18} "
                     f"{cell('effective_temperature', i):>18} "
                     f"{cell('binder_temperature', i):>18}")
    return lines
