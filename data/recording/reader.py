"""Reading a recording back as of its last commit, also when its writer was killed (SWMR)."""

from __future__ import annotations

import ctypes
import functools
import json
import os
from collections.abc import Callable

import h5py
import numpy as np

from data.reader import guard, read_run_group
from data.recording.layout import (
    COMMIT,
    END,
    INTERRUPTED_MESSAGE,
    READABLE_VERSIONS,
    RECORDING_FORMAT,
    RESUME,
    SLOTS,
    RecordingError,
)
from data.records import ParamValue, RunRecord
from data.schema import RUNS, SessionFileError, check_name, short_reason, validate_run
from data.values import read_value


def read_recording(path: str | os.PathLike) -> RunRecord:
    """The run recorded in ``path``, as of its last flush.

    Its status is the one it was closed with, or ``interrupted`` (with a message saying so) if
    the recorder never closed it; each stream holds the rows of the last committed flush; the
    committed resume state, if any, comes as datasets ``resume/<name>``. Works on a recording
    whose writer was killed at any instant, and on one of version 1 (spins bit-packed, decoded
    here). Raises RecordingError, and no other exception, if
    the file is missing, not a recording, damaged or holds invalid data.
    """
    try:
        with guard(path):
            return _read_recording(path)
    except RecordingError:
        raise
    except SessionFileError as exc:
        raise RecordingError(
            exc.path, exc.problem.replace("Monge Lab session", "Monge Lab recording")
        ) from exc


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
        if version not in READABLE_VERSIONS:
            raise RecordingError(
                path,
                f"has recording_version {version!r}; this version reads "
                f"{' and '.join(map(str, READABLE_VERSIONS))}",
            )
        runs = f.get(RUNS)
        if not isinstance(runs, h5py.Group) or len(runs) != 1:
            raise RecordingError(path, "is damaged (expected exactly one run)")
        run_id = next(iter(runs))
        check_name(run_id, "run id")
        commit = _read_small(f, COMMIT, path)
        stream_names = _text_list(_root_attr(f[COMMIT], "streams", path))
        if stream_names is None or not (
            commit.shape == (2 + len(stream_names),)
            and commit[1] in (0, 1)
            and np.all(commit[2:] >= 0)
        ):
            raise RecordingError(path, "is damaged (its commit record does not fit its streams)")
        committed = dict(zip(stream_names, (int(n) for n in commit[2:]), strict=True))
        run = read_run_group(
            runs[run_id], run_id, path, max(size, 1), committed, packed_spins=version == 1
        )
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
    fid = h5py.h5f.open(os.fsencode(name), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ, fapl=fapl)
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


def _text_list(value: ParamValue | None) -> list[str] | None:
    """``value`` if it is a list of strings (``[]`` included), else None."""
    if not isinstance(value, list):
        return None
    texts = [item for item in value if isinstance(item, str)]
    return texts if len(texts) == len(value) else None


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
