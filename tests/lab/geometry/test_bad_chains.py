"""geometry and score with more chains than samples: refused up front like sample and evaluate
(one line, exit 2, the session byte-identical)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lab.geometry.options import DefaultCount, GeometryOptions, check_chains
from lab.geometry.score_options import ScoreOptions
from main import main


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chains") / "S.h5"
    simulate = ["simulate", "--out", str(path), "--size", "4", "--temperature", "2.3"]
    assert main([*simulate, "--samples", "40", "--thermalize", "5", "--quiet"]) == 0
    train = ["train", str(path), "--data", "ising-001", "--hidden", "4", "--epochs", "1"]
    assert main([*train, "--batch", "20", "--k", "1", "--chains", "8", "--quiet"]) == 0
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "argv",
    [
        ["geometry", "--rbm", "rbm-001", "--points", "10"],
        ["score", "--run", "rbm-001", "--bootstrap", "2"],
    ],
)
def test_more_chains_than_samples_exits_2_with_one_line(session, capsys, argv):
    before = digest(session)
    capsys.readouterr()
    command = [argv[0], str(session), *argv[1:], "--burn-in", "2", "--quiet"]
    assert main([*command, "--samples", "10", "--chains", "11"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("monge-lab: error:")
    assert "--chains must be between 1 and --samples (10), got 11" in err[0]
    assert digest(session) == before


def test_the_rule_is_for_chains_typed_not_for_the_default():
    """``--samples 20`` alone (32 chains by default) still runs, and so do the options of the
    docks, which do not show the chains: only a --chains typed above --samples is refused."""
    check_chains(DefaultCount(32), 20)
    check_chains(10, 10)
    with pytest.raises(ValueError, match="chains"):
        check_chains(11, 10)
    assert GeometryOptions(samples=20).chains == 32 and ScoreOptions(samples=20).chains == 32
