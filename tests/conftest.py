"""Shared test setup: offscreen Qt, isolated user settings, and a guard that fails any test
leaving a thread, a registered Qt timer or a child process running.

After each test the cyclic garbage collector runs once, at a quiet moment: a closed window's
widget tree is reference-cyclic (pyqtgraph items and their views point at each other), and a
collection that Python starts on its own at an arbitrary allocation can land inside a Qt
``disconnect`` that holds the connection mutex the dying QObjects need (a deadlock seen here).
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _threads_per_worker() -> int | None:
    """The OpenMP/BLAS threads each pytest-xdist worker may use: the cores shared out (None when
    not under xdist). ``-n 2`` on 2 cores with torch's default pool of one thread per core
    oversubscribes the cores twice over, and OpenMP's spin-waiting then made torch code many times
    slower (measured on 2 cores: ``tests/lab/rbm`` 56 s against 20 s with one thread each; one
    test 32 s in the suite, 0.8 s alone). Set before anything imports torch or numpy."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, int(workers)))


if (_THREADS := _threads_per_worker()) is not None:
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_variable, str(_THREADS))
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="monge-lab-test-config-")
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="monge-lab-test-data-")  # recordings

THREAD_GRACE_S = 5.0


def _child_processes() -> set[int]:
    """Live (not zombie) child processes of this test process, from /proc (Linux)."""
    me, children = os.getpid(), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children


def _active_timers() -> list:
    """Registered Qt timers still running (only if the test used Qt at all)."""
    timers = sys.modules.get("lab.core.timers")
    return [] if timers is None else timers.active()


@pytest.fixture(autouse=True)
def nothing_left_running():
    """Fail any test that leaves a Python thread, a registered Qt timer or a child process
    running (jobs, docks and services must be stopped and joined)."""
    threads_before = set(threading.enumerate())
    children_before = _child_processes()
    yield
    gc.collect()
    deadline = time.monotonic() + THREAD_GRACE_S
    threads, children = [], set()
    while time.monotonic() < deadline:
        threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        children = _child_processes() - children_before
        if not threads and not children:
            break
        time.sleep(0.05)
    if threads:
        pytest.fail(f"test left threads running: {[t.name for t in threads]}")
    if children:
        pytest.fail(f"test left child processes running: {sorted(children)}")
    timers = _active_timers()
    if timers:
        names = [t.parent().objectName() if t.parent() is not None else "?" for t in timers]
        pytest.fail(f"test left {len(timers)} Qt timer(s) running (parents: {names})")
