"""Forms built from a feature's settings table (:mod:`lab.core.settings`), checked as typed.

Each :class:`lab.core.settings.Setting` becomes one field, chosen by ``Setting.field_kind``:

- 'integer' → ``QSpinBox`` over the constraint's range (out-of-range values cannot be typed);
- 'number' → :class:`widgets.common.number_field.NumberField`, a text field checked by the
  setting's constraint as it is typed, its message under the field;
- 'choice' → ``QComboBox`` of the allowed words; 'flag' → ``QCheckBox``.

:meth:`Form.values` returns the settings by key, or raises ``ValueError`` with the first bad
field's message; :meth:`Form.errors` lists the messages; ``changed`` fires on any edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox, QWidget

from lab.core.settings import Setting
from widgets.common.number_field import NumberField


class Form(QObject):
    """The fields of ``settings`` (``widget(key)``), their values and their messages."""

    changed = Signal()

    def __init__(
        self,
        settings: Sequence[Setting],
        defaults: dict[str, Any] | None = None,
        prefix: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = {s.key: s for s in settings}
        self._widgets: dict[str, QWidget] = {}
        defaults = defaults or {}
        for s in settings:
            self._widgets[s.key] = self._field(s, defaults.get(s.key, s.default), prefix)

    def _field(self, s: Setting, value: Any, prefix: str) -> QWidget:
        name = s.widget or f"{prefix}{s.key.title().replace('_', '')}Field"
        kind = s.field_kind
        if kind == "integer":
            low, high = s.integer_range  # type: ignore[misc]
            box = QSpinBox(objectName=name, minimum=low, maximum=high)
            box.setValue(int(value))
            box.valueChanged.connect(lambda _: self.changed.emit())
            widget: QWidget = box
        elif kind == "choice":
            combo = QComboBox(objectName=name)
            combo.addItems(list(s.choices))
            combo.setCurrentText(str(value))
            combo.currentTextChanged.connect(lambda _: self.changed.emit())
            widget = combo
        elif kind == "flag":
            check = QCheckBox(s.label, objectName=name)
            check.setChecked(bool(value))
            check.toggled.connect(lambda _: self.changed.emit())
            widget = check
        else:
            number = NumberField(s, value, name)
            number.changed.connect(self.changed.emit)
            widget = number
        if s.help:
            widget.setToolTip(s.help)
        return widget

    def widget(self, key: str) -> QWidget:
        return self._widgets[key]

    def value(self, key: str) -> Any:
        """One setting's value (ValueError with its message when the typed text is invalid)."""
        widget = self._widgets[key]
        if isinstance(widget, QSpinBox):
            return self.settings[key].check(widget.value())
        if isinstance(widget, QComboBox):
            return self.settings[key].check(widget.currentText())
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        return widget.parse()

    def values(self) -> dict[str, Any]:
        """Every setting by key; ValueError with the first bad field's message."""
        return {key: self.value(key) for key in self._widgets}

    def errors(self) -> list[str]:
        """The message of every invalid field (also shown under text fields)."""
        messages = []
        for key, widget in self._widgets.items():
            if isinstance(widget, NumberField):
                message = widget.error()
            else:
                try:
                    self.value(key)
                    message = ""
                except ValueError as exc:
                    message = str(exc)
            if message:
                messages.append(message)
        return messages

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (keys not in the form are ignored)."""
        for key, value in values.items():
            widget = self._widgets.get(key)
            if isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, NumberField):
                widget.set_value(value)

    def set_enabled(self, enabled: bool) -> None:
        for widget in self._widgets.values():
            widget.setEnabled(enabled)
