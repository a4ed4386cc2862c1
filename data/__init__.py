"""The session file: one HDF5 file per session, readable by plain h5py and HDFView.

``records`` holds the plain dataclasses the application codes against, ``schema`` the format's
names and rules, ``structure`` the dtypes and shapes each run kind's datasets must have,
``values`` how attribute values are encoded, ``spin_codec`` how ±1 spins are stored (int8 with
HDF5's scale-offset and deflate filters) and decoded from schema 2, ``writer`` and ``reader``
the file I/O, ``atomic`` the temporary-file-and-rename
machinery, ``migrations`` the upgrades from older schemas, ``lock`` the one-writer lock, and
``recording`` the live, crash-proof recording of running jobs (SWMR files folded into the
session). The layout is documented in ``docs/session-format.md``. No Qt, no engines here.
"""

from data.lock import SessionLock, SessionLockedError
from data.reader import load_session, read_header, read_run, read_run_ids
from data.recording import (
    RecordingError,
    RunRecorder,
    Stream,
    find_recordings,
    fold_recordings,
    read_recording,
    recordings_dir,
)
from data.records import RUN_STATUSES, ParamValue, RunRecord, SessionRecord
from data.schema import FORMAT, SCHEMA_VERSION, SessionFileError
from data.writer import add_runs, check_writable, replace_runs, save_session

__all__ = [
    "FORMAT",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "ParamValue",
    "RecordingError",
    "RunRecord",
    "RunRecorder",
    "SessionFileError",
    "SessionLock",
    "SessionLockedError",
    "SessionRecord",
    "Stream",
    "add_runs",
    "check_writable",
    "find_recordings",
    "fold_recordings",
    "load_session",
    "read_recording",
    "recordings_dir",
    "read_header",
    "read_run",
    "read_run_ids",
    "replace_runs",
    "save_session",
]
