"""``recover``: put what a killed or crashed program recorded into its session.

``python main.py recover S.h5`` folds every recording left beside ``S.h5`` (in
``.S.h5.recordings/``, see :mod:`data.recording`) into the session: each becomes a run with
everything flushed before the end, status ``interrupted`` if its program never closed it, with
its summary results computed as at the end of a run. It takes the session's lock, so it never
folds a recording another Monge Lab is still writing. Nothing to recover is not an error.

Exit code 0 when every recording was folded (or there was nothing to fold); 1 when some could
not be: each of those (a damaged recording, or something named like one that is not a regular
file, such as a directory) is named on stderr, one line each, and left where it is.
"""

from __future__ import annotations

import argparse
import os
import sys

from data import SessionFileError, read_run, read_run_ids
from data.lock import SessionLock
from data.recording import (
    find_recordings,
    fold_recordings,
    recordings_dir,
    stray_recordings,
    tidy_recordings_dir,
)
from lab.cli.common import CliError
from lab.core.ids import utc_now
from lab.core.kinds import complete_recorded


def add_parsers(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("recover", help="put the recordings a killed run left into its session")
    rec.add_argument("path", help="session file")
    rec.set_defaults(func=recover)


def register_every_kind() -> None:
    """Import every feature's runs module: each registers its kinds (lab.core.kinds), so that
    a recorded run of any kind is completed as its job would have completed it."""
    import lab.geometry.runs  # noqa: F401
    import lab.ising.runs  # noqa: F401
    import lab.rbm.runs  # noqa: F401
    import lab.reproduce.runs  # noqa: F401
    import lab.rg.runs  # noqa: F401
    import lab.scan.runs  # noqa: F401
    import lab.sweep.runs  # noqa: F401


def recover(args: argparse.Namespace) -> int:
    register_every_kind()
    lock = SessionLock(args.path)
    try:
        lock.acquire()
        if os.path.lexists(args.path):
            read_run_ids(args.path)  # a damaged, foreign or unreadable file: its one-line error
        recordings, strays = find_recordings(args.path), stray_recordings(args.path)
        if not os.path.lexists(args.path) and not recordings:
            raise CliError(f"{args.path} does not exist")
        for path in strays:
            print(
                f"monge-lab: {path}: not recovered (not a regular file); left in place",
                file=sys.stderr,
            )
        if not recordings:
            tidy_recordings_dir(recordings_dir(args.path))
            print(f"{args.path}: nothing to recover")
            return 1 if strays else 0
        line = f"{utc_now()}  recover: {len(recordings)} recording(s)"
        result = fold_recordings(args.path, recordings, finish=complete_recorded, log=[line])
        for run_id in result.folded:
            run = read_run(args.path, run_id)
            rows = max(
                (len(a) for k, a in run.datasets.items() if not k.startswith("resume/")), default=0
            )
            print(f"{run_id}: recovered as {run.status} ({rows} samples)  ->  {args.path}")
        for path, error in result.failed:
            print(
                f"monge-lab: {path}: not recovered ({error.problem}); the file is kept",
                file=sys.stderr,
            )
        return 1 if result.failed or strays else 0
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    finally:
        lock.release()
