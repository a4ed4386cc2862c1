"""The ``saved`` fixture shared by the session-file tests."""

from __future__ import annotations

import pytest

from data import save_session
from tests.data.sessions import full_session


@pytest.fixture
def saved(tmp_path):
    """A full session saved to S.h5; returns (path, record)."""
    path = tmp_path / "S.h5"
    record = full_session()
    save_session(record, path)
    return path, record
