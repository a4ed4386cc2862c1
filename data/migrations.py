"""Upgrading files written with an older schema, one version at a time.

``MIGRATIONS[k]`` upgrades an open, writable HDF5 file from schema ``k`` to ``k + 1`` in place:
it rewrites groups, datasets and attributes so that the result has the layout of schema ``k + 1``.
The reader applies it to an in-memory copy of the file (the file on disk is never modified by
opening it), then reads the upgraded copy with the one reader of the current schema. A migration
does not set ``schema_version``; :func:`upgrade` does that after each step.

Schema 1 is the first schema, so the registry is empty; the mechanism is exercised by the tests
with a registered fake schema 0.
"""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np

from data.schema import SCHEMA_VERSION

Migration = Callable[[h5py.File], None]

MIGRATIONS: dict[int, Migration] = {}
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
