"""The settings of RBM training: one row each (:class:`lab.core.settings.Setting`), shared by the
trainer dock's form and ``train``'s ``--monitor-every``, over constraints that say what
:meth:`engines.rbm.config.RBMConfig.validate` enforces (the engine keeps its own check as the
last word; the rows let a form or an option refuse a bad value as it is typed, with the same
rule).

``TRAINER`` holds the numeric and boolean fields of :class:`RBMConfig` keyed by field name, with
the CLI's option names (``--hidden``, ``--lr``, …); choices (method, optimizer, schedule,
symmetry) are :class:`engines.constraints.Options` of the engine's tuples. ``MONITOR_EVERY`` is the
monitor's period and ``METRICS_EVERY`` the metrics' (:mod:`lab.rbm.task`). Nothing here builds a
model or a trainer.
"""

from __future__ import annotations

from engines.constraints import SEED, Flag, Interval, Options
from engines.rbm.config import (
    LR_SCHEDULES,
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_GIBBS_STEPS,
    MAX_REPLICAS,
    MAX_UNITS,
    METHODS,
    OPTIMIZERS,
    SYMMETRIES,
)
from lab.core.settings import Setting

CONSTRAINTS = {
    "n_hidden": Interval(integer=True, low=1, high=MAX_UNITS),
    "method": Options(METHODS),
    "k": Interval(integer=True, low=1, high=MAX_GIBBS_STEPS),
    "batch_size": Interval(integer=True, low=1, high=MAX_BATCH),
    "learning_rate": Interval(low=0.0, low_open=True),
    "optimizer": Options(OPTIMIZERS),
    "momentum": Interval(low=0.0, high=1.0, high_open=True),
    "l2": Interval(low=0.0),
    "l1": Interval(low=0.0),
    "lr_schedule": Options(LR_SCHEDULES),
    "lr_decay": Interval(low=0.0, high=1.0, low_open=True),
    "epochs": Interval(integer=True, low=1, high=MAX_EPOCHS),
    "centering": Flag(),
    "flip_moves": Flag(),
    "n_chains": Interval(integer=True, low=0, high=MAX_BATCH),
    "n_temperatures": Interval(integer=True, low=2, high=MAX_REPLICAS),
    "validation_fraction": Interval(low=0.0, high=1.0, high_open=True),
    "checkpoint_every": Interval(integer=True, low=1, high=MAX_EPOCHS),
    "seed": SEED,
    "symmetry": Options(SYMMETRIES),
}
"""What RBMConfig.validate allows per field (upper bounds on counts are the form's: beyond them
a training cannot fit any machine the lab runs on)."""


def _row(key: str, label: str, option: str, help: str, default: object = None) -> Setting:
    return Setting(key, label, CONSTRAINTS[key], default, option=option, help=help)


TRAINER = (
    _row("n_hidden", "hidden units m", "--hidden", "hidden units m"),
    _row(
        "method",
        "method",
        "--method",
        "cd: contrastive divergence (chains restart at the "
        "data); pcd: persistent chains; pt: parallel tempering; exact: hidden layer "
        "enumerated (m ≤ 20)",
    ),
    _row("k", "Gibbs steps k", "--k", "Gibbs sweeps v→h→v per update (per replica for pt)"),
    _row(
        "n_chains",
        "chains",
        "--chains",
        "persistent chains (per replica for pt; 0: the batch size)",
    ),
    _row(
        "n_temperatures", "PT replicas", "--temperatures", "pt: replicas on a linear β ladder 1 → 0"
    ),
    _row(
        "symmetry",
        "symmetry",
        "--symmetry",
        "Z2-symmetric parametrizations (none for data with a field)",
    ),
    _row("centering", "centering", "--centering", "centered gradients"),
    _row(
        "flip_moves",
        "flip moves",
        "--flip-moves",
        "the exact global flip v → −v in the persistent chains",
    ),
    _row("learning_rate", "learning rate", "--lr", "learning rate (at the start of the schedule)"),
    _row("optimizer", "optimizer", "--optimizer", "sgd (with momentum) or adam"),
    _row("momentum", "momentum", "--momentum", "momentum of sgd"),
    _row(
        "lr_schedule",
        "schedule",
        "--schedule",
        "linear: to 0 at the last epoch; exponential: × decay per epoch",
    ),
    _row("lr_decay", "decay", "--lr-decay", "factor per epoch of the exponential schedule"),
    _row("batch_size", "batch size", "--batch", "minibatch size (configurations per update)"),
    _row("l1", "L1 penalty", "--l1", "L1 penalty on W (per weight, added to the gradient)"),
    _row("l2", "L2 penalty", "--l2", "L2 penalty on W (weight decay)"),
    _row("epochs", "epochs", "--epochs", "epochs (passes over the training data)"),
    _row(
        "validation_fraction",
        "validation fraction",
        "--validation",
        "share of the data held out to measure the held-out NLL and the free-energy gap",
    ),
    _row(
        "checkpoint_every",
        "checkpoint every",
        "--checkpoint-every",
        "epochs between checkpoints of the parameters",
    ),
    _row("seed", "seed", "--seed", "seed of initialization, minibatches and chains"),
)
"""The trainer's settings, keyed by :class:`RBMConfig` field (defaults: the caller's recipe)."""

BY_KEY = {s.key: s for s in TRAINER}

MONITOR_EVERY = Setting(
    "monitor_every",
    "monitor every (epochs)",
    Interval(integer=True, low=0, high=MAX_EPOCHS),
    None,
    option="--monitor-every",
    help="epochs between measurements of the model's e, <m>, <|m|>, U4, c, chi on fresh "
    "equilibrium chains, next to the data's (0: off; default: about 20 in the run, every "
    "max(1, epochs // 20) epochs)",
)
"""The monitor's period (:mod:`lab.rbm.task`); None means the default for the run's epochs
(:func:`lab.rbm.task.default_monitor_every`)."""

METRICS_EVERY = Setting(
    "metrics_every",
    "metrics every (epochs)",
    Interval(integer=True, low=0, high=MAX_EPOCHS),
    None,
    option="--metrics-every",
    help="epochs between measurements of the metrics (NLL by exact log Z or AIS, "
    "pseudo-likelihood, reconstruction, norms); epoch 0 and the last are always measured "
    "(0: automatic, as often as keeps them within 0.08 of the updates' time; default: 0, or "
    "the run's on --resume)",
)
"""The metrics' period (:mod:`lab.rbm.task`, 0 automatic); None means 0 for a new run and the
recorded value on resume."""

EARLY_STOP = Setting(
    "early_stop",
    "early stop (measurements)",
    Interval(integer=True, low=0, high=MAX_EPOCHS),
    None,
    option="--early-stop",
    help="stop when the held-out NLL has not improved (by more than its error bar) for this "
    "many measured epochs in a row, keeping the best epoch's parameters (0: off; needs a "
    "held-out set; default: 0, or the run's on --resume)",
)
"""Early stopping's patience (:mod:`lab.rbm.task`); None means 0 for a new run and the recorded
value on resume."""


def config_values(config) -> dict[str, object]:
    """The rows' values of an :class:`RBMConfig` (for a form's defaults)."""
    return {s.key: getattr(config, s.key) for s in TRAINER}


def recipe_defaults(n_configurations: int | None = None):
    """The trainer's defaults for Ising data, as ``train`` takes them: the Ising recipe
    (:func:`engines.rbm.recipes.ising_config`), its epochs set for ``n_configurations``
    training configurations (about 42 000 updates; the recipe's 1105 epochs when None)."""
    from engines.rbm.recipes import ising_config

    return ising_config(n_configurations)


__all__ = [
    "BY_KEY",
    "CONSTRAINTS",
    "MONITOR_EVERY",
    "TRAINER",
    "config_values",
    "recipe_defaults",
]
