"""The geometry of a training run end to end: an RBM trained by the CLI on a small Ising run,
then ``geometry`` (the command and the task), checked against exact facts and independent dense
computations at n = 36."""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import load_session
from engines.geometry import MP_FIT_COLUMNS, affine_invariant, bures_wasserstein
from engines.rbm import RBM, save_npz
from lab.geometry.options import GeometryOptions
from lab.geometry.task import TRAJECTORY_METRICS, GeometryTask
from lab.rbm.runs import run_checkpoints, training_data
from main import main

L, HIDDEN, EPOCHS = 6, 16, 4
EPS = 1e-3
FAST = ["--samples", "60", "--burn-in", "10", "--points", "50", "--k", "4"]
OPTIONS = GeometryOptions(epsilon=EPS, samples=60, burn_in=10, n_points=50, k=4, seed=3)
PER_CHECKPOINT = (
    "epoch",
    "rank",
    "condition",
    "n_outliers",
    "monge_ampere_residual",
    "gaussian_ot_residual",
    "gaussian_w2",
    "wasserstein_to_data",
    "energy_w1",
    "magnetization_w1",
    "entropy",
    "relative_entropy_to_data",
)


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("geometry") / "base.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                str(L),
                "--temperature",
                "2.4",
                "--algorithm",
                "wolff",
                "--samples",
                "300",
                "--thermalize",
                "100",
                "--interval",
                "2",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "4",
                "--temperature",
                "2.4",
                "--algorithm",
                "wolff",
                "--samples",
                "50",
                "--thermalize",
                "50",
                "--seed",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                str(HIDDEN),
                "--epochs",
                str(EPOCHS),
                "--checkpoint-every",
                "1",
                "--batch",
                "32",
                "--seed",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    return path


@pytest.fixture(scope="module")
def computed(base_session, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("computed") / "S.h5"
    shutil.copy(base_session, path)
    assert (
        main(["geometry", str(path), "--rbm", "rbm-001", "--epsilon", str(EPS), *FAST, "--quiet"])
        == 0
    )
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base_session, path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_the_run_has_the_contract_shapes_and_units(computed):
    run = load_session(str(computed)).runs["geometry-001"]
    ds, n, C = run.datasets, L * L, EPOCHS + 1
    assert run.kind == "geometry" and run.status == "finished"
    assert run.inputs == ["rbm-001", "ising-001"]
    assert run.params["epsilon"] == EPS and run.params["samples"] == 60
    shapes = {
        "spectrum": (C, HIDDEN),
        "mp_law": (3,),
        "mp_fit": (C, len(MP_FIT_COLUMNS)),
        "eigenvectors": (C, 8, L, L),
        "bloch": (C, 2),
        "modular_spectrum": (C, n),
        "data_covariance": (n, n),
        "model_covariance": (n, n),
        "data_spectrum": (n,),
        "ot_plan": (60, 60),
    }
    shapes.update({name: (C,) for name in PER_CHECKPOINT})
    shapes.update(
        {
            f"{q}/{m}": (C,)
            for q in ("distance", "speed", "path_length", "line_shape")
            for m in TRAJECTORY_METRICS
        }
    )
    assert {name: ds[name].shape for name in ds} == shapes
    assert ds["eigenvectors"].dtype == np.float32 and ds["data_covariance"].dtype == np.float32
    assert ds["model_covariance"].dtype == np.float32 and ds["spectrum"].dtype == np.float64
    with h5py.File(computed, "r") as f:
        group = f["runs/geometry-001"]
        for name in shapes:
            assert group[name].attrs["units"] and group[name].attrs["description"], name
        columns = [text(c) for c in group["mp_fit"].attrs["columns"]]
        assert tuple(columns) == MP_FIT_COLUMNS
        assert text(group["entropy"].attrs["units"]) == "nats"


def test_exact_facts_of_the_stored_run(computed):
    runs = load_session(str(computed)).runs
    ds = runs["geometry-001"].datasets
    checkpoints = runs["rbm-001"].datasets
    np.testing.assert_array_equal(ds["epoch"], checkpoints["checkpoints/epoch"])
    for i, W in enumerate(checkpoints["checkpoints/W"].astype(np.float64)):
        s2 = np.linalg.svd(W, compute_uv=False) ** 2
        # one SVD against another of the same matrix: rounding ~ m ε_mach s_max²
        np.testing.assert_allclose(ds["spectrum"][i], s2, rtol=0, atol=1e-12 * s2[0])
    assert np.all(np.diff(ds["spectrum"], axis=1) <= 0)
    W0 = checkpoints["checkpoints/W"][0].astype(np.float64)
    np.testing.assert_allclose(
        ds["mp_law"], [L * L, HIDDEN, np.sum(W0**2) / (L * L * HIDDEN)], rtol=1e-12
    )
    np.testing.assert_array_equal(
        ds["n_outliers"], ds["mp_fit"][:, MP_FIT_COLUMNS.index("n_outliers")]
    )
    for metric in TRAJECTORY_METRICS:
        d, length = ds[f"distance/{metric}"], ds[f"path_length/{metric}"]
        shape, speed = ds[f"line_shape/{metric}"], ds[f"speed/{metric}"]
        assert d[0] == 0.0 and length[0] == 0.0
        assert math.isnan(shape[0]) and math.isnan(speed[0])
        assert np.all(np.diff(length) >= 0)
        # the triangle inequality, up to the distances' relative rounding (≲ 1e-12)
        assert np.all(shape[1:] > 0) and np.all(shape[1:] <= 1 + 1e-9), metric
        assert shape[1] == 1.0  # one step: the path is the distance
        np.testing.assert_allclose(speed[1:], np.diff(length) / np.diff(ds["epoch"]), rtol=1e-14)
    assert np.all(np.abs(ds["monge_ampere_residual"]) < 1e-8)
    assert np.all(ds["gaussian_ot_residual"] < 1e-10)
    assert np.all(np.sum(ds["bloch"] ** 2, axis=1) <= 1 + 1e-12)
    plan = ds["ot_plan"]
    np.testing.assert_allclose(plan.sum(axis=0), 1 / 60, rtol=1e-12)
    np.testing.assert_allclose(plan.sum(axis=1), 1 / 60, rtol=1e-12)
    assert np.all((ds["wasserstein_to_data"] > 0) & (ds["wasserstein_to_data"] <= 1))
    np.testing.assert_allclose(np.diag(ds["data_covariance"]), 1.0)  # ⟨v_i²⟩ = 1 for ±1 spins


def test_distances_and_entropies_match_dense_computations(computed):
    """The factored n×m results against plain n×n linear algebra on the stored checkpoints."""
    runs = load_session(str(computed)).runs
    ds = runs["geometry-001"].datasets
    Ws = runs["rbm-001"].datasets["checkpoints/W"].astype(np.float64)
    data, _ = training_data([runs["ising-001"]])
    v = data.astype(np.float64)
    sigma_data = v.T @ v / v.shape[0] + EPS * np.eye(L * L)
    w_data, V_data = np.linalg.eigh(sigma_data / np.trace(sigma_data))
    log_data = (V_data * np.log(w_data)) @ V_data.T
    A0 = Ws[0] @ Ws[0].T
    for i, W in enumerate(Ws):
        A = W @ W.T
        # κ(A + εI) ≲ 1e3 here: the dense eigen-decompositions are good to ~1e-12 relative
        assert ds["distance/affine_invariant"][i] == pytest.approx(
            affine_invariant(A0, A, EPS), rel=1e-9, abs=1e-9
        )
        assert ds["distance/bures_wasserstein_exact"][i] == pytest.approx(
            bures_wasserstein(A0, A), rel=1e-7, abs=1e-7
        )
        rho = (A + EPS * np.eye(L * L)) / np.trace(A + EPS * np.eye(L * L))
        p, U = np.linalg.eigh(rho)
        assert ds["entropy"][i] == pytest.approx(-np.sum(p * np.log(p)), rel=1e-11)
        relative = np.sum(p * np.log(p)) - np.trace(rho @ log_data)
        assert ds["relative_entropy_to_data"][i] == pytest.approx(relative, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(ds["modular_spectrum"][i], -np.log(p[::-1]), rtol=1e-10)


def test_extend_between_steps_gives_the_one_pass_arrays(base_session):
    runs = load_session(str(base_session)).runs
    checkpoints = run_checkpoints(runs["rbm-001"])
    data, size = training_data([runs["ising-001"]])
    one_pass = GeometryTask(checkpoints, data, size, OPTIONS)
    while not one_pass.finished:
        one_pass.step()
    live = GeometryTask(checkpoints[:2], data, size, OPTIONS)
    snapshot = live.step()
    assert (snapshot.done, snapshot.total) == (1, 2)
    live.step()
    assert live.finished
    assert live.extend(checkpoints) == len(checkpoints) - 2  # the known ones are skipped
    assert not live.finished and live.total == len(checkpoints)
    while not live.finished:
        snapshot = live.step()
    assert snapshot.progress == 1.0
    expected = one_pass.datasets()
    assert snapshot.datasets.keys() == expected.keys()
    for name, array in expected.items():
        np.testing.assert_array_equal(snapshot.datasets[name], array, err_msg=name)


def test_interrupt_keeps_the_checkpoints_done(session, monkeypatch):
    import lab.geometry.commands as geometry_commands

    class Interrupted(GeometryTask):
        def step(self):
            if self.done == 2:
                raise KeyboardInterrupt
            return super().step()

    monkeypatch.setattr(geometry_commands, "GeometryTask", Interrupted)
    assert main(["geometry", str(session), "--rbm", "rbm-001", *FAST, "--quiet"]) == 130
    run = load_session(str(session)).runs["geometry-001"]
    assert run.status == "stopped"
    assert run.datasets["epoch"].tolist() == [0, 1]
    assert run.datasets["modular_spectrum"].shape == (2, L * L)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--rbm", "rbm-009"], "no run 'rbm-009'"),
        (["--rbm", "ising-001"], "not 'rbm'"),
        (["--rbm", "rbm-001", "--data", "rbm-001"], "not 'ising'"),
        (["--rbm", "rbm-001", "--data", "ising-002"], "L = 4"),
        (["--rbm", "rbm-001", "--epsilon", "0"], "epsilon"),
        (["--rbm", "rbm-001", "--epsilon", "-1e-3"], "epsilon"),
        (["--rbm", "rbm-001", "--epsilon", "nan"], "finite"),
        (["--rbm", "rbm-001", "--samples", "1"], "samples"),
        (["--rbm", "rbm-001", "--k", "11"], "k"),
    ],
)
def test_bad_input_exits_2_and_leaves_the_file(session, capsys, extra, message):
    before = digest(session)
    assert main(["geometry", str(session), *extra, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert digest(session) == before


def test_an_rbm_without_checkpoints_is_refused(session, tmp_path, capsys):
    rng = np.random.default_rng(0)
    npz = tmp_path / "p.npz"
    save_npz(str(npz), RBM(rng.normal(0, 0.01, (L * L, 4)), np.zeros(L * L), np.zeros(4)))
    assert main(["import-rbm", str(session), str(npz), "--size", str(L)]) == 0
    before = digest(session)
    capsys.readouterr()
    assert main(["geometry", str(session), "--rbm", "rbm-002", "--data", "ising-001"]) == 2
    assert "no checkpoints" in capsys.readouterr().err
    assert digest(session) == before


@pytest.mark.parametrize(
    "kwargs",
    [
        {"epsilon": 0.0},
        {"epsilon": math.nan},
        {"epsilon": math.inf},
        {"samples": 1},
        {"k": -1},
        {"k": 11},  # k = 0 now means min(10, m): it fits any model
        {"thin": 0},
        {"seed": -1},
    ],
)
def test_options_are_validated(kwargs):
    with pytest.raises(ValueError):
        GeometryOptions(**kwargs)


def test_geometry_defaults_fit_a_model_with_few_hidden_units(tmp_path):
    """The first-hour issue: the default k (0, min(10, m)) fits an RBM with 6 hidden units,
    where a fixed k = 10 refused it."""
    path = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "4",
                "--temperature",
                "2.5",
                "--algorithm",
                "wolff",
                "--samples",
                "200",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                "6",
                "--epochs",
                "2",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "geometry",
                str(path),
                "--rbm",
                "rbm-001",
                "--samples",
                "20",
                "--burn-in",
                "10",
                "--points",
                "40",
                "--quiet",
            ]
        )
        == 0
    )
    run = load_session(str(path)).runs["geometry-001"]
    assert run.status == "finished" and int(run.params["k"]) == 0
    assert np.all(np.isfinite(run.datasets["monge_ampere_residual"]))
