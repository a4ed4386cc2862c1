"""Headless export: ``export S.h5 RUN [--npz OUT.npz] [--csv OUT.csv]`` (``lab.session.export``).

Reads one run of the session (never writes the session) and writes its arrays to an ``.npz``
and/or its time series to CSV. A missing or damaged session, an unknown run, a run without time
series for ``--csv``, a file that cannot be written, an output that is the session file itself
or the same file for both ends with one line and exit code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import os

from data import RunRecord, SessionFileError, read_run, read_run_ids
from lab.cli.common import CliError
from lab.session.export import check_target, export_csv, export_npz


def add_parsers(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser(
        "export",
        help="write a run's arrays (.npz) or time series (CSV)",
        description="Writes every dataset of the run and a JSON 'meta' entry "
        "to an .npz, and/or its time series (one column per "
        "series, with units) to a CSV file.",
    )
    exp.add_argument("path", help="session file")
    exp.add_argument("run", help="run id")
    exp.add_argument("--npz", metavar="OUT.npz", help="write the run's arrays here")
    exp.add_argument("--csv", metavar="OUT.csv", help="write the run's time series here")
    exp.set_defaults(func=export)


def _read(path: str, run_id: str) -> RunRecord:
    if not os.path.lexists(path):
        raise CliError(f"{path} does not exist")
    try:
        ids = read_run_ids(path)
        if run_id not in ids:
            raise CliError(f"no run '{run_id}' in {path} (runs: {', '.join(ids) or 'none'})")
        return read_run(path, run_id)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None


def export(args: argparse.Namespace) -> int:
    if not args.npz and not args.csv:
        raise CliError("nothing to do: give --npz OUT.npz and/or --csv OUT.csv")
    run = _read(args.path, args.run)
    session = os.path.abspath(args.path)
    if args.npz and args.csv and os.path.realpath(args.npz) == os.path.realpath(args.csv):
        raise CliError(f"--npz and --csv name the same file ({args.csv}): give two names")
    try:
        for target in (args.npz, args.csv):
            if target:
                check_target(target, session)
        if args.npz:
            print(f"{run.id}: {len(run.datasets)} arrays → {export_npz(run, args.npz, session)}")
        if args.csv:
            print(f"{run.id}: time series → {export_csv(run, args.csv, session)}")
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from None
    return 0
