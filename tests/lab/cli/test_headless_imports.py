"""Headless means headless: real commands, run in a fresh interpreter, leave Qt out of
``sys.modules``; the Ising commands (and ``inspect``, ``--help``) leave torch and POT out too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import json, sys
from main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules
    if m.split('.')[0] in ('PySide6', 'torch', 'ot', 'pyqtgraph', 'superqt'))}))
"""


def run(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, text=True, capture_output=True, timeout=600
    )
    last = result.stdout.strip().splitlines()[-1]
    return json.loads(last)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("headless") / "S.h5"
    out = run(
        "simulate",
        "--out",
        str(path),
        "--size",
        "4",
        "--temperature",
        "2.5",
        "--algorithm",
        "wolff",
        "--samples",
        "60",
        "--thermalize",
        "20",
        "--seed",
        "1",
        "--quiet",
    )
    assert out["code"] == 0
    return path


def top_level(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_ising_commands_import_neither_qt_nor_torch_nor_pot(session):
    for args in (
        [
            "simulate",
            "--out",
            str(session),
            "--size",
            "4",
            "--temperature",
            "3",
            "--samples",
            "10",
            "--thermalize",
            "5",
            "--seed",
            "2",
            "--quiet",
        ],
        ["inspect", str(session)],
    ):
        out = run(*args)
        assert out["code"] == 0, args
        assert not top_level(out["modules"]) & {"PySide6", "torch", "ot", "pyqtgraph"}, args


def test_inspect_reads_runs_without_the_kernels(session):
    """inspect shows stored results: it loads no numba kernel, no scipy (the start-up target)."""
    out = run("inspect", str(session))
    assert out["code"] == 0
    assert not top_level(out["modules"]) & {"numba", "scipy", "torch", "ot", "PySide6"}


def test_help_imports_neither_qt_nor_torch():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "--help"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert "usage:" in result.stdout  # argparse exits after printing help: no JSON line
    probe = PROBE.replace(
        "code = main(sys.argv[1:])",
        "from lab.cli.shell import build_parser\nbuild_parser()\ncode = 0",
    )
    out = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, text=True, capture_output=True, timeout=120
        ).stdout.splitlines()[-1]
    )
    assert not top_level(out["modules"]) & {"PySide6", "torch", "ot", "numba", "scipy"}


def test_rbm_rg_and_geometry_commands_never_import_qt(session):
    out = run(
        "train",
        str(session),
        "--data",
        "ising-001",
        "--hidden",
        "4",
        "--epochs",
        "2",
        "--seed",
        "1",
        "--quiet",
    )
    assert out["code"] == 0
    assert "PySide6" not in top_level(out["modules"])
    for args in (
        ["coarse-grain", str(session), "--data", "ising-001", "--levels", "1"],
        [
            "geometry",
            str(session),
            "--rbm",
            "rbm-001",
            "--samples",
            "20",
            "--burn-in",
            "10",
            "--points",
            "50",
            "--k",
            "2",
            "--quiet",
        ],
    ):
        out = run(*args)
        assert out["code"] == 0, args
        assert "PySide6" not in top_level(out["modules"]), args
