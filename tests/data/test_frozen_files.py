"""Files written by earlier versions of ``data/`` still read exactly as they did.

``fixtures/schema1-session.h5`` (12 KiB) was written by ``save_session(schema1_session())`` with
the schema-1 writer of commit d75b88f, before runs had attribute groups. Adding groups did not
change the schema: such a file must load as the same record, every run with ``groups == {}``.
Schema 2 stores ±1 spins bit-packed: extending the schema-1 file rewrites it whole at schema 2
(same record, packed spins), and later extensions leave its runs byte for byte.
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
    SessionRecord,
    add_runs,
    load_session,
    read_header,
    read_run,
    replace_runs,
)
from tests.data.sessions import assert_sessions_identical, make_run, stored_content

FIXTURE = Path(__file__).parent / "fixtures" / "schema1-session.h5"


def schema1_session() -> SessionRecord:
    """The record the fixture was written from (do not change: the file is frozen)."""
    ising = RunRecord(
        id="ising-001", kind="ising", status="finished", seed=42,
        params={"size": 4, "temperature": 2.269, "algorithm": "wolff", "record_spins": True,
                "sizes": [4, 8], "temperatures": [2.0, 2.5], "names": ["a", "β"], "nothing": []},
        created="2026-11-22T14:00:00Z", finished="2026-11-22T14:05:00Z",
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
        id="rbm-001", kind="rbm", status="stopped", seed=None,
        params={"hidden": 2}, inputs=["ising-001"], created="2026-11-22T14:06:00Z",
        datasets={"checkpoints/W": np.array([[0.5, -0.5], [0.25, 1.0]])},
        message="stopped by the user",
    )
    return SessionRecord(
        runs={"ising-001": ising, "rbm-001": rbm},
        ui={"window_state": bytes(range(8)), "panels": '{"ising": {"label": "σ"}}'},
        log=["session created", "ünïcode ✓"], created="2026-11-22T13:59:00Z",
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
    replace_runs(path, [evaluated], log=["evaluated"])  # rewrites the whole file at schema 2
    assert read_header(path)["schema_version"] == SCHEMA_VERSION == 2
    with h5py.File(path, "r") as f:
        samples = f["runs/ising-001/samples"]
        assert samples.dtype == np.uint8 and samples.shape == (3, 2)  # 16 spins = 2 bytes
        assert samples.attrs["spin_encoding"].decode() == "packbits"
        assert list(samples.attrs["spin_shape"]) == [4, 4]
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
