"""Writing session files: whole sessions, added or replaced runs, and the check before long work.

Every write is atomic (see :mod:`data.atomic`): the new file is complete and on disk before it
replaces the old one, and on any failure the old file is byte-identical and no temporary file
remains. A record that cannot be stored is refused with ValueError before the disk is touched;
a failure of the file system or of HDF5 while writing is raised as SessionFileError (permission
problems included, with a message saying so).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from data.atomic import new_temp_file, replacing, resolve_target
from data.reader import load_session, read_header, read_run_ids
from data.records import RunRecord, SessionRecord
from data.schema import (
    FORMAT,
    LIBVER,
    LOG,
    NO_SEED,
    RESULTS,
    RUNS,
    SCHEMA_VERSION,
    UI,
    SessionFileError,
    check_log,
    short_reason,
    validate_run,
    validate_session,
)
from data.spin_codec import (
    SESSION_STRATEGIES,
    direct_chunks_match,
    is_spin_array,
    spin_layout,
    write_spin_chunks,
)
from data.values import encode_text, normalize, write_attr

GZIP_LEVEL = 4
"""gzip level of compressed session datasets: one-byte arrays other than spins (deflate with
shuffle, e.g. 0/1 hidden units), and the level a spin dataset declares (used by HDF5 where it
compresses spins itself: a plain h5py writer appending frames, or the fallback of
:func:`write_run_array`; 0.086–0.091 byte per spin for 64×64 frames at T_c). Monge Lab's own
spin chunks are smaller (:data:`SESSION_STRATEGIES <data.spin_codec.SESSION_STRATEGIES>`)."""

LOG_MIN_WIDTH = 128
"""Narrowest width (bytes per line) of the fixed-length ``/log`` strings; widths are powers of
two, so appending a longer line rarely forces the dataset to be rewritten wider."""


def save_session(record: SessionRecord, path: str | os.PathLike) -> None:
    """Write ``record`` to ``path`` atomically, replacing any previous file.

    Raises ValueError (nothing written) if the record cannot be stored, SessionFileError if the
    file cannot be written; in both cases a previous file at ``path`` is unchanged.
    """
    validate_session(record)
    target = resolve_target(path)
    _check_target(path, target)
    try:
        with replacing(target) as temp, h5py.File(temp, "w", libver=LIBVER, track_order=True) as f:
            _write_session(f, record)
    except Exception as exc:
        raise SessionFileError(path, f"could not be saved ({_write_reason(exc, target)})") from exc


def add_runs(
    path: str | os.PathLike, runs: list[RunRecord], *, log: list[str] | None = None
) -> None:
    """Append ``runs`` (and ``log`` lines) to the session in ``path``, atomically.

    Creates a new session if ``path`` does not exist. The existing file is copied, the new run
    groups are written into the copy, and the copy replaces the file; a file of an older schema is
    upgraded and rewritten whole. Raises ValueError if a run is invalid or its id already exists
    (the file is unchanged), SessionFileError if the file is not a session or cannot be written.
    """
    runs, lines = _checked(runs, log, "add")
    ids = [run.id for run in runs]
    target = resolve_target(path)
    if not target.exists():
        record = SessionRecord(
            runs={run.id: run for run in runs},
            log=lines,
            created=utc_now(),
            app_version=app_version(),
        )
        save_session(record, path)
        return
    existing = read_run_ids(path)
    clash = [run_id for run_id in ids if run_id in existing]
    if clash:
        raise ValueError(f"run {clash[0]!r} already exists in {os.fsdecode(path)}")
    if read_header(path)["schema_version"] < SCHEMA_VERSION:
        _rewrite_upgraded(path, runs, lines)
        return
    try:
        with (
            replacing(target, copy_existing=True) as temp,
            h5py.File(temp, "r+", libver=LIBVER) as f,
        ):
            for run in runs:
                write_run_group(f[RUNS], run)
            _append_log(f, lines)
    except Exception as exc:
        raise SessionFileError(
            path, f"could not be updated ({_write_reason(exc, target)})"
        ) from exc


def replace_runs(
    path: str | os.PathLike, runs: list[RunRecord], *, log: list[str] | None = None
) -> None:
    """Replace whole runs of the session in ``path`` by ``runs`` (and append ``log``), atomically.

    Each run's group is written anew from its record, at the same place in the display order;
    the other runs, ``/ui`` and the rest of ``/log`` keep their stored content byte for byte.
    The session is copied object by object into a temporary file, with the new groups in place
    of the old, and the copy replaces the file. (Deleting groups inside a byte copy instead would
    leave their space unused: HDF5 forgets free space when a file is closed, and a session whose
    growing run was replaced ten times was 13% larger than the same session saved afresh.) A
    file of an older schema is upgraded and rewritten whole. Raises ValueError if a run is invalid,
    given twice, or not already in the file (the file is unchanged), SessionFileError if the
    file does not exist, is not a session or cannot be written.
    """
    runs, lines = _checked(runs, log, "replace")
    existing = read_run_ids(path)
    missing = [run.id for run in runs if run.id not in existing]
    if missing:
        raise ValueError(f"no run {missing[0]!r} in {os.fsdecode(path)} to replace")
    if read_header(path)["schema_version"] < SCHEMA_VERSION:
        _rewrite_upgraded(path, runs, lines)
        return
    target = resolve_target(path)
    try:
        # Contexts exit in reverse order: both files are closed before the rename.
        with (
            replacing(target) as temp,
            h5py.File(target, "r") as source,
            h5py.File(temp, "w", libver=LIBVER, track_order=True) as f,
        ):
            _copy_replacing(source, f, {run.id: run for run in runs})
            _append_log(f, lines)
    except Exception as exc:
        raise SessionFileError(
            path, f"could not be updated ({_write_reason(exc, target)})"
        ) from exc


def _rewrite_upgraded(path: str | os.PathLike, runs: list[RunRecord], lines: list[str]) -> None:
    """A file of an older schema is loaded (migrated), given ``runs`` and ``lines``, and
    rewritten whole at the current schema, atomically."""
    record = load_session(path)
    record.runs.update((run.id, run) for run in runs)
    record.log.extend(lines)
    save_session(record, path)


def check_writable(path: str | os.PathLike) -> None:
    """Raise SessionFileError unless a session can be written to ``path``.

    Checks that the directory exists and accepts new files (by creating and removing a temporary
    file there: permission bits alone can mislead), and that an existing ``path`` is a session
    this version can extend. Meant for the CLI, before it spends minutes simulating.
    """
    target = resolve_target(path)
    _check_target(path, target)
    if target.exists():
        read_run_ids(path)
    try:
        new_temp_file(target).unlink()
    except OSError as exc:
        raise SessionFileError(path, f"cannot be written ({_write_reason(exc, target)})") from exc


def utc_now() -> str:
    """The current time as ISO 8601 UTC with seconds, e.g. ``2026-11-22T14:11:26Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def app_version() -> str:
    """The installed Monge Lab version, written into sessions created by :func:`add_runs`
    (importlib.metadata is imported here: 20 ms that appending to a session does not need)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("monge-lab")
    except PackageNotFoundError:
        return "unknown"


def _checked(
    runs: list[RunRecord], log: list[str] | None, verb: str
) -> tuple[list[RunRecord], list[str]]:
    """``runs`` and ``log`` as lists, after checking them (ValueError, nothing touched)."""
    runs = list(runs)
    lines = list(log or [])
    for run in runs:
        validate_run(run)
    check_log(lines)
    ids = [run.id for run in runs]
    repeated = sorted({run_id for run_id in ids if ids.count(run_id) > 1})
    if repeated:
        raise ValueError(f"run id {repeated[0]!r} appears more than once in the runs to {verb}")
    return runs, lines


# ---------------------------------------------------------------------------- layout


def _write_session(f: h5py.File, record: SessionRecord) -> None:
    write_attr(f.attrs, "format", FORMAT)
    write_attr(f.attrs, "schema_version", SCHEMA_VERSION)
    write_attr(f.attrs, "created", record.created)
    write_attr(f.attrs, "app_version", record.app_version)
    runs = f.create_group(RUNS, track_order=True)
    for run in record.runs.values():
        write_run_group(runs, run)
    ui = f.create_group(UI, track_order=True)
    for key, value in record.ui.items():
        if isinstance(value, str):
            ui.create_dataset(key, data=encode_text(value))
        else:
            _write_array(ui, key, np.frombuffer(bytes(value), dtype=np.uint8))
    _write_log(f, record.log)


def write_run_group(runs: h5py.Group, run: RunRecord) -> h5py.Group:
    """Write ``run`` (validated by the caller) as the new group ``runs/<id>``; returns it."""
    group = runs.create_group(run.id, track_order=True)
    where = f"run {run.id}"
    attrs = group.attrs
    write_attr(attrs, "kind", run.kind)
    write_attr(attrs, "status", run.status)
    write_attr(attrs, "seed", NO_SEED if run.seed is None else int(run.seed))
    attrs.create("inputs", encode_text(run.inputs))
    write_attr(attrs, "created", run.created)
    if run.finished is not None:
        write_attr(attrs, "finished", run.finished)
    write_attr(attrs, "message", run.message)
    for name, value in run.params.items():
        write_attr(attrs, name, normalize(value, f"{where}: parameter {name!r}"))
    results = group.create_group(RESULTS, track_order=True)
    for name, value in run.results.items():
        write_attr(results.attrs, name, normalize(value, f"{where}: result {name!r}"))
    for key, array in run.datasets.items():
        folder, _, name = key.rpartition("/")
        dataset = write_run_array(subgroup(group, folder), name, array)
        for attr, value in run.dataset_attrs.get(key, {}).items():
            write_attr(dataset.attrs, attr, normalize(value, f"{where}: {key!r} {attr!r}"))
    for key, values in run.groups.items():
        node = subgroup(group, key)
        for attr, value in values.items():
            write_attr(node.attrs, attr, normalize(value, f"{where}: group {key!r} {attr!r}"))
    return group


def _copy_replacing(source: h5py.File, f: h5py.File, new: dict[str, RunRecord]) -> None:
    """Copy the session ``source`` into the empty file ``f``, writing the runs in ``new`` anew.

    Everything else is copied object by object with HDF5's object copy, which keeps attributes
    (types, values, order), dataset layouts and filters, and the stored (compressed, checksummed)
    chunks byte for byte; groups keep their creation order, so every run keeps its place.
    """
    _copy_attrs(source, f)
    for name in source:
        if name != RUNS:
            source.copy(name, f, name)
            continue
        old, runs = source[RUNS], f.create_group(RUNS, track_order=True)
        _copy_attrs(old, runs)
        for run_id in old:
            if run_id in new:
                write_run_group(runs, new[run_id])
            else:
                old.copy(run_id, runs, run_id)


def _copy_attrs(source: h5py.HLObject, target: h5py.HLObject) -> None:
    """Copy every attribute of ``source`` to ``target`` in order, with its exact HDF5 type."""
    for name in source.attrs:
        stored = source.attrs.get_id(name)
        target.attrs.create(name, source.attrs[name], dtype=stored.dtype)


def subgroup(group: h5py.Group, key: str) -> h5py.Group:
    """The group at relative path ``key`` below ``group`` (``""``: itself), created if missing."""
    for name in filter(None, key.split("/")):
        group = group[name] if name in group else group.create_group(name, track_order=True)
    return group


def _write_array(parent: h5py.Group, name: str, array: np.ndarray) -> h5py.Dataset:
    """Create dataset ``name`` holding ``array`` (see :func:`dataset_layout`)."""
    return parent.create_dataset(name, data=array, track_order=True, **dataset_layout(array))


def write_run_array(
    parent: h5py.Group, name: str, array: np.ndarray, *, gzip_level: int = GZIP_LEVEL
) -> h5py.Dataset:
    """Create the run dataset ``name`` holding ``array`` as it is (same dtype and shape): a ±1
    spin array in the spin layout (:func:`data.spin_codec.spin_layout`), its chunks deflated
    the way that suits spins (:func:`data.spin_codec.write_spin_chunks`) where the HDF5
    library's format matches, else by HDF5 at ``gzip_level``; any other array in
    :func:`dataset_layout`."""
    if not _is_spin_array(array):
        return _write_array(parent, name, array)
    layout = spin_layout(array.shape[1:], gzip_level, rows=array.shape[0])
    if not direct_chunks_match(SESSION_STRATEGIES):
        return parent.create_dataset(name, data=array, track_order=True, **layout)
    dataset = parent.create_dataset(
        name, shape=array.shape, dtype=np.int8, track_order=True, **layout
    )
    write_spin_chunks(dataset, 0, array, SESSION_STRATEGIES)
    return dataset


SPIN_CHECK_BYTES = 1 << 24
"""Spin arrays are recognized this many bytes of frames at a time (16 MiB), so that writing
N configurations of a large lattice makes no temporary of their size (the check of a whole
800 MB array once took three more such arrays, beside the array itself)."""


def _is_spin_array(array: np.ndarray) -> bool:
    """:func:`data.spin_codec.is_spin_array`, asked of blocks of whole frames in turn."""
    if array.dtype != np.int8 or array.ndim < 2 or array.shape[0] == 0:
        return is_spin_array(array)
    frame_bytes = max(1, array[0].nbytes)
    rows = max(1, SPIN_CHECK_BYTES // frame_bytes)
    return all(
        is_spin_array(array[start : start + rows]) for start in range(0, array.shape[0], rows)
    )


def dataset_layout(array: np.ndarray) -> dict:
    """How an array is stored: chunked, Fletcher-32 checksummed, resizable along its first axis.

    Every array with at least one axis is created with ``maxshape = (None, ...)`` so that a
    recording can later be extended along its first (time or sample) axis, and trailing axes of
    length 0 are unlimited too (HDF5 cannot chunk a dimension fixed at 0). The checksum makes
    corrupted data an error on reading instead of silently wrong numbers. One-byte arrays (uint8
    bytes, booleans, int8 other than ±1 spins, which have their own layout) are gzip-compressed
    with the shuffle filter. A 0-d array (a scalar) is stored contiguously: HDF5 cannot chunk it.
    """
    if array.ndim == 0:
        return {}
    layout: dict = {
        "maxshape": (None, *(n if n > 0 else None for n in array.shape[1:])),
        "chunks": True,
        "fletcher32": True,
    }
    if array.dtype.itemsize == 1:
        layout.update(compression="gzip", compression_opts=GZIP_LEVEL, shuffle=True)
    return layout


def _write_log(f: h5py.File, lines: list[str]) -> None:
    """``/log``: resizable, gzip-compressed fixed-length UTF-8 strings, one per line."""
    longest = max((len(line.encode("utf-8")) for line in lines), default=0)
    width = LOG_MIN_WIDTH
    while width < longest:
        width *= 2
    f.create_dataset(
        LOG,
        data=encode_text(lines, width),
        maxshape=(None,),
        chunks=True,
        compression="gzip",
        compression_opts=GZIP_LEVEL,
        fletcher32=True,
    )


def _append_log(f: h5py.File, lines: list[str]) -> None:
    """Append ``lines`` to ``/log``, rewriting it wider if a new line does not fit."""
    log = f[LOG]
    if not lines:
        return
    text = encode_text(lines)
    if text.dtype.itemsize > log.dtype.itemsize:
        old = [str(line) for line in log.asstr()[()]]
        del f[LOG]
        _write_log(f, old + lines)
        return
    start = log.shape[0]
    log.resize((start + len(lines),))
    log[start:] = text.astype(log.dtype)


# ---------------------------------------------------------------------------- errors


def _check_target(path: str | os.PathLike, target: Path) -> None:
    """SessionFileError unless ``target`` could be a file in an existing directory."""
    directory = target.parent
    if not directory.exists():
        raise SessionFileError(path, f"cannot be written: the directory {directory} does not exist")
    if not directory.is_dir():
        raise SessionFileError(path, f"cannot be written: {directory} is not a directory")
    if target.is_dir():
        raise SessionFileError(path, "is a directory, not a session file")


def _write_reason(exc: BaseException, target: Path) -> str:
    if isinstance(exc, PermissionError):
        return f"permission denied in {target.parent}"
    return short_reason(exc, library=None)
