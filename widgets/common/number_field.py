"""A text field for one numeric setting, checked as it is typed, with its message beneath it.

The rule is the setting's constraint (:class:`lab.core.settings.Setting`, whose constraint the
engine and the CLI enforce too), so the field, the command line and the engine say the same
thing about the same bad value. A rule that depends on other fields (the RG dock's block size,
which must divide L) is a new row assigned to :attr:`NumberField.setting`, then :meth:`error`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from lab.core.settings import Setting

ERROR_STYLE = "color: #e74c3c;"


class NumberField(QWidget):
    """A QLineEdit for one numeric setting, checked as it is typed; the message shows beneath."""

    changed = Signal()

    def __init__(self, setting: Setting, value: Any, object_name: str) -> None:
        super().__init__()
        self.setting = setting  # may be replaced when the rule depends on other fields
        self.edit = QLineEdit(_text(value), objectName=object_name)
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

    def parse(self) -> Any:
        """The typed value; ValueError with the constraint's message when it is not allowed."""
        return self.setting.parse(self.edit.text())

    def set_value(self, value: Any) -> None:
        self.edit.setText(_text(value))

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


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
