"""A sweep on a Dask scheduler and workers started by hand on 127.0.0.1, as on a cluster
(``dask scheduler``, ``dask worker``): a worker SIGKILLed mid-task has its point rerun
elsewhere, and the sweep ends with every point present once, equal to the serial runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data import read_run, read_run_ids
from tests.lab.sweep.conftest import (
    FIXED,
    GRID,
    ROOT,
    cli_env,
    same_run,
    sweep_process,
    sweep_view,
)


def _dask(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {seconds} s")


def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(tmp_path, serial_grid):
    scheduler_file = tmp_path / "scheduler.json"
    services = [
        _dask(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
            log=tmp_path / "scheduler.log",
        )
    ]
    sweep = None
    try:
        _wait_for(scheduler_file.exists, 60, "the scheduler's start")
        _wait_for(lambda: "address" in scheduler_file.read_text(), 10, "the scheduler file")
        address = json.loads(scheduler_file.read_text())["address"]
        workers = [
            _dask(
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                name,
                log=tmp_path / f"{name}.log",
            )
            for name in ("a", "b")
        ]
        services += workers
        for name in ("a", "b"):  # both have joined before the sweep starts
            log = tmp_path / f"{name}.log"
            _wait_for(lambda log=log: "Registered to" in log.read_text(), 60, f"worker {name}")
        path = tmp_path / "S.h5"
        sweep = sweep_process(
            str(path), "simulate", *GRID, *FIXED, "--scheduler", address, "--quiet"
        )

        def finished_points() -> int:
            return path.exists() and sum(i.startswith("ising-") for i in read_run_ids(path))

        _wait_for(lambda: finished_points() >= 1, 90, "a first point")
        assert sweep.poll() is None
        os.kill(workers[0].pid, signal.SIGKILL)  # its point in progress must run elsewhere
        workers[0].wait(timeout=10)
        out, err = sweep.communicate(timeout=120)
        assert sweep.returncode == 0, err
        assert f"on the scheduler {address}, 2 workers" in out
    finally:
        if sweep is not None and sweep.poll() is None:
            sweep.kill()
            sweep.communicate()
        _stop(services)
    view = sweep_view(path)
    assert view.status == "finished" and view.counts()["finished"] == 8
    ids = [i for i in read_run_ids(path) if i.startswith("ising-")]
    assert sorted(ids) == [f"ising-00{i}" for i in range(1, 9)]
    assert sorted(view.inputs) == sorted(ids)
    assert "Remove worker" in (tmp_path / "scheduler.log").read_text()
    # the points still to run at the kill (the L = 16 ones come last) all ran on the worker
    # that was left
    assert len({p.worker for p in view.points()[-3:]}) == 1
    for point, alone in zip(view.points(), serial_grid, strict=True):
        assert same_run(alone, read_run(path, point.run_id)), point
