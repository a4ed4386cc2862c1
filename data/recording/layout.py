"""The names of a recording's layout (see :mod:`data.recording`) and its error type."""

from __future__ import annotations

from data.schema import SessionFileError

RECORDING_FORMAT = "monge-lab-recording"
RECORDING_VERSION = 2
"""The recording layout this version writes. 1 (schema-2 era): spin streams bit-packed with the
attributes ``spin_encoding`` and ``spin_shape``; 2: spin streams int8 ``(n, *frame)`` in the spin
layout of :mod:`data.spin_codec`, like sessions of schema 3."""
READABLE_VERSIONS = (1, 2)
"""Recording versions the reader accepts: a recording left behind by a crash of an older
version is still folded (its packed spins decoded)."""
RESUME, COMMIT, END = "resume", "resume/commit", "end"
SLOTS = ("a", "b")

INTERRUPTED_MESSAGE = "recording ended without being closed (the program was killed or crashed)"


class RecordingError(SessionFileError):
    """A recording that cannot be written or read; ``str()`` is one line naming the file."""
