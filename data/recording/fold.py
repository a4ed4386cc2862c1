"""Folding recordings into their session, and tidying what killed recorders leave behind."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from data.lock import is_locked, lock_path
from data.reader import read_run, read_run_ids
from data.recording.layout import RecordingError
from data.recording.paths import SUFFIX, find_recordings
from data.recording.reader import read_recording
from data.records import RunRecord
from data.writer import add_runs, replace_runs


@dataclass
class FoldResult:
    """What :func:`fold_recordings` did: run ids added or replaced, and recordings it could not
    read (kept on disk, with the error)."""

    folded: list[str] = field(default_factory=list)
    failed: list[tuple[Path, RecordingError]] = field(default_factory=list)


def fold_recordings(
    session_path: str | os.PathLike,
    recordings: list[Path] | None = None,
    *,
    finish: Callable[[RunRecord], RunRecord] | None = None,
    log: list[str] | None = None,
) -> FoldResult:
    """Put the runs of ``recordings`` (default: :func:`find_recordings`) into the session.

    ``finish(run)`` may complete a recovered run (e.g. compute its results) before it is stored.
    A run whose id is already in the session *as the same run* (same kind and ``created``: an
    earlier fold or save of it) replaces it; a different run of that id gets a new id
    ``<id>.recovered`` (``-2``, ``-3``, … if needed). The session is written atomically (one
    ``add_runs`` and one ``replace_runs``), and only then are the recordings deleted, so an
    interruption at any point loses nothing and folding again gives the same session.
    The caller must hold the session's :class:`~data.lock.SessionLock`. Raises
    SessionFileError if the session cannot be read or written (recordings kept).
    """
    paths = find_recordings(session_path) if recordings is None else list(recordings)
    result = FoldResult()
    runs: list[tuple[Path, RunRecord]] = []
    for path in paths:
        try:
            run = read_recording(path)
        except RecordingError as exc:
            result.failed.append((path, exc))
            continue
        if finish is not None:
            try:
                run = finish(run)
            except Exception as exc:  # noqa: BLE001 — one recording must not stop the others
                result.failed.append((path, RecordingError(path, f"could not be completed: {exc}")))
                continue
        runs.append((path, run))
    if not runs:
        return result
    exists = os.path.exists(session_path)
    ids = read_run_ids(session_path) if exists else []
    added: list[RunRecord] = []
    replaced: list[RunRecord] = []
    taken = set(ids)
    for _, run in runs:
        if run.id in ids and _same_run(read_run(session_path, run.id), run):
            replaced.append(run)
            continue
        if run.id in taken:
            run.id = _free_id(run.id, taken)
        taken.add(run.id)
        added.append(run)
    lines = list(log or [])
    if added or not replaced:
        add_runs(session_path, added, log=lines)
        lines = []
    if replaced:
        replace_runs(session_path, replaced, log=lines)
    for path, run in runs:
        for leftover in (path, lock_path(path)):  # a killed recorder leaves its lock file
            with suppress(FileNotFoundError):
                leftover.unlink()
        result.folded.append(run.id)
    for directory in {path.parent for path, _ in runs}:
        tidy_recordings_dir(directory)
    return result


def tidy_recordings_dir(directory: str | os.PathLike) -> None:
    """Remove what killed recorders leave behind once their recordings are gone: lock files
    nobody holds, temporary files of recordings never created, and the folder when empty."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        name = entry.name
        if name.endswith(f"{SUFFIX}.lock") and name.startswith("."):
            recording = entry.with_name(name[1 : -len(".lock")])
            if not recording.exists() and not is_locked(recording):
                with suppress(OSError):
                    entry.unlink()
        elif (
            name.endswith(".tmp")
            and SUFFIX in name
            and not is_locked(entry.with_name(name[1:].split(SUFFIX)[0] + SUFFIX))
        ):
            with suppress(OSError):
                entry.unlink()
    with suppress(OSError):
        directory.rmdir()  # only if empty: the folder disappears with its last recording


def _same_run(stored: RunRecord, recorded: RunRecord) -> bool:
    return stored.kind == recorded.kind and stored.created == recorded.created


def _free_id(run_id: str, taken: set[str]) -> str:
    candidate, n = f"{run_id}.recovered", 1
    while candidate in taken:
        n += 1
        candidate = f"{run_id}.recovered-{n}"
    return candidate
