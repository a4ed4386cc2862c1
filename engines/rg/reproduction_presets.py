"""The settings of the reproductions of :mod:`engines.rg.reproductions`, in a light module.

The presets, T_c and the locality threshold load without torch (the reproductions themselves
train RBMs), so the lab's reproduction dock lists the experiments before any of them runs.
:mod:`engines.rg.reproductions` imports them from here (they stay importable from it).
"""

from __future__ import annotations

from engines.exact import critical_temperature

T_C = float(critical_temperature())  # a Python float: the presets print and serialize as numbers
LOCAL_SHARE = 0.5
"""A level (or unit) counts as local when its mean matched share reaches this value."""
VEIGA_TEMPERATURES = tuple([1e-6] + [0.25 * i for i in range(1, 25)])
"""The 25 training temperatures of Veiga & Vicente: 1e-6, 0.25, 0.5, ..., 6.0."""


PRESETS: dict[str, dict[str, dict]] = {
    "mehta-schwab": {
        # L = 40 at T_c, 1600-400-100; measured settings (module doc): lr ≈ 5 / n_visible
        "full": {
            "size": 40,
            "temperature": T_C,
            "J": 1.0,
            "n_samples": 20_000,
            "block": 2,
            "levels": 2,
            "options": {
                "l1": 0.01,
                "learning_rate": [0.003, 0.01],
                "lr_schedule": "constant",
                "epochs": [60, 30],
            },
        },
        "quick": {
            "size": 16,
            "temperature": T_C,
            "J": 1.0,
            "n_samples": 5000,
            "block": 2,
            "levels": 2,
            "options": {
                "l1": 0.01,
                "learning_rate": 0.03,
                "lr_schedule": "constant",
                "epochs": [30, 60],
            },
        },
    },
    "combe-4.1": {
        # the trainer's defaults (CD-1, lr 0.01 decaying linearly, batch 64) with L1 = 0.01
        "full": {
            "size": 4,
            "temperature": T_C,
            "J": 1.0,
            "n_samples": 10_000,
            "block": 2,
            "seeds": 10,
            "l1_warmup": 0,
            "options": {"l1": 0.01, "epochs": 300},
        },
        "quick": {
            "size": 4,
            "temperature": T_C,
            "J": 1.0,
            "n_samples": 2000,
            "block": 2,
            "seeds": 3,
            "l1_warmup": 0,
            "options": {"l1": 0.01, "epochs": 100},
        },
    },
    "rbm-flow": {
        "full": {
            "size": 10,
            "train_temperatures": VEIGA_TEMPERATURES,
            "per_temperature": 2000,
            "flow_temperatures": (1.0, 1.5, 2.0, T_C, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0),
            "flow_samples": 2000,
            "steps": 200,
            "read_steps": (0, 1, 2, 3, 5, 10, 20, 50, 100, 200),
            "n_equilibrium": 5000,
            "options": {"n_hidden": 64, "epochs": 100},
        },
        "quick": {
            "size": 6,
            "train_temperatures": VEIGA_TEMPERATURES[::2],
            "per_temperature": 300,
            "flow_temperatures": (1.5, T_C, 3.5),
            "flow_samples": 500,
            "steps": 3,
            "read_steps": None,
            "n_equilibrium": 1000,
            "options": {"n_hidden": 16, "epochs": 10},
        },
    },
}
"""Settings of :func:`run_reproduction` per experiment and scale ("full", "quick")."""

REPRODUCTIONS = tuple(PRESETS)
