"""Training settings of an RBM (validated) and the divergence error.

Defaults, chosen to train Ising configurations (L = 4..32) without tuning. Measured on 9000 Wolff
samples per case, 64 hidden units, everything else default: the exact KL(p_Ising ‖ p_RBM) for 4×4,
otherwise the held-out NLL in nats from the per-epoch AIS estimate (±0.3–1 nat):

=========================  ===========  ============  =============  =============
case                       CD-1, 0.01   PCD-1, 0.01   PCD-1, 0.005   PCD-1, 0.003
=========================  ===========  ============  =============  =============
4×4, T_c, 100 epochs (KL)  0.028        0.041         0.053          0.058
16², T_c, 60 epochs        82.0         —             84.3           83.7
16², T = 2, 30 epochs      41.2         —             44.0           —
32², T_c, 8 epochs         397          457           416            425
8², T = 1.8, 30 epochs     7.8          7.3           8.1            —
8², T = 3, 30 epochs       35.1         35.4          35.2           —
=========================  ===========  ============  =============  =============

(exact-gradient maximum likelihood on the same 4×4 data reaches KL 0.07: it overfits; the
entropy bounds are 4.48, 74.7 and 305.7 nats for L = 4, 16, 32 at T_c.)

* CD-1 (``method="cd"``): as good as or better than PCD in every case but one (8², T = 1.8, deep
  in the ordered phase, by about one error bar), with smooth learning curves and the cheapest
  update. Its chains start at the data, so the batch's
  own magnetization noise cancels in the gradient of the visible fields; near T_c, where the
  susceptibility is large, that noise otherwise drives the model's magnetization around. PCD
  (with ``flip_moves``, see :mod:`engines.rbm.training`) is the consistent estimator and was
  slightly better deep in the ordered phase (8², T = 1.8), but needs a smaller step at large n
  (lr 0.01 at 32² sends the NLL up by thousands of nats for a few epochs before recovering).
* momentum SGD, lr 0.01, μ = 0.9 (effective step 0.1), batches of 64.
* linear learning-rate decay to 0 over the run: the last updates average the stochastic-gradient
  noise away instead of leaving the parameters wherever the last minibatches pushed them.
* 64 hidden units (the exact Ising RBM needs 2N; 64 is a compromise between capacity and the cost
  of per-epoch metrics), 100 epochs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    import torch

METHODS = ("cd", "pcd", "pt", "exact")
MAX_UNITS = 10**6
"""Most hidden units a form offers (a command checks the memory a layer needs instead, with the
estimate in its message: :func:`lab.rbm.runs.check_training_memory`)."""
MAX_EPOCHS = 10**7
"""Most epochs (and checkpoint period): ten million passes is months even for a 4×4 lattice."""
MAX_BATCH = 10**6
"""Most configurations per minibatch, and most persistent chains."""
MAX_GIBBS_STEPS = 10**4
"""Most Gibbs steps per update (k)."""
MAX_REPLICAS = 1000
"""Most parallel-tempering replicas."""
MAX_EXACT_HIDDEN = 20
"""Largest n_hidden for ``method="exact"`` (the negative phase enumerates 2^n_hidden states)."""
MAX_FIT_HIDDEN = 18
"""Largest hidden layer of the exact maximum-likelihood fit (:mod:`engines.rbm.likelihood_fit`):
its autograd graph holds a few arrays of 2^m · n float64 (m = 18, n = 64: about 0.5 GB)."""
FIT_SYMMETRIES = ("none", "hidden-spins")
"""Families the exact fit can search: an unconstrained RBM, or the Z2-symmetric one."""
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "linear", "exponential")
SYMMETRIES = ("none", "pairs", "hidden-spins")
"""Values of :attr:`RBMConfig.symmetry` (the Z2-symmetric parametrizations of
:mod:`engines.rbm.symmetry`)."""


class RBMDivergence(RuntimeError):  # noqa: N818 (the name is the published API)
    """Training produced non-finite or runaway parameters or metrics; keep the last checkpoint."""


def _is_int(x: object) -> TypeGuard[int]:
    """An int and not a bool (True is no count)."""
    return isinstance(x, int) and not isinstance(x, bool)


def _is_real(x: object) -> TypeGuard[int | float]:
    """An int or float and not a bool."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def check_device(device: str) -> torch.device:
    """``torch.device(device)`` for "cpu" or an available "cuda[:k]"; ValueError otherwise.

    torch is imported here, not at module level, so that the settings and their constraints load
    without it (the command line's parser and ``--help``)."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Unknown device {device!r}; use 'cpu' or 'cuda'.") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"Unknown device {device!r}; use 'cpu' or 'cuda'.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Device {device!r} was asked for but CUDA is not available here.")
    return dev


@dataclass(frozen=True)
class RBMConfig:
    """Hyper-parameters of :class:`engines.rbm.training.RBMTrainer` (module doc for defaults)."""

    n_hidden: int = 64
    method: str = "cd"  # "cd" | "pcd" | "pt" | "exact" (hidden layer enumerated, n_hidden <= 20)
    k: int = 1  # Gibbs steps per update (per replica for PT)
    batch_size: int = 64
    learning_rate: float = 0.01
    optimizer: str = "sgd"  # "sgd" (momentum) | "adam"
    momentum: float = 0.9
    l2: float = 0.0
    l1: float = 0.0
    lr_schedule: str = "linear"  # "constant" | "linear" (to 0 at the end) | "exponential"
    lr_decay: float = 0.98  # per epoch, for "exponential"
    epochs: int = 100
    centering: bool = False
    flip_moves: bool = True  # v → -v Metropolis move of persistent chains (engines.rbm.moves)
    n_chains: int = 0  # persistent chains (per temperature for PT); 0 means batch_size
    n_temperatures: int = 10  # PT replicas, linear β ladder 1 → 0 (engines.rbm.tempering)
    validation_fraction: float = 0.1
    checkpoint_every: int = 1  # epochs
    seed: int = 0
    device: str = "cpu"
    symmetry: str = "none"  # "none" | "pairs" | "hidden-spins" (engines.rbm.symmetry)

    def validate(self, n_visible: int | None = None) -> None:
        """Raise ``ValueError`` with one clear sentence for the first invalid setting."""

        def positive_int(name: str, value: object, low: int = 1, high: int | None = None) -> None:
            if not _is_int(value) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
            if high is not None and value > high:
                raise ValueError(f"{name} must be an integer <= {high:,}, got {value:,}.")

        def real_in(name: str, value: object, low: float, high: float, high_open: bool) -> None:
            ok = (
                _is_real(value)
                and math.isfinite(value)
                and value >= low
                and (value < high if high_open else value <= high)
            )
            if not ok:
                bracket = ")" if high_open else "]"
                raise ValueError(
                    f"{name} must be a number in [{low}, {high}{bracket}, got {value!r}."
                )

        positive_int("n_hidden (the number of hidden units)", self.n_hidden)  # memory: lab
        if self.method not in METHODS:
            raise ValueError(f"Unknown training method {self.method!r}; use one of {METHODS}.")
        if self.method == "exact" and _is_int(self.n_hidden) and self.n_hidden > MAX_EXACT_HIDDEN:
            raise ValueError(
                f"method='exact' enumerates the hidden layer and needs n_hidden <= "
                f"{MAX_EXACT_HIDDEN}, got {self.n_hidden}."
            )
        positive_int("k (Gibbs steps per update)", self.k, high=MAX_GIBBS_STEPS)
        positive_int("batch_size", self.batch_size, high=MAX_BATCH)
        if not (
            _is_real(self.learning_rate)
            and math.isfinite(self.learning_rate)
            and self.learning_rate > 0
        ):
            raise ValueError(
                f"The learning rate must be a finite number > 0, got {self.learning_rate!r}."
            )
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; use one of {OPTIMIZERS}.")
        real_in("momentum", self.momentum, 0.0, 1.0, high_open=True)
        real_in("l2", self.l2, 0.0, math.inf, high_open=True)
        real_in("l1", self.l1, 0.0, math.inf, high_open=True)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"Unknown learning-rate schedule {self.lr_schedule!r}; use one of {LR_SCHEDULES}."
            )
        if not (_is_real(self.lr_decay) and 0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay must be a number in (0, 1], got {self.lr_decay!r}.")
        positive_int("epochs", self.epochs, high=MAX_EPOCHS)
        if not isinstance(self.centering, bool):
            raise ValueError(f"centering must be True or False, got {self.centering!r}.")
        if not isinstance(self.flip_moves, bool):
            raise ValueError(f"flip_moves must be True or False, got {self.flip_moves!r}.")
        positive_int("n_chains", self.n_chains, low=0, high=MAX_BATCH)
        positive_int(
            "n_temperatures (parallel tempering replicas)",
            self.n_temperatures,
            low=2,
            high=MAX_REPLICAS,
        )
        real_in("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        positive_int("checkpoint_every (epochs)", self.checkpoint_every, high=MAX_EPOCHS)
        positive_int("seed", self.seed, low=0)
        if self.seed >= 2**63:  # the session stores seeds as int64
            raise ValueError(f"seed must be below 2**63, got {self.seed!r}.")
        if self.symmetry not in SYMMETRIES:
            raise ValueError(f"Unknown symmetry {self.symmetry!r}; use one of {SYMMETRIES}.")
        if self.symmetry == "pairs" and self.n_hidden % 2:
            raise ValueError(
                f"symmetry='pairs' needs an even n_hidden (mirror pairs), got {self.n_hidden}."
            )
        if not isinstance(self.device, str):
            raise ValueError(
                f"device must be a string such as 'cpu' or 'cuda', got {self.device!r}."
            )
        if self.device != "cpu":  # "cpu" is always there; checking it would import torch
            check_device(self.device)
        if n_visible is not None:
            positive_int("n_visible (the number of visible units)", n_visible)

    @property
    def chains(self) -> int:
        """Persistent chains actually used (per temperature for PT)."""
        return self.n_chains or self.batch_size

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RBMConfig:
        """Rebuild from :meth:`to_dict`; numpy scalars become Python ones, unknown keys are an
        error (the result is not validated: call :meth:`validate`)."""
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"Unknown RBMConfig settings: {sorted(unknown)}.")
        plain = {k: v.item() if hasattr(v, "item") else v for k, v in d.items()}
        plain = {k: v.decode() if isinstance(v, bytes) else v for k, v in plain.items()}
        return cls(**plain)
