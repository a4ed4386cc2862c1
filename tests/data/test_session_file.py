"""The session file: exact round trips, layout, atomic writes, clear errors, migrations."""

from __future__ import annotations

import os
import pickle
import random
import stat
import subprocess
import sys

import h5py
import numpy as np
import pytest

import data.atomic
import data.writer
from data import (
    FORMAT,
    SCHEMA_VERSION,
    RunRecord,
    SessionFileError,
    SessionRecord,
    add_runs,
    check_writable,
    load_session,
    migrations,
    read_header,
    read_run_ids,
    save_session,
)
from data.values import MAX_VALUE_BYTES

# ---------------------------------------------------------------------------- fixtures


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
        for name in ("params", "results", "dataset_attrs", "inputs", "seed", "finished"):
            assert_same_types(getattr(other, name), getattr(run, name), f"{run_id}.{name}")
        assert_same_types(other.datasets, run.datasets, f"{run_id}.datasets")
    assert_same_types(loaded.ui, original.ui, "ui")
    assert_same_types(loaded.log, original.log, "log")


def temp_leftovers(directory) -> list[str]:
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


@pytest.fixture
def saved(tmp_path):
    """A full session saved to S.h5; returns (path, record)."""
    path = tmp_path / "S.h5"
    record = full_session()
    save_session(record, path)
    return path, record


# ---------------------------------------------------------------------------- round trips


def test_round_trip_is_exact(saved):
    path, record = saved
    assert_sessions_identical(load_session(path), record)


def test_round_trip_through_str_path_and_twice(tmp_path, saved):
    path, record = saved
    again = tmp_path / "again.h5"
    save_session(load_session(str(path)), str(again))
    assert_sessions_identical(load_session(again), record)


def test_empty_session_round_trip(tmp_path):
    path = tmp_path / "empty.h5"
    save_session(SessionRecord(), path)
    loaded = load_session(path)
    assert loaded == SessionRecord()
    assert read_header(path) == {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "created": "", "app_version": "",
    }


def test_numpy_inputs_read_back_as_python_types(tmp_path):
    run = RunRecord(
        id="r", kind="ising", status="finished", seed=np.int64(3),
        params={"n": np.int32(5), "x": np.float32(0.5), "on": np.bool_(True),
                "grid": np.array([1, 2, 3]), "names": np.array(["a", "b"]), "mixed": [1, 2.5]},
        results={"e": np.float64(-1.25)},
    )
    path = tmp_path / "np.h5"
    save_session(SessionRecord(runs={"r": run}), path)
    loaded = load_session(path).runs["r"]
    expected = {"n": 5, "x": 0.5, "on": True, "grid": [1, 2, 3], "names": ["a", "b"],
                "mixed": [1.0, 2.5]}  # a list mixing ints and floats is stored as floats
    assert_same_types(loaded.params, expected, "params")
    assert_same_types(loaded.results, {"e": -1.25}, "results")
    assert_same_types(loaded.seed, 3, "seed")


def test_many_parameters_keep_values_and_order(tmp_path):
    # More than 8 attributes switches HDF5 to dense attribute storage; order must survive it.
    params = {f"p{i:03d}": (i if i % 3 else f"v{i}") for i in range(300, 0, -1)}
    run = RunRecord(id="many", kind="ising", status="stopped", seed=1, params=params)
    path = tmp_path / "many.h5"
    save_session(SessionRecord(runs={"many": run}), path)
    assert_same_types(load_session(path).runs["many"].params, params, "params")


def test_parameter_at_the_size_limit_is_stored(tmp_path):
    run = RunRecord(
        id="r", kind="k", status="finished", seed=None,
        params={"text": "é" * (MAX_VALUE_BYTES // 2), "numbers": [0.5] * (MAX_VALUE_BYTES // 8)},
    )
    path = tmp_path / "limit.h5"
    save_session(SessionRecord(runs={"r": run}), path)
    assert load_session(path).runs["r"] == run


def test_run_records_compare_arrays_by_dtype_shape_and_value():
    def run(array):
        return RunRecord(id="r", kind="k", status="finished", seed=None, params={},
                         datasets={"x": array})

    assert run(np.array([1.0, np.nan])) == run(np.array([1.0, np.nan]))
    assert run(np.array([1.0, 2.0])) != run(np.array([1.0, 2.5]))
    assert run(np.array([1.0, 2.0])) != run(np.array([1.0, 2.0], dtype=np.float32))
    assert run(np.zeros((2, 3))) != run(np.zeros((3, 2)))


# ---------------------------------------------------------------------------- layout


def test_layout_is_plain_hdf5(saved):
    path, _ = saved
    with h5py.File(path, "r") as f:
        assert f.id.get_create_plist().get_version()[0] >= 3  # 1.10 format: checksummed superblock
        assert f.attrs["format"].decode() == FORMAT
        assert f.attrs["schema_version"] == SCHEMA_VERSION
        assert list(f["runs"]) == ["ising-001", "rbm-001", "geometry_2.b"]
        ising = f["runs/ising-001"]
        assert ising.attrs["kind"].decode() == "ising"
        assert ising.attrs["status"].decode() == "finished"
        assert ising.attrs["seed"] == 42
        assert ising.attrs["size"] == 8
        assert ising.attrs["temperature"] == 2.269185314213022
        assert ising.attrs["record_spins"].dtype == np.bool_
        assert "finished" in ising.attrs
        assert ising["results"].attrs["e"] == -1.41
        assert ising["samples"].attrs["units"].decode() == "spin (±1)"
        assert list(f["runs/rbm-001/checkpoints"]) == ["W", "a", "b", "epoch"]
        rbm = f["runs/rbm-001"]
        assert rbm.attrs["seed"] == -1
        assert "finished" not in rbm.attrs
        assert [s.decode() for s in f["runs/geometry_2.b"].attrs["inputs"]] == [
            "rbm-001", "ising-001",
        ]
        assert f["ui/window_state"].dtype == np.uint8
        assert f["ui/panels"].asstr()[()].startswith('{"ising"')
        assert list(f["log"].asstr()[()]) == full_session().log


def test_datasets_are_chunked_checksummed_and_resizable(saved):
    path, _ = saved
    with h5py.File(path, "r") as f:
        samples = f["runs/ising-001/samples"]
        assert samples.chunks is not None and samples.fletcher32
        assert samples.maxshape == (None, 8, 8)
        assert samples.compression == "gzip" and samples.shuffle
        energy = f["runs/ising-001/energy"]
        assert energy.maxshape == (None,) and energy.compression is None
        assert f["runs/ising-001/empty_matrix"].maxshape == (None, None)
        assert f["runs/ising-001/count"].shape == ()
        assert f["log"].maxshape == (None,)


def test_no_variable_length_data_anywhere(saved):
    # Variable-length data lives in HDF5's global heap, whose parser can hang on damaged files.
    path, _ = saved
    found = []

    def check(name, obj):
        for key in obj.attrs:
            if h5py.check_vlen_dtype(obj.attrs.get_id(key).dtype) is not None:
                found.append(f"{name}@{key}")
        if isinstance(obj, h5py.Dataset) and h5py.check_vlen_dtype(obj.dtype) is not None:
            found.append(name)
        if isinstance(obj, h5py.Dataset) and h5py.check_string_dtype(obj.dtype) is not None:
            assert h5py.check_string_dtype(obj.dtype).length is not None, name

    with h5py.File(path, "r") as f:
        check("/", f)
        f.visititems(check)
    assert found == []


def test_a_recording_can_be_appended_in_place(saved):
    path, record = saved
    with h5py.File(path, "r+") as f:
        energy = f["runs/ising-001/energy"]
        energy.resize((25,))
        energy[20:] = np.arange(5.0)
        nothing = f["runs/ising-001/nothing_yet"]
        nothing.resize((2, 8, 8))
        nothing[:] = 1
    loaded = load_session(path).runs["ising-001"]
    expected = np.concatenate([record.runs["ising-001"].datasets["energy"], np.arange(5.0)])
    np.testing.assert_array_equal(loaded.datasets["energy"], expected)
    assert loaded.datasets["nothing_yet"].shape == (2, 8, 8)


def test_int8_samples_are_compressed(tmp_path):
    spins = np.ones((200, 32, 32), dtype=np.int8)
    spins[:, ::2, :] = -1
    run = RunRecord(id="r", kind="ising", status="finished", seed=1, params={},
                    datasets={"samples": spins})
    path = tmp_path / "spins.h5"
    save_session(SessionRecord(runs={"r": run}), path)
    with h5py.File(path, "r") as f:
        assert f["runs/r/samples"].id.get_storage_size() < spins.nbytes / 10


# ---------------------------------------------------------------------------- invalid records


def _run(**changes) -> RunRecord:
    fields = {"id": "r-1", "kind": "ising", "status": "finished", "seed": 1, "params": {}}
    fields.update(changes)
    return RunRecord(**fields)


INVALID_RUNS = {
    "slash in id": _run(id="a/b"),
    "empty id": _run(id=""),
    "dot id": _run(id="."),
    "non-ascii id": _run(id="résumé"),
    "unknown status": _run(status="done"),
    "empty kind": _run(kind=""),
    "negative seed": _run(seed=-1),
    "huge seed": _run(seed=2**63),
    "bool seed": _run(seed=True),
    "reserved parameter": _run(params={"seed": 1}),
    "reserved parameter kind": _run(params={"kind": "x"}),
    "bad parameter name": _run(params={"T (K)": 1.0}),
    "too large parameter": _run(params={"text": "x" * (MAX_VALUE_BYTES + 1)}),
    "too large list": _run(params={"numbers": [1.0] * (MAX_VALUE_BYTES // 8 + 1)}),
    "list of bools": _run(params={"flags": [True, False]}),
    "text and numbers": _run(params={"mix": ["a", 1]}),
    "dict parameter": _run(params={"nested": {"a": 1}}),
    "none parameter": _run(params={"nothing": None}),
    "nul in text": _run(params={"s": "a\x00b"}),
    "lone surrogate": _run(params={"s": "\udc80"}),
    "int beyond 64 bits": _run(params={"n": 2**63}),
    "2-D array parameter": _run(params={"m": np.eye(2)}),
    "bad input id": _run(inputs=["no/such"]),
    "object dataset": _run(datasets={"x": np.array(["a"], dtype=object)}),
    "text dataset": _run(datasets={"x": np.array(["a"])}),
    "list dataset": _run(datasets={"x": [1, 2]}),
    "dataset in results": _run(datasets={"results/x": np.zeros(2)}),
    "dataset and group": _run(datasets={"a": np.zeros(2), "a/b": np.zeros(2)}),
    "empty path component": _run(datasets={"a//b": np.zeros(2)}),
    "attrs of missing dataset": _run(dataset_attrs={"x": {"units": "J"}}),
    "too large dataset attr": _run(datasets={"x": np.zeros(1)},
                                   dataset_attrs={"x": {"description": "d" * 40000}}),
    "nul in message": _run(message="a\x00"),
    "finished not text": _run(finished=3),
}


@pytest.mark.parametrize("case", list(INVALID_RUNS))
def test_invalid_runs_are_refused_before_writing(tmp_path, case):
    path = tmp_path / "S.h5"
    with pytest.raises(ValueError, match=r"run"):
        save_session(SessionRecord(runs={INVALID_RUNS[case].id: INVALID_RUNS[case]}), path)
    with pytest.raises(ValueError):
        add_runs(path, [INVALID_RUNS[case]])
    assert os.listdir(tmp_path) == []


def test_too_large_parameter_message_points_to_datasets(tmp_path):
    with pytest.raises(ValueError, match=r"parameter 'text' is 40000 bytes.*dataset"):
        save_session(SessionRecord(runs={"r-1": _run(params={"text": "x" * 40000})}),
                     tmp_path / "S.h5")


@pytest.mark.parametrize(
    "record",
    [
        SessionRecord(runs={"other": _run()}),
        SessionRecord(ui={"bad key": b""}),
        SessionRecord(ui={"state": 3}),
        SessionRecord(log=["fine", 3]),
        SessionRecord(log="not a list"),
        SessionRecord(created=None),
    ],
    ids=["key differs from id", "ui key", "ui value", "log line", "log type", "created"],
)
def test_invalid_sessions_are_refused(tmp_path, record):
    with pytest.raises(ValueError):
        save_session(record, tmp_path / "S.h5")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------- atomic writes


class BoomError(Exception):
    pass


def fail_on_call(monkeypatch, n: int, exc: BaseException | None = None) -> None:
    """Make the ``n``-th h5py dataset creation raise ``exc`` (data half written)."""
    exc = exc if exc is not None else BoomError("disk on fire")
    original = h5py.Group.create_dataset
    calls = {"count": 0}

    def create_dataset(self, *args, **kwargs):
        calls["count"] += 1
        if calls["count"] == n:
            raise exc
        return original(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", create_dataset)


@pytest.mark.parametrize("n", [1, 5, 16])
def test_failed_save_leaves_old_file_byte_identical(saved, monkeypatch, n):
    path, _ = saved
    before = path.read_bytes()
    replacement = full_session()
    replacement.log.append("this save will fail")
    fail_on_call(monkeypatch, n)
    expected = r"S\.h5 could not be saved \(BoomError: disk on fire\)"
    with pytest.raises(SessionFileError, match=expected):
        save_session(replacement, path)
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_interrupted_save_leaves_old_file_and_no_temp(saved, monkeypatch):
    path, _ = saved
    before = path.read_bytes()
    fail_on_call(monkeypatch, 3, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save_session(full_session(), path)
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_failed_rename_leaves_old_file_and_no_temp(saved, monkeypatch):
    path, _ = saved
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SessionFileError, match="No space left on device"):
        save_session(full_session(), path)
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    fail_on_call(monkeypatch, 2)
    with pytest.raises(SessionFileError):
        save_session(full_session(), tmp_path / "new.h5")
    assert os.listdir(tmp_path) == []


def test_save_keeps_permissions_and_symlinks(saved, tmp_path):
    path, record = saved
    path.chmod(0o640)
    link = tmp_path / "link.h5"
    link.symlink_to(path.name)
    record.log.append("saved through a link")
    save_session(record, link)
    assert link.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load_session(path).log[-1] == "saved through a link"


# ---------------------------------------------------------------------------- add_runs


def test_add_runs_creates_a_new_session(tmp_path):
    path = tmp_path / "new.h5"
    run = full_session().runs["ising-001"]
    add_runs(path, [run], log=["first line"])
    loaded = load_session(path)
    assert loaded.runs == {"ising-001": run}
    assert loaded.log == ["first line"]
    header = read_header(path)
    assert header["created"].endswith("Z") and len(header["created"]) == 20
    assert header["app_version"]


def test_add_runs_appends_and_keeps_everything(saved):
    path, record = saved
    new = [_run(id="ising-002", params={"size": 4}), _run(id="ising-003", inputs=["ising-002"])]
    long_line = "x" * 1000  # wider than the log's current fixed width: the log is rewritten
    add_runs(path, new, log=["added two", long_line])
    loaded = load_session(path)
    assert list(loaded.runs) == [*record.runs, "ising-002", "ising-003"]
    for run_id, run in record.runs.items():
        assert loaded.runs[run_id] == run
    assert loaded.runs["ising-002"] == new[0]
    assert loaded.log == [*record.log, "added two", long_line]
    assert loaded.ui == record.ui
    add_runs(path, [_run(id="ising-004")], log=["short"])
    assert load_session(path).log[-3:] == ["added two", long_line, "short"]
    assert read_run_ids(path) == [*record.runs, "ising-002", "ising-003", "ising-004"]


def test_add_runs_refuses_duplicates_and_leaves_file_unchanged(saved):
    path, _ = saved
    before = path.read_bytes()
    with pytest.raises(ValueError, match="ising-001.*already exists"):
        add_runs(path, [_run(id="ising-001")])
    with pytest.raises(ValueError, match="more than once"):
        add_runs(path, [_run(id="x"), _run(id="x")])
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


@pytest.mark.parametrize("n", [1, 2])
def test_failed_add_runs_leaves_old_file_byte_identical(saved, monkeypatch, n):
    path, _ = saved
    before = path.read_bytes()
    new = _run(id="new", datasets={"a": np.zeros(3), "b": np.ones(3)})
    fail_on_call(monkeypatch, n)
    with pytest.raises(SessionFileError, match="could not be updated"):
        add_runs(path, [new], log=["never written"])
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_add_runs_to_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    before = path.read_bytes()
    with pytest.raises(SessionFileError, match="not a Monge Lab session"):
        add_runs(path, [_run()])
    assert path.read_bytes() == before


# ---------------------------------------------------------------------------- check_writable


def test_check_writable_accepts_new_and_session_paths(saved, tmp_path):
    path, _ = saved
    check_writable(path)
    check_writable(tmp_path / "does-not-exist-yet.h5")
    assert temp_leftovers(tmp_path) == []


def test_check_writable_refuses_bad_targets(tmp_path):
    (tmp_path / "plain.txt").write_text("hello")
    (tmp_path / "folder").mkdir()
    cases = {
        tmp_path / "missing" / "S.h5": "directory .* does not exist",
        tmp_path / "plain.txt" / "S.h5": "is not a directory",
        tmp_path / "plain.txt": "not an HDF5 file",
        tmp_path / "folder": "is a directory",
    }
    for path, pattern in cases.items():
        with pytest.raises(SessionFileError, match=pattern):
            check_writable(path)


def test_check_writable_refuses_newer_schema(tmp_path):
    path = tmp_path / "future.h5"
    save_session(SessionRecord(), path)
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 2
    with pytest.raises(SessionFileError, match="newer Monge Lab"):
        check_writable(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permission bits do not bind root (or non-POSIX systems)")
def test_check_writable_refuses_read_only_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(SessionFileError, match="permission denied"):
            check_writable(locked / "S.h5")
    finally:
        locked.chmod(0o700)


def test_permission_problems_are_reported_clearly(tmp_path, monkeypatch):
    # Permission bits do not bind root, so the refusal is simulated where the file is created.
    def refuse(target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(data.atomic, "new_temp_file", refuse)
    monkeypatch.setattr(data.writer, "new_temp_file", refuse)
    with pytest.raises(SessionFileError, match=r"cannot be written \(permission denied in"):
        check_writable(tmp_path / "S.h5")
    with pytest.raises(SessionFileError, match=r"could not be saved \(permission denied in"):
        save_session(SessionRecord(), tmp_path / "S.h5")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------- clear errors


def _hdf5_file(path, attrs: dict) -> None:
    with h5py.File(path, "w") as f:
        for key, value in attrs.items():
            f.attrs[key] = value
        f.create_group("runs")


def bad_files(tmp_path, saved_bytes: bytes) -> dict:
    """name → (path, expected message fragment)."""
    cases = {}

    def make(name, content: bytes | None, fragment):
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        cases[name] = (path, fragment)
        return path

    make("missing.h5", None, "does not exist")
    make("empty.h5", b"", r"is empty \(0 bytes\)")
    make("notes.txt", b"just some text\nover lines\n", "is not an HDF5 file")
    _hdf5_file(make("noformat.h5", None, r"not a Monge Lab session \(no 'format' attribute\)"),
               {})
    _hdf5_file(make("other.h5", None, "format is 'netcdf', expected 'monge-lab-session'"),
               {"format": "netcdf", "schema_version": 1})
    _hdf5_file(make("numeric.h5", None, "format is 3"), {"format": 3})
    _hdf5_file(make("newer.h5", None,
                    r"written by a newer Monge Lab \(schema 3; this version reads up to 1\)"),
               {"format": FORMAT, "schema_version": 3})
    _hdf5_file(make("noversion.h5", None, "no 'schema_version'"), {"format": FORMAT})
    _hdf5_file(make("textversion.h5", None, "schema_version is '1'"),
               {"format": FORMAT, "schema_version": "1"})
    _hdf5_file(make("noui.h5", None, r"damaged \(no /ui group\)"),
               {"format": FORMAT, "schema_version": 1})
    for fraction in (0.02, 0.3, 0.6, 0.95):
        cut = int(len(saved_bytes) * fraction)
        make(f"cut{cut}.h5", saved_bytes[:cut], "damaged or truncated")
    return cases


def test_bad_files_give_one_clear_line(saved, tmp_path):
    path, _ = saved
    cases = bad_files(tmp_path, path.read_bytes())
    (tmp_path / "dir.h5").mkdir()
    cases["dir.h5"] = (tmp_path / "dir.h5", "is a directory")
    for name, (bad, fragment) in cases.items():
        with pytest.raises(SessionFileError, match=fragment) as info:
            load_session(bad)
        message = str(info.value)
        assert "\n" not in message and message.startswith(str(bad)), name
        assert len(message) < len(str(bad)) + 250, name


@pytest.mark.skipif(os.environ.get("HDF5_USE_FILE_LOCKING", "").upper() == "FALSE",
                    reason="HDF5 file locking is switched off in this environment")
def test_a_file_locked_by_another_writer_is_reported_as_such(saved):
    path, _ = saved
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, h5py; f = h5py.File(sys.argv[1], 'r+'); print('held', flush=True); "
         "sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SessionFileError, match="open for writing in another program"):
            load_session(path)
    finally:
        holder.communicate("", timeout=60)


def test_saving_onto_a_directory_is_refused(tmp_path):
    (tmp_path / "folder.h5").mkdir()
    with pytest.raises(SessionFileError, match="is a directory"):
        save_session(SessionRecord(), tmp_path / "folder.h5")


def test_read_header_checks_format_but_reports_newer_schema(saved, tmp_path):
    path, record = saved
    assert read_header(path) == {
        "format": FORMAT, "schema_version": 1, "created": record.created,
        "app_version": record.app_version,
    }
    future = tmp_path / "future.h5"
    _hdf5_file(future, {"format": FORMAT, "schema_version": 7})
    assert read_header(future)["schema_version"] == 7
    with pytest.raises(SessionFileError, match="newer"):
        read_run_ids(future)
    _hdf5_file(tmp_path / "noformat.h5", {})
    with pytest.raises(SessionFileError, match="no 'format'"):
        read_header(tmp_path / "noformat.h5")


@pytest.mark.parametrize("seed", range(12))
def test_random_byte_corruption_gives_record_or_session_file_error(saved, tmp_path, seed):
    path, _ = saved
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 20)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    damaged = tmp_path / f"damaged{seed}.h5"
    damaged.write_bytes(bytes(data))
    try:
        record = load_session(damaged)
    except SessionFileError as exc:
        assert "\n" not in str(exc)
    else:
        save_session(record, tmp_path / "resaved.h5")  # what loads is always a valid record
        assert load_session(tmp_path / "resaved.h5") == record


def test_corrupted_checksummed_data_is_detected(saved, tmp_path):
    path, _ = saved
    with h5py.File(path, "r") as f:
        offset = f["runs/ising-001/energy"].id.get_chunk_info(0).byte_offset
    data = bytearray(path.read_bytes())
    data[offset + 3] ^= 0xFF
    damaged = tmp_path / "flipped.h5"
    damaged.write_bytes(bytes(data))
    with pytest.raises(SessionFileError, match="damaged"):
        load_session(damaged)


def test_soft_links_are_refused(saved):
    path, _ = saved
    with h5py.File(path, "r+") as f:
        f["runs/ising-001/alias"] = h5py.SoftLink("/runs/rbm-001")
    with pytest.raises(SessionFileError, match="unsupported SoftLink"):
        load_session(path)


def test_implausible_dataset_size_is_refused(saved):
    # A sparse dataset claiming 8 GB with one chunk written: reading it would exhaust memory.
    path, _ = saved
    with h5py.File(path, "r+") as f:
        sparse = f.create_dataset("runs/rbm-001/sparse", shape=(10**9,), dtype="f8",
                                  chunks=(1024,))
        sparse[0] = 1.0
    with pytest.raises(SessionFileError, match=r"sparse claims 8000000000 bytes but the file"):
        load_session(path)


def test_session_file_error_pickles():
    error = SessionFileError("S.h5", "is damaged\n(two lines)")
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) == "S.h5 is damaged (two lines)"
    assert copy.path == "S.h5"


# ---------------------------------------------------------------------------- migrations


def _write_schema_0(path, record: SessionRecord) -> None:
    """A made-up schema 0: run kind stored as 'type', the log under /history."""
    save_session(record, path)
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = 0
        for group in f["runs"].values():
            group.attrs["type"] = group.attrs["kind"]
            del group.attrs["kind"]
        f.move("log", "history")


def _migrate_0_to_1(f: h5py.File) -> None:
    for group in f["runs"].values():
        group.attrs["kind"] = group.attrs["type"]
        del group.attrs["type"]
    f.move("history", "log")


def test_older_schema_is_migrated_on_load_without_touching_the_file(tmp_path, monkeypatch):
    path = tmp_path / "old.h5"
    record = full_session()
    _write_schema_0(path, record)
    before = path.read_bytes()
    with pytest.raises(SessionFileError, match=r"uses schema 0.*no upgrade from schema 0"):
        load_session(path)
    monkeypatch.setitem(migrations.MIGRATIONS, 0, _migrate_0_to_1)
    loaded = load_session(path)
    assert_sessions_identical(loaded, record)
    assert path.read_bytes() == before
    assert read_run_ids(path) == list(record.runs)


def test_failing_migration_is_a_session_file_error(tmp_path, monkeypatch):
    path = tmp_path / "old.h5"
    _write_schema_0(path, full_session())

    def broken(f: h5py.File) -> None:
        raise KeyError("no such thing")

    monkeypatch.setitem(migrations.MIGRATIONS, 0, broken)
    with pytest.raises(SessionFileError, match="could not be upgraded from schema 0"):
        load_session(path)


def test_add_runs_upgrades_an_older_file(tmp_path, monkeypatch):
    path = tmp_path / "old.h5"
    record = full_session()
    _write_schema_0(path, record)
    monkeypatch.setitem(migrations.MIGRATIONS, 0, _migrate_0_to_1)
    add_runs(path, [_run(id="late")], log=["late run"])
    assert read_header(path)["schema_version"] == SCHEMA_VERSION
    loaded = load_session(path)
    assert list(loaded.runs) == [*record.runs, "late"]
    assert loaded.log == [*record.log, "late run"]
