"""Gai & Zhang's Wasserstein scores in the lab: the task is the engine's scoring split into steps
(same numbers, same seeds), the ``score`` command on an rg-flow (rbm-flow), an rg run
(block spins, a stack) and an rbm run stores a ``scores`` run that reopens with the same
arrays, bad input is one line and exit 2 with the session unchanged, and the ``gai-zhang``
workflow's quick preset gives the table with its exact facts."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data import load_session
from data.structure import check_structure
from engines.geometry import (
    score_block_spin,
    score_rbm_flow,
    score_stack,
    score_training,
    wasserstein_scores,
)
from engines.rbm import RBM, save_npz
from engines.rg import coarse_grain, coarse_grain_stack, rbm_flow
from lab.core.kinds import run_kind, summary_of, view_of
from lab.geometry import score_options
from lab.geometry.gai_zhang import FAMILIES, format_table, gai_zhang
from lab.geometry.options import GeometryOptions
from lab.geometry.score_options import ScoreOptions
from lab.geometry.score_runs import ScoresRunView, dataset_info
from lab.geometry.score_sources import (
    ScoreInputError,
    levels_plan,
    plan_from_run,
    training_plan,
)
from lab.geometry.score_task import STREAM_SUBSAMPLE, ScoreTask, subsample
from lab.geometry.task import STREAM_DATA, GeometryTask
from lab.rbm.runs import run_checkpoints
from main import main

ROOT = Path(__file__).resolve().parents[3]
L = 8
FAST = ["--samples", "60", "--bootstrap", "4", "--quiet"]


def spins(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def drive(task: ScoreTask) -> dict:
    while not task.finished:
        task.step()
    return task.datasets()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- the task
def test_the_option_words_are_the_engine_s():
    assert score_options.SOLVERS == wasserstein_scores.SOLVERS
    assert score_options.COSTS == wasserstein_scores.COSTS
    assert score_options.TRACK_METRICS == wasserstein_scores.TRACK_METRICS


def _same_as_engine(d: dict, ref: dict, g: int = 0) -> None:
    for ours, theirs in (
        ("ots", "ots"),
        ("ots_error", "ots_se"),
        ("map_cost", "map_cost"),
        ("ot_cost", "ot_cost"),
        ("agreement", "agreement"),
        ("ots_low", "ots_low"),
        ("ots_high", "ots_high"),
    ):
        np.testing.assert_allclose(d[ours][g], ref["ots"][theirs], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(d["partner"][g], ref["ots"]["partner"])
    np.testing.assert_allclose(d["ots_ci"][g], ref["ots"]["ots_ci"], rtol=1e-13)
    for ours, theirs in (("ots_total", "ots"), ("ots_total_error", "ots_se")):
        assert d[ours][g] == pytest.approx(ref["ots_total"][theirs], rel=1e-13)
    for ours, theirs in (
        ("lss", "mean"),
        ("lss_error", "sem"),
        ("lss_median", "median"),
        ("lss_pooled", "pooled"),
    ):
        assert d[ours][g] == pytest.approx(ref["lss"][theirs], rel=1e-13, nan_ok=True)
    assert d["lss_valid"][g] == ref["lss"]["n_valid"]
    np.testing.assert_array_equal(d["lss_per_track"][g], ref["lss"]["per_track"])
    dist = ref["distribution"]
    for ours, theirs in (
        ("w_steps", "steps"),
        ("w_from_start", "from_start"),
        ("running", "running"),
    ):
        np.testing.assert_allclose(d[ours][g], dist[theirs], rtol=1e-13)
    assert d["line_shape"][g] == pytest.approx(dist["line_shape"], rel=1e-13)
    assert d["line_shape_low"][g] == pytest.approx(dist["line_shape_low"], rel=1e-13)


@pytest.mark.parametrize("rule", ["majority", "decimation"])
def test_block_spin_steps_give_the_engine_s_scores(rule):
    rng = np.random.default_rng(1)
    x = spins(rng, 90, L, L)
    levels = coarse_grain(x, rule, 2, 2, 0)
    options = ScoreOptions(samples=70, bootstrap=5, seed=3)
    task = ScoreTask(levels_plan("block-spin", [("a", 2.0, levels)], block=2), options)
    assert task.total == 3
    d = drive(task)
    index = subsample(90, 70, 3, STREAM_SUBSAMPLE)
    np.testing.assert_array_equal(d["sample_index"][0], index)
    ref = score_block_spin([lv[index] for lv in levels], n_bootstrap=5, seed=3)
    _same_as_engine(d, ref)
    np.testing.assert_array_equal(d["sizes"], [L, L // 2, L // 4])
    if rule == "majority":  # nearest-point maps: OTS = 1 exactly at every level
        np.testing.assert_allclose(d["ots"][0], [1.0, 1.0], rtol=1e-12)
    assert len(task.lines) == 3 and "map 0→1 (8→4)" in task.lines[0]
    # the kept tracks are the embedded levels, their partners' images those of the partners
    tracks = d["track_images"][0]
    np.testing.assert_array_equal(tracks[1], np.repeat(np.repeat(levels[1][index[:8]], 2, 1), 2, 2))
    partner = d["partner"][0, 1, :8]
    np.testing.assert_array_equal(
        d["partner_images"][0, 1], np.repeat(np.repeat(levels[2][index][partner], 4, 1), 4, 2)
    )


def test_rbm_flow_and_stack_steps_give_the_engine_s_scores():
    rng = np.random.default_rng(2)
    x = spins(rng, 50, 4, 4)
    W, a, b = 0.3 * rng.standard_normal((16, 4)), 0.1 * rng.standard_normal(16), np.zeros(4)
    flow = rbm_flow(W, a, b, x, 3, 0)
    options = ScoreOptions(samples=50, bootstrap=3, seed=0, cost="hamming", metric="hamming")
    d = drive(ScoreTask(levels_plan("rbm-flow", [("flow", np.nan, flow)]), options))
    ref = score_rbm_flow(flow, cost="hamming", metric="hamming", n_bootstrap=3, seed=0)
    _same_as_engine(d, ref)
    W2 = 0.3 * rng.standard_normal((4, 1))
    stack = [(W, b), (W2, np.zeros(1))]
    levels, _ = coarse_grain_stack(x, stack, 2, 0, min_share=0.0)
    rbms = [(W, a), (W2, np.zeros(4))]
    for embedding in ("reconstruction", "repeat"):
        opts = ScoreOptions(samples=50, bootstrap=3, embedding=embedding)
        d = drive(ScoreTask(levels_plan("stack", [("s", 1.0, levels)], block=2, rbms=rbms), opts))
        _same_as_engine(d, score_stack(levels, rbms, 2, embedding=embedding, n_bootstrap=3))


def test_training_steps_give_the_engine_s_line_shape_and_the_geometry_s_w1():
    """The model's samples are equilibrium samples drawn as the geometry computation draws
    them: with the Hamming cost W to the data is its ``wasserstein_to_data``."""
    rng = np.random.default_rng(3)
    n, m = 16, 4
    u = np.ones(n) / 4
    checkpoints = [
        (
            e,
            0.01 * rng.standard_normal((n, m)) + 0.3 * e * np.outer(u, np.eye(m)[0]),
            np.zeros(n),
            np.zeros(m),
        )
        for e in (0, 1, 3)
    ]
    data = spins(rng, 80, 4, 4)
    options = ScoreOptions(samples=40, cost="hamming", burn_in=20, thin=1, chains=8, seed=5)
    task = ScoreTask(training_plan(checkpoints, data, 4), options)
    d = drive(task)
    assert task.total == 3 and d["epoch"].tolist() == [0, 1, 3]
    models = [task.model_samples(c) for c in range(3)]
    np.testing.assert_array_equal(d["sample_images"], np.stack([s[:8] for s in models]))
    data_sub = data[subsample(80, 40, 5, STREAM_DATA)]
    ref = score_training(models, data_sub, cost="hamming")
    np.testing.assert_allclose(d["to_data"], ref["to_data"], rtol=1e-13)
    dist = ref["distribution"]
    np.testing.assert_allclose(d["w_steps"][0], dist["steps"], rtol=1e-13)
    np.testing.assert_allclose(d["w_from_start"][0], dist["from_start"], rtol=1e-13)
    assert d["line_shape"][0] == pytest.approx(dist["line_shape"], rel=1e-13)
    geometry = GeometryTask(
        checkpoints,
        data,
        4,
        GeometryOptions(samples=40, seed=5, burn_in=20, thin=1, chains=8, n_points=10, k=2),
    )
    while not geometry.finished:
        geometry.step()
    np.testing.assert_allclose(d["to_data"], geometry.datasets()["wasserstein_to_data"], rtol=1e-12)


def test_plans_refuse_what_does_not_fit():
    rng = np.random.default_rng(4)
    x = spins(rng, 10, 8, 8)
    with pytest.raises(ScoreInputError, match="at least two levels"):
        levels_plan("block-spin", [("a", 1.0, [x])], block=2)
    with pytest.raises(ScoreInputError, match="level 1 has size 3"):
        levels_plan("block-spin", [("a", 1.0, [x, spins(rng, 10, 3, 3)])], block=2)
    with pytest.raises(ScoreInputError, match="same samples"):
        levels_plan("rbm-flow", [("a", 1.0, [x, spins(rng, 9, 8, 8)])])
    with pytest.raises(ScoreInputError, match="needs as many RBMs"):
        levels_plan("stack", [("a", 1.0, coarse_grain(x, "majority", 2, 1))], block=2)
    with pytest.raises(ScoreInputError, match="needs at least two"):
        training_plan([(0, np.zeros((64, 2)), np.zeros(64), np.zeros(2))], x, 8)
    with pytest.raises(ValueError, match="samples must be"):
        ScoreOptions(samples=1)


# ---------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scores") / "base.h5"
    assert (
        main(
            [
                "rg-flow",
                str(path),
                "--rule",
                "rbm-flow",
                "--temperatures",
                "2.0,2.5",
                "--size",
                str(L),
                "--samples",
                "120",
                "--thermalize",
                "50",
                "--steps",
                "2",
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
                "coarse-grain",
                str(path),
                "--data",
                "ising-001",
                "--rule",
                "majority",
                "--levels",
                "2",
            ]
        )
        == 0
    )
    assert (
        main(
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
                "1",
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
                "ising-002",
                "--hidden",
                "8",
                "--epochs",
                "3",
                "--checkpoint-every",
                "1",
                "--seed",
                "2",
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


def _runs(path: Path) -> dict:
    return load_session(str(path)).runs


def _kinds(path: Path) -> dict[str, str]:
    """The id of the last run of each kind (and rule, for rg runs)."""
    out = {}
    for run in _runs(path).values():
        key = run.kind if run.kind != "rg" else f"rg:{run.params.get('rule')}"
        out[key] = run.id
    return out


@pytest.mark.parametrize(
    ("key", "mode", "steps"),
    [
        ("rg-flow", "rbm-flow", 2 * 3),
        ("rg:majority", "block-spin", 3),
        ("rg:rbm", "stack", 3),
        ("rbm", "training", 4),
    ],
)
def test_score_stores_a_run_that_reopens(session, capsys, key, mode, steps):
    source = _kinds(session)[key]
    before = set(_runs(session))
    assert main(["score", str(session), "--run", source, *FAST, "--burn-in", "20"]) == 0
    out = capsys.readouterr().out.splitlines()
    runs = _runs(session)
    (new,) = set(runs) - before
    run = runs[new]
    assert run.kind == "scores" and run.status == "finished" and run.inputs[0] == source
    assert sum(line.startswith(source) for line in out) == steps  # one line per step
    assert out[-1].startswith(f"{new}: finished, {steps} of {steps} steps")
    check_structure(run.kind, run.id, run.params, run.datasets)
    view = view_of(run)
    assert isinstance(view, ScoresRunView) and run_kind("scores").dock == "geometryDock"
    assert (view.mode, view.source_id, view.n_samples, view.cost) == (
        mode,
        source,
        60,
        "sqeuclidean",
    )
    assert view.solvers_used == ("emd",) and view.seed == 0
    assert summary_of(run).startswith(f"{source} ({mode})")
    for name, attrs in run.dataset_attrs.items():
        assert attrs["units"] and attrs["axes"], name
    # the same seed gives the same numbers: the task on the plan from the stored session
    again = drive(
        ScoreTask(plan_from_run(source, runs), ScoreOptions(samples=60, bootstrap=4, burn_in=20))
    )
    for name, array in view.contract.items():
        np.testing.assert_array_equal(array, again[name], err_msg=name)
    d = view.contract
    if mode == "training":
        assert d["epoch"].tolist() == [e for e, *_ in run_checkpoints(runs[source])]
        assert np.all(d["running"] >= 1 - 1e-12)
    else:
        assert np.all(d["ots"] >= 1 - 1e-12) and np.all(d["lss"] >= 1)
        assert np.all(np.isfinite(d["ots_error"]))
        if mode == "block-spin":
            np.testing.assert_allclose(d["ots"], 1.0, rtol=1e-12)
        if mode == "rbm-flow":
            np.testing.assert_allclose(d["temperature"], [2.0, 2.5])


def _refused(session: Path, capsys, *args: str) -> str:
    before = digest(session)
    assert main(["score", str(session), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("monge-lab: error:")
    assert digest(session) == before
    return err[0]


def test_bad_input_is_one_line_and_changes_nothing(session, capsys, tmp_path):
    assert "no run 'nope'" in _refused(session, capsys, "--run", "nope")
    assert "kind 'ising'" in _refused(session, capsys, "--run", "ising-001")
    assert "samples must be" in _refused(session, capsys, "--run", "rg-001", "--samples", "1")
    assert "solver must be" in _refused(session, capsys, "--run", "rg-001", "--solver", "lp")
    assert "cost must be" in _refused(session, capsys, "--run", "rg-001", "--cost", "l1")
    # an imported RBM: no checkpoints, no training data
    one = tmp_path / "one.h5"
    shutil.copy(session, one)
    rng = np.random.default_rng(0)
    save_npz(
        tmp_path / "p.npz", RBM(0.1 * rng.standard_normal((L * L, 4)), np.zeros(L * L), np.zeros(4))
    )
    assert main(["import-rbm", str(one), str(tmp_path / "p.npz"), "--size", str(L)]) == 0
    capsys.readouterr()
    rbm = max(r.id for r in _runs(one).values() if r.kind == "rbm")
    assert "records no training data" in _refused(one, capsys, "--run", rbm)


def test_missing_session_is_refused(tmp_path, capsys):
    assert main(["score", str(tmp_path / "none.h5"), "--run", "rg-001"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_score_command_never_imports_qt(session):
    probe = (
        "import json, sys\nfrom main import main\ncode = main(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'qt': sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('PySide6', 'pyqtgraph'))}))"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "score",
            str(session),
            "--run",
            "rg-001",
            "--samples",
            "30",
            "--bootstrap",
            "0",
            "--quiet",
        ],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=600,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"code": 0, "qt": []}


def test_units_follow_the_cost_and_metric():
    assert dataset_info("ot_cost", "sqeuclidean")[0].startswith("spin² per site")
    assert dataset_info("w_steps", "hamming")[0].startswith("fraction of spins (W₁)")
    assert dataset_info("step_lengths", metric="euclidean")[0].startswith("spin per site")
    assert dataset_info("step_lengths", unit_steps=True)[0].startswith("steps")


# ---------------------------------------------------------------------------- gai-zhang
def test_gai_zhang_quick_gives_the_table_with_its_exact_facts():
    result = gai_zhang(quick=True, seed=0)
    rows = result["rows"]
    assert {r["family"] for r in rows} == set(FAMILIES)
    assert len(rows) == len(FAMILIES) * len(result["settings"]["temperatures"])
    for r in rows:
        assert r["n_samples"] == result["settings"]["samples"]  # every map at the same N
        assert r["lss"] >= 1 and np.isfinite(r["lss_error"]) and r["lss_error"] > 0
        assert min(r["ots"]) >= 1 - 1e-12 and r["ots_total"] >= 1 - 1e-12
        assert all(np.isfinite(r["ots_error"]))
        assert r["line_shape"] >= 1 - 1e-12
        if r["family"] == "majority":  # nearest-point maps, by construction
            assert r["ots"] == pytest.approx([1.0] * r["maps"], rel=1e-12)
        if r["family"] == "decimation":  # not nearest-point: the whole map is not optimal
            assert r["ots_total"] > 1 + 3 * r["ots_total_error"]
    assert len(result["statement"]) == len(FAMILIES)
    assert "OTS = 1 exactly" in next(s for s in result["statement"] if s.startswith("majority"))
    table = format_table(result)
    assert table.count("\n") == len(rows) + 1
    assert set(result["seconds"]) >= {"data", "train_flow", "train_stack", "total"}


def test_gai_zhang_takes_given_configurations():
    rng = np.random.default_rng(0)
    given = {2.0: spins(rng, 40, 4, 4), 3.0: spins(rng, 40, 4, 4)}
    result = gai_zhang(
        quick=True,
        configurations=given,
        families=("majority",),
        overrides={"samples": 20, "bootstrap": 2, "levels": 1},
    )
    assert [r["temperature"] for r in result["rows"]] == [2.0, 3.0]
    assert result["settings"]["data"] == "given" and result["settings"]["n_scored"] == 20
    with pytest.raises(ValueError, match="unknown settings"):
        gai_zhang(quick=True, overrides={"nope": 1})
