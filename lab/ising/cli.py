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
from engines.ising import ALGORITHMS
from lab.cli.common import command, finite_float


def add_parsers(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser(
        "simulate", help="simulate the 2D Ising model and record a run",
        description="Records live into a recording beside the session (flushed at least every "
                    "2 s) and folds it into the session at the end; after a crash, "
                    "'recover' puts what was recorded into the session, and --resume continues "
                    "the run.",
    )
    sim.add_argument("--out", required=True, help="session file (created or extended)")
    sim.add_argument("--resume", metavar="RUN",
                     help="continue the interrupted or stopped Ising run RUN of the session "
                          "(its parameters and seed; the other options are ignored)")
    sim.add_argument("--size", type=int, help="linear size L of the L×L torus")
    sim.add_argument("--temperature", type=finite_float, help="T in units of J")
    sim.add_argument("--coupling", type=finite_float, default=1.0, help="J (default 1)")
    sim.add_argument("--field", type=finite_float, default=0.0, help="h (default 0)")
    sim.add_argument("--algorithm", default="metropolis", help="|".join(ALGORITHMS))
    sim.add_argument("--samples", type=int, default=1000, help="number of recorded samples")
    sim.add_argument("--thermalize", type=int, default=1000, help="sweeps before the first sample")
    sim.add_argument("--interval", type=int, default=10, help="sweeps between samples")
    sim.add_argument("--seed", type=int, default=0, help="random seed (≥ 0)")
    sim.add_argument(
        "--no-spins", action="store_true", help="record only energy and magnetization"
    )
    sim.add_argument("--flush-seconds", type=finite_float, default=FLUSH_SECONDS,
                     help=f"longest time between two flushes of the recording (default "
                          f"{FLUSH_SECONDS:g} s)")
    sim.add_argument("--report-flushes", action="store_true",
                     help="print 'flushed N' on stdout after each flush (N samples safe on disk)")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(func=command("lab.ising.commands:simulate"))

    ins = sub.add_parser("inspect", help="list the runs of a session with their results")
    ins.add_argument("path", help="session file")
    ins.set_defaults(func=command("lab.ising.commands:inspect"))
















