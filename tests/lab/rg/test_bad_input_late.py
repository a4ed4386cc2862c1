"""Bad RG input is refused up front (exit 2, one line, the session untouched, nothing simulated
or trained): a coarsest lattice below 2×2, too many or repeated temperatures, counts of work
past the documented maxima."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.rg.cli import MAX_FLOW_STEPS, MAX_FLOW_TEMPERATURES
from lab.rg.settings import MIN_COARSE_SIZE, BlockDivides, check_levels, coarsest_size
from main import main
from tests.cli_checks import forbid, refused


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rg-late") / "S.h5"
    argv = ["simulate", "--out", str(path), "--size", "8", "--temperature", "2.3"]
    argv += ["--samples", "60", "--thermalize", "20", "--interval", "1", "--quiet"]
    assert main(argv) == 0
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    path.write_bytes(base_session.read_bytes())
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Any simulation or training fails the test: the refusal must come before them."""
    import lab.rg.commands  # noqa: F401 (imported first, so that it binds the real _simulate)

    forbid(monkeypatch, "lab.rg.flow._simulate", "lab.rg.commands._train_stack")


FLOW = ["--samples", "20", "--thermalize", "5", "--interval", "1", "--quiet"]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        # 2 levels of 2×2 blocks take L = 4 to 1×1 (the engine's observables need L′ ≥ 2)
        (["--size", "4", "--temperatures", "2.3"], "coarsest lattice must be at least 2×2"),
        (["--size", "8", "--levels", "3", "--temperatures", "2.3"], "coarsest"),
        (["--size", "8", "--rule", "rbm", "--levels", "3", "--temperatures", "2.3"], "coarsest"),
        (["--size", "8", "--levels", "11", "--temperatures", "2.3"], "levels"),
        (["--size", "8", "--block", "1", "--temperatures", "2.3"], "block size"),
        (["--size", "8", "--temperatures", "2:3:1000000000"], "1000000000 temperatures"),
        (["--size", "8", "--temperatures", f"2:3:{MAX_FLOW_TEMPERATURES + 1}"], "temperatures"),
        (["--size", "8", "--temperatures", "2,2"], "distinct"),
        (["--size", "8", "--temperatures", "2.5, 2, 2.5"], "distinct: 2.5"),
        (["--size", "8", "--temperatures", "2:2:3"], "distinct"),
        (["--size", "8", "--temperatures", "2.3", "--samples", "1"], "--samples"),
        (["--size", "8", "--temperatures", "2.3", "--thermalize", "1000000000000"], "spin updates"),
        (["--size", "8", "--temperatures", "2,3", "--interval", "100000000000"], "spin updates"),
        (["--size", "8", "--temperatures", "2.3", "--samples", "1000000000"], "memory"),
        (
            ["--size", "8", "--temperatures", "2.3", "--rule", "rbm-flow", "--steps", "0"],
            "--steps",
        ),
        (
            ["--size", "8", "--temperatures", "2.3", "--rule", "rbm-flow"]
            + ["--steps", str(MAX_FLOW_STEPS + 1)],
            f"1 to {MAX_FLOW_STEPS}",
        ),
    ],
)
def test_rg_flow_refuses_before_simulating(session, capsys, no_work, argv, fragment):
    # FLOW first: an option given again in argv wins
    line = refused(["rg-flow", str(session), *FLOW, *argv], session, capsys)
    assert fragment in line, line


def test_rg_flow_refuses_a_new_session_without_creating_it(tmp_path, capsys, no_work):
    path = tmp_path / "new.h5"
    assert main(["rg-flow", str(path), *FLOW, "--size", "4", "--temperatures", "2.3"]) == 2
    assert "coarsest" in capsys.readouterr().err
    assert not path.exists()


def test_coarse_grain_names_the_coarsest_lattice(session, capsys):
    argv = ["coarse-grain", str(session), "--data", "ising-001", "--levels", "3"]
    assert "8 down to 1×1" in refused(argv, session, capsys)


def test_train_stack_refuses_a_1x1_last_level_before_training(session, capsys, no_work):
    argv = ["train-stack", str(session), "--data", "ising-001", "--hidden", "16,4,1", "--quiet"]
    assert "coarsest" in refused(argv, session, capsys)


def test_a_good_small_flow_still_runs(session, capsys):
    argv = ["rg-flow", str(session), *FLOW, "--size", "8", "--temperatures", "2.0, 3.0"]
    assert main(argv) == 0
    assert "2 of 2 temperatures (finished)" in capsys.readouterr().out


def test_check_levels_rule():
    check_levels(8, 2, 2)  # 8 → 4 → 2
    check_levels(9, 3, 1)
    assert coarsest_size(8, 2, 3) == 1 and coarsest_size(12, 2, 3) == 0
    assert coarsest_size(8, 2, 10**9) == 0  # level by level: a huge count costs nothing
    for size, block, levels, fragment in (
        (8, 2, 3, "1×1"),
        (4, 2, 2, "L ≥ 8"),
        (12, 2, 3, "divisible"),
        (8, 1, 1, "block size"),
        (8, 2, 0, "levels"),
        (8, 2, 11, "levels"),
    ):
        with pytest.raises(ValueError, match=fragment):
            check_levels(size, block, levels)
    assert MIN_COARSE_SIZE == 2


def test_block_row_refuses_a_block_that_leaves_1x1():
    rule = BlockDivides(8, 3)
    with pytest.raises(ValueError, match="coarsest lattice must be at least 2×2"):
        rule.check("block b", 2)
    with pytest.raises(ValueError, match="dividing L = 8"):
        rule.check("block b", 3)
    assert BlockDivides(8, 2).check("block b", 2) == 2
