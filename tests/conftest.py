"""Shared test setup: offscreen Qt, isolated user settings, and a guard against leaked threads."""

from __future__ import annotations

import os
import tempfile
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="monge-lab-test-config-")
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="monge-lab-test-data-")  # recordings

THREAD_GRACE_S = 5.0


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail any test that leaves a Python thread running (jobs must be stopped and joined)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    leaked = []
    while time.monotonic() < deadline:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        time.sleep(0.05)
    pytest.fail(f"test left threads running: {[t.name for t in leaked]}")
