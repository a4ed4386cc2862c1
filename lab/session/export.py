"""A run's arrays to ``.npz`` and its time series to CSV (issue 6: export).

``export_npz`` writes every dataset of a run under its path with ``/`` replaced by ``__``
(``checkpoints/W`` → ``checkpoints__W``), exactly as held in the :class:`data.RunRecord` (spin
configurations as int8 ±1, whatever their packing in the session file), plus ``meta``: a 0-d
unicode array holding JSON with the run's id, kind, status, seed, params, inputs, created,
finished, message, results, dataset attributes and the session's path. ``np.load(path)`` gives
the arrays back bit for bit (no pickling needed).

``time_series`` picks the 1-D series of a run that share one axis, by this rule:

1. The *index* of the run is the dataset :data:`SERIES_INDEX` names for its kind (``sweep`` of an
   Ising run, ``history/epoch`` of an RBM, ``temperature`` of a scan or an RG flow, ``epoch`` of a
   geometry run). Without one (other kinds, or the index is missing), it is the 1-D numeric
   dataset whose length the most 1-D numeric datasets share (ties: the longer, then the first).
2. Its length N and the first label of its ``axes`` attribute (``sample``, ``epoch``, …), when it
   has one, define the series axis.
3. A column is every real (bool, integer or float) dataset whose first axis has length N and,
   when both carry ``axes``, the same first label: a 1-D dataset is one column; a 2-D one is
   split into one column per entry of its second axis when that axis is named, by a ``columns``
   attribute (``name[column]``) or by a second axis label in :data:`SPLIT_AXES`
   (``name[level k]``). Other 2-D and higher datasets (configurations, weights, spectra) are not
   series. The index comes first, the others in the run's dataset order.

So an Ising run gives sweep, energy, magnetization (not its C(r), whose axis is distance); an
RBM its per-epoch history (not its per-checkpoint epochs); a scan its curves against T; an RG
flow T′ per level against T; a geometry run its per-checkpoint curves.

``export_csv`` writes ``# session=…, run=…`` (and the run's kind), then a header line of column
names with their units in brackets where ``dataset_attrs`` gives them (``energy [J per spin]``),
then one line per entry: integers as integers, floats with 17 significant digits (so they read
back exactly), NaN as ``nan``.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from data import RunRecord

SEPARATOR = "__"
META_KEY = "meta"
SERIES_INDEX = {
    "ising": "sweep",
    "rbm": "history/epoch",
    "ising-scan": "temperature",
    "rg-flow": "temperature",
    "geometry": "epoch",
}
SPLIT_AXES = ("level",)


def npz_key(path: str) -> str:
    """The ``.npz`` entry of dataset ``path``: its '/' replaced by :data:`SEPARATOR`."""
    return path.replace("/", SEPARATOR)


def run_meta(run: RunRecord, session_path: str | Path | None = None) -> dict:
    """Everything about ``run`` except its arrays, as JSON-ready values."""
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "seed": run.seed,
        "params": run.params,
        "inputs": list(run.inputs),
        "created": run.created,
        "finished": run.finished,
        "message": run.message,
        "results": run.results,
        "dataset_attrs": run.dataset_attrs,
        "session": None if session_path is None else str(session_path),
    }


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def check_target(path: str | Path, session_path: str | Path | None) -> None:
    """ValueError if writing ``path`` would overwrite the session file ``session_path`` (the same
    name, a relative spelling of it, or a link to it): an export never changes the session."""
    if session_path is None:
        return
    same = os.path.realpath(path) == os.path.realpath(session_path)
    if not same and os.path.exists(path) and os.path.exists(session_path):
        same = os.path.samefile(path, session_path)
    if same:
        raise ValueError(
            f"{path} is the session file itself: exporting there would overwrite the session"
        )


def export_npz(run: RunRecord, path: str | Path, session_path: str | Path | None = None) -> Path:
    """Write every dataset of ``run`` and its ``meta`` JSON to ``path`` (compressed .npz).

    Raises ValueError if two datasets (or a dataset and ``meta``) would share an entry name or
    ``path`` is the session file (:func:`check_target`), OSError if the file cannot be written.
    Returns the path written (exactly ``path``: numpy's habit of appending ``.npz`` is avoided
    by writing to an open file).
    """
    check_target(path, session_path)
    arrays: dict[str, np.ndarray] = {}
    for name, array in run.datasets.items():
        key = npz_key(name)
        if key in arrays or key == META_KEY:
            raise ValueError(
                f"run '{run.id}': dataset '{name}' would be stored as '{key}', "
                "which is already taken"
            )
        arrays[key] = np.asarray(array)
    meta = json.dumps(run_meta(run, session_path), default=_json_default, allow_nan=True)
    arrays[META_KEY] = np.array(meta)
    path = Path(path)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def _first_axis(run: RunRecord, name: str) -> str | None:
    """The first label of a dataset's ``axes`` attribute (text or list), or None."""
    axes = run.dataset_attrs.get(name, {}).get("axes")
    if isinstance(axes, list):
        return str(axes[0]).strip() if axes else None
    if isinstance(axes, str) and axes.strip():
        return axes.split(",")[0].strip().strip("()").strip()
    return None


def _axis_labels(run: RunRecord, name: str) -> list[str]:
    axes = run.dataset_attrs.get(name, {}).get("axes")
    if isinstance(axes, list):
        return [str(a).strip() for a in axes]
    if isinstance(axes, str):
        return [a.strip().strip("()").strip() for a in axes.split(",")]
    return []


def _is_real(array: np.ndarray) -> bool:
    return array.dtype.kind in "biuf"


def _index_name(run: RunRecord) -> str | None:
    """The run's index dataset (rule 1 of the module docstring), or None without series."""
    name = SERIES_INDEX.get(run.kind)
    if name is not None and name in run.datasets:
        array = np.asarray(run.datasets[name])
        if array.ndim == 1 and _is_real(array):
            return name
    ones = [
        (n, a.size)
        for n, a in run.datasets.items()
        if np.asarray(a).ndim == 1 and _is_real(np.asarray(a)) and a.size > 0
    ]
    if not ones:
        return None
    counts = Counter(size for _, size in ones)
    best = max(counts, key=lambda size: (counts[size], size))
    return next(n for n, size in ones if size == best)


def _columns_of(run: RunRecord, name: str, array: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The CSV columns of one dataset already known to lie along the series axis."""
    if array.ndim == 1:
        return [(name, array)]
    if array.ndim != 2:
        return []
    labels = run.dataset_attrs.get(name, {}).get("columns")
    if isinstance(labels, list) and len(labels) == array.shape[1]:
        return [(f"{name}[{label}]", array[:, j]) for j, label in enumerate(labels)]
    axes = _axis_labels(run, name)
    if len(axes) == 2 and axes[1] in SPLIT_AXES:
        return [(f"{name}[{axes[1]} {j}]", array[:, j]) for j in range(array.shape[1])]
    return []


def time_series(run: RunRecord) -> tuple[list[str], list[np.ndarray]]:
    """(column names, columns) of the run's time series, by the module's rule.

    The columns are arrays of one length N (the index first); an empty list when the run has
    none. Column names are dataset paths, with ``[column]`` for the columns of a split 2-D one.
    """
    index = _index_name(run)
    if index is None:
        return [], []
    n = run.datasets[index].size
    axis = _first_axis(run, index)
    names: list[str] = []
    columns: list[np.ndarray] = []
    for name in [index, *(k for k in run.datasets if k != index)]:
        array = np.asarray(run.datasets[name])
        if array.ndim == 0 or array.shape[0] != n or not _is_real(array):
            continue
        other = _first_axis(run, name)
        if axis is not None and other is not None and other != axis:
            continue
        for column, values in _columns_of(run, name, array):
            names.append(column)
            columns.append(values)
    return names, columns


def column_header(run: RunRecord, column: str) -> str:
    """``column`` with its units in brackets when the dataset has a ``units`` attribute."""
    units = run.dataset_attrs.get(column.split("[")[0], {}).get("units")
    return f"{column} [{units}]" if isinstance(units, str) and units else column


def _cell(value: np.generic) -> str:
    if isinstance(value, np.bool_):
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return format(float(value), ".17g")


def export_csv(run: RunRecord, path: str | Path, session_path: str | Path | None = None) -> Path:
    """Write the run's time series to ``path`` as CSV (comment line, header with units, rows).

    Raises ValueError when the run has no time series or ``path`` is the session file
    (:func:`check_target`), OSError when the file cannot be written.
    """
    check_target(path, session_path)
    names, columns = time_series(run)
    if not names:
        raise ValueError(f"run '{run.id}' ({run.kind}) has no time series to write as CSV")
    session = "unsaved session" if session_path is None else str(session_path)
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        handle.write(f"# session={session}, run={run.id}, kind={run.kind}\n")
        writer = csv.writer(handle)
        writer.writerow([column_header(run, name) for name in names])
        for i in range(columns[0].size):
            writer.writerow([_cell(column[i]) for column in columns])
    return path
