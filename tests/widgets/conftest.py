"""What the widget tests share: modal dialogs replaced by recorders (a test file may override
``answers`` with a richer one, as the session-safety tests do)."""

from __future__ import annotations

import pytest

from widgets.shell import dialogs


@pytest.fixture
def answers(monkeypatch):
    """Replace modal dialogs: record errors, answer 'discard' to the unsaved-work question."""
    record = {"errors": [], "ask": "discard"}
    monkeypatch.setattr(
        dialogs, "show_error", lambda parent, title, text: record["errors"].append(text)
    )
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: record["ask"])
    return record
