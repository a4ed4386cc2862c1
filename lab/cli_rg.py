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
from engines.rbm import RBMConfig, RBMTrainer
from lab.cli_common import CliError, finite_float, get_run, save_runs, session_runs
from lab.ising_runs import finish_ising_run, new_ising_run
from lab.ising_task import IsingPlan, IsingRecording, IsingTask
from lab.progress import drive
from lab.rbm_runs import RunInputError, finish_rbm_run, new_rbm_run, training_data
from lab.rbm_task import RBMRecording, RBMTrainingTask
from lab.rg_runs import TEMPERATURE_CURVES, coarse_grain_run, format_levels, format_locality
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

    example = sub.add_parser("rg-example", help="the paper's §4.1: L = 4, four hidden units")
    example.add_argument("path", help="session file (created or extended)")
    example.add_argument("--temperature", type=finite_float, default=2.269185)
    example.add_argument("--samples", type=int, default=10_000)
    example.add_argument("--epochs", type=int, default=100)
    example.add_argument("--seed", type=int, default=0)
    example.add_argument("--quiet", action="store_true")
    example.set_defaults(func=rg_example_command)


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
    if args.rule == "rbm":
        print("\n".join(format_locality(run)))
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


def _simulate(run_id: str, params: IsingParams, plan: IsingPlan,
              quiet: bool) -> tuple[RunRecord, str, str]:
    """Simulate one Ising run to its end (Ctrl-C stops it); returns (run, status, message)."""
    run = new_ising_run(run_id, params, plan)
    run.created = utc_now()
    recording = IsingRecording()
    task = IsingTask(params, plan, recording)
    status, message = drive(task, f"{run_id} T={params.temperature:.4g}", quiet,
                            lambda s: (s.progress or 0.0, s.phase))
    return finish_ising_run(run, recording, params, status, utc_now(), message), status, message


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
        ising, status, message = _simulate(next_run_id(ids, "ising"), params, plan, args.quiet)
        ids.append(ising.id)
        if status != "finished":
            break
        new_runs.append(ising)
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


def rg_example_command(args: argparse.Namespace) -> int:
    """The paper's §4.1: L = 4 at T_c, an RBM with four hidden units, each expected to summarize
    a 2×2 block; records the three runs and reports each unit's locality."""
    try:
        check_writable(args.path)
        plan = IsingPlan(thermalize=1000, interval=2, samples=args.samples)
        plan.validate()
        params = IsingParams(size=4, temperature=args.temperature, algorithm="wolff",
                             seed=args.seed)
        params.validate()
        config = RBMConfig(n_hidden=4, epochs=args.epochs, seed=args.seed)
        config.validate(n_visible=16)
    except (SessionFileError, ValueError) as exc:
        raise CliError(str(exc)) from None
    runs = session_runs(args.path) if os.path.exists(args.path) else {}
    ids = list(runs)
    ising, status, message = _simulate(next_run_id(ids, "ising"), params, plan, args.quiet)
    ids.append(ising.id)
    if status != "finished":
        save_runs(args.path, [ising])
        return 130
    data, size = training_data([ising])
    trainer = RBMTrainer(config, data)
    recording = RBMRecording()
    rbm = new_rbm_run(next_run_id(ids, "rbm"), config, size, [ising.id])
    rbm.created = utc_now()
    ids.append(rbm.id)
    task = RBMTrainingTask(trainer, recording)
    status, message = drive(task, rbm.id, args.quiet,
                            lambda s: (s.progress, f"epoch {s.epoch}"))
    finish_rbm_run(rbm, recording, trainer, status, utc_now(), message)
    new_runs = [ising, rbm]
    if status == "finished":
        rg = coarse_grain_run(next_run_id(ids, "rg"), ising, "rbm", 2, 1, args.seed, rbm)
        rg.params["preset"] = "paper-4.1"
        new_runs.append(rg)
    save_runs(args.path, new_runs)
    if status != "finished":
        return 130
    shares = rg.datasets["locality/block_share"]
    print(f"{rg.id}: the paper's §4.1 example, L = 4 at T = {args.temperature:g}, m = 4 "
          f"({rbm.id}, NLL held-out {rbm.results.get('nll_valid', float('nan')):.4f} nats)")
    print("\n".join(format_locality(rg)))
    distinct = len({tuple(b) for b in rg.datasets["locality/best_block"]})
    print(f"mean block share {shares.mean():.3f} (1: every unit on one 2×2 block; 0.25: no "
          f"locality); the units' best blocks cover {distinct} of the 4 blocks")
    print("\n".join(format_levels(rg)))
    return 0
