"""The RBM commands end to end on a real (small) simulation: train, resume, sample, evaluate,
import/export, and every kind of bad input."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import add_runs, load_session, read_run
from engines.rbm import (
    RBM,
    RBMTrainer,
    log_partition_exact,
    log_probabilities_exact,
    save_npz,
)
from engines.rbm.recipes import ising_config
from lab.rbm.runs import finish_rbm_run, new_rbm_run, training_data
from lab.rbm.task import RBMRecording, RBMTrainingTask
from main import main


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rbm") / "base.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "4",
                "--temperature",
                "2.269",
                "--algorithm",
                "wolff",
                "--samples",
                "600",
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
                "6",
                "--temperature",
                "2.5",
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
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base_session, path)
    return path


def train(path: Path, *extra: str) -> int:
    return main(
        [
            "train",
            str(path),
            "--data",
            "ising-001",
            "--hidden",
            "6",
            "--batch",
            "32",
            "--seed",
            "3",
            "--quiet",
            *extra,
        ]
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_train_records_parameters_checkpoints_and_history(session, capsys):
    assert train(session, "--epochs", "3") == 0
    assert "rbm-001" in capsys.readouterr().out
    with h5py.File(session, "r") as f:
        run = f["runs/rbm-001"]
        assert text(run.attrs["kind"]) == "rbm" and text(run.attrs["status"]) == "finished"
        assert [text(x) for x in run.attrs["data"]] == ["ising-001"]
        assert [text(x) for x in run.attrs["inputs"]] == ["ising-001"]
        assert run["W"].shape == (16, 6) and run["a"].shape == (16,) and run["b"].shape == (6,)
        np.testing.assert_array_equal(run["checkpoints/epoch"][()], [0, 1, 2, 3])
        assert run["checkpoints/W"].shape == (4, 16, 6)
        np.testing.assert_array_equal(run["checkpoints/W"][-1], run["W"][()])
        nll = run["history/nll_valid"][()]
        assert nll.shape == (4,) and nll[-1] < nll[0]  # learning lowers the held-out NLL
        assert np.all(run["history/log_z_exact"][()] == 1)  # m = 6: log Z is enumerated


def test_a_stopped_run_resumes_exactly_like_an_uninterrupted_run(session):
    """Stop a 4-epoch run in the middle of epoch 2 (as Stop or Ctrl-C would), save it, resume it
    from the command line: it must end exactly where the uninterrupted run ends."""
    assert train(session, "--epochs", "4") == 0  # rbm-001, uninterrupted
    runs = load_session(session).runs
    data, size = training_data([runs["ising-001"]])
    config = ising_config(n_hidden=6, batch_size=32, epochs=4, seed=3)  # train's defaults
    trainer = RBMTrainer(config, data)
    recording = RBMRecording()
    task = RBMTrainingTask(trainer, recording)
    while trainer.epoch < 2 or trainer.batch_in_epoch < 3:
        trainer.step_batch() if trainer.epoch >= 2 else task.step()
    task.on_stop()
    run = finish_rbm_run(
        new_rbm_run("rbm-002", config, size, ["ising-001"]),
        recording,
        trainer,
        "stopped",
        "2026-01-01T00:00:00Z",
    )
    add_runs(session, [run])
    assert main(["train", str(session), "--resume", "rbm-002", "--quiet"]) == 0
    with h5py.File(session, "r") as f:
        straight, resumed = f["runs/rbm-001"], f["runs/rbm-002"]
        assert text(resumed.attrs["status"]) == "finished"
        np.testing.assert_array_equal(straight["W"][()], resumed["W"][()])
        np.testing.assert_array_equal(
            straight["history/nll_train"][()], resumed["history/nll_train"][()]
        )
        np.testing.assert_array_equal(resumed["checkpoints/epoch"][()], [0, 1, 2, 3, 4])


def test_a_finished_run_can_be_extended(session):
    assert train(session, "--epochs", "2") == 0
    assert main(["train", str(session), "--resume", "rbm-001", "--epochs", "3", "--quiet"]) == 0
    with h5py.File(session, "r") as f:
        np.testing.assert_array_equal(f["runs/rbm-001/checkpoints/epoch"][()], [0, 1, 2, 3])
        assert int(f["runs/rbm-001"].attrs["epochs"]) == 3


def test_sample_and_evaluate_store_their_results(session, capsys):
    assert train(session, "--epochs", "2") == 0
    assert (
        main(
            [
                "sample",
                str(session),
                "--rbm",
                "rbm-001",
                "--samples",
                "200",
                "--burn-in",
                "100",
                "--thin",
                "2",
            ]
        )
        == 0
    )
    assert main(["evaluate", str(session), "--rbm", "rbm-001", "--samples", "200"]) == 0
    out = capsys.readouterr().out
    assert "log Z" in out and "(exact)" in out and "<|m|>" in out and "Δ/σ exact" in out
    samples = read_run(session, "rbm-samples-001").datasets["samples"]  # stored bit-packed
    assert samples.shape == (200, 4, 4) and samples.dtype == np.int8
    assert set(np.unique(samples)) <= {-1, 1}
    with h5py.File(session, "r") as f:
        assert [text(x) for x in f["runs/rbm-samples-001"].attrs["inputs"]] == ["rbm-001"]
        evaluation = dict(f["runs/rbm-001/evaluation"].attrs)
        W = f["runs/rbm-001/W"][()].astype(np.float64)
        a, b = f["runs/rbm-001/a"][()], f["runs/rbm-001/b"][()]
    assert text(evaluation["log_z_method"]) == "exact"
    assert float(evaluation["log_z_error"]) == 0.0
    assert "model_e" in evaluation and "data_e_error" in evaluation
    assert "slope" in out and "K1" in out
    assert float(evaluation["beta_J"]) == pytest.approx(1 / 2.269)
    assert np.isfinite(float(evaluation["K1"])) and float(evaluation["free_energy_r2"]) <= 1
    # the stored log Z is the model's, enumerated over the hidden layer independently
    assert float(evaluation["log_z"]) == pytest.approx(
        log_partition_exact(RBM(W, a, b, dtype=None), over="hidden"), abs=1e-6
    )


@pytest.mark.parametrize("convention", ["pm1", "01"])
def test_import_preserves_every_probability(session, tmp_path, convention):
    rng = np.random.default_rng(7)
    model = RBM(
        rng.normal(0, 0.5, (16, 5)), rng.normal(0, 0.3, 16), rng.normal(0, 0.3, 5), dtype=None
    )
    npz = tmp_path / "model.npz"
    save_npz(npz, model, convention=convention)
    assert (
        main(["import-rbm", str(session), str(npz), "--size", "4", "--convention", convention]) == 0
    )
    with h5py.File(session, "r") as f:
        run = f["runs/rbm-001"]
        imported = RBM(run["W"][()], run["a"][()], run["b"][()], dtype=None)
    np.testing.assert_allclose(
        log_probabilities_exact(imported), log_probabilities_exact(model), atol=1e-10
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["train", "{s}", "--data", "ising-404", "--hidden", "4"], "no run"),
        (["train", "{s}", "--hidden", "4"], "--data"),
        (["train", "{s}", "--data", "ising-001", "--data", "ising-002", "--hidden", "4"], "l ="),
        (["train", "{s}", "--data", "ising-001", "--hidden", "0"], "hidden"),
        (["train", "{s}", "--data", "ising-001", "--lr", "nan"], "finite"),
        (["train", "{s}", "--data", "ising-001", "--lr", "-0.1"], "learning"),
        (["train", "{s}", "--data", "ising-001", "--method", "magic"], "method"),
        (["sample", "{s}", "--rbm", "ising-001"], "kind"),
        (["evaluate", "{s}", "--rbm", "rbm-404"], "no run"),
        (["train", "{s}", "--resume", "ising-001"], "kind"),
        (["train", "{s}", "--data", "ising-001", "--data", "ising-001"], "more than once"),
        (
            ["train-stack", "{s}", "--data", "ising-001", "--data", "ising-001", "--hidden", "16"],
            "more than once",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_the_file_unchanged(session, capsys, argv, fragment):
    before = digest(session)
    assert main([a.replace("{s}", str(session)) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0].lower()
    assert digest(session) == before


def test_import_with_the_wrong_size_is_refused(session, tmp_path, capsys):
    npz = tmp_path / "m.npz"
    save_npz(npz, RBM(np.zeros((9, 2)), np.zeros(9), np.zeros(2), dtype=None))
    before = digest(session)
    assert main(["import-rbm", str(session), str(npz), "--size", "4"]) == 2
    assert "9 visible" in capsys.readouterr().err
    assert digest(session) == before


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04junk", b"", b"not a zip at all", b"PK\x05\x06" + bytes(18)]
)
def test_import_rbm_of_a_file_that_is_not_an_npz_is_one_line_and_exit_2(
    session, tmp_path, capsys, content
):
    npz = tmp_path / "junk.npz"
    npz.write_bytes(content)
    before = digest(session)
    assert main(["import-rbm", str(session), str(npz), "--size", "4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read" in err and "Traceback" not in err
    assert digest(session) == before


def test_divergence_keeps_the_last_good_checkpoint_and_marks_the_run_failed(session, capsys):
    assert train(session, "--epochs", "20", "--lr", "1e6", "--momentum", "0.99") == 1
    assert "diverged" in capsys.readouterr().err
    with h5py.File(session, "r") as f:
        run = f["runs/rbm-001"]
        assert text(run.attrs["status"]) == "failed"
        assert "diverged" in text(run.attrs["message"]).lower()
        W = run["W"][()]
        assert np.all(np.isfinite(W))
        np.testing.assert_array_equal(W, run["checkpoints/W"][-1])


def test_a_session_another_monge_lab_writes_is_refused_before_any_work(session, capsys):
    """The GUI (or another command) holding the session: train and coarse-grain exit 2 at
    once, naming the holder, and the file is untouched."""
    from data.lock import SessionLock

    before = digest(session)
    with SessionLock(session):
        assert train(session, "--epochs", "50") == 2
        err = capsys.readouterr().err.strip()
        assert "open for writing in another Monge Lab" in err and "\n" not in err
        assert main(["coarse-grain", str(session), "--data", "ising-001"]) == 2
        assert "another Monge Lab" in capsys.readouterr().err
    assert digest(session) == before
