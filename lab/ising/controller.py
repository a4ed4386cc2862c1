"""The live Ising simulation behind the lattice viewer: one job, optional recording into runs.

:class:`LiveIsingController` owns the running job and, when recording is on, the session run
that receives its samples. A recorded run must be described by its parameters, so whenever the
physics changes while recording (new temperature or field, painted spins), the current run is
closed and a new one starts from the same lattice, linked to the previous one by ``inputs``.
Nothing here touches widgets; the dock is a thin view of this object.

Each recorded run is kept in memory for the views and, through a :class:`TeeRecording`, written
live into a recording of the session (:meth:`lab.session.session.Session.open_recorder`), flushed at
least every ``FLUSH_SECONDS``: a kill loses at most that much. The recorder is only touched by
the worker while the run is live and closed in the GUI thread once the worker is done with it.
"""

from __future__ import annotations

import os
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from data import RunRecord
from data.recording import RecordingError
from engines.ising import IsingParams
from lab.core.controller import JobController
from lab.core.ids import utc_now
from lab.core.jobs import JobManager, JobState
from lab.ising.runs import finish_ising_run, ising_streams, new_ising_run
from lab.ising.settings import TORCH_ALGORITHMS
from lab.ising.task import (
    IsingPlan,
    IsingTask,
    RecordedIsingTask,
    TeeRecording,
)
from lab.session.session import Session


def engine_threads() -> int:
    """Kernel threads of the live simulation: every core this process may use but one, which
    stays with the GUI thread (on two cores the multi-spin kernel then runs serially, at about
    half its speed, and the viewer keeps its frame rate)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def device_choices(algorithm: str) -> list[str]:
    """The devices an algorithm can run on here: "cpu", plus "cuda" for a torch algorithm when
    a CUDA device is available. torch is imported only for a torch algorithm, and only here:
    the headless Ising commands must never import it, so this lives with the GUI's controller."""
    if algorithm not in TORCH_ALGORITHMS:
        return ["cpu"]
    from engines.ising.torch_checkerboard import check_device

    try:
        check_device("cuda")
    except ValueError:
        return ["cpu"]
    return ["cpu", "cuda"]


def open_tee(
    session: Session, run: RunRecord, params: IsingParams, plan: IsingPlan
) -> TeeRecording:
    """A :class:`TeeRecording` writing ``run`` into the session's recordings; in memory only
    (with ``error`` saying why) if the recording cannot be created."""
    try:
        recorder = session.open_recorder(run, ising_streams(params.size, plan.record_spins))
    except RecordingError as exc:
        tee = TeeRecording(None, plan.record_spins)
        tee.error = f"no live recording: {exc}"
        return tee
    return TeeRecording(recorder, plan.record_spins)


class _Segment:
    """The run being recorded and the recording that feeds it."""

    def __init__(self, run: RunRecord, recording: TeeRecording, params: IsingParams) -> None:
        self.run = run
        self.recording = recording
        self.params = params


class LiveIsingController(JobController):
    """Start/pause/step/stop a live simulation; change T, h and spins while it runs."""

    recordingChanged = Signal(str)  # id of the run being recorded, or ""

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self.params: IsingParams | None = None
        self.plan: IsingPlan | None = None
        self._segment: _Segment | None = None
        self.display_pixels: int | None = None
        session.aboutToSave.connect(self.sync_recording)

    # ----------------------------------------------------------------- queries
    @property
    def recording_run_id(self) -> str:
        return "" if self._segment is None else self._segment.run.id

    # ----------------------------------------------------------------- control
    def start(self, params: IsingParams, plan: IsingPlan, record: bool) -> None:
        """Start a new simulation (raises ValueError with a clear message on bad input)."""
        if self.running:
            raise RuntimeError("a simulation is already running: stop it first")
        params.validate()
        plan.validate()
        self.params, self.plan = params, plan
        recording = self._open_segment(params, inputs=()) if record else None
        task = RecordedIsingTask(params, plan, recording)
        task.display_pixels = self.display_pixels
        task.threads = engine_threads()
        self._start_job(task, name=f"ising L={params.size}")
        device = f" on {params.device}" if params.device != "cpu" else ""
        self.session.log(
            f"live simulation started: L={params.size}, T={params.temperature:g}, "
            f"h={params.field:g}, {params.algorithm}{device}, seed={params.seed}"
            + (f", recording into {self.recording_run_id}" if record else "")
        )
        self.job.start()

    def set_display_pixels(self, pixels: int | None) -> None:
        """The viewer's lattice now has ``pixels`` pixels along each axis: the running task's
        snapshots carry a block image that fits (``lab.ising.task.display_block``)."""
        if pixels == self.display_pixels:
            return
        self.display_pixels = pixels
        if self.job is None:
            return
        # Not a change of the physics: the worker reads the attribute at its next snapshot.
        self.job.task.display_pixels = pixels
        if self.job.state is JobState.PAUSED:  # a paused job makes a snapshot after a command
            self.job.submit(lambda task: None)

    # ----------------------------------------------------------------- changes
    def set_temperature(self, temperature: float) -> None:
        """Change T (a no-op when it is unchanged: that must not cut the recorded run)."""
        if temperature != self._current().temperature:
            self._change(
                replace(self._current(), temperature=temperature),
                lambda task: task.set_temperature(temperature),
            )

    def set_field(self, field: float) -> None:
        """Change h (a no-op when it is unchanged)."""
        if field != self._current().field:
            self._change(replace(self._current(), field=field), lambda task: task.set_field(field))

    def paint(self, cells: list[tuple[int, int]], value: int) -> None:
        """Set spins (only while paused, so the user sees what they paint)."""
        if self.job is None or self.job.state is not JobState.PAUSED:
            raise RuntimeError("pause the simulation before painting spins")
        if value not in (-1, 1):
            raise ValueError("a spin is +1 or -1")
        self._change(self._current(), lambda task: task.paint(cells, value))

    def _current(self) -> IsingParams:
        if self.params is None:
            raise RuntimeError("no simulation has been started")
        return self.params

    def _change(self, params: IsingParams, command) -> None:
        params.validate()
        self.params = params
        if not self.running:
            return
        if self._segment is None:
            self.job.submit(command)
            return
        old = self._segment
        new_recording = self._open_segment(params, inputs=(old.run.id,))

        def apply_and_swap(task: IsingTask) -> None:
            command(task)
            task.set_recording(new_recording)

        self.job.submit(apply_and_swap, on_done=lambda _: self._close_segment(old, "finished"))

    # ----------------------------------------------------------------- recording
    def _open_segment(self, params: IsingParams, inputs: tuple[str, ...]) -> TeeRecording:
        run = new_ising_run(self.session.new_run_id("ising"), params, self.plan, inputs)
        run.params["samples_planned"] = -1 if self.plan.samples is None else self.plan.samples
        run.params.pop("samples", None)
        run.created = utc_now()
        recording = open_tee(self.session, run, params, self.plan)
        if recording.error:
            self.session.log(f"{run.id}: {recording.error}")
        self._segment = _Segment(run, recording, params)
        self.session.add_run(run)
        self.recordingChanged.emit(run.id)
        return recording

    def _close_segment(self, segment: _Segment, status: str, message: str = "") -> None:
        segment.recording.close(status, message)
        if segment.recording.error:
            message = "; ".join(m for m in (message, segment.recording.error) if m)
        finish_ising_run(segment.run, segment.recording, segment.params, status, utc_now(), message)
        self.session.update_run(segment.run.id)
        self.session.log(f"{segment.run.id} {status}: {len(segment.recording)} samples")

    def sync_recording(self) -> None:
        """Copy what the running segment has recorded so far into its run (before a save)."""
        segment = self._segment
        if segment is None or not self.running:
            return
        finish_ising_run(segment.run, segment.recording, segment.params, "running", None)
        self.session.update_run(segment.run.id)

    def _on_ended(self, state: str) -> None:
        segment, self._segment = self._segment, None
        if segment is not None:
            message = self.job.error if state == JobState.FAILED.value else ""
            self._close_segment(segment, state, message)
            self.recordingChanged.emit("")
        if state == JobState.FAILED.value:
            self.session.log(f"live simulation failed: {self.job.error}")
