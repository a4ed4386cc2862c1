"""The run-kind registry: for each kind of run, its view, its one-line summary, the dock that
shows it, and how a run read back from a live recording is completed.

Each feature registers its kinds when its ``runs`` module is imported (``register(RunKind(…))``
at the bottom of ``lab/<feature>/runs.py``); nothing here imports a feature. The session
browser's summaries, the main window's "show this run" and ``recover`` are then lookups in this
table instead of switches over kind strings, and a new feature adds its kinds without touching
them. A kind nobody registered still works everywhere with the generic :class:`RunView`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from data import RunRecord
from lab.core.views import RunView


def _no_summary(view: RunView) -> str:
    return ""


def _unchanged(run: RunRecord) -> RunRecord:
    return run


@dataclass(frozen=True)
class RunKind:
    """One kind of run: ``name`` (the ``kind`` attribute), ``view`` (its view class),
    ``summary`` (the browser's one line), ``dock`` (object name of the dock that shows it, ''
    for none) and ``complete`` (a recorded run completed as at the end of its job)."""

    name: str
    view: type[RunView] = RunView
    summary: Callable[[RunView], str] = _no_summary
    dock: str = ""
    complete: Callable[[RunRecord], RunRecord] = _unchanged


_KINDS: dict[str, RunKind] = {}


def register(kind: RunKind) -> RunKind:
    """Add ``kind`` to the table (a second registration of the same name replaces the first,
    so that reloading a module in a test is harmless)."""
    _KINDS[kind.name] = kind
    return kind


def run_kind(name: str) -> RunKind:
    """The registered kind ``name``, or a generic entry for an unknown kind."""
    return _KINDS.get(name) or RunKind(name)


def registered() -> list[str]:
    """The names of every registered kind, in registration order."""
    return list(_KINDS)


def view_of(run: RunRecord) -> RunView:
    """The typed view of ``run`` (the generic one for an unregistered kind)."""
    return run_kind(run.kind).view(run)


def summary_of(run: RunRecord) -> str:
    """The one-line summary of ``run`` for the session browser ('' when its kind has none)."""
    return run_kind(run.kind).summary(view_of(run))


def complete_recorded(run: RunRecord) -> RunRecord:
    """``run`` as read from a live recording, completed as its job would have completed it."""
    return run_kind(run.kind).complete(run)
