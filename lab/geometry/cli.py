"""The headless ``geometry`` command: the geometry of an RBM's training, checkpoint by checkpoint.

``geometry S.h5 --rbm RUN [--data RUN ...] [--epsilon 1e-3] [--samples 500] [--seed 0]
[--points 1000] [--k 10] [--burn-in 500] [--quiet]`` adds a run of kind ``geometry``
(``lab.geometry.runs``) computed by ``lab.geometry.task.GeometryTask`` on every checkpoint of the
``rbm`` run, against the data (default: the Ising runs the RBM was trained on), and prints one
line per checkpoint. Ctrl-C keeps the checkpoints done (status ``stopped``, exit 130); a failure
inside the computation keeps them too (status ``failed``, exit 1).

It holds the session's lock throughout and records as it goes: the run is added after the first
checkpoint and replaced with the checkpoints done at most every ``--save-seconds`` (status
``interrupted`` until the end), so a kill at any instant keeps what the last save held.
"""

from __future__ import annotations

import argparse

from lab.cli.common import (
    SAVE_SECONDS,
    command,
    finite_float,
)
from lab.core.settings import add_options
from lab.geometry.options import SETTINGS


def add_parsers(sub: argparse._SubParsersAction) -> None:
    geometry = sub.add_parser(
        "geometry", help="spectrum, cone distances, transport and entropy along an RBM's training")
    geometry.add_argument("path", help="session file")
    geometry.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run with checkpoints")
    geometry.add_argument("--data", action="append", metavar="RUN",
                          help="an Ising run (repeat for several; default: the RBM's data)")
    add_options(geometry, SETTINGS)
    geometry.add_argument("--save-seconds", type=finite_float, default=SAVE_SECONDS,
                          help="longest time between two saves of the checkpoints done")
    geometry.add_argument("--quiet", action="store_true", help="no progress bar")
    geometry.set_defaults(func=command("lab.geometry.commands:geometry_command"))




