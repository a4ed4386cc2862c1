"""What the ``sweep`` command does (options in :mod:`lab.sweep.cli`): check the plan and every
point, reach the cluster, then run the points and file each one into the session as it arrives.

Everything that can be wrong is found before the session is touched: the plan (unknown kind,
empty grid, bad values: each point's options go through its command's own parser and checks),
the runs it reads, and the cluster (an unreachable scheduler is one line within
:data:`~lab.sweep.cluster.CONNECT_TIMEOUT_S`). Then the command holds the session's lock to the
end (the one writer: workers never see the session) and writes, atomically, the ``sweep`` run
(status ``interrupted`` until the end), then each batch of finished points with the sweep run's
new point table, so a kill of this process loses at most the points in flight; ``--resume``
runs the others.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading

from data import RunRecord
from data.lock import SessionLock
from data.recording import SUFFIX, recordings_dir
from lab.cli.common import CliError, get_run, locked_session_runs, store_runs
from lab.core.ids import next_run_id
from lab.core.progress import ProgressBar
from lab.sweep.cluster import ClusterError, dashboard_available, open_cluster
from lab.sweep.plan import (
    COMMANDS,
    PlanError,
    SweepPlan,
    command_options,
    expand_text,
    resolve_option,
)
from lab.sweep.runs import SweepState
from lab.sweep.task import SweepSnapshot, SweepTask
from lab.sweep.work import Outcome, assign_run_ids, prepare

MAX_LISTED = 40
"""Sweeps with at most this many points print a line per point at the end."""


MAX_LOCAL_WORKERS = max(4, 4 * (os.cpu_count() or 1))
"""The most worker processes of a local cluster: four per core (each point is one process's
work, so more only wait and fill memory)."""


def sweep_command(args: argparse.Namespace) -> int:
    try:
        plan = plan_from_args(args)
    except PlanError as exc:
        raise CliError(str(exc)) from None
    if args.workers is not None and not 1 <= args.workers <= MAX_LOCAL_WORKERS:
        raise CliError(
            f"--workers must be from 1 to {MAX_LOCAL_WORKERS} (local worker processes; for more, "
            f"start a cluster and give --scheduler), got {args.workers}"
        )
    if args.shared_dir is not None and not (
        os.path.isdir(args.shared_dir) and os.access(args.shared_dir, os.W_OK)
    ):
        raise CliError(f"--shared-dir {args.shared_dir} is not a folder this user can write")
    lock = SessionLock(args.path)
    runs = locked_session_runs(args.path, lock)
    try:
        return _sweep(args, plan, runs)
    finally:
        lock.release()


# ---------------------------------------------------------------------------- the plan
def plan_from_args(args: argparse.Namespace) -> SweepPlan | None:
    """The plan the options give (a TOML file, or a command and its options); None to
    resume. PlanError for a bad plan."""
    kind = getattr(args, "kind", None)
    if args.resume:
        if kind or args.plan:
            raise PlanError("--resume runs the recorded plan: give no other plan")
        return None
    if args.plan:
        if kind:
            raise PlanError(
                "give the plan as a file (--plan) or as a command with its options, not both"
            )
        return SweepPlan.from_toml(args.plan)
    if not kind:
        raise PlanError(
            "give a plan: a command and its options (sweep S.h5 simulate "
            "--size 16,32 --temperature 2.0:2.6:4), --plan FILE or --resume SWEEP"
        )
    options = command_options(kind)
    given = {dest: getattr(args, dest) for dest in options if hasattr(args, dest)}
    zipped_names = [n for n in getattr(args, "zip", "").split(",") if n.strip()]
    zipped_dests = [resolve_option(kind, name).dest for name in zipped_names]
    missing = [d for d in zipped_dests if d not in given]
    if missing:
        raise PlanError(f"--zip names {missing[0]}, which is not given")
    base_seed, fixed, grid, zipped = 0, {}, [], []
    seed_text = given.pop("seed", None)
    for dest, value in given.items():
        option = options[dest]
        if not option.takes_value:
            fixed[dest] = bool(value)
        elif dest in zipped_dests:
            zipped.append((dest, value))
        elif dest in COMMANDS[kind].verbatim:
            fixed[dest] = value
        elif len(expand_text(value, option.flag.removeprefix("--"))) > 1:
            grid.append((dest, value))
        else:
            fixed[dest] = value
    if seed_text is not None:
        seeds = expand_text(seed_text, "seed")
        if len(seeds) > 1:
            grid.append(("seed", seed_text))
        else:
            try:
                base_seed = int(seeds[0])
            except ValueError:
                raise PlanError(f"seed: '{seeds[0]}' is not an integer") from None
    return SweepPlan.build(kind, fixed, grid, zipped, getattr(args, "seeds", 1), base_seed)


# ---------------------------------------------------------------------------- the sweep
def _sweep(args: argparse.Namespace, plan: SweepPlan | None, runs: dict[str, RunRecord]) -> int:
    folder = os.path.dirname(os.path.abspath(args.path))
    try:
        if plan is None:
            state = SweepState.from_record(get_run(runs, args.resume, "sweep", args.path))
            reconcile(state, runs)
            if not state.unfinished:
                print(f"{state.id}: every point is finished ({state.progress_text()})")
                return 0
            plan, resumed = state.plan, True
        else:
            namespaces = [plan.namespace(p, args.path) for p in plan.points()]
            taken = [*runs, *_recorded_ids(args.path)]
            ids = assign_run_ids(plan, namespaces, taken)
            sweep_id = next_run_id([*runs, *ids], "sweep")
            state, resumed = SweepState.new(sweep_id, plan, ids), False
        points = plan.points()
        todo = state.unfinished
        chosen = [points[row.index] for row in todo]
        prepared = prepare(
            plan,
            chosen,
            [plan.namespace(p, args.path) for p in chosen],
            [row.run_id for row in todo],
            runs,
            folder,
            _recorded_ids(args.path),
        )
        cluster = open_cluster(args.workers, args.scheduler)
    except (PlanError, ClusterError) as exc:
        raise CliError(str(exc)) from None
    filer = SessionFiler(args.path, state, runs)
    task = SweepTask(
        state,
        prepared,
        lambda: cluster,
        shared_dir=args.shared_dir,
        on_outcome=filer.pending.append,
    )
    try:
        state.cluster = cluster.describe()
        for row in todo:
            row.status = "pending"
        filer.start(resumed)
        verb = "resumes" if resumed else "runs"
        print(
            f"{state.id} {verb} {len(todo)} of {len(state.rows)} point(s) of {plan.command} "
            f"on the {state.cluster}",
            flush=True,
        )
        dashboard = cluster.dashboard
        print(
            f"dashboard: {dashboard}"
            if dashboard
            else "dashboard: not served (install bokeh to have Dask's dashboard)"
            if not dashboard_available()
            else "dashboard: none",
            flush=True,
        )
        stopped = _drive(task, filer, state.id, args.quiet)
    finally:
        task.close()
    filer.file(task.snapshot())
    state.end(stopped)
    filer.store_state()
    _report(state, args.path)
    if stopped:
        return 130
    return 1 if state.status == "failed" else 0


def _drive(task: SweepTask, filer: SessionFiler, label: str, quiet: bool) -> bool:
    """Step the task to its end, filing what arrives; True if Ctrl-C stopped it.

    Ctrl-C only sets a flag that the loop reads between two steps (a KeyboardInterrupt raised
    at an arbitrary instant can land in a callback that swallows it); a second Ctrl-C
    interrupts at once."""
    bar = None if quiet else ProgressBar(label)
    snapshot = task.snapshot()
    interrupted = threading.Event()

    def on_sigint(signum, frame) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        while not task.finished and not interrupted.is_set():
            snapshot = task.step()
            filer.file(snapshot)
            if bar is not None:
                bar.update(snapshot.progress, snapshot.describe())
    except KeyboardInterrupt:
        interrupted.set()
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted.is_set():
        task.on_stop()
        if bar is not None:
            bar.close(snapshot.progress, "stopped")
        print(
            "stopped (Ctrl-C): the finished points are kept; --resume runs the others",
            file=sys.stderr,
        )
        return True
    if bar is not None:
        bar.close(1.0, "done")
    return False


def reconcile(state: SweepState, runs: dict[str, RunRecord]) -> None:
    """Make a recorded sweep's point table agree with the session (a kill between the write of
    a point's run and that of the sweep's table): a point whose finished run is in the session
    is finished; a 'finished' point whose run is not, is pending."""
    if state.plan.command == "evaluate":
        return
    for row in state.rows:
        run = runs.get(row.run_id)
        if row.status == "finished" and run is None:
            row.status = "pending"
        elif row.status != "finished" and run is not None and run.status == "finished":
            state.mark(row.index, "finished", filed=True)
        elif row.status in ("running", "pending"):
            row.status = "pending"


def _recorded_ids(path: str) -> list[str]:
    """Run ids of the recordings beside the session (left for ``recover``): not reused."""
    directory = recordings_dir(path)
    return [p.name[: -len(SUFFIX)] for p in directory.glob(f"*{SUFFIX}")]


class SessionFiler:
    """Files a sweep's outcomes into the session (the lock is held by the command): each batch
    of points' runs in one atomic write, then the sweep run with its new point table."""

    def __init__(self, path: str, state: SweepState, runs: dict[str, RunRecord]) -> None:
        self.path = path
        self.state = state
        self.in_file = set(runs)
        self.runs = runs if state.plan.command == "evaluate" else {}
        self.pending: list[Outcome] = []

    def start(self, resumed: bool) -> None:
        self.store_state(replace=resumed)

    def store_state(self, replace: bool = True) -> None:
        store_runs(self.path, [self.state.record()], replace=replace)
        self.in_file.add(self.state.id)

    def file(self, snapshot: SweepSnapshot) -> None:
        outcomes = list(self.pending)
        self.pending.clear()  # the same list: the task appends to it
        if not outcomes:
            return
        for row, status in zip(self.state.rows, snapshot.statuses, strict=True):
            if row.status in ("pending", "running") and status in ("pending", "running"):
                row.status = status
        added: list[RunRecord] = []
        replaced: list[RunRecord] = []
        for outcome in outcomes:
            for run in outcome.runs:
                (replaced if run.id in self.in_file else added).append(run)
            for run_id, groups in outcome.groups.items():
                run = self.runs[run_id]
                run.groups.update(groups)
                replaced.append(run)
            self.state.mark(
                outcome.index,
                outcome.status,
                outcome.message,
                seconds=outcome.seconds,
                nbytes=outcome.bytes,
                worker=outcome.worker,
                filed=bool(outcome.runs or outcome.groups),
            )
        if added:
            store_runs(self.path, added)
            self.in_file.update(run.id for run in added)
        store_runs(self.path, [*replaced, self.state.record()], replace=True)


def _report(state: SweepState, path: str) -> None:
    rows = state.rows
    if len(rows) <= MAX_LISTED:
        for row in rows:
            values = ", ".join(f"{k}={v}" for k, v in row.values.items())
            took = "" if math.isnan(row.seconds) else f"  {row.seconds:.1f} s"
            note = f"  ({row.message})" if row.message and row.status == "failed" else ""
            print(
                f"  {row.index + 1:>3}  {values or '-':<40} seed {row.seed:<10}  "
                f"{row.run_id:<12} {row.status}{took}{note}"
            )
    else:
        for row in [r for r in rows if r.status == "failed"][:MAX_LISTED]:
            print(f"  {row.index + 1:>3}  {row.run_id}: failed ({row.message})")
    print(f"{state.id}: {state.status}, {state.progress_text()}  ->  {path}")
