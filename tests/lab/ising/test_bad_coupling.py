"""simulate with a coupling or field beyond float64's reach: one line, exit 2, the session and
the recordings untouched; extreme values inside the bounds run without a warning."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pytest

from lab.ising.exact import exact_reference
from main import main


def simulate(out: Path, *extra: str) -> list[str]:
    return [
        "simulate", "--out", str(out), "--size", "4", "--temperature", "2.3", "--samples", "5",
        "--thermalize", "1", "--interval", "1", "--quiet", *extra,
    ]  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        (["--coupling", "1e308"], "coupling"),
        (["--coupling", "1e200", "--algorithm", "wolff"], "coupling"),
        (["--coupling=-1e12", "--temperature", "1e-6", "--algorithm", "swendsen-wang"], "coupling"),
        (["--field", "1e308"], "field"),
        (["--field=-2e6"], "field"),
    ],
)
def test_a_coupling_or_field_out_of_range_exits_2_before_any_work(tmp_path, capsys, extra, name):
    out = tmp_path / "S.h5"
    assert main(simulate(out)) == 0
    before = digest(out)
    capsys.readouterr()
    assert main(simulate(out, *extra)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("monge-lab: error:")
    assert name in err[0] and "[-1e+06, 1e+06]" in err[0] and "finite" in err[0]
    assert digest(out) == before
    assert not (tmp_path / ".S.h5.recordings").exists()
    assert main(simulate(out)) == 0  # the next run is ising-002: no run id was taken
    assert "ising-002" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra",
    [
        ["--coupling", "1e6", "--field", "1e6"],
        ["--coupling=-1e6", "--temperature", "1e-6", "--algorithm", "swendsen-wang"],
        ["--coupling", "1e-300", "--temperature", "1e12", "--algorithm", "metropolis-msc"],
        ["--coupling=-1", "--temperature", "0.01", "--size", "3", "--algorithm", "heatbath"],
    ],
)
def test_extreme_accepted_values_run_without_warnings(tmp_path, capsys, extra):
    exact_reference.cache_clear()  # the exact values are computed again, here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(simulate(tmp_path / "S.h5", *extra)) == 0
    assert capsys.readouterr().err == ""
    assert not (tmp_path / ".S.h5.recordings").exists()


def test_simulate_help_states_the_bounds(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "the coupling J: a finite number in [-1e+06, 1e+06]" in text
    assert "the field h: a finite number in [-1e+06, 1e+06]" in text
