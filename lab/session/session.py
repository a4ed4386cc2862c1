"""The session: every run of the user's work, its provenance, the layout and the log.

:class:`Session` wraps a plain :class:`data.SessionRecord` and tells the views what changed
through Qt signals. It lives in the GUI thread; workers hand their results over through queued
signals, never by touching the session themselves. Reading and writing the file is ``data``'s job.

Safety (see :mod:`data.recording` and :mod:`data.lock`):

- A session holds a :class:`~data.lock.SessionLock` on its file from the moment it is opened or
  saved there until it is closed, cleared or another file is opened: another Monge Lab can
  neither open nor save onto it (:class:`~data.lock.SessionLockedError`).
- Live runs also write a recording (:meth:`Session.open_recorder`) into
  :meth:`Session.recordings_directory`: beside the file once saved, else in the per-user folder
  named by the session's ``uuid`` (locked while this session lives, so that no other instance
  offers to recover it). The run stays in memory as well; once a save has written it and its
  recorder is closed, the recording is deleted: that is the fold on save. A kill leaves the
  recordings, which :meth:`Session.recover` folds back in (as ``interrupted`` runs).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from data import RunRecord, SessionFileError, SessionRecord, load_session, save_session
from data.atomic import resolve_target
from data.lock import SessionLock, is_locked, lock_path
from data.lock import SessionLockedError as SessionLockedError  # re-exported for the window
from data.recording import (
    RecordingError,
    RunRecorder,
    Stream,
    find_recordings,
    read_recording,
    recording_path,
    recordings_dir,
    recordings_in,
    tidy_recordings_dir,
    unsaved_recordings_dirs,
)
from lab.core.ids import _free_id, next_run_id, utc_now
from lab.core.version import APP_VERSION


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
        self.uuid = uuid.uuid4().hex  # names the recordings folder while the session is unsaved
        self._dirty = False
        self._lock: SessionLock | None = None  # on self.path
        self._unsaved_lock: SessionLock | None = None  # on the per-user recordings folder
        self._recordings: set[Path] = set()  # to delete once saved and closed
        #: What the last :meth:`recover` could not fold: (recording, why), each left in place.
        self.unrecovered: list[tuple[Recoverable, str]] = []
        self._reserved: set[str] = set()  # run ids promised to jobs, not yet added

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
        return next_run_id(set(self.record.runs) | self._reserved, kind)

    def reserve_run_ids(self, kind: str, count: int) -> list[str]:
        """``count`` new ids for runs a job will hand over later (no other run gets them)."""
        ids = []
        for _ in range(count):
            ids.append(self.new_run_id(kind))
            self._reserved.add(ids[-1])
        return ids

    @property
    def reserved_ids(self) -> frozenset[str]:
        """The ids promised to jobs and not yet added (no new run may take them)."""
        return frozenset(self._reserved)

    def reserve_ids(self, ids: Iterable[str]) -> None:
        """Promise the given ids (drawn by a job itself, e.g. a sweep's rg-flow points) to it."""
        self._reserved.update(ids)

    def add_run(self, run: RunRecord) -> RunRecord:
        """Add a run (its id must be new); an empty id is replaced by the next free one."""
        if not run.id:
            run.id = self.new_run_id(run.kind)
        if run.id in self.record.runs:
            raise ValueError(f"a run '{run.id}' already exists in this session")
        self._reserved.discard(run.id)
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
        """Write the session atomically to ``path`` (default: its current file).

        Saving onto another file takes that file's lock first (SessionLockedError, a
        SessionFileError, if another Monge Lab writes it) and then gives up the old one.
        Recordings of closed runs, now in the file, are deleted.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("the session has no file yet: choose where to save it")
        lock = self._lock_for(target)
        try:
            self.aboutToSave.emit()
            self.record.app_version = APP_VERSION
            save_session(self.record, target)
        except BaseException:
            if lock is not self._lock:
                lock.release()
            raise
        self._take_lock(lock)
        self.path = target
        self._delete_saved_recordings()
        self.pathChanged.emit(str(target))
        self._set_dirty(False)
        return target

    def load(self, path: str | os.PathLike) -> None:
        """Replace the content by the session in ``path`` (raises data.SessionFileError, and
        SessionLockedError when another Monge Lab writes it; then nothing changes).

        Runs saved while still running cannot be running now: they are marked 'interrupted'.
        Recordings of the previous content are deleted (the caller saved or discarded it).
        """
        lock = self._lock_for(Path(path))
        try:
            record = load_session(path)
        except BaseException:
            if lock is not self._lock:
                lock.release()
            raise
        for run in record.runs.values():
            if run.status in ("running", "paused"):
                run.status = "interrupted"
        self._forget_recordings()
        self._take_lock(lock)
        self.record = record
        self.path = Path(path)
        self.uuid = uuid.uuid4().hex
        self.pathChanged.emit(str(self.path))
        self._set_dirty(False)
        self.reloaded.emit()

    def clear(self) -> None:
        """Start a new, empty, unsaved session (releases the file's lock, deletes the recordings
        of the previous content: the caller saved or discarded it)."""
        self._forget_recordings()
        self._take_lock(None)
        self.record = SessionRecord(created=utc_now(), app_version=APP_VERSION)
        self.path = None
        self.uuid = uuid.uuid4().hex
        self._reserved.clear()
        self.pathChanged.emit("")
        self._set_dirty(False)
        self.reloaded.emit()

    def close(self) -> None:
        """The session is done with (window closed after save or discard): delete its closed
        recordings and release its locks. Recordings still being written are kept."""
        self._forget_recordings()
        self._take_lock(None)

    def _lock_for(self, target: Path) -> SessionLock:
        """The lock held on ``target``: ours if it is our file, else a new one, acquired."""
        if self._lock is not None and lock_path(target) == self._lock.lock_file:
            return self._lock
        return SessionLock(target).acquire()

    def _take_lock(self, lock: SessionLock | None) -> None:
        if self._lock is not None and self._lock is not lock:
            self._lock.release()
        self._lock = lock

    # ------------------------------------------------------------------ recordings
    def recordings_directory(self) -> Path:
        """Where live runs of this session record now (see the module docstring); for an
        unsaved session, locks its per-user folder so no other instance takes it for a leftover.
        """
        if self.path is not None:
            return recordings_dir(self.path)
        directory = recordings_dir(None, self.uuid)
        if self._unsaved_lock is None or self._unsaved_lock.path != directory:
            if self._unsaved_lock is not None:
                self._unsaved_lock.release()
            directory.parent.mkdir(parents=True, exist_ok=True)
            self._unsaved_lock = SessionLock(directory).acquire()
        return directory

    def recording_path_for(self, run_id: str) -> Path:
        """The recording of run ``run_id`` in :meth:`recordings_directory`, registered to be
        deleted once a save has written the run and its recorder is closed (a closed recording
        of the same run from earlier, whose content the session holds, is deleted now)."""
        path = recording_path(self.recordings_directory(), run_id)
        if path in self._recordings and path.exists() and not is_locked(path):
            _delete_recording(path)  # an earlier, closed recording of this run: it is in memory
        self._recordings.add(path)
        return path

    def open_recorder(
        self, header: RunRecord, streams: Mapping[str, Stream], **options: object
    ) -> RunRecorder:
        """A :class:`RunRecorder` for the live run ``header`` (in the GUI thread; the recorder
        is then used by one thread at a time). Raises RecordingError if it cannot be created."""
        path = self.recording_path_for(header.id)
        return RunRecorder(path, header, streams, session=str(self.path or ""), **options)

    def _delete_saved_recordings(self) -> None:
        """After a save: the recordings whose recorder is closed are in the file now."""
        for path in sorted(self._recordings):
            if not is_locked(path):
                _delete_recording(path)
                self._recordings.discard(path)

    def _forget_recordings(self) -> None:
        self._delete_saved_recordings()
        self._recordings = {p for p in self._recordings if p.exists()}
        if not self._recordings and self._unsaved_lock is not None:
            directory = Path(self._unsaved_lock.path)
            self._unsaved_lock.release()
            self._unsaved_lock = None
            tidy_recordings_dir(directory)

    def recoverable(self) -> list[Recoverable]:
        """Recordings left by killed programs that this session may take in: those of its file
        and those of unsaved sessions no running Monge Lab owns (never its own)."""
        paths = list(find_recordings(self.path)) if self.path is not None else []
        own = None if self._unsaved_lock is None else Path(self._unsaved_lock.path)
        for directory in unsaved_recordings_dirs():
            if directory != own and not is_locked(directory):
                paths.extend(recordings_in(directory))
        return [describe_recording(p) for p in paths if p not in self._recordings]

    def recover(
        self, items: list[Recoverable], finish: Callable[[RunRecord], RunRecord] = lambda run: run
    ) -> list[str]:
        """Fold the recordings ``items`` into this session: each becomes a run (``finish``
        completes it, e.g. computes its results), replacing the run of the same id if it is the
        same run (same kind and creation time: a snapshot saved while it ran), else under a new
        id ``<id>.recovered``. The recordings are deleted once a save has written them; a
        session with a file is saved at once. Returns the run ids; an item that cannot be read
        or completed is left where it is and listed, with why, in :attr:`unrecovered`.
        """
        ids: list[str] = []
        self.unrecovered = []
        for item in items:
            try:
                run = finish(read_recording(item.path))
            except RecordingError as exc:
                self.unrecovered.append((item, exc.problem))
                continue
            except (ValueError, KeyError) as exc:
                self.unrecovered.append((item, f"could not be completed: {exc}"))
                continue
            run.datasets = {k: v for k, v in run.datasets.items() if not k.startswith("resume/")}
            stored = self.record.runs.get(run.id)
            if stored is not None and (stored.kind, stored.created) == (run.kind, run.created):
                self.record.runs[run.id] = run
                self._set_dirty(True)
                self.runChanged.emit(run.id)
            else:
                if stored is not None or run.id in self._reserved:
                    run.id = _free_id(run.id, set(self.record.runs) | self._reserved)
                self.add_run(run)
            self._recordings.add(item.path)
            ids.append(run.id)
        if ids:
            self.log(f"recovered {len(ids)} run(s): {', '.join(ids)}")
            if self.path is not None:
                self.save()
        return ids

    def discard_recordings(self, items: list[Recoverable]) -> None:
        """Delete the recordings ``items`` (the user chose not to recover them)."""
        for item in items:
            if not is_locked(item.path):
                _delete_recording(item.path)


@dataclass(frozen=True)
class Recoverable:
    """A recording left to recover: its file, run id, kind, rows recorded, creation time, the
    session it belongs to ('' if never saved), status it reads back with, or an error."""

    path: Path
    run_id: str
    kind: str
    rows: int
    created: str
    session: str
    status: str
    error: str = ""


def describe_recording(path: Path) -> Recoverable:
    """What the recovery dialog shows of the recording ``path`` (never raises)."""
    try:
        run = read_recording(path)
    except RecordingError as exc:
        return Recoverable(path, path.name, "?", 0, "", "", "unreadable", exc.problem)
    rows = max(
        (
            len(a)
            for k, a in run.datasets.items()
            if not k.startswith("resume/") and isinstance(a, np.ndarray) and a.ndim
        ),
        default=0,
    )
    session = (
        ""
        if path.parent.parent == recordings_dir(None, "x").parent
        else str(_session_of(path.parent))
    )
    return Recoverable(path, run.id, run.kind, rows, run.created or "", session, run.status)


def _session_of(directory: Path) -> Path:
    """The session file whose recordings folder is ``directory`` (``.S.h5.recordings``)."""
    name = directory.name.removeprefix(".").removesuffix(".recordings")
    return resolve_target(directory.with_name(name))


def _delete_recording(path: Path) -> None:
    for leftover in (path, lock_path(path)):
        with suppress(FileNotFoundError, SessionFileError):
            leftover.unlink()
    tidy_recordings_dir(path.parent)
