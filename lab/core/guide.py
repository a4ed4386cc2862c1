"""The documents the Help menu shows: the user guide (the README's sections), the session-file
reference (docs/session-format.md), and what About says (version, session, data directory).

The documents are the project's own Markdown files, read from the checkout the lab runs from
(the README's install is editable, so they are always there); a missing file gives a sentence
saying where it was looked for, never an error.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from data.recording import recordings_dir
from lab.core.version import APP_VERSION

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README = PROJECT_ROOT / "README.md"
SESSION_FORMAT = PROJECT_ROOT / "docs" / "session-format.md"


@dataclass(frozen=True)
class Section:
    """One ``##`` section of a Markdown document: its title and its Markdown text."""

    title: str
    markdown: str


def read_document(path: Path) -> str:
    """The Markdown of ``path``, or a sentence saying it could not be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        return f"*{path.name} could not be read from {path.parent}: {exc.strerror or exc}.*"


def sections(markdown: str) -> list[Section]:
    """The document split at its ``## `` headings (text before the first one is 'Overview');
    headings inside fenced code blocks do not split."""
    out: list[Section] = []
    title, lines, fenced = "Overview", [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            if any(part.strip() for part in lines):
                out.append(Section(title, "\n".join(lines).strip() + "\n"))
            title, lines = line[3:].strip(), [line]
            continue
        lines.append(line)
    if any(part.strip() for part in lines):
        out.append(Section(title, "\n".join(lines).strip() + "\n"))
    return out


def user_guide() -> list[Section]:
    """The README's sections: install, tests, the tour, reproducing the papers, …"""
    return sections(read_document(README))


def session_format_reference() -> str:
    """docs/session-format.md, the layout of a session file for plain h5py and HDFView."""
    return read_document(SESSION_FORMAT)


def data_directory() -> Path:
    """Where the recordings of sessions never saved live (``$XDG_DATA_HOME/monge-lab/…``)."""
    return recordings_dir(None, "any").parent


def about(session_path: Path | None) -> list[tuple[str, str]]:
    """(label, text) rows of the About box."""
    return [
        ("Monge Lab", APP_VERSION),
        ("Session", str(session_path) if session_path is not None else "not saved yet"),
        ("Recordings of unsaved sessions", str(data_directory())),
        ("Program", str(PROJECT_ROOT)),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
    ]
