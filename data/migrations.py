"""Upgrading files written with an older schema, one version at a time.

``MIGRATIONS[k]`` upgrades an open, writable HDF5 file from schema ``k`` to ``k + 1`` in place:
it rewrites groups, datasets and attributes so that the result has the layout of schema ``k + 1``.
The reader applies it to an in-memory copy of the file (the file on disk is never modified by
opening it), then reads the upgraded copy with the one reader of the current schema. A migration
does not set ``schema_version``; :func:`upgrade` does that after each step.

Steps: 1 → 2 (bit-packed spins, see :func:`schema_1_to_2`). The tests also exercise the mechanism
with a registered fake schema 0.
"""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np

from data.schema import RESERVED_DATASET_ATTRS, RUNS, SCHEMA_VERSION

Migration = Callable[[h5py.File], None]


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


MIGRATIONS: dict[int, Migration] = {1: schema_1_to_2}
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
