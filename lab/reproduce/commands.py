"""What ``reproduce`` does (its options are in :mod:`lab.reproduce.cli`): check the experiment
and its settings before any work, run it under the session's lock with a progress bar, store the
data's Ising runs and the ``reproduction`` run, write the report folder and print the table."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engines.constraints import SEED
from lab.cli.common import CliError, run_locked, store_runs
from lab.core.ids import next_run_id, utc_now
from lab.core.progress import ProgressBar
from lab.reproduce.experiment import Interrupted, experiment, experiments, parse_override
from lab.reproduce.report import check_report_folder, table_markdown, write_report
from lab.reproduce.runs import data_runs, reproduction_run
from lab.reproduce.task import ReproductionTask


def report_folder(session: str, run_id: str) -> Path:
    """The default report folder: ``<session>.reports/<run id>/`` beside the session file."""
    target = Path(os.path.abspath(session))
    return target.with_name(f"{target.name}.reports") / run_id


def _list() -> int:
    for name, exp in experiments().items():
        print(f"{name}: {exp.title}  [{exp.paper}]")
        for scale, quick in (("full", False), ("quick", True)):
            settings = ", ".join(f"{k}={v}" for k, v in exp.presets(quick).items())
            print(f"    {scale}: {settings}")
    return 0


def reproduce(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if not args.name or not args.path:
        raise CliError(
            "give the experiment and the session: reproduce NAME S.h5 "
            "(reproduce --list names the experiments)"
        )
    try:
        exp = experiment(args.name)
        SEED.check("--seed", args.seed)
        settings = exp.presets(args.quick)
        for text in args.set:
            key, value = parse_override(text, settings)
            settings[key] = value
        exp.check(settings)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return run_locked(args, lambda a, runs: _run(a, runs, settings), existing=False)


def _run(args: argparse.Namespace, runs: dict, settings: dict) -> int:
    # the reproduction's id depends only on the session's reproduction runs (the data's ising
    # ids are drawn first, from their own numbering), so its report folder is known now
    planned = next_run_id(list(runs), "reproduction")
    folder = Path(args.report) if args.report else report_folder(args.path, planned)
    try:
        check_report_folder(folder)  # before any work: never refused once the runs are saved
    except ValueError as exc:
        raise CliError(str(exc)) from None
    bar = None if args.quiet else ProgressBar(args.name)
    task = ReproductionTask(
        args.name, settings, args.quick, args.seed, on_progress=None if bar is None else bar.update
    )
    created = utc_now()
    try:
        task.step()
    except (Interrupted, KeyboardInterrupt):
        if bar is not None:
            bar.close(task.snapshot().progress, "stopped")
        print(
            f"monge-lab: {args.name} stopped before its end; nothing was added to {args.path}",
            file=sys.stderr,
        )
        return 130
    if bar is not None:
        bar.close(1.0, "done")
    outcome = task.outcome
    assert outcome is not None
    ids = list(runs)
    data_ids = []
    for _ in outcome.data:
        data_ids.append(next_run_id(ids, "ising"))
        ids.append(data_ids[-1])
    run_id = planned  # = next_run_id(ids, "reproduction"): the ising ids do not change it
    finished = utc_now()
    new = [
        *data_runs(outcome, data_ids, created),
        reproduction_run(outcome, run_id, data_ids, created, finished),
    ]
    store_runs(args.path, new)
    try:
        written = write_report(outcome, folder, os.path.abspath(args.path), run_id)
    except OSError as exc:
        raise CliError(
            f"the runs are saved in {args.path}, but the report could not be "
            f"written to {folder}: {exc}"
        ) from None
    print(
        f"{run_id}: {outcome.title} ({'quick' if outcome.quick else 'full'}, seed "
        f"{outcome.seed}, {outcome.seconds:.0f} s)  ->  {args.path}"
    )
    print(table_markdown(outcome))
    for note in outcome.notes:
        print(f"- {note}")
    print(f"report: {written[0]} ({len(written)} files)")
    return 0
