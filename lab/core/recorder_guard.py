"""What the live recordings of the GUI's jobs share: a recorder that stops, never the job.

:class:`RecorderGuard` is mixed into an in-memory recording (Ising samples, RBM history) that also
writes through a :class:`data.recording.RunRecorder`. A failing recorder (disk full, write
error) is abandoned — what it flushed stays readable — and the reason kept in ``error`` for the
run's message, while the in-memory recording, and so the run, goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from data.recording import RecordingError, RunRecorder
from lab.core.ids import short_message


class RecorderGuard:
    """``recorder`` (or None once closed or failed), ``error``, and the guarded operations."""

    recorder: RunRecorder | None = None
    error: str = ""

    def flush_if_due(self) -> None:
        """Flush the rows waiting for the clock (called after every step of the worker)."""
        if self.recorder is not None:
            self._guard(self.recorder.flush_if_due)

    def close(self, status: str, message: str = "") -> None:
        """Close the recording with the run's final status (once the worker is done with it)."""
        if self.recorder is not None:
            self._guard(lambda: self.recorder.close(status, short_message(message)))
            self.recorder = None

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except RecordingError as exc:
            self.error = f"live recording stopped: {exc.problem}"
            with suppress(RecordingError):
                self.recorder.abandon()
            self.recorder = None
