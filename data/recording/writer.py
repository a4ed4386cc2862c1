"""Writing a recording: :class:`RunRecorder` appends rows, flushes them with the resume state
and rewrites the commit record (see :mod:`data.recording` for the guarantees)."""

from __future__ import annotations

import errno
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

from data.atomic import new_temp_file
from data.lock import SessionLock, SessionLockedError
from data.recording.layout import (
    COMMIT,
    END,
    RECORDING_FORMAT,
    RECORDING_VERSION,
    RESUME,
    SLOTS,
    RecordingError,
)
from data.records import RUN_STATUSES, ParamValue, RunRecord
from data.schema import RUNS, SessionFileError, check_name, short_reason, validate_run
from data.spin_codec import pack_spins, packed_width
from data.values import check_text, normalize, write_attr
from data.writer import mark_packed, subgroup, write_run_group

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

StateSource = Callable[[], Mapping[str, np.ndarray]]


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
