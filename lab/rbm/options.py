"""The settings of RBM training as the trainer dock offers them: the choices, the defaults, and
the devices this machine can train on.

The dock builds its form from these (it reaches the engine only through ``lab``): the training
methods, optimizers and learning-rate schedules of :mod:`engines.rbm.config`, and
:class:`RBMConfig`, whose ``validate`` has the last word on a form's values.
"""

from __future__ import annotations

from engines.rbm.config import LR_SCHEDULES, METHODS, OPTIMIZERS, RBMConfig, check_device

__all__ = [
    "LR_SCHEDULES",
    "METHODS",
    "OPTIMIZERS",
    "RBMConfig",
    "available_devices",
    "check_device",
]


def available_devices() -> list[str]:
    """'cpu', and 'cuda' where torch sees a GPU."""
    try:
        check_device("cuda")
    except ValueError:
        return ["cpu"]
    return ["cpu", "cuda"]
