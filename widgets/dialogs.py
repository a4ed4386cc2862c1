"""The few modal questions the window asks, in one place (tests replace these functions)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


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
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"
