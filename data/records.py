"""The plain records the application codes against: a session and its runs.

These are ordinary dataclasses of Python values and numpy arrays; nothing here knows about HDF5.
``data.writer`` turns a :class:`SessionRecord` into a file, ``data.reader`` turns a file back into
an equal record (same values, same types, same array dtypes).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

ParamValue = bool | int | float | str | list[int] | list[float] | list[str]
"""A value that can be stored as one HDF5 attribute: a parameter, a result, a dataset attribute."""

RUN_STATUSES: tuple[str, ...] = (
    "running",
    "paused",
    "finished",
    "stopped",
    "failed",
    "interrupted",
)
"""Every status a run can have. A file keeps whatever status the run had when it was saved."""


@dataclass
class RunRecord:
    """One piece of work: its parameters, seed, provenance, recorded arrays and results.

    ``id`` is also the HDF5 group name under ``/runs/``. ``created`` and ``finished`` are ISO 8601
    UTC timestamps (text). ``datasets`` maps relative paths (``"energy"``, ``"checkpoints/W"``)
    to arrays; ``dataset_attrs`` gives per-dataset attributes such as ``units``, ``axes`` and
    ``description``. ``results`` holds summary numbers (``"e"``, ``"e_error"``).
    """

    id: str
    kind: str
    status: str
    seed: int | None
    params: dict[str, ParamValue]
    inputs: list[str] = field(default_factory=list)
    created: str = ""
    finished: str | None = None
    datasets: dict[str, np.ndarray] = field(default_factory=dict)
    dataset_attrs: dict[str, dict[str, ParamValue]] = field(default_factory=dict)
    results: dict[str, ParamValue] = field(default_factory=dict)
    message: str = ""

    def __eq__(self, other: object) -> bool:
        """Field-by-field equality; arrays are equal when dtype, shape and values all agree.

        (The generated dataclass ``__eq__`` would compare arrays with ``==``, whose truth value is
        ambiguous.) NaNs in arrays compare equal to NaNs at the same place.
        """
        if not isinstance(other, RunRecord):
            return NotImplemented
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "datasets":
                if mine.keys() != theirs.keys() or not all(
                    _arrays_identical(mine[key], theirs[key]) for key in mine
                ):
                    return False
            elif mine != theirs:
                return False
        return True


@dataclass
class SessionRecord:
    """Everything a user did: runs (insertion order is display order), window layout, log.

    ``ui`` holds opaque window-state bytes (``QMainWindow.saveState``) and text such as the
    per-panel settings as JSON. ``created`` is ISO 8601 UTC; ``app_version`` is the version of
    Monge Lab that wrote the session.
    """

    runs: dict[str, RunRecord] = field(default_factory=dict)
    ui: dict[str, bytes | str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    created: str = ""
    app_version: str = ""


def _arrays_identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, same shape, same values (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    equal_nan = a.dtype.kind in "fc"
    return bool(np.array_equal(a, b, equal_nan=equal_nan))
