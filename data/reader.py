"""Reading a session file back into a :class:`~data.records.SessionRecord`.

Every problem with the file (missing, not HDF5, foreign, newer, damaged, truncated) becomes one
:class:`~data.schema.SessionFileError` whose message is one line naming the file. HDF5 reports
damage through many exception types (OSError, KeyError, ValueError, RuntimeError, TypeError,
UnicodeDecodeError, even MemoryError for a corrupted shape), so the reader catches broadly and
converts; it also refuses to allocate more memory for a dataset than its stored bytes can justify.
Opening never modifies the file: older schemas are upgraded on an in-memory copy. Asking
:func:`read_run` for a run the file does not have is a ValueError, not a problem of the file.
"""

from __future__ import annotations

import io
import math
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from data.migrations import first_missing_step, upgrade
from data.records import ParamValue, RunRecord, SessionRecord
from data.schema import (
    DATASET_KINDS,
    FORMAT,
    LIBVER,
    LOG,
    MAX_COMPRESSION_RATIO,
    NO_SEED,
    RESULTS,
    RUNS,
    SCHEMA_VERSION,
    UI,
    SessionFileError,
    check_name,
    short_reason,
    validate_run,
    validate_session,
)
from data.spin_codec import ENCODING_ATTR, SHAPE_ATTR, decode_packed
from data.values import normalize, read_value


def read_header(path: str | os.PathLike) -> dict:
    """The root attributes: ``format``, ``schema_version``, ``created``, ``app_version``.

    Raises SessionFileError unless ``path`` is a readable Monge Lab session. A file from a newer
    Monge Lab is *not* an error here (its header is still meaningful); ``schema_version`` says so.
    """
    with guard(path), _open(path) as file:
        return _header(file, path)


def load_session(path: str | os.PathLike) -> SessionRecord:
    """The session stored in ``path``, upgraded to the current schema if it is older.

    Raises SessionFileError, and no other exception type, for anything wrong with the file.
    """
    with guard(path):
        with _open(path) as file:
            version = _readable_version(_header(file, path), path)
            if version == SCHEMA_VERSION:
                return _read_session(file, path)
        image = io.BytesIO(Path(path).read_bytes())  # upgrade a copy: never touch the file
        with h5py.File(image, "r+", libver=LIBVER) as copy:
            try:
                upgrade(copy, version)
            except Exception as exc:
                raise SessionFileError(
                    path, f"could not be upgraded from schema {version} ({short_reason(exc)})"
                ) from exc
            return _read_session(copy, path)


def read_run_ids(path: str | os.PathLike) -> list[str]:
    """The ids of the runs in ``path``, in display order, without reading their data.

    Raises SessionFileError like :func:`load_session`.
    """
    with guard(path), _open(path) as file:
        version = _readable_version(_header(file, path), path)
        if version == SCHEMA_VERSION:
            runs = _group(file, RUNS, path)
            ids = [name for name, _ in _children(runs, path)]
            for name in ids:
                _valid(check_name, name, "run id", path=path)
            return ids
    return list(load_session(path).runs)


def read_run(path: str | os.PathLike, run_id: str) -> RunRecord:
    """The run ``run_id`` of the session in ``path``, reading only that run's group.

    Raises ValueError if ``run_id`` is not a valid run id or the session has no such run
    ("no run 'x' in S.h5"), SessionFileError if the file is not a readable session or the run's
    group is damaged or invalid. Damage elsewhere in the file (another run, ``/ui``, ``/log``) is
    not looked for. A file of an older schema is upgraded in memory and read whole.
    """
    check_name(run_id, "run id")
    with guard(path):
        with _open(path) as file:
            version = _readable_version(_header(file, path), path)
            if version == SCHEMA_VERSION:
                run = _read_one_run(file, run_id, path)
        if version != SCHEMA_VERSION:
            run = load_session(path).runs.get(run_id)
    if run is None:
        raise ValueError(f"no run {run_id!r} in {os.fsdecode(path)}")
    return run


# ---------------------------------------------------------------------------- file and header


@contextmanager
def guard(path: str | os.PathLike) -> Iterator[None]:
    """Turn any exception escaping the body into a one-line SessionFileError naming ``path``."""
    try:
        yield
    except SessionFileError:
        raise
    except Exception as exc:
        reason = short_reason(exc)
        if "filter returned failure" in reason:
            problem = "is damaged (stored data fails its checksum or cannot be decompressed)"
        else:
            problem = f"is damaged or truncated ({reason})"
        raise SessionFileError(path, problem) from exc


def _open(path: str | os.PathLike) -> h5py.File:
    """Open ``path`` read-only, after the checks that give the clearest messages."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise SessionFileError(path, "does not exist") from None
    except OSError as exc:
        raise SessionFileError(path, f"cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise SessionFileError(path, "is a directory, not a session file")
    if not stat.S_ISREG(info.st_mode):
        raise SessionFileError(path, "is not a regular file")
    if info.st_size == 0:
        raise SessionFileError(path, "is empty (0 bytes), not a Monge Lab session")
    try:
        return h5py.File(name, "r")
    except OSError as exc:
        reason = short_reason(exc)
        if "signature not found" in reason:
            problem = "is not an HDF5 file, so not a Monge Lab session"
            raise SessionFileError(path, problem) from None
        if isinstance(exc, PermissionError) or "errno = 13" in reason:
            raise SessionFileError(path, "cannot be read (permission denied)") from None
        if "unable to lock file" in reason:
            problem = "is open for writing in another program (HDF5 file lock): close it there"
            raise SessionFileError(path, problem) from None
        raise SessionFileError(path, f"is damaged or truncated ({reason})") from exc


def _header(file: h5py.File, path: str | os.PathLike) -> dict:
    attrs = file.attrs
    if "format" not in attrs:
        raise SessionFileError(path, "is not a Monge Lab session (no 'format' attribute)")
    fmt = _attr(attrs, "format", path, "the root attribute")
    if fmt != FORMAT:
        raise SessionFileError(
            path, f"is not a Monge Lab session (format is {fmt!r}, expected {FORMAT!r})"
        )
    if "schema_version" not in attrs:
        raise SessionFileError(path, "is damaged (no 'schema_version' attribute)")
    version = _attr(attrs, "schema_version", path, "the root attribute")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SessionFileError(path, f"is damaged (schema_version is {version!r}, not an integer)")
    header: dict = {"format": fmt, "schema_version": version}
    for name in ("created", "app_version"):
        value = _attr(attrs, name, path, "the root attribute") if name in attrs else ""
        if not isinstance(value, str):
            raise SessionFileError(path, f"is damaged (the root attribute {name!r} is not text)")
        header[name] = value
    return header


def _readable_version(header: dict, path: str | os.PathLike) -> int:
    """The header's schema version if this version can read it (maybe after migration)."""
    version = header["schema_version"]
    if version > SCHEMA_VERSION:
        raise SessionFileError(
            path,
            f"was written by a newer Monge Lab (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION})",
        )
    missing = first_missing_step(version)
    if missing is not None:
        raise SessionFileError(
            path,
            f"uses schema {version}, which this version cannot read (no upgrade from schema "
            f"{missing})",
        )
    return version


# ---------------------------------------------------------------------------- content


def _read_session(file: h5py.File, path: str | os.PathLike) -> SessionRecord:
    header = _header(file, path)
    file_size = max(os.path.getsize(path), 1)
    runs_group = _group(file, RUNS, path)
    runs = {
        name: read_run_group(group, name, path, file_size)
        for name, group in _children(runs_group, path)
    }
    record = SessionRecord(
        runs=runs,
        ui=_read_ui(_group(file, UI, path), path, file_size),
        log=_read_log(file, path, file_size),
        created=header["created"],
        app_version=header["app_version"],
    )
    _valid(validate_session, record, path=path)
    return record


def read_run_group(
    group: h5py.Group,
    name: str,
    path: str | os.PathLike,
    file_size: int,
    rows: dict[str, int] | None = None,
    *,
    packed_spins: bool = False,
) -> RunRecord:
    """The run stored in ``group`` under the id ``name`` (not yet validated as a whole).

    ``file_size`` bounds what its datasets may claim. ``rows`` limits the datasets it names to
    their first rows (a live recording's committed rows; what lies beyond may never have been
    written). ``packed_spins`` decodes datasets marked as bit-packed spins (``spin_encoding``,
    ``spin_shape``: recordings of version 1, written with schema 2) into int8 ±1 frames;
    otherwise those attributes are read like any other (and refused by validation, being
    reserved). SessionFileError naming ``path`` if the group is damaged or holds invalid values.
    """
    where = f"run {name}"
    if not isinstance(group, h5py.Group):
        raise SessionFileError(path, f"is damaged (/{RUNS}/{name} is not a group)")
    values = _attrs(group.attrs, path, f"{where}: attribute")
    kind = _take(values, "kind", str, path, where)
    status = _take(values, "status", str, path, where)
    seed = _take(values, "seed", int, path, where, default=NO_SEED)
    inputs = _take(values, "inputs", list, path, where, default=[])
    created = _take(values, "created", str, path, where, default="")
    finished = _take(values, "finished", str, path, where, default=None)
    message = _take(values, "message", str, path, where, default="")
    tree = _RunTree(path, file_size, rows or {}, packed_spins)
    results: dict[str, ParamValue] = {}
    for child_name, child in _children(group, path):
        if child_name == RESULTS:
            if not isinstance(child, h5py.Group):
                raise SessionFileError(path, f"is damaged ({where}: 'results' is not a group)")
            results = _attrs(child.attrs, path, f"{where}: result")
        else:
            tree.read(child, child_name)
    return RunRecord(
        id=name,
        kind=kind,
        status=status,
        seed=None if seed == NO_SEED else seed,
        params=values,
        inputs=inputs,
        created=created,
        finished=finished,
        datasets=tree.datasets,
        dataset_attrs=tree.dataset_attrs,
        results=results,
        message=message,
        groups=tree.groups,
    )


def _read_one_run(file: h5py.File, run_id: str, path: str | os.PathLike) -> RunRecord | None:
    """Run ``run_id`` of an open current-schema file, validated; None if there is no such run."""
    runs = _group(file, RUNS, path)
    link = runs.get(run_id, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise SessionFileError(
            path, f"holds an unsupported {type(link).__name__} at /{RUNS}/{run_id}"
        )
    run = read_run_group(runs[run_id], run_id, path, max(os.path.getsize(path), 1))
    _valid(validate_run, run, path=path)
    return run


class _RunTree:
    """What lies below a run group besides ``results``: datasets, their folders, and groups.

    A subgroup with attributes, or without any member, is a group of ``RunRecord.groups`` (its
    members, if any, are read as well); a subgroup without attributes but with members is only a
    folder. The writer never gives a folder attributes and never writes an empty folder, so this
    reads back exactly what it wrote (see ``schema._check_groups``).
    """

    def __init__(
        self, path: str | os.PathLike, file_size: int, rows: dict[str, int], packed_spins: bool
    ) -> None:
        self.path = path
        self.file_size = file_size
        self.rows = rows
        self.packed_spins = packed_spins
        self.datasets: dict[str, np.ndarray] = {}
        self.dataset_attrs: dict[str, dict[str, ParamValue]] = {}
        self.groups: dict[str, dict[str, ParamValue]] = {}

    def read(self, node: h5py.HLObject, key: str) -> None:
        """Read the dataset or group ``node`` found at relative path ``key``, and what it holds."""
        path = self.path
        if isinstance(node, h5py.Group):
            attrs = _attrs(node.attrs, path, f"group {node.name}: attribute")
            members = list(_children(node, path))
            if attrs or not members:
                self.groups[key] = attrs
            for name, child in members:
                self.read(child, f"{key}/{name}")
            return
        if not isinstance(node, h5py.Dataset):
            raise SessionFileError(path, f"is damaged ({node.name} is neither group nor dataset)")
        if node.dtype.kind not in DATASET_KINDS:
            raise SessionFileError(
                path, f"holds invalid data ({node.name} has unsupported type {node.dtype})"
            )
        array = _read_array(node, path, self.file_size, self.rows.get(key))
        attrs = _attrs(node.attrs, path, f"dataset {node.name}: attribute")
        if self.packed_spins and (ENCODING_ATTR in attrs or SHAPE_ATTR in attrs):
            array = unpacked(node, array, attrs, path)
        self.datasets[key] = array
        if attrs:
            self.dataset_attrs[key] = attrs


def unpacked(
    node: h5py.Dataset, packed: np.ndarray, attrs: dict, path: str | os.PathLike
) -> np.ndarray:
    """The ±1 int8 frames of a bit-packed (schema-2) spin dataset of a version-1 recording;
    its two marking attributes are removed from ``attrs``. SessionFileError if the marks do not
    describe the stored array."""
    encoding, shape = attrs.pop(ENCODING_ATTR, None), attrs.pop(SHAPE_ATTR, None)
    try:
        return decode_packed(packed, encoding, shape)
    except ValueError as exc:
        raise SessionFileError(path, f"holds invalid data ({node.name}: {exc})") from None


def _read_ui(group: h5py.Group, path: str | os.PathLike, file_size: int) -> dict[str, bytes | str]:
    ui: dict[str, bytes | str] = {}
    for name, node in _children(group, path):
        if not isinstance(node, h5py.Dataset):
            raise SessionFileError(path, f"is damaged ({node.name} is not a dataset)")
        if node.shape == () and h5py.check_string_dtype(node.dtype) is not None:
            ui[name] = node.asstr()[()]
        elif node.ndim == 1 and node.dtype == np.uint8:
            ui[name] = _read_array(node, path, file_size).tobytes()
        else:
            raise SessionFileError(path, f"holds invalid data ({node.name} is not bytes or text)")
    return ui


def _read_log(file: h5py.File, path: str | os.PathLike, file_size: int) -> list[str]:
    node = file.get(LOG)
    if not isinstance(node, h5py.Dataset):
        raise SessionFileError(path, f"is damaged (no /{LOG} dataset)")
    if node.ndim != 1 or h5py.check_string_dtype(node.dtype) is None:
        raise SessionFileError(path, f"holds invalid data (/{LOG} is not a list of text lines)")
    _check_plausible_size(node, path, file_size)
    return [str(line) for line in node.asstr()[()]]


def _read_array(
    node: h5py.Dataset, path: str | os.PathLike, file_size: int, rows: int | None = None
) -> np.ndarray:
    """The dataset's data, or only its first ``rows`` rows (the extent must hold them)."""
    if rows is None:
        _check_plausible_size(node, path, file_size)
        return np.asarray(node[()])
    if node.ndim == 0 or not 0 <= rows <= node.shape[0]:
        raise SessionFileError(path, f"is damaged ({node.name} has fewer than {rows} rows)")
    row_bytes = math.prod(node.shape[1:]) * node.id.get_type().get_size()
    if rows * row_bytes > _plausible_bytes(node, file_size * MAX_COMPRESSION_RATIO):
        raise SessionFileError(
            path, f"is damaged ({node.name} claims {rows} rows of {row_bytes} bytes)"
        )
    return np.asarray(node[:rows])


def _check_plausible_size(node: h5py.Dataset, path: str | os.PathLike, file_size: int) -> None:
    """Refuse a dataset whose shape claims more data than the file can hold.

    A damaged dataspace can claim terabytes; reading it would exhaust memory instead of failing.
    Uncompressed data needs at least its own size on disk; gzip expands at most ~1032:1; with
    scale-offset, see :func:`_plausible_bytes`.
    """
    claimed = node.size * node.id.get_type().get_size()
    if claimed == 0:
        return
    stored = node.id.get_storage_size()
    ratio = MAX_COMPRESSION_RATIO if node.compression else 1
    if stored > file_size or claimed > _plausible_bytes(node, stored * ratio):
        raise SessionFileError(
            path,
            f"is damaged ({node.name} claims {claimed} bytes but the file stores {stored})",
        )


def _plausible_bytes(node: h5py.Dataset, bound: int) -> int:
    """The most bytes ``node`` can hold: ``bound`` (from its stored size), or for a dataset
    with the scale-offset filter, whose chunks of equal values shrink ~4000:1 or more, the
    bytes of the chunks it has allocated (each at least one stored byte), since a chunk never
    written would read as fill values the file does not hold."""
    if node.scaleoffset is None or node.chunks is None:
        return bound
    chunks = node.id.get_num_chunks()
    if chunks > node.id.get_storage_size():
        return 0
    return chunks * math.prod(node.chunks) * node.id.get_type().get_size()


# ---------------------------------------------------------------------------- helpers


def _group(file: h5py.File, name: str, path: str | os.PathLike) -> h5py.Group:
    node = file.get(name)
    if not isinstance(node, h5py.Group):
        raise SessionFileError(path, f"is damaged (no /{name} group)")
    return node


def _children(group: h5py.Group, path: str | os.PathLike) -> Iterator[tuple[str, h5py.HLObject]]:
    """The members of ``group`` in creation order; only hard links (no soft or external links,
    which could point outside the file)."""
    for name in group:
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise SessionFileError(
                path, f"holds an unsupported {type(link).__name__} at {group.name}/{name}"
            )
        yield name, group[name]


def _attr(attrs: h5py.AttributeManager, name: str, path: str | os.PathLike, what: str):
    return _valid(read_value, attrs[name], f"{what} {name!r}", path=path)


def _attrs(attrs: h5py.AttributeManager, path: str | os.PathLike, what: str) -> dict:
    """All attributes as normalized ParamValues, in creation order."""
    out: dict[str, ParamValue] = {}
    for name in attrs:
        label = f"{what} {name!r}"
        out[name] = _valid(
            normalize, _valid(read_value, attrs[name], label, path=path), label, path=path
        )
    return out


def _take(values: dict, name: str, kind: type, path, where: str, *, default=...):
    """Remove reserved attribute ``name`` from ``values``; it must have type ``kind``."""
    if name not in values:
        if default is ...:
            raise SessionFileError(path, f"is damaged ({where} has no {name!r} attribute)")
        return default
    value = values.pop(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SessionFileError(
            path, f"holds invalid data ({where}: {name!r} is {value!r}, not {kind.__name__})"
        )
    return value


def _valid(check, *args, path: str | os.PathLike):
    """``check(*args)``, with its ValueError turned into SessionFileError ("holds invalid data")."""
    try:
        return check(*args)
    except ValueError as exc:
        raise SessionFileError(path, f"holds invalid data ({exc})") from None
