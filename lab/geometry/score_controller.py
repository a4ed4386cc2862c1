"""The Wasserstein scoring behind the geometry dock's "Wasserstein scores" page: a job over the
maps (or checkpoints) of a run, recorded as a ``scores`` run.

:class:`ScoreController` scores an ``rg-flow``, ``rg`` or ``rbm`` run of the session with a
:class:`lab.geometry.score_task.ScoreTask` (one map, whole map or checkpoint per step) in a
:class:`lab.core.jobs.Job`. The run is recorded as it grows: a timer polls the job's snapshot
every ``RECORD_MS`` and adds the ``scores`` run (status 'running') after the first step, then
updates it, so a save during a long scoring keeps what is done (reopened as 'interrupted'); it
gets its final status when the job ends ('finished', 'stopped' by the user, or 'failed' with
the error). The timer is made with :func:`lab.core.timers.new_timer`.

What the page reads of the session it reads here, as views: the ``scores`` runs
(:meth:`ScoreController.score_views`) and the runs that can be scored
(:meth:`ScoreController.sources`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PySide6.QtCore import QObject, Signal

from data import RunRecord
from lab.core.controller import JobController
from lab.core.ids import short_message, utc_now
from lab.core.jobs import JobManager, JobState
from lab.core.kinds import summary_of
from lab.core.timers import new_timer
from lab.geometry.score_options import ScoreOptions
from lab.geometry.score_runs import KIND, ScoresRunView, scores_run
from lab.geometry.score_sources import Plan, plan_from_run, scorable
from lab.session.session import Session

if TYPE_CHECKING:
    from lab.geometry.score_task import ScoreSnapshot, ScoreTask

RECORD_MS = 1000


class ScoreSource(NamedTuple):
    """A run that can be scored, as the page lists it."""

    id: str
    kind: str
    summary: str


class ScoreController(JobController):
    """Score a run of the session and file the result as a ``scores`` run."""

    runMade = Signal(str)  # the id of the scores run just filed

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self.task: ScoreTask | None = None
        self.plan: Plan | None = None
        self.options = ScoreOptions()
        self.source_id = ""
        self.run_id = ""  # the scores run of the current computation, once recorded
        self._started = ""
        self.recorder = new_timer(self, RECORD_MS, self.record_progress)

    # ----------------------------------------------------------------- queries
    def sources(self) -> list[ScoreSource]:
        """The session's rg-flow, rg and rbm runs (with two checkpoints or more)."""
        return [
            ScoreSource(run.id, run.kind, summary_of(run))
            for run in self.session.runs()
            if scorable(run)
        ]

    def score_views(self) -> list[ScoresRunView]:
        return [ScoresRunView(r) for r in self.session.runs() if r.kind == KIND]

    def score_view(self, run_id: str) -> ScoresRunView:
        """The ``scores`` run ``run_id`` (KeyError if absent, ValueError if another kind)."""
        return ScoresRunView(self.session.run(run_id))

    def latest(self) -> ScoreSnapshot | None:
        """The latest snapshot of the scoring (None before its first job)."""
        snapshot = self.snapshot()
        if snapshot is None and self.task is not None and not self.running:
            return self.task.snapshot()
        return snapshot

    # ----------------------------------------------------------------- control
    def compute(self, run_id: str, options: ScoreOptions) -> None:
        """Score ``run_id``. ValueError with a clear message on bad input (the plan is checked
        here, before any work), RuntimeError while a scoring runs."""
        if self.running:
            raise RuntimeError("a scoring is already running: stop it first")
        plan = plan_from_run(run_id, self.session.record.runs)
        from lab.geometry.score_task import ScoreTask  # torch and POT: loaded when a job starts

        task = ScoreTask(plan, options)
        self.task, self.plan, self.options, self.source_id = task, plan, options, run_id
        self.run_id = ""
        self._started = utc_now()
        self.session.log(
            f"scores of {run_id} ({plan.mode}): {task.total} step(s), N = "
            f"{task.n_samples}, cost {options.cost}, solver {options.solver}, "
            f"{options.bootstrap} bootstrap, seed {options.seed}"
        )
        self.recorder.start()
        self._start_job(task, name=f"scores {run_id}").start()

    def record_progress(self) -> None:
        """Add or update the growing run with the steps the job has done so far."""
        snapshot = self.snapshot()
        recorded = (
            int(self.session.run(self.run_id).results.get("steps_done", 0)) if self.run_id else 0
        )
        if snapshot is not None and snapshot.done > recorded:
            self._put(snapshot, "running", None)

    # ----------------------------------------------------------------- results
    def _on_ended(self, state: str) -> None:
        self.recorder.stop()
        if state == JobState.FAILED.value:
            self.session.log(f"scores of {self.source_id} failed: {self.job.error}")
            if self.task is not None and self.task.done:
                self._put(self.task.snapshot(), "failed", utc_now(), self.job.error)
            return
        self._file("stopped" if state == JobState.STOPPED.value else "finished")

    def _file(self, status: str) -> None:
        if self.task is None or self.task.done == 0:
            return
        run = self._put(self.task.snapshot(), status, utc_now())
        self.session.log(
            f"{run.id} {status}: scores of {self.source_id}, {self.task.done} of "
            f"{self.task.total} step(s)"
        )
        self.runMade.emit(run.id)

    def _put(
        self, snapshot: ScoreSnapshot, status: str, finished: str | None, message: str = ""
    ) -> RunRecord:
        """Add the scoring's run (the first time), or update it."""
        assert self.task is not None and self.plan is not None
        run = scores_run(
            self.run_id or self.session.new_run_id(KIND),
            self.plan,
            self.options,
            {k: np.asarray(v) for k, v in snapshot.datasets.items()},
            status,
            n_samples=self.task.n_samples,
            solvers=list(snapshot.solvers),
            steps_done=snapshot.done,
            seconds=snapshot.seconds,
            created=self._started,
            finished=finished,
            message=short_message(message),
        )
        if not self.run_id:
            self.run_id = run.id
            return self.session.add_run(run)
        return self.session.update_run(
            run.id,
            status=run.status,
            finished=run.finished,
            message=run.message,
            params=run.params,
            datasets=run.datasets,
            dataset_attrs=run.dataset_attrs,
            results=run.results,
        )
