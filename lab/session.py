"""The session: every run of the user's work, its provenance, the layout and the log.

:class:`Session` wraps a plain :class:`data.SessionRecord` and tells the views what changed
through Qt signals. It lives in the GUI thread; workers hand their results over through queued
signals, never by touching the session themselves. Reading and writing the file is ``data``'s job.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from data import RunRecord, SessionRecord, load_session, save_session
from lab.version import APP_VERSION

_RUN_NUMBER = re.compile(r"^(?P<kind>.+)-(?P<number>\d+)$")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with seconds, e.g. '2026-11-22T14:11:26Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_run_id(existing: list[str] | set[str], kind: str) -> str:
    """The next free id for ``kind``: '<kind>-001', '<kind>-002', … (numbers never reused)."""
    highest = 0
    for run_id in existing:
        match = _RUN_NUMBER.match(run_id)
        if match and match["kind"] == kind:
            highest = max(highest, int(match["number"]))
    return f"{kind}-{highest + 1:03d}"


class Session(QObject):
    """The open session: runs (by id, in creation order), UI state, log, file path, dirty flag."""

    runAdded = Signal(str)
    runChanged = Signal(str)
    logAppended = Signal(str)
    pathChanged = Signal(str)
    dirtyChanged = Signal(bool)
    reloaded = Signal()
    aboutToSave = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.record = SessionRecord(created=utc_now(), app_version=APP_VERSION)
        self.path: Path | None = None
        self._dirty = False

    # ------------------------------------------------------------------ state
    @property
    def dirty(self) -> bool:
        """True when the session has changes that are not in its file."""
        return self._dirty

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)

    def runs(self) -> list[RunRecord]:
        return list(self.record.runs.values())

    def run(self, run_id: str) -> RunRecord:
        try:
            return self.record.runs[run_id]
        except KeyError:
            raise KeyError(f"no run '{run_id}' in this session") from None

    # ------------------------------------------------------------------ runs
    def new_run_id(self, kind: str) -> str:
        return next_run_id(set(self.record.runs), kind)

    def add_run(self, run: RunRecord) -> RunRecord:
        """Add a run (its id must be new); an empty id is replaced by the next free one."""
        if not run.id:
            run.id = self.new_run_id(run.kind)
        if run.id in self.record.runs:
            raise ValueError(f"a run '{run.id}' already exists in this session")
        if not run.created:
            run.created = utc_now()
        self.record.runs[run.id] = run
        self._set_dirty(True)
        self.runAdded.emit(run.id)
        return run

    def update_run(self, run_id: str, **changes: object) -> RunRecord:
        """Change fields of a run (status, datasets, results, …) and notify the views.

        With no changes it only announces that the run object was modified in place.
        """
        run = self.run(run_id)
        for name, value in changes.items():
            if not hasattr(run, name):
                raise AttributeError(f"RunRecord has no field '{name}'")
            setattr(run, name, value)
        self._set_dirty(True)
        self.runChanged.emit(run_id)
        return run

    # ------------------------------------------------------------------ log
    def log(self, message: str) -> None:
        line = f"{utc_now()}  {message}"
        self.record.log.append(line)
        self._set_dirty(True)
        self.logAppended.emit(line)

    # ------------------------------------------------------------------ files
    def set_ui(self, key: str, value: bytes | str) -> None:
        self.record.ui[key] = value

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the session atomically to ``path`` (default: its current file)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the session has no file yet: choose where to save it")
        self.aboutToSave.emit()
        self.record.app_version = APP_VERSION
        save_session(self.record, target)
        self.path = target
        self.pathChanged.emit(str(target))
        self._set_dirty(False)
        return target

    def load(self, path: str | os.PathLike) -> None:
        """Replace the content by the session in ``path`` (raises data.SessionFileError).

        Runs saved while still running cannot be running now: they are marked 'interrupted'.
        """
        record = load_session(path)
        for run in record.runs.values():
            if run.status in ("running", "paused"):
                run.status = "interrupted"
        self.record = record
        self.path = Path(path)
        self.pathChanged.emit(str(self.path))
        self._set_dirty(False)
        self.reloaded.emit()

    def clear(self) -> None:
        """Start a new, empty, unsaved session."""
        self.record = SessionRecord(created=utc_now(), app_version=APP_VERSION)
        self.path = None
        self.pathChanged.emit("")
        self._set_dirty(False)
        self.reloaded.emit()
