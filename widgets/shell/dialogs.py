"""The few modal questions the window asks, in one place (tests replace these functions)."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from lab.session.session import Recoverable
from widgets.shell.recovery_dialog import RecoveryDialog


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A visible error message the user must acknowledge."""
    QMessageBox.critical(parent, title, text)


def ask_save_changes(parent: QWidget | None) -> str:
    """'save', 'discard' or 'cancel' for a session with unsaved changes or running jobs."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved work")
    box.setText("The session has unsaved changes or running jobs.")
    box.setInformativeText("Running jobs will be stopped and their samples kept. Save the session?")
    box.setStandardButtons(
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def show_locked(parent: QWidget | None, title: str, text: str) -> None:
    """The session is being written by another Monge Lab: say so (``text`` names the holder)."""
    show_error(
        parent,
        title,
        f"{text}\n\nOnly one Monge Lab may write a session at a time; "
        "this window keeps its current session.",
    )


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def ask_recovery(parent: QWidget | None, items: list[Recoverable]) -> tuple[str, list[Recoverable]]:
    """('recover' | 'discard' | 'later', the recordings checked) for recordings to recover."""
    dialog = RecoveryDialog(items, parent)
    dialog.exec()
    return dialog.choice, dialog.selected()


def ask_autosave_minutes(parent: QWidget | None, minutes: float) -> float | None:
    """The autosave interval in minutes (0 = off), or None when the user cancels."""
    value, ok = QInputDialog.getDouble(
        parent, "Autosave", "Save the session every (minutes, 0 = off):", minutes, 0.0, 1440.0, 1
    )
    return value if ok else None
