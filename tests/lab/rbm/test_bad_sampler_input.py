"""Bad input to ``sample``, ``evaluate`` and ``train`` found by a review after the first rounds
of checks: every case is one line on stderr and exit 2, decided before any sampling or training,
with the session byte for byte unchanged. Damaged runs are made with plain h5py (a deleted W, a
``size`` that does not fit, NaN weights, a NaN temperature): the file's format rules accept them,
the commands that use the run must not."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from main import main
from tests.cli_checks import forbid, refused


@pytest.fixture(scope="module")
def trained(base_session, tmp_path_factory) -> Path:
    """The shared simulation with one small trained RBM, rbm-001."""
    path = tmp_path_factory.mktemp("sampler") / "trained.h5"
    shutil.copy(base_session, path)
    train = ["train", str(path), "--data", "ising-001", "--hidden", "4", "--epochs", "2"]
    train += ["--batch", "50", "--k", "1", "--chains", "16", "--quiet", "--monitor-every", "0"]
    assert main(train) == 0
    return path


@pytest.fixture
def session(trained, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(trained, path)
    return path


@pytest.fixture(autouse=True)
def no_work(monkeypatch):
    """Sampling or training fails the test: every refusal must come before them (the hanging
    cases used to sample for hours)."""
    import lab.rbm.commands  # noqa: F401 (imported before it is patched)

    names = ("sample_model", "model_thermodynamics", "log_z_of")
    forbid(monkeypatch, *(f"lab.rbm.evaluation.{n}" for n in names), "lab.rbm.commands.RBMTrainer")


SAMPLE = ["--rbm", "rbm-001", "--samples", "40", "--burn-in", "2", "--thin", "1"]


@pytest.mark.parametrize("command", ["sample", "evaluate"])
@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**70)], "--seed"),
        (["--burn-in", str(10**14)], "--burn-in"),
        (["--thin", str(10**14)], "--thin"),
    ],
)
def test_sampler_options_out_of_range(session, capsys, command, extra, fragment):
    refused([command, str(session), *SAMPLE, *extra], session, capsys, fragment)


@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_samples_that_cannot_fit_in_memory_are_refused_with_the_estimate(session, capsys, command):
    argv = [command, str(session), "--rbm", "rbm-001", "--samples", str(10**13)]
    refused(argv, session, capsys, "GiB of memory")


def test_a_train_seed_the_session_cannot_store_is_refused_before_training(session, capsys):
    argv = ["train", str(session), "--data", "ising-001", "--hidden", "4", "--epochs", "200"]
    refused([*argv, "--seed", str(2**63)], session, capsys, "2**63")


def damage(path: Path, edit) -> None:
    with h5py.File(path, "r+") as f:
        edit(f)


@pytest.mark.parametrize("command", ["sample", "evaluate"])
@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda f: f["runs/rbm-001"].__delitem__("W"), "no parameters"),
        (lambda f: f["runs/rbm-001"].attrs.__setitem__("size", 0), "size 0"),
        (lambda f: f["runs/rbm-001"].attrs.__setitem__("size", "eight"), "size 'eight'"),
        (lambda f: f["runs/rbm-001/W"].__setitem__(..., np.nan), "not finite"),
    ],
    ids=["no-W", "size-0", "size-text", "nan-W"],
)
def test_a_damaged_rbm_run_is_refused(session, capsys, command, edit, fragment):
    damage(session, edit)
    refused([command, str(session), *SAMPLE], session, capsys, fragment)


def test_training_on_a_run_with_a_nan_temperature_is_refused(session, capsys):
    damage(session, lambda f: f["runs/ising-001"].attrs.__setitem__("temperature", np.nan))
    argv = ["train", str(session), "--data", "ising-001", "--hidden", "4", "--epochs", "2"]
    refused(argv, session, capsys, "not a positive number")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--batch", "0"], "--batch"),
        (["--lr", "-1"], "--lr"),
        (["--hidden", "8"], "--hidden"),
        (["--data", "ising-001"], "--data"),
        (["--early-stop", "5", "--validation", "0"], "--validation"),
    ],
)
def test_resume_refuses_options_it_would_ignore(session, capsys, extra, fragment):
    argv = ["train", str(session), "--resume", "rbm-001", "--epochs", "5", *extra]
    line = refused(argv, session, capsys, fragment)
    assert "only --epochs can grow" in line
