"""The RBM training behind the trainer dock: one job, its session run, resume from a saved run.

:class:`RBMTrainingController` starts training on Ising runs of the session (or resumes an
``rbm`` run from its last checkpoint or stop), runs it in a :class:`lab.jobs.Job`, and keeps the
session's run up to date: it is created when training starts (status 'running'), refreshed
before every save (``Session.aboutToSave``), and closed when the job ends — finished, stopped,
or failed (divergence), in which case it keeps the last good checkpoint.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from data import RunRecord
from engines.rbm import RBMConfig, RBMTrainer
from lab.job_controller import JobController
from lab.jobs import JobManager, JobState
from lab.rbm_runs import (
    finish_rbm_run,
    new_rbm_run,
    recording_from_run,
    resume_trainer,
    training_data,
)
from lab.rbm_task import RBMRecording, RBMTrainingTask
from lab.session import Session, utc_now


def data_temperature(runs: list[RunRecord]) -> float | None:
    """The common temperature of Ising runs, or None when they differ or do not say."""
    temperatures = {float(r.params["temperature"]) for r in runs if "temperature" in r.params}
    return temperatures.pop() if len(temperatures) == 1 else None


class RBMTrainingController(JobController):
    """Start, pause, resume, stop and resume-later RBM training inside the session."""

    runChanged = Signal(str)  # the id of the run being trained ("" when none)

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self.run: RunRecord | None = None
        self._task: RBMTrainingTask | None = None
        session.aboutToSave.connect(self.sync_run)

    # ----------------------------------------------------------------- queries
    @property
    def run_id(self) -> str:
        return "" if self.run is None else self.run.id

    def data_candidates(self) -> list[RunRecord]:
        """Ising runs of the session with recorded configurations, sorted by temperature."""
        runs = [r for r in self.session.runs()
                if r.kind == "ising" and "samples" in r.datasets
                and r.datasets["samples"].shape[0] > 0]
        return sorted(runs, key=lambda r: (float(r.params.get("temperature", math.inf)), r.id))

    def checkpoints(self) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """(epoch, W, a, b) of every checkpoint of the run being trained (copies, thread-safe)."""
        if self._task is None:
            return []
        return self._task.recording.copy()[1]

    # ----------------------------------------------------------------- control
    def start(self, data_ids: list[str], config: RBMConfig) -> str:
        """Train a new RBM on the given Ising runs; returns the new run's id.

        Raises ValueError with a clear message on bad input (no data, mixed sizes, bad config).
        """
        if self.running:
            raise RuntimeError("training is already running: stop it first")
        data_runs = [self.session.run(i) for i in data_ids]
        data, size = training_data(data_runs)
        config.validate(n_visible=data.shape[1])
        trainer = RBMTrainer(config, data)
        run = new_rbm_run(self.session.new_run_id("rbm"), config, size, list(data_ids))
        self._launch(run, trainer, RBMRecording(), fresh=True,
                     temperature=data_temperature(data_runs))
        self.session.add_run(run)
        self.session.log(f"{run.id} started: {config.method}, m={config.n_hidden}, "
                         f"{config.epochs} epochs on {', '.join(data_ids)}")
        return run.id

    def resume_run(self, run_id: str, epochs: int | None = None) -> None:
        """Continue an ``rbm`` run of the session from its last checkpoint or stop."""
        if self.running:
            raise RuntimeError("training is already running: stop it first")
        run = self.session.run(run_id)
        if run.kind != "rbm":
            raise ValueError(f"run '{run_id}' is not an RBM run")
        data_runs = [self.session.run(i) for i in run.params.get("data", [])]
        data, _ = training_data(data_runs)
        trainer = resume_trainer(run, data, epochs)
        run.params["epochs"] = trainer.config.epochs
        self._launch(run, trainer, recording_from_run(run), fresh=False,
                     temperature=data_temperature(data_runs))
        self.session.update_run(run.id, status="running", finished=None, message="")
        self.session.log(f"{run.id} resumed at epoch {trainer.epoch} of {trainer.config.epochs}")

    def _launch(self, run: RunRecord, trainer: RBMTrainer, recording: RBMRecording,
                fresh: bool, temperature: float | None) -> None:
        # Leave one core to the GUI thread: on small matrices torch with every core competing
        # with the GUI was measured up to 5× slower than with one thread fewer.
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        self._task = RBMTrainingTask(trainer, recording, fresh=fresh, temperature=temperature,
                                     measure_observables=True)
        self.run = run
        self._start_job(self._task, name=f"rbm {run.id}").start()
        self.runChanged.emit(run.id)

    # ----------------------------------------------------------------- session
    def sync_run(self) -> None:
        """Copy the checkpoints and history so far into the run (before a save)."""
        if self.run is None or not self.running:
            return
        task = self._task
        finish_rbm_run(self.run, task.recording, task.trainer, "running", None)
        self.session.update_run(self.run.id)

    def _on_ended(self, state: str) -> None:
        task, run = self._task, self.run
        message = self.job.error if state == JobState.FAILED.value else ""
        finish_rbm_run(run, task.recording, task.trainer, state, utc_now(), message)
        self.session.update_run(run.id)
        self.session.log(f"{run.id} {state} at epoch {task.trainer.epoch}"
                         + (f": {message}" if message else ""))
