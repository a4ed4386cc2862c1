"""Annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008) for log Z of an RBM.

Intermediate distributions, for ``0 = β_0 < β_1 < … < β_K = 1``, interpolate between a base model
of independent spins with fields ``c`` (the base biases) and the target, hidden units summed out::

    log p*_β(v) = ((1-β) c + β a)·v + Σ_j softplus(β (b_j + (Wᵀv)_j))

so ``p*_1(v) = e^{-F(v)}`` and ``Z_0 = 2^m Π_i 2 cosh(c_i)`` exactly. Each chain starts with an
exact draw from the base, accumulates ``log w += log p*_{β_k}(v) - log p*_{β_{k-1}}(v)`` and then
makes one block-Gibbs transition that leaves ``p*_{β_k}`` invariant (h from
``σ(β_k (b + Wᵀv))``, v from ``σ(2((1-β_k) c + β_k (a + W h)))``). Then ``Z ≈ Z_0 · mean(w)``.

Base biases (``base``):

* ``"uniform"`` (default): ``c = 0``. For models trained on Z2-symmetric data, and for the exact
  Ising construction, this is the right base: there the intermediate distributions are themselves
  symmetric (for :func:`engines.rbm.ising_construction.ising_rbm` they are exactly Ising models at
  couplings rising from 0 to K), so no chain is trapped in one half of phase space.
* ``"visible-bias"``: ``c = a``, the model's own visible biases (a base RBM with W = 0). Beware: an
  RBM that is symmetric under v → -v generally has ``a = -W1/2 ≠ 0``, and then this base is strongly
  polarized and AIS misses half of Z.
* a 1-D array: ``c`` given explicitly, typically :func:`base_biases_from_data` (the base-rate model
  of Salakhutdinov & Murray, which maximizes the likelihood of the data among independent spins).

The β schedule (:func:`beta_schedule`) puts 4 % of the points on [0, 0.5], 28 % on [0.5, 0.9] and
68 % on [0.9, 1] (the proportions 500 : 4000 : 10000 of Salakhutdinov & Murray).

Error: with ``r_k = w_k / max w``, ``log Ẑ = log Z_0 + log max w + log mean r``; the delta method
gives ``σ(log Ẑ) = std(r) / (sqrt(N) mean(r))`` (N chains). It is a one-sigma error of the
estimator's spread; log Ẑ is also biased low by about σ²/2, and a schedule that is much too short
can underestimate both.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engines.rbm.model import RBM, bernoulli, spins
from engines.rbm.partition import log2cosh


def beta_schedule(n_betas: int) -> np.ndarray:
    """``n_betas + 1`` inverse temperatures from 0 to 1, denser near 1 (see module docstring)."""
    if n_betas < 3:
        raise ValueError(f"AIS needs at least 3 intermediate distributions, got {n_betas}.")
    n1 = max(1, round(n_betas * 500 / 14500))
    n2 = max(1, round(n_betas * 4000 / 14500))
    n3 = n_betas - n1 - n2
    return np.concatenate(
        [
            np.linspace(0.0, 0.5, n1, endpoint=False),
            np.linspace(0.5, 0.9, n2, endpoint=False),
            np.linspace(0.9, 1.0, n3 + 1),
        ]
    )


def base_biases_from_data(data: np.ndarray) -> np.ndarray:
    """ML fields of independent ±1 spins for ``data`` (N, n): ``atanh(⟨v_i⟩)``, means clipped at
    ±(1 - 1e-3) so that a frozen spin gets a large finite field."""
    data = np.asarray(data)
    mean = np.clip(data.mean(axis=0, dtype=np.float64), -1 + 1e-3, 1 - 1e-3)
    return np.arctanh(mean)


def _base(model: RBM, base) -> torch.Tensor:
    if isinstance(base, str):
        if base == "uniform":
            return torch.zeros_like(model.a)
        if base == "visible-bias":
            return model.a.clone()
        raise ValueError(f"base must be 'uniform', 'visible-bias' or an array, got {base!r}.")
    c = torch.as_tensor(np.asarray(base, dtype=np.float64), device=model.device)
    if c.shape != (model.n_visible,) or not torch.isfinite(c).all():
        raise ValueError(f"Base biases must be {model.n_visible} finite numbers, got {c.shape}.")
    return c


def ais_log_partition(
    model: RBM,
    n_chains: int = 100,
    n_betas: int = 1000,
    generator: torch.Generator | None = None,
    base="uniform",
) -> tuple[float, float]:
    """AIS estimate of ``log Z`` and its one-sigma error (float64 arithmetic throughout).

    Cost: ``n_betas`` block-Gibbs sweeps of ``n_chains`` chains (two n×m matrix products per
    chain and β). ``generator`` defaults to a fresh one seeded with 0 on the model's device.
    """
    if n_chains < 2:
        raise ValueError(f"AIS needs at least 2 chains for an error bar, got {n_chains}.")
    if generator is None:
        generator = torch.Generator(device=model.device).manual_seed(0)
    m64 = model.to(torch.float64)
    c = _base(m64, base)
    betas = beta_schedule(n_betas)
    with torch.no_grad():
        log_z0 = m64.n_hidden * math.log(2.0) + float(log2cosh(c).sum())
        shape = (n_chains, m64.n_visible)
        p_up = torch.sigmoid(2.0 * c).expand(shape)
        v = spins(p_up, generator)
        log_w = torch.zeros(n_chains, dtype=torch.float64, device=m64.device)
        delta_field = m64.a - c
        softplus = torch.nn.functional.softplus
        for prev, beta in zip(betas[:-1], betas[1:], strict=True):
            x = m64.hidden_inputs(v)
            log_w += (beta - prev) * (v @ delta_field)
            log_w += (softplus(beta * x) - softplus(prev * x)).sum(-1)
            if beta == 1.0:
                break
            h = bernoulli(torch.sigmoid(beta * x), generator)
            field = (1.0 - beta) * c + beta * m64.visible_inputs(h)
            v = spins(torch.sigmoid(2.0 * field), generator)
        top = float(log_w.max())
        r = torch.exp(log_w - top)
        mean_r = float(r.mean())
        error = float(r.std(unbiased=True)) / (math.sqrt(n_chains) * mean_r)
    return log_z0 + top + math.log(mean_r), error
