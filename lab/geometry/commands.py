"""What the headless ``geometry`` and ``score`` commands do (their options are declared in
:mod:`lab.geometry.cli`): the task over an RBM's checkpoints, or over the maps of the run scored,
saved as it goes under the session's lock.
"""

from __future__ import annotations

import argparse
import sys
import time

from data import RunRecord
from lab.cli.common import (
    CliError,
    get_run,
    run_locked,
    store_runs,
)
from lab.core.ids import next_run_id, utc_now
from lab.core.progress import drive
from lab.core.settings import option_values
from lab.geometry.options import SETTINGS, GeometryOptions, check_chains
from lab.geometry.runs import format_geometry, geometry_run
from lab.geometry.score_options import SETTINGS as SCORE_SETTINGS
from lab.geometry.score_options import ScoreOptions
from lab.geometry.score_runs import scores_run
from lab.geometry.score_sources import plan_from_run
from lab.geometry.score_task import ScoreTask
from lab.geometry.task import GeometryTask
from lab.rbm.runs import RunInputError, run_checkpoints, training_data


def geometry_command(args: argparse.Namespace) -> int:
    return run_locked(args, _geometry)


def _check_options(args: argparse.Namespace) -> None:
    """What the options alone decide, before any run is read (CliError)."""
    try:
        check_chains(args.chains, args.samples)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _geometry(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    _check_options(args)
    rbm_run = get_run(runs, args.rbm, "rbm", args.path)
    data_ids = args.data or list(rbm_run.params.get("data") or rbm_run.inputs)
    if not data_ids:
        raise CliError(f"run '{rbm_run.id}' records no training data: choose it with --data RUN")
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in data_ids]
    try:
        data, data_size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    size = int(rbm_run.params.get("size", 0))
    if data_size != size:
        raise CliError(f"the data have L = {data_size}, the RBM '{rbm_run.id}' L = {size}")
    epochs = rbm_run.datasets.get("checkpoints/epoch")
    if epochs is None or epochs.size == 0:
        raise CliError(f"run '{rbm_run.id}' has no checkpoints (train it with the trainer)")
    try:
        options = GeometryOptions(**option_values(args, SETTINGS))
        task = GeometryTask(run_checkpoints(rbm_run), data, size, options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    run_id = next_run_id(list(runs), "geometry")
    created = utc_now()
    saved = {"done": 0, "at": 0.0}  # checkpoints in the file, and when they were written

    def save_partial(snapshot) -> tuple[float, str]:
        """After each checkpoint: the run so far, at the first and then every --save-seconds."""
        now = time.monotonic()
        if snapshot.done > saved["done"] and (
            saved["done"] == 0 or now - saved["at"] >= args.save_seconds
        ):
            partial = geometry_run(
                run_id,
                rbm_run,
                data_ids,
                options,
                snapshot.datasets,
                "interrupted",
                created=created,
                finished=utc_now(),
                message=f"recorded {snapshot.done} of {snapshot.total} checkpoints",
            )
            store_runs(args.path, [partial], replace=saved["done"] > 0)
            saved.update(done=snapshot.done, at=now)
        return snapshot.progress, f"checkpoint {snapshot.done}/{snapshot.total}"

    try:
        status, message = drive(task, run_id, args.quiet, save_partial)
    except (ValueError, RuntimeError, ArithmeticError) as exc:
        status, message = "failed", f"checkpoint {task.done + 1}: {exc}"
    run = geometry_run(
        run_id,
        rbm_run,
        data_ids,
        options,
        task.datasets(),
        status,
        created=created,
        finished=utc_now(),
        message=message,
    )
    store_runs(args.path, [run], replace=saved["done"] > 0)
    print(format_geometry(run))
    print(f"{run.id}: {status}, {task.done} of {task.total} checkpoints  ->  {args.path}")
    if status == "failed":
        print(
            f"monge-lab: geometry failed at {message} (kept the checkpoints done)", file=sys.stderr
        )
        return 1
    return 0 if status == "finished" else 130


def score_command(args: argparse.Namespace) -> int:
    return run_locked(args, _score)


def _score(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    """Score ``--run``: every input is checked (the plan, the options) before any work."""
    _check_options(args)
    try:
        options = ScoreOptions(**option_values(args, SCORE_SETTINGS))
        plan = plan_from_run(args.run, runs)
        task = ScoreTask(plan, options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    run_id = next_run_id(list(runs), "scores")
    created = utc_now()
    saved = {"done": 0, "at": 0.0, "printed": 0}

    def make_run(snapshot_datasets: dict, status: str, message: str) -> RunRecord:
        return scores_run(
            run_id,
            plan,
            options,
            snapshot_datasets,
            status,
            n_samples=task.n_samples,
            solvers=list(task.solvers),
            steps_done=task.done,
            seconds=task.seconds,
            created=created,
            finished=utc_now(),
            message=message,
        )

    def print_lines() -> None:
        for line in task.lines[saved["printed"] :]:
            print(line, flush=True)
        saved["printed"] = len(task.lines)

    def save_partial(snapshot) -> tuple[float, str]:
        """After each step: its line, and the run so far at the first step and then every
        --save-seconds."""
        print_lines()
        now = time.monotonic()
        if snapshot.done > saved["done"] and (
            saved["done"] == 0 or now - saved["at"] >= args.save_seconds
        ):
            partial = make_run(
                snapshot.datasets,
                "interrupted",
                f"recorded {snapshot.done} of {snapshot.total} steps",
            )
            store_runs(args.path, [partial], replace=saved["done"] > 0)
            saved.update(done=snapshot.done, at=now)
        return snapshot.progress, f"step {snapshot.done}/{snapshot.total}"

    try:
        status, message = drive(task, run_id, args.quiet, save_partial)
    except (ValueError, RuntimeError, ArithmeticError, MemoryError) as exc:
        status, message = "failed", f"step {task.done + 1}: {exc}"
    print_lines()
    run = make_run(task.datasets(), status, message)
    store_runs(args.path, [run], replace=saved["done"] > 0)
    print(
        f"{run.id}: {status}, {task.done} of {task.total} steps ({plan.mode} of "
        f"{plan.source_id}, N = {task.n_samples}, {', '.join(task.solvers) or 'no'} solver, "
        f"{task.seconds:.1f} s)  ->  {args.path}"
    )
    if status == "failed":
        print(f"monge-lab: score failed at {message} (kept the steps done)", file=sys.stderr)
        return 1
    return 0 if status == "finished" else 130
