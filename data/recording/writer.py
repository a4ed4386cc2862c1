"""Writing a recording: :class:`RunRecorder` appends rows, flushes them with the resume state
and rewrites the commit record (see :mod:`data.recording` for the guarantees).

Appending is cheap and compressing is not (64×64 spin frames: ~15 µs to check and buffer one,
~55 µs for HDF5 to compress it), so the work is split: :meth:`RunRecorder.append` checks the
rows and copies them into one chunk-sized block per stream; each block that fills up goes,
whole, to a writer thread (:class:`_ChunkWriter`) that writes it as one chunk while the caller
goes on. A chunk of spins is encoded by :func:`data.spin_codec.encode_spin_chunk` (HDF5's
scale-offset + deflate + Fletcher-32 format, deflated with zlib's run-length strategy: ~15 µs
a frame, zlib running without the GIL) and stored with ``write_direct_chunk``; other chunks go
through HDF5's filters (h5py releases the GIL meanwhile). :meth:`RunRecorder.flush` waits for
the writer, writes the partly filled blocks, the resume state and the commit record, exactly
as before: the file holds rows the commit does not count only between flushes, and a reader
never sees them.
"""

from __future__ import annotations

import errno
import json
import math
import os
import threading
import time
from collections import deque
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
from data.spin_codec import (
    RECORDING_STRATEGIES,
    direct_chunks_match,
    spin_layout,
    write_spin_chunks,
)
from data.values import check_text, normalize, write_attr
from data.writer import subgroup, write_run_group

FLUSH_SECONDS = 2.0
"""Default longest time between two flushes: a kill loses at most this much of a recording."""
MAX_PENDING_BYTES = 64 << 20
"""Rows appended since the last flush beyond this many bytes are flushed at once, whatever the
clock says (this also bounds what waits in memory for the writer thread)."""
MIN_FREE_BYTES = 16 << 20
"""The largest free-disk reserve a flush keeps beyond its rows (for big frames)."""
RESERVE_BASE_BYTES = 1 << 20
"""Free disk a flush always keeps beyond its rows: room for HDF5 to close the file."""
RESERVE_CHUNKS = 4
"""…plus this many whole chunks of every stream: the reserve is sized by the run (a 16×16 run
needs about 2 MiB, a 2048×2048 one the full MIN_FREE_BYTES), so a small run records on a nearly
full disk while a large one still stops before HDF5 would fail to close its file."""
RECORDING_GZIP_LEVEL = 1
"""Deflate level of a recording's compressed streams where HDF5 compresses them: one-byte rows
that are not spins, and spins if the direct encoding does not match the HDF5 library (level 1:
0.094–0.098 byte per spin for 64×64 frames at T_c, 1.7× faster than level 4). Spin chunks are
otherwise deflated with zlib's run-length strategy (:data:`RECORDING_STRATEGIES
<data.spin_codec.RECORDING_STRATEGIES>`: 0.078–0.085 byte per spin, ~15 µs a frame). A
recording is temporary: folding rewrites it as a session stores it."""
WRITER_IDLE_S = 0.5
"""A recorder's writer thread ends after this long without a chunk to write (a new one starts
with the next): a recorder that is not closed keeps no thread for long."""
CHUNK_BYTES = 1 << 16
"""Target size of a chunk of a stream that is not spins (spins: :data:`SPIN_CHUNK_BYTES
<data.spin_codec.SPIN_CHUNK_BYTES>`, 64 frames of 64×64)."""

StateSource = Callable[[], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Stream:
    """A series recorded row by row: ``rows`` of shape ``(n, *row_shape)`` and dtype ``dtype``.

    ``spins=True`` declares int8 ±1 frames, stored as int8 in the spin layout of sessions
    (:func:`data.spin_codec.spin_layout`). ``attrs`` are the dataset's attributes (``units``,
    ``axes``, ``description``).
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
        self._buffers: dict[str, _ChunkBuffer] = {}
        self._writer: _ChunkWriter | None = None
        self._pending_bytes = 0
        self._appended = dict.fromkeys(self.streams, 0)
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
            self._buffers = {
                name: _ChunkBuffer(_create_stream(run, name, s), s)
                for name, s in self.streams.items()
            }
            chunks = sum(b.block.nbytes for b in self._buffers.values())
            self._reserve_bytes = min(MIN_FREE_BYTES, RESERVE_BASE_BYTES + RESERVE_CHUNKS * chunks)
            state = self._current_state()
            self._slots = [
                {
                    name: _create_fixed(f, f"{RESUME}/{slot}/{name}", array)
                    for name, array in state.items()
                }
                for slot in SLOTS
            ]
            self._write_slot(0, state)
            self._commit = f.create_dataset(
                COMMIT,
                shape=(2 + len(self.streams),),
                dtype=np.int64,
                chunks=True,
                fletcher32=True,
            )
            write_attr(self._commit.attrs, "streams", list(self.streams))
            self._commit[...] = self._commit_row(1, 0)
            self._generation = 1
            self._end = f.create_dataset(
                END, shape=(0,), maxshape=(None,), dtype=np.uint8, chunks=(4096,), fletcher32=True
            )
            f.swmr_mode = True
            f.flush()
            os.replace(temp, self.path)
            temp = None
            self._writer = _ChunkWriter(f"recording {self.run_id}")
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
        return dict(self._appended)

    @property
    def committed(self) -> dict[str, int]:
        """Rows per stream that a reader is guaranteed to find (as of the last flush)."""
        return dict(self._rows)

    def append(self, rows: Mapping[str, np.ndarray]) -> None:
        """Append rows to some streams (all of one step at once, so that no flush falls
        between them); flushes when ``flush_seconds`` have passed since the last flush.

        The rows are copied (the caller may reuse its arrays). ValueError, with nothing
        appended, if a stream is unknown or the rows do not have its shape (or, for spins,
        values other than ±1); RecordingError if the writer thread or a flush failed.
        """
        self._check_open()
        checked = []
        for name, values in rows.items():
            stream = self.streams.get(name)
            if stream is None:
                raise ValueError(
                    f"{self.path}: no stream {name!r} (declared: {', '.join(self.streams)})"
                )
            array = np.asarray(values)
            if array.shape[1:] != tuple(stream.row_shape):
                raise ValueError(
                    f"{self.path}: rows of {name!r} must have shape "
                    f"(n, {', '.join(map(str, stream.row_shape))}), got {array.shape}"
                )
            if stream.spins and np.count_nonzero(np.abs(array) - 1):
                raise ValueError(f"{self.path}: {name!r} rows must be ±1 spins")
            checked.append((name, array))
        _, writer = self._open_parts()
        if writer.error is not None:
            self._fail(writer.error)
        for name, array in checked:
            buffer = self._buffers[name]
            for start, block in buffer.add(array):
                writer.put(buffer.dataset, start, block, buffer.strategies)
            self._appended[name] += len(array)
            self._pending_bytes += len(array) * buffer.row_bytes
        self.flush_if_due()

    def flush_if_due(self) -> None:
        """Flush if ``flush_seconds`` have passed since the last flush, or much is pending."""
        if (
            self._clock() - self._last_flush >= self.flush_seconds
            or self._pending_bytes >= MAX_PENDING_BYTES
        ):
            self.flush()

    def flush(self) -> None:
        """Make every row appended so far (and the resume state) durable and visible.

        Waits for the writer thread to write the whole chunks handed to it, then writes the
        rows of the partly filled chunks, the resume state into the slot not in use, flushes,
        rewrites the commit record and flushes again. Stops the recording with a RecordingError
        (keeping what was flushed before) when the disk has less than the run's reserve
        (:data:`RESERVE_CHUNKS`) beyond what is to be written, or a write fails.
        """
        self._check_open()
        self._check_space()
        f, writer = self._open_parts()
        writer.drain()
        if writer.error is not None:
            self._fail(writer.error)
        try:
            state = self._current_state()
            for buffer in self._buffers.values():
                buffer.write_partial()
            slot = 1 - self._slot if state else self._slot
            self._write_slot(slot, state)
            f.flush()
            rows = self.rows
            self._commit[...] = self._commit_row(self._generation + 1, slot, rows)
            f.flush()
        except ValueError:
            raise
        except Exception as exc:
            self._fail(exc)
        self._generation += 1
        self._slot = slot
        self._rows = rows
        self._pending_bytes = 0
        self._last_flush = self._clock()
        if self._on_flush is not None:
            self._on_flush(self.committed)

    def close(self, status: str, message: str = "", finished: str | None = None) -> None:
        """Flush, record the run's final ``status`` (and ``message``, ``finished`` time), close.

        The recording stays on disk until it is folded into the session.
        """
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(
                f"a recording closes as one of {', '.join(RUN_STATUSES[1:])}, not {status!r}"
            )
        check_text(message, "message")
        self.flush()
        f, writer = self._open_parts()
        writer.stop(discard=False)  # idle after the flush: nothing is lost
        end = {
            "status": status,
            "message": message,
            "finished": finished if finished is not None else _utc_now(),
        }
        try:
            data = np.frombuffer(json.dumps(end).encode(), dtype=np.uint8)
            self._end.resize((len(data),))
            self._end[...] = data
            f.flush()
            f.close()
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
            raise ValueError(
                f"{self.path}: the resume state changed its names "
                f"({sorted(state)} instead of {sorted(datasets)})"
            )
        for name, array in state.items():
            dataset = datasets[name]
            if dataset.maxshape == (None,) and array.ndim == 1 and array.dtype == np.uint8:
                if array.size > dataset.shape[0]:
                    dataset.resize((array.size,))
                elif array.size < dataset.shape[0]:
                    array = np.concatenate(
                        [array, np.zeros(dataset.shape[0] - array.size, dtype=np.uint8)]
                    )
            if array.shape != dataset.shape or array.dtype != dataset.dtype:
                raise ValueError(
                    f"{self.path}: resume state {name!r} changed from "
                    f"{dataset.dtype} {dataset.shape} to {array.dtype} {array.shape}"
                )
            dataset[...] = array

    @property
    def reserve_bytes(self) -> int:
        """Free disk a flush keeps beyond its rows (sized by the run's chunks)."""
        return self._reserve_bytes

    def _check_space(self) -> None:
        """Stop cleanly before the disk is full: HDF5 (2.0) cannot close a file after a failed
        write, and the process then crashes when it exits (seen with a full tmpfs)."""
        try:
            info = os.statvfs(self.path.parent)
        except OSError:
            return
        free = info.f_bavail * info.f_frsize
        if free < self._pending_bytes + self._reserve_bytes:
            self._closed = True
            self._close_file()
            self._lock.release()
            raise RecordingError(
                self.path,
                f"could not be written (the disk is nearly full: {free >> 20} MiB "
                "left); recording stopped, what was flushed before is kept",
            )

    def _check_open(self) -> None:
        if self._closed:
            raise RecordingError(self.path, "is closed (no more rows can be recorded)")

    def _open_parts(self) -> tuple[h5py.File, _ChunkWriter]:
        """The file and the writer thread of an open recording (call after :meth:`_check_open`).

        Both exist from the end of ``__init__`` (which raises if it cannot create them) until
        the recording closes: only :meth:`_fail` and :meth:`abandon` drop the file, and both
        mark the recording closed first."""
        assert self._file is not None and self._writer is not None, "an open recording has both"
        return self._file, self._writer

    def _fail(self, exc: BaseException) -> None:
        """A write failed: stop recording, keep what was flushed, raise RecordingError."""
        self._closed = True
        self._close_file()
        self._lock.release()
        raise RecordingError(
            self.path,
            f"could not be written ({_reason(exc)}); recording stopped, what was "
            "flushed before is kept",
        ) from exc

    def _close_file(self) -> None:
        """Stop the writer thread (dropping the chunks it has not written: they are not
        committed) and close the file."""
        if self._writer is not None:
            self._writer.stop(discard=True)
        if self._file is not None:
            with suppress(Exception):
                self._file.close()
            self._file = None


def _check_header(header: RunRecord, streams: dict[str, Stream]) -> None:
    """ValueError unless the header and the streams make a run the session can store."""
    if header.datasets:
        raise ValueError(
            f"run {header.id}: a recording's header has no datasets (declare streams instead)"
        )
    probe = replace(
        header,
        datasets={name: np.zeros((0, *s.row_shape), dtype=s.dtype) for name, s in streams.items()},
        dataset_attrs={name: dict(s.attrs) for name, s in streams.items() if s.attrs},
    )
    validate_run(probe)
    for name, stream in streams.items():
        if any(n <= 0 for n in stream.row_shape):
            raise ValueError(
                f"run {header.id}: stream {name!r} has an empty row shape {stream.row_shape}"
            )
        if stream.spins and np.dtype(stream.dtype) != np.int8:
            raise ValueError(f"run {header.id}: spin stream {name!r} must be int8")


def _create_stream(run: h5py.Group, name: str, stream: Stream) -> h5py.Dataset:
    """A resizable, chunked, checksummed dataset for ``stream``: spins in the spin layout
    (int8, scale-offset and deflate), other one-byte rows deflated, wider rows uncompressed."""
    folder, _, leaf = name.rpartition("/")
    shape, dtype = tuple(stream.row_shape), np.dtype(stream.dtype)
    if stream.spins:
        # No chunk cache: chunks are written around it (write_direct_chunk); should HDF5 write
        # some (the fallback), none may stay there to be written back over a later one.
        options = {**spin_layout(shape, RECORDING_GZIP_LEVEL), "rdcc_nbytes": 0}
    else:
        row_bytes = max(1, math.prod(shape) * dtype.itemsize)
        options = {
            "maxshape": (None, *shape),
            "chunks": (max(1, CHUNK_BYTES // row_bytes), *shape),
            "fletcher32": True,
        }
        if dtype.itemsize == 1:
            options.update(compression="gzip", compression_opts=RECORDING_GZIP_LEVEL)
    dataset = subgroup(run, folder).create_dataset(
        leaf,
        shape=(0, *shape),
        dtype=dtype,
        track_order=True,
        **options,
    )
    for attr, value in stream.attrs.items():
        write_attr(dataset.attrs, attr, normalize(value, f"stream {name!r} attribute {attr!r}"))
    return dataset


class _ChunkBuffer:
    """The rows of one stream since its last whole chunk, in a block of one chunk's rows.

    ``start`` is the stream row of ``block[0]``; ``filled`` rows are in it, of which
    ``written`` were already written (by the last flush). ``strategies`` are the deflate
    strategies of chunks encoded here and written directly (spins, where the encoding matches
    the HDF5 library's), or None: HDF5 compresses them.
    """

    def __init__(self, dataset: h5py.Dataset, stream: Stream) -> None:
        self.dataset = dataset
        direct = stream.spins and direct_chunks_match(RECORDING_STRATEGIES)
        self.strategies = RECORDING_STRATEGIES if direct else None
        self.block = np.empty(dataset.chunks[:1] + tuple(stream.row_shape), dtype=dataset.dtype)
        self.row_bytes = max(1, self.block[0].nbytes)
        self.start = self.filled = self.written = 0

    def add(self, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Copy ``rows`` in (cast to the stream's dtype); returns ``(start, block)`` of each
        chunk they complete, to be written whole."""
        full, size, i = [], len(self.block), 0
        while i < len(rows):
            take = min(size - self.filled, len(rows) - i)
            self.block[self.filled : self.filled + take] = rows[i : i + take]
            self.filled += take
            i += take
            if self.filled == size:
                full.append((self.start, self.block))
                self.block = np.empty_like(self.block)
                self.start += size
                self.filled = self.written = 0
        return full

    def write_partial(self) -> None:
        """Write the rows of the partly filled block not written yet (in the caller's thread,
        the writer being idle); the whole chunk is written again once it is full."""
        if self.filled > self.written:
            write_rows(self.dataset, self.start, self.block[: self.filled], self.strategies)
            self.written = self.filled


def write_rows(
    dataset: h5py.Dataset,
    start: int,
    rows: np.ndarray,
    strategies: tuple[int, ...] | None = None,
) -> None:
    """Write ``rows`` at row ``start`` of ``dataset``, extending it as needed (never shrinking:
    rows beyond the commit record may be there already). With ``strategies``, ``rows`` are spins
    from the start of a chunk, encoded here and stored directly (:func:`write_spin_chunks`)."""
    end = start + len(rows)
    if dataset.shape[0] < end:
        dataset.resize(end, axis=0)
    if strategies is None:
        dataset[start:end] = rows
    else:
        write_spin_chunks(dataset, start, rows, strategies)


class _ChunkWriter:
    """Writes whole chunks handed to it by :meth:`put`, in order, in a daemon thread that runs
    only while there is work: it starts with the first chunk and ends once none has come for
    :data:`WRITER_IDLE_S` (or at :meth:`stop`), so a recorder holds no thread between bursts,
    nor after it was dropped without being closed.

    Encoding a chunk (zlib) or letting HDF5 compress it (h5py releases the GIL meanwhile)
    overlaps the caller's work. The first failure is kept in ``error`` and every later chunk is
    dropped; the recorder turns it into a RecordingError.
    """

    def __init__(self, name: str) -> None:
        self.error: BaseException | None = None
        self._name = name
        self._jobs: deque[tuple] = deque()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = self._stopping = self._discard = False

    def put(
        self,
        dataset: h5py.Dataset,
        start: int,
        block: np.ndarray,
        strategies: tuple[int, ...] | None = None,
    ) -> None:
        with self._changed:
            self._jobs.append((dataset, start, block, strategies))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def drain(self) -> None:
        """Wait until every chunk put so far is written (or dropped after a failure)."""
        with self._changed:
            self._changed.wait_for(lambda: not self._jobs and not self._busy)

    def stop(self, discard: bool) -> None:
        """End the thread, if any (idempotent): after writing what is queued, or, if
        ``discard``, dropping it."""
        with self._changed:
            self._stopping = True
            if discard:
                self._discard = True
                self._jobs.clear()
            thread = self._thread
            self._changed.notify_all()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._jobs or self._stopping, WRITER_IDLE_S)
                if not self._jobs:  # stopped, or idle long enough
                    self._thread = None
                    self._changed.notify_all()
                    return
                job = self._jobs.popleft()
                self._busy = True
            try:
                if self.error is None and not self._discard:
                    write_rows(*job)
            except BaseException as exc:  # kept for the recorder's thread, which reports it
                self.error = exc
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


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
        return f.create_dataset(
            name,
            shape=array.shape,
            maxshape=(None,),
            dtype=np.uint8,
            chunks=(BLOB_CHUNK,),
            fletcher32=True,
        )
    return f.create_dataset(
        name, shape=array.shape, dtype=array.dtype, chunks=array.shape, fletcher32=True
    )


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
