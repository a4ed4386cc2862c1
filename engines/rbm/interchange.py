"""RBM parameters in .npz files, in the paper's ±1 convention or the common {0,1} convention.

The {0,1} convention (scikit-learn's ``BernoulliRBM``, most RBM code) uses visible units
``x = (v + 1)/2 ∈ {0,1}`` and ``E01(x, h) = -a01·x - b01·h - xᵀ W01 h``. Substituting ``v = 2x - 1``
into ``E(v, h) = -a·v - b·h - vᵀWh`` gives

    E(v, h) = -2a·x - (b - Wᵀ1)·h - 2 xᵀ W h + Σ_i a_i,

so with

    W01 = 2 W,     a01 = 2 a,     b01 = b - Wᵀ1      (b01_j = b_j - Σ_i W_ij)
    W   = W01 / 2, a   = a01 / 2, b   = b01 + W01ᵀ1 / 2

the two energies differ by the constant Σ_i a_i only, hence ``p01(x, h) = p(v, h)`` for every
configuration and ``Z01 = Z · e^{Σ a_i}``. (The guess ``a01 = 2a - 2W1`` would be wrong: the
cross term shifts the *hidden* biases.) For scikit-learn: ``W01 = components_.T``,
``a01 = intercept_visible_``, ``b01 = intercept_hidden_``.

A file holds float64 arrays ``W``, ``a``, ``b`` in its own convention and a string entry
``convention`` ("pm1" or "01").
"""

from __future__ import annotations

import os

import numpy as np
import torch

from engines.rbm.model import RBM

CONVENTIONS = ("pm1", "01")


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"Unknown convention {convention!r}; use 'pm1' or '01'.")


def to_zero_one(model: RBM) -> dict[str, np.ndarray]:
    """``{"W", "a", "b"}`` of ``model`` in the {0,1} convention (float64, module formulas)."""
    p = model.to(torch.float64).to_numpy()
    return {"W": 2.0 * p["W"], "a": 2.0 * p["a"], "b": p["b"] - p["W"].sum(axis=0)}


def from_zero_one(
    W01, a01, b01, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float64
) -> RBM:
    """The ±1-convention RBM with the same p(x) = p(v) as {0,1}-parameters (W01, a01, b01)."""
    W01 = np.asarray(W01, dtype=np.float64)
    a01 = np.asarray(a01, dtype=np.float64)
    b01 = np.asarray(b01, dtype=np.float64)
    if W01.ndim != 2 or a01.shape != (W01.shape[0],) or b01.shape != (W01.shape[1],):
        raise ValueError(
            f"Shapes W {W01.shape}, a {a01.shape}, b {b01.shape} do not form an (n, m) RBM."
        )
    return RBM(W01 / 2.0, a01 / 2.0, b01 + W01.sum(axis=0) / 2.0, device=device, dtype=dtype)


def save_npz(path: str | os.PathLike, model: RBM, convention: str = "pm1") -> None:
    """Write ``W``, ``a``, ``b`` (float64) in ``convention`` and the ``convention`` entry."""
    _check_convention(convention)
    params = model.to(torch.float64).to_numpy() if convention == "pm1" else to_zero_one(model)
    np.savez(path, W=params["W"], a=params["a"], b=params["b"], convention=np.array(convention))


def load_npz(
    path: str | os.PathLike, convention: str = "pm1", device: str | torch.device = "cpu"
) -> RBM:
    """Read an RBM (float64) from ``path``; ``convention`` applies to files without that entry.

    A file's own ``convention`` entry always wins, so files written by :func:`save_npz` load right
    whatever the argument. Raises ``ValueError`` on missing arrays or inconsistent shapes.
    """
    _check_convention(convention)
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in ("W", "a", "b") if k not in f.files]
        if missing:
            raise ValueError(f"{os.fspath(path)!r} lacks the arrays {missing} of an RBM.")
        stored = str(f["convention"]) if "convention" in f.files else convention
        _check_convention(stored)
        W, a, b = (np.array(f[k], dtype=np.float64) for k in ("W", "a", "b"))
    if stored == "01":
        return from_zero_one(W, a, b, device=device)
    return RBM(W, a, b, device=device, dtype=torch.float64)
