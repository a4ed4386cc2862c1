"""The writer recognizes spin arrays a block of frames at a time (no temporary of the array's
size, issue 14): the answer must be the whole-array check's for every array, wherever in the
array a value other than ±1 sits."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import data.writer as writer
from data import RunRecord, SessionRecord, load_session, save_session
from data.spin_codec import is_spin_array
from tests.data.test_spin_codec import SPIN_FILTERS, filters


def _arrays():
    rng = np.random.default_rng(0)
    spins = np.where(rng.random((11, 4, 5)) < 0.5, 1, -1).astype(np.int8)
    yield spins
    for frame, value in ((0, 0), (5, 2), (10, -128), (10, 127)):
        bad = spins.copy()
        bad[frame, 3, 4] = value
        yield bad
    yield spins[::3]  # a strided view
    yield spins.astype(np.int16)
    yield spins[:, 0, 0]  # one axis
    yield np.zeros((0, 4, 5), dtype=np.int8)
    yield np.zeros((3, 0), dtype=np.int8)


@pytest.mark.parametrize("check_bytes", [1, 20, 40, 60, 1 << 24])
def test_the_blockwise_check_agrees_with_the_whole_array_check(monkeypatch, check_bytes):
    monkeypatch.setattr(writer, "SPIN_CHECK_BYTES", check_bytes)  # 20 bytes: one frame a block
    for array in _arrays():
        assert writer._is_spin_array(array) == is_spin_array(array), array.shape


def test_a_bad_value_in_the_last_block_stores_the_array_as_it_is(tmp_path, monkeypatch):
    """Frames checked two at a time: a 0 in the last frame must still keep the array out of
    the spin codec, and both arrays read back exactly."""
    monkeypatch.setattr(writer, "SPIN_CHECK_BYTES", 40)
    rng = np.random.default_rng(1)
    spins = np.where(rng.random((9, 4, 4)) < 0.5, 1, -1).astype(np.int8)
    bad = spins.reshape(9, 16)[:, :9].copy()
    bad[-1, -1] = 0
    runs = {
        "ising-001": RunRecord(
            id="ising-001",
            kind="ising",
            status="finished",
            seed=1,
            params={"size": 4},
            datasets={"samples": spins},
        ),
        "rbm-001": RunRecord(
            id="rbm-001",
            kind="rbm",
            status="stopped",
            seed=3,
            params={},
            datasets={
                "W": np.zeros((9, 2)),
                "a": np.zeros(9),
                "b": np.zeros(2),
                "trainer/chains": bad,
            },
        ),
    }
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs=runs), path)
    back = load_session(path).runs
    np.testing.assert_array_equal(back["ising-001"].datasets["samples"], spins)
    np.testing.assert_array_equal(back["rbm-001"].datasets["trainer/chains"], bad)
    with h5py.File(path, "r") as f:
        assert filters(f["runs/ising-001/samples"]) == SPIN_FILTERS
        assert filters(f["runs/rbm-001/trainer/chains"]) != SPIN_FILTERS
