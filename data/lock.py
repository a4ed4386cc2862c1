"""One writer per session: an advisory lock held for as long as a program writes a session.

:class:`SessionLock` takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on a lock file beside the session,
``.<name>.lock`` (hidden, like the temporary files of :mod:`data.atomic`), and keeps it open.
The operating system releases a flock when its holder exits in any way, SIGKILL and crashes
included, so a lock is never stale: a lock file whose lock nobody holds is free. The holder
writes its pid, host and start time into the file so that a refused writer can say who holds
it. The lock file is removed on release; a writer that opened it just before that removal finds
the file it locked is no longer the one at the path, and starts over (so two writers can never
hold locks on two different files of the same name).

The lock is advisory: it binds Monge Lab (GUI and CLI), not other programs. POSIX only (fcntl).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from data.atomic import resolve_target
from data.schema import SessionFileError


class SessionLockedError(SessionFileError):
    """The session is being written by another Monge Lab (``pid`` on ``host`` since ``since``,
    each None when the holder had not written them yet)."""

    def __init__(self, path: str | os.PathLike, owner: dict) -> None:
        self.pid, self.host, self.since = owner.get("pid"), owner.get("host"), owner.get("since")
        who = "pid ?" if self.pid is None else f"pid {self.pid}"
        if self.host:
            who += f" on {self.host}"
        if self.since:
            who += f", since {self.since}"
        super().__init__(
            path, f"is open for writing in another Monge Lab ({who}); close it there first"
        )


def lock_path(path: str | os.PathLike) -> Path:
    """The lock file of the session ``path``: ``.<name>.lock`` beside its (resolved) target."""
    target = resolve_target(path)
    return target.with_name(f".{target.name}.lock")


class SessionLock:
    """An exclusive, non-blocking lock on the session ``path``; a context manager.

    ``acquire()`` raises :class:`SessionLockedError` if another holder has it (another process,
    or another SessionLock of this process), SessionFileError if the lock file cannot be
    created. ``release()`` is idempotent.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = path
        self.lock_file = lock_path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> SessionLock:
        if self._fd is not None:
            return self
        while True:
            try:
                fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise SessionFileError(
                    self.path, f"cannot be locked for writing ({exc.strerror}: {self.lock_file})"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_owner(fd)
                os.close(fd)
                raise SessionLockedError(self.path, owner) from None
            if _same_file(fd, self.lock_file):
                break
            os.close(fd)  # the holder removed it between our open and our lock: start over
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if _same_file(self._fd, self.lock_file):
                self.lock_file.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> SessionLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(path: str | os.PathLike) -> bool:
    """True if some writer (another process, or a SessionLock of this one) holds ``path``."""
    probe = SessionLock(path)
    if not probe.lock_file.exists():
        return False
    try:
        probe.acquire()
    except SessionLockedError:
        return True
    except SessionFileError:
        return False
    probe.release()
    return False


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _read_owner(fd: int) -> dict:
    try:
        owner = json.loads(os.pread(fd, 4096, 0).decode())
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}
