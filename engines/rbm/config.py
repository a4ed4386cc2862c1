"""Training settings of an RBM (validated) and the divergence error.

Defaults (chosen to train Ising data, L = 4..32, without tuning; see ``benchmarks/rbm.py``):

* PCD-1 with batches of 64 and as many persistent chains: on Ising configurations near T_c the
  model distribution is broad and slowly mixing, and CD-k's chains, restarted at the data, never
  explore it; persistent chains do, at the cost of one Gibbs sweep per update.
* momentum SGD, lr 0.01, μ = 0.9: the per-update gradient of an RBM with ±1 spins is O(1) per
  weight, so an effective step lr/(1-μ) = 0.1 moves weights by ~0.1 per update at first and is
  still stable for n up to 1024 (a larger step makes the persistent chains lag behind the model).
* linear learning-rate decay to 0 over the run: averages the stochastic gradient noise away at the
  end (the final parameters behave like an iterate average), which lowers the NLL noticeably.
* 64 hidden units: at least N/16 (with 2N exactly representing Ising at any T); 100 epochs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

METHODS = ("cd", "pcd", "pt")
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "linear", "exponential")


class RBMDivergence(RuntimeError):  # noqa: N818 (the name is the published API)
    """Training produced non-finite or runaway parameters or metrics; keep the last checkpoint."""


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_real(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def check_device(device: str) -> torch.device:
    """``torch.device(device)`` for "cpu" or an available "cuda[:k]"; ValueError otherwise."""
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
    method: str = "pcd"  # "cd" | "pcd" | "pt"
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

    def validate(self, n_visible: int | None = None) -> None:
        """Raise ``ValueError`` with one clear sentence for the first invalid setting."""

        def positive_int(name: str, value: object, low: int = 1) -> None:
            if not _is_int(value) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")

        def real_in(name: str, value: object, low: float, high: float, high_open: bool) -> None:
            ok = _is_real(value) and math.isfinite(value) and value >= low
            ok = ok and (value < high if high_open else value <= high)
            if not ok:
                bracket = ")" if high_open else "]"
                raise ValueError(
                    f"{name} must be a number in [{low}, {high}{bracket}, got {value!r}."
                )

        positive_int("n_hidden (the number of hidden units)", self.n_hidden)
        if self.method not in METHODS:
            raise ValueError(f"Unknown training method {self.method!r}; use one of {METHODS}.")
        positive_int("k (Gibbs steps per update)", self.k)
        positive_int("batch_size", self.batch_size)
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
        positive_int("epochs", self.epochs)
        if not isinstance(self.centering, bool):
            raise ValueError(f"centering must be True or False, got {self.centering!r}.")
        if not isinstance(self.flip_moves, bool):
            raise ValueError(f"flip_moves must be True or False, got {self.flip_moves!r}.")
        positive_int("n_chains", self.n_chains, low=0)
        positive_int("n_temperatures (parallel tempering replicas)", self.n_temperatures, low=2)
        real_in("validation_fraction", self.validation_fraction, 0.0, 1.0, high_open=True)
        positive_int("checkpoint_every (epochs)", self.checkpoint_every)
        positive_int("seed", self.seed, low=0)
        if not isinstance(self.device, str):
            raise ValueError(
                f"device must be a string such as 'cpu' or 'cuda', got {self.device!r}."
            )
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
