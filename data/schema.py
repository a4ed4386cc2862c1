"""What a session file is: format name, schema version, layout names, and the rules a record obeys.

The writer validates a record with :func:`validate_session` before it touches the disk, so a
record that cannot be stored is refused with a ValueError naming the offending run and field; the
reader applies the same rules to what it reads, so every record it returns can be saved again.
See ``docs/session-format.md`` for the layout these names describe.
"""

from __future__ import annotations

import os
import re

import numpy as np

from data.records import RUN_STATUSES, RunRecord, SessionRecord
from data.spin_codec import ENCODING_ATTR, SHAPE_ATTR
from data.structure import check_structure
from data.values import check_text, normalize

FORMAT = "monge-lab-session"
"""Value of the root attribute ``format`` that marks a Monge Lab session file."""

SCHEMA_VERSION = 3
"""The layout this version writes, and the newest it can read.

1: the first schema. 2: ±1 spin datasets are stored bit-packed, and the dataset attributes
``spin_encoding`` and ``spin_shape`` are reserved for that. 3: spin datasets are int8 of their
own shape again, compressed by HDF5's scale-offset and deflate filters (:mod:`data.spin_codec`);
the two attribute names stay reserved; the RBM history ``reconstruction_error`` is called
``reconstruction_mismatch`` (``_error`` is the suffix of error bars), and ``history/epoch`` has
the units ``epochs`` (see :mod:`data.migrations`)."""

RUNS, UI, LOG, RESULTS = "runs", "ui", "log", "results"
"""Group and dataset names: ``/runs``, ``/ui``, ``/log``, and each run's ``results`` subgroup."""

RESERVED_RUN_ATTRS = ("kind", "status", "seed", "inputs", "created", "finished", "message")
"""Run-group attributes that are record fields; every other attribute is a parameter."""

RESERVED_DATASET_ATTRS = (ENCODING_ATTR, SHAPE_ATTR)
"""Dataset attributes that described how schema-2 data was stored (packed spins): reserved, so
that no dataset of a newer file can be taken for packed spins by an older reader."""

LIBVER = ("v110", "v110")
"""HDF5 file-format bounds: the HDF5 1.10 format, readable by any HDF5 ≥ 1.10 (2016).

Its metadata is checksummed throughout (superblock v3, v2 object headers, and chunk indexes
that are extensible arrays or v2 B-trees rather than the unchecksummed v1 B-trees of older
formats). With Fletcher-32 on the data, no single-bit flip changed what loads without an
error (6000 random flips over two test sessions; with the 1.8 format, 8 of 3000 did)."""

NO_SEED = -1
"""Stored value of ``seed`` for a run without a seed (seeds are never negative)."""

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
"""Run ids, dataset path components, ui keys and attribute names."""

MAX_REASON_CHARS = 160
"""Longest library reason quoted in a SessionFileError message."""

MAX_COMPRESSION_RATIO = 1100
"""gzip cannot expand data by more than ~1032:1; a compressed dataset claiming more is damaged.
(With scale-offset first, a chunk of equal int8 values keeps 1 bit of each and deflate then
shrinks those zeros ~1000:1 more, ~4000:1 in all; so the reader bounds a dataset with that
filter by its allocated chunks instead.)"""

DATASET_KINDS = "biufc"
"""numpy dtype kinds a run dataset may have: bool, signed, unsigned, float, complex."""


class SessionFileError(Exception):
    """A session file that cannot be read or written; ``str()`` is one line naming the file.

    ``path`` is the file as the caller named it, ``problem`` the rest of the sentence, e.g.
    ``"is not a Monge Lab session (no 'format' attribute)"``.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = os.fsdecode(path)
        self.problem = " ".join(problem.split())
        super().__init__(self.path, self.problem)

    def __str__(self) -> str:
        return " ".join(f"{self.path} {self.problem}".splitlines())


def short_reason(exc: BaseException, *, library: str | None = "HDF5") -> str:
    """One short line describing ``exc`` for an error message.

    h5py wraps the HDF5 reason in parentheses ("Unable to synchronously open file (truncated
    file: eof = 96, ...)"); only the part inside is kept. While reading, OSError, KeyError and
    RuntimeError come from the HDF5 library and are labelled ``library``; other exceptions (and
    all of them when ``library`` is None) are labelled by their type name.
    """
    keyed = isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str)
    text = exc.args[0] if keyed else str(exc)  # str(KeyError) adds quotes
    text = " ".join(text.split())
    if text.endswith(")") and "(" in text:
        text = text[text.index("(") + 1 : -1]
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    from_library = isinstance(exc, OSError | KeyError | RuntimeError)
    label = library if library is not None and from_library else type(exc).__name__
    return f"{label}: {text}" if text else label


def check_name(name: object, what: str) -> None:
    """ValueError unless ``name`` matches :data:`NAME_PATTERN` (and is not ``.`` or ``..``)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name in (".", ".."):
        raise ValueError(
            f"{what} {name!r} is not a valid name (use letters, digits, '_', '.', '-')"
        )


def validate_run(run: RunRecord) -> None:
    """ValueError, naming the run and field, unless ``run`` can be stored as it is: the format's
    rules, then the dtypes and shapes its kind's datasets must have (:mod:`data.structure`)."""
    if not isinstance(run, RunRecord):
        raise ValueError(f"expected a RunRecord, got {type(run).__name__}")
    check_name(run.id, "run id")
    where = f"run {run.id}"
    for name in ("kind", "created", "message"):
        check_text(getattr(run, name), f"{where}: {name}")
    if not run.kind:
        raise ValueError(f"{where}: kind must not be empty")
    if run.status not in RUN_STATUSES:
        raise ValueError(f"{where}: status {run.status!r} is not one of {', '.join(RUN_STATUSES)}")
    if run.finished is not None:
        check_text(run.finished, f"{where}: finished")
    _check_seed(run.seed, where)
    if not isinstance(run.inputs, list):
        raise ValueError(f"{where}: inputs must be a list of run ids")
    for source in run.inputs:
        check_name(source, f"{where}: input")
    _check_values(run.params, f"{where}: parameter")
    for name in run.params:
        if name in RESERVED_RUN_ATTRS:
            raise ValueError(
                f"{where}: parameter {name!r} clashes with the reserved run attribute of that "
                f"name (use the RunRecord field instead)"
            )
    _check_values(run.results, f"{where}: result")
    _check_datasets(run, where)
    _check_groups(run, where)
    check_structure(run.kind, run.id, run.params, run.datasets)


def _check_seed(seed: object, where: str) -> None:
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"{where}: seed must be an int or None, not {type(seed).__name__}")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"{where}: seed {seed} is outside 0 ≤ seed < 2**63")


def _check_values(values: object, what: str) -> None:
    if not isinstance(values, dict):
        raise ValueError(f"{what}s must be a dict")
    for name, value in values.items():
        check_name(name, what)
        normalize(value, f"{what} {name!r}")


def _check_datasets(run: RunRecord, where: str) -> None:
    if not isinstance(run.datasets, dict) or not isinstance(run.dataset_attrs, dict):
        raise ValueError(f"{where}: datasets and dataset_attrs must be dicts")
    for key, array in run.datasets.items():
        _check_dataset_path(key, where)
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{where}: dataset {key!r} must be a numpy array")
        if array.dtype.kind not in DATASET_KINDS:
            raise ValueError(
                f"{where}: dataset {key!r} has dtype {array.dtype}; only numeric and boolean "
                "arrays can be stored"
            )
    keys = set(run.datasets)
    for key in keys:
        parts = key.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in keys:
                raise ValueError(f"{where}: dataset {prefix!r} is also used as a group by {key!r}")
    for key, attrs in run.dataset_attrs.items():
        if key not in keys:
            raise ValueError(f"{where}: dataset_attrs names {key!r}, which is not a dataset")
        _check_values(attrs, f"{where}: dataset {key!r} attribute")
        for name in RESERVED_DATASET_ATTRS:
            if name in attrs:
                raise ValueError(
                    f"{where}: dataset {key!r} attribute {name!r} is reserved (it marked "
                    "bit-packed spins in schema 2)"
                )


def _check_dataset_path(key: object, where: str, what: str = "dataset path") -> None:
    """ValueError unless ``key`` is a relative path of valid names that avoids ``results``."""
    if not isinstance(key, str):
        raise ValueError(f"{where}: {what} {key!r} must be text")
    for part in key.split("/"):
        check_name(part, f"{where}: {what} {key!r} component")
    if key.split("/")[0] == RESULTS:
        raise ValueError(
            f"{where}: {what} {key!r} uses the name 'results', reserved for the run's results group"
        )


def _check_groups(run: RunRecord, where: str) -> None:
    """ValueError unless ``run.groups`` can be stored as attribute-only subgroups of the run.

    A group may not be a dataset, the folder of a dataset, or lie inside a dataset. Groups may
    nest (``evaluation`` and ``evaluation/data-ising-001``), but a group without attributes may
    not contain another group: in the file it would be indistinguishable from the folder that
    the inner group's path creates anyway, and would not read back.
    """
    if not isinstance(run.groups, dict):
        raise ValueError(f"{where}: groups must be a dict")
    datasets = set(run.datasets)
    folders = {_parent(key, i) for key in datasets for i in range(1, key.count("/") + 1)}
    for key, attrs in run.groups.items():
        _check_dataset_path(key, where, "group")
        _check_values(attrs, f"{where}: group {key!r} attribute")
        if key in datasets:
            raise ValueError(f"{where}: {key!r} is both a dataset and a group")
        if key in folders:
            inner = next(path for path in run.datasets if path.startswith(f"{key}/"))
            raise ValueError(
                f"{where}: group {key!r} is also the folder of dataset {inner!r} (a group holds "
                "only attributes)"
            )
        for i in range(1, key.count("/") + 1):
            outer = _parent(key, i)
            if outer in datasets:
                raise ValueError(f"{where}: dataset {outer!r} is also used as a group by {key!r}")
            outer_values = run.groups.get(outer)
            if isinstance(outer_values, dict) and not outer_values:
                raise ValueError(
                    f"{where}: group {outer!r} has no attributes but contains group {key!r}; "
                    "leave it out (the folder is created anyway) or give it attributes"
                )


def _parent(key: str, depth: int) -> str:
    """The first ``depth`` components of the relative path ``key``."""
    return "/".join(key.split("/")[:depth])


def validate_session(record: SessionRecord) -> None:
    """ValueError unless the whole session can be stored as it is."""
    if not isinstance(record, SessionRecord):
        raise ValueError(f"expected a SessionRecord, got {type(record).__name__}")
    check_text(record.created, "session created")
    check_text(record.app_version, "session app_version")
    if not isinstance(record.runs, dict) or not isinstance(record.ui, dict):
        raise ValueError("the session's runs and ui must be dicts")
    for key, run in record.runs.items():
        validate_run(run)
        if key != run.id:
            raise ValueError(f"run {run.id} is stored under the different key {key!r}")
    for key, value in record.ui.items():
        check_name(key, "ui key")
        if isinstance(value, str):
            check_text(value, f"ui {key!r}")
        elif not isinstance(value, bytes | bytearray):
            raise ValueError(f"ui {key!r} must be bytes or text, not {type(value).__name__}")
    check_log(record.log)


def check_log(log: object) -> None:
    """ValueError unless ``log`` is a list of storable text lines."""
    if not isinstance(log, list):
        raise ValueError("the log must be a list of text lines")
    for i, line in enumerate(log):
        check_text(line, f"log line {i}")
