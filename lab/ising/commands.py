"""What the headless Ising commands do (options in :mod:`lab.ising.cli`): ``simulate`` records
live into a recording folded into the session at the end; ``inspect`` lists a session's runs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from data import (
    RunRecord,
    SessionFileError,
    check_writable,
    load_session,
    read_run,
    read_run_ids,
)
from data.lock import SessionLock
from data.recording import (
    SUFFIX,
    RecordingError,
    fold_recordings,
    recording_path,
    recordings_dir,
)
from lab.cli.common import CliError
from lab.core.ids import next_run_id, utc_now
from lab.ising.runs import (
    complete_ising_run,
    format_estimate,
    resume_ising_task,
    run_params,
)

if TYPE_CHECKING:  # simulate loads the task and its kernels when it runs; inspect never does
    from lab.ising.task import IsingTask


def simulate(args: argparse.Namespace) -> int:
    if not args.flush_seconds > 0:
        raise CliError("--flush-seconds must be positive")
    lock = SessionLock(args.out)
    try:
        lock.acquire()
        check_writable(args.out)
        existing = read_run_ids(args.out) if os.path.lexists(args.out) else []
        directory = recordings_dir(args.out)
        recorded = [p.name[: -len(SUFFIX)] for p in directory.glob(f"*{SUFFIX}")]
        if args.resume:
            header, task, kept = _resumed(args.out, args.resume, existing)
        else:
            header = _new_header(args, next_run_id([*existing, *recorded], "ising"))
            params, plan = run_params(header)
            from lab.ising.task import IsingTask

            task, kept = IsingTask(params, plan), {}
        return _record(args, header, task, kept, recording_path(directory, header.id))
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    finally:
        lock.release()


def _new_header(args: argparse.Namespace, run_id: str) -> RunRecord:
    """The header of the new run (:func:`lab.ising.workflow.new_simulation`, which a sweep's
    points share)."""
    try:
        from lab.ising.workflow import new_simulation

        return new_simulation(args, run_id, os.path.dirname(os.path.abspath(args.out)))
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _resumed(
    path: str, run_id: str, existing: list[str]
) -> tuple[RunRecord, IsingTask, dict[str, np.ndarray]]:
    """The header of the run to continue, the task continuing it, and its recorded series up
    to its resume state."""
    if run_id not in existing:
        raise CliError(f"no run '{run_id}' in {path}")
    run = read_run(path, run_id)
    if run.kind != "ising" or run.status not in ("interrupted", "stopped"):
        raise CliError(
            f"run '{run_id}' is a {run.status} {run.kind} run; only interrupted or "
            "stopped Ising runs can be resumed"
        )
    try:
        task, kept = resume_ising_task(run)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    header = RunRecord(
        id=run.id,
        kind=run.kind,
        status="running",
        seed=run.seed,
        params=run.params,
        inputs=run.inputs,
        created=run.created,
        groups=run.groups,
    )
    return header, task, kept


def _record(
    args: argparse.Namespace,
    header: RunRecord,
    task: IsingTask,
    kept: dict[str, np.ndarray],
    path: Path,
) -> int:
    """Run ``task`` recording live into ``path`` (the run ``header``, continuing the series
    ``kept``: :func:`lab.ising.workflow.record_simulation`), then fold the recording into the
    session."""
    report = _print_flushes if args.report_flushes else None
    try:
        from lab.ising.workflow import record_simulation

        status, _ = record_simulation(
            header,
            task,
            kept,
            path,
            session=str(args.out),
            flush_seconds=args.flush_seconds,
            on_flush=report,
            quiet=args.quiet,
        )
    except RecordingError as exc:
        raise CliError(f"{exc}; what was recorded is kept: run 'recover {args.out}'") from None
    line = f"{utc_now()}  simulate: {'resumed' if kept else 'added'} {header.id} ({status})"
    result = fold_recordings(args.out, [path], finish=complete_ising_run, log=[line])
    if result.failed:
        raise CliError(str(result.failed[0][1]))
    run = read_run(args.out, result.folded[0])
    print(
        f"{run.id}: {len(run.datasets['energy'])} samples, e = "
        f"{format_estimate(run.results, 'e')}, <|m|> = {format_estimate(run.results, 'abs_m')}"
        f"  ->  {args.out}"
    )
    return 0 if status == "finished" else 130


def _print_flushes(committed: dict[str, int]) -> None:
    print(f"flushed {committed['energy']}", flush=True)


INSPECT_COLUMNS = (("e", "e"), ("|m|", "abs_m"), ("c", "c"), ("chi", "chi"), ("U4", "binder"))


PARAM_KEYS = (
    "size",
    "temperature",
    "field",
    "algorithm",
    "samples",
    "interval",
    "n_hidden",
    "method",
    "epochs",
    "learning_rate",
)


def inspect(args: argparse.Namespace) -> int:
    try:
        record = load_session(args.path)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    print(
        f"{args.path}: {len(record.runs)} run(s), created {record.created}, "
        f"Monge Lab {record.app_version}"
    )
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
