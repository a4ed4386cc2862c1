"""Live recording: one SWMR HDF5 file per running job, folded into the session afterwards.

Why a separate file: HDF5's SWMR mode (single writer, multiple readers) keeps a file readable
whatever happens to the writer, but once it is on no group, dataset or attribute may be created;
and a plain HDF5 file killed while it is being written can become unreadable. So a running job
writes its own *recording* (``<run id>.rec.h5``), with every dataset created up front, and the
session file itself is only ever replaced atomically (:mod:`data.writer`). The user still handles
one ``.h5`` file: recordings are folded into it (:func:`fold_recordings`) when the run ends, on
save, or by ``recover`` after a crash.

Layout of a recording (format ``monge-lab-recording``, HDF5 "latest" format, SWMR)::

    /            attrs: format, recording_version (2; 1 is still read), session (the session's
                 path, or "")
    /runs/<id>/  the run's header exactly as in a session (kind, status, seed, inputs, created,
                 parameters, results/), and one resizable dataset per declared *stream*
                 (``energy``, ``samples``: ±1 frames int8 in the spin layout of sessions, …)
    /resume/a/, /resume/b/   two slots of the resume state (e.g. the simulation's state_dict)
    /resume/commit  int64 [generation, slot, rows of stream 1, rows of stream 2, …]
    /end         uint8 bytes of a JSON object {status, finished, message}; empty while running

What is guaranteed: every :meth:`RunRecorder.flush` first writes the new rows and the resume
state into the slot not in use, flushes, then rewrites ``/resume/commit`` (one small chunk) and
flushes again. A reader (:func:`read_recording`) keeps only the committed rows of each stream and
the committed slot, so whatever instant the writer is killed at, it reads a consistent run: every
stream as of the same flush, and the state that produced exactly those rows. A run whose ``/end``
is empty reads back with status ``interrupted``. Between flushes the recorder's writer thread
writes whole chunks (see :mod:`data.recording.writer`); until a commit counts them, a reader
ignores them like any rows beyond the commit.

Where recordings live: beside a saved session ``S.h5`` in the hidden folder ``.S.h5.recordings``;
for a session never saved, in ``$XDG_DATA_HOME/monge-lab/recordings/<session uuid>/``.
A live recorder holds a :class:`~data.lock.SessionLock` on its file, so a recording being written
is never taken for a leftover. Whoever folds must hold the session's own lock.

The package is split by concept: :mod:`~data.recording.layout` (the format's names and the error
type), :mod:`~data.recording.paths` (where recordings live and how they are named),
:mod:`~data.recording.writer` (:class:`RunRecorder`: appending, flushing, the commit record),
:mod:`~data.recording.reader` (reading a recording back, also after a kill) and
:mod:`~data.recording.fold` (folding recordings into the session, tidying after a crash).
"""

from data.lock import SessionLockedError
from data.recording.fold import FoldResult, fold_recordings, tidy_recordings_dir
from data.recording.layout import INTERRUPTED_MESSAGE, RecordingError
from data.recording.paths import (
    SUFFIX,
    find_recordings,
    recording_path,
    recordings_dir,
    recordings_in,
    stray_recordings,
    unsaved_recordings_dirs,
)
from data.recording.reader import read_recording
from data.recording.writer import FLUSH_SECONDS, MIN_FREE_BYTES, RunRecorder, Stream

__all__ = [
    "FLUSH_SECONDS",
    "INTERRUPTED_MESSAGE",
    "MIN_FREE_BYTES",
    "SUFFIX",
    "FoldResult",
    "RecordingError",
    "RunRecorder",
    "SessionLockedError",
    "Stream",
    "find_recordings",
    "fold_recordings",
    "read_recording",
    "recording_path",
    "recordings_dir",
    "recordings_in",
    "stray_recordings",
    "tidy_recordings_dir",
    "unsaved_recordings_dirs",
]
