"""What every controller of a job shares: the session, its state, control, the latest snapshot.

A controller (live Ising simulation, temperature scan, RBM training) is the plain model behind a
dock: it turns user intentions into a :class:`lab.core.jobs.Job` and files the job's results
into the session. Subclasses start their job with :meth:`_start_job` and close their run in
``_on_ended(state)``, which runs in the GUI thread once the job's end is delivered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from lab.core.jobs import Job, JobManager

if TYPE_CHECKING:  # the session is the controllers' context, not a dependency of the core
    from lab.session.session import Session


class JobController(QObject):
    """One job at a time, started by a subclass; state, pause/resume/step/stop, snapshot."""

    stateChanged = Signal(str)
    failed = Signal(str)

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.jobs = jobs
        self.job: Job | None = None

    @property
    def state(self) -> str:
        """'idle' before the first job, else the job's state ('running', 'paused', …)."""
        return "idle" if self.job is None else self.job.state.value

    @property
    def running(self) -> bool:
        """True from start until the job's end has been delivered (and its run closed)."""
        return self.job is not None and not self.job.end_delivered

    def snapshot(self) -> Any:
        return None if self.job is None else self.job.snapshot()

    def pause(self) -> None:
        if self.job is not None:
            self.job.pause()

    def resume(self) -> None:
        if self.job is not None:
            self.job.resume()

    def step(self) -> None:
        if self.job is not None:
            self.job.step_once()

    def stop(self) -> None:
        """Stop and wait for the worker; the run is closed when this returns."""
        if self.job is not None:
            self.job.stop()

    def _start_job(self, task: Any, name: str) -> Job:
        """Run ``task`` in a new job wired to this controller's signals and ``_on_ended``."""
        job = Job(task, name=name)
        job.stateChanged.connect(self.stateChanged)
        job.failed.connect(self.failed)
        job.ended.connect(self._on_ended)
        self.job = job
        self.jobs.add(job)
        return job

    def _on_ended(self, state: str) -> None:
        """Close the job's run (subclasses)."""
