"""Worker threads that drive an engine's stepping loop.

A :class:`Job` runs a *task* — any object with ``step() -> snapshot`` and a ``finished`` flag —
in a Python thread. The engines release the GIL while they compute, so the GUI thread keeps
running. The worker never touches widgets: it stores its latest snapshot under a lock and the
panels *pull* it with a timer (``Job.snapshot()``), so a fast engine cannot flood the event loop.

Control (start, pause, resume, single step, stop) is thread-safe and works the same from the GUI,
the CLI and tests. Changes to the running task (a new temperature, a painted spin) are sent with
:meth:`Job.submit` and executed by the worker between two steps, so the task is only ever touched
by one thread. :class:`JobManager` keeps every job of the application and has the one shutdown
path that stops and joins them all.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal


class Task(Protocol):
    """What a job runs: a small unit of work per ``step()``.

    Optional members: ``emit`` (set by the job: hands objects to the GUI thread), ``snapshot()``
    (refreshes the published snapshot after commands), ``on_stop()`` (called in the worker
    when the job is stopped, to hand over partial results) and ``interrupt()`` (called from any
    thread when a stop is requested, for tasks whose single step is long).
    """

    finished: bool

    def step(self) -> Any:
        """Do a short piece of work (ideally ≤ 30 ms) and return a snapshot of the progress."""


class JobState(str, Enum):
    """Life cycle of a job. The terminal states are finished, stopped and failed."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (JobState.FINISHED, JobState.STOPPED, JobState.FAILED)


class Job(QObject):
    """Runs a task's stepping loop in a worker thread.

    The worker never emits Qt signals itself (PySide6 is fragile with emissions from threads
    that Qt did not create): it posts events to a plain queue, and a timer in the job's own
    thread — the GUI thread — delivers them as signals every ``DELIVERY_MS`` ms.
    ``outputProduced`` carries objects the task hands over through the ``emit`` callback it
    receives as ``task.emit`` (for example finished runs of a temperature scan).
    """

    DELIVERY_MS = 10

    stateChanged = Signal(str)
    failed = Signal(str)
    ended = Signal(str)
    outputProduced = Signal(object)

    def __init__(self, task: Task, name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task = task
        self.name = name
        self._cond = threading.Condition()
        self._commands: list[tuple[Callable[[Any], Any], Callable[[Any], None] | None]] = []
        self._paused = False
        self._stop_requested = False
        self._pending_steps = 0
        self._state = JobState.IDLE
        self._snapshot: Any = None
        self._error: str = ""
        self._thread: threading.Thread | None = None
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.end_delivered = False  # True once ``ended`` has been emitted in the GUI thread
        self._delivery = QTimer(self)
        self._delivery.setInterval(self.DELIVERY_MS)
        self._delivery.timeout.connect(self.deliver_events)
        if hasattr(task, "emit"):
            # The closure holds the queue, not the job: a job must never sit in a reference
            # cycle, or the cyclic collector may free it (and stop its timer) in a worker thread.
            events = self._events
            task.emit = lambda obj: events.put(("output", obj))

    # ----------------------------------------------------------------- queries
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def error(self) -> str:
        """The failure message (last line of the exception) when the job failed."""
        return self._error

    def snapshot(self) -> Any:
        """The latest snapshot the task returned (``None`` before the first step)."""
        with self._cond:
            return self._snapshot

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ----------------------------------------------------------------- control
    def start(self, paused: bool = False) -> None:
        """Start the worker thread; with ``paused=True`` it waits for resume() or step_once()."""
        if self._thread is not None:
            raise RuntimeError(f"job {self.name} was already started")
        self._paused = paused
        self._set_state(JobState.RUNNING)
        self._delivery.start()
        self._thread = threading.Thread(
            target=self._run, name=f"monge-lab:{self.name}", daemon=True
        )
        self._thread.start()

    def pause(self) -> None:
        """Ask the worker to pause after its current step.

        The state becomes 'paused' when the worker has actually parked, so a paused job's
        snapshot no longer changes.
        """
        with self._cond:
            if self._state.is_terminal or self._thread is None:
                return
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            if not self._paused or self._state.is_terminal:
                return
            self._paused = False
            self._cond.notify_all()
        self._set_state(JobState.RUNNING)

    def step_once(self) -> None:
        """While paused, advance the task by exactly one step."""
        with self._cond:
            if not self._paused or self._state.is_terminal:
                return
            self._pending_steps += 1
            self._cond.notify_all()

    def submit(
        self,
        command: Callable[[Any], Any],
        on_done: Callable[[Any], None] | None = None,
    ) -> None:
        """Run ``command(task)`` in the worker before its next step (also while paused).

        ``on_done(result)`` is then called in the thread that owns the job (the GUI thread).
        """
        with self._cond:
            if self._state.is_terminal:
                raise RuntimeError(f"job {self.name} has ended")
            self._commands.append((command, on_done))
            self._cond.notify_all()

    def deliver_events(self) -> None:
        """Emit, in the calling (GUI) thread, the signals the worker has posted so far."""
        while True:
            try:
                kind, payload = self._events.get_nowait()
            except queue.Empty:
                return
            if kind == "state":
                self.stateChanged.emit(payload)
            elif kind == "failed":
                self.failed.emit(payload)
            elif kind == "output":
                self.outputProduced.emit(payload)
            elif kind == "done":
                on_done, result = payload
                on_done(result)
            elif kind == "ended":
                self._delivery.stop()
                self.end_delivered = True
                self.ended.emit(payload)

    def request_stop(self) -> None:
        """Ask the worker to stop after its current step, without waiting; a task with a long
        step may offer ``interrupt()`` (thread-safe) to end that step early."""
        with self._cond:
            self._stop_requested = True
            self._cond.notify_all()
        interrupt = getattr(self.task, "interrupt", None)
        if interrupt is not None:
            interrupt()

    def stop(self, timeout: float | None = 30.0) -> bool:
        """Ask the worker to stop after its current step and wait for it; True when it ended.

        Once the worker has ended, its last events (``ended`` included) are delivered right
        here, so whoever called stop() sees the job closed when it returns.
        """
        self.request_stop()
        ended = self.join(timeout)
        if ended:
            self.deliver_events()
        return ended

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ----------------------------------------------------------------- worker
    def _set_state(self, state: JobState) -> None:
        self._state = state
        self._events.put(("state", state.value))

    def _next_action(self) -> str:
        """Block until there is something to do: 'stop', 'commands' or 'step'."""
        with self._cond:
            while True:
                if self._stop_requested:
                    return "stop"
                if self._commands:
                    return "commands"
                if not self._paused:
                    return "step"
                if self._pending_steps > 0:
                    self._pending_steps -= 1
                    return "step"
                if self._state is not JobState.PAUSED:
                    self._set_state(JobState.PAUSED)
                self._cond.wait()

    def _run(self) -> None:
        final = JobState.STOPPED
        try:
            while True:
                action = self._next_action()
                if action == "stop":
                    break
                if action == "commands":
                    with self._cond:
                        commands, self._commands = self._commands, []
                    for command, on_done in commands:
                        result = command(self.task)
                        if on_done is not None:
                            self._events.put(("done", (on_done, result)))
                    if hasattr(self.task, "snapshot"):
                        snapshot = self.task.snapshot()
                        with self._cond:
                            self._snapshot = snapshot
                    continue
                snapshot = self.task.step()
                with self._cond:
                    self._snapshot = snapshot
                if self.task.finished:
                    final = JobState.FINISHED
                    break
        except Exception as exc:  # noqa: BLE001 — every failure is reported, never lost
            final = JobState.FAILED
            self._error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            self._events.put(("failed", self._error))
        if final is JobState.STOPPED and hasattr(self.task, "on_stop"):
            try:
                self.task.on_stop()
            except Exception as exc:  # noqa: BLE001
                final = JobState.FAILED
                self._error = f"while stopping: {type(exc).__name__}: {exc}"
                self._events.put(("failed", self._error))
        with self._cond:
            self._commands.clear()
        self._set_state(final)
        self._events.put(("ended", final.value))


class JobManager(QObject):
    """Every job of the application, and the one shutdown path that stops and joins them."""

    jobAdded = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []

    def add(self, job: Job) -> Job:
        self._jobs = [j for j in self._jobs if j.is_alive() or j.state is JobState.IDLE]
        self._jobs.append(job)
        self.jobAdded.emit(job)
        return job

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def active(self) -> list[Job]:
        return [job for job in self._jobs if job.is_alive()]

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop every job and wait for all of them; True when no worker is left running."""
        for job in self._jobs:
            job.request_stop()
        stopped = all(job.join(timeout) for job in self._jobs)
        for job in self._jobs:
            job.deliver_events()
        return stopped
