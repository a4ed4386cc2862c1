"""Exact model expectations of a small-n_h RBM by enumerating its hidden layer.

With the hidden units summed over explicitly, the visible spins are independent given h, so every
model expectation the log-likelihood gradient needs is a sum over the 2^m hidden states::

    p(h) ∝ exp(b·h + Σ_i log 2cosh(a_i + (W h)_i)),    t_i(h) = ⟨v_i | h⟩ = tanh(a_i + (W h)_i),
    ⟨v⟩ = Σ_h p(h) t(h),   ⟨h⟩ = Σ_h p(h) h,   ⟨v hᵀ⟩ = Σ_h p(h) t(h) hᵀ.

(:mod:`engines.rbm.training` uses ``p(h|v)`` on the data side, so data minus these is the exact
gradient of the minibatch log-likelihood.) For a model with ``symmetry="hidden-spins"``
(``b = 0``, ``a = -W·1/2``) the states h and 1 - h have equal weight, which halves the sum.

:func:`model_moments` streams over chunks of 2^14 hidden states with a running maximum of the log
weights, so memory stays at a few MB for any m ≤ :data:`MAX_EXACT_HIDDEN`. The matrix products
run in the model's dtype (float32 in training: the log weights, up to ~N·|a + W h|, then carry an
absolute error ~1e-4, i.e. relative errors ~1e-4 in p(h), far below minibatch noise); the
weights and sums are accumulated in float64. Cost per call: about 2·2^m·n·m multiply-adds
(L = 8, m = 16: 1.3·10⁸, some tens of milliseconds on one core).

:func:`sample_exact` draws independent visible configurations the same way: h from p(h) by
inverse-CDF over the enumerated states, then v from p(v|h).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engines.rbm.config import MAX_EXACT_HIDDEN
from engines.rbm.model import RBM, spins
from engines.rbm.partition import layer_states, log2cosh

_CHUNK_BITS = 14


def _check_hidden(m: int) -> None:
    if m > MAX_EXACT_HIDDEN:
        raise ValueError(
            f"Exact hidden-layer enumeration needs <= {MAX_EXACT_HIDDEN} hidden units, the model "
            f"has {m}."
        )


def model_moments(
    model: RBM, half: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Exact ``(⟨v⟩, ⟨h⟩, ⟨v hᵀ⟩)`` of the model (float64, on the model's device).

    ``half=True`` sums only the states with the last hidden unit off and adds their mirror images
    h' = 1 - h analytically (equal weight, ``t(h') = -t(h)``): ``⟨v⟩ = 0``, ``⟨h⟩ = 1/2``,
    ``⟨v hᵀ⟩ = ⟨t hᵀ⟩_half - ⟨t⟩_half 1ᵀ/2``. Valid only for a ``"hidden-spins"`` model.
    """
    m = model.n_hidden
    _check_hidden(m)
    k = m - 1 if half else m
    dev, dt = model.device, model.dtype
    top = -math.inf
    total = 0.0
    acc_v = torch.zeros(model.n_visible, dtype=torch.float64, device=dev)
    acc_h = torch.zeros(m, dtype=torch.float64, device=dev)
    acc_vh = torch.zeros(model.n_visible, m, dtype=torch.float64, device=dev)
    step = 1 << _CHUNK_BITS
    with torch.no_grad():
        for start in range(0, 1 << k, step):
            h = layer_states(k, start, min(1 << k, start + step), dev).to(dt)
            if half:
                h = torch.cat([h, torch.zeros(h.shape[0], 1, dtype=dt, device=dev)], 1)
            x = torch.addmm(model.a, h, model.W.T)
            log_w = (h @ model.b + log2cosh(x).sum(-1)).to(torch.float64)
            chunk_top = float(log_w.max())
            if chunk_top > top:
                scale = math.exp(top - chunk_top) if top > -math.inf else 0.0
                total *= scale
                acc_v.mul_(scale)
                acc_h.mul_(scale)
                acc_vh.mul_(scale)
                top = chunk_top
            w = torch.exp(log_w - top)
            total += float(w.sum())
            t = torch.tanh(x)
            wt = w.to(dt)[:, None] * t  # (chunk, n)
            acc_v += wt.sum(0).to(torch.float64)
            acc_h += w @ h.to(torch.float64)
            acc_vh += (wt.T @ h).to(torch.float64)
    mean_v, mean_h, mean_vh = acc_v / total, acc_h / total, acc_vh / total
    if half:
        # States h and 1 - h: ⟨v⟩ → 0, ⟨h⟩ → 1/2, ⟨v hᵀ⟩ → (⟨v h⟩ - ⟨v (1 - h)⟩)/2 + 0.
        mean_vh = mean_vh - 0.5 * mean_v[:, None]
        mean_v = torch.zeros_like(mean_v)
        mean_h = torch.full_like(mean_h, 0.5)
    return mean_v, mean_h, mean_vh


def _hidden_log_weights(model: RBM) -> torch.Tensor:
    m64 = model.to(torch.float64)
    m = m64.n_hidden
    parts = []
    step = 1 << _CHUNK_BITS
    with torch.no_grad():
        for start in range(0, 1 << m, step):
            h = layer_states(m, start, min(1 << m, start + step), m64.device)
            parts.append(h @ m64.b + log2cosh(m64.visible_inputs(h)).sum(-1))
    return torch.cat(parts)


def sample_exact(
    model: RBM, n_samples: int, generator: torch.Generator | None = None
) -> np.ndarray:
    """``n_samples`` independent draws from p(v) (int8 ±1, (n_samples, n)), float64 arithmetic.

    h is drawn from the enumerated p(h) (inverse CDF of uniforms from ``generator``, default
    seeded with 0 on the model's device), then v from p(v|h).
    """
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
    _check_hidden(model.n_hidden)
    if generator is None:
        generator = torch.Generator(device=model.device).manual_seed(0)
    m64 = model.to(torch.float64)
    log_w = _hidden_log_weights(m64)
    cdf = torch.cumsum(torch.exp(log_w - log_w.max()), 0)
    u = torch.rand(n_samples, generator=generator, dtype=torch.float64, device=m64.device)
    index = torch.searchsorted(cdf, u * cdf[-1], right=True).clamp_(max=cdf.numel() - 1)
    shifts = torch.arange(m64.n_hidden, device=m64.device)
    h = ((index[:, None] >> shifts) & 1).to(torch.float64)
    with torch.no_grad():
        v = spins(m64.visible_probabilities(h), generator)
    return v.cpu().numpy().astype(np.int8)
