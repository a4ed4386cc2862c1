"""±1 spins: stored as int8 of their own shape, read by plain h5py; the schema-2 decoding.

The "plain h5py" tests read the files with h5py and numpy only (no Monge Lab code), as a user
following docs/session-format.md would, and recompute energy and magnetization from the spins.
"""

from __future__ import annotations

import io
import shutil
import zlib

import h5py
import numpy as np
import pytest
from h5py import h5z
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from data import RunRecord, SessionFileError, SessionRecord, load_session, save_session
from data.spin_codec import (
    DEFAULT,
    HUFFMAN,
    RLE,
    decode_packed,
    direct_chunks_match,
    encode_spin_chunk,
    fletcher32,
    is_spin_array,
    packed_width,
    scale_offset,
    spin_layout,
    unpack_spins,
    write_spin_chunks,
)
from tests.data.test_frozen_files import SCHEMA2_FIXTURE

SPIN_FILTERS = [h5z.FILTER_SCALEOFFSET, h5z.FILTER_DEFLATE, h5z.FILTER_FLETCHER32]


def lattice_energy(frames: np.ndarray) -> np.ndarray:
    """Energy per spin of (N, L, L) ±1 frames, J = 1, periodic boundaries (test reference)."""
    s = frames.astype(np.int64)
    bonds = s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)
    return -bonds.sum(axis=(1, 2)) / (s.shape[1] * s.shape[2])


def magnetization(frames: np.ndarray) -> np.ndarray:
    return frames.reshape(len(frames), -1).mean(axis=1, dtype=np.float64)


def filters(dataset: h5py.Dataset) -> list[int]:
    dcpl = dataset.id.get_create_plist()
    return [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]


def spin_runs(rng: np.random.Generator) -> list[RunRecord]:
    """One run of every kind that stores spins, with energy and magnetization where the kind
    has them (computed by the test's reference from the spins)."""
    ordered = np.ones((30, 6, 6), np.int8)
    ordered[::3, 0, :] = -1  # mostly uniform chunks: scale-offset needs 0 or 2 bits
    frames = {
        "ising": rng.choice(np.array([-1, 1], np.int8), size=(40, 8, 8)),
        "rbm-samples": ordered,
        "level_1": rng.choice(np.array([-1, 1], np.int8), size=(40, 4, 4)),
        "level_2": np.ones((40, 2, 2), np.int8),
    }
    series = {
        name: {"energy": lattice_energy(f), "magnetization": magnetization(f)}
        for name, f in frames.items()
    }
    return [
        RunRecord(
            id="ising-001",
            kind="ising",
            status="finished",
            seed=1,
            params={"size": 8},
            datasets={"samples": frames["ising"], **series["ising"], "sweep": np.arange(40)},
            dataset_attrs={"samples": {"units": "spin (±1)", "axes": "sample, row, column"}},
        ),
        RunRecord(
            id="rbm-samples-001",
            kind="rbm-samples",
            status="finished",
            seed=2,
            params={"size": 6},
            datasets={"samples": frames["rbm-samples"], **series["rbm-samples"]},
        ),
        RunRecord(
            id="rg-001",
            kind="rg",
            status="finished",
            seed=0,
            params={"block": 2},
            datasets={
                "level_1/samples": frames["level_1"],
                "level_2/samples": frames["level_2"],
                "e": np.array(
                    [series["level_1"]["energy"].mean(), series["level_2"]["energy"].mean()]
                ),
            },
        ),
        RunRecord(
            id="rbm-001",
            kind="rbm",
            status="stopped",
            seed=3,
            params={},
            datasets={
                "W": np.zeros((9, 2)),
                "a": np.zeros(9),
                "b": np.zeros(2),
                "trainer/chains": rng.choice(np.array([-1, 1], np.int8), (5, 9)),
                "trainer/replicas": rng.choice(np.array([-1, 1], np.int8), (3, 5, 9)),
            },
        ),
    ]


def test_plain_h5py_reads_every_kind_of_spin_dataset_as_int8_and_recomputes(tmp_path):
    runs = spin_runs(np.random.default_rng(5))
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs={run.id: run for run in runs}), path)
    assert list(load_session(path).runs.values()) == runs
    with h5py.File(path, "r") as f:  # from here on: h5py and numpy only
        for run_id, name, shape in [
            ("ising-001", "samples", (40, 8, 8)),
            ("rbm-samples-001", "samples", (30, 6, 6)),
            ("rg-001", "level_1/samples", (40, 4, 4)),
            ("rg-001", "level_2/samples", (40, 2, 2)),
            ("rbm-001", "trainer/chains", (5, 9)),
            ("rbm-001", "trainer/replicas", (3, 5, 9)),
        ]:
            d = f[f"runs/{run_id}/{name}"]
            s = d[()]
            assert d.dtype == np.int8 and s.dtype == np.int8 and s.shape == shape, name
            assert set(np.unique(s)) <= {-1, 1}, name
            assert filters(d) == SPIN_FILTERS and d.chunks[1:] == shape[1:], name
            assert "spin_encoding" not in d.attrs and "spin_shape" not in d.attrs
            run = f[f"runs/{run_id}"]
            if "energy" in run:
                np.testing.assert_allclose(lattice_energy(s), run["energy"][()])
                np.testing.assert_allclose(magnetization(s), run["magnetization"][()])
        rg = f["runs/rg-001"]
        e = [lattice_energy(rg[f"level_{k}/samples"][()]).mean() for k in (1, 2)]
        np.testing.assert_allclose(e, rg["e"][()])
        assert f["runs/ising-001/samples"].attrs["units"].decode() == "spin (±1)"
        # a slice reads only its chunks: the first frame, as (L, L) int8
        first = f["runs/ising-001/samples"][0]
        assert first.dtype == np.int8 and first.shape == (8, 8)


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=9),
    seed=st.integers(0, 2**32 - 1),
    uniform=st.booleans(),
)
def test_spin_arrays_round_trip_exactly(tmp_path_factory, shape, seed, uniform):
    frames = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)
    if uniform:  # whole chunks of one value: scale-offset keeps 1 bit per spin
        frames[:] = frames.flat[0]
    path = tmp_path_factory.mktemp("spins") / "S.h5"
    run = RunRecord(id="r", kind="k", status="finished", seed=1, params={}, datasets={"s": frames})
    save_session(SessionRecord(runs={"r": run}), path)
    assert load_session(path).runs["r"] == run
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["runs/r/s"][()], frames)
        assert f["runs/r/s"].dtype == np.int8


def test_a_long_uniform_recording_is_not_taken_for_damage(tmp_path):
    """Scale-offset keeps 1 bit of equal spins, deflate shrinks those: 8000 frames of 64×64
    all +1 take 7.6 KiB for 33 MB of spins (4200:1), beyond gzip's ~1000:1; the reader's bound
    allows it."""
    frames = np.ones((8000, 64, 64), np.int8)
    run = RunRecord(
        id="r",
        kind="ising",
        status="finished",
        seed=1,
        params={"size": 64},
        datasets={"samples": frames},
    )
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs={"r": run}), path)
    with h5py.File(path, "r") as f:
        stored = f["runs/r/samples"].id.get_storage_size()
    assert stored * 1100 < frames.nbytes
    np.testing.assert_array_equal(load_session(path).runs["r"].datasets["samples"], frames)


def test_what_is_not_spins_keeps_the_plain_layout(tmp_path):
    rng = np.random.default_rng(5)
    spins = rng.choice(np.array([-1, 1], np.int8), size=(30, 6, 5))
    others = {
        "almost": np.where(spins == 1, 1, 0).astype(np.int8),  # 0/1: not spins
        "one_axis": np.ones(8, np.int8),  # a frame axis is needed
        "wide": spins.astype(np.int16),  # not int8
    }
    run = RunRecord(
        id="r",
        kind="k",
        status="finished",
        seed=1,
        params={},
        datasets={"samples": spins, "none": np.zeros((0, 6, 5), np.int8), **others},
    )
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs={"r": run}), path)
    assert load_session(path).runs["r"] == run
    with h5py.File(path, "r") as f:
        assert filters(f["runs/r/samples"]) == SPIN_FILTERS
        assert f["runs/r/none"].shape == (0, 6, 5) and f["runs/r/none"].dtype == np.int8
        for name in ("almost", "one_axis"):
            assert f[f"runs/r/{name}"].scaleoffset is None and f[f"runs/r/{name}"].shuffle
        assert f["runs/r/wide"].compression is None
    assert not is_spin_array(np.ones((3, 0), np.int8))
    assert is_spin_array(np.zeros((0, 4), np.int8))  # empty series of spins: the spin layout


def test_the_schema_2_marking_attributes_stay_reserved(tmp_path):
    run = RunRecord(
        id="r",
        kind="k",
        status="finished",
        seed=1,
        params={},
        datasets={"x": np.zeros(3)},
        dataset_attrs={"x": {"spin_shape": [3]}},
    )
    with pytest.raises(ValueError, match="'spin_shape' is reserved"):
        save_session(SessionRecord(runs={"r": run}), "unused.h5")
    path = tmp_path / "S.h5"  # a schema-3 file where another tool added one
    save_session(
        SessionRecord(
            runs={
                "r": RunRecord(
                    id="r",
                    kind="k",
                    status="finished",
                    seed=1,
                    params={},
                    datasets={"s": np.ones((2, 3), np.int8)},
                )
            }
        ),
        path,
    )
    with h5py.File(path, "r+") as f:
        f["runs/r/s"].attrs["spin_encoding"] = b"packbits"
    with pytest.raises(SessionFileError, match="holds invalid data .*'spin_encoding' is reserved"):
        load_session(path)


# ---------------------------------------------------------------------------- schema 2


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=9),
    seed=st.integers(0, 2**32 - 1),
)
def test_schema_2_decoding_inverts_numpy_packbits(shape, seed):
    """The packing of schema 2 was ``np.packbits(frames > 0, axis=1)`` on flattened frames."""
    frames = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)
    packed = np.packbits(frames.reshape(shape[0], -1) > 0, axis=1)
    assert packed.shape == (shape[0], packed_width(shape[1:]))
    unpacked = decode_packed(packed, "packbits", list(shape[1:]))
    assert unpacked.dtype == np.int8
    np.testing.assert_array_equal(unpacked, frames)
    np.testing.assert_array_equal(unpack_spins(packed, shape[1:]), frames)


def test_bit_order_was_msb_first():
    packed = np.array([[0b10000001, 0b10000000]], np.uint8)  # 9 spins, the last byte padded
    np.testing.assert_array_equal(
        decode_packed(packed, "packbits", [9]), [[1, -1, -1, -1, -1, -1, -1, 1, 1]]
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.attrs.__setitem__("spin_encoding", b"zip"), "spin_encoding is 'zip'"),
        (lambda d: d.attrs.__setitem__("spin_shape", np.array([6, 6])), "do not match spin_shape"),
        (lambda d: d.attrs.__setitem__("spin_shape", np.array([-8, 8])), "do not match spin_shape"),
        (lambda d: d.attrs.__delitem__("spin_encoding"), "spin_encoding is None"),
    ],
)
def test_inconsistent_schema_2_marks_cannot_be_upgraded(tmp_path, edit, message):
    path = tmp_path / "S.h5"
    shutil.copyfile(SCHEMA2_FIXTURE, path)
    with h5py.File(path, "r+") as f:
        edit(f["runs/ising-001/samples"])
    with pytest.raises(
        SessionFileError, match=f"could not be upgraded from schema 2 .*samples: .*{message}"
    ) as error:
        load_session(path)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------------------- direct chunks


def _stored_chunk(data: np.ndarray, **options) -> bytes:
    """What the HDF5 library stores for ``data`` as one chunk (in an in-memory file)."""
    with h5py.File(io.BytesIO(), "w") as f:
        dataset = f.create_dataset("x", data=data, **options)
        return bytes(dataset.id.read_direct_chunk((0,) * data.ndim)[1])


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=12),
    seed=st.integers(0, 2**32 - 1),
    fill=st.sampled_from([None, 1, -1]),
    level=st.sampled_from([1, 4]),
)
def test_encoded_spin_chunks_are_the_bytes_hdf5_stores(shape, seed, fill, level):
    frames = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)
    if fill is not None:
        frames[:] = fill
    layout = spin_layout(shape[1:], level, rows=shape[0])
    assert layout["chunks"] == shape
    assert encode_spin_chunk(frames, level) == _stored_chunk(frames, **layout)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=12),
    seed=st.integers(0, 2**32 - 1),
    values=st.sampled_from([(-1, 1), (-1, 0, 1), (0, 1), (-1, 0), (0,), (1,), (-1,)]),
)
def test_scale_offset_is_hdf5s_for_spins_and_padding(shape, seed, values):
    """Chunks of ±1 spins, and partial ones padded with the fill value 0."""
    chunk = np.random.default_rng(seed).choice(np.array(values, np.int8), size=shape)
    layout = spin_layout(shape[1:], 4, rows=shape[0])
    assert zlib.decompress(_stored_chunk(chunk, **layout)[:-4]) == scale_offset(chunk)
    assert scale_offset(np.array([[-1, 2]], np.int8)) is None  # 2 bits cannot hold it


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=12),
    extra=st.integers(0, 11),
    seed=st.integers(0, 2**32 - 1),
    strategies=st.sampled_from([(RLE,), (HUFFMAN,), (RLE, HUFFMAN), (DEFAULT,)]),
)
def test_directly_written_spin_chunks_read_back_with_hdf5(shape, extra, seed, strategies):
    """Whatever deflate strategy made them, HDF5 decodes the chunks; a last partial chunk too."""
    rows = shape[0]
    frames = np.random.default_rng(seed).choice(
        np.array([-1, 1], np.int8), size=(rows + extra, *shape[1:])
    )
    with h5py.File(io.BytesIO(), "w") as f:
        d = f.create_dataset(
            "s", shape=frames.shape, dtype=np.int8, **spin_layout(shape[1:], 4, rows=rows)
        )
        write_spin_chunks(d, 0, frames, strategies)
        np.testing.assert_array_equal(d[()], frames)
    assert direct_chunks_match(strategies)


def test_sessions_store_the_same_spins_where_hdf5_compresses_them(tmp_path, monkeypatch):
    """The fallback of the writer (and what a plain HDF5 writer gives): the same file content
    for a reader, chunks deflated by HDF5 at level 4, a little larger."""
    runs = spin_runs(np.random.default_rng(6))
    record = SessionRecord(runs={run.id: run for run in runs})
    save_session(record, tmp_path / "direct.h5")
    monkeypatch.setattr("data.writer.direct_chunks_match", lambda strategies: False)
    save_session(record, tmp_path / "hdf5.h5")
    assert load_session(tmp_path / "hdf5.h5") == load_session(tmp_path / "direct.h5") == record
    with h5py.File(tmp_path / "direct.h5") as a, h5py.File(tmp_path / "hdf5.h5") as b:
        for name in ("ising-001/samples", "rbm-001/trainer/replicas"):
            x, y = a[f"runs/{name}"], b[f"runs/{name}"]
            assert filters(x) == filters(y) == SPIN_FILTERS and x.chunks == y.chunks
            assert x.compression_opts == y.compression_opts == 4


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=st.binary(min_size=1, max_size=3000))
def test_fletcher32_is_hdf5s(data):
    stored = _stored_chunk(np.frombuffer(data, np.uint8), chunks=(len(data),), fletcher32=True)
    assert stored[:-4] == data
    assert stored[-4:] == fletcher32(data).to_bytes(4, "little")
