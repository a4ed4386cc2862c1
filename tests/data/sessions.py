"""Shared helpers of the session-file tests: a full session, exact comparisons, fault injection.

``full_session`` exercises every kind of value, array, group and text the format stores;
``stored_content`` describes what HDF5 stores for an object tree (types, attributes, layouts,
filters and the stored chunk bytes), so tests can check that content was left byte for byte.
"""

from __future__ import annotations

import os
from unittest import mock

import h5py
import numpy as np

from data import RunRecord, SessionRecord, save_session


def full_session() -> SessionRecord:
    """A session exercising every kind of value, array and text the format stores."""
    rng = np.random.default_rng(12345)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(20, 8, 8))
    ising = RunRecord(
        id="ising-001",
        kind="ising",
        status="finished",
        seed=42,
        params={
            "size": 8,
            "temperature": 2.269185314213022,
            "algorithm": "wolff",
            "record_spins": True,
            "quiet": False,
            "offset": -(2**63),
            "big": 2**63 - 1,
            "tiny": 5e-324,
            "infinite": float("inf"),
            "empty_text": "",
            "unicode": "β·J = ½ ∮ 🙂",
            "sizes": [8, 16, 32],
            "temperatures": [2.0, 2.269, 2.5],
            "names": ["metropolis", "wolff", "ʃ"],
            "nothing": [],
            "thermalize": 1000,
            "interval": 10,
        },
        created="2026-11-22T14:00:00Z",
        finished="2026-11-22T14:05:00Z",
        datasets={
            "samples": spins,
            "energy": rng.normal(-1.4, 0.05, size=20),
            "magnetization": rng.normal(0.0, 0.3, size=20).astype(np.float32),
            "sweep": np.arange(0, 200, 10, dtype=np.int64),
            "correlation/r": np.arange(5, dtype=np.float64),
            "correlation/C": np.exp(-np.arange(5) / 2.0),
            "nothing_yet": np.zeros((0, 8, 8), dtype=np.int8),
            "empty_matrix": np.zeros((0, 0)),
            "flags": np.array([True, False, True]),
            "count": np.array(7, dtype=np.int32),
            "spectrum": np.array([1 + 2j, -0.5j]),
            "unsigned": np.arange(4, dtype=np.uint16),
            "nan_series": np.array([np.nan, 1.0, np.nan]),
        },
        dataset_attrs={
            "samples": {"units": "spin (±1)", "axes": "sample, row, column"},
            "energy": {"units": "J per spin", "axes": "sample", "description": "H/N"},
            "correlation/C": {"units": "dimensionless", "axes": ["distance"]},
        },
        results={"e": -1.41, "e_error": 0.012, "n_samples": 20, "converged": True},
        groups={
            "correlation/fit": {"xi": 1.25, "xi_error": 0.05, "model": "exp(-r/ξ)"},
            "marker": {},
        },
    )
    rbm = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="running",
        seed=None,
        params={"hidden": 16, "learning_rate": 0.01, "cd_k": 1},
        inputs=["ising-001"],
        created="2026-11-22T14:06:00Z",
        datasets={
            "checkpoints/W": rng.normal(size=(3, 64, 16)).astype(np.float32),
            "checkpoints/a": rng.normal(size=(3, 64)),
            "checkpoints/b": rng.normal(size=(3, 16)),
            "checkpoints/epoch": np.array([0, 10, 20]),
        },
        dataset_attrs={"checkpoints/epoch": {"units": "epochs", "axes": "checkpoint"}},
        groups={  # in the order they read back: a depth-first walk in creation order
            "checkpoints/schedule": {"epochs": [0, 10, 20], "note": "β-annealing"},
            "evaluation": {"log_z": 12.3, "log_z_error": 0.01, "log_z_method": "ais"},
            "evaluation/data-ising-001": {"nll": 0.71, "nll_error": float("nan"), "n": 20},
            "evaluation/data-ising-001/by-epoch": {"nll": [0.9, 0.8, 0.71]},
            "deep/a/b": {"flag": False, "names": ["x", "y"], "nothing": []},
            "empty": {},
        },
    )
    failed = RunRecord(
        id="geometry_2.b",
        kind="geometry",
        status="failed",
        seed=0,
        params={},
        inputs=["rbm-001", "ising-001"],
        message="LinAlgError: matrix is singular\n(line two of the message)",
    )
    return SessionRecord(
        runs={run.id: run for run in (ising, rbm, failed)},
        ui={
            "window_state": bytes(range(256)) + b"\x00\x00",
            "window_geometry": b"",
            "panels": '{"ising": {"colormap": "grey", "label": "σ"}}',
        },
        log=["2026-11-22T14:00:00Z  session created", "ünïcödé ✓ 漢字 🙂", "", "two\nlines"],
        created="2026-11-22T13:59:00Z",
        app_version="0.1.0",
    )


def assert_same_types(a: object, b: object, where: str = "") -> None:
    """Equal *and* of the same Python types all the way down (True is not 1, 1.0 is not 1)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same_types(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_types(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def assert_sessions_identical(loaded: SessionRecord, original: SessionRecord) -> None:
    assert loaded == original
    assert list(loaded.runs) == list(original.runs)
    for run_id, run in original.runs.items():
        other = loaded.runs[run_id]
        for name in ("params", "results", "dataset_attrs", "groups", "inputs", "seed", "finished"):
            assert_same_types(getattr(other, name), getattr(run, name), f"{run_id}.{name}")
        assert_same_types(other.datasets, run.datasets, f"{run_id}.datasets")
    assert_same_types(loaded.ui, original.ui, "ui")
    assert_same_types(loaded.log, original.log, "log")


def temp_leftovers(directory) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


def make_run(**changes) -> RunRecord:
    """A small valid run ``r-1``, with the given fields changed."""
    fields = {"id": "r-1", "kind": "ising", "status": "finished", "seed": 1, "params": {}}
    fields.update(changes)
    return RunRecord(**fields)


class BoomError(Exception):
    pass


def fail_on_call(
    monkeypatch, n: int, exc: BaseException | None = None, method: str = "create_dataset"
) -> None:
    """Make the ``n``-th call of ``h5py.Group.<method>`` raise ``exc`` (data half written).

    ``create_dataset`` fails while a run is written, ``copy`` while objects are copied.
    """
    exc = exc if exc is not None else BoomError("disk on fire")
    original = getattr(h5py.Group, method)
    calls = {"count": 0}

    def failing(self, *args, **kwargs):
        calls["count"] += 1
        if calls["count"] == n:
            raise exc
        return original(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, method, failing)


def write_schema_0(path, record: SessionRecord) -> None:
    """A made-up schema 0: run kind stored as 'type', the log under /history (spins in the
    plain one-byte layout of schema 1)."""
    with mock.patch("data.writer.is_spin_array", lambda array: False):
        save_session(record, path)
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = 0
        for group in f["runs"].values():
            group.attrs["type"] = group.attrs["kind"]
            del group.attrs["kind"]
        f.move("log", "history")


def migrate_0_to_1(f: h5py.File) -> None:
    for group in f["runs"].values():
        group.attrs["kind"] = group.attrs["type"]
        del group.attrs["type"]
    f.move("history", "log")


def stored_content(node: h5py.Group | h5py.Dataset) -> list:
    """What HDF5 stores for ``node`` and everything below it, as comparable values.

    For every object (depth first, members in their stored order): its relative name, its
    attributes in order with their serialized HDF5 type and raw value bytes, and for a dataset
    its serialized type, shape, maximum shape, chunk shape, filters, and the stored bytes of
    each chunk (still compressed and checksummed) or of its contiguous data.
    """
    out: list = []

    def describe(name: str, obj: h5py.Group | h5py.Dataset) -> None:
        attrs = []
        for key in obj.attrs:
            attr = obj.attrs.get_id(key)
            value = np.empty(attr.shape, dtype=attr.dtype)
            attr.read(value)
            attrs.append((key, attr.get_type().encode(), attr.shape, value.tobytes()))
        out.append((name, type(obj).__name__, attrs))
        if isinstance(obj, h5py.Group):
            for key in obj:
                describe(f"{name}/{key}", obj[key])
            return
        dcpl = obj.id.get_create_plist()
        filters = [dcpl.get_filter(i)[:3] for i in range(dcpl.get_nfilters())]
        if obj.chunks is None:
            data = [obj[()].tobytes()]
        else:
            infos = [obj.id.get_chunk_info(i) for i in range(obj.id.get_num_chunks())]
            data = [(i.chunk_offset, obj.id.read_direct_chunk(i.chunk_offset)) for i in infos]
        out.append((obj.id.get_type().encode(), obj.shape, obj.maxshape, obj.chunks, filters, data))

    describe("", node)
    return out
