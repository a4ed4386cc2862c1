"""The session lock: one writer at a time, a clear message, never stale after a kill."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from data import SessionFileError
from data.lock import SessionLock, SessionLockedError, is_locked, lock_path


def test_a_second_writer_is_refused_with_who_holds_it(tmp_path):
    session = tmp_path / "S.h5"
    assert lock_path(session) == tmp_path / ".S.h5.lock"
    first = SessionLock(session).acquire()
    assert first.held and is_locked(session)
    with pytest.raises(SessionLockedError) as refused:
        SessionLock(session).acquire()
    error = refused.value
    assert isinstance(error, SessionFileError)
    assert (error.pid, error.host) == (os.getpid(), socket.gethostname())
    assert str(error).startswith(
        f"{session} is open for writing in another Monge Lab (pid "
        f"{os.getpid()} on {socket.gethostname()}, since "
    )
    assert str(error).endswith("); close it there first")
    since = str(error).split("since ")[1].split(")")[0]  # ISO 8601 UTC, as documented
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", since), since
    first.release()
    first.release()  # idempotent
    assert not is_locked(session) and not lock_path(session).exists()
    with SessionLock(session) as again:
        assert again.held
    assert not lock_path(session).exists()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    session = tmp_path / "S.h5"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {os.getcwd()!r})
            from data.lock import SessionLock
            SessionLock({str(session)!r}).acquire()
            print("held", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SessionLockedError, match=f"pid {holder.pid} "):
            SessionLock(session).acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert lock_path(session).exists()  # the file stays, but nobody holds its lock
    assert not is_locked(session)
    with SessionLock(session):
        pass


def test_a_lock_file_removed_under_a_waiting_writer_is_not_shared(tmp_path, monkeypatch):
    """B opened the lock file just before its holder A released (and removed) it, and C then
    locked a new file of that name: B's lock on the old file must not count."""
    session = tmp_path / "S.h5"
    a = SessionLock(session).acquire()
    stale = os.open(lock_path(session), os.O_RDWR)  # B's open, before A lets go
    a.release()
    c = SessionLock(session).acquire()
    real_open, opened = os.open, []

    def b_opens(*args, **kwargs):
        opened.append(args[0])
        return stale if len(opened) == 1 else real_open(*args, **kwargs)

    monkeypatch.setattr(os, "open", b_opens)
    with pytest.raises(SessionLockedError):  # B locks the old file, sees it is gone, retries
        SessionLock(session).acquire()
    monkeypatch.undo()
    assert len(opened) == 2
    c.release()


def test_an_unwritable_directory_is_a_session_file_error(tmp_path):
    with pytest.raises(SessionFileError, match="cannot be locked"):
        SessionLock(tmp_path / "missing" / "S.h5").acquire()
