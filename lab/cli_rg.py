"""Headless RG commands: ``coarse-grain`` one Ising run, or run a whole ``rg-flow``.

- ``coarse-grain S.h5 --data RUN --rule majority|decimation|rbm [--rbm RUN] [--block 2]
  [--levels 2] [--seed 0]`` adds an ``rg`` run (``lab.rg_runs``).
- ``rg-flow S.h5 --rule majority|decimation --temperatures 1.5:3.5:11 --size 32 [--block 2]
  [--levels 2] [--samples 1000] [--seed 0]`` simulates every temperature (Wolff), coarse-grains
  it, and adds all those runs plus one ``rg-flow`` run whose datasets ``temperature`` (n,),
  ``effective_temperature`` and ``binder_temperature`` (n, levels) with their ``*_error`` are the
  flow T → T′ of each level. Ctrl-C keeps the temperatures already done (status 'stopped').
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from data import RunRecord, SessionFileError, check_writable
from engines.ising import ALGORITHMS, IsingParams
from lab.cli_common import CliError, get_run, save_runs, session_runs
from lab.ising_runs import finish_ising_run, new_ising_run
from lab.ising_task import IsingPlan, IsingRecording, IsingTask
from lab.progress import drive
from lab.rbm_runs import RunInputError
from lab.rg_runs import TEMPERATURE_CURVES, coarse_grain_run, format_levels
from lab.scan import parse_temperatures, scan_seeds
from lab.session import next_run_id, utc_now


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

    flow = sub.add_parser("rg-flow", help="simulate temperatures, follow their block-spin flow")
    flow.add_argument("path", help="session file (created or extended)")
    flow.add_argument("--rule", default="majority", help="majority | decimation")
    flow.add_argument("--temperatures", required=True, help="'start:stop:count' or 'T1, T2, …'")
    flow.add_argument("--size", type=int, required=True, help="L of the simulated lattices")
    flow.add_argument("--block", type=int, default=2)
    flow.add_argument("--levels", type=int, default=2)
    flow.add_argument("--samples", type=int, default=1000, help="configurations per T")
    flow.add_argument("--thermalize", type=int, default=500)
    flow.add_argument("--interval", type=int, default=2, help="sweeps between samples")
    flow.add_argument("--algorithm", default="wolff", help="|".join(ALGORITHMS))
    flow.add_argument("--seed", type=int, default=0)
    flow.add_argument("--quiet", action="store_true")
    flow.set_defaults(func=rg_flow_command)


def coarse_grain_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    data_run = get_run(runs, args.data, "ising", args.path)
    rbm_run = get_run(runs, args.rbm, "rbm", args.path) if args.rbm else None
    try:
        run = coarse_grain_run(next_run_id(list(runs), "rg"), data_run, args.rule, args.block,
                               args.levels, args.seed, rbm_run)
    except (RunInputError, ValueError) as exc:
        raise CliError(str(exc)) from None
    save_runs(args.path, [run])
    print(f"{run.id}: {args.rule}, b = {args.block}, from {data_run.id} "
          f"(T = {run.params.get('temperature', float('nan')):g})")
    print("\n".join(format_levels(run)))
    return 0


def _flow_inputs(args: argparse.Namespace) -> tuple[np.ndarray, IsingPlan]:
    if args.rule not in ("majority", "decimation"):
        raise CliError(f"rg-flow follows block spins: --rule majority or decimation, "
                       f"not '{args.rule}'")
    if args.algorithm not in ALGORITHMS:
        raise CliError(f"unknown algorithm '{args.algorithm}'")
    if args.levels < 1 or args.block < 2 or args.size % args.block**args.levels:
        raise CliError(f"L = {args.size} must be divisible by b^levels = "
                       f"{args.block}^{args.levels}")
    try:
        temperatures = parse_temperatures(args.temperatures)
        plan = IsingPlan(thermalize=args.thermalize, interval=args.interval,
                         samples=args.samples)
        plan.validate()
        IsingParams(size=args.size, temperature=float(temperatures[0]),
                    algorithm=args.algorithm, seed=args.seed).validate()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return temperatures, plan


def rg_flow_command(args: argparse.Namespace) -> int:
    temperatures, plan = _flow_inputs(args)
    try:
        check_writable(args.path)  # before minutes of simulation, not after
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    runs = session_runs(args.path) if os.path.exists(args.path) else {}
    ids = list(runs)
    new_runs: list[RunRecord] = []
    rg_runs: list[RunRecord] = []
    status, message = "finished", ""
    for temperature, seed in zip(temperatures, scan_seeds(args.seed, temperatures.size),
                                 strict=True):
        params = IsingParams(size=args.size, temperature=float(temperature),
                             algorithm=args.algorithm, seed=seed)
        ising = new_ising_run(next_run_id(ids, "ising"), params, plan)
        ising.created = utc_now()
        ids.append(ising.id)
        recording = IsingRecording()
        task = IsingTask(params, plan, recording)
        status, message = drive(task, f"T={temperature:.4g}", args.quiet,
                                lambda s: (s.progress or 0.0, s.phase))
        if status != "finished":
            break
        new_runs.append(finish_ising_run(ising, recording, params, "finished", utc_now()))
        rg = coarse_grain_run(next_run_id(ids, "rg"), ising, args.rule, args.block,
                              args.levels, args.seed)
        ids.append(rg.id)
        new_runs.append(rg)
        rg_runs.append(rg)
    flow = RunRecord(
        id=next_run_id(ids, "rg-flow"), kind="rg-flow", status=status, seed=args.seed,
        params={"rule": args.rule, "block": args.block, "levels": args.levels,
                "size": args.size, "temperatures": [float(t) for t in temperatures],
                "samples": args.samples, "algorithm": args.algorithm},
        inputs=[r.id for r in rg_runs], created=utc_now(), finished=utc_now(),
        message=message,
    )
    done = len(rg_runs)
    flow.datasets["temperature"] = np.asarray(temperatures[:done], dtype=float)
    for name in TEMPERATURE_CURVES:
        for key in (name, f"{name}_error"):
            flow.datasets[key] = np.array([r.datasets[key] for r in rg_runs],
                                          dtype=float).reshape(done, args.levels)
    flow.dataset_attrs = {name: {"units": "T in units of J", "axes": "temperature, level"}
                          for name in TEMPERATURE_CURVES}
    save_runs(args.path, [*new_runs, flow])
    print(f"{flow.id}: {args.rule}, b = {args.block}, L = {args.size}, {done} of "
          f"{temperatures.size} temperatures ({status})")
    print(f"{'T':>8} " + " ".join(f"{'T′ level ' + str(k + 1) + ' (energy)':>24}"
                                  f"{'(Binder)':>18}" for k in range(args.levels)))
    for i in range(done):
        cells = []
        for k in range(args.levels):
            for name in TEMPERATURE_CURVES:
                value = flow.datasets[name][i, k]
                error = flow.datasets[f"{name}_error"][i, k]
                cells.append("—" if not np.isfinite(value) else f"{value:.4f} ± {error:.4f}")
        print(f"{temperatures[i]:>8.4f} " + " ".join(
            f"{cells[2 * k]:>24}{cells[2 * k + 1]:>18}" for k in range(args.levels)))
    return 0 if status == "finished" else 130

