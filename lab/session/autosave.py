"""Autosave: save a session with a file at an interval the user sets (Qt core only).

A session that has a file is saved with :meth:`lab.session.session.Session.save` (atomic replace, so
a crash during an autosave never damages the previous file) when it has unsaved changes. An
unsaved session is never written anywhere by autosave: its live runs are already safe in their
recordings. The interval is in minutes for the user (0 = off) and in milliseconds underneath.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from data import SessionFileError
from lab.session.session import Session

SETTINGS_KEY = "autosaveMinutes"
MAX_MINUTES = 24 * 60


class Autosaver(QObject):
    """Saves ``session`` every interval when it is dirty and has a file.

    ``save`` does the saving (default ``session.save()``; the window passes one that also
    stores its layout) and returns the path written, or raises. Emits ``saved(path)`` after an
    autosave and ``failed(message)`` when one fails (the next interval tries again).
    """

    saved = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        session: Session,
        save: Callable[[], Path] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._save = save or (lambda: session.save())
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.autosave)

    @property
    def interval_ms(self) -> int:
        """The interval in milliseconds, 0 when autosave is off."""
        return self.timer.interval() if self.timer.isActive() else 0

    def set_minutes(self, minutes: float) -> None:
        """Autosave every ``minutes`` (0 turns it off; ValueError outside 0…24 h)."""
        if not 0 <= minutes <= MAX_MINUTES:
            raise ValueError(f"the autosave interval is 0 (off) to {MAX_MINUTES} minutes")
        self.set_interval_ms(round(minutes * 60_000))

    def set_interval_ms(self, interval_ms: int) -> None:
        """Autosave every ``interval_ms`` milliseconds (0 turns it off)."""
        self.timer.stop()
        if interval_ms > 0:
            self.timer.start(interval_ms)

    def autosave(self) -> bool:
        """Save now if the session has a file and unsaved changes; True when it saved."""
        if self.session.path is None or not self.session.dirty:
            return False
        try:
            path = self._save()
        except (SessionFileError, OSError, ValueError) as exc:
            self.failed.emit(f"autosave failed: {exc}")
            return False
        self.saved.emit(str(path))
        return True


def minutes_setting(value: object) -> float:
    """The autosave minutes stored in QSettings (0 when missing or invalid)."""
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        return 0.0
    return minutes if 0 <= minutes <= MAX_MINUTES else 0.0
