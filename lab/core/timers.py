"""Every Qt timer of the application, created in one place so that shutdown can stop them all.

Docks refresh from timers and jobs drain their events from timers. A timer made with
:func:`new_timer` is registered (weakly: a deleted timer simply leaves the set), so the main
window's shutdown stops every one of them (:func:`stop_all`) without naming them, and the test
suite's fixture fails a test that leaves one running (:func:`active`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer

_TIMERS: weakref.WeakSet[QTimer] = weakref.WeakSet()


def new_timer(
    parent: QObject | None,
    interval_ms: int,
    slot: Callable[[], object],
    *,
    single_shot: bool = False,
    precise: bool = False,
) -> QTimer:
    """A registered QTimer calling ``slot`` every ``interval_ms`` (not started)."""
    timer = QTimer(parent)
    timer.setInterval(interval_ms)
    timer.setSingleShot(single_shot)
    if precise:
        timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(slot)
    _TIMERS.add(timer)
    return timer


def active() -> list[QTimer]:
    """The registered timers still running."""
    alive = []
    for timer in list(_TIMERS):
        try:
            if timer.isActive():
                alive.append(timer)
        except RuntimeError:  # the C++ object is gone
            continue
    return alive


def stop_all() -> None:
    """Stop every registered timer (the application's shutdown)."""
    for timer in active():
        timer.stop()
