"""SIGKILL at random moments: what was flushed survives, ``recover`` restores it, resume goes on.

Each trial runs the real CLI command ``simulate`` in a child process and kills it with SIGKILL
after a seeded random delay (from before the recording exists to after the run was folded).
The children are forked by a small server process that imported the CLI and compiled the numba
kernels once, so a trial costs a fraction of a second instead of an interpreter start
(``tests/lab/test_cli_recover.py`` kills a real ``python main.py`` once). The server is a
fresh interpreter without threads: forking the test process itself, where Qt may have started
threads, could leave a child deadlocked on a lock another thread held. With
``--report-flushes`` the child prints ``flushed N`` after each flush; the test reads what it
printed before the kill.

The kill delays are drawn uniformly from zero to the measured wall time of the fastest of
three uninterrupted child runs on this machine (fixed bounds made the test depend on the machine's
speed: on a fast or lightly loaded machine most kills landed after the run had finished).

Every trial checks: the recording (if the child got as far as creating it) reads; ``recover``
puts into the session a run whose series and configurations are exactly the first k of an
uninterrupted run with the same seed, with k at least the last count the child reported, and
status ``interrupted`` (or ``finished`` if the child completed before the kill). Every third
interrupted run is resumed with ``simulate --resume`` and must equal the uninterrupted run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from data import load_session, read_run
from data.recording import find_recordings, read_recording, recordings_dir
from lab.cli.shell import run_cli

TRIALS = 24
SAMPLES = 10000
DELAY_SPAN = 1.0  # kills drawn over [0, DELAY_SPAN × one uninterrupted child run]
SERIES = ("samples", "energy", "magnetization", "sweep")


def simulate_argv(out, *extra: str) -> list[str]:
    return [
        "simulate",
        "--out",
        str(out),
        "--size",
        "8",
        "--temperature",
        "2.4",
        "--samples",
        str(SAMPLES),
        "--thermalize",
        "10",
        "--interval",
        "10",
        "--seed",
        "11",
        "--quiet",
        "--flush-seconds",
        "0.05",
        *extra,
    ]


ROOT = Path(__file__).resolve().parents[3]

SERVER = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    from lab.cli.shell import run_cli
    sys.stdout, real_stdout = open(os.devnull, "w"), sys.stdout
    run_cli(json.loads(sys.argv[2]))  # compiles (or loads) the kernels once
    sys.stdout = real_stdout
    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "reap" in request:
            os.waitpid(request["reap"], 0)
            print("reaped", flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                sys.stdout = open(request["stdout"], "w", buffering=1)
                sys.stderr = open(os.devnull, "w")
                code = run_cli(request["argv"])
            finally:
                os._exit(code)
        print(pid, flush=True)
""")


class ForkServer:
    """A process that forks children running the CLI on request; the test kills them."""

    def __init__(self, warm_argv: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT), json.dumps(warm_argv)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._ask(None) == "ready"

    def _ask(self, request: dict | None) -> str:
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def run_and_kill(self, argv: list[str], stdout_path: Path, delay: float) -> list[int]:
        """Run the CLI in a child, SIGKILL it after ``delay`` s; the flush counts it printed."""
        pid = int(self._ask({"argv": argv, "stdout": str(stdout_path)}))
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        assert self._ask({"reap": pid}) == "reaped"
        lines = stdout_path.read_text().splitlines() if stdout_path.exists() else []
        return [int(line.split()[1]) for line in lines if line.startswith("flushed ")]

    def time_full_run(self, argv: list[str], stdout_path: Path) -> float:
        """Wall seconds of one child run left to finish (fork to reap), under today's load."""
        start = time.perf_counter()
        pid = int(self._ask({"argv": argv, "stdout": str(stdout_path)}))
        assert self._ask({"reap": pid}) == "reaped"
        return time.perf_counter() - start

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
def test_sigkill_at_random_moments_loses_nothing_flushed(tmp_path):
    reference_path = tmp_path / "reference.h5"
    assert run_cli(simulate_argv(reference_path)) == 0
    reference = read_run(reference_path, "ising-001")
    server = ForkServer(simulate_argv(tmp_path / "warm.h5"))
    try:
        outcomes = _trials(server, tmp_path, reference)
    finally:
        server.close()
    assert outcomes["interrupted"] >= TRIALS // 4, outcomes  # kills hit live runs
    assert outcomes["resumed"] >= 2, outcomes


def _trials(server: ForkServer, tmp_path: Path, reference) -> dict[str, int]:
    full_run_s = min(  # the fastest of three: later forks run faster than the first
        server.time_full_run(simulate_argv(tmp_path / f"timed{i}.h5"), tmp_path / f"timed{i}.txt")
        for i in range(3)
    )
    delays = np.random.default_rng(20261122).uniform(0.0, DELAY_SPAN * full_run_s, size=TRIALS)
    outcomes = {"interrupted": 0, "finished": 0, "nothing": 0, "resumed": 0}
    for trial, delay in enumerate(delays):
        session = tmp_path / f"S{trial}.h5"
        flushed = server.run_and_kill(
            simulate_argv(session, "--report-flushes"), tmp_path / f"out{trial}.txt", float(delay)
        )
        reported = max(flushed, default=0)
        left = find_recordings(session)
        for path in left:
            read_recording(path)  # a killed recording always reads
        if not left and not session.exists():
            assert reported == 0, f"trial {trial}: flushed {reported} but nothing on disk"
            outcomes["nothing"] += 1
            continue
        assert run_cli(["recover", str(session)]) == 0
        assert not recordings_dir(session).exists()  # recordings and what killers left: gone
        run = load_session(session).runs["ising-001"]
        k = len(run.datasets["energy"])
        assert k >= reported, f"trial {trial}: {k} samples recovered, {reported} reported"
        for name in SERIES:
            np.testing.assert_array_equal(
                run.datasets[name], reference.datasets[name][:k], err_msg=f"trial {trial}: {name}"
            )
        outcomes[run.status] += 1
        if run.status == "interrupted" and outcomes["interrupted"] % 3 == 1:
            assert (
                run_cli(["simulate", "--out", str(session), "--resume", "ising-001", "--quiet"])
                == 0
            )
            resumed = read_run(session, "ising-001")
            assert resumed.status == "finished"
            for name in SERIES:
                np.testing.assert_array_equal(
                    resumed.datasets[name],
                    reference.datasets[name],
                    err_msg=f"trial {trial}: resumed {name}",
                )
            outcomes["resumed"] += 1
    return outcomes
