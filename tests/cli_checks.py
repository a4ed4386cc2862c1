"""What every bad-input test of a command asserts, in one place: exit code 2, exactly one line
on stderr (``monge-lab: error: …``) and the session file byte for byte unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

from main import main


def digest(path: Path) -> str:
    """sha256 of the whole file: 'unchanged' means byte for byte."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(argv: list[str], session: Path, capsys, fragment: str = "") -> str:
    """Run ``main(argv)``; assert the refusal (module doc) and that the line holds ``fragment``.
    Returns the line."""
    before = digest(session)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("monge-lab: error: "), err
    assert fragment in err[0], err
    assert digest(session) == before
    return err[0]


def forbid(monkeypatch, *targets: str) -> None:
    """Patch each dotted ``targets`` (``"lab.rg.flow._simulate"``) with a function that fails
    the test: a refusal that must come before any work is shown to, without timing it."""

    def work(*args, **kwargs):
        raise AssertionError("work started before the input was checked")

    for target in targets:
        monkeypatch.setattr(target, work)
