"""The command line: the same work as the GUI, without a window.

``python main.py`` (or ``monge-lab``) with no arguments, or with a session path, opens the GUI;
with a subcommand it works headless:

- ``simulate --out S.h5 --size 32 --temperature 2.269 --algorithm wolff --samples 1000
  --thermalize 1000 --interval 10 --seed 1`` adds an Ising run to S.h5 (creating it if needed);
- ``inspect S.h5`` prints the runs and their main results with error bars.

Bad input ends with one line on stderr and exit code 2; an existing session file is never
modified unless the command succeeds (``data.add_runs`` writes atomically).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

from data import SessionFileError, add_runs, check_writable, load_session, read_run_ids
from engines.ising import ALGORITHMS, IsingParams
from lab.ising_runs import finish_ising_run, format_estimate, new_ising_run
from lab.ising_task import IsingPlan, IsingRecording, IsingTask
from lab.progress import ProgressBar
from lab.session import next_run_id, utc_now

EXIT_USAGE = 2
COMMANDS = ("simulate", "inspect")


class CliError(Exception):
    """A problem with the user's input: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(message)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="monge-lab", description="Monge Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sim = sub.add_parser("simulate", help="simulate the 2D Ising model and record a run")
    sim.add_argument("--out", required=True, help="session file (created or extended)")
    sim.add_argument("--size", type=int, required=True, help="linear size L of the L×L torus")
    sim.add_argument("--temperature", type=_finite_float, required=True, help="T in units of J")
    sim.add_argument("--coupling", type=_finite_float, default=1.0, help="J (default 1)")
    sim.add_argument("--field", type=_finite_float, default=0.0, help="h (default 0)")
    sim.add_argument("--algorithm", default="metropolis", help="|".join(ALGORITHMS))
    sim.add_argument("--samples", type=int, default=1000, help="number of recorded samples")
    sim.add_argument("--thermalize", type=int, default=1000, help="sweeps before the first sample")
    sim.add_argument("--interval", type=int, default=10, help="sweeps between samples")
    sim.add_argument("--seed", type=int, default=0, help="random seed (≥ 0)")
    sim.add_argument(
        "--no-spins", action="store_true", help="record only energy and magnetization"
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")

    ins = sub.add_parser("inspect", help="list the runs of a session with their results")
    ins.add_argument("path", help="session file")
    return parser


def _simulate(args: argparse.Namespace) -> int:
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
    bar = None if args.quiet else ProgressBar(run.id)
    status, message = "finished", ""
    try:
        while not task.finished:
            snapshot = task.step()
            if bar is not None:
                fraction = snapshot.progress or 0.0
                bar.update(fraction, snapshot.phase)
    except KeyboardInterrupt:
        status, message = "stopped", "interrupted by the user (Ctrl-C)"
    if bar is not None:
        bar.close(len(recording) / args.samples, "done" if status == "finished" else status)
    finish_ising_run(run, recording, params, status, utc_now(), message)
    try:
        add_runs(args.out, [run], log=[f"{utc_now()}  simulate: added {run.id} ({status})"])
    except (SessionFileError, OSError, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(f"{run.id}: {len(recording)} samples, e = {format_estimate(run.results, 'e')}, "
          f"<|m|> = {format_estimate(run.results, 'abs_m')}  ->  {args.out}")
    return 0 if status == "finished" else 130


INSPECT_COLUMNS = (("e", "e"), ("|m|", "abs_m"), ("c", "c"), ("chi", "chi"), ("U4", "binder"))


def _inspect(args: argparse.Namespace) -> int:
    try:
        record = load_session(args.path)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    print(f"{args.path}: {len(record.runs)} run(s), created {record.created}, "
          f"Monge Lab {record.app_version}")
    for run in record.runs.values():
        keys = ("size", "temperature", "field", "algorithm", "samples", "interval")
        shown = ", ".join(f"{k}={run.params[k]}" for k in keys if k in run.params)
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
        for name, array in sorted(run.datasets.items()):
            print(f"  [{name}] {array.dtype} {tuple(array.shape)}")
    return 0


def run_cli(argv: Sequence[str]) -> int:
    """Run a headless subcommand; returns the process exit code."""
    try:
        args = build_parser().parse_args(list(argv))
        if args.command == "simulate":
            return _simulate(args)
        return _inspect(args)
    except CliError as exc:
        print(f"monge-lab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python main.py`` and the ``monge-lab`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
        return run_cli(argv)
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(f"monge-lab: error: unknown command '{argv[0]}' (commands: "
              f"{', '.join(COMMANDS)}; or give a session file to open)", file=sys.stderr)
        return EXIT_USAGE
    from widgets.app import run_gui

    return run_gui(argv[0] if argv else None)
