"""``recover`` and ``simulate --resume`` end to end, and the session lock seen from the CLI."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from data import read_run
from data.lock import SessionLock
from data.recording import find_recordings
from main import main

ROOT = Path(__file__).resolve().parents[3]
SERIES = ("samples", "energy", "magnetization", "sweep")


def simulate_argv(out: Path, samples: int, *extra: str) -> list[str]:
    return [
        "simulate",
        "--out",
        str(out),
        "--size",
        "12",
        "--temperature",
        "2.27",
        "--algorithm",
        "wolff",
        "--samples",
        str(samples),
        "--thermalize",
        "40",
        "--interval",
        "1",
        "--seed",
        "5",
        "--quiet",
        *extra,
    ]


def test_recover_with_nothing_to_recover_and_on_a_missing_file(tmp_path, capsys):
    session = tmp_path / "S.h5"
    assert main(simulate_argv(session, 20)) == 0
    capsys.readouterr()
    assert main(["recover", str(session)]) == 0
    assert capsys.readouterr().out.strip() == f"{session}: nothing to recover"
    assert main(["recover", str(tmp_path / "missing.h5")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing.h5 does not exist")
    assert not (tmp_path / ".missing.h5.lock").exists()


def test_a_killed_main_py_is_recovered_and_resumed_to_the_uninterrupted_run(tmp_path, capsys):
    reference_path = tmp_path / "reference.h5"
    samples = 100_000  # long enough that the child is still running after three flushes
    assert main(simulate_argv(reference_path, samples)) == 0
    reference = read_run(reference_path, "ising-001")
    session = tmp_path / "S.h5"
    child = subprocess.Popen(
        [
            sys.executable,
            "main.py",
            *simulate_argv(session, samples, "--report-flushes", "--flush-seconds", "0.1"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    reported = []
    try:
        deadline = time.monotonic() + 120
        while len(reported) < 3 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            reported.append(int(line.split()[1]))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert len(reported) == 3, "the child did not report three flushes"
    assert reported[-1] < samples, "the child finished before it was killed"
    assert len(find_recordings(session)) == 1
    capsys.readouterr()
    assert main(["recover", str(session)]) == 0
    assert "ising-001: recovered as interrupted" in capsys.readouterr().out
    run = read_run(session, "ising-001")
    k = len(run.datasets["energy"])
    assert k >= reported[-1] and run.status == "interrupted"
    for name in SERIES:
        np.testing.assert_array_equal(run.datasets[name], reference.datasets[name][:k])
    assert "e" in run.results and run.results["n_samples"] == k  # recover computed results
    assert main(["simulate", "--out", str(session), "--resume", "ising-001", "--quiet"]) == 0
    resumed = read_run(session, "ising-001")
    assert resumed.status == "finished"
    for name in SERIES:
        np.testing.assert_array_equal(resumed.datasets[name], reference.datasets[name])
    assert resumed.results == reference.results


def test_only_interrupted_or_stopped_ising_runs_resume(tmp_path, capsys):
    session = tmp_path / "S.h5"
    assert main(simulate_argv(session, 20)) == 0
    capsys.readouterr()
    assert main(["simulate", "--out", str(session), "--resume", "ising-001"]) == 2
    assert "is a finished ising run" in capsys.readouterr().err
    assert main(["simulate", "--out", str(session), "--resume", "ising-009"]) == 2
    assert "no run 'ising-009'" in capsys.readouterr().err


def test_a_session_held_by_another_writer_is_refused_with_exit_2(tmp_path, capsys):
    session = tmp_path / "S.h5"
    assert main(simulate_argv(session, 20)) == 0
    before = hashlib.sha256(session.read_bytes()).hexdigest()
    capsys.readouterr()
    with SessionLock(session):  # as the GUI holds an open session
        assert main(simulate_argv(session, 20)) == 2
        error = capsys.readouterr().err
        assert f"is open for writing in another Monge Lab (pid {os.getpid()}" in error
        assert "close it there first" in error and error.count("\n") == 1
        assert main(["recover", str(session)]) == 2
        assert "is open for writing" in capsys.readouterr().err
    assert hashlib.sha256(session.read_bytes()).hexdigest() == before
    assert main(simulate_argv(session, 20)) == 0  # released: writable again


def test_recover_names_what_it_cannot_fold_on_stderr_and_exits_1(tmp_path, capsys):
    """A damaged recording and a directory named like a recording are each named on stderr (one
    line each), left in place, and make the exit code 1; the session is not changed by them."""
    from data.recording import recordings_dir

    session = tmp_path / "S.h5"
    assert main(simulate_argv(session, 20)) == 0
    directory = recordings_dir(session)
    directory.mkdir(exist_ok=True)
    (directory / "ising-007.rec.h5").mkdir()
    capsys.readouterr()
    before = hashlib.sha256(session.read_bytes()).hexdigest()
    assert main(["recover", str(session)]) == 1
    out, err = capsys.readouterr()
    assert out.strip() == f"{session}: nothing to recover"
    assert err.count("\n") == 1 and "ising-007.rec.h5: not recovered (not a regular file)" in err
    assert (directory / "ising-007.rec.h5").is_dir()
    assert hashlib.sha256(session.read_bytes()).hexdigest() == before

    (directory / "ising-008.rec.h5").write_bytes(b"not hdf5")
    assert main(["recover", str(session)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("monge-lab: ") for line in lines)
    assert "ising-008.rec.h5: not recovered (" in err and "the file is kept" in err
    assert (directory / "ising-008.rec.h5").read_bytes() == b"not hdf5"
    assert read_run(session, "ising-001").status == "finished"
