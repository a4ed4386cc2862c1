"""Headless RBM commands: ``train``, ``sample``, ``evaluate`` and ``import-rbm``.

- ``train S.h5 --data RUN [--data RUN …] --hidden 64 --epochs 100 --batch 64 --lr 0.01
  --method pcd --k 1 --seed 1 [--device cuda]`` adds a run of kind ``rbm`` (``lab.rbm.runs``).
  A diverging run is kept with its last good checkpoint, marked failed, and the command exits 1.
- ``sample S.h5 --rbm RUN --samples 2000 --seed 1`` adds ``rbm-samples``: equilibrium samples
  of the model from long Gibbs (or PT) chains, with the exact global flip move v → −v (so
  chains cross between the ordered phases of a Z2-symmetric model), and their Ising energy and
  magnetization.
- ``evaluate S.h5 --rbm RUN [--data RUN]`` prints log Z (exact or AIS ± error), the NLL of the
  data, the observables of model samples next to the data's, and the effective Hamiltonian
  (F(v) against βH(v) on the data, and the couplings of −F by regression, against βJ); stores
  them as the attributes of the run's ``evaluation`` group.
- ``import-rbm S.h5 params.npz --size L [--convention pm1|01]`` adds an ``rbm`` run.
"""

from __future__ import annotations

import argparse

from engines.rbm import (
    RBMConfig,
)
from lab.cli.common import (
    SAVE_SECONDS,
    command,
    finite_float,
)

DEFAULTS = RBMConfig()


def add_parsers(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train an RBM on Ising runs of the session")
    train.add_argument("path", help="session file")
    train.add_argument(
        "--data", action="append", metavar="RUN", help="an Ising run id (repeat for several)"
    )
    train.add_argument(
        "--resume", metavar="RUN", help="continue an rbm run from its last checkpoint or stop"
    )
    train.add_argument("--hidden", type=int, default=DEFAULTS.n_hidden, help="hidden units m")
    train.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs in total (default 100; on --resume, as recorded)",
    )
    train.add_argument("--batch", type=int, default=DEFAULTS.batch_size, help="minibatch size")
    train.add_argument(
        "--lr", type=finite_float, default=DEFAULTS.learning_rate, help="learning rate"
    )
    train.add_argument("--method", default=DEFAULTS.method, help="cd | pcd | pt")
    train.add_argument("--k", type=int, default=DEFAULTS.k, help="Gibbs steps per update")
    train.add_argument("--optimizer", default=DEFAULTS.optimizer, help="sgd (momentum) | adam")
    train.add_argument(
        "--momentum",
        type=finite_float,
        default=DEFAULTS.momentum,
        help="momentum of sgd, in [0, 1)",
    )
    train.add_argument("--l1", type=finite_float, default=DEFAULTS.l1, help="L1 weight penalty")
    train.add_argument("--l2", type=finite_float, default=DEFAULTS.l2, help="L2 weight penalty")
    train.add_argument(
        "--schedule",
        default=DEFAULTS.lr_schedule,
        help="constant | linear (to 0 at the end) | exponential",
    )
    train.add_argument("--centering", action="store_true", help="centered gradients")
    train.add_argument(
        "--chains", type=int, default=DEFAULTS.n_chains, help="persistent chains (0: batch size)"
    )
    train.add_argument(
        "--temperatures", type=int, default=DEFAULTS.n_temperatures, help="PT replicas"
    )
    train.add_argument(
        "--validation",
        type=finite_float,
        default=DEFAULTS.validation_fraction,
        help="held-out fraction of the data",
    )
    train.add_argument(
        "--checkpoint-every", type=int, default=DEFAULTS.checkpoint_every, help="epochs"
    )
    train.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        help="seed of initialization, minibatches and chains",
    )
    train.add_argument("--device", default="cpu", help="cpu | cuda")
    train.add_argument(
        "--save-seconds",
        type=finite_float,
        default=SAVE_SECONDS,
        help="longest time in seconds between two saves of the checkpoints done",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch line")
    train.set_defaults(func=command("lab.rbm.commands:train_command"))

    sample = sub.add_parser("sample", help="draw equilibrium samples from a trained RBM")
    sample.add_argument("path", help="session file")
    sample.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run id")
    sample.add_argument("--samples", type=int, default=2000, help="configurations to draw")
    sample.add_argument("--burn-in", type=int, default=1000, help="Gibbs sweeps v→h→v")
    sample.add_argument("--thin", type=int, default=10, help="sweeps between samples")
    sample.add_argument("--method", default="gibbs", help="gibbs | pt")
    sample.add_argument("--chains", type=int, default=32, help="independent chains")
    sample.add_argument("--seed", type=int, default=0, help="seed of the chains")
    sample.set_defaults(func=command("lab.rbm.commands:sample_command"))

    evaluate = sub.add_parser("evaluate", help="log Z, NLL and observables of an RBM vs data")
    evaluate.add_argument("path", help="session file")
    evaluate.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run id")
    evaluate.add_argument("--data", metavar="RUN", help="Ising run (default: the RBM's data)")
    evaluate.add_argument("--samples", type=int, default=2000, help="model samples")
    evaluate.add_argument(
        "--ais-chains",
        type=int,
        default=200,
        help="AIS runs for log Z (when it cannot be enumerated)",
    )
    evaluate.add_argument(
        "--ais-betas",
        type=int,
        default=2000,
        help="intermediate inverse temperatures of each AIS run",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of AIS and the chains")
    evaluate.set_defaults(func=command("lab.rbm.commands:evaluate_command"))

    imp = sub.add_parser("import-rbm", help="add an RBM from an .npz file (W, a, b)")
    imp.add_argument("path", help="session file (created if missing)")
    imp.add_argument("npz", help="file with arrays W (n, m), a (n,), b (m,)")
    imp.add_argument("--size", type=int, required=True, help="L, with n = L²")
    imp.add_argument("--convention", default="pm1", help="pm1 (v = ±1) | 01 (v ∈ {0,1})")
    imp.set_defaults(func=command("lab.rbm.commands:import_command"))
