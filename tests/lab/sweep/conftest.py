"""Shared by the sweep tests: running ``sweep`` in this interpreter (its local cluster closed
with nothing left running: the guard of tests/conftest.py checks) or in a fresh one (to be
killed), serial reference runs, and comparing runs."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from data import RunRecord, read_run
from lab.sweep.runs import SweepRunView
from main import main

ROOT = Path(__file__).resolve().parents[3]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@dataclasses.dataclass
class Done:
    """How a ``sweep`` ended: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def sweep_here(capsys: pytest.CaptureFixture, *args: str) -> Done:
    """``main.py sweep …`` in this interpreter (no second start of Python, torch and numba)."""
    capsys.readouterr()
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return Done(code, out, err)


def sweep_process(*args: str, new_session: bool = False) -> subprocess.Popen:
    """``python main.py sweep …`` started, not waited for (``new_session``: in its own
    process group, as a terminal's foreground job is)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "sweep", *args],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )


def _untimed(values: dict) -> dict:
    """``values`` without wall times (the results' and history's ``seconds`` and
    ``metric_seconds``, units s: they differ between any two runs)."""
    return {key: value for key, value in values.items() if not key.endswith("seconds")}


def same_run(a: RunRecord, b: RunRecord) -> bool:
    """Equal in everything but the times they were made and took."""
    a = dataclasses.replace(a, results=_untimed(a.results), datasets=_untimed(a.datasets))
    b = dataclasses.replace(
        b,
        created=a.created,
        finished=a.finished,
        results=_untimed(b.results),
        datasets=_untimed(b.datasets),
    )
    return b == a


def sweep_view(path: Path, sweep_id: str = "sweep-001") -> SweepRunView:
    return SweepRunView(read_run(path, sweep_id))


GRID = ["--size", "8,16", "--temperature", "2.0:2.6:4"]
"""The Ising grid of the CLI tests: 2 sizes × 4 temperatures, 8 points."""
FIXED = ["--samples", "400", "--interval", "1000", "--thermalize", "100", "--no-spins"]
"""Its fixed options: about 0.1 s a point at L = 8 and 0.5 s at L = 16 (long enough for a kill
to land mid-sweep, short enough for the suite)."""


@pytest.fixture(scope="session")
def serial_grid(tmp_path_factory) -> list[RunRecord]:
    """The points of ``sweep simulate GRID FIXED`` (base seed 0) run one by one with
    ``simulate`` and their derived seeds, in a fresh session: the runs, in point order (their
    ids are those the sweep gives them)."""
    from lab.cli.shell import build_parser
    from lab.sweep.commands import plan_from_args

    plan = plan_from_args(build_parser().parse_args(["sweep", "S.h5", "simulate", *GRID, *FIXED]))
    out = tmp_path_factory.mktemp("serial") / "serial.h5"
    runs = []
    for point in plan.points():
        before = set(_ids(out))
        assert main(["simulate", "--out", str(out), "--quiet", *point.argv]) == 0
        (new,) = set(_ids(out)) - before
        runs.append(read_run(out, new))
    return runs


def _ids(path: Path) -> list[str]:
    from data import read_run_ids

    return read_run_ids(path) if path.exists() else []


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ising_session(tmp_path) -> Path:
    """A session with one small Ising run (ising-001, L = 4, 400 configurations)."""
    path = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--quiet",
                "--size",
                "4",
                "--temperature",
                "2.5",
                "--algorithm",
                "wolff",
                "--samples",
                "400",
                "--thermalize",
                "50",
                "--interval",
                "2",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    return path
