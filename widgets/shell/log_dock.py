"""The log dock: the session's log lines, newest at the bottom."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

from lab.session.session import Session


class LogDock(QDockWidget):
    """Read-only view of ``session.record.log`` that follows new lines."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__("Log", parent)
        self.setObjectName("logDock")
        self.session = session
        self.text = QPlainTextEdit(objectName="logText", readOnly=True)
        self.text.setMaximumBlockCount(10000)
        self.setWidget(self.text)
        session.logAppended.connect(self.text.appendPlainText)
        session.reloaded.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.text.setPlainText("\n".join(self.session.record.log))
