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
    ``description``. ``results`` holds summary numbers (``"e"``, ``"e_error"``). ``groups`` maps
    relative paths (``"evaluation"``, ``"evaluation/data-ising-001"``) to named sets of values
    stored as the attributes of subgroups of the run, e.g. ``{"log_z": 12.3, "log_z_error":
    0.01, "log_z_method": "ais"}``.
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
    groups: dict[str, dict[str, ParamValue]] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Field-by-field equality; arrays are equal when dtype, shape and values all agree.

        (The generated dataclass ``__eq__`` would compare arrays with ``==``, whose truth value is
        ambiguous.) NaNs compare equal to NaNs at the same place, in arrays and in attribute
        values alike (``params``, ``results``, ``dataset_attrs``, ``groups``), so that a record
        holding a NaN equals itself read back. Dicts compare without regard to order.
        """
        if not isinstance(other, RunRecord):
            return NotImplemented
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "datasets":
                same = mine.keys() == theirs.keys() and all(
                    _arrays_identical(mine[key], theirs[key]) for key in mine
                )
            elif f.name in _VALUE_DICTS:
                same = _values_identical(mine, theirs)
            else:
                same = mine == theirs
            if not same:
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


_VALUE_DICTS = ("params", "results", "dataset_attrs", "groups")
"""RunRecord fields holding (dicts of) attribute values, compared by :func:`_values_identical`."""


def _values_identical(a: object, b: object) -> bool:
    """``a == b`` for (nested dicts and lists of) attribute values, with NaN equal to NaN.

    A 1-D numpy array (accepted as a value on the way in) compares as the list it is stored as.
    """
    a, b = (x.tolist() if isinstance(x, np.ndarray) else x for x in (a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_identical(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(map(_values_identical, a, b))
    if _is_nan(a) and _is_nan(b):
        return True
    return bool(a == b)


def _is_nan(x: object) -> bool:
    return isinstance(x, float | np.floating) and bool(np.isnan(x))


def _arrays_identical(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, same shape, same values (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    equal_nan = a.dtype.kind in "fc"
    return bool(np.array_equal(a, b, equal_nan=equal_nan))
