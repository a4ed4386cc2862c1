"""Settings (and a report folder) that used to pass the check and fail after the data were drawn,
or after the runs were saved, are refused up front: exit 2, one line, the session byte-identical,
and the experiment never started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.reproduce.report import check_report_folder
from main import main
from tests import cli_checks


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reproduce-late") / "S.h5"
    argv = ["simulate", "--out", str(path), "--size", "4", "--temperature", "3"]
    assert main([*argv, "--samples", "10", "--quiet"]) == 0
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    path.write_bytes(base_session.read_bytes())
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Starting the experiment fails the test: the refusal must come before any work."""
    import lab.reproduce.commands  # noqa: F401 (imported before it is patched)

    cli_checks.forbid(monkeypatch, "lab.reproduce.commands.ReproductionTask")


def refused(argv: list[str], session: Path, capsys) -> str:
    line = cli_checks.refused(argv, session, capsys)
    assert not session.with_name("S.h5.reports").exists()
    return line


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        # Combe §4.1: seeds, the lattice against its blocks, the ML check's hidden units
        (["combe-4.1", "--set", "seeds=0"], "'seeds' must be an integer from 1"),
        (["combe-4.1", "--set", "seeds=100000"], "seeds"),
        (["combe-4.1", "--set", "size=5"], "divisible by 'block' b = 2"),
        (["combe-4.1", "--set", "block=0"], "block"),
        (["combe-4.1", "--set", "size=10"], "hidden units"),
        (["combe-4.1", "--set", "l1_warmup=-1"], "l1_warmup"),
        (["combe-4.1", "--set", "n_samples=0"], "n_samples"),
        (["combe-4.1", "--set", "n_samples=10000000000000"], "memory"),
        (["combe-4.1", "--set", "J=nan"], "oupling"),
        # Mehta & Schwab: one value per level, b^levels dividing L
        (["mehta-schwab", "--set", "epochs=[1]"], "1 values for 2 levels"),
        (["mehta-schwab", "--set", "epochs=[1, 2, 3]"], "3 values for 2 levels"),
        (["mehta-schwab", "--set", "size=12", "--set", "levels=3"], "block^levels = 2^3"),
        (["mehta-schwab", "--set", "levels=0"], "levels"),
        (["mehta-schwab", "--set", "levels=1000000000"], "levels"),
        (["mehta-schwab", "--set", "block=-2"], "block"),
        # Iso, Shiba & Yokoo: temperature lists, thermometers' sample counts, read steps
        (["iso-shiba-yokoo", "--set", "train_temperatures=[]"], "train_temperatures"),
        (["iso-shiba-yokoo", "--set", f"flow_temperatures={[2.0] * 33}"], "flow_temperatures"),
        (["iso-shiba-yokoo", "--set", "flow_temperatures=[[1]]"], "flow_temperatures"),
        (["iso-shiba-yokoo", "--set", "flow_samples=5"], "flow_samples"),
        (["iso-shiba-yokoo", "--set", "n_equilibrium=5"], "n_equilibrium"),
        (["iso-shiba-yokoo", "--set", "read_steps=[0, 9]"], "read_steps"),
        (["iso-shiba-yokoo", "--set", "per_temperature=1"], "at least 20"),
        # Torlai & Melko: the temperatures and the trainer object
        (["torlai-melko", "--set", "temperatures=[]"], "temperatures"),
        (["torlai-melko", "--set", "temperatures=[[1]]"], "temperatures"),
        (["torlai-melko", "--set", 'trainer={"n_hidden": 4}'], "n_hidden"),
        (["torlai-melko", "--set", 'trainer={"bogus": 4}'], "bogus"),
        (["torlai-melko", "--set", "samples=1"], "samples"),
        (["torlai-melko", "--set", 'hidden=["x"]'], "hidden"),
        # Gai & Zhang: lists, counts, the learning rate, b^levels
        (["gai-zhang", "--set", "temperatures=[]"], "temperatures"),
        (["gai-zhang", "--set", "families=[]"], "families"),
        (["gai-zhang", "--set", "levels=1000000000"], "levels"),
        (["gai-zhang", "--set", "block=1"], "block"),
        (["gai-zhang", "--set", "flow_steps=0"], "flow_steps"),
        (["gai-zhang", "--set", "stack_epochs=0"], "stack_epochs"),
        (["gai-zhang", "--set", "learning_rate=0"], "learning_rate"),
        (["gai-zhang", "--set", "per_temperature=2"], "per_temperature"),
    ],
)
def test_settings_are_refused_before_any_work(session, capsys, no_work, argv, fragment):
    name, *rest = argv
    line = refused(["reproduce", name, str(session), "--quick", "--quiet", *rest], session, capsys)
    assert fragment in line, line


@pytest.mark.parametrize("below", ["", "sub/folder"])
def test_a_report_path_that_is_a_file_is_refused_before_any_work(
    session, tmp_path, capsys, no_work, below
):
    blocker = tmp_path / "report"
    blocker.write_text("not a folder")
    target = blocker / below if below else blocker
    argv = ["reproduce", "combe-4.1", str(session), "--quick", "--quiet", "--report", str(target)]
    line = refused(argv, session, capsys)
    assert "report folder" in line and "not a directory" in line, line
    assert blocker.read_text() == "not a folder"


def test_the_default_report_folder_is_checked_too(session, capsys, no_work):
    session.with_name("S.h5.reports").write_text("in the way")
    argv = ["reproduce", "combe-4.1", str(session), "--quick", "--quiet"]
    line = cli_checks.refused(argv, session, capsys, "S.h5.reports")
    assert "not a directory" in line


def test_check_report_folder_leaves_nothing_behind(tmp_path):
    check_report_folder(tmp_path)
    check_report_folder(tmp_path / "new" / "deeper")
    assert list(tmp_path.iterdir()) == []


def test_a_report_folder_to_create_still_works(session, tmp_path, capsys):
    folder = tmp_path / "reports" / "combe"
    settings = ["epochs=1", "seeds=1", "n_samples=50", "ml_iterations=1"]
    argv = ["reproduce", "combe-4.1", str(session), "--quick", "--quiet", "--report", str(folder)]
    assert main([*argv, *(x for s in settings for x in ("--set", s))]) == 0
    results = json.loads((folder / "results.json").read_text())
    assert results["run"] == "reproduction-001" and f"report: {folder}" in capsys.readouterr().out
