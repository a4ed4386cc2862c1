"""Temperature scans: simulate a list of temperatures one after another and record each.

A scan is a run of kind ``ising-scan`` whose ``inputs`` are the ids of its per-temperature
``ising`` runs and whose datasets are the curves ``temperature``, ``e``, ``abs_m``, ``c``,
``chi``, ``binder`` and their ``*_error``. Each temperature gets its own seed, drawn from the
scan's seed with numpy's SeedSequence and recorded in its run, so every point is reproducible alone.

Each point records live into the session's recordings (:class:`lab.ising.controller.TeeRecording`):
its id is reserved when the scan starts, its recorder is created by the worker when the point
starts and closed in the GUI thread when the point's run arrives (or the job has ended).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from data import RunRecord
from data.recording import RecordingError, RunRecorder
from engines.ising import IsingParams
from lab.core.controller import JobController
from lab.core.ids import short_message, utc_now
from lab.core.jobs import JobManager, JobState
from lab.ising.controller import TeeRecording
from lab.ising.runs import ising_streams
from lab.ising.task import IsingPlan
from lab.scan.task import (
    ScanTask,
    scan_datasets,
)
from lab.session.session import Session


class ScanController(JobController):
    """Starts a scan job and files its runs into the session as they finish (each point
    recorded live into the session's recordings)."""

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self.scan_run: RunRecord | None = None
        self._points: list[dict] = []

    def start(self, base: IsingParams, temperatures: np.ndarray, plan: IsingPlan) -> None:
        if self.running:
            raise RuntimeError("a scan is already running: stop it first")
        run_ids = self.session.reserve_run_ids("ising", len(temperatures))
        paths = {run_id: self.session.recording_path_for(run_id) for run_id in run_ids}
        session_path = str(self.session.path or "")

        def tee(point: RunRecord) -> TeeRecording:  # in the worker thread
            try:
                recorder = RunRecorder(
                    paths[point.id],
                    point,
                    ising_streams(base.size, plan.record_spins),
                    session=session_path,
                )
            except RecordingError as exc:
                recording = TeeRecording(None, plan.record_spins)
                recording.error = f"no live recording: {exc}"
                return recording
            return TeeRecording(recorder, plan.record_spins)

        task = ScanTask(base, temperatures, plan, run_ids, tee)
        run = RunRecord(
            id=self.session.new_run_id("ising-scan"),
            kind="ising-scan",
            status="running",
            seed=base.seed,
            params={
                "size": base.size,
                "coupling": base.coupling,
                "field": base.field,
                "algorithm": base.algorithm,
                "temperatures": [float(t) for t in temperatures],
                "samples": plan.samples,
                "thermalize": plan.thermalize,
                "interval": plan.interval,
                "seeds": task.seeds,
            },
        )
        self.scan_run = self.session.add_run(run)
        self._points = []
        self._start_job(task, name=f"scan L={base.size}").outputProduced.connect(self._on_point)
        self.session.log(f"{run.id} started: {len(temperatures)} temperatures, L={base.size}")
        self.job.start()

    def _on_point(self, item: tuple[RunRecord, TeeRecording]) -> None:
        run, recording = item
        recording.close(run.status)  # the worker has moved on to the next point
        if recording.error:
            run.message = short_message("; ".join(m for m in (run.message, recording.error) if m))
        self.session.add_run(run)
        if run.status != "finished":
            return
        self._points.append({"temperature": run.params["temperature"], **run.results})
        self.scan_run.inputs.append(run.id)
        self.scan_run.datasets = scan_datasets(self._points)
        self.session.update_run(self.scan_run.id)

    def _on_ended(self, state: str) -> None:
        recording = self.job.task.recording  # a point the worker left unfinished (failure)
        if recording is not None:
            recording.close(state, self.job.error)
        run = self.scan_run
        run.status = state
        run.finished = utc_now()
        if state == JobState.FAILED.value:
            run.message = short_message(self.job.error)
        run.datasets = scan_datasets(self._points)
        run.dataset_attrs = {
            name: {"units": "T in units of J" if name == "temperature" else "per spin"}
            for name in run.datasets
        }
        self.session.update_run(run.id)
        self.session.log(
            f"{run.id} {state}: {len(self._points)} of "
            f"{len(run.params['temperatures'])} temperatures"
        )
