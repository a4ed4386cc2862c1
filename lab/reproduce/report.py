"""A reproduction's report folder: ``README.md`` (the table: published claim | the lab's figure
with error bars | verdict | settings | time, then the notes and the figures), ``results.json``
(the same, machine-readable, with the headline numbers) and the figures as PNG and SVG."""

from __future__ import annotations

import json
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
