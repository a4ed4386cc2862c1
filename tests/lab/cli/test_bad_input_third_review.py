"""Bad input left open by the second review: numbers only as typed on a keyboard, empty list
items, trainer counts without an upper bound. Each is one line on stderr and exit 2 before any
work, the session byte for byte unchanged (``tests.cli_checks``)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from engines.constraints import Interval, number_from_text
from engines.rbm import RBMConfig
from lab.cli.common import finite_float, integer
from main import main
from tests.cli_checks import forbid, refused


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("third-review") / "S.h5"
    argv = ["simulate", "--out", str(path), "--size", "4", "--temperature", "2.5"]
    assert main([*argv, "--samples", "40", "--thermalize", "5", "--quiet"]) == 0
    return path


@pytest.fixture
def session(base, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base, path)
    return path


@pytest.mark.parametrize("text", ["٨", "８", "1_0", "0x8", "8.0", "", " ", "1e3"])
def test_an_integer_is_ascii_digits_only(text):
    with pytest.raises(ValueError):
        number_from_text(text, integer=True)
    with pytest.raises(argparse.ArgumentTypeError):
        integer(text)
    with pytest.raises(ValueError):
        Interval(integer=True, low=1).parse("size", text)


@pytest.mark.parametrize("text", ["٢.٥", "2_5", "2,5", "0x1p3", "--2", "1e", "."])
def test_a_real_is_ascii_digits_point_and_exponent_only(text):
    with pytest.raises(ValueError):
        number_from_text(text, integer=False)
    with pytest.raises(argparse.ArgumentTypeError):
        finite_float(text)


def test_what_one_types_still_parses():
    assert [number_from_text(t, True) for t in ("8", " +8 ", "-3", "007")] == [8, 8, -3, 7]
    assert [number_from_text(t, False) for t in ("2.5", ".5", "5.", "-1e-3", "2E+2")] == [
        2.5,
        0.5,
        5.0,
        -1e-3,
        200.0,
    ]
    assert integer("12") == 12 and finite_float("2.269") == 2.269


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--size", "٨"],
        ["simulate", "--size", "1_0"],
        ["simulate", "--temperature", "٢.٥"],
        ["simulate", "--seed", "１"],
    ],
)
def test_simulate_refuses_numbers_not_typed_in_ascii(session, capsys, monkeypatch, argv):
    import lab.ising.task  # noqa: F401 (imported before it is patched)

    forbid(monkeypatch, "lab.ising.task.IsingTask")
    full = ["simulate", "--out", str(session), "--size", "4", "--temperature", "2.5", *argv[1:]]
    refused([*full, "--samples", "5", "--quiet"], session, capsys, argv[1])


def test_train_refuses_an_epoch_count_in_foreign_digits(session, capsys):
    argv = ["train", str(session), "--data", "ising-001", "--epochs", "١٠", "--quiet"]
    refused(argv, session, capsys, "--epochs")


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--epochs", "100000000", "epochs must be an integer <= 10,000,000"),
        ("--k", "1000000", "k (Gibbs steps per update) must be an integer <= 10,000"),
        ("--checkpoint-every", "100000000", "checkpoint_every (epochs) must be an integer <="),
    ],
)
def test_rg_example_and_train_stack_bound_the_trainer_counts(
    session, capsys, monkeypatch, option, value, fragment
):
    """These used to be accepted: ``rg-example --epochs 100000000`` then ran for days."""
    import lab.rg.commands  # noqa: F401 (imported before it is patched)

    forbid(monkeypatch, "lab.rg.commands._simulate", "lab.rg.commands._train_stack")
    refused(["rg-example", str(session), option, value, "--quiet"], session, capsys, fragment)
    argv = ["train-stack", str(session), "--data", "ising-001", "--hidden", "4", option, value]
    refused([*argv, "--quiet"], session, capsys, fragment)


def test_train_stack_refuses_a_stack_that_cannot_fit_in_memory(session, capsys, monkeypatch):
    import lab.rg.commands  # noqa: F401 (imported before it is patched)

    forbid(monkeypatch, "lab.rg.commands._train_stack")
    monkeypatch.setattr("lab.rbm.runs.physical_memory", lambda: 2**30)  # a 1 GiB machine
    argv = ["train-stack", str(session), "--data", "ising-001", "--hidden", "4"]
    refused([*argv, "--epochs", "5000000", "--quiet"], session, capsys, "GiB of memory")


def test_the_engine_bounds_every_count_itself():
    for field, value in (
        ("epochs", 10**7 + 1),
        ("k", 10**4 + 1),
        ("batch_size", 10**6 + 1),
        ("n_chains", 10**6 + 1),
        ("n_temperatures", 1001),
        ("checkpoint_every", 10**7 + 1),
    ):
        with pytest.raises(ValueError, match="must be an integer <="):
            RBMConfig(**{field: value}).validate()
    RBMConfig(epochs=10**7, k=10**4).validate()  # the bounds themselves are allowed


@pytest.mark.parametrize("temperatures", ["2,,3", "2,3,", ",2"])
def test_rg_flow_refuses_an_empty_temperature(session, capsys, monkeypatch, temperatures):
    import lab.rg.flow  # noqa: F401 (imported before it is patched)

    forbid(monkeypatch, "lab.rg.flow._simulate")
    argv = ["rg-flow", str(session), "--size", "8", "--temperatures", temperatures, "--quiet"]
    refused(argv, session, capsys, "empty item")
