"""The headless ``geometry`` and ``score`` commands: the geometry of an RBM's training, checkpoint
by checkpoint, and Gai & Zhang's Wasserstein scores of a run.

``geometry S.h5 --rbm RUN [--data RUN ...] [--epsilon 1e-3] [--samples 500] [--seed 0]
[--points 1000] [--k 10] [--burn-in 500] [--quiet]`` adds a run of kind ``geometry``
(``lab.geometry.runs``) computed by ``lab.geometry.task.GeometryTask`` on every checkpoint of the
``rbm`` run, against the data (default: the Ising runs the RBM was trained on), and prints one
line per checkpoint. Ctrl-C keeps the checkpoints done (status ``stopped``, exit 130); a failure
inside the computation keeps them too (status ``failed``, exit 1).

``score S.h5 --run RUN [--samples 500] [--solver auto|emd|assignment|sinkhorn]
[--cost sqeuclidean|hamming] [--bootstrap 20] [--seed 0] [--metric euclidean|hamming]
[--embedding reconstruction|repeat] [--unit-steps] [--tracks 8] [--burn-in 500] [--thin 5]
[--chains 32] [--quiet]`` adds a run of kind ``scores`` (``lab.geometry.score_runs``) computed by
``lab.geometry.score_task.ScoreTask``: for an ``rg`` run (and each ``rg`` run of an
``rg-flow``) the LSS of every sample's track through the levels and the OTS of every level's map,
for an ``rbm`` run the distribution-level line shape of its checkpoints' equilibrium samples and
W to the data per checkpoint; one line per map (or checkpoint) is printed as it is done.

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
from lab.geometry.options import DEFAULTS, SETTINGS, DefaultCount
from lab.geometry.score_options import DEFAULTS as SCORE_DEFAULTS
from lab.geometry.score_options import SETTINGS as SCORE_SETTINGS


def add_parsers(sub: argparse._SubParsersAction) -> None:
    geometry = sub.add_parser(
        "geometry", help="spectrum, cone distances, transport and entropy along an RBM's training"
    )
    geometry.add_argument("path", help="session file")
    geometry.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run with checkpoints")
    geometry.add_argument(
        "--data",
        action="append",
        metavar="RUN",
        help="an Ising run (repeat for several; default: the RBM's data)",
    )
    # --chains above --samples is refused when typed (check_chains), not as the default
    add_options(geometry, SETTINGS, {"chains": DefaultCount(DEFAULTS.chains)})
    geometry.add_argument(
        "--save-seconds",
        type=finite_float,
        default=SAVE_SECONDS,
        help="longest time between two saves of the checkpoints done",
    )
    geometry.add_argument("--quiet", action="store_true", help="no progress bar")
    geometry.set_defaults(func=command("lab.geometry.commands:geometry_command"))

    score = sub.add_parser(
        "score",
        help="Gai & Zhang's line-shape and optimal-transport scores of an rg-flow, rg "
        "or rbm run (the Wasserstein view of learning)",
    )
    score.add_argument("path", help="session file")
    score.add_argument(
        "--run",
        required=True,
        metavar="RUN",
        help="the run to score: an rg-flow or rg run (rbm-flow steps, block-spin "
        "levels, a stack) or an rbm run with checkpoints",
    )
    add_options(score, SCORE_SETTINGS, {"chains": DefaultCount(SCORE_DEFAULTS.chains)})
    score.add_argument(
        "--save-seconds",
        type=finite_float,
        default=SAVE_SECONDS,
        help="longest time between two saves of the steps done",
    )
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(func=command("lab.geometry.commands:score_command"))
