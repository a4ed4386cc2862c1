"""A reproduction's report folder: ``README.md`` (the table: published claim | the lab's figure
with error bars | verdict | settings | time, then the notes and the figures), ``results.json``
(the same, machine-readable, with the headline numbers) and the figures as PNG and SVG."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from lab.core.version import APP_VERSION
from lab.reproduce.figures import write_figure
from lab.reproduce.outcome import Outcome


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(outcome: Outcome) -> str:
    """The table as Markdown."""
    lines = ["| published claim | Monge Lab | verdict | settings | time |", "|---|---|---|---|---|"]
    for row in outcome.rows:
        seconds = f"{row.seconds:.0f} s" if row.seconds == row.seconds else "—"
        lines.append(
            f"| {_cell(row.claim)} | {_cell(row.measured)} | {row.verdict} | "
            f"{_cell(row.settings)} | {seconds} |"
        )
    return "\n".join(lines)


def check_report_folder(folder: str | os.PathLike) -> None:
    """ValueError with one sentence unless a report can be written into ``folder``: an existing
    directory, or one that can be created (its nearest existing parent is a directory this
    process may write: a temporary folder is made and removed there). Leaves nothing behind;
    ``reproduce`` asks before any work, so that a bad ``--report`` never comes up after the runs
    are saved."""
    target = Path(os.path.abspath(folder))
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise ValueError(f"the report folder {target} exists and is not a directory")
        parent = target
    else:
        parent = target.parent
        while not (parent.exists() or parent.is_symlink()) and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise ValueError(
                f"the report folder {target} cannot be created: {parent} is not a directory"
            )
    try:  # permission bits alone can mislead (root, read-only mounts): try, leaving nothing
        os.rmdir(tempfile.mkdtemp(prefix=".monge-report-", dir=parent))
    except OSError as exc:
        raise ValueError(
            f"the report folder {target} cannot be written ({exc.strerror or exc} in {parent})"
        ) from None


def write_report(outcome: Outcome, folder: Path, session: str, run_id: str) -> list[Path]:
    """Write the report of ``outcome`` (stored as ``run_id`` in ``session``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "Experiment": outcome.experiment,
        "Session": session,
        "Run": run_id,
        "Software": f"Monge Lab {APP_VERSION}",
    }
    written: list[Path] = []
    for figure in outcome.figures:
        written += write_figure(figure, folder, metadata)
    scale = "quick (scaled down)" if outcome.quick else "full"
    text = [
        f"# {outcome.title}",
        "",
        f"Monge Lab {APP_VERSION}, `reproduce {outcome.experiment}` ({scale}, seed "
        f"{outcome.seed}), session `{session}`, run `{run_id}`, {outcome.seconds:.0f} s.",
        "",
        table_markdown(outcome),
        "",
    ]
    if outcome.notes:
        text += ["## Notes", ""] + [f"- {note}" for note in outcome.notes] + [""]
    if outcome.figures:
        text += ["## Figures", ""]
        text += [f"![{f.title}]({f.name}.png)" for f in outcome.figures] + [""]
    readme = folder / "README.md"
    readme.write_text("\n".join(text), encoding="utf-8")
    results = folder / "results.json"
    results.write_text(
        json.dumps(
            {
                "experiment": outcome.experiment,
                "title": outcome.title,
                "quick": outcome.quick,
                "seed": outcome.seed,
                "session": session,
                "run": run_id,
                "seconds": outcome.seconds,
                "settings": outcome.settings,
                "results": outcome.results,
                "rows": [row.__dict__ for row in outcome.rows],
                "notes": outcome.notes,
            },
            indent=2,
            default=float,
        ),
        encoding="utf-8",
    )
    return [readme, results, *written]
