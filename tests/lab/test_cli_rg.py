"""The coarse-grain command on real simulations: levels, flow direction, RBM rule, bad input."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import RunRecord, add_runs, load_session
from engines.rg import coarse_grain, majority
from lab.cli import main


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rg") / "base.h5"
    for temperature, seed in ((2.0, 1), (3.0, 2)):
        assert main(["simulate", "--out", str(path), "--size", "16", "--temperature",
                     str(temperature), "--algorithm", "wolff", "--samples", "400",
                     "--thermalize", "200", "--interval", "2", "--seed", str(seed),
                     "--quiet"]) == 0
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base_session, path)
    return path


def test_majority_levels_are_stored_and_flow_away_from_tc(session):
    for data in ("ising-001", "ising-002"):
        assert main(["coarse-grain", str(session), "--data", data, "--rule", "majority",
                     "--block", "2", "--levels", "2", "--seed", "5"]) == 0
    with h5py.File(session, "r") as f:
        cold, hot = f["runs/rg-001"], f["runs/rg-002"]
        samples = f["runs/ising-001/samples"][()]
        level1 = cold["level_1/samples"][()]
        assert level1.shape == (400, 8, 8) and cold["level_2/samples"].shape == (400, 4, 4)
        np.testing.assert_array_equal(cold["size"][()], [8, 4])
        # the stored level is the engine's majority rule with the per-level seed
        np.testing.assert_array_equal(level1, coarse_grain(samples, "majority", 2, 1, 5)[1])
        t_cold = cold["effective_temperature"][()]
        err_cold = cold["effective_temperature_error"][()]
        t_hot = hot["effective_temperature"][()]
        err_hot = hot["effective_temperature_error"][()]
    assert t_cold.shape == (2,) and t_cold[0] < 2.0 - 3 * err_cold[0] and t_cold[1] < t_cold[0]
    assert t_hot[0] > 3.0 + 3 * err_hot[0]


def test_the_rbm_rule_uses_the_hidden_layer_matched_to_blocks(session, tmp_path):
    # a block-local RBM with large weights of both signs: its oriented hidden layer is the
    # majority rule (off ties); units with negative weights fire on blocks pointing down
    L, b = 16, 2
    m = (L // b) ** 2
    W = np.zeros((L * L, m))
    for j in range(m):
        br, bc = divmod(j, L // b)
        for dr in range(b):
            for dc in range(b):
                W[(br * b + dr) * L + bc * b + dc, j] = 50.0 if j % 3 else -50.0
    runs = load_session(session).runs
    add_runs(session, [RunRecord(id="rbm-001", kind="rbm", status="finished", seed=None,
                                 params={"size": L, "n_hidden": m},
                                 datasets={"W": W, "a": np.zeros(L * L),
                                           "b": np.full(m, 1e-3)})])
    assert main(["coarse-grain", str(session), "--data", "ising-001", "--rule", "rbm",
                 "--rbm", "rbm-001", "--levels", "1"]) == 0
    samples = runs["ising-001"].datasets["samples"]
    with h5py.File(session, "r") as f:
        hidden = f["runs/rg-001/level_1/samples"][()]
    sums = samples.reshape(-1, L // b, b, L // b, b).sum(axis=(2, 4))
    untied = sums != 0
    np.testing.assert_array_equal(hidden[untied], majority(samples, b, seed=0)[untied])


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--data", "ising-001", "--block", "3"], "divisible"),
        (["--data", "ising-001", "--rule", "rbm"], "--rbm"),
        (["--data", "ising-001", "--rule", "median"], "unknown rule"),
        (["--data", "ising-404"], "no run"),
        (["--data", "ising-001", "--levels", "0"], "levels"),
    ],
)
def test_bad_input_exits_2_and_leaves_the_file_unchanged(session, capsys, argv, fragment):
    before = hashlib.sha256(session.read_bytes()).hexdigest()
    assert main(["coarse-grain", str(session), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0].lower()
    assert hashlib.sha256(session.read_bytes()).hexdigest() == before


def test_rg_flow_records_every_run_and_flows_away_from_tc(tmp_path, capsys):
    path = tmp_path / "F.h5"
    assert main(["rg-flow", str(path), "--temperatures", "2.0, 3.0", "--size", "16",
                 "--levels", "1", "--samples", "300", "--thermalize", "200", "--seed", "3",
                 "--quiet"]) == 0
    assert "rg-flow-001" in capsys.readouterr().out
    with h5py.File(path, "r") as f:
        kinds = sorted(f["runs"][r].attrs["kind"].decode() for r in f["runs"])
        assert kinds == ["ising", "ising", "rg", "rg", "rg-flow"]
        flow = f["runs/rg-flow-001"]
        assert [x.decode() for x in flow.attrs["inputs"]] == ["rg-001", "rg-002"]
        np.testing.assert_allclose(flow["temperature"][()], [2.0, 3.0])
        t, err = flow["effective_temperature"][()], flow["effective_temperature_error"][()]
    assert t.shape == (2, 1)
    assert t[0, 0] < 2.0 - 3 * err[0, 0] and t[1, 0] > 3.0 + 3 * err[1, 0]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--rule", "rbm", "--temperatures", "2", "--size", "16"], "block spins"),
        (["--temperatures", "2", "--size", "12", "--levels", "3"], "divisible"),
        (["--temperatures", "0:2:3", "--size", "16"], "temperature"),
    ],
)
def test_rg_flow_refuses_bad_input_before_simulating(tmp_path, capsys, argv, fragment):
    path = tmp_path / "F.h5"
    assert main(["rg-flow", str(path), "--quiet", *argv]) == 2
    assert fragment in capsys.readouterr().err.lower()
    assert not path.exists()


def test_the_papers_example_is_one_command_and_reports_locality(tmp_path, capsys):
    path = tmp_path / "E.h5"
    argv = ["rg-example", str(path), "--samples", "1000", "--epochs", "3", "--seed", "4",
            "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "block share" in out and "§4.1" in out
    with h5py.File(path, "r") as f:
        assert sorted(f["runs"]) == ["ising-001", "rbm-001", "rg-001"]
        rg = f["runs/rg-001"]
        assert rg.attrs["preset"].decode() == "paper-4.1"
        shares = rg["locality/block_share"][()]
        assert shares.shape == (4,) and np.all((shares >= 0.25 - 1e-9) & (shares <= 1))
        assert rg["level_1/samples"].shape == (1000, 2, 2)
        first = f["runs/rbm-001/W"][()]
    again = tmp_path / "E2.h5"
    assert main([*argv[:1], str(again), *argv[2:]]) == 0
    with h5py.File(again, "r") as f:  # the same seed gives the same model
        np.testing.assert_array_equal(f["runs/rbm-001/W"][()], first)
