"""Files written by earlier versions of ``data/`` still read exactly as they did.

``fixtures/schema1-session.h5`` (12 KiB) was written by ``save_session(schema1_session())`` with
the schema-1 writer of commit d75b88f, before runs had attribute groups. Adding groups did not
change the schema: such a file must load as the same record, every run with ``groups == {}``.
Extending the schema-1 file rewrites it whole at the current schema (same record, int8 spins in
the spin layout), and later extensions leave its runs byte for byte.

``fixtures/schema2-session.h5`` (38 KiB) was written by ``save_session(schema2_session())`` with
the schema-2 writer of commit 2ed046a (spins bit-packed), ``fixtures/recording1-ising.rec.h5``
(74 KiB) by the RunRecorder of that commit (recording version 1, spins bit-packed, abandoned
after two flushes, as a crash leaves it); the script is ``/work/scratch/data/
make_frozen_fixtures.py`` in the session that made them. Schema 3 reads both: spins come back
as the int8 ±1 frames they were, the RBM names fixed by schema 3 renamed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import (
    SCHEMA_VERSION,
    RunRecord,
    SessionFileError,
    SessionLock,
    SessionRecord,
    add_runs,
    fold_recordings,
    load_session,
    read_header,
    read_recording,
    read_run,
    recordings_dir,
    replace_runs,
)
from tests.data.sessions import assert_sessions_identical, make_run, stored_content

FIXTURE = Path(__file__).parent / "fixtures" / "schema1-session.h5"


def schema1_session() -> SessionRecord:
    """The record the fixture was written from (do not change: the file is frozen)."""
    ising = RunRecord(
        id="ising-001",
        kind="ising",
        status="finished",
        seed=42,
        params={
            "size": 4,
            "temperature": 2.269,
            "algorithm": "wolff",
            "record_spins": True,
            "sizes": [4, 8],
            "temperatures": [2.0, 2.5],
            "names": ["a", "β"],
            "nothing": [],
        },
        created="2026-11-22T14:00:00Z",
        finished="2026-11-22T14:05:00Z",
        datasets={
            "samples": (np.arange(3 * 4 * 4).reshape(3, 4, 4) % 2 * 2 - 1).astype(np.int8),
            "energy": np.array([-1.5, -1.25, -1.75]),
            "correlation/C": np.array([1.0, 0.5, 0.25], dtype=np.float32),
            "count": np.array(7, dtype=np.int32),
            "nothing_yet": np.zeros((0, 4), dtype=np.uint16),
        },
        dataset_attrs={"energy": {"units": "J per spin", "axes": "sample"}},
        results={"e": -1.5, "e_error": 0.125, "n_samples": 3, "converged": True},
    )
    rbm = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="stopped",
        seed=None,
        params={"hidden": 2},
        inputs=["ising-001"],
        created="2026-11-22T14:06:00Z",
        datasets={"checkpoints/W": np.array([[0.5, -0.5], [0.25, 1.0]])},
        message="stopped by the user",
    )
    return SessionRecord(
        runs={"ising-001": ising, "rbm-001": rbm},
        ui={"window_state": bytes(range(8)), "panels": '{"ising": {"label": "σ"}}'},
        log=["session created", "ünïcode ✓"],
        created="2026-11-22T13:59:00Z",
        app_version="0.1.0",
    )


def test_schema_1_file_reads_as_it_was_written():
    assert read_header(FIXTURE)["schema_version"] == 1
    loaded = load_session(FIXTURE)
    assert_sessions_identical(loaded, schema1_session())
    assert all(run.groups == {} for run in loaded.runs.values())
    for run_id, run in schema1_session().runs.items():
        assert read_run(FIXTURE, run_id) == run


def test_schema_1_file_is_upgraded_on_extension_then_extended_without_touching_runs(tmp_path):
    path = tmp_path / "S.h5"
    shutil.copyfile(FIXTURE, path)
    evaluated = schema1_session().runs["rbm-001"]
    evaluated.groups = {"evaluation": {"log_z": 12.3, "log_z_error": 0.01, "log_z_method": "ais"}}
    replace_runs(path, [evaluated], log=["evaluated"])  # rewrites the whole file at schema 3
    assert read_header(path)["schema_version"] == SCHEMA_VERSION == 3
    with h5py.File(path, "r") as f:
        samples = f["runs/ising-001/samples"]
        assert samples.dtype == np.int8 and samples.shape == (3, 4, 4)
        assert samples.scaleoffset == 0 and list(samples.attrs) == []
        np.testing.assert_array_equal(
            samples[()], schema1_session().runs["ising-001"].datasets["samples"]
        )
        ising_before = stored_content(f["runs/ising-001"])
    add_runs(path, [make_run(id="late", groups={"fit": {"chi2": 1.5}})])
    loaded = load_session(path)
    expected = schema1_session()
    expected.runs["rbm-001"] = evaluated
    expected.runs["late"] = make_run(id="late", groups={"fit": {"chi2": 1.5}})
    expected.log.append("evaluated")
    assert_sessions_identical(loaded, expected)
    with h5py.File(path, "r") as f:
        assert stored_content(f["runs/ising-001"]) == ising_before


def test_schema_1_dataset_with_a_now_reserved_attribute_is_refused(tmp_path):
    """Read as schema 2, a schema-1 ``spin_shape`` attribute would be taken for packing."""
    path = tmp_path / "S.h5"
    shutil.copyfile(FIXTURE, path)
    with h5py.File(path, "r+") as f:
        f["runs/ising-001/energy"].attrs["spin_shape"] = np.array([3])
    with pytest.raises(SessionFileError, match="could not be upgraded from schema 1 .*spin_shape"):
        load_session(path)


# ---------------------------------------------------------------------------- schema 2

SCHEMA2_FIXTURE = Path(__file__).parent / "fixtures" / "schema2-session.h5"
RECORDING1_FIXTURE = Path(__file__).parent / "fixtures" / "recording1-ising.rec.h5"


def spins(shape: tuple[int, ...], salt: int) -> np.ndarray:
    """Deterministic ±1 int8 spins of ``shape`` (a multiplicative hash of the index, no RNG)."""
    index = np.arange(int(np.prod(shape)), dtype=np.uint64) + np.uint64(salt)
    bits = (index * np.uint64(2654435761)) >> np.uint64(13) & np.uint64(1)
    return (2 * bits.astype(np.int8) - 1).reshape(shape)


def schema2_session() -> SessionRecord:
    """The record ``fixtures/schema2-session.h5`` was written from by the schema-2 writer (spins
    bit-packed); do not change: the file is frozen. It holds every kind of spin dataset the lab
    writes (Ising and RBM samples, RG levels, persistent chains and replicas, an empty series,
    frames whose spins do not fill whole bytes) and the RBM history names that schema 3 fixes."""
    ising = RunRecord(
        id="ising-001",
        kind="ising",
        status="finished",
        seed=7,
        params={
            "size": 8,
            "temperature": 2.269,
            "algorithm": "wolff",
            "thermalize": 100,
            "interval": 1,
            "record_spins": True,
        },
        created="2026-11-22T14:00:00Z",
        finished="2026-11-22T14:05:00Z",
        datasets={
            "samples": spins((12, 8, 8), 1),
            "energy": np.linspace(-1.6, -1.2, 12),
            "magnetization": np.linspace(-0.5, 0.5, 12),
            "sweep": np.arange(12, dtype=np.int64),
        },
        dataset_attrs={
            "samples": {"units": "spin (±1)", "axes": "sample, row, column"},
            "energy": {"units": "J per spin", "axes": "sample"},
        },
        results={"e": -1.4, "e_error": 0.02, "n_samples": 12},
    )
    history = {
        "epoch": np.arange(4.0),
        "nll_train": np.array([0.9, 0.8, 0.75, 0.7]),
        "reconstruction_error": np.array([0.4, 0.3, 0.25, 0.2]),
    }
    rbm = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="finished",
        seed=3,
        params={"n_hidden": 4, "size": 4, "n_visible": 16, "trainer_meta": '{"epoch": 3}'},
        inputs=["ising-001"],
        created="2026-11-22T14:06:00Z",
        finished="2026-11-22T14:07:00Z",
        datasets={
            "W": np.arange(64, dtype=np.float32).reshape(16, 4) / 64,
            "a": np.zeros(16, dtype=np.float32),
            "b": np.ones(4, dtype=np.float32),
            "checkpoints/epoch": np.array([0, 3]),
            "checkpoints/W": np.zeros((2, 16, 4), dtype=np.float32),
            "checkpoints/a": np.zeros((2, 16), dtype=np.float32),
            "checkpoints/b": np.zeros((2, 4), dtype=np.float32),
            **{f"history/{name}": values for name, values in history.items()},
            "trainer/chains": spins((5, 16), 2),
            "trainer/chain_hidden": (spins((5, 4), 3) > 0).astype(np.int8),  # 0/1: not spins
            "trainer/replicas": spins((2, 5, 16), 4),
        },
        dataset_attrs={
            "checkpoints/epoch": {"units": "epochs", "axes": "checkpoint"},
            "history/epoch": {"units": "dimensionless", "axes": "epoch"},
            "history/nll_train": {"units": "nats per configuration", "axes": "epoch"},
            "history/reconstruction_error": {"units": "dimensionless", "axes": "epoch"},
        },
        results={"nll_train": 0.7, "reconstruction_error": 0.2, "epochs_done": 3},
    )
    samples = RunRecord(
        id="rbm-samples-001",
        kind="rbm-samples",
        status="finished",
        seed=5,
        params={"size": 3, "samples": 4},
        inputs=["rbm-001"],
        datasets={
            "samples": spins((4, 3, 3), 5),
            "energy": np.zeros(4),
            "magnetization": np.zeros(4),
        },
        dataset_attrs={"samples": {"units": "spin (±1)", "axes": "sample, row, column"}},
    )
    rg = RunRecord(
        id="rg-001",
        kind="rg",
        status="finished",
        seed=0,
        params={
            "rule": "majority",
            "block": 2,
            "levels": 2,
            "size": 8,
            "data": "ising-001",
            "mode": "coarse-grain",
        },
        inputs=["ising-001"],
        datasets={
            "level_1/samples": spins((12, 4, 4), 6),
            "level_1/r": np.array([2.0, 4.0]),
            "level_1/C": np.array([0.5, 0.1]),
            "level_1/C_error": np.array([0.01, 0.01]),
            "level_2/samples": spins((12, 2, 2), 7),
            "level_2/r": np.array([4.0]),
            "level_2/C": np.array([0.2]),
            "level_2/C_error": np.array([0.02]),
            "size": np.array([4.0, 2.0]),
            "e": np.array([-1.0, -0.5]),
            "e_error": np.array([0.1, 0.1]),
        },
    )
    empty = RunRecord(
        id="ising-002",
        kind="ising",
        status="interrupted",
        seed=8,
        params={"size": 5, "record_spins": True},
        datasets={
            "samples": np.zeros((0, 5, 5), dtype=np.int8),
            "energy": np.zeros(0),
            "magnetization": np.zeros(0),
            "sweep": np.zeros(0, dtype=np.int64),
        },
    )
    return SessionRecord(
        runs={run.id: run for run in (ising, rbm, samples, rg, empty)},
        ui={"panels": '{"ising": {"label": "σ"}}'},
        log=["session created"],
        created="2026-11-22T13:59:00Z",
        app_version="0.2.0",
    )


def recording1_rows() -> dict[str, np.ndarray]:
    """The rows committed in ``fixtures/recording1-ising.rec.h5`` (frozen)."""
    return {"energy": np.linspace(-1.5, -1.0, 6), "samples": spins((6, 5, 5), 9)}


def schema2_as_schema3() -> SessionRecord:
    """What ``fixtures/schema2-session.h5`` reads as: :func:`schema2_session` with the RBM's
    ``reconstruction_error`` (history and result) renamed ``reconstruction_mismatch`` in place,
    and the units of ``history/epoch`` ``epochs``."""
    record = schema2_session()
    rbm = record.runs["rbm-001"]

    def renamed(values: dict) -> dict:
        return {
            key.replace("reconstruction_error", "reconstruction_mismatch"): value
            for key, value in values.items()
        }

    rbm.datasets, rbm.dataset_attrs = renamed(rbm.datasets), renamed(rbm.dataset_attrs)
    rbm.results = renamed(rbm.results)
    rbm.dataset_attrs["history/epoch"]["units"] = "epochs"
    return record


def test_schema_2_file_opens_with_int8_spins_and_the_fixed_names(tmp_path):
    before = SCHEMA2_FIXTURE.read_bytes()
    assert read_header(SCHEMA2_FIXTURE)["schema_version"] == 2
    loaded = load_session(SCHEMA2_FIXTURE)
    assert_sessions_identical(loaded, schema2_as_schema3())
    for run_id, run in schema2_as_schema3().runs.items():
        assert read_run(SCHEMA2_FIXTURE, run_id) == run
    assert list(loaded.runs["rbm-001"].datasets)[7:10] == [
        "history/epoch",
        "history/nll_train",
        "history/reconstruction_mismatch",
    ]
    assert loaded.runs["ising-001"].datasets["samples"].dtype == np.int8
    assert loaded.runs["ising-002"].datasets["samples"].shape == (0, 5, 5)
    assert SCHEMA2_FIXTURE.read_bytes() == before  # opening never writes


def test_schema_2_file_is_rewritten_at_schema_3_on_the_next_save(tmp_path):
    path = tmp_path / "S.h5"
    shutil.copyfile(SCHEMA2_FIXTURE, path)
    add_runs(path, [make_run(id="late")], log=["late run"])
    assert read_header(path)["schema_version"] == SCHEMA_VERSION == 3
    expected = schema2_as_schema3()
    expected.runs["late"] = make_run(id="late")
    expected.log.append("late run")
    assert_sessions_identical(load_session(path), expected)
    marks = []
    with h5py.File(path, "r") as f:  # plain h5py: spins as they are, no packing left
        f.visititems(
            lambda name, node: marks.extend(
                name for attr in ("spin_encoding", "spin_shape") if attr in node.attrs
            )
        )
        assert marks == []
        samples = f["runs/ising-001/samples"]
        assert samples.dtype == np.int8 and samples.shape == (12, 8, 8)
        np.testing.assert_array_equal(samples[()], spins((12, 8, 8), 1))
        assert f["runs/rbm-001/trainer/replicas"].shape == (2, 5, 16)
        assert f["runs/rbm-001/history/epoch"].attrs["units"].decode() == "epochs"
        assert "reconstruction_mismatch" in f["runs/rbm-001/results"].attrs
        assert "reconstruction_error" not in f["runs/rbm-001/history"]


def test_schema_2_migration_keeps_a_clash_and_adds_missing_epoch_units(tmp_path):
    """An RBM that already has the new name keeps both series; ``history/epoch`` without
    units gets them."""
    path = tmp_path / "S.h5"
    shutil.copyfile(SCHEMA2_FIXTURE, path)
    with h5py.File(path, "r+") as f:
        f["runs/rbm-001/history"].create_dataset("reconstruction_mismatch", data=np.ones(4))
        del f["runs/rbm-001/history/epoch"].attrs["units"]
    rbm = load_session(path).runs["rbm-001"]
    assert {"history/reconstruction_error", "history/reconstruction_mismatch"} <= set(rbm.datasets)
    assert rbm.dataset_attrs["history/epoch"] == {"axes": "epoch", "units": "epochs"}
    ising = load_session(path).runs["ising-001"]  # other kinds are never renamed
    assert ising == schema2_session().runs["ising-001"]


def test_recording_of_version_1_reads_and_folds_as_int8(tmp_path):
    """A recording left by a crash of the schema-2 version (spins bit-packed) is still folded."""
    directory = recordings_dir(tmp_path / "S.h5")
    directory.mkdir()
    leftover = directory / RECORDING1_FIXTURE.name
    shutil.copyfile(RECORDING1_FIXTURE, leftover)
    run = read_recording(leftover)
    assert run.status == "interrupted"
    for name, rows in recording1_rows().items():  # the two flushes, not the unflushed row
        np.testing.assert_array_equal(run.datasets[name], rows)
    assert run.datasets["samples"].dtype == np.int8
    np.testing.assert_array_equal(run.datasets["resume/spins"], spins((5, 5), 10))
    with SessionLock(tmp_path / "S.h5"):
        assert fold_recordings(tmp_path / "S.h5").folded == ["ising-009"]
    with h5py.File(tmp_path / "S.h5", "r") as f:
        samples = f["runs/ising-009/samples"]
        assert samples.dtype == np.int8 and samples.shape == (6, 5, 5)
        np.testing.assert_array_equal(samples[()], recording1_rows()["samples"])
