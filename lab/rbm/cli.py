"""Headless RBM commands: ``train``, ``sample``, ``evaluate`` and ``import-rbm``.

- ``train S.h5 --data RUN [--data RUN …] [--hidden 64] [--epochs E] … [--device cuda]`` adds a
  run of kind ``rbm`` (``lab.rbm.runs``). Its defaults are the Ising recipe
  :func:`engines.rbm.recipes.ising_config` (Z2-symmetric hidden spins, PCD-20 on 256 chains with
  the flip move, Adam 0.003 decayed linearly, about 42 000 updates): what makes an RBM learn
  Ising thermodynamics. For data without the up/down symmetry (a field, other data sets) add
  ``--symmetry none`` and keep the rest. A diverging run is kept with its last good checkpoint,
  marked failed, and the command exits 1; a training that cannot fit in memory is refused.
  ``--monitor-every N`` (0: off; default about 20 times per run) prints the model's e, ⟨m⟩,
  ⟨|m|⟩, U4, c, χ from short equilibrium chains against the data's every N epochs and keeps
  them in the run's history (``history/model_e`` …, NaN between); the history also holds the
  seconds of each epoch (``history/seconds``); the progress bar advances per minibatch.
- ``sample S.h5 --rbm RUN --samples 2000 --seed 1`` adds ``rbm-samples``: equilibrium samples
  of the model from long Gibbs (or PT) chains, with the exact global flip move v → −v (so
  chains cross between the ordered phases of a Z2-symmetric model), and their Ising energy and
  magnetization; prints the model's thermodynamics against the data and the exact values.
- ``evaluate S.h5 --rbm RUN [--data RUN] [--temperature T] [--samples N --chains C --burn-in B
  --thin K --method gibbs|pt]`` prints log Z (exact or AIS ± error), the model's e, ⟨m⟩,
  ⟨|m|⟩, c, χ, U4 from equilibrium chains (errors from τ_int) against the data's and the exact
  Ising values (Δ/σ), and with data their NLL and the effective Hamiltonian (F(v) against
  βH(v), and the couplings of −F by regression, against βJ); stores them as the attributes of
  the run's ``evaluation`` group (:mod:`lab.rbm.evaluation`). An imported RBM is evaluated
  without data (give ``--temperature`` for c, χ and the exact values).
- ``import-rbm S.h5 params.npz --size L [--convention pm1|01]`` adds an ``rbm`` run.
"""

from __future__ import annotations

import argparse

from engines.rbm.config import LR_SCHEDULES, METHODS, OPTIMIZERS, SYMMETRIES, RBMConfig
from engines.rbm.recipes import ISING_UPDATES, ising_config
from lab.cli.common import (
    SAVE_SECONDS,
    command,
    finite_float,
    integer,
)
from lab.core.settings import add_options
from lab.rbm.settings import EARLY_STOP, METRICS_EVERY, MONITOR_EVERY

DEFAULTS = ising_config()
"""``train``'s defaults: the Ising recipe (its epochs are set from the data's size)."""


def add_trainer_options(
    parser: argparse.ArgumentParser,
    defaults: RBMConfig,
    *,
    hidden: bool = True,
    epochs_help: str | None = None,
    replicas: str = "--temperatures",
) -> None:
    """The trainer's options (every :class:`RBMConfig` field but the seed), defaults from
    ``defaults``; ``train``, ``train-stack``, ``rg-flow`` and ``rg-example`` share them (the PT
    replicas are ``replicas``, ``--replicas`` where ``--temperatures`` means something else)."""
    if hidden:
        parser.add_argument(
            "--hidden", type=integer, default=defaults.n_hidden, help="hidden units m"
        )
    parser.add_argument(
        "--epochs",
        type=integer,
        default=None if epochs_help else defaults.epochs,
        help=epochs_help or "epochs (passes over the training data)",
    )
    parser.add_argument(
        "--batch",
        type=integer,
        default=defaults.batch_size,
        help="minibatch size (configurations per update)",
    )
    parser.add_argument(
        "--lr",
        type=finite_float,
        default=defaults.learning_rate,
        help="learning rate (at the start of the schedule)",
    )
    parser.add_argument(
        "--method",
        default=defaults.method,
        help=" | ".join(METHODS) + " (exact: hidden layer enumerated, m ≤ 20)",
    )
    parser.add_argument(
        "--k",
        type=integer,
        default=defaults.k,
        help="Gibbs sweeps v→h→v per update (per replica for pt)",
    )
    parser.add_argument(
        "--optimizer",
        default=defaults.optimizer,
        help=" | ".join(OPTIMIZERS) + " (sgd with momentum)",
    )
    parser.add_argument(
        "--momentum",
        type=finite_float,
        default=defaults.momentum,
        help="momentum of sgd, in [0, 1)",
    )
    parser.add_argument(
        "--l1",
        type=finite_float,
        default=defaults.l1,
        help="L1 penalty on W (per weight, added to the gradient)",
    )
    parser.add_argument(
        "--l2", type=finite_float, default=defaults.l2, help="L2 penalty on W (weight decay)"
    )
    parser.add_argument(
        "--schedule",
        default=defaults.lr_schedule,
        help=" | ".join(LR_SCHEDULES) + " (linear: to 0 at the end)",
    )
    parser.add_argument(
        "--lr-decay",
        type=finite_float,
        default=defaults.lr_decay,
        help="factor per epoch of the exponential schedule",
    )
    parser.add_argument(
        "--centering",
        action=argparse.BooleanOptionalAction,
        default=defaults.centering,
        help="centered gradients",
    )
    parser.add_argument(
        "--flip-moves",
        action=argparse.BooleanOptionalAction,
        default=defaults.flip_moves,
        help="the exact global flip v → −v in the persistent chains",
    )
    parser.add_argument(
        "--symmetry",
        default=defaults.symmetry,
        help=" | ".join(SYMMETRIES) + " (Z2-symmetric parametrizations; none "
        "for data with a field)",
    )
    parser.add_argument(
        "--chains",
        type=integer,
        default=defaults.n_chains,
        help="persistent chains (per replica for pt; 0: the batch size)",
    )
    parser.add_argument(
        replicas,
        type=integer,
        default=defaults.n_temperatures,
        help="pt: replicas on a linear β ladder 1 → 0",
    )
    parser.add_argument(
        "--validation",
        type=finite_float,
        default=defaults.validation_fraction,
        help="held-out fraction of the data (for the held-out NLL)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=integer,
        default=defaults.checkpoint_every,
        help="epochs between checkpoints of the parameters",
    )
    parser.add_argument("--device", default=defaults.device, help="cpu | cuda")


def add_sampler_options(parser: argparse.ArgumentParser, samples: int) -> None:
    """Options of the equilibrium chains that measure a model (``sample``, ``evaluate``)."""
    parser.add_argument(
        "--samples", type=integer, default=samples, help="model configurations (over all chains)"
    )
    parser.add_argument(
        "--burn-in",
        type=integer,
        default=1000,
        help="Gibbs sweeps v→h→v of each chain before its first sample",
    )
    parser.add_argument("--thin", type=integer, default=10, help="sweeps between two samples")
    parser.add_argument(
        "--method", default="gibbs", help="gibbs | pt (both with the exact flip move v → −v)"
    )
    parser.add_argument("--chains", type=integer, default=32, help="independent chains")
    parser.add_argument(
        "--temperature",
        type=finite_float,
        default=None,
        help="T of c and χ and of the exact Ising values, in J/k_B (default: the data's)",
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train an RBM on Ising runs of the session")
    train.add_argument("path", help="session file")
    train.add_argument(
        "--data", action="append", metavar="RUN", help="an Ising run id (repeat for several)"
    )
    train.add_argument(
        "--resume",
        metavar="RUN",
        help="continue an rbm run from its last checkpoint or stop, with its own data and "
        "settings (only --epochs can grow)",
    )
    add_trainer_options(
        train,
        DEFAULTS,
        epochs_help=f"epochs in total (default: about {ISING_UPDATES} updates, "
        f"{DEFAULTS.epochs} epochs for 20 000 configurations; on --resume, as recorded)",
    )
    train.add_argument(
        "--seed",
        type=integer,
        default=DEFAULTS.seed,
        help="seed of initialization, minibatches and chains",
    )
    train.add_argument(
        "--save-seconds",
        type=finite_float,
        default=SAVE_SECONDS,
        help="longest time in seconds between two saves of the checkpoints done",
    )
    add_options(train, [MONITOR_EVERY, METRICS_EVERY, EARLY_STOP])
    train.add_argument(
        "--quiet", action="store_true", help="no progress bar, per-epoch or monitor lines"
    )
    train.set_defaults(func=command("lab.rbm.commands:train_command"))

    sample = sub.add_parser("sample", help="draw equilibrium samples from a trained RBM")
    sample.add_argument("path", help="session file")
    sample.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run id")
    add_sampler_options(sample, 2000)
    sample.add_argument("--seed", type=integer, default=0, help="seed of the chains")
    sample.set_defaults(func=command("lab.rbm.commands:sample_command"))

    evaluate = sub.add_parser(
        "evaluate", help="log Z, NLL and thermodynamics of an RBM vs data and exact"
    )
    evaluate.add_argument("path", help="session file")
    evaluate.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run id")
    evaluate.add_argument(
        "--data", metavar="RUN", help="Ising run to compare with (default: the RBM's training data)"
    )
    add_sampler_options(evaluate, 20_000)
    evaluate.add_argument(
        "--ais-chains",
        type=integer,
        default=200,
        help="AIS runs for log Z (when it cannot be enumerated)",
    )
    evaluate.add_argument(
        "--ais-betas",
        type=integer,
        default=2000,
        help="intermediate inverse temperatures of each AIS run",
    )
    evaluate.add_argument("--seed", type=integer, default=0, help="seed of AIS and the chains")
    evaluate.set_defaults(func=command("lab.rbm.commands:evaluate_command"))

    imp = sub.add_parser("import-rbm", help="add an RBM from an .npz file (W, a, b)")
    imp.add_argument("path", help="session file (created if missing)")
    imp.add_argument("npz", help="file with arrays W (n, m), a (n,), b (m,)")
    imp.add_argument("--size", type=integer, required=True, help="L, with n = L²")
    imp.add_argument(
        "--convention",
        default="pm1",
        help="pm1 (v = ±1) | 01 (v ∈ {0,1}), for files without their own entry",
    )
    imp.set_defaults(func=command("lab.rbm.commands:import_command"))
