"""``recover``: put what a killed or crashed program recorded into its session.

``python main.py recover S.h5`` folds every recording left beside ``S.h5`` (in
``.S.h5.recordings/``, see :mod:`data.recording`) into the session: each becomes a run with
everything flushed before the end, status ``interrupted`` if its program never closed it, with
its summary results computed as at the end of a run. It takes the session's lock, so it never
folds a recording another Monge Lab is still writing. Nothing to recover is not an error.
"""

from __future__ import annotations

import argparse
import os

from data import SessionFileError, read_run
from data.lock import SessionLock
from data.recording import find_recordings, fold_recordings, recordings_dir, tidy_recordings_dir
from lab.cli.common import CliError
from lab.core.ids import utc_now
from lab.rbm.runs import complete_recorded_run


def add_parsers(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("recover", help="put the recordings a killed run left into its session")
    rec.add_argument("path", help="session file")
    rec.set_defaults(func=recover)


def recover(args: argparse.Namespace) -> int:
    lock = SessionLock(args.path)
    try:
        lock.acquire()
        recordings = find_recordings(args.path)
        if not os.path.exists(args.path) and not recordings:
            raise CliError(f"{args.path} does not exist")
        if not recordings:
            tidy_recordings_dir(recordings_dir(args.path))
            print(f"{args.path}: nothing to recover")
            return 0
        line = f"{utc_now()}  recover: {len(recordings)} recording(s)"
        result = fold_recordings(args.path, recordings, finish=complete_recorded_run, log=[line])
        for run_id in result.folded:
            run = read_run(args.path, run_id)
            rows = max((len(a) for k, a in run.datasets.items() if not k.startswith("resume/")),
                       default=0)
            print(f"{run_id}: recovered as {run.status} ({rows} samples)  ->  {args.path}")
        for path, error in result.failed:
            print(f"{path}: not recovered ({error.problem}); the file is kept")
        return 1 if result.failed else 0
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    finally:
        lock.release()
