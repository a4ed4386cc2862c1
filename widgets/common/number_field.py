"""A text field for one real setting, checked as it is typed, with its message beneath it."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

ERROR_STYLE = "color: #e74c3c;"


class NumberField(QWidget):
    """A QLineEdit for one real setting, checked as it is typed; the message shows beneath it."""

    changed = Signal()

    def __init__(self, name: str, value: float, accept: Callable[[float], bool],
                 requirement: str, object_name: str) -> None:
        super().__init__()
        self.name, self.accept, self.requirement = name, accept, requirement
        self.edit = QLineEdit(f"{value:g}", objectName=object_name)
        self.error_label = QLabel("", objectName=f"{object_name}Error")
        self.error_label.setStyleSheet(f"{ERROR_STYLE} font-size: small;")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.edit)
        layout.addWidget(self.error_label)
        self.edit.textChanged.connect(self._on_text)

    def parse(self) -> float:
        """The typed value; ValueError '<name> must be …' when it is not acceptable."""
        try:
            value = float(self.edit.text().strip())
        except ValueError:
            raise ValueError(f"{self.name} must be a number") from None
        if not math.isfinite(value) or not self.accept(value):
            raise ValueError(f"{self.name} must be {self.requirement}")
        return value

    def error(self) -> str:
        """The message for the current text ('' when valid); also shown under the field."""
        try:
            self.parse()
            message = ""
        except ValueError as exc:
            message = str(exc)
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        self.edit.setStyleSheet("border: 1px solid #e74c3c;" if message else "")
        return message

    def _on_text(self, _text: str) -> None:
        self.error()
        self.changed.emit()
