"""Headless Ising commands: ``simulate`` (record a run, or resume one) and ``inspect``.

``simulate`` holds the session's lock for its whole run (another Monge Lab writing the session
makes it exit 2 at once), records live into a :class:`data.recording.RunRecorder` beside the
session, flushed at least every ``--flush-seconds``, and folds the recording into the session at
the end. Killed, it leaves the recording for ``recover``; the recovered run is ``interrupted``
and ``simulate --resume RUN`` continues it exactly as an uninterrupted run would have gone on.
"""

from __future__ import annotations

import argparse

from data.recording import (
    FLUSH_SECONDS,
)
from lab.cli.common import command, finite_float
from lab.core.settings import add_options
from lab.ising.settings import PHYSICS, PLAN


def add_parsers(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser(
        "simulate",
        help="simulate the 2D Ising model and record a run",
        description="Records live into a recording beside the session (flushed at least every "
        "2 s) and folds it into the session at the end; after a crash, "
        "'recover' puts what was recorded into the session, and --resume continues "
        "the run.",
    )
    sim.add_argument("--out", required=True, help="session file (created or extended)")
    sim.add_argument(
        "--resume",
        metavar="RUN",
        help="continue the interrupted or stopped Ising run RUN of the session "
        "(its parameters and seed; the other options are ignored)",
    )
    add_options(sim, PHYSICS)
    add_options(sim, PLAN)
    sim.add_argument(
        "--device",
        default="cpu",
        help="where metropolis-torch runs: cpu or cuda[:k] (the others: cpu only)",
    )
    sim.add_argument("--no-spins", action="store_true", help="record only energy and magnetization")
    sim.add_argument(
        "--flush-seconds",
        type=finite_float,
        default=FLUSH_SECONDS,
        help="longest time between two flushes of the recording, in seconds",
    )
    sim.add_argument(
        "--report-flushes",
        action="store_true",
        help="print 'flushed N' on stdout after each flush (N samples safe on disk)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(func=command("lab.ising.commands:simulate"))

    ins = sub.add_parser("inspect", help="list the runs of a session with their results")
    ins.add_argument("path", help="session file")
    ins.set_defaults(func=command("lab.ising.commands:inspect"))
