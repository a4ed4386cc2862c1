"""The reproductions behind the Reproductions dock: one experiment at a time, in a job.

:class:`ReproduceController` runs a :class:`lab.reproduce.task.ReproductionTask` in a
:class:`lab.core.jobs.Job`; when it finishes, the data's Ising runs and the ``reproduction`` run
are added to the session (as the command adds them to the file), and ``outcomeReady`` carries
the run's id. Stop ends the experiment within an epoch, and nothing is added. The report folder
is written on request (:meth:`write_report`), beside the session when it has a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from lab.core.controller import JobController
from lab.core.ids import utc_now
from lab.core.jobs import JobManager, JobState
from lab.reproduce.experiment import Experiment, experiments, parse_override
from lab.reproduce.outcome import Outcome
from lab.reproduce.report import write_report
from lab.reproduce.runs import ReproductionRunView, data_runs, reproduction_run
from lab.reproduce.task import ReproductionSnapshot, ReproductionTask
from lab.session.session import Session


class ReproduceController(JobController):
    """Start/stop one reproduction; its runs go into the session when it finishes."""

    outcomeReady = Signal(str)  # the id of the reproduction run just added

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self._started = ""

    @staticmethod
    def experiments() -> dict[str, Experiment]:
        return experiments()

    @staticmethod
    def settings_with(name: str, quick: bool, overrides: list[str]) -> dict[str, Any]:
        """The experiment's preset with ``key=value`` overrides applied and checked
        (ValueError with the first problem, before any work)."""
        exp = experiments()[name]
        settings = exp.presets(quick)
        for text in overrides:
            key, value = parse_override(text, settings)
            settings[key] = value
        exp.check(settings)
        return settings

    def start(self, name: str, quick: bool, seed: int, overrides: list[str] = ()) -> None:
        if self.running:
            raise RuntimeError("a reproduction is already running: stop it first")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"the seed must be an integer ≥ 0, got {seed!r}")
        settings = self.settings_with(name, quick, list(overrides))
        self._started = utc_now()
        self._start_job(ReproductionTask(name, settings, quick, seed), name=f"reproduce {name}")
        self.session.log(
            f"reproduction {name} started ({'quick' if quick else 'full'}, seed {seed})"
        )
        self.job.start()

    def snapshot(self) -> ReproductionSnapshot | None:
        return None if self.job is None else self.job.task.snapshot()

    def _on_ended(self, state: str) -> None:
        task: ReproductionTask = self.job.task
        if state != JobState.FINISHED.value or task.outcome is None:
            why = f": {self.job.error}" if state == JobState.FAILED.value else ""
            self.session.log(f"reproduction {task.experiment.name} {state}{why}; nothing added")
            return
        outcome = task.outcome
        data_ids = self.session.reserve_run_ids("ising", len(outcome.data))
        run_id = self.session.new_run_id("reproduction")
        for run in data_runs(outcome, data_ids, self._started):
            self.session.add_run(run)
        self.session.add_run(reproduction_run(outcome, run_id, data_ids, self._started, utc_now()))
        self.session.log(f"{run_id} added: {outcome.title}")
        self.outcomeReady.emit(run_id)

    def view(self, run_id: str) -> ReproductionRunView:
        return ReproductionRunView(self.session.run(run_id))

    def reproductions(self) -> list[ReproductionRunView]:
        return [ReproductionRunView(r) for r in self.session.runs() if r.kind == "reproduction"]

    def write_report(self, run_id: str, folder: Path) -> list[Path]:
        """Write the report of the stored run ``run_id`` into ``folder`` (OSError)."""
        view = self.view(run_id)
        outcome = Outcome(
            view.experiment,
            view.title,
            view.quick,
            int(view.seed or 0),
            view.rows,
            view.figures,
            view.notes,
            view.settings,
            {k: float(v) for k, v in view.record.results.items()},
            float(view.record.results.get("seconds", float("nan"))),
        )
        session = str(self.session.path) if self.session.path is not None else "unsaved session"
        return write_report(outcome, folder, session, run_id)
