"""Bad input found by the second review (the commands the first one did not cover): each is one
line on stderr and exit 2 before any work, the session byte for byte unchanged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from main import main
from tests.cli_checks import forbid, refused


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("second-review") / "S.h5"
    argv = ["simulate", "--out", str(path), "--size", "4", "--temperature", "2.5"]
    assert main([*argv, "--samples", "20", "--thermalize", "5", "--quiet"]) == 0
    return path


@pytest.fixture
def session(base, tmp_path, monkeypatch) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base, path)
    monkeypatch.chdir(tmp_path)
    import lab.sweep.commands  # noqa: F401 (imported before it is patched)

    forbid(monkeypatch, "lab.sweep.commands.open_cluster")
    return path


SIMULATE = ["simulate", "--size", "4", "--temperature", "2,3", "--samples", "10"]


def test_a_seed_range_beyond_the_generator_is_refused(session, capsys):
    argv = ["sweep", str(session), "--workers", "1", "--quiet", *SIMULATE]
    refused([*argv, "--seed", "0:99999999999999999999:2"], session, capsys, "--seed")


def test_a_plan_that_is_not_text_or_not_a_file_is_refused(session, capsys, tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    argv = ["sweep", str(session), "--workers", "1", "--quiet", "--plan"]
    refused([*argv, str(binary)], session, capsys, "not UTF-8")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # reading it would block for ever
    refused([*argv, str(fifo)], session, capsys, "not a regular file")


def test_more_local_workers_than_the_machine_can_hold_are_refused(session, capsys):
    argv = ["sweep", str(session), "--workers", "99999", "--quiet", *SIMULATE]
    refused(argv, session, capsys, "--workers must be from 1 to")


@pytest.mark.parametrize("share", ["-5", "1e300", "1.5"])
def test_coarse_grain_min_share_is_a_share(session, capsys, share):
    argv = ["coarse-grain", str(session), "--data", "ising-001", "--min-share", share]
    refused(argv, session, capsys, "share from 0 to 1")


@pytest.mark.parametrize("epsilon", ["1e-300", "1e200", "0"])
def test_geometry_epsilon_out_of_its_range_is_refused(session, capsys, epsilon):
    argv = ["geometry", str(session), "--rbm", "rbm-001", "--epsilon", epsilon]
    refused(argv, session, capsys, "--epsilon")


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--validation", "0.999", "--samples", "50"], "leaves 0 configurations"),
        (["--samples", "1"], "at least 20 samples"),
        (["--hidden", "8"], "--hidden must be 4"),
    ],
)
def test_rg_example_refuses_before_simulating(session, capsys, monkeypatch, extra, fragment):
    import lab.rg.commands  # noqa: F401 (imported before it is patched)

    forbid(monkeypatch, "lab.rg.commands._simulate")
    refused(["rg-example", str(session), *extra, "--quiet"], session, capsys, fragment)
