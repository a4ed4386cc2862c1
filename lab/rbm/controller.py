"""The RBM training behind the trainer dock: one job, its session run, resume from a saved run.

:class:`RBMTrainingController` starts training on Ising runs of the session (or resumes an
``rbm`` run from its last checkpoint or stop), runs it in a :class:`lab.core.jobs.Job`, and keeps
the session's run up to date: it is created when training starts (status 'running'), refreshed
before every save (``Session.aboutToSave``), and closed when the job ends — finished, stopped,
or failed (divergence), in which case it keeps the last good checkpoint.

Training is also recorded live (:class:`LiveRBMRecording`) into the session's recordings: the
streams ``history/<metric>`` (one float64 row per epoch, the metrics of the first epoch recorded
naming them), ``checkpoints/epoch`` (int64), ``checkpoints/W`` (n, m), ``checkpoints/a`` (n,)
and ``checkpoints/b`` (m,) float32, one row per checkpoint; its resume slot holds the trainer
state of the last checkpoint as one blob (:func:`lab.rbm.runs.pack_trainer_state`), so a run
recovered after a crash resumes from its last recorded checkpoint.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from data import RunRecord
from data.recording import RecordingError, RunRecorder, Stream
from engines.rbm.config import RBMConfig
from lab.core.controller import JobController
from lab.core.ids import utc_now
from lab.core.jobs import JobManager, JobState
from lab.core.recorder_guard import RecorderGuard
from lab.ising.runs import IsingRunView
from lab.rbm.runs import (
    PARAM_UNITS,
    TRAINER_BLOB,
    RBMRunView,
    finish_rbm_run,
    new_rbm_run,
    pack_trainer_state,
    recording_from_run,
    resume_trainer,
    training_data,
)
from lab.rbm.task import (
    RBMRecording,
    RBMTrainingTask,
    default_monitor_every,
    early_stop_message,
    history_units,
)
from lab.session.session import Session

if TYPE_CHECKING:
    from engines.rbm import RBMTrainer


def data_temperature(runs: list[RunRecord]) -> float | None:
    """The common temperature of Ising runs, or None when they differ or do not say."""
    temperatures = {float(r.params["temperature"]) for r in runs if "temperature" in r.params}
    return temperatures.pop() if len(temperatures) == 1 else None


def rbm_streams(history: list[str], n_visible: int, n_hidden: int) -> dict[str, Stream]:
    """The streams of a live RBM recording (see the module docstring)."""

    def attrs(name: str) -> dict[str, str]:
        return {"units": PARAM_UNITS[name][0], "axes": PARAM_UNITS[name][1]}

    streams = {
        f"history/{name}": Stream(
            (), np.float64, attrs={"units": history_units(name), "axes": "epoch"}
        )
        for name in history
    }
    streams.update(
        {
            "checkpoints/epoch": Stream((), np.int64, attrs=attrs("checkpoints/epoch")),
            "checkpoints/W": Stream(
                (n_visible, n_hidden), np.float32, attrs=attrs("checkpoints/W")
            ),
            "checkpoints/a": Stream((n_visible,), np.float32, attrs=attrs("checkpoints/a")),
            "checkpoints/b": Stream((n_hidden,), np.float32, attrs=attrs("checkpoints/b")),
        }
    )
    return streams


class LiveRBMRecording(RecorderGuard, RBMRecording):
    """An :class:`RBMRecording` that also writes history rows and checkpoints to a recorder.

    ``open_recorder(streams)`` creates the recorder; it is called at the first epoch measured,
    whose metrics name the history streams, and everything recorded before (a resumed run's
    history and checkpoints) is written first. Later metrics of other names stay in memory only.
    A failing recorder stops the live copy and keeps ``error``; training goes on.
    """

    def __init__(
        self,
        open_recorder: Callable[[dict[str, Stream]], RunRecorder],
        n_visible: int,
        n_hidden: int,
        base: RBMRecording | None = None,
    ) -> None:
        super().__init__()
        if base is not None:
            self.history, self.checkpoints = base.history, base.checkpoints
            self.trainer_state = base.trainer_state
        self._open = open_recorder
        self._shape = (n_visible, n_hidden)
        self.recorder: RunRecorder | None = None
        self._started = False
        self.error = ""

    def add_metrics(self, metrics: dict) -> None:
        before = {key: len(values) for key, values in self.history.items()}
        super().add_metrics(metrics)
        self._append(
            {
                f"history/{key}": np.asarray(values[before.get(key, 0) :])
                for key, values in self.history.items()
                if len(values) > before.get(key, 0)
            }
        )

    def add_checkpoint(self, trainer: RBMTrainer) -> None:
        super().add_checkpoint(trainer)
        epoch, W, a, b = self.checkpoints[-1]
        self._append(
            {
                "checkpoints/epoch": np.array([epoch]),
                "checkpoints/W": W[None],
                "checkpoints/a": a[None],
                "checkpoints/b": b[None],
            }
        )

    def packed_state(self) -> np.ndarray:
        """The trainer state of the last checkpoint as the recording's resume blob."""
        with self._lock:
            state = self.trainer_state
        return pack_trainer_state(state)

    def close(self, status: str, message: str = "") -> None:
        super().close(status, message)
        self._started = True  # nothing is recorded after the end

    def _append(self, rows: dict[str, np.ndarray]) -> None:
        if not self._started:
            self._started = True
            self._start()
            return  # _start wrote everything, these rows included
        if self.recorder is not None:
            known = {k: v for k, v in rows.items() if k in self.recorder.streams}
            self._guard(lambda: self.recorder.append(known))

    def _start(self) -> None:
        try:
            self.recorder = self._open(rbm_streams(list(self.history), *self._shape))
        except RecordingError as exc:
            self.error = f"no live recording: {exc}"
            return
        rows: dict[str, np.ndarray] = {
            f"history/{k}": np.asarray(v, dtype=np.float64) for k, v in self.history.items()
        }
        if self.checkpoints:
            rows["checkpoints/epoch"] = np.array([c[0] for c in self.checkpoints])
            for i, name in enumerate("Wab", start=1):
                rows[f"checkpoints/{name}"] = np.stack([c[i] for c in self.checkpoints])
        self._guard(lambda: self.recorder.append(rows))


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

    @property
    def run_view(self) -> RBMRunView | None:
        """The view of the run being trained (or last trained), None before any."""
        return None if self.run is None else RBMRunView(self.run)

    def data_candidates(self) -> list[IsingRunView]:
        """Ising runs of the session with recorded configurations, sorted by temperature."""
        runs = [
            r
            for r in self.session.runs()
            if r.kind == "ising" and "samples" in r.datasets and r.datasets["samples"].shape[0] > 0
        ]
        runs.sort(key=lambda r: (float(r.params.get("temperature", math.inf)), r.id))
        return [IsingRunView(r) for r in runs]

    def checkpoints(self) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """(epoch, W, a, b) of every checkpoint of the run being trained (copies, thread-safe)."""
        if self._task is None:
            return []
        return self._task.recording.copy()[1]

    # ----------------------------------------------------------------- control
    def start(
        self,
        data_ids: list[str],
        config: RBMConfig,
        monitor_every: int | None = None,
        metrics_every: int = 0,
        early_stop: int = 0,
    ) -> str:
        """Train a new RBM on the given Ising runs; returns the new run's id.

        ``monitor_every``: epochs between the monitor's model-vs-data measurements
        (:mod:`lab.rbm.task`; 0 off, None about 20 in the run); ``metrics_every`` the metrics'
        period (0 automatic); ``early_stop`` early stopping's patience (0 off). Raises
        ValueError with a clear message on bad input (no data, mixed sizes, bad config).
        """
        if self.running:
            raise RuntimeError("training is already running: stop it first")
        data_runs = [self.session.run(i) for i in data_ids]
        data, size = training_data(data_runs)
        config.validate(n_visible=data.shape[1])
        from engines.rbm import RBMTrainer  # torch: loaded when a training starts

        trainer = RBMTrainer(config, data)
        run = new_rbm_run(self.session.new_run_id("rbm"), config, size, list(data_ids))
        run.created = utc_now()
        run.params["monitor_every"] = (
            default_monitor_every(config.epochs) if monitor_every is None else monitor_every
        )
        run.params["metrics_every"] = int(metrics_every)
        run.params["early_stop"] = int(early_stop)
        self._launch(
            run, trainer, RBMRecording(), fresh=True, temperature=data_temperature(data_runs)
        )
        self.session.add_run(run)
        self.session.log(
            f"{run.id} started: {config.method}, m={config.n_hidden}, "
            f"{config.epochs} epochs on {', '.join(data_ids)}"
        )
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
        run.params["monitor_every"] = int(
            run.params.get("monitor_every", default_monitor_every(trainer.config.epochs))
        )
        self._launch(
            run,
            trainer,
            recording_from_run(run),
            fresh=False,
            temperature=data_temperature(data_runs),
        )
        self.session.update_run(run.id, status="running", finished=None, message="")
        self.session.log(f"{run.id} resumed at epoch {trainer.epoch} of {trainer.config.epochs}")

    def _launch(
        self,
        run: RunRecord,
        trainer: RBMTrainer,
        recording: RBMRecording,
        fresh: bool,
        temperature: float | None,
    ) -> None:
        import torch  # loaded already by the trainer; not at the top, so the GUI starts without

        # Leave one core to the GUI thread: on small matrices torch with every core competing
        # with the GUI was measured up to 5× slower than with one thread fewer.
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
        header = RunRecord(
            id=run.id,
            kind=run.kind,
            status="running",
            seed=run.seed,
            params={k: v for k, v in run.params.items() if k != "trainer_meta"},
            inputs=list(run.inputs),
            created=run.created,
        )
        path = self.session.recording_path_for(run.id)
        session_path = str(self.session.path or "")

        def open_recorder(streams: dict[str, Stream]) -> RunRecorder:
            # the trainer state of the last checkpoint goes with every flush: a run recovered
            # after a crash resumes from it
            return RunRecorder(
                path,
                header,
                streams,
                session=session_path,
                state_source=lambda: {TRAINER_BLOB: live.packed_state()},
            )

        live = LiveRBMRecording(
            open_recorder, trainer.model.n_visible, trainer.model.n_hidden, base=recording
        )
        self._task = RBMTrainingTask(
            trainer,
            live,
            fresh=fresh,
            temperature=temperature,
            monitor_every=int(run.params["monitor_every"]),
            metrics_every=int(run.params.setdefault("metrics_every", 0)),
            early_stop=int(run.params.setdefault("early_stop", 0)),
        )
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
        task.recording.close(state, message)
        if task.recording.error:
            message = "; ".join(m for m in (message, task.recording.error) if m)
        message = early_stop_message(task) or message
        finish_rbm_run(run, task.recording, task.trainer, state, utc_now(), message)
        self.session.update_run(run.id)
        self.session.log(
            f"{run.id} {state} at epoch {task.trainer.epoch}" + (f": {message}" if message else "")
        )
