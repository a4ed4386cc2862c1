"""What the headless commands share: the one-line usage error and argument types."""

from __future__ import annotations

import argparse
import importlib
import math
import os
from collections.abc import Callable

from data import (
    RunRecord,
    SessionFileError,
    add_runs,
    check_writable,
    load_session,
    replace_runs,
)
from data.lock import SessionLock
from engines.constraints import number_from_text
from lab.core.ids import utc_now


def command(target: str) -> Callable[[argparse.Namespace], int]:
    """The command function ``"module:function"``, imported only when the command runs.

    Each feature's ``cli`` module declares its parsers with these references, so building the
    parser (and ``--help``) imports argparse and the defaults, never a command's engines.
    """
    module, _, name = target.partition(":")

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module), name)(args)

    run.__qualname__ = run.__name__ = target
    return run


class CliError(Exception):
    """A problem with the user's input: reported as one line, exit code 2."""


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2, and whose ``--help``
    shows every option's default (so no one has to read the engines to find them)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(message)


def integer(text: str) -> int:
    """An argparse type: an integer in ASCII digits (``engines.constraints.number_from_text``:
    other scripts' digits and ``1_000`` are refused, not silently read)."""
    try:
        return int(number_from_text(text, integer=True))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None


def finite_float(text: str) -> float:
    """An argparse type: a finite float, with a clear message otherwise."""
    try:
        value = number_from_text(text, integer=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a share), with a clear message otherwise."""
    value = finite_float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a share from 0 to 1")
    return value


SAVE_SECONDS = 5.0
"""Default longest time between two saves of a long command's partial run (``--save-seconds``):
a kill loses at most this much of what it computed."""


def check_session_writable(path: str) -> None:
    """Before any long work: the session can be written (directory, format) and no other Monge
    Lab holds it (SessionLockedError names the holder). ``save_runs`` takes the lock again for
    the write itself, so a writer that appears in between is still refused, only later."""
    check_writable(path)
    if os.path.lexists(path):
        with SessionLock(path):
            pass


def session_runs(path: str) -> dict[str, RunRecord]:
    """The runs of an existing session file that this command may extend (CliError with the
    file's problem, or the other Monge Lab writing it, otherwise)."""
    try:
        check_session_writable(path)
        if not os.path.lexists(path):
            raise CliError(f"{path} does not exist")
        return load_session(path).runs
    except SessionFileError as exc:
        raise CliError(str(exc)) from None


def get_run(runs: dict[str, RunRecord], run_id: str, kind: str, path: str) -> RunRecord:
    """The run ``run_id`` of kind ``kind`` (CliError naming the runs of that kind otherwise)."""
    run = runs.get(run_id)
    if run is None:
        known = ", ".join(r.id for r in runs.values() if r.kind == kind) or "none"
        raise CliError(f"no run '{run_id}' in {path} ({kind} runs: {known})")
    if run.kind != kind:
        raise CliError(f"run '{run_id}' is of kind '{run.kind}', not '{kind}'")
    return run


def save_runs(path: str, runs: list[RunRecord], replace: bool = False) -> None:
    """Add (or replace) runs atomically, with a log line, holding the session's lock; CliError
    if another Monge Lab is writing the session or the file refuses."""
    try:
        line = f"{utc_now()}  {'updated' if replace else 'added'} {', '.join(r.id for r in runs)}"
        with SessionLock(path):
            (replace_runs if replace else add_runs)(path, runs, log=[line])
    except (SessionFileError, OSError, ValueError) as exc:
        raise CliError(str(exc)) from None


def store_runs(path: str, runs: list[RunRecord], replace: bool = False) -> None:
    """Add (or replace) runs atomically with a log line, the session's lock being already held
    by this command (``save_runs`` would take it again and be refused); CliError if the file
    refuses. Each write is temp file + fsync + rename: a kill at any instant keeps the previous
    file whole."""
    line = f"{utc_now()}  {'updated' if replace else 'added'} {', '.join(r.id for r in runs)}"
    try:
        (replace_runs if replace else add_runs)(path, runs, log=[line])
    except (SessionFileError, OSError, ValueError) as exc:
        raise CliError(str(exc)) from None


def locked_session_runs(path: str, lock: SessionLock) -> dict[str, RunRecord]:
    """Acquire ``lock`` (held until the command ends, so no other Monge Lab writes the session
    meanwhile) and return the session's runs ({} when the file does not exist yet); CliError
    naming the problem otherwise (the lock is then released)."""
    try:
        lock.acquire()
        check_writable(path)
        return load_session(path).runs if os.path.lexists(path) else {}
    except SessionFileError as exc:
        lock.release()
        raise CliError(str(exc)) from None


def run_locked(args: argparse.Namespace, body, *, existing: bool = True) -> int:
    """Run ``body(args, runs)`` holding the session's lock from reading its runs to the end,
    for a long command that saves as it goes (``store_runs``). With ``existing`` the session
    must exist, and ``--save-seconds`` (when the command has it) must be positive."""
    save_seconds = getattr(args, "save_seconds", None)
    if save_seconds is not None and not save_seconds > 0:
        raise CliError("--save-seconds must be positive")
    if existing and not os.path.lexists(args.path):
        raise CliError(f"{args.path} does not exist")
    lock = SessionLock(args.path)
    runs = locked_session_runs(args.path, lock)
    try:
        return body(args, runs)
    finally:
        lock.release()
