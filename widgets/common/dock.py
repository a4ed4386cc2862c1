"""The skeleton every feature dock shares: name, controller, refresh timer, error label, export.

A feature dock (Ising lattice, scan, RBM trainer, RG comparator, geometry, …) is a thin view of
its controller (``lab/<feature>/controller.py``). :class:`FeatureDock` owns what each of them
would otherwise repeat:

- the object name (for the saved window layout and for tests) and the controller;
- the refresh timer that pulls the controller's latest snapshot at ``refresh_hz`` (≤ 30 Hz),
  made with :func:`lab.core.timers.new_timer`, like every other timer of the dock
  (:meth:`add_timer`), so that the main window's shutdown stops them all without naming them;
- the error label (red, word-wrapped) and :meth:`show_error`;
- the "Export plots…" folder dialog (:meth:`export_dialog`), which reports what it wrote or why
  it could not in the error label.

Subclasses build their widgets, call :meth:`start_refresh` when ready, implement
:meth:`refresh` (draw the newest snapshot when it changed) and, if the session browser can show
one of their runs, :meth:`show_run` (the run's typed view, :mod:`lab.core.views`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QWidget

from lab.core.timers import new_timer
from lab.core.views import RunView
from widgets.common.number_field import ERROR_STYLE

MAX_REFRESH_HZ = 30.0


class FeatureDock(QDockWidget):
    """A dock with a controller, a registered refresh timer, an error label and plot export."""

    refresh_hz: ClassVar[float] = MAX_REFRESH_HZ
    """How often :meth:`refresh` pulls the controller's snapshot (capped at 30 Hz)."""

    def __init__(
        self,
        title: str,
        name: str,
        controller: Any,
        parent: QWidget | None = None,
        error_label_name: str = "",
    ) -> None:
        super().__init__(title, parent)
        self.setObjectName(name)
        self.controller = controller
        self.error_label = QLabel("", objectName=error_label_name or f"{name}ErrorLabel")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        hz = min(self.refresh_hz, MAX_REFRESH_HZ)
        self.timer = self.add_timer(int(1000 / hz), self.refresh)

    # ------------------------------------------------------------------ timers
    def add_timer(
        self,
        interval_ms: int,
        slot: Callable[[], object],
        *,
        single_shot: bool = False,
        precise: bool = False,
    ) -> QTimer:
        """A timer of this dock, registered for shutdown (not started)."""
        return new_timer(self, interval_ms, slot, single_shot=single_shot, precise=precise)

    def start_refresh(self) -> None:
        """Start pulling snapshots (once the subclass has built its views)."""
        self.timer.start()

    # ------------------------------------------------------------------ messages
    def show_error(self, text: str) -> None:
        """Show ``text`` in the dock's error label ('' clears it)."""
        self.error_label.setText(text)

    # ------------------------------------------------------------------ export
    def export_dialog(self, title: str, export: Callable[[Path], list[Path]]) -> None:
        """Ask for a folder and write the plots there with ``export(folder)``; the error label
        then says how many files were written, or why nothing was."""
        folder = QFileDialog.getExistingDirectory(self, title)
        if not folder:
            return
        try:
            written = export(Path(folder))
        except OSError as exc:
            self.show_error(str(exc))
            return
        self.show_error(f"exported {len(written)} file(s) to {folder}")

    # ------------------------------------------------------------------ to implement
    def refresh(self) -> None:
        """Draw the controller's newest snapshot if it changed (called by the timer)."""

    def show_run(self, view: RunView) -> None:
        """Show a saved run the session browser selected (its typed view)."""
