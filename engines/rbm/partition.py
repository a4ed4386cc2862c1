"""Exact log Z of an RBM by enumerating one layer (≤ 24 units), in float64.

Summing the other layer analytically leaves a sum over 2^k terms of the enumerated layer::

    over the visible layer:  Z = Σ_v exp(-F(v)),   -F(v) = a·v + Σ_j softplus(b_j + (Wᵀv)_j)
    over the hidden layer:   Z = Σ_h exp(b·h + Σ_i log(2 cosh(a_i + (W h)_i)))

Both sums run over chunks of 2^16 states with a streaming log-sum-exp, so memory stays small and
nothing overflows. State encoding (shared with :mod:`engines.exact.enumeration`): the integer x
stands for the configuration whose unit i is "on" (v_i = +1, h_j = 1) when bit i of x is 1, so for
a flattened L×L lattice the index of a visible state equals the Ising state integer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from engines.rbm.model import RBM

MAX_ENUMERATED_UNITS = 24
_CHUNK_BITS = 16


def _check_units(k: int, layer: str) -> None:
    if k > MAX_ENUMERATED_UNITS:
        raise ValueError(
            f"Exact enumeration of the {layer} layer needs <= {MAX_ENUMERATED_UNITS} units, "
            f"this model has {k}."
        )


def layer_states(k: int, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """The {0,1} configurations with integers ``start..stop-1`` (bit i = unit i), float64 (·, k)."""
    x = torch.arange(start, stop, dtype=torch.int64, device=device)
    shifts = torch.arange(k, dtype=torch.int64, device=device)
    return ((x[:, None] >> shifts) & 1).to(torch.float64)


def _chunks(k: int) -> Iterator[tuple[int, int]]:
    total = 1 << k
    step = 1 << _CHUNK_BITS
    for start in range(0, total, step):
        yield start, min(total, start + step)


def log2cosh(x: torch.Tensor) -> torch.Tensor:
    """``log(2 cosh x)`` without overflow: ``|x| + log1p(exp(-2|x|))``."""
    ax = x.abs()
    return ax + torch.log1p(torch.exp(-2.0 * ax))


def visible_log_weights(model: RBM, start: int = 0, stop: int | None = None) -> torch.Tensor:
    """``-F(v)`` in float64 for the visible states ``start..stop-1`` (default: all 2^n)."""
    model64 = model if model.dtype == torch.float64 else model.to(torch.float64)
    n = model64.n_visible
    _check_units(n, "visible")
    stop = (1 << n) if stop is None else stop
    v = 2.0 * layer_states(n, start, stop, model64.device) - 1.0
    return -model64.free_energy(v)


def log_probabilities_exact(model: RBM) -> np.ndarray:
    """``log p(v)`` of every visible state (index = state integer), float64 numpy (2^n,).

    The normalization uses :func:`log_partition_exact` over the cheaper layer.
    """
    log_z = log_partition_exact(model)
    return (
        np.concatenate(
            [visible_log_weights(model, s, e).cpu().numpy() for s, e in _chunks(model.n_visible)]
        )
        - log_z
    )


def _streaming_logsumexp(chunks: Iterator[torch.Tensor]) -> float:
    running = -math.inf
    for values in chunks:
        top = float(values.max())
        if top == -math.inf:
            continue
        total = top + float(torch.log(torch.exp(values - top).sum()))
        hi, lo = max(running, total), min(running, total)
        running = hi + math.log1p(math.exp(lo - hi)) if lo > -math.inf else hi
    return running


def _log_z_over_visible(model: RBM) -> float:
    return _streaming_logsumexp(
        visible_log_weights(model, s, e) for s, e in _chunks(model.n_visible)
    )


def _log_z_over_hidden(model: RBM) -> float:
    m = model.n_hidden

    def terms():
        for s, e in _chunks(m):
            h = layer_states(m, s, e, model.device)
            yield h @ model.b + log2cosh(model.visible_inputs(h)).sum(-1)

    return _streaming_logsumexp(terms())


def log_partition_exact(model: RBM, over: str = "auto") -> float:
    """Exact ``log Z`` (float64) by enumerating the smaller layer, or the one named by ``over``.

    ``over`` is ``"auto"``, ``"visible"`` or ``"hidden"``. Raises ``ValueError`` when the
    enumerated layer has more than 24 units (2^24 ≈ 1.7·10^7 states) or ``over`` is unknown.
    """
    if over not in ("auto", "visible", "hidden"):
        raise ValueError(f"over must be 'auto', 'visible' or 'hidden', got {over!r}.")
    if over == "auto":
        over = "visible" if model.n_visible <= model.n_hidden else "hidden"
    k = model.n_visible if over == "visible" else model.n_hidden
    _check_units(k, over)
    model64 = model.to(torch.float64)
    with torch.no_grad():
        return _log_z_over_visible(model64) if over == "visible" else _log_z_over_hidden(model64)


def enumeration_cost(model: RBM) -> float:
    """Multiply-adds of :func:`log_partition_exact` over the cheaper layer (``2^k · n · m``)."""
    k = min(model.n_visible, model.n_hidden)
    return float(2**k) * model.n_visible * model.n_hidden


def all_visible_states(n: int) -> np.ndarray:
    """All 2^n visible configurations as int8 ±1, shape (2^n, n), index = state integer."""
    _check_units(n, "visible")
    x = np.arange(1 << n, dtype=np.int64)[:, None]
    return (2 * ((x >> np.arange(n)) & 1) - 1).astype(np.int8)
