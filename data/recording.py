"""Live recording: one SWMR HDF5 file per running job, folded into the session afterwards.

Why a separate file: HDF5's SWMR mode (single writer, multiple readers) keeps a file readable
whatever happens to the writer, but once it is on no group, dataset or attribute may be created;
and a plain HDF5 file killed while it is being written can become unreadable. So a running job
writes its own *recording* (``<run id>.rec.h5``), with every dataset created up front, and the
session file itself is only ever replaced atomically (:mod:`data.writer`). The user still handles
one ``.h5`` file: recordings are folded into it (:func:`fold_recordings`) when the run ends, on
save, or by ``recover`` after a crash.

Layout of a recording (format ``monge-lab-recording``, HDF5 "latest" format, SWMR)::

    /            attrs: format, recording_version, session (the session's path, or "")
    /runs/<id>/  the run's header exactly as in a session (kind, status, seed, inputs, created,
                 parameters, results/), and one resizable dataset per declared *stream*
                 (``energy``, ``samples``: ±1 frames bit-packed as in sessions, …)
    /resume/a/, /resume/b/   two slots of the resume state (e.g. the simulation's state_dict)
    /resume/commit  int64 [generation, slot, rows of stream 1, rows of stream 2, …]
    /end         uint8 bytes of a JSON object {status, finished, message}; empty while running

What is guaranteed: every :meth:`RunRecorder.flush` first writes the new rows and the resume
state into the slot not in use, flushes, then rewrites ``/resume/commit`` (one small chunk) and
flushes again. A reader (:func:`read_recording`) keeps only the committed rows of each stream and
the committed slot, so whatever instant the writer is killed at, it reads a consistent run: every
stream as of the same flush, and the state that produced exactly those rows. A run whose ``/end``
is empty reads back with status ``interrupted``.

Where recordings live: beside a saved session ``S.h5`` in the hidden folder ``.S.h5.recordings``;
for a session never saved, in ``$XDG_DATA_HOME/monge-lab/recordings/<session uuid>/``.
A live recorder holds a :class:`~data.lock.SessionLock` on its file, so a recording being written
is never taken for a leftover. Whoever folds must hold the session's own lock.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

import h5py
import numpy as np

from data.atomic import new_temp_file, resolve_target
from data.lock import SessionLock, SessionLockedError, is_locked, lock_path
from data.reader import guard, read_run, read_run_group, read_run_ids
from data.records import RUN_STATUSES, ParamValue, RunRecord
from data.schema import RUNS, SessionFileError, check_name, short_reason, validate_run
from data.spin_codec import pack_spins, packed_width
from data.values import check_text, normalize, read_value, write_attr
from data.writer import add_runs, mark_packed, replace_runs, subgroup, write_run_group

RECORDING_FORMAT = "monge-lab-recording"
RECORDING_VERSION = 1
SUFFIX = ".rec.h5"
RESUME, COMMIT, END = "resume", "resume/commit", "end"
SLOTS = ("a", "b")

FLUSH_SECONDS = 2.0
"""Default longest time between two flushes: a kill loses at most this much of a recording."""
MAX_PENDING_BYTES = 64 << 20
"""Rows waiting in memory beyond this many bytes are flushed at once, whatever the clock says."""
MIN_FREE_BYTES = 16 << 20
"""A flush needs this much free disk beyond its rows, or the recording stops cleanly."""
RECORDING_GZIP_LEVEL = 1
"""gzip level of one-byte streams in a recording. Level 1 compresses packed 64×64 frames at T_c
about 1.5× faster than the session's level 4 for 2% more bytes (0.080 against 0.0785 byte per
spin), and a recording is temporary: folding rewrites it at the session's level."""
CHUNK_BYTES = 1 << 16
"""Target size of a stream's chunk (before compression): 128 packed 64×64 frames."""

INTERRUPTED_MESSAGE = "recording ended without being closed (the program was killed or crashed)"
StateSource = Callable[[], Mapping[str, np.ndarray]]


class RecordingError(SessionFileError):
    """A recording that cannot be written or read; ``str()`` is one line naming the file."""


@dataclass(frozen=True)
class Stream:
    """A series recorded row by row: ``rows`` of shape ``(n, *row_shape)`` and dtype ``dtype``.

    ``spins=True`` declares int8 ±1 frames, stored bit-packed (one bit per spin). ``attrs`` are
    the dataset's attributes (``units``, ``axes``, ``description``).
    """

    row_shape: tuple[int, ...]
    dtype: np.dtype | type | str
    spins: bool = False
    attrs: dict[str, ParamValue] = field(default_factory=dict)


def recordings_dir(session_path: str | os.PathLike | None, session_uuid: str = "") -> Path:
    """Where the recordings of a session live (see the module docstring).

    ``session_path`` None means a session never saved, identified by ``session_uuid``.
    """
    if session_path is not None:
        target = resolve_target(session_path)
        return target.with_name(f".{target.name}.recordings")
    check_name(session_uuid, "session uuid")
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                             "share")
    return Path(base) / "monge-lab" / "recordings" / session_uuid


def unsaved_recordings_dirs() -> list[Path]:
    """The per-user folders that hold recordings of sessions never saved (to offer recovery)."""
    root = recordings_dir(None, "x").parent
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if d.is_dir() and recordings_in(d))


def recording_path(directory: str | os.PathLike, run_id: str) -> Path:
    check_name(run_id, "run id")
    return Path(directory) / f"{run_id}{SUFFIX}"


def recordings_in(directory: str | os.PathLike) -> list[Path]:
    """Recordings in ``directory`` that no live recorder is writing, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX) and p.is_file())
    return [p for p in found if not is_locked(p)]


def find_recordings(session_path: str | os.PathLike) -> list[Path]:
    """Recordings of the session ``session_path`` left to fold (none being written)."""
    return recordings_in(recordings_dir(session_path))


# ---------------------------------------------------------------------------- writing


class RunRecorder:
    """Writes one run live into the recording ``path``; see the module docstring.

    ``header`` is the run without data (its ``datasets`` must be empty); ``streams`` declares
    every series the run will append. ``state_source``, if given, is called at each flush (in the
    thread that appends) and returns the arrays needed to resume the run *as of the rows appended
    so far*; their names, shapes and dtypes must stay those of its first call. ``session`` is
    the session's path (text) for whoever finds the recording later. ``on_flush(committed)``
    is called after each flush with the rows per stream now guaranteed on disk.

    Raises ValueError for an invalid header or stream, RecordingError if the file cannot be
    created or written (what was flushed before stays readable) or already exists.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        header: RunRecord,
        streams: Mapping[str, Stream],
        *,
        state_source: StateSource | None = None,
        flush_seconds: float = FLUSH_SECONDS,
        session: str = "",
        on_flush: Callable[[dict[str, int]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.run_id = header.id
        self.streams = dict(streams)
        self.flush_seconds = flush_seconds
        self._clock = clock
        self._state_source = state_source
        self._on_flush = on_flush
        _check_header(header, self.streams)
        check_text(session, "session path")
        self._pending: dict[str, list[np.ndarray]] = {name: [] for name in self.streams}
        self._pending_bytes = 0
        self._rows = dict.fromkeys(self.streams, 0)
        self._generation = 0
        self._slot = 0
        self._closed = False
        self._file: h5py.File | None = None
        self._lock = SessionLock(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except SessionLockedError as exc:
            raise RecordingError(self.path, exc.problem) from None
        except (OSError, SessionFileError) as exc:
            raise RecordingError(self.path, f"cannot be created ({_reason(exc)})") from exc
        if self.path.exists():
            self._lock.release()
            raise RecordingError(self.path, "already exists (fold or delete it first)")
        try:
            self._create(header, session)
        except BaseException:
            self._lock.release()
            raise

    # ------------------------------------------------------------ creation
    def _create(self, header: RunRecord, session: str) -> None:
        """Build the whole file under a temporary name, switch SWMR on, then give it its name:
        a file under the final name is always a complete SWMR recording."""
        temp = None
        try:
            temp = new_temp_file(self.path)
            f = h5py.File(temp, "w", libver="latest", track_order=True)
            self._file = f
            write_attr(f.attrs, "format", RECORDING_FORMAT)
            write_attr(f.attrs, "recording_version", RECORDING_VERSION)
            write_attr(f.attrs, "session", session)
            run = write_run_group(f.create_group(RUNS, track_order=True), header)
            self._datasets = {name: _create_stream(run, name, s) for name, s in
                              self.streams.items()}
            state = self._current_state()
            self._slots = [
                {name: _create_fixed(f, f"{RESUME}/{slot}/{name}", array) for name, array in
                 state.items()}
                for slot in SLOTS
            ]
            self._write_slot(0, state)
            self._commit = f.create_dataset(
                COMMIT, shape=(2 + len(self.streams),), dtype=np.int64, chunks=True,
                fletcher32=True,
            )
            write_attr(self._commit.attrs, "streams", list(self.streams))
            self._commit[...] = self._commit_row(1, 0)
            self._generation = 1
            self._end = f.create_dataset(END, shape=(0,), maxshape=(None,), dtype=np.uint8,
                                         chunks=(4096,), fletcher32=True)
            f.swmr_mode = True
            f.flush()
            os.replace(temp, self.path)
            temp = None
        except Exception as exc:
            self._close_file()
            raise RecordingError(self.path, f"cannot be created ({_reason(exc)})") from exc
        finally:
            if temp is not None:
                with suppress(OSError):
                    temp.unlink()
        self._last_flush = self._clock()

    def _current_state(self) -> dict[str, np.ndarray]:
        if self._state_source is None:
            return {}
        state = {name: np.asarray(value) for name, value in self._state_source().items()}
        for name in state:
            for part in name.split("/"):
                check_name(part, "resume state name")
        return state

    # ------------------------------------------------------------ appending
    @property
    def rows(self) -> dict[str, int]:
        """Rows appended so far per stream (flushed or not)."""
        return {name: self._rows[name] + sum(len(p) for p in self._pending[name])
                for name in self.streams}

    @property
    def committed(self) -> dict[str, int]:
        """Rows per stream that a reader is guaranteed to find (as of the last flush)."""
        return dict(self._rows)

    def append(self, rows: Mapping[str, np.ndarray]) -> None:
        """Append rows to some streams (all of one step at once, so that no flush falls
        between them); flushes when ``flush_seconds`` have passed since the last flush.

        ValueError if a stream is unknown or the rows do not have its shape (or, for spins,
        values other than ±1); RecordingError if a flush fails.
        """
        self._check_open()
        for name, values in rows.items():
            stream = self.streams.get(name)
            if stream is None:
                raise ValueError(f"{self.path}: no stream {name!r} (declared: "
                                 f"{', '.join(self.streams)})")
            array = np.asarray(values)
            if array.shape[1:] != tuple(stream.row_shape):
                raise ValueError(f"{self.path}: rows of {name!r} must have shape "
                                 f"(n, {', '.join(map(str, stream.row_shape))}), got {array.shape}")
            if stream.spins:
                if not np.all((array == 1) | (array == -1)):
                    raise ValueError(f"{self.path}: {name!r} rows must be ±1 spins")
                array = pack_spins(array)
            else:
                array = array.astype(stream.dtype, copy=True)
            self._pending[name].append(array)
            self._pending_bytes += array.nbytes
        self.flush_if_due()

    def flush_if_due(self) -> None:
        """Flush if ``flush_seconds`` have passed since the last flush, or much is pending."""
        if (self._clock() - self._last_flush >= self.flush_seconds
                or self._pending_bytes >= MAX_PENDING_BYTES):
            self.flush()

    def flush(self) -> None:
        """Make every row appended so far (and the resume state) durable and visible.

        Stops the recording with a RecordingError (keeping what was flushed before) when the
        disk has less than :data:`MIN_FREE_BYTES` beyond what is to be written, or a write
        fails.
        """
        self._check_open()
        self._check_space()
        try:
            state = self._current_state()
            for name, pending in self._pending.items():
                if not pending:
                    continue
                data = np.concatenate(pending)
                dataset, start = self._datasets[name], self._rows[name]
                dataset.resize(start + len(data), axis=0)
                dataset[start:] = data
            slot = 1 - self._slot if state else self._slot
            self._write_slot(slot, state)
            self._file.flush()
            rows = self.rows
            self._commit[...] = self._commit_row(self._generation + 1, slot, rows)
            self._file.flush()
        except ValueError:
            raise
        except Exception as exc:
            self._fail(exc)
        self._generation += 1
        self._slot = slot
        self._rows = rows
        for pending in self._pending.values():
            pending.clear()
        self._pending_bytes = 0
        self._last_flush = self._clock()
        if self._on_flush is not None:
            self._on_flush(self.committed)

    def close(self, status: str, message: str = "", finished: str | None = None) -> None:
        """Flush, record the run's final ``status`` (and ``message``, ``finished`` time), close.

        The recording stays on disk until it is folded into the session.
        """
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"a recording closes as one of {', '.join(RUN_STATUSES[1:])}, "
                             f"not {status!r}")
        check_text(message, "message")
        self.flush()
        end = {"status": status, "message": message,
               "finished": finished if finished is not None else _utc_now()}
        try:
            data = np.frombuffer(json.dumps(end).encode(), dtype=np.uint8)
            self._end.resize((len(data),))
            self._end[...] = data
            self._file.flush()
            self._file.close()
        except Exception as exc:
            self._fail(exc)
        self._closed = True
        self._lock.release()

    def abandon(self) -> None:
        """Stop writing without closing the run (it reads back as interrupted); idempotent."""
        if not self._closed:
            self._closed = True
            self._close_file()
            self._lock.release()

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._closed:
            if exc is None:
                self.close("stopped")
            else:
                self.abandon()

    # ------------------------------------------------------------ internals
    def _commit_row(self, generation: int, slot: int, rows: dict[str, int] | None = None):
        counts = [0] * len(self.streams) if rows is None else list(rows.values())
        return np.array([generation, slot, *counts], dtype=np.int64)

    def _write_slot(self, slot: int, state: Mapping[str, np.ndarray]) -> None:
        datasets = self._slots[slot]
        if state.keys() != datasets.keys():
            raise ValueError(f"{self.path}: the resume state changed its names "
                             f"({sorted(state)} instead of {sorted(datasets)})")
        for name, array in state.items():
            dataset = datasets[name]
            if dataset.maxshape == (None,) and array.ndim == 1 and array.dtype == np.uint8:
                if array.size > dataset.shape[0]:
                    dataset.resize((array.size,))
                elif array.size < dataset.shape[0]:
                    array = np.concatenate([array, np.zeros(dataset.shape[0] - array.size,
                                                            dtype=np.uint8)])
            if array.shape != dataset.shape or array.dtype != dataset.dtype:
                raise ValueError(f"{self.path}: resume state {name!r} changed from "
                                 f"{dataset.dtype} {dataset.shape} to {array.dtype} {array.shape}")
            dataset[...] = array

    def _check_space(self) -> None:
        """Stop cleanly before the disk is full: HDF5 (2.0) cannot close a file after a failed
        write, and the process then crashes when it exits (seen with a full tmpfs)."""
        try:
            info = os.statvfs(self.path.parent)
        except OSError:
            return
        free = info.f_bavail * info.f_frsize
        if free < self._pending_bytes + MIN_FREE_BYTES:
            self._closed = True
            self._close_file()
            self._lock.release()
            raise RecordingError(
                self.path, f"could not be written (the disk is nearly full: {free >> 20} MiB "
                           "left); recording stopped, what was flushed before is kept"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise RecordingError(self.path, "is closed (no more rows can be recorded)")

    def _fail(self, exc: BaseException) -> None:
        """A write failed: stop recording, keep what was flushed, raise RecordingError."""
        self._closed = True
        self._close_file()
        self._lock.release()
        raise RecordingError(
            self.path, f"could not be written ({_reason(exc)}); recording stopped, what was "
                       "flushed before is kept"
        ) from exc

    def _close_file(self) -> None:
        if self._file is not None:
            with suppress(Exception):
                self._file.close()
            self._file = None


def _check_header(header: RunRecord, streams: dict[str, Stream]) -> None:
    """ValueError unless the header and the streams make a run the session can store."""
    if header.datasets:
        raise ValueError(f"run {header.id}: a recording's header has no datasets (declare "
                         "streams instead)")
    probe = replace(
        header,
        datasets={name: np.zeros((0, *s.row_shape), dtype=s.dtype) for name, s in
                  streams.items()},
        dataset_attrs={name: dict(s.attrs) for name, s in streams.items() if s.attrs},
    )
    validate_run(probe)
    for name, stream in streams.items():
        if any(n <= 0 for n in stream.row_shape):
            raise ValueError(f"run {header.id}: stream {name!r} has an empty row shape "
                             f"{stream.row_shape}")
        if stream.spins and np.dtype(stream.dtype) != np.int8:
            raise ValueError(f"run {header.id}: spin stream {name!r} must be int8")


def _create_stream(run: h5py.Group, name: str, stream: Stream) -> h5py.Dataset:
    """A resizable, chunked, checksummed dataset for ``stream`` (one-byte data compressed)."""
    if stream.spins:
        stored_shape, dtype = (packed_width(tuple(stream.row_shape)),), np.dtype(np.uint8)
    else:
        stored_shape, dtype = tuple(stream.row_shape), np.dtype(stream.dtype)
    row_bytes = max(1, math.prod(stored_shape) * dtype.itemsize)
    chunk_rows = max(1, CHUNK_BYTES // row_bytes)
    options: dict = {}
    if dtype.itemsize == 1:
        options = {"compression": "gzip", "compression_opts": RECORDING_GZIP_LEVEL}
    folder, _, leaf = name.rpartition("/")
    dataset = subgroup(run, folder).create_dataset(
        leaf, shape=(0, *stored_shape), maxshape=(None, *stored_shape), dtype=dtype,
        chunks=(chunk_rows, *stored_shape), fletcher32=True, track_order=True, **options,
    )
    if stream.spins:
        mark_packed(dataset, tuple(stream.row_shape))
    for attr, value in stream.attrs.items():
        write_attr(dataset.attrs, attr, normalize(value, f"stream {name!r} attribute {attr!r}"))
    return dataset


BLOB_CHUNK = 1 << 16
"""Chunk length of a resume-state blob (1-D uint8 entry, see :func:`_create_fixed`)."""


def _create_fixed(f: h5py.File, name: str, array: np.ndarray) -> h5py.Dataset:
    """A dataset for one resume-state array, rewritten in place at each flush: fixed-size, except
    a 1-D uint8 entry (a serialized blob), which may grow (SWMR allows extending a chunked
    dataset); a shorter blob is written zero-padded to the stored length, so a blob must carry
    its own length."""
    if array.ndim == 0:
        return f.create_dataset(name, shape=(), dtype=array.dtype)
    if array.ndim == 1 and array.dtype == np.uint8:
        return f.create_dataset(name, shape=array.shape, maxshape=(None,), dtype=np.uint8,
                                chunks=(BLOB_CHUNK,), fletcher32=True)
    return f.create_dataset(name, shape=array.shape, dtype=array.dtype, chunks=array.shape,
                            fletcher32=True)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    no_space = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in text
    if no_space or "errno = 28" in text:
        return "the disk is full"
    if isinstance(exc, PermissionError) or "errno = 13" in text:
        return "permission denied"
    return short_reason(exc, library=None)


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---------------------------------------------------------------------------- reading


def read_recording(path: str | os.PathLike) -> RunRecord:
    """The run recorded in ``path``, as of its last flush.

    Its status is the one it was closed with, or ``interrupted`` (with a message saying so) if
    the recorder never closed it; each stream holds the rows of the last committed flush; the
    committed resume state, if any, comes as datasets ``resume/<name>``. Works on a recording
    whose writer was killed at any instant. Raises RecordingError, and no other exception, if
    the file is missing, not a recording, damaged or holds invalid data.
    """
    try:
        with guard(path):
            return _read_recording(path)
    except RecordingError:
        raise
    except SessionFileError as exc:
        raise RecordingError(exc.path, exc.problem.replace("Monge Lab session",
                                                           "Monge Lab recording")) from exc


def _read_recording(path: str | os.PathLike) -> RunRecord:
    name = os.fspath(path)
    try:
        size = os.stat(name).st_size
    except FileNotFoundError:
        raise RecordingError(path, "does not exist") from None
    if size == 0:
        raise RecordingError(path, "is empty (0 bytes), not a Monge Lab recording")
    try:
        f = _open_for_reading(name)
    except OSError as exc:
        if "signature not found" in str(exc):
            problem = "is not an HDF5 file, so not a Monge Lab recording"
            raise RecordingError(path, problem) from None
        raise RecordingError(path, f"is damaged or truncated ({short_reason(exc)})") from exc
    with f:
        if _root_attr(f, "format", path) != RECORDING_FORMAT:
            raise RecordingError(path, "is not a Monge Lab recording (no or another 'format')")
        version = _root_attr(f, "recording_version", path)
        if version != RECORDING_VERSION:
            raise RecordingError(path, f"has recording_version {version!r}; this version reads "
                                       f"{RECORDING_VERSION}")
        runs = f.get(RUNS)
        if not isinstance(runs, h5py.Group) or len(runs) != 1:
            raise RecordingError(path, "is damaged (expected exactly one run)")
        run_id = next(iter(runs))
        check_name(run_id, "run id")
        commit = _read_small(f, COMMIT, path)
        stream_names = _root_attr(f[COMMIT], "streams", path)
        valid = (isinstance(stream_names, list) and all(isinstance(n, str) for n in stream_names)
                 and commit.shape == (2 + len(stream_names),) and commit[1] in (0, 1)
                 and np.all(commit[2:] >= 0))
        if not valid:
            raise RecordingError(path, "is damaged (its commit record does not fit its streams)")
        committed = dict(zip(stream_names, (int(n) for n in commit[2:]), strict=True))
        run = read_run_group(runs[run_id], run_id, path, max(size, 1), committed)
        if not set(committed) <= set(run.datasets):
            raise RecordingError(path, "is damaged (a stream of its commit record is missing)")
        slot = f.get(f"{RESUME}/{SLOTS[int(commit[1])]}")
        if isinstance(slot, h5py.Group):
            slot.visititems(lambda key, node: _take_state(run, key, node, path))
        end = _read_small(f, END, path)
    _apply_end(run, end, path)
    try:
        validate_run(run)
    except ValueError as exc:
        raise RecordingError(path, f"holds invalid data ({exc})") from None
    return run


def _open_for_reading(name: str) -> h5py.File:
    """Open a recording read-only in SWMR mode (a killed writer leaves the file marked as open
    for writing, which only a SWMR reader accepts), reading each piece of metadata once.

    A SWMR reader retries a read whose checksum fails, in case it raced the writer; HDF5 does
    that up to 100 times with growing sleeps, so a damaged file hangs the reader (found by the
    fuzz test). Recordings are read when their writer is gone, so one attempt is right; the
    setting is not in h5py's API and is made through the HDF5 library h5py loaded.
    """
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    set_attempts = _metadata_read_attempts_setter()
    if set_attempts is not None and set_attempts(fapl.id, 1) < 0:
        raise OSError("could not limit HDF5 metadata read attempts")
    fid = h5py.h5f.open(os.fsencode(name), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ,
                        fapl=fapl)
    return h5py.File(fid)


@functools.cache
def _metadata_read_attempts_setter() -> Callable[[int, int], int] | None:
    """``H5Pset_metadata_read_attempts`` of the HDF5 library loaded by h5py (Linux: found in
    /proc/self/maps), or None where it cannot be found."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/libhdf5" in line}
    except OSError:
        return None
    for path in sorted(paths):
        if "hl" in os.path.basename(path):
            continue
        try:
            function = ctypes.CDLL(path).H5Pset_metadata_read_attempts
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_int64, ctypes.c_uint]
        function.restype = ctypes.c_int
        return function
    return None


def _root_attr(node: h5py.HLObject, name: str, path: str | os.PathLike) -> ParamValue | None:
    """The attribute ``name`` of ``node`` as a ParamValue, or None if it is missing."""
    if name not in node.attrs:
        return None
    try:
        return read_value(node.attrs[name], name)
    except ValueError as exc:
        raise RecordingError(path, f"holds invalid data ({exc})") from None


def _read_small(f: h5py.File, name: str, path: str | os.PathLike) -> np.ndarray:
    node = f.get(name)
    if not isinstance(node, h5py.Dataset) or node.ndim != 1 or node.size > 1 << 20:
        raise RecordingError(path, f"is damaged (no valid /{name})")
    return node[()]


def _take_state(run: RunRecord, key: str, node: object, path: str | os.PathLike) -> None:
    if isinstance(node, h5py.Dataset):
        if node.size * node.dtype.itemsize > 1 << 30:
            raise RecordingError(path, f"is damaged ({node.name} claims {node.size} values)")
        run.datasets[f"{RESUME}/{key}"] = np.asarray(node[()])


def _apply_end(run: RunRecord, end: np.ndarray, path: str | os.PathLike) -> None:
    if end.size == 0:
        run.status, run.finished, run.message = "interrupted", None, INTERRUPTED_MESSAGE
        return
    try:
        info = json.loads(end.tobytes().decode())
        run.status, run.message = str(info["status"]), str(info["message"])
        run.finished = str(info["finished"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(path, f"is damaged (its end record is not valid: {exc})") from None


# ---------------------------------------------------------------------------- folding


@dataclass
class FoldResult:
    """What :func:`fold_recordings` did: run ids added or replaced, and recordings it could not
    read (kept on disk, with the error)."""

    folded: list[str] = field(default_factory=list)
    failed: list[tuple[Path, RecordingError]] = field(default_factory=list)


def fold_recordings(
    session_path: str | os.PathLike,
    recordings: list[Path] | None = None,
    *,
    finish: Callable[[RunRecord], RunRecord] | None = None,
    log: list[str] | None = None,
) -> FoldResult:
    """Put the runs of ``recordings`` (default: :func:`find_recordings`) into the session.

    ``finish(run)`` may complete a recovered run (e.g. compute its results) before it is stored.
    A run whose id is already in the session *as the same run* (same kind and ``created``: an
    earlier fold or save of it) replaces it; a different run of that id gets a new id
    ``<id>.recovered`` (``-2``, ``-3``, … if needed). The session is written atomically (one
    ``add_runs`` and one ``replace_runs``), and only then are the recordings deleted, so an
    interruption at any point loses nothing and folding again gives the same session.
    The caller must hold the session's :class:`~data.lock.SessionLock`. Raises
    SessionFileError if the session cannot be read or written (recordings kept).
    """
    paths = find_recordings(session_path) if recordings is None else list(recordings)
    result = FoldResult()
    runs: list[tuple[Path, RunRecord]] = []
    for path in paths:
        try:
            run = read_recording(path)
        except RecordingError as exc:
            result.failed.append((path, exc))
            continue
        runs.append((path, finish(run) if finish is not None else run))
    if not runs:
        return result
    exists = os.path.exists(session_path)
    ids = read_run_ids(session_path) if exists else []
    added: list[RunRecord] = []
    replaced: list[RunRecord] = []
    taken = set(ids)
    for _, run in runs:
        if run.id in ids and _same_run(read_run(session_path, run.id), run):
            replaced.append(run)
            continue
        if run.id in taken:
            run.id = _free_id(run.id, taken)
        taken.add(run.id)
        added.append(run)
    lines = list(log or [])
    if added or not replaced:
        add_runs(session_path, added, log=lines)
        lines = []
    if replaced:
        replace_runs(session_path, replaced, log=lines)
    for path, run in runs:
        for leftover in (path, lock_path(path)):  # a killed recorder leaves its lock file
            with suppress(FileNotFoundError):
                leftover.unlink()
        result.folded.append(run.id)
    for directory in {path.parent for path, _ in runs}:
        tidy_recordings_dir(directory)
    return result


def tidy_recordings_dir(directory: str | os.PathLike) -> None:
    """Remove what killed recorders leave behind once their recordings are gone: lock files
    nobody holds, temporary files of recordings never created, and the folder when empty."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        name = entry.name
        if name.endswith(f"{SUFFIX}.lock") and name.startswith("."):
            recording = entry.with_name(name[1 : -len(".lock")])
            if not recording.exists() and not is_locked(recording):
                with suppress(OSError):
                    entry.unlink()
        elif name.endswith(".tmp") and SUFFIX in name and not is_locked(
                entry.with_name(name[1:].split(SUFFIX)[0] + SUFFIX)):
            with suppress(OSError):
                entry.unlink()
    with suppress(OSError):
        directory.rmdir()  # only if empty: the folder disappears with its last recording


def _same_run(stored: RunRecord, recorded: RunRecord) -> bool:
    return stored.kind == recorded.kind and stored.created == recorded.created


def _free_id(run_id: str, taken: set[str]) -> str:
    candidate, n = f"{run_id}.recovered", 1
    while candidate in taken:
        n += 1
        candidate = f"{run_id}.recovered-{n}"
    return candidate


__all__ = [
    "FLUSH_SECONDS",
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
    "tidy_recordings_dir",
    "unsaved_recordings_dirs",
]
