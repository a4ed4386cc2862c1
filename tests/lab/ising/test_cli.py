"""The headless command line: simulate and inspect, bad input, and the file left intact."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import read_run
from main import main

ROOT = Path(__file__).resolve().parents[3]


def simulate_args(out: Path, **overrides: object) -> list[str]:
    args = {
        "size": 8,
        "temperature": 2.269,
        "algorithm": "wolff",
        "samples": 40,
        "thermalize": 50,
        "interval": 2,
        "seed": 1,
    }
    args.update(overrides)
    argv = ["simulate", "--out", str(out), "--quiet"]
    for key, value in args.items():
        argv += [f"--{key}", str(value)]
    return argv


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_simulate_writes_a_run_plain_h5py_can_read(tmp_path, capsys):
    out = tmp_path / "S.h5"
    assert main(simulate_args(out)) == 0
    assert "ising-001" in capsys.readouterr().out
    with h5py.File(out, "r") as f:
        # text is stored as fixed-length UTF-8 (h5py returns bytes), see docs/session-format.md
        assert f.attrs["format"].decode() == "monge-lab-session"
        assert int(f.attrs["schema_version"]) == 3
        run = f["runs/ising-001"]
        assert run.attrs["kind"].decode() == "ising"
        assert run.attrs["status"].decode() == "finished"
        assert run.attrs["size"] == 8 and run.attrs["seed"] == 1
        assert run.attrs["algorithm"].decode() == "wolff"
        assert run.attrs["temperature"] == pytest.approx(2.269)
        assert run.attrs["thermalize"] == 50 and run.attrs["interval"] == 2
        samples = run["samples"][()]  # spins read as spins: (N, L, L) int8 ±1, as documented
        assert samples.shape == (40, 8, 8) and samples.dtype == np.int8
        assert set(np.unique(samples)) <= {-1, 1}
        energy, magnetization = run["energy"][()], run["magnetization"][()]
        assert energy.shape == (40,) and magnetization.shape == (40,)
        # the per-spin series are those of the recorded configurations
        right = np.roll(samples, -1, axis=2)
        down = np.roll(samples, -1, axis=1)
        e = -(samples * (right + down)).sum(axis=(1, 2)) / 64
        np.testing.assert_allclose(energy, e)
        np.testing.assert_allclose(magnetization, samples.mean(axis=(1, 2)))
        assert "units" in run["energy"].attrs


def test_simulate_adds_runs_and_inspect_lists_them_with_error_bars(tmp_path, capsys):
    out = tmp_path / "S.h5"
    assert main(simulate_args(out)) == 0
    assert main(simulate_args(out, algorithm="metropolis", seed=2)) == 0
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ising-001" in text and "ising-002" in text
    assert "metropolis" in text and "wolff" in text
    assert "±" in text and "exact finite-L" in text


def test_same_seed_gives_the_same_samples(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert main(simulate_args(a, algorithm="swendsen-wang")) == 0
    assert main(simulate_args(b, algorithm="swendsen-wang")) == 0
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        np.testing.assert_array_equal(
            fa["runs/ising-001/samples"][()], fb["runs/ising-001/samples"][()]
        )


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"size": 1}, "size"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.5}, "temperature"),
        ({"temperature": "nan"}, "finite"),
        ({"algorithm": "glauber"}, "algorithm"),
        ({"samples": 0}, "samples"),
        ({"interval": 0}, "interval"),
        # the first-hour issue: each of these crashed with a traceback or ran
        ({"temperature": "1e308"}, "temperature"),
        ({"size": 100_000_000}, "size"),
        ({"seed": 2**64}, "seed"),
        ({"size": 16384, "samples": 100_000}, "memory"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_leave_the_file_unchanged(
    tmp_path, capsys, overrides, fragment
):
    out = tmp_path / "S.h5"
    assert main(simulate_args(out)) == 0
    before = digest(out)
    capsys.readouterr()
    assert main(simulate_args(out, **overrides)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0].lower()
    assert digest(out) == before
    assert not (tmp_path / ".S.h5.recordings").exists()  # refused before any recording


def test_a_frozen_lattice_gets_its_exact_reference_not_a_crash(tmp_path, capsys):
    """T = 0.001 (J/T = 1000, beyond Kaufman's J/T ≤ 300): the exact values are the ground
    state's, the run finishes and nothing is left to recover."""
    out = tmp_path / "S.h5"
    assert main(simulate_args(out, temperature=0.001)) == 0
    run = read_run(out, "ising-001")
    assert run.results["exact_e"] == -2.0 and run.results["exact_c"] == 0.0
    assert not (tmp_path / ".S.h5.recordings").exists()
    assert main(["recover", str(out)]) == 0
    assert "nothing to recover" in capsys.readouterr().out


def test_not_a_session_and_unwritable_paths_are_refused(tmp_path, capsys):
    text = tmp_path / "notes.h5"
    text.write_text("my notes, not a session")
    before = digest(text)
    assert main(simulate_args(text)) == 2
    assert digest(text) == before
    assert main(simulate_args(tmp_path / "missing-dir" / "S.h5")) == 2
    assert main(["inspect", str(text)]) == 2
    assert main(["inspect", str(tmp_path / "nothing.h5")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("monge-lab: error:") for line in lines)


def test_unknown_command_exits_2(capsys):
    assert main(["frobnicate", "x"]) == 2
    assert main(["simulate"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_main_py_runs_end_to_end_in_a_subprocess(tmp_path):
    out = tmp_path / "S.h5"
    argv = [sys.executable, str(ROOT / "main.py")] + simulate_args(out, samples=20)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "inspect", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and "ising-001" in done.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path, monkeypatch):
    """`python main.py inspect S.h5 | head -1`: the closed pipe is not a crash with a traceback
    but the conventional exit status 141 (128 + SIGPIPE)."""
    path = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "4",
                "--temperature",
                "2.5",
                "--samples",
                "20",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )

    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["inspect", str(path)]) == 141
