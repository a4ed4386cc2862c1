"""Upgrading files written with an older schema, one version at a time.

``MIGRATIONS[k]`` upgrades an open, writable HDF5 file from schema ``k`` to ``k + 1`` in place:
it rewrites groups, datasets and attributes so that the result has the layout of schema ``k + 1``.
The reader applies it to an in-memory copy of the file (the file on disk is never modified by
opening it), then reads the upgraded copy with the one reader of the current schema. A migration
does not set ``schema_version``; :func:`upgrade` does that after each step.

Steps: 1 → 2 (bit-packed spins, see :func:`schema_1_to_2`), 2 → 3 (int8 spins again, and two
names fixed, see :func:`schema_2_to_3`). The tests also exercise the mechanism with a registered
fake schema 0.
"""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np

from data.schema import MAX_COMPRESSION_RATIO, RESERVED_DATASET_ATTRS, RESULTS, RUNS, SCHEMA_VERSION
from data.spin_codec import (
    ENCODING_ATTR,
    RECORDING_STRATEGIES,
    SHAPE_ATTR,
    decode_packed,
    direct_chunks_match,
    spin_layout,
    write_spin_chunks,
)
from data.values import read_value, write_attr

Migration = Callable[[h5py.File], None]

MIGRATION_GZIP_LEVEL = 1
"""Deflate level of the spins a migration rewrites, where HDF5 compresses them (otherwise they
are deflated with zlib's fast run-length strategy, as in a live recording). The upgraded copy
lives in memory and is read once (opening never writes the file back), and the next save
stores the session as sessions are stored anyway."""

RENAMED_HISTORY = {"reconstruction_error": "reconstruction_mismatch"}
"""RBM history series (``history/<name>``) and results renamed by schema 3: the suffix
``_error`` is reserved for one-sigma error bars, and this series is no error bar but the
fraction of spins one v → h → v′ step changes."""

EPOCH_UNITS = "epochs"
"""Units of ``history/epoch`` and ``checkpoints/epoch`` of RBM runs since schema 3 (schema 2
files said "dimensionless" for the first)."""


def schema_1_to_2(file: h5py.File) -> None:
    """Schema 2 stores ±1 spin datasets bit-packed and marks them with the dataset attributes
    ``spin_encoding`` and ``spin_shape``; unpacked int8 spins remain valid, so schema-1 data needs
    no conversion (a schema-1 file rewritten by the writer gets packed spins). What must not
    pass is a schema-1 dataset that already carries one of those names (an attribute added by
    another tool): read as schema 2, it would be taken for packing. It is refused (ValueError,
    reported as "could not be upgraded") rather than reinterpreted.
    """
    runs = file.get(RUNS)
    if not isinstance(runs, h5py.Group):
        return  # the reader reports the missing group

    def check(name: str, node: object) -> None:
        if isinstance(node, h5py.Dataset):
            for attr in RESERVED_DATASET_ATTRS:
                if attr in node.attrs:
                    raise ValueError(
                        f"{node.name} has the attribute {attr!r}, reserved in schema 2 for packed "
                        "spins"
                    )

    runs.visititems(check)


def schema_2_to_3(file: h5py.File) -> None:
    """Schema 3 stores spin datasets as int8 of their logical shape (scale-offset + deflate,
    :func:`data.spin_codec.spin_layout`) instead of bit-packed, and fixes two names of RBM runs:

    - every dataset marked ``spin_encoding = "packbits"`` is decoded (its marks must describe
      it, else ValueError) and written as int8 ``(N, *spin_shape)`` ±1 without the marks;
    - in runs of kind ``rbm``, ``history/reconstruction_error`` becomes
      ``history/reconstruction_mismatch``, and so does the result of that name
      (:data:`RENAMED_HISTORY`; a run that already has the new name keeps both unchanged);
    - in runs of kind ``rbm``, ``history/epoch`` and ``checkpoints/epoch`` get ``units =
      "epochs"`` (:data:`EPOCH_UNITS`).

    Everything keeps its place in the creation order (run order is display order), so ``/runs``
    is rebuilt: each run is copied object by object into a new group (unchanged datasets with
    HDF5's object copy, attributes with their exact types), which then replaces ``/runs``.
    """
    runs = file.get(RUNS)
    if not isinstance(runs, h5py.Group):
        return  # the reader reports the missing group
    new = file.create_group(f"{RUNS}.schema-3", track_order=True)
    _copy_attrs(runs.attrs, new.attrs)
    for run_id in runs:
        link = runs.get(run_id, getlink=True)
        node = runs[run_id] if isinstance(link, h5py.HardLink) else None
        if isinstance(node, h5py.Group):
            target = new.create_group(run_id, track_order=True)
            _copy_attrs(node.attrs, target.attrs)
            _copy_run(node, target, "", _kind(node) == "rbm")
        else:
            _copy_link(runs, new, run_id, link)  # the reader refuses it with its own message
    del file[RUNS]
    file.move(new.name, RUNS)


def _kind(group: h5py.Group) -> str | None:
    """The run's ``kind`` attribute as text, or None where it is missing or not text."""
    try:
        kind = read_value(group.attrs["kind"], "kind")
    except (KeyError, ValueError):
        return None
    return kind if isinstance(kind, str) else None


def _copy_run(source: h5py.Group, target: h5py.Group, key: str, rbm: bool) -> None:
    """Copy the members of ``source`` (at relative path ``key`` in its run) into ``target``,
    in creation order, upgrading what schema 3 changed."""
    for name in source:
        link = source.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            _copy_link(source, target, name, link)
            continue
        node, path = source[name], f"{key}/{name}" if key else name
        new_name = name
        if (
            rbm
            and key == "history"
            and name in RENAMED_HISTORY
            and RENAMED_HISTORY[name] not in source
        ):
            new_name = RENAMED_HISTORY[name]
        if isinstance(node, h5py.Group):
            group = target.create_group(name, track_order=True)
            renames = RENAMED_HISTORY if rbm and path == RESULTS else {}
            _copy_attrs(node.attrs, group.attrs, rename=renames)
            _copy_run(node, group, path, rbm)
        elif isinstance(node, h5py.Dataset) and (
            ENCODING_ATTR in node.attrs or SHAPE_ATTR in node.attrs
        ):
            _write_unpacked(node, target, new_name)
        else:
            source.copy(name, target, new_name)
            if rbm and path in ("history/epoch", "checkpoints/epoch"):
                dataset = target[new_name]
                _copy_attrs(
                    dict(_attr_items(dataset.attrs)),
                    dataset.attrs,
                    replace={"units": EPOCH_UNITS},
                    clear=True,
                )


def _write_unpacked(node: h5py.Dataset, target: h5py.Group, name: str) -> None:
    """Write the bit-packed spins of ``node`` as the int8 spin dataset ``target[name]``, with
    the other attributes of ``node`` in their order. ValueError if the marks do not fit."""
    claimed = node.size * node.dtype.itemsize
    stored = node.id.get_storage_size()
    if stored > node.file.id.get_filesize() or claimed > max(stored, 1) * MAX_COMPRESSION_RATIO:
        raise ValueError(f"{node.name} claims {claimed} bytes but the file stores {stored}")

    def mark(attr: str) -> object:
        return read_value(node.attrs[attr], attr) if attr in node.attrs else None

    try:
        frames = decode_packed(np.asarray(node[()]), mark(ENCODING_ATTR), mark(SHAPE_ATTR))
    except ValueError as exc:
        raise ValueError(f"{node.name}: {exc}") from None
    layout = spin_layout(frames.shape[1:], MIGRATION_GZIP_LEVEL, rows=frames.shape[0])
    if direct_chunks_match(RECORDING_STRATEGIES):
        dataset = target.create_dataset(
            name, shape=frames.shape, dtype=np.int8, track_order=True, **layout
        )
        write_spin_chunks(dataset, 0, frames, RECORDING_STRATEGIES)
    else:
        dataset = target.create_dataset(name, data=frames, track_order=True, **layout)
    kept = {
        key: value
        for key, value in _attr_items(node.attrs)
        if key not in (ENCODING_ATTR, SHAPE_ATTR)
    }
    _copy_attrs(kept, dataset.attrs)


def _attr_items(attrs: h5py.AttributeManager) -> list[tuple[str, tuple[np.ndarray, np.dtype]]]:
    """Every attribute as (name, (value, exact stored dtype)), in order."""
    return [(name, (attrs[name], attrs.get_id(name).dtype)) for name in attrs]


def _copy_attrs(
    source: h5py.AttributeManager | dict,
    target: h5py.AttributeManager,
    *,
    rename: dict[str, str] | None = None,
    replace: dict[str, str] | None = None,
    clear: bool = False,
) -> None:
    """Write the attributes of ``source`` (an attribute manager, or the items of
    :func:`_attr_items`) to ``target`` in order with their exact types; ``rename`` maps old
    names to new ones (skipped where the new name exists too), ``replace`` gives text values
    to write instead (appended where missing); ``clear`` deletes ``target``'s attributes first."""
    items = (
        _attr_items(source) if isinstance(source, h5py.AttributeManager) else list(source.items())
    )
    names = {name for name, _ in items}
    rename = {old: new for old, new in (rename or {}).items() if new not in names}
    replace = dict(replace or {})
    if clear:
        for name in list(target):
            del target[name]
    for name, (value, dtype) in items:
        name = rename.get(name, name)
        if name in replace:
            write_attr(target, name, replace.pop(name))
        else:
            target.create(name, value, dtype=dtype)
    for name, value in replace.items():
        write_attr(target, name, value)


def _copy_link(source: h5py.Group, target: h5py.Group, name: str, link: object) -> None:
    """Copy a soft or external link (or a hard link to something that is not a group) as it is."""
    if isinstance(link, h5py.SoftLink):
        target[name] = h5py.SoftLink(link.path)
    elif isinstance(link, h5py.ExternalLink):
        target[name] = h5py.ExternalLink(link.filename, link.path)
    else:
        source.copy(name, target, name)


MIGRATIONS: dict[int, Migration] = {1: schema_1_to_2, 2: schema_2_to_3}
"""Schema version k → function upgrading an open file from k to k + 1."""


def first_missing_step(version: int) -> int | None:
    """The first schema in ``version … SCHEMA_VERSION - 1`` without a migration, or None."""
    for k in range(version, SCHEMA_VERSION):
        if k not in MIGRATIONS:
            return k
    return None


def upgrade(file: h5py.File, version: int) -> None:
    """Upgrade ``file`` from schema ``version`` to :data:`SCHEMA_VERSION`, step by step.

    The caller has checked with :func:`first_missing_step` that every step exists.
    """
    for k in range(version, SCHEMA_VERSION):
        MIGRATIONS[k](file)
        file.attrs["schema_version"] = np.int64(k + 1)
