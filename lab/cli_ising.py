"""Headless Ising commands: ``simulate`` (record a run) and ``inspect`` (list a session)."""

from __future__ import annotations

import argparse
import os

from data import SessionFileError, add_runs, check_writable, load_session, read_run_ids
from engines.ising import ALGORITHMS, IsingParams
from lab.cli_common import CliError, finite_float
from lab.ising_runs import finish_ising_run, format_estimate, new_ising_run
from lab.ising_task import IsingPlan, IsingRecording, IsingTask
from lab.progress import drive
from lab.session import next_run_id, utc_now


def add_parsers(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("simulate", help="simulate the 2D Ising model and record a run")
    sim.add_argument("--out", required=True, help="session file (created or extended)")
    sim.add_argument("--size", type=int, required=True, help="linear size L of the L×L torus")
    sim.add_argument("--temperature", type=finite_float, required=True, help="T in units of J")
    sim.add_argument("--coupling", type=finite_float, default=1.0, help="J (default 1)")
    sim.add_argument("--field", type=finite_float, default=0.0, help="h (default 0)")
    sim.add_argument("--algorithm", default="metropolis", help="|".join(ALGORITHMS))
    sim.add_argument("--samples", type=int, default=1000, help="number of recorded samples")
    sim.add_argument("--thermalize", type=int, default=1000, help="sweeps before the first sample")
    sim.add_argument("--interval", type=int, default=10, help="sweeps between samples")
    sim.add_argument("--seed", type=int, default=0, help="random seed (≥ 0)")
    sim.add_argument(
        "--no-spins", action="store_true", help="record only energy and magnetization"
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(func=simulate)

    ins = sub.add_parser("inspect", help="list the runs of a session with their results")
    ins.add_argument("path", help="session file")
    ins.set_defaults(func=inspect)


def simulate(args: argparse.Namespace) -> int:
    if args.algorithm not in ALGORITHMS:
        raise CliError(
            f"unknown algorithm '{args.algorithm}' (choose one of {', '.join(ALGORITHMS)})"
        )
    params = IsingParams(
        size=args.size,
        temperature=args.temperature,
        coupling=args.coupling,
        field=args.field,
        algorithm=args.algorithm,
        seed=args.seed,
    )
    plan = IsingPlan(
        thermalize=args.thermalize,
        interval=args.interval,
        samples=args.samples,
        record_spins=not args.no_spins,
    )
    try:
        params.validate()
        plan.validate()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        check_writable(args.out)
        existing = read_run_ids(args.out) if os.path.exists(args.out) else []
    except SessionFileError as exc:
        raise CliError(str(exc)) from None

    run = new_ising_run(next_run_id(existing, "ising"), params, plan)
    run.created = utc_now()
    recording = IsingRecording(record_spins=plan.record_spins)
    task = IsingTask(params, plan, recording)
    status, message = drive(task, run.id, args.quiet,
                            lambda snapshot: (snapshot.progress or 0.0, snapshot.phase))
    finish_ising_run(run, recording, params, status, utc_now(), message)
    try:
        add_runs(args.out, [run], log=[f"{utc_now()}  simulate: added {run.id} ({status})"])
    except (SessionFileError, OSError, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(f"{run.id}: {len(recording)} samples, e = {format_estimate(run.results, 'e')}, "
          f"<|m|> = {format_estimate(run.results, 'abs_m')}  ->  {args.out}")
    return 0 if status == "finished" else 130


INSPECT_COLUMNS = (("e", "e"), ("|m|", "abs_m"), ("c", "c"), ("chi", "chi"), ("U4", "binder"))
PARAM_KEYS = ("size", "temperature", "field", "algorithm", "samples", "interval", "n_hidden",
              "method", "epochs", "learning_rate")


def inspect(args: argparse.Namespace) -> int:
    try:
        record = load_session(args.path)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    print(f"{args.path}: {len(record.runs)} run(s), created {record.created}, "
          f"Monge Lab {record.app_version}")
    for run in record.runs.values():
        shown = ", ".join(f"{k}={run.params[k]}" for k in PARAM_KEYS if k in run.params)
        inputs = f"  inputs: {', '.join(run.inputs)}" if run.inputs else ""
        print(f"\n{run.id}  kind={run.kind}  status={run.status}  seed={run.seed}{inputs}")
        if shown:
            print(f"  {shown}")
        if run.message:
            print(f"  message: {run.message}")
        if run.results:
            n = run.results.get("n_samples")
            if n is not None:
                print(f"  samples measured: {n}")
            for label, key in INSPECT_COLUMNS:
                if key in run.results:
                    exact = run.results.get(f"exact_{key}")
                    suffix = f"   (exact finite-L: {exact:.4f})" if exact is not None else ""
                    print(f"  {label:>4} = {format_estimate(run.results, key)}{suffix}")
            tau = run.results.get("abs_m_tau")
            if tau is not None:
                print(f"  tau_int(|m|) = {tau:.2f} samples")
            for key in ("nll_train", "nll_valid", "log_z"):
                if key in run.results:
                    print(f"  {key} = {run.results[key]:.4f}")
        for group, attrs in getattr(run, "groups", {}).items():
            print(f"  [{group}] " + ", ".join(f"{k}={_short(v)}" for k, v in attrs.items()))
        for name, array in sorted(run.datasets.items()):
            if not name.startswith("trainer/"):
                print(f"  [{name}] {array.dtype} {tuple(array.shape)}")
    return 0


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, list) and len(value) > 6:
        return f"[{len(value)} values]"
    return str(value)
