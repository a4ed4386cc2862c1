"""The sweep dock's controller: build a plan from the dock's fields, run it as a job, and file
each point into the session as it finishes.

The job runs a :class:`lab.sweep.task.SweepTask` in a worker thread: it starts the cluster
there (a local one, or a client of ``scheduler``), submits the points and hands each
:class:`~lab.sweep.work.Outcome` over (``emit``); this controller files it in the GUI thread:
the point's run is added to the session (replaced when a resumed point reruns), the sweep run's
point table updated, and :attr:`sweepChanged` tells the dock. Cancel (or closing the window)
stops the job: the points in flight are cancelled, the cluster closed, what finished is kept,
and the sweep can be resumed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

from PySide6.QtCore import QObject, Signal

from data import RunRecord
from lab.core.controller import JobController
from lab.core.ids import utc_now
from lab.core.jobs import JobManager
from lab.session.session import Session
from lab.sweep.cluster import open_cluster
from lab.sweep.plan import (
    COMMANDS,
    Option,
    PlanError,
    SweepPlan,
    command_options,
    expand_text,
    resolve_option,
)
from lab.sweep.runs import SweepRunView, SweepState
from lab.sweep.task import SweepTask
from lab.sweep.work import RUN_KINDS, Outcome, assign_run_ids, prepare

CHECKED_POINTS = 2000
"""Plans of at most this many points are checked point by point as they are typed (larger
ones at Start)."""


class SweepController(JobController):
    """Starts, cancels and resumes sweeps, and files their points into the session."""

    sweepChanged = Signal(str)
    """A sweep run's point table changed (its id)."""

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self.sweep_state: SweepState | None = None

    # ------------------------------------------------------------------ plans
    @staticmethod
    def commands() -> list[str]:
        return list(COMMANDS)

    @staticmethod
    def options(command: str) -> list[Option]:
        """The options of ``command`` a sweep can set (the seed is the plan's)."""
        return [o for o in command_options(command).values() if o.dest != "seed"]

    def lookup(self, run_id: str) -> RunRecord | None:
        """The session's run ``run_id``, or None (for the dock's views)."""
        return self.session.record.runs.get(run_id)

    def plan(
        self,
        command: str,
        texts: Mapping[str, str],
        flags: Mapping[str, bool],
        seeds: int = 1,
        seed: int = 0,
        zipped: str = "",
    ) -> SweepPlan:
        """The plan the dock's fields give: each non-empty text a value (fixed) or a list or
        range (swept), each checked flag set; the points are checked by the command's own
        parser (PlanError with one sentence otherwise)."""
        names = [n.strip() for n in zipped.split(",") if n.strip()]
        fixed: dict[str, object] = {d: True for d, on in flags.items() if on}
        grid, together = [], []
        zip_dests = {resolve_option(command, n).dest for n in names}
        for dest, text in texts.items():
            if not text.strip():
                continue
            if dest in zip_dests:
                together.append((dest, text))
            elif len(expand_text(text, dest)) > 1:
                grid.append((dest, text))
            else:
                fixed[dest] = text
        missing = zip_dests - {d for d, _ in together}
        if missing:
            raise PlanError(f"zip names {sorted(missing)[0]}, which has no values")
        plan = SweepPlan.build(command, fixed, grid, together, seeds, seed)
        points = plan.points()
        for point in points if len(points) <= CHECKED_POINTS else (points[0], points[-1]):
            plan.namespace(point, self._session_name())
        return plan

    def _session_name(self) -> str:
        return str(self.session.path) if self.session.path is not None else "the session"

    def _folder(self) -> str:
        if self.session.path is not None:
            return os.path.dirname(os.path.abspath(self.session.path))
        return tempfile.gettempdir()

    # ------------------------------------------------------------------ running
    def start(
        self, plan: SweepPlan, workers: int | None = None, scheduler: str | None = None
    ) -> str:
        """Start a new sweep of ``plan``; returns its run id (PlanError if a point does not
        fit the session, RuntimeError if a sweep is running)."""
        if self.running:
            raise RuntimeError("a sweep is already running: cancel it first")
        runs = self.session.record.runs
        points = plan.points()
        namespaces = [plan.namespace(p, self._session_name()) for p in points]
        if plan.command == "evaluate":
            ids = assign_run_ids(plan, namespaces, list(runs))
        else:  # reserved now: a point refused below leaves a gap in the numbers, no more
            ids = self.session.reserve_run_ids(RUN_KINDS[plan.command], len(points))
        prepared = prepare(
            plan, points, namespaces, ids, runs, self._folder(), self.session.reserved_ids
        )
        state = SweepState.new(self.session.new_run_id("sweep"), plan, ids)
        self.session.add_run(state.record())
        self.session.log(f"{state.id} started: {len(points)} points of {plan.command}")
        self._run(state, prepared, workers, scheduler)
        return state.id

    def resume_sweep(
        self, sweep_id: str, workers: int | None = None, scheduler: str | None = None
    ) -> None:
        """Run the points of the sweep ``sweep_id`` that are not finished."""
        if self.running:
            raise RuntimeError("a sweep is already running: cancel it first")
        state = SweepRunView(self.session.run(sweep_id)).state()
        todo = state.unfinished
        if not todo:
            raise PlanError(f"{sweep_id}: every point is finished")
        plan, points = state.plan, state.plan.points()
        chosen = [points[row.index] for row in todo]
        prepared = prepare(
            plan,
            chosen,
            [plan.namespace(p, self._session_name()) for p in chosen],
            [row.run_id for row in todo],
            self.session.record.runs,
            self._folder(),
            self.session.reserved_ids,
        )
        for row in todo:
            row.status = "pending"
        self.session.log(f"{sweep_id} resumed: {len(todo)} of {len(state.rows)} points")
        self._run(state, prepared, workers, scheduler)

    def _run(self, state: SweepState, prepared, workers: int | None, scheduler: str | None) -> None:
        self.session.reserve_ids(prepared.reserved)
        self.sweep_state = state
        state.status, state.message = "interrupted", "running"
        self._file_state()
        task = SweepTask(state, prepared, lambda: open_cluster(workers, scheduler or None))
        job = self._start_job(task, name=f"sweep {state.id}")
        job.outputProduced.connect(self._on_outcome)
        job.start()

    def cancel(self) -> None:
        """Cancel the running sweep (what finished is kept)."""
        self.stop()

    # ------------------------------------------------------------------ filing
    def _on_outcome(self, outcome: Outcome) -> None:
        state = self.sweep_state
        if state is None:
            return
        for run in outcome.runs:
            if run.id in self.session.record.runs:
                self.session.update_run(run.id, **_fields(run))
            else:
                self.session.add_run(run)
        for run_id, groups in outcome.groups.items():
            run = self.session.run(run_id)
            self.session.update_run(run_id, groups={**run.groups, **groups})
        state.mark(
            outcome.index,
            outcome.status,
            outcome.message,
            seconds=outcome.seconds,
            nbytes=outcome.bytes,
            worker=outcome.worker,
            filed=bool(outcome.runs or outcome.groups),
        )
        self._file_state()

    def _file_state(self) -> None:
        state = self.sweep_state
        if state is None:
            return
        record = state.record()
        if record.id in self.session.record.runs:
            self.session.update_run(record.id, **_fields(record))
        else:
            self.session.add_run(record)
        self.sweepChanged.emit(record.id)

    def _on_ended(self, job_state: str) -> None:
        state = self.sweep_state
        if state is None:
            return
        if self.job is not None:
            self.job.task.close()  # a failed step has closed it already; idempotent
        state.end(stopped=job_state == "stopped")
        if job_state == "failed" and self.job is not None:
            state.message = f"{state.progress_text()}; {self.job.error}"
            if state.status == "finished":
                state.status = "failed"
        self._file_state()
        self.session.log(f"{state.id} {state.status}: {state.progress_text()}")


def _fields(run: RunRecord) -> dict:
    """Every field of ``run``, for :meth:`Session.update_run`."""
    return {
        "kind": run.kind,
        "status": run.status,
        "seed": run.seed,
        "params": run.params,
        "inputs": run.inputs,
        "created": run.created or utc_now(),
        "finished": run.finished,
        "datasets": run.datasets,
        "dataset_attrs": run.dataset_attrs,
        "results": run.results,
        "message": run.message,
        "groups": run.groups,
    }
