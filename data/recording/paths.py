"""Where recordings live and how they are named (see :mod:`data.recording`)."""

from __future__ import annotations

import os
from pathlib import Path

from data.atomic import resolve_target
from data.lock import is_locked
from data.schema import check_name

SUFFIX = ".rec.h5"


def recordings_dir(session_path: str | os.PathLike | None, session_uuid: str = "") -> Path:
    """Where the recordings of a session live (see the module docstring).

    ``session_path`` None means a session never saved, identified by ``session_uuid``.
    """
    if session_path is not None:
        target = resolve_target(session_path)
        return target.with_name(f".{target.name}.recordings")
    check_name(session_uuid, "session uuid")
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "monge-lab" / "recordings" / session_uuid


def unsaved_recordings_dirs() -> list[Path]:
    """The per-user folders that hold recordings of sessions never saved (to offer recovery)."""
    root = recordings_dir(None, "x").parent
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if d.is_dir() and recordings_in(d))


def recording_path(directory: str | os.PathLike, run_id: str) -> Path:
    check_name(run_id, "run id")
    return Path(directory) / f"{run_id}{SUFFIX}"


def recordings_in(directory: str | os.PathLike) -> list[Path]:
    """Recordings in ``directory`` that no live recorder is writing, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX) and p.is_file())
    return [p for p in found if not is_locked(p)]


def find_recordings(session_path: str | os.PathLike) -> list[Path]:
    """Recordings of the session ``session_path`` left to fold (none being written)."""
    return recordings_in(recordings_dir(session_path))


def stray_recordings(session_path: str | os.PathLike) -> list[Path]:
    """Entries of the session's recordings folder named like a recording that are not regular
    files (a directory, a dangling link, a FIFO): never read or removed, only reported."""
    directory = recordings_dir(session_path)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX) and not p.is_file())
