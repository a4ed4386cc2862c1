"""Quality measures of an RBM on data (N, n) of ±1 spins: NLL, pseudo-likelihood, reconstruction.

All evaluations run in float64 on the model's device, in chunks so that memory stays bounded.
"""

from __future__ import annotations

import numpy as np
import torch

from engines.rbm.model import RBM

PL_EXACT_MAX_VISIBLE = 1024
_CHUNK_ELEMENTS = 1 << 22  # float64 elements of the largest temporary (32 MiB)


def _data(model: RBM, data) -> torch.Tensor:
    data = np.asarray(data) if not isinstance(data, torch.Tensor) else data
    if data.ndim != 2 or data.shape[1] != model.n_visible or data.shape[0] < 1:
        raise ValueError(
            f"Data must have shape (N >= 1, {model.n_visible}), got {tuple(data.shape)}."
        )
    return model.visible_tensor(data)


def mean_free_energy(model: RBM, data) -> float:
    """Mean ``F(v)`` over the rows of ``data`` (float64)."""
    m64 = model.to(torch.float64)
    v = _data(m64, data)
    with torch.no_grad():
        return float(m64.free_energy(v).mean())


def nll(model: RBM, data, log_z: float) -> float:
    """Mean negative log-likelihood ``⟨F(v)⟩_data + log Z`` in nats per configuration."""
    return mean_free_energy(model, data) + float(log_z)


def pseudo_likelihood(model: RBM, data, generator: torch.Generator | None = None) -> float:
    """Mean log pseudo-likelihood per configuration, ``⟨Σ_i log p(v_i | v_{-i})⟩_data`` (nats).

    ``log p(v_i | v_{-i}) = -softplus(F(v) - F(v^{(i)}))`` with ``v^{(i)}`` the configuration with
    spin i flipped. For n ≤ 1024 the sum runs over every site (exact, deterministic); for larger n
    it is estimated as ``n · log p(v_i | v_{-i})`` at one uniformly random site per configuration
    (drawn with ``generator``, which is then required).
    """
    m64 = model.to(torch.float64)
    v = _data(m64, data)
    n, m = m64.n_visible, m64.n_hidden
    softplus = torch.nn.functional.softplus
    total = 0.0
    with torch.no_grad():
        if n > PL_EXACT_MAX_VISIBLE:
            if generator is None:
                raise ValueError(
                    f"pseudo_likelihood needs a generator when n > {PL_EXACT_MAX_VISIBLE}."
                )
            site = torch.randint(n, (v.shape[0],), generator=generator, device=m64.device)
            rows = torch.arange(v.shape[0], device=m64.device)
            flipped = v.clone()
            flipped[rows, site] = -flipped[rows, site]
            log_cond = -softplus(m64.free_energy(v) - m64.free_energy(flipped))
            return float(n * log_cond.mean())
        chunk = max(1, _CHUNK_ELEMENTS // (n * m))
        for start in range(0, v.shape[0], chunk):
            vc = v[start : start + chunk]
            x = m64.hidden_inputs(vc)  # (c, m)
            base = softplus(x).sum(-1)  # -F(v) - a·v
            # Flipping spin i changes a·v by -2 a_i v_i and x by -2 v_i W_i.
            x_flip = x[:, None, :] - 2.0 * vc[:, :, None] * m64.W[None, :, :]  # (c, n, m)
            delta = -2.0 * vc * m64.a + softplus(x_flip).sum(-1) - base[:, None]  # F(v) - F(v^i)
            total += float((-softplus(delta)).sum())
    return total / v.shape[0]


def reconstruction_mismatch(model: RBM, data, generator: torch.Generator) -> float:
    """Fraction of spins changed by one sampled step v → h → v', ``⟨(v - v')²⟩ / 4``."""
    v = _data(model, data)
    with torch.no_grad():
        v_new = model.gibbs(v, 1, generator)
        return float(((v - v_new) ** 2).mean(dtype=torch.float64)) / 4.0
