"""Headless RG command: ``coarse-grain`` an Ising run by block spins or by a trained RBM.

``python main.py coarse-grain S.h5 --data RUN --rule majority|decimation|rbm [--rbm RUN]
[--block 2] [--levels 2] [--seed 0]`` adds a run of kind ``rg`` holding, for every level
k = 1 … levels, ``level_<k>/samples`` (N, L/b^k, L/b^k) int8 ±1 and ``level_<k>/r``,
``level_<k>/C``, ``level_<k>/C_error`` (C(r), r in original lattice spacings), and the per-level
curves ``size``, ``e``, ``abs_m``, ``binder`` (with ``*_error``), ``effective_temperature``
(energy matched to Kaufman's exact e of the coarse size; ``*_error``) and ``binder_temperature``
(U4 matched to the exact finite-size U4, for coarse sizes ≤ 8, NaN beyond). With ``--rule rbm``
one level is made by the RBM's hidden layer (m must be (L/b)²: its units are matched to blocks).
"""

from __future__ import annotations

import argparse

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
    match_units_to_blocks,
)
from lab.cli_common import CliError, get_run, save_runs, session_runs
from lab.rbm_runs import rbm_from_run
from lab.session import next_run_id, utc_now

BINDER_MAX_SIZE = 8
CURVES = ("e", "abs_m", "binder")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    cg = sub.add_parser("coarse-grain", help="block-spin or RBM coarse-graining of an Ising run")
    cg.add_argument("path", help="session file")
    cg.add_argument("--data", required=True, metavar="RUN", help="an Ising run id")
    cg.add_argument("--rule", default="majority", help="majority | decimation | rbm")
    cg.add_argument("--rbm", metavar="RUN", help="the RBM run (for --rule rbm)")
    cg.add_argument("--block", type=int, default=2, help="block size b")
    cg.add_argument("--levels", type=int, default=2, help="number of coarse-graining steps")
    cg.add_argument("--seed", type=int, default=0, help="tie-breaks and hidden samples")
    cg.set_defaults(func=coarse_grain_command)


def _rbm_levels(run: RunRecord, samples: np.ndarray, b: int, levels: int,
                seed: int) -> list[np.ndarray]:
    if levels != 1:
        raise CliError("--rule rbm makes one level (stacked RBMs are not implemented yet)")
    params = rbm_from_run(run).to_numpy()
    L = samples.shape[1]
    try:
        assignment = match_units_to_blocks(params["W"], L, b)
    except ValueError as exc:
        raise CliError(f"run '{run.id}': {exc}") from None
    hidden = hidden_samples(params["W"], params["b"], samples, seed)
    return [samples, hidden_lattice(hidden, assignment, L, b)]


def _binder_temperature(binder: Estimate, size: int) -> Estimate | None:
    if size > BINDER_MAX_SIZE:
        return None
    try:
        return binder_temperature(binder, size)
    except ValueError:
        return None  # U4 outside the exact curve's range in the bracket


def coarse_grain_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    data_run = get_run(runs, args.data, "ising", args.path)
    samples = data_run.datasets.get("samples")
    if samples is None or samples.shape[0] < 2:
        raise CliError(f"run '{data_run.id}' has no recorded configurations")
    if args.rule not in (*RULES, "rbm"):
        raise CliError(f"unknown rule '{args.rule}' (majority, decimation or rbm)")
    if args.levels < 1:
        raise CliError(f"--levels must be ≥ 1, got {args.levels}")
    inputs = [data_run.id]
    try:
        if args.rule == "rbm":
            if not args.rbm:
                raise CliError("--rule rbm needs the RBM run: --rbm RUN")
            rbm_run = get_run(runs, args.rbm, "rbm", args.path)
            inputs.append(rbm_run.id)
            levels = _rbm_levels(rbm_run, samples, args.block, args.levels, args.seed)
        else:
            levels = coarse_grain(samples, args.rule, args.block, args.levels, args.seed)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    temperature = float(data_run.params.get("temperature", np.nan))
    curves: dict[str, list[float]] = {k: [] for k in ("size", "effective_temperature",
                                                     "effective_temperature_error",
                                                     "binder_temperature",
                                                     "binder_temperature_error")}
    for name in CURVES:
        curves[name], curves[f"{name}_error"] = [], []
    datasets: dict[str, np.ndarray] = {}
    for k, configs in enumerate(levels[1:], start=1):
        obs = level_observables(configs, scale=args.block**k)
        size = configs.shape[1]
        curves["size"].append(size)
        for name in CURVES:
            curves[name].append(obs[name].value)
            curves[f"{name}_error"].append(obs[name].error)
        t_eff = obs.get("t_eff")
        curves["effective_temperature"].append(np.nan if t_eff is None else t_eff.value)
        curves["effective_temperature_error"].append(np.nan if t_eff is None else t_eff.error)
        t_u = _binder_temperature(obs["binder"], size)
        curves["binder_temperature"].append(np.nan if t_u is None else t_u.value)
        curves["binder_temperature_error"].append(np.nan if t_u is None else t_u.error)
        datasets[f"level_{k}/samples"] = configs.astype(np.int8)
        for key in ("r", "C", "C_error"):
            datasets[f"level_{k}/{key}"] = np.asarray(obs[key], dtype=float)
    datasets.update({k: np.asarray(v, dtype=float) for k, v in curves.items()})
    params: dict[str, object] = {"rule": args.rule, "block": args.block, "levels": args.levels,
                                 "size": int(samples.shape[1]), "data": data_run.id}
    if np.isfinite(temperature):
        params["temperature"] = temperature
    run = RunRecord(id=next_run_id(list(runs), "rg"), kind="rg", status="finished",
                    seed=args.seed, params=params, inputs=inputs, created=utc_now(),
                    finished=utc_now(), datasets=datasets)
    run.dataset_attrs = {
        "effective_temperature": {"units": "T in units of J", "axes": "level",
                                  "description": "T where Kaufman's exact e(L', T) equals the "
                                                 "coarse configurations' energy per spin"},
        "binder_temperature": {"units": "T in units of J", "axes": "level",
                               "description": "T where the exact U4(L', T) equals theirs "
                                              "(L' <= 8, NaN beyond)"},
    }
    save_runs(args.path, [run])
    print(f"{run.id}: {args.rule}, b = {args.block}, from {data_run.id} (T = {temperature:g})")
    print(f"{'level':>5} {'L':>4} {'e':>18} {'U4':>18} {'T_eff (energy)':>18} {'T_U (Binder)':>18}")
    for k in range(len(levels) - 1):
        def cell(name: str, i: int = k) -> str:
            value, error = curves[name][i], curves[f"{name}_error"][i]
            return "—" if not np.isfinite(value) else f"{value:.4f} ± {error:.4f}"
        print(f"{k + 1:>5} {curves['size'][k]:>4} {cell('e'):>18} {cell('binder'):>18} "
              f"{cell('effective_temperature'):>18} {cell('binder_temperature'):>18}")
    return 0
