"""The per-kind table of dataset dtypes and shapes (data.structure): valid runs of every kind
pass, structurally invalid ones are refused with one message naming the run and the dataset,
when saved and when read from a file whose checksums are all valid."""

from __future__ import annotations

import os
import tempfile

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data import (
    RunRecord,
    SessionFileError,
    SessionRecord,
    load_session,
    read_recording,
    read_run,
    save_session,
)
from data.recording import RecordingError, RunRecorder, Stream
from data.structure import RUN_KINDS, check_structure

Linked = list[tuple[str, int]]
"""(dataset, axis) pairs whose length another dataset or a parameter fixes."""


def spins(*shape: int) -> np.ndarray:
    return np.where(np.arange(int(np.prod(shape))).reshape(shape) % 3, 1, -1).astype(np.int8)


def ising(n: int = 6, L: int = 4) -> tuple[RunRecord, Linked]:
    run = RunRecord(
        id="ising-001",
        kind="ising",
        status="finished",
        seed=1,
        params={"size": L},
        datasets={
            "samples": spins(n, L, L),
            "energy": np.zeros(n),
            "magnetization": np.zeros(n, np.float32),
            "sweep": np.arange(n),
            "correlation/r": np.arange(3.0),
            "correlation/C": np.ones(3),
            "correlation/error": np.ones(3),
            "resume/spins": spins(L, L),
        },
    )
    return run, [
        ("samples", 0),
        ("samples", 1),
        ("samples", 2),
        ("energy", 0),
        ("magnetization", 0),
        ("sweep", 0),
        ("correlation/C", 0),
        ("correlation/error", 0),
        ("resume/spins", 1),
    ]


def scan(t: int = 4) -> tuple[RunRecord, Linked]:
    names = (
        "temperature",
        "e",
        "e_error",
        "abs_m",
        "abs_m_error",
        "c",
        "c_error",
        "chi",
        "chi_error",
        "binder",
        "binder_error",
    )
    run = RunRecord(
        id="ising-scan-001",
        kind="ising-scan",
        status="finished",
        seed=1,
        params={},
        datasets={name: np.linspace(1, 2, t) for name in names},
    )
    return run, [(name, 0) for name in names]


def rbm(n: int = 9, m: int = 3, c: int = 2) -> tuple[RunRecord, Linked]:
    run = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="finished",
        seed=1,
        params={},
        datasets={
            "W": np.zeros((n, m), np.float32),
            "a": np.zeros(n),
            "b": np.zeros(m),
            "checkpoints/epoch": np.arange(c),
            "checkpoints/W": np.zeros((c, n, m)),
            "checkpoints/a": np.zeros((c, n)),
            "checkpoints/b": np.zeros((c, m)),
            "history/epoch": np.arange(5),
            "history/nll_train": np.ones(5),
            "trainer/chains": spins(4, n),
        },
    )
    return run, [
        ("W", 0),
        ("W", 1),
        ("a", 0),
        ("b", 0),
        ("checkpoints/epoch", 0),
        ("checkpoints/W", 1),
        ("checkpoints/W", 2),
        ("checkpoints/a", 1),
        ("checkpoints/b", 0),
        ("checkpoints/b", 1),
    ]


def rbm_samples(n: int = 5, L: int = 3) -> tuple[RunRecord, Linked]:
    run = RunRecord(
        id="rbm-samples-001",
        kind="rbm-samples",
        status="finished",
        seed=1,
        params={"size": L},
        datasets={"samples": spins(n, L, L), "energy": np.zeros(n), "magnetization": np.zeros(n)},
    )
    return run, [("samples", 0), ("samples", 2), ("energy", 0), ("magnetization", 0)]


def rg(n: int = 5) -> tuple[RunRecord, Linked]:
    curves = {
        name: np.ones(2)
        for name in (
            "size",
            "e",
            "e_error",
            "abs_m",
            "binder",
            "effective_temperature",
            "block_share",
        )
    }
    run = RunRecord(
        id="rg-001",
        kind="rg",
        status="finished",
        seed=0,
        params={"levels": 2},
        datasets={
            "level_1/samples": spins(n, 4, 4),
            "level_1/r": np.ones(3),
            "level_1/C": np.ones(3),
            "level_1/C_error": np.ones(3),
            "level_1/block_share": np.ones(4),
            "level_2/samples": spins(n, 2, 2),
            "level_2/r": np.ones(2),
            "level_2/C": np.ones(2),
            **curves,
            "locality/centre": np.zeros((4, 2)),
            "locality/best_block": np.zeros((4, 2), np.int64),
            "locality/block_share": np.ones(4),
            "locality/spread": np.ones(4),
        },
    )
    return run, [
        ("level_1/samples", 0),
        ("level_1/samples", 2),
        ("level_2/samples", 0),
        ("level_1/C", 0),
        ("level_2/C", 0),
        ("e", 0),
        ("block_share", 0),
        ("locality/centre", 1),
        ("locality/spread", 0),
    ]


def rg_flow(t: int = 3, k: int = 2) -> tuple[RunRecord, Linked]:
    names = (
        "effective_temperature",
        "effective_temperature_error",
        "binder_temperature",
        "binder_temperature_error",
    )
    run = RunRecord(
        id="rg-flow-001",
        kind="rg-flow",
        status="finished",
        seed=0,
        params={},
        datasets={"temperature": np.ones(t), **{name: np.ones((t, k)) for name in names}},
    )
    return run, [("temperature", 0), *((name, axis) for name in names for axis in (0, 1))]


def geometry(c: int = 3, L: int = 3, m: int = 2) -> tuple[RunRecord, Linked]:
    n = L * L
    per_checkpoint = {
        name: np.ones(c)
        for name in (
            "condition",
            "monge_ampere_residual",
            "gaussian_w2",
            "entropy",
            "distance/affine_invariant",
            "speed/thompson",
            "line_shape/log_euclidean",
        )
    }
    run = RunRecord(
        id="geometry-001",
        kind="geometry",
        status="finished",
        seed=0,
        params={"size": L, "n_visible": n, "n_hidden": m},
        datasets={
            "epoch": np.arange(c),
            "rank": np.ones(c, np.int64),
            "spectrum": np.ones((c, m)),
            "mp_law": np.ones(3),
            "mp_fit": np.ones((c, 7)),
            "eigenvectors": np.ones((c, m, L, L), np.float32),
            "modular_spectrum": np.ones((c, n)),
            "bloch": np.ones((c, 2)),
            "data_covariance": np.ones((n, n), np.float32),
            "model_covariance": np.ones((n, n), np.float32),
            "data_spectrum": np.ones(n),
            "ot_plan": np.ones((4, 4)),
            **per_checkpoint,
        },
    )
    return run, [
        ("epoch", 0),
        ("spectrum", 1),
        ("mp_law", 0),
        ("eigenvectors", 3),
        ("modular_spectrum", 1),
        ("bloch", 1),
        ("data_covariance", 0),
        ("ot_plan", 1),
        ("distance/affine_invariant", 0),
        ("speed/thompson", 0),
    ]


def scores(g: int = 2, k: int = 2, n: int = 5, s: int = 2, L: int = 4) -> tuple[RunRecord, Linked]:
    v = k + 1
    run = RunRecord(
        id="scores-001",
        kind="scores",
        status="finished",
        seed=0,
        params={"size": L, "n_samples": n, "mode": "block-spin"},
        datasets={
            "ots": np.ones((g, k)),
            "w_steps": np.ones((g, k)),
            "ots_ci": np.ones((g, k, 2)),
            "lss": np.ones(g),
            "temperature": np.ones(g),
            "lss_valid": np.ones(g, np.int64),
            "lss_per_track": np.ones((g, n)),
            "step_lengths": np.ones((g, k, n)),
            "partner": np.zeros((g, k, n), np.int64),
            "sample_index": np.zeros((g, n), np.int64),
            "sizes": np.array([L, L // 2, L // 4][:v], np.int64),
            "track_images": np.ones((g, v, s, L, L), np.float32),
            "partner_images": np.ones((g, k, s, L, L), np.float32),
        },
    )
    return run, [
        ("ots", 0),
        ("ots", 1),
        ("lss_per_track", 1),
        ("sizes", 0),
        ("track_images", 2),
        ("track_images", 3),
    ]


BUILDERS = {
    "ising": ising,
    "ising-scan": scan,
    "rbm": rbm,
    "rbm-samples": rbm_samples,
    "rg": rg,
    "rg-flow": rg_flow,
    "geometry": geometry,
    "scores": scores,
}


def test_every_kind_of_the_table_has_a_valid_example_that_round_trips(tmp_path):
    assert set(BUILDERS) == set(RUN_KINDS)
    runs = [builder()[0] for builder in BUILDERS.values()]
    path = tmp_path / "S.h5"
    save_session(SessionRecord(runs={run.id: run for run in runs}), path)
    assert list(load_session(path).runs.values()) == runs


def test_empty_runs_and_runs_of_other_kinds_pass():
    for kind in (*RUN_KINDS, "note", "other"):
        check_structure(kind, "r", {}, {})
    check_structure("note", "r", {"size": 3}, {"samples": np.zeros((2, 7), np.float32)})
    # a recording's header: every stream with 0 rows
    check_structure(
        "ising", "r", {"size": 4}, {"samples": np.zeros((0, 4, 4), np.int8), "energy": np.zeros(0)}
    )
    # checkpoints of an RBM whose final W is not there (yet): any shape after C
    check_structure("rbm", "r", {}, {"checkpoints/W": np.zeros((2, 2))})


def _set(**arrays):
    """An edit of a run: set (or replace) datasets; ``__`` in a name stands for ``/``."""
    return lambda run: run.datasets.update({k.replace("__", "/"): v for k, v in arrays.items()})


INVALID = {  # case: (builder, edit, the message after "run <id> (kind <kind>): dataset ")
    "float32 samples": (
        ising,
        _set(samples=spins(6, 4, 4).astype(np.float32)),
        r"'samples' has dtype float32, expected int8 spins",
    ),
    "10 energies beside 200 samples": (
        ising,
        _set(
            samples=spins(200, 4, 4),
            energy=np.zeros(10),
            magnetization=np.zeros(200),
            sweep=np.arange(200),
        ),
        r"'energy' has shape \(10,\), expected \(N,\) with N = 200 as in dataset 'samples' "
        r"\(200, 4, 4\)",
    ),
    "samples of another size": (
        ising,
        _set(samples=spins(6, 5, 5)),
        r"'samples' has shape \(6, 5, 5\), expected \(N, L, L\) with L = 4 as in parameter "
        r"'size' = 4",
    ),
    "W (10, 6) beside b (64,)": (
        rbm,
        _set(W=np.zeros((10, 6)), a=np.zeros(10), b=np.zeros(64)),
        r"'b' has shape \(64,\), expected \(m,\) with m = 6 as in dataset 'W'",
    ),
    "checkpoints of another W": (
        rbm,
        _set(checkpoints__W=np.zeros((2, 9, 4))),
        r"'checkpoints/W' has shape \(2, 9, 4\), expected \(C, 9, 3\) after dataset 'W'",
    ),
    "a 2-D history": (
        rbm,
        _set(history__nll_train=np.ones((5, 2))),
        r"'history/nll_train' has shape \(5, 2\), expected \(\*,\)",
    ),
    "float epochs": (
        rbm,
        _set(checkpoints__epoch=np.arange(2.0)),
        r"'checkpoints/epoch' has dtype float64, expected an integer type",
    ),
    "RG levels of different N": (
        rg,
        _set(level_2__samples=spins(4, 2, 2)),
        r"'level_2/samples' has shape \(4, 2, 2\), expected \(N, L2, L2\) with N = 5",
    ),
    "non-square level": (
        rg,
        _set(level_1__samples=spins(5, 4, 3)),
        r"'level_1/samples' has shape \(5, 4, 3\), expected \(N, L1, L1\)",
    ),
    "flow of the wrong levels": (
        rg_flow,
        _set(binder_temperature=np.ones((3, 5))),
        r"'binder_temperature' has shape \(3, 5\), expected \(T, K\)",
    ),
    "complex scan curve": (
        scan,
        _set(chi=np.ones(4, complex)),
        r"'chi' has dtype complex128, expected an integer or float type",
    ),
    "mp_law of four": (
        geometry,
        _set(mp_law=np.ones(4)),
        r"'mp_law' has shape \(4,\), expected \(3,\)",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_structures_are_refused_when_saved(case, tmp_path):
    builder, edit, message = INVALID[case]
    run, _ = builder()
    edit(run)
    with pytest.raises(ValueError, match=rf"^run {run.id} \(kind {run.kind}\): dataset {message}"):
        save_session(SessionRecord(runs={run.id: run}), tmp_path / "S.h5")
    assert not os.listdir(tmp_path)


# ---------------------------------------------------------------------------- files


def _mutated(array: np.ndarray, how: str, axis: int, delta: int, draw_dtype) -> np.ndarray:
    """``array`` changed so that it breaks its rule: another dtype class, one axis more or
    less, or a linked axis of another length."""
    if how == "dtype":
        return array.astype(draw_dtype)
    if how == "ndim":
        return array[..., None].repeat(2, axis=-1) if array.ndim < 2 or delta > 0 else array[0]
    shape = list(array.shape)
    shape[axis] = shape[axis] + delta if shape[axis] + delta >= 0 else shape[axis] + 1
    return np.ones(shape, array.dtype)


@st.composite
def invalid_files(draw) -> tuple[bytes, str, str, str]:
    """A session file, checksums valid, where one dataset of one run breaks its kind's rule;
    returns (file bytes, run id, dataset name, mutation)."""
    kind = draw(st.sampled_from(sorted(BUILDERS)))
    run, linked = BUILDERS[kind]()
    how = draw(st.sampled_from(["dtype", "ndim", "length"]))
    if how == "length":
        name, axis = draw(st.sampled_from(linked))
    else:
        name, axis = (
            draw(st.sampled_from(sorted(k for k in run.datasets if _rule_exists(kind, k)))),
            0,
        )
    delta = draw(st.sampled_from([-1, 1, 7]))
    wrong = {
        "int8": ["float32", "int16", "uint8"],
        "real": ["complex128", "bool"],
        "integer": ["float64", "bool"],
    }
    dtype = draw(st.sampled_from(wrong[_rule_dtype(kind, name)]))
    mutated = _mutated(run.datasets[name], how, axis, delta, dtype)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "S.h5")
        save_session(SessionRecord(runs={run.id: run}), path)
        with h5py.File(path, "r+") as f:  # HDF5 writes valid checksums: only the shape is off
            group = f[f"runs/{run.id}"]
            del group[name]
            group.create_dataset(
                name,
                data=mutated,
                fletcher32=mutated.ndim > 0,
                chunks=True if mutated.ndim else None,
            )
        with open(path, "rb") as handle:
            return handle.read(), run.id, name, how


def _rule_exists(kind: str, name: str) -> bool:
    from data.structure import _rule_for

    return _rule_for(RUN_KINDS[kind], name) is not None


def _rule_dtype(kind: str, name: str) -> str:
    from data.structure import _rule_for

    return _rule_for(RUN_KINDS[kind], name)[0].dtype


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(case=invalid_files())
def test_structurally_invalid_files_are_refused_with_one_line(case):
    data, run_id, name, how = case
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "S.h5")
        with open(path, "wb") as handle:
            handle.write(data)
        for read in (load_session, lambda p: read_run(p, run_id)):
            with pytest.raises(SessionFileError) as error:
                read(path)
            message = str(error.value)
            assert message.startswith(f"{path} holds invalid data (run {run_id} (kind ")
            assert f"'{name}'" in message and "\n" not in message, (how, message)


def test_a_recording_with_an_invalid_stream_is_a_recording_error(tmp_path):
    path = tmp_path / "r.rec.h5"
    header = RunRecord(id="ising-001", kind="ising", status="running", seed=1, params={"size": 3})
    recorder = RunRecorder(
        path,
        header,
        {"energy": Stream((), np.float64), "samples": Stream((3, 3), np.int8, spins=True)},
    )
    recorder.append({"energy": np.zeros(2), "samples": spins(2, 3, 3)})
    recorder.close("finished")
    with h5py.File(path, "r+") as f:  # a float stream where spins belong, same rows
        group = f["runs/ising-001"]
        del group["samples"]
        group.create_dataset(
            "samples",
            data=np.ones((2, 3, 3), np.float32),
            maxshape=(None, 3, 3),
            chunks=(1, 3, 3),
            fletcher32=True,
        )
    with pytest.raises(
        RecordingError,
        match=r"holds invalid data \(run ising-001 \(kind ising\)"
        r": dataset 'samples' has dtype float32",
    ):
        read_recording(path)
    with pytest.raises(ValueError, match="dataset 'samples' has shape"):  # before any file
        RunRecorder(tmp_path / "b.rec.h5", header, {"samples": Stream((3, 4), np.int8, spins=True)})
