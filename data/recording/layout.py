"""The names of a recording's layout (see :mod:`data.recording`) and its error type."""

from __future__ import annotations

from data.schema import SessionFileError

RECORDING_FORMAT = "monge-lab-recording"
RECORDING_VERSION = 1
RESUME, COMMIT, END = "resume", "resume/commit", "end"
SLOTS = ("a", "b")

INTERRUPTED_MESSAGE = "recording ended without being closed (the program was killed or crashed)"


class RecordingError(SessionFileError):
    """A recording that cannot be written or read; ``str()`` is one line naming the file."""
