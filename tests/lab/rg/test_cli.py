"""The RG commands on real simulations: levels, flow direction, RBM rule and stacks, the RBM
flow, bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import RunRecord, add_runs, load_session
from engines.rg import coarse_grain, majority
from lab.cli.shell import run_cli
from main import main


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rg") / "base.h5"
    for temperature, seed in ((2.0, 1), (3.0, 2)):
        assert (
            main(
                [
                    "simulate",
                    "--out",
                    str(path),
                    "--size",
                    "16",
                    "--temperature",
                    str(temperature),
                    "--algorithm",
                    "wolff",
                    "--samples",
                    "400",
                    "--thermalize",
                    "200",
                    "--interval",
                    "2",
                    "--seed",
                    str(seed),
                    "--quiet",
                ]
            )
            == 0
        )
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base_session, path)
    return path


def test_majority_levels_are_stored_and_flow_away_from_tc(session):
    for data in ("ising-001", "ising-002"):
        assert (
            main(
                [
                    "coarse-grain",
                    str(session),
                    "--data",
                    data,
                    "--rule",
                    "majority",
                    "--block",
                    "2",
                    "--levels",
                    "2",
                    "--seed",
                    "5",
                ]
            )
            == 0
        )
    runs = load_session(session).runs  # read through data/, whatever the storage of spins
    cold, hot = runs["rg-001"].datasets, runs["rg-002"].datasets
    samples = runs["ising-001"].datasets["samples"]
    level1 = cold["level_1/samples"]
    assert level1.shape == (400, 8, 8) and cold["level_2/samples"].shape == (400, 4, 4)
    np.testing.assert_array_equal(cold["size"], [8, 4])
    # the stored level is the engine's majority rule with the per-level seed
    np.testing.assert_array_equal(level1, coarse_grain(samples, "majority", 2, 1, 5)[1])
    t_cold, err_cold = cold["effective_temperature"], cold["effective_temperature_error"]
    t_hot, err_hot = hot["effective_temperature"], hot["effective_temperature_error"]
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
    add_runs(
        session,
        [
            RunRecord(
                id="rbm-001",
                kind="rbm",
                status="finished",
                seed=None,
                params={"size": L, "n_hidden": m},
                datasets={"W": W, "a": np.zeros(L * L), "b": np.full(m, 1e-3)},
            )
        ],
    )
    assert (
        main(
            [
                "coarse-grain",
                str(session),
                "--data",
                "ising-001",
                "--rule",
                "rbm",
                "--rbm",
                "rbm-001",
                "--levels",
                "1",
            ]
        )
        == 0
    )
    samples = runs["ising-001"].datasets["samples"]
    hidden = load_session(session).runs["rg-001"].datasets["level_1/samples"]
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
    assert (
        main(
            [
                "rg-flow",
                str(path),
                "--temperatures",
                "2.0, 3.0",
                "--size",
                "16",
                "--levels",
                "1",
                "--samples",
                "300",
                "--thermalize",
                "200",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
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
        (["--rule", "median", "--temperatures", "2", "--size", "16"], "unknown rule"),
        (["--rule", "rbm-flow", "--temperatures", "2", "--size", "16", "--steps", "0"], "steps"),
        (["--rule", "rbm", "--temperatures", "2", "--size", "16", "--epochs", "0"], "epochs"),
        (
            ["--rule", "majority", "--temperatures", "2", "--size", "16", "--rbm", "rbm-001"],
            "no run",
        ),
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
    argv = ["rg-example", str(path), "--samples", "1000", "--epochs", "3", "--seed", "4", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "block share" in out and "§4.1" in out
    runs = load_session(path).runs
    assert sorted(runs) == ["ising-001", "rbm-001", "rg-001"]
    rg = runs["rg-001"]
    assert rg.params["preset"] == "paper-4.1"
    shares = rg.datasets["locality/block_share"]
    assert shares.shape == (4,) and np.all((shares >= 0.25 - 1e-9) & (shares <= 1))
    assert rg.datasets["level_1/samples"].shape == (1000, 2, 2)
    again = tmp_path / "E2.h5"
    assert main([*argv[:1], str(again), *argv[2:]]) == 0
    # the same seed gives the same model
    np.testing.assert_array_equal(
        load_session(again).runs["rbm-001"].datasets["W"], rg_w := runs["rbm-001"].datasets["W"]
    )
    assert rg_w.shape == (16, 4)


# ---------------------------------------------------------------------------- stacked RBMs
@pytest.fixture(scope="module")
def stack_session(tmp_path_factory) -> Path:
    """400 samples of L = 8 at T = 2.2 and a stack 64 → 16 → 4 trained on them (2 epochs)."""
    path = tmp_path_factory.mktemp("stack") / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "8",
                "--temperature",
                "2.2",
                "--algorithm",
                "wolff",
                "--samples",
                "400",
                "--thermalize",
                "200",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        run_cli(
            [
                "train-stack",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                "16,4",
                "--epochs",
                "2",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    return path


def test_train_stack_and_rg_example_take_every_trainer_option(stack_session, tmp_path, capsys):
    """--l1, --method, --k, --optimizer, … reach every level's RBM and are recorded; rg-example
    takes them too (and --hidden) and reports the matched share."""
    path = tmp_path / "S.h5"
    shutil.copy(stack_session, path)
    options = [
        "--l1",
        "0.01",
        "--method",
        "pcd",
        "--k",
        "3",
        "--optimizer",
        "adam",
        "--lr",
        "0.003",
        "--schedule",
        "constant",
        "--chains",
        "40",
    ]
    assert (
        run_cli(
            [
                "train-stack",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                "16,4",
                "--epochs",
                "1",
                "--seed",
                "3",
                "--quiet",
                *options,
            ]
        )
        == 0
    )
    runs = load_session(path).runs
    for run_id in ("rbm-003", "rbm-004"):
        params = runs[run_id].params
        assert (
            params["l1"],
            params["method"],
            params["k"],
            params["optimizer"],
            params["lr_schedule"],
            params["n_chains"],
        ) == (0.01, "pcd", 3, "adam", "constant", 40)
    example = tmp_path / "E.h5"
    assert (
        main(
            [
                "rg-example",
                str(example),
                "--samples",
                "400",
                "--epochs",
                "2",
                "--hidden",
                "4",
                "--method",
                "pcd",
                "--k",
                "2",
                "--l1",
                "0.001",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert "matched share" in capsys.readouterr().out
    example_runs = load_session(example).runs
    assert example_runs["rbm-001"].params["k"] == 2
    assert example_runs["rbm-001"].params["l1"] == 0.001
    share = example_runs["rg-001"].results["mean_matched_share"]
    assert 0 < share <= 1


def test_train_stack_records_one_rbm_run_per_level_and_the_rg_run(stack_session):
    runs = load_session(stack_session).runs
    first, second, rg = runs["rbm-001"], runs["rbm-002"], runs["rg-001"]
    assert (first.params["stack_level"], second.params["stack_level"]) == (1, 2)
    assert first.datasets["W"].shape == (64, 16) and second.datasets["W"].shape == (16, 4)
    assert first.inputs == ["ising-001"] and second.inputs == ["rbm-001"]
    assert list(second.params["stack_data"]) == ["rg-001/level_1/samples"]
    assert rg.inputs == ["ising-001", "rbm-001", "rbm-002"] and rg.params["levels"] == 2
    level1 = rg.datasets["level_1/samples"]
    assert level1.shape == (400, 4, 4) and rg.datasets["level_2/samples"].shape == (400, 2, 2)
    # level 2 was trained on exactly the level-1 lattices stored in the rg run
    meta = json.loads(second.params["trainer_meta"])
    assert meta["train_checksum"] == zlib.crc32(level1.reshape(400, 16).tobytes())
    shares = rg.datasets["block_share"]
    assert shares.shape == (2,) and np.all(shares >= 0.5)
    assert rg.datasets["level_2/block_share"].shape == (4,)


def test_coarse_grain_through_two_rbms_redraws_the_stacks_levels(stack_session, tmp_path):
    path = tmp_path / "S.h5"
    shutil.copy(stack_session, path)
    assert (
        main(
            [
                "coarse-grain",
                str(path),
                "--data",
                "ising-001",
                "--rule",
                "rbm",
                "--rbm",
                "rbm-001",
                "--rbm",
                "rbm-002",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    runs = load_session(path).runs
    for key in ("level_1/samples", "level_2/samples", "effective_temperature"):
        np.testing.assert_array_equal(runs["rg-002"].datasets[key], runs["rg-001"].datasets[key])


@pytest.mark.parametrize(
    ("command", "argv", "fragment"),
    [
        (
            "coarse-grain",
            [
                "--data",
                "ising-001",
                "--rule",
                "rbm",
                "--rbm",
                "rbm-001",
                "--rbm",
                "rbm-002",
                "--levels",
                "1",
            ],
            "one level per rbm",
        ),
        (
            "coarse-grain",
            ["--data", "ising-001", "--rule", "rbm", "--rbm", "rbm-002"],
            "cannot be level 1",
        ),
        ("coarse-grain", ["--data", "ising-001", "--rbm", "rbm-001"], "--rbm is for"),
        ("train-stack", ["--data", "ising-001", "--hidden", "16,3"], "(l/b^k)²"),
        ("train-stack", ["--data", "ising-001", "--hidden", "16", "--lr", "-1"], "learning rate"),
        ("train-stack", ["--data", "ising-001", "--hidden", "16", "--l1", "-1"], "l1"),
        ("train-stack", ["--data", "ising-001", "--hidden", "16", "--method", "magic"], "method"),
        ("train-stack", ["--data", "ising-001", "--hidden", "16", "--optimizer", "x"], "optimizer"),
        ("train-stack", ["--data", "ising-001", "--hidden", "16", "--k", "0"], "k (gibbs"),
        (
            "rg-flow",
            [
                "--rule",
                "rbm-flow",
                "--rbm",
                "rbm-001",
                "--rbm",
                "rbm-002",
                "--temperatures",
                "2",
                "--size",
                "8",
            ],
            "one rbm",
        ),
        (
            "rg-flow",
            ["--rule", "rbm", "--rbm", "rbm-002", "--temperatures", "2", "--size", "8"],
            "cannot be level 1",
        ),
    ],
)
def test_bad_stack_input_exits_2_and_leaves_the_file_unchanged(
    stack_session, tmp_path, capsys, command, argv, fragment
):
    path = tmp_path / "S.h5"
    shutil.copy(stack_session, path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        run_cli([command, str(path), "--quiet" if command != "coarse-grain" else "--seed=0", *argv])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0].lower()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


# ---------------------------------------------------------------------------- RBM flows
FLOW_ARGS = [
    "--temperatures",
    "2.0:2.6:3",
    "--samples",
    "200",
    "--thermalize",
    "100",
    "--epochs",
    "2",
    "--seed",
    "1",
    "--quiet",
]


def test_rg_flow_with_the_rbm_rule_trains_a_stack_on_all_temperatures(tmp_path):
    path = tmp_path / "F.h5"
    assert main(["rg-flow", str(path), "--rule", "rbm", "--size", "8", *FLOW_ARGS]) == 0
    runs = load_session(path).runs
    kinds = sorted(r.kind for r in runs.values())
    assert kinds == ["ising"] * 3 + ["rbm"] * 2 + ["rg"] * 3 + ["rg-flow"]
    assert runs["rbm-001"].inputs == ["ising-001", "ising-002", "ising-003"]
    flow = runs["rg-flow-001"]
    assert flow.inputs == ["rg-001", "rg-002", "rg-003"]
    assert list(flow.params["rbm"]) == ["rbm-001", "rbm-002"]
    assert flow.datasets["effective_temperature"].shape == (3, 2)
    np.testing.assert_array_equal(
        flow.datasets["effective_temperature"],
        [runs[f"rg-00{i}"].datasets["effective_temperature"] for i in (1, 2, 3)],
    )
    assert runs["rg-001"].datasets["level_2/samples"].shape == (200, 2, 2)


def test_rg_flow_in_rbm_flow_mode_keeps_the_size_and_records_each_step(tmp_path):
    path = tmp_path / "F.h5"
    # L = 4 keeps the Binder temperatures cheap (the transfer matrix takes ~1 s at L = 8)
    assert (
        main(
            [
                "rg-flow",
                str(path),
                "--rule",
                "rbm-flow",
                "--steps",
                "3",
                "--hidden",
                "6",
                "--size",
                "4",
                *FLOW_ARGS,
            ]
        )
        == 0
    )
    runs = load_session(path).runs
    assert runs["rbm-001"].datasets["W"].shape == (16, 6)
    rg = runs["rg-002"]
    assert rg.params["mode"] == "rbm-flow" and rg.params["levels"] == 3
    assert rg.inputs == ["ising-002", "rbm-001"]
    np.testing.assert_array_equal(rg.datasets["size"], [4, 4, 4])
    assert all(rg.datasets[f"level_{k}/samples"].shape == (200, 4, 4) for k in (1, 2, 3))
    np.testing.assert_array_equal(rg.datasets["level_1/r"], rg.datasets["level_1/r"].round())
    flow = runs["rg-flow-001"]
    assert flow.params["mode"] == "rbm-flow" and flow.params["steps"] == 3
    assert flow.datasets["effective_temperature"].shape == (3, 3)
    # given the RBM, a second flow reuses it: no new rbm run
    assert (
        main(
            [
                "rg-flow",
                str(path),
                "--rule",
                "rbm-flow",
                "--rbm",
                "rbm-001",
                "--steps",
                "1",
                "--temperatures",
                "2.3",
                "--size",
                "4",
                "--samples",
                "100",
                "--thermalize",
                "50",
                "--quiet",
            ]
        )
        == 0
    )
    runs = load_session(path).runs
    assert sorted(r for r in runs if r.startswith("rbm")) == ["rbm-001"]
    assert list(runs["rg-flow-002"].params["rbm"]) == ["rbm-001"]
