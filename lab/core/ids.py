"""Run ids, time stamps and messages: ``<kind>-001``, … (numbers never reused), ISO 8601 UTC
times, and a run's message cut to fit an HDF5 attribute."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_RUN_NUMBER = re.compile(r"^(?P<kind>.+)-(?P<number>\d+)$")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with seconds, e.g. '2026-11-22T14:11:26Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_run_id(existing: list[str] | set[str], kind: str) -> str:
    """The next free id for ``kind``: '<kind>-001', '<kind>-002', … (numbers never reused)."""
    highest = 0
    for run_id in existing:
        match = _RUN_NUMBER.match(run_id)
        if match and match["kind"] == kind:
            highest = max(highest, int(match["number"]))
    return f"{kind}-{highest + 1:03d}"


def _free_id(run_id: str, taken: set[str]) -> str:
    candidate, n = f"{run_id}.recovered", 1
    while candidate in taken:
        n += 1
        candidate = f"{run_id}.recovered-{n}"
    return candidate


MESSAGE_MAX_CHARS = 2000


def short_message(message: str) -> str:
    """A run's message, cut to fit comfortably in an HDF5 attribute."""
    if len(message) <= MESSAGE_MAX_CHARS:
        return message
    return message[: MESSAGE_MAX_CHARS - 1] + "…"
