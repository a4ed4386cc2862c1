"""Early stopping on the held-out NLL (issue 12's candidate "train until the held-out NLL stops
improving, the best checkpoint kept"): the task finishes after P measurements without an
improvement larger than the error bar, and the run keeps the best epoch's parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from data import read_run
from engines.rbm import RBMConfig, RBMTrainer
from lab.rbm.runs import finish_rbm_run, new_rbm_run
from lab.rbm.task import RBMRecording, RBMTrainingTask
from main import main


def _overfitting_trainer(validation: float = 0.4) -> RBMTrainer:
    """80 random 4×4 configurations, 16 hidden units, a large constant step: the held-out NLL
    (exact log Z) falls for a few epochs, then rises as the model learns the noise."""
    rng = np.random.default_rng(3)
    data = np.where(rng.random((80, 16)) < 0.5, 1, -1).astype(np.int8)
    config = RBMConfig(
        n_hidden=16,
        batch_size=8,
        learning_rate=0.05,
        lr_schedule="constant",
        epochs=300,
        k=1,
        validation_fraction=validation,
        seed=2,
    )
    return RBMTrainer(config, data)


def test_training_stops_once_the_held_out_nll_is_stale_and_keeps_the_best_epoch():
    trainer = _overfitting_trainer()
    recording = RBMRecording()
    task = RBMTrainingTask(trainer, recording, early_stop=4)
    while not task.finished:
        task.step()
    assert task.stopped_early and recording.stopped_early
    assert trainer.epoch < trainer.config.epochs  # stopped well before the end
    history, checkpoints, _ = recording.copy()
    nll = history["nll_valid"]
    best_epoch, best_nll = recording.best
    assert np.all(np.isfinite(nll))  # a 16 × 16 model is measured every epoch
    assert best_epoch == int(np.argmin(nll)) and best_nll == nll.min()  # exact log Z: no error bar
    assert trainer.epoch == best_epoch + 4  # four measurements without an improvement
    run = finish_rbm_run(
        new_rbm_run("rbm-001", trainer.config, 4, []), recording, trainer, "finished", "now"
    )
    (saved,) = [c for c in checkpoints if c[0] == best_epoch]
    for name, values in zip(("W", "a", "b"), saved[1:], strict=True):
        np.testing.assert_array_equal(run.datasets[name], values)
    assert not np.array_equal(run.datasets["W"], trainer.model.to_numpy()["W"])
    assert run.results["best_epoch"] == best_epoch and run.results["epochs_done"] == trainer.epoch


def test_early_stopping_needs_a_held_out_set():
    with pytest.raises(ValueError, match="held-out set"):
        RBMTrainingTask(_overfitting_trainer(validation=0.0), RBMRecording(), early_stop=3)


def test_train_early_stop_end_to_end_and_its_bad_input(tmp_path: Path, capsys):
    path = tmp_path / "S.h5"
    simulate = ["simulate", "--out", str(path), "--size", "4", "--temperature", "2.269"]
    assert main([*simulate, "--samples", "80", "--seed", "3", "--quiet"]) == 0
    train = [
        "train",
        str(path),
        "--data",
        "ising-001",
        "--hidden",
        "16",
        "--epochs",
        "300",
        "--batch",
        "8",
        "--lr",
        "0.05",
        "--optimizer",
        "sgd",
        "--k",
        "1",
        "--schedule",
        "constant",
        "--symmetry",
        "none",
        "--quiet",
    ]
    before = path.read_bytes()
    assert main([*train, "--validation", "0", "--early-stop", "3"]) == 2
    assert "held-out set" in capsys.readouterr().err
    assert path.read_bytes() == before  # nothing written
    assert main([*train, "--early-stop", "-1"]) == 2
    assert main([*train, "--validation", "0.4", "--early-stop", "5"]) == 0
    out = capsys.readouterr().out
    assert "stopped early at epoch" in out
    run = read_run(path, "rbm-001")
    assert run.status == "finished" and run.params["early_stop"] == 5
    best = int(run.results["best_epoch"])
    epochs = list(run.datasets["checkpoints/epoch"])
    np.testing.assert_array_equal(
        run.datasets["W"], run.datasets["checkpoints/W"][epochs.index(best)]
    )
    assert run.results["epochs_done"] == best + 5
