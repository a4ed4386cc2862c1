"""``reproduce``: one command per headline experiment of the papers the lab exists for.

``python main.py reproduce NAME S.h5 [--quick] [--seed S] [--report DIR] [--set key=value …]``
draws the data, trains, samples and measures, adds the data's Ising runs and a ``reproduction``
run to the session, and writes a report folder (a table: published claim | the lab's figure
with error bars | verdict | settings | time, the notes, and the figures as PNG and SVG).
``reproduce --list`` names the experiments and their settings.
"""

from __future__ import annotations

import argparse

from lab.cli.common import command, integer


def add_parsers(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser(
        "reproduce",
        help="reproduce a paper's headline experiment, with a report",
        description=__doc__.split("\n\n")[1],
    )
    rep.add_argument("name", nargs="?", help="the experiment (reproduce --list names them)")
    rep.add_argument("path", nargs="?", help="session file (created or extended)")
    rep.add_argument(
        "--list", action="store_true", help="list the experiments and their settings, then exit"
    )
    rep.add_argument(
        "--quick",
        action="store_true",
        help="the scaled-down version (under a minute; for tests and a first look)",
    )
    rep.add_argument("--seed", type=integer, default=0, help="seed of the data and the trainings")
    rep.add_argument(
        "--report",
        metavar="DIR",
        help="report folder (default: <session>.reports/<run id>/ beside the session)",
    )
    rep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of the experiment (repeat; lists as JSON, "
        "e.g. learning_rate=[0.003,0.01])",
    )
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.set_defaults(func=command("lab.reproduce.commands:reproduce"))
