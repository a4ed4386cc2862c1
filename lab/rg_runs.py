"""Coarse-graining as session runs: the levels of one Ising run, and a whole RG flow.

An ``rg`` run holds, for every level k = 1 … levels, ``level_<k>/samples`` (N, L/b^k, L/b^k)
int8 ±1 and ``level_<k>/r``, ``level_<k>/C``, ``level_<k>/C_error`` (C(r), r in original lattice
spacings), and the per-level curves ``size``, ``e``, ``abs_m``, ``binder`` (with ``*_error``),
``effective_temperature`` (energy matched to Kaufman's exact e of the coarse size; ``*_error``)
and ``binder_temperature`` (U4 matched to the exact finite-size U4 for coarse sizes ≤ 8, NaN
beyond). With the rule ``rbm`` one level is made by an RBM's hidden layer, whose units are
matched to blocks (m must be (L/b)²) and oriented (a unit with negative weights on its block
stands for the block spin −1 when it fires).
"""

from __future__ import annotations

import numpy as np

from data import RunRecord
from engines.ising import Estimate
from engines.rg import (
    RULES,
    binder_temperature,
    coarse_grain,
    hidden_lattice,
    hidden_samples,
    level_observables,
    locality,
    match_units_to_blocks,
    unit_orientations,
)
from lab.rbm_runs import RunInputError, rbm_from_run
from lab.session import utc_now

BINDER_MAX_SIZE = 8
CURVES = ("e", "abs_m", "binder")
TEMPERATURE_CURVES = ("effective_temperature", "binder_temperature")


def _rbm_levels(run: RunRecord, samples: np.ndarray, b: int, levels: int,
                seed: int) -> list[np.ndarray]:
    if levels != 1:
        raise RunInputError("the rbm rule makes one level (stacked RBMs are not "
                            "implemented yet)")
    params = rbm_from_run(run).to_numpy()
    L = samples.shape[1]
    try:
        assignment = match_units_to_blocks(params["W"], L, b)
    except ValueError as exc:
        raise RunInputError(f"run '{run.id}': {exc}") from None
    hidden = hidden_samples(params["W"], params["b"], samples, seed)
    k = L // b
    orientation = np.empty(k * k, dtype=np.int8)
    orientation[assignment] = unit_orientations(params["W"], assignment, L, b)
    return [samples, hidden_lattice(hidden, assignment, L, b) * orientation.reshape(k, k)]


def _binder_temperature(binder: Estimate, size: int) -> Estimate | None:
    if size > BINDER_MAX_SIZE:
        return None
    try:
        return binder_temperature(binder, size)
    except ValueError:
        return None  # U4 outside the exact curve's range in the bracket


def coarse_grain_run(run_id: str, data_run: RunRecord, rule: str, block: int, levels: int,
                     seed: int = 0, rbm_run: RunRecord | None = None) -> RunRecord:
    """The ``rg`` run of ``data_run`` (ValueError / RunInputError with a clear message)."""
    samples = data_run.datasets.get("samples")
    if samples is None or samples.shape[0] < 2:
        raise RunInputError(f"run '{data_run.id}' has no recorded configurations")
    if rule not in (*RULES, "rbm"):
        raise RunInputError(f"unknown rule '{rule}' (majority, decimation or rbm)")
    if levels < 1:
        raise RunInputError(f"levels must be ≥ 1, got {levels}")
    inputs = [data_run.id]
    datasets: dict[str, np.ndarray] = {}
    if rule == "rbm":
        if rbm_run is None:
            raise RunInputError("the rbm rule needs the RBM run (--rbm RUN)")
        inputs.append(rbm_run.id)
        configs = _rbm_levels(rbm_run, samples, block, levels, seed)
        datasets.update(locality_datasets(rbm_run, samples.shape[1], block))
    else:
        configs = coarse_grain(samples, rule, block, levels, seed)
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
    params: dict[str, object] = {"rule": rule, "block": block, "levels": levels,
                                 "size": int(samples.shape[1]), "data": data_run.id}
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
