"""The geometry computation behind the geometry dock: jobs over an RBM's checkpoints, live or not.

:class:`GeometryController` analyses the checkpoints of an ``rbm`` run of the session with a
:class:`lab.geometry.task.GeometryTask` (one checkpoint per step) in a
:class:`lab.core.jobs.Job`, and adds the result to the session as a ``geometry`` run
(:func:`lab.geometry.runs.geometry_run`).

Following a live training: when the ``rbm`` run is the one the RBM trainer is training, the
checkpoints come from ``RBMTrainingController.checkpoints()``; a timer polls it every
``POLL_MS`` while following. New checkpoints are fed with ``task.extend()`` only while no job
runs (the task is touched by one thread at a time), then a new job is started.

The run is recorded as it grows: a timer polls the job's snapshot every ``RECORD_MS`` and adds
the ``geometry`` run (status 'running') once the first checkpoint is done, then updates it with
every new checkpoint, so a save or an autosave during a long computation keeps what is done (a
session saved with a 'running' run reopens it as 'interrupted'). The run gets its final status
once the training has ended and every checkpoint is processed, or when the user stops ('stopped').
A failed job is logged; its run, if one was recorded, is marked 'failed'.
Both timers are made with :func:`lab.core.timers.new_timer`, so the main window's shutdown
stops them with every other timer.

Its :attr:`GeometryController.scores` (:class:`lab.geometry.score_controller.ScoreController`)
runs the Wasserstein scores of the dock's second page.

What the dock reads of the session's runs it reads here, as views: the ``geometry`` runs
(:meth:`GeometryController.geometry_views`, :class:`lab.geometry.runs.GeometryRunView`) and the
``rbm`` runs it can compute on (:meth:`GeometryController.rbm_sources`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PySide6.QtCore import QObject, Signal

from data import RunRecord
from lab.core.controller import JobController
from lab.core.ids import short_message, utc_now
from lab.core.jobs import JobManager, JobState
from lab.core.timers import new_timer
from lab.geometry.options import GeometryOptions
from lab.geometry.runs import GeometryRunView, geometry_run
from lab.geometry.score_controller import ScoreController
from lab.rbm.controller import RBMTrainingController
from lab.rbm.runs import Checkpoint, run_checkpoints, training_data
from lab.session.session import Session

if TYPE_CHECKING:
    from lab.geometry.task import GeometrySnapshot, GeometryTask

POLL_MS = 1000
RECORD_MS = 1000  # how often the growing run is updated from the job's snapshot


class RBMSource(NamedTuple):
    """An ``rbm`` run the geometry can be computed on, as the dock lists it."""

    id: str
    n_hidden: int | None  # m (None when the run does not record it)
    live: bool  # True while the RBM trainer trains it


class GeometryController(JobController):
    """Compute the geometry of an ``rbm`` run (finished or training) and file it as a run."""

    runMade = Signal(str)  # the id of the geometry run just added
    followingChanged = Signal(bool)  # True while a live training is followed

    def __init__(
        self,
        session: Session,
        jobs: JobManager,
        trainer: RBMTrainingController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(session, jobs, parent)
        self.trainer = trainer
        self.task: GeometryTask | None = None
        self.rbm_id = ""
        self.options = GeometryOptions()
        self.following = False
        self.checkpoints: list[Checkpoint] = []  # what was fed to the task, in epoch order
        self._data_ids: list[str] = []
        self._started = ""
        self.run_id = ""  # the geometry run of the current computation, once recorded
        self.poll = new_timer(self, POLL_MS, self.poll_training)
        self.recorder = new_timer(self, RECORD_MS, self.record_progress)
        self.scores = ScoreController(session, jobs, self)
        """The Wasserstein scoring of the dock's "Wasserstein scores" page."""

    # ----------------------------------------------------------------- queries
    def rbm_candidates(self) -> list[RunRecord]:
        """``rbm`` runs with parameters or checkpoints (the one in training included), whose
        data runs are in the session."""
        runs = []
        for run in self.session.runs():
            if run.kind != "rbm":
                continue
            has_weights = "W" in run.datasets or "checkpoints/W" in run.datasets
            if not (has_weights or self.is_live(run.id)):
                continue
            if all(i in self.session.record.runs for i in run.params.get("data", [])):
                runs.append(run)
        return runs

    def rbm_sources(self) -> list[RBMSource]:
        """:meth:`rbm_candidates` as the dock lists them: id, hidden units, live or not."""
        return [
            RBMSource(run.id, self.hidden_units(run.id), self.is_live(run.id))
            for run in self.rbm_candidates()
        ]

    def hidden_units(self, rbm_id: str) -> int | None:
        """m of the ``rbm`` run ``rbm_id`` (None when it does not record it)."""
        params = self.session.run(rbm_id).params
        return int(params["n_hidden"]) if "n_hidden" in params else None

    def geometry_runs(self) -> list[RunRecord]:
        return [r for r in self.session.runs() if r.kind == "geometry"]

    def geometry_views(self) -> list[GeometryRunView]:
        """The ``geometry`` runs of the session, as views."""
        return [GeometryRunView(r) for r in self.geometry_runs()]

    def geometry_view(self, run_id: str) -> GeometryRunView:
        """The ``geometry`` run ``run_id`` (KeyError if absent, ValueError if another kind)."""
        return GeometryRunView(self.session.run(run_id))

    def is_live(self, rbm_id: str) -> bool:
        """True when ``rbm_id`` is the run the RBM trainer is training now."""
        return self.trainer.running and self.trainer.run_id == rbm_id

    def latest(self) -> GeometrySnapshot | None:
        """The latest snapshot of the computation (None before its first job)."""
        snapshot = self.snapshot()
        if snapshot is None and self.task is not None:
            return self.task.snapshot() if not self.running else None
        return snapshot

    def weights(self, epoch: int) -> np.ndarray | None:
        """W (n, m) of the analysed checkpoint at ``epoch`` (None when it is not known)."""
        for e, W, _, _ in self.checkpoints:
            if int(e) == int(epoch):
                return np.asarray(W)
        return None

    # ----------------------------------------------------------------- control
    def compute(self, rbm_id: str, options: GeometryOptions) -> None:
        """Analyse every checkpoint of ``rbm_id`` (following it while it trains).

        Raises ValueError with a clear message on bad input, RuntimeError while a job runs.
        """
        if self.running or self.following:
            raise RuntimeError("a geometry computation is already running: stop it first")
        run = self.session.run(rbm_id)
        if run.kind != "rbm":
            raise ValueError(f"run '{rbm_id}' is not an RBM run")
        live = self.is_live(rbm_id)
        checkpoints = self.trainer.checkpoints() if live else run_checkpoints(run)
        if not checkpoints:
            raise ValueError(f"{rbm_id} has no checkpoint yet")
        self._data_ids = [str(i) for i in run.params.get("data", [])]
        data, size = training_data([self.session.run(i) for i in self._data_ids])
        from lab.geometry.task import GeometryTask  # torch and POT: loaded when a job starts

        self.task = GeometryTask(checkpoints, data, size, options)
        self.rbm_id, self.options = rbm_id, options
        self.checkpoints = list(checkpoints)
        self._started = utc_now()
        self.run_id = ""
        self.recorder.start()
        self.session.log(
            f"geometry of {rbm_id}: {len(checkpoints)} checkpoint(s), "
            f"ε = {options.epsilon:g}, {options.samples} samples, seed "
            f"{options.seed}" + (" (following the training)" if live else "")
        )
        self._set_following(live)
        self._start()

    def stop(self) -> None:
        """Stop the job and the following; what was processed becomes a 'stopped' run."""
        was_following = self.following
        self._set_following(False)
        if self.running:
            self.job.stop()  # its end files the run
        elif was_following and self.task is not None:
            self._file("stopped")

    def poll_training(self) -> None:
        """Feed the trainer's new checkpoints to the task (while no job runs), or finish."""
        if not self.following or self.running or self.task is None:
            return
        checkpoints = self.trainer.checkpoints() if self.trainer.run_id == self.rbm_id else []
        added = self.task.extend(checkpoints)
        if added:
            self.checkpoints.extend(checkpoints[len(self.checkpoints) :])
            self._start()
        elif not self.is_live(self.rbm_id):
            self._set_following(False)
            self._file("finished")

    def record_progress(self) -> None:
        """Add or update the growing run with the checkpoints the job has done so far."""
        snapshot = self.snapshot()
        recorded = self.session.run(self.run_id).results.get("checkpoints", 0) if self.run_id else 0
        if snapshot is not None and snapshot.done > recorded:
            self._put(snapshot.datasets, "running", None)

    def _start(self) -> None:
        self._start_job(self.task, name=f"geometry {self.rbm_id}").start()

    def _set_following(self, following: bool) -> None:
        if following != self.following:
            self.following = following
            if following:
                self.poll.start()
            else:
                self.poll.stop()
            self.followingChanged.emit(following)

    # ----------------------------------------------------------------- results
    def _on_ended(self, state: str) -> None:
        if state == JobState.FAILED.value:
            self._set_following(False)
            self.recorder.stop()
            self.session.log(f"geometry of {self.rbm_id} failed: {self.job.error}")
            if self.run_id:
                self.session.update_run(
                    self.run_id,
                    status="failed",
                    finished=utc_now(),
                    message=short_message(self.job.error),
                )
            return
        if state == JobState.STOPPED.value:
            self._set_following(False)
            self._file("stopped")
        elif not self.following:
            self._file("finished")
        else:
            self.poll_training()  # more checkpoints may have arrived meanwhile

    def _file(self, status: str) -> None:
        """Give the computation so far its final ``status`` in the session."""
        self.recorder.stop()
        if self.task is None or self.task.done == 0:
            return
        run = self._put(self.task.datasets(), status, utc_now())
        self.session.log(
            f"{run.id} {status}: geometry of {self.rbm_id} at {self.task.done} checkpoint(s)"
        )
        self.runMade.emit(run.id)

    def _put(self, datasets: dict[str, np.ndarray], status: str, finished: str | None) -> RunRecord:
        """Add the computation's run with ``datasets`` (the first time), or update it."""
        run = geometry_run(
            self.run_id or self.session.new_run_id("geometry"),
            self.session.run(self.rbm_id),
            self._data_ids,
            self.options,
            datasets,
            status,
            created=self._started,
            finished=finished,
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
