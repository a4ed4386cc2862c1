"""Bit-packed ±1 spins: exact round trips, the plain-numpy unpacking, what is not packed."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from data import RunRecord, SessionFileError, SessionRecord, load_session, save_session
from data.spin_codec import is_spin_array, pack_spins, packed_width, unpack_spins


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=9),
       seed=st.integers(0, 2**32 - 1))
def test_pack_then_unpack_is_exact(shape, seed):
    frames = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)
    packed = pack_spins(frames)
    assert packed.dtype == np.uint8 and packed.shape == (shape[0], packed_width(shape[1:]))
    assert packed_width(shape[1:]) == -(-int(np.prod(shape[1:])) // 8)
    unpacked = unpack_spins(packed, shape[1:])
    assert unpacked.dtype == np.int8
    np.testing.assert_array_equal(unpacked, frames)


def test_bit_order_is_documented_msb_first():
    frame = np.array([[[1, -1, -1, -1, -1, -1, -1, 1, 1]]], dtype=np.int8)  # 9 spins
    np.testing.assert_array_equal(pack_spins(frame), [[0b10000001, 0b10000000]])


def test_sessions_store_spins_packed_and_plain_numpy_unpacks_them(tmp_path):
    rng = np.random.default_rng(5)
    spins = rng.choice(np.array([-1, 1], np.int8), size=(30, 6, 5))
    others = {
        "almost": np.where(spins == 1, 1, 0).astype(np.int8),  # 0/1: not spins
        "one_axis": np.ones(8, np.int8),  # a frame axis is needed
        "wide": spins.astype(np.int16),  # not int8
        "none": np.zeros((0, 6, 5), np.int8),  # empty: packed as (0, 4)
    }
    run = RunRecord(id="r", kind="ising", status="finished", seed=1, params={},
                    datasets={"samples": spins, **others},
                    dataset_attrs={"samples": {"units": "spin (±1)"}})
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs={"r": run}), path)
    assert load_session(path).runs["r"] == run
    with h5py.File(path, "r") as f:
        d = f["runs/r/samples"]
        assert d.dtype == np.uint8 and d.shape == (30, 4)
        assert list(d.attrs) == ["spin_encoding", "spin_shape", "units"]
        # the two lines of docs/session-format.md
        s = np.unpackbits(d[()], axis=1, count=int(np.prod(d.attrs["spin_shape"])))
        s = (2 * s.astype(np.int8) - 1).reshape(-1, *d.attrs["spin_shape"])
        np.testing.assert_array_equal(s, spins)
        for name in ("almost", "one_axis", "wide"):
            assert "spin_encoding" not in f[f"runs/r/{name}"].attrs
        assert f["runs/r/none"].shape == (0, 4)
    assert not is_spin_array(np.ones((3, 0), np.int8))


def test_the_marking_attributes_are_reserved():
    run = RunRecord(id="r", kind="k", status="finished", seed=1, params={},
                    datasets={"x": np.zeros(3)}, dataset_attrs={"x": {"spin_shape": [3]}})
    with pytest.raises(ValueError, match="'spin_shape' is reserved"):
        save_session(SessionRecord(runs={"r": run}), "unused.h5")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.attrs.__setitem__("spin_encoding", b"zip"), "spin_encoding is 'zip'"),
    (lambda d: d.attrs.__setitem__("spin_shape", np.array([6, 6])), "do not match spin_shape"),
    (lambda d: d.attrs.__setitem__("spin_shape", np.array([-6, 5])), "do not match spin_shape"),
    (lambda d: d.attrs.__delitem__("spin_encoding"), "spin_encoding is None"),
])
def test_inconsistent_marks_are_invalid_data(tmp_path, edit, message):
    spins = np.ones((4, 6, 5), np.int8)
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs={"r": RunRecord(id="r", kind="k", status="finished", seed=1,
                                                     params={}, datasets={"s": spins})}), path)
    with h5py.File(path, "r+") as f:
        edit(f["runs/r/s"])
    with pytest.raises(SessionFileError, match=f"holds invalid data .*{message}"):
        load_session(path)
