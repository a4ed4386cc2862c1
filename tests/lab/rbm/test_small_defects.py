"""Issue 10's small RBM defects, each as a test: what the command prints and records, and every
bad input refused with exit 2, one line on stderr and the session unchanged byte for byte."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from engines.rbm import RBM, save_npz
from main import main
from tests.lab.rbm.conftest import digest


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
            "--method",
            "cd",
            "--k",
            "1",
            "--optimizer",
            "sgd",
            "--lr",
            "0.01",
            "--seed",
            "3",
            "--quiet",
            *extra,
        ]
    )


def refused(capsys, session, argv: list[str], fragment: str) -> None:
    before = digest(session)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0].lower(), err
    assert digest(session) == before


def small_model(seed: int = 7, n: int = 16, m: int = 5) -> RBM:
    rng = np.random.default_rng(seed)
    return RBM(rng.normal(0, 0.3, (n, m)), rng.normal(0, 0.1, n), rng.normal(0, 0.1, m), dtype=None)


def test_import_records_and_prints_the_files_own_convention(session, tmp_path, capsys):
    npz = tmp_path / "m.npz"
    save_npz(npz, small_model(), convention="01")
    assert main(["import-rbm", str(session), str(npz), "--size", "4"]) == 0  # CLI default pm1
    assert "01 convention" in capsys.readouterr().out
    with h5py.File(session, "r") as f:
        assert f["runs/rbm-001"].attrs["convention"] in ("01", b"01")


def test_import_of_non_finite_parameters_is_refused(session, tmp_path, capsys):
    npz = tmp_path / "nan.npz"
    np.savez(npz, W=np.full((16, 3), np.nan), a=np.zeros(16), b=np.zeros(3))
    refused(capsys, session, ["import-rbm", str(session), str(npz), "--size", "4"], "finite")


def test_an_impossible_hidden_layer_is_refused_before_any_work(session, capsys):
    refused(
        capsys,
        session,
        ["train", str(session), "--data", "ising-001", "--hidden", "1000000000000", "--quiet"],
        "memory",
    )


def test_an_overflowing_learning_rate_is_a_failed_run_without_traceback(session, capsys):
    assert train(session, "--lr", "1e300", "--epochs", "2") == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "diverged" in err
    with h5py.File(session, "r") as f:
        run = f["runs/rbm-001"]
        assert run.attrs["status"] in ("failed", b"failed")
        assert np.all(np.isfinite(run["W"][()]))


def test_resuming_a_finished_run_without_new_epochs_is_refused(session, capsys):
    assert train(session, "--epochs", "2") == 0
    capsys.readouterr()
    refused(capsys, session, ["train", str(session), "--resume", "rbm-001", "--quiet"], "epochs")
    refused(
        capsys,
        session,
        ["train", str(session), "--resume", "rbm-001", "--epochs", "2", "--quiet"],
        "epochs",
    )


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--ais-chains", "0", "ais"),
        ("--ais-betas", "1", "ais"),
        ("--samples", "0", "samples"),
        ("--chains", "0", "chains"),
        ("--burn-in", "-1", "burn"),
        ("--thin", "0", "thin"),
        ("--temperature", "0", "temperature"),
    ],
)
def test_evaluate_refuses_bad_sampler_settings(session, tmp_path, capsys, option, value, fragment):
    assert train(session, "--epochs", "1") == 0
    capsys.readouterr()
    refused(
        capsys, session, ["evaluate", str(session), "--rbm", "rbm-001", option, value], fragment
    )
