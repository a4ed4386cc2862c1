"""``train --monitor-every N``: the model-vs-data observables in the history at the right
epochs, agreeing with an exact evaluation of the same checkpoint; seconds per epoch; a progress
bar per minibatch; bad values refused before any work."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
import torch

import lab.rbm.task as task_module
from data import load_session
from engines.rbm import RBM, RBMTrainer
from engines.rbm.recipes import ising_config
from engines.rbm.thermodynamics import exact_model_thermodynamics
from lab.rbm.runs import training_data
from lab.rbm.task import RBMRecording, RBMTrainingTask, default_monitor_every
from main import main
from tests.lab.rbm.conftest import digest

TEMPERATURE = 2.269  # the conftest's L = 4 run


def train(path, *extra: str) -> int:
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
            *extra,
        ]
    )


def test_monitor_values_at_the_right_epochs_agree_with_the_exact_model(session, capsys):
    assert train(session, "--epochs", "5", "--monitor-every", "2") == 0
    out = capsys.readouterr().out
    assert "epoch 2 model vs data: e " in out and "<m>" in out and "<|m|>" in out
    with h5py.File(session, "r") as f:
        run = f["runs/rbm-001"]
        history = {k: run[f"history/{k}"][()] for k in run["history"]}
        units = {k: run[f"history/{k}"].attrs["units"] for k in ("seconds", "model_e")}
        W, a, b = (run[f"checkpoints/{k}"][()] for k in "Wab")
        epochs = run["checkpoints/epoch"][()]
    measured = np.flatnonzero(np.isfinite(history["model_e"]))
    np.testing.assert_array_equal(history["epoch"][measured], [0, 2, 4, 5])  # and the last
    for key in ("e", "m", "abs_m", "binder", "c", "chi"):
        for name in (f"model_{key}", f"model_{key}_error", f"data_{key}", f"data_{key}_error"):
            assert history[name].shape == history["epoch"].shape
            np.testing.assert_array_equal(
                np.isfinite(history[name]), np.isfinite(history["model_e"])
            )
    assert history["seconds"].shape == history["epoch"].shape and history["seconds"][0] == 0
    assert np.all(history["seconds"][1:] > 0) and np.all(history["metric_seconds"] > 0)
    assert [u.decode() if isinstance(u, bytes) else u for u in units.values()] == [
        "s",
        "J per spin",
    ]
    # independent evaluation of the same checkpoints: the model's exact thermodynamics
    # (hidden layer enumerated); the monitor's σ from τ_int of 1024 samples
    for epoch in (2, 4):
        i = int(np.flatnonzero(epochs == epoch)[0])
        model = RBM(W[i], a[i], b[i], dtype=torch.float64)
        exact = exact_model_thermodynamics(model, TEMPERATURE)
        row = int(np.flatnonzero(history["epoch"] == epoch)[0])
        for key in ("e", "m", "abs_m"):
            value, error = history[f"model_{key}"][row], history[f"model_{key}_error"][row]
            assert error > 0 and abs(value - exact[key]) < 4 * error, (
                epoch,
                key,
                value,
                exact[key],
            )
    # the data's side: the training set (the data less the held-out 5 %), within its σ of all
    runs = load_session(session).runs
    data, _ = training_data([runs["ising-001"]])
    assert abs(history["data_e"][0] - np.mean(_energies(data, 4))) < history["data_e_error"][0]


def _energies(data: np.ndarray, L: int) -> np.ndarray:
    s = data.reshape(-1, L, L).astype(np.float64)
    return -(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)).sum((1, 2)) / (L * L)


def test_monitor_off_and_default(session):
    assert train(session, "--epochs", "2", "--monitor-every", "0", "--quiet") == 0
    with h5py.File(session, "r") as f:
        assert "history/model_e" not in f["runs/rbm-001"] and "history/seconds" in f["runs/rbm-001"]
        assert int(f["runs/rbm-001"].attrs["monitor_every"]) == 0
    assert default_monitor_every(1105) == 55 and default_monitor_every(3) == 1


@pytest.mark.parametrize("value", ["-1", "1.5", "x", "99999999999"])
def test_bad_monitor_every_exits_2_with_one_line_and_the_session_unchanged(session, capsys, value):
    before = digest(session)
    assert train(session, "--epochs", "2", "--monitor-every", value) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--monitor-every" in err[0] and "Traceback" not in err[0]
    assert digest(session) == before


def test_progress_advances_per_batch_and_monitor_is_deterministic(session, monkeypatch):
    monkeypatch.setattr(task_module, "STEP_SECONDS", 0.0)  # one minibatch per step
    runs = load_session(session).runs
    data, _ = training_data([runs["ising-001"]])
    config = ising_config(n_hidden=6, batch_size=32, epochs=2, seed=3)
    tasks = [
        RBMTrainingTask(
            RBMTrainer(config, data), RBMRecording(), monitor_every=1, temperature=TEMPERATURE
        )
        for _ in range(2)
    ]
    first = [t.recording.copy()[0]["model_e"][0] for t in tasks]
    assert first[0] == first[1] and math.isfinite(first[0])  # same seed, same monitor
    task = tasks[0]
    fractions = []
    while not task.finished:
        fractions.append(task.step().progress)
    n_batches = task.trainer.n_batches
    assert len(fractions) == 2 * n_batches
    np.testing.assert_allclose(fractions, np.arange(1, 2 * n_batches + 1) / (2 * n_batches))
