"""The metrics' schedule (issue 14: at L = 40, m = 400 the per-epoch metrics cost ~20 epochs of
updates): ``metrics_every`` N measures every N-th epoch, 0 keeps them within 8 % of the
updates' time; epoch 0 and the last are always measured, unmeasured rows hold NaN, and the
schedule never changes the trained parameters."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from data import read_run
from engines.rbm import RBMConfig, RBMTrainer
from lab.rbm.runs import history_results
from lab.rbm.task import METRICS_ALWAYS_WEIGHTS, METRICS_BUDGET, RBMRecording, RBMTrainingTask
from main import main

EPOCHS = 7


def _data(n: int = 100, rows: int = 200) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.where(rng.random((rows, n)) < 0.5, 1, -1).astype(np.int8)


def _train(metrics_every: int, n_hidden: int = 64) -> tuple[RBMTrainingTask, RBMTrainer]:
    config = RBMConfig(n_hidden=n_hidden, batch_size=50, epochs=EPOCHS, k=1, seed=5)
    trainer = RBMTrainer(config, _data())
    task = RBMTrainingTask(trainer, RBMRecording(), metrics_every=metrics_every)
    while not task.finished:
        task.step()
    return task, trainer


def _measured(task: RBMTrainingTask) -> list[int]:
    history, _, _ = task.recording.copy()
    assert np.array_equal(history["epoch"], np.arange(EPOCHS + 1))  # one row per epoch
    assert np.all(np.isfinite(history["seconds"]))
    return [int(e) for e in history["epoch"][np.isfinite(history["nll_train"])]]


def test_a_fixed_period_measures_its_epochs_the_first_and_the_last():
    task, _ = _train(metrics_every=3)
    assert _measured(task) == [0, 3, 6, 7]


def test_the_schedule_never_changes_the_trained_parameters():
    every, _ = _train(metrics_every=1)
    rarely, _ = _train(metrics_every=EPOCHS)
    assert _measured(every) == list(range(EPOCHS + 1))
    assert _measured(rarely) == [0, EPOCHS]
    first, second = every.recording.checkpoints, rarely.recording.checkpoints
    assert len(first) == len(second) == EPOCHS + 1
    for (e1, *p1), (e2, *p2) in zip(first, second, strict=True):
        assert e1 == e2
        for x, y in zip(p1, p2, strict=True):
            np.testing.assert_array_equal(x, y)


def test_automatic_keeps_the_metrics_within_their_budget_of_the_update_time():
    task, trainer = _train(metrics_every=0)
    assert trainer.model.n_visible * trainer.model.n_hidden > METRICS_ALWAYS_WEIGHTS
    measured = _measured(task)
    assert measured[0] == 0 and measured[-1] == EPOCHS
    # The rule itself, with the costs set: due once the updates since the last measurement took
    # cost / budget seconds.
    task._metrics_cost = 1.0
    task._update_seconds = 0.99 / METRICS_BUDGET
    assert not task.metrics_due(3)
    task._update_seconds = 1.0 / METRICS_BUDGET
    assert task.metrics_due(3)
    assert task.metrics_due(0) and task.metrics_due(EPOCHS)  # always


def test_small_models_are_measured_every_epoch_when_automatic():
    task, trainer = _train(metrics_every=0, n_hidden=8)
    assert trainer.model.n_visible * trainer.model.n_hidden <= METRICS_ALWAYS_WEIGHTS
    assert _measured(task) == list(range(EPOCHS + 1))


def test_results_hold_the_last_measured_values():
    nan = math.nan
    history = {
        "epoch": np.array([0.0, 1.0, 2.0, 3.0]),
        "nll_train": np.array([5.0, 4.0, nan, nan]),
        "seconds": np.array([0.0, 1.0, 1.0, 1.0]),
    }
    results = history_results(history)
    assert results["nll_train"] == 4.0 and results["metrics_epoch"] == 1
    assert results["epochs_done"] == 3 and results["seconds"] == 1.0


def test_train_records_its_metrics_period_and_refuses_a_bad_one(tmp_path: Path, capsys):
    path = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "10",
                "--temperature",
                "2.5",
                "--samples",
                "100",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    base = ["train", str(path), "--data", "ising-001", "--hidden", "64", "--quiet"]
    assert main([*base, "--epochs", "3", "--metrics-every", "-1"]) == 2
    assert "metrics-every" in capsys.readouterr().err
    assert main([*base, "--epochs", "4", "--metrics-every", "2", "--k", "1"]) == 0
    run = read_run(path, "rbm-001")
    assert run.params["metrics_every"] == 2
    nll = run.datasets["history/nll_train"]
    assert np.isfinite(nll[[0, 2, 4]]).all() and np.isnan(nll[[1, 3]]).all()
