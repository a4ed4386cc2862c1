"""The headless ``sweep`` command: a grid of runs of one command, on a Dask cluster.

- ``sweep S.h5 --plan plan.toml [--workers N | --scheduler tcp://host:8786]``: the plan of a
  TOML file (:mod:`lab.sweep.plan`);
- ``sweep S.h5 simulate --size 16,32 --temperature 2.0:2.6:4 --samples 2000 --seeds 2``: a
  command followed by its own options, any of which may be a list ``a,b`` or a range
  ``start:stop:count`` (the grid is their product; ``--zip a,b`` advances the options a and b
  together; ``--seed S`` is the base seed of the points' derived seeds, a list of seeds sweeps
  them explicitly);
- ``sweep S.h5 --resume sweep-001``: run the points of a sweep that are not finished.

Without ``--scheduler`` the points run on a local Dask cluster of worker processes, one per core
(``--workers N``). Each point becomes one run of the session, linked to a ``sweep`` run holding
the plan, the grid and each point's status; results are saved as they arrive, under the
session's lock. Ctrl-C cancels cleanly, keeping what finished (exit 130); points that failed
are recorded with their message (exit 1).
"""

from __future__ import annotations

import argparse

from lab.cli.common import Parser, command, integer

SUPPRESS = argparse.SUPPRESS


def _cluster_options(parser: argparse.ArgumentParser, nested: bool) -> None:
    """``--workers``, ``--scheduler``, ``--shared-dir`` and ``--quiet``, on the sweep parser and
    again after a command (``nested``: not overriding what was given before the command)."""
    default = (lambda value: SUPPRESS) if nested else (lambda value: value)
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=integer,
        default=default(None),
        metavar="N",
        help="worker processes of the local cluster (default: one per core)",
    )
    group.add_argument(
        "--scheduler",
        default=default(None),
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://host:8786 (instead of a local cluster)",
    )
    parser.add_argument(
        "--shared-dir",
        default=default(None),
        metavar="DIR",
        help="a folder the workers and this machine share: workers write "
        "their results there instead of sending them",
    )
    parser.add_argument(
        "--quiet", action="store_true", default=default(False), help="no progress bar"
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from lab.sweep.plan import COMMANDS, command_options

    sweep = sub.add_parser(
        "sweep",
        help="run a grid of simulations, trainings, … on a Dask cluster",
        description="Runs one command over a grid of its options, each point a Dask task "
        "(a local cluster of this machine's cores, or --scheduler). Give the plan "
        "as a TOML file (--plan), or as a command followed by its options, any of "
        "which may be a list a,b or a range start:stop:count; --resume SWEEP runs "
        "what a sweep has not finished.",
    )
    sweep.add_argument("path", help="session file (created or extended)")
    source = sweep.add_mutually_exclusive_group()
    source.add_argument("--plan", metavar="FILE", help="the sweep's plan, a TOML file")
    source.add_argument(
        "--resume",
        metavar="SWEEP",
        help="run the points of the sweep run SWEEP that are not finished",
    )
    _cluster_options(sweep, nested=False)
    kinds = sweep.add_subparsers(dest="kind", parser_class=Parser, metavar="COMMAND")
    for name in COMMANDS:
        kind = kinds.add_parser(
            name,
            help=f"sweep over {name}'s options",
            description=f"{name}'s own options; each may be a list a,b or "
            "a range start:stop:count (swept), or one value "
            "(fixed).",
        )
        for option in command_options(name).values():
            if option.dest == "seed":
                kind.add_argument(
                    option.flag,
                    dest="seed",
                    default=SUPPRESS,
                    metavar="SEED",
                    help="the base seed of the points' seeds (derived with "
                    "SeedSequence; default 0), or a list of seeds to sweep",
                )
            elif option.takes_value:
                default = "" if option.default is None else f" (default {option.default})"
                pool = "; a+b pools runs in one point" if option.repeated else ""
                verbatim = option.dest in COMMANDS[name].verbatim
                kind.add_argument(
                    option.flag,
                    dest=option.dest,
                    default=SUPPRESS,
                    metavar="TEXT" if verbatim else "VALUES",
                    help=f"{option.help}: passed as written, the same for every point (to "
                    "sweep it, a TOML plan's [grid] takes a list of such texts)"
                    if verbatim
                    else f"{option.help}{default}: a value, a list a,b or a range "
                    f"start:stop:count{pool}",
                )
            else:
                action = argparse.BooleanOptionalAction if option.negatable else "store_true"
                kind.add_argument(
                    option.flag, dest=option.dest, action=action, default=SUPPRESS, help=option.help
                )
        kind.add_argument(
            "--seeds",
            type=integer,
            default=SUPPRESS,
            metavar="N",
            help="runs per grid point, each with its own derived seed (default 1)",
        )
        kind.add_argument(
            "--zip",
            default=SUPPRESS,
            metavar="A,B",
            help="swept options advanced together (equal lengths) instead of crossed",
        )
        _cluster_options(kind, nested=True)
    sweep.set_defaults(func=command("lab.sweep.commands:sweep_command"))
