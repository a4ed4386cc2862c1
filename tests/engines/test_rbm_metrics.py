"""NLL, pseudo-likelihood and reconstruction mismatch against exact enumeration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engines.rbm.metrics as metrics
from engines.rbm import (
    RBM,
    all_visible_states,
    ising_rbm,
    log_partition_exact,
    log_probabilities_exact,
    nll,
    pseudo_likelihood,
    reconstruction_mismatch,
)


def random_model(seed: int = 0) -> RBM:
    g = torch.Generator().manual_seed(seed)
    return RBM(
        0.7 * torch.randn(8, 5, generator=g, dtype=torch.float64),
        0.3 * torch.randn(8, generator=g, dtype=torch.float64),
        0.3 * torch.randn(5, generator=g, dtype=torch.float64),
    )


def some_data(n_rows: int = 300, seed: int = 0) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random((n_rows, 8)) < 0.6, 1, -1).astype(np.int8)


def exact_log_pl(model: RBM, data: np.ndarray) -> float:
    """Mean Σ_i log p(v_i | v_-i) from the table of exact log p(v)."""
    log_p = log_probabilities_exact(model)
    idx = ((data > 0).astype(np.int64) << np.arange(8)).sum(1)
    total = 0.0
    for i in range(8):
        flipped = idx ^ (1 << i)
        total += np.mean(log_p[idx] - np.logaddexp(log_p[idx], log_p[flipped]))
    return float(total)


def test_nll_is_the_mean_negative_log_probability():
    model, data = random_model(), some_data()
    log_p = log_probabilities_exact(model)
    idx = ((data > 0).astype(np.int64) << np.arange(8)).sum(1)
    value = nll(model, data, log_partition_exact(model))
    assert value == pytest.approx(-log_p[idx].mean(), abs=1e-12)


def test_pseudo_likelihood_is_exact_over_all_sites():
    model, data = random_model(1), some_data(seed=1)
    assert pseudo_likelihood(model, data) == pytest.approx(exact_log_pl(model, data), abs=1e-12)
    # float32 models are evaluated in float64 as well
    assert pseudo_likelihood(model.to(torch.float32), data) == pytest.approx(
        exact_log_pl(RBM.from_state(model.to(torch.float32).state_dict()), data), abs=1e-9
    )


def test_random_site_pseudo_likelihood_is_unbiased(monkeypatch):
    """Above the exact-size limit, one random site per configuration estimates the same mean."""
    model, data = random_model(2), some_data(20, seed=2)
    exact = exact_log_pl(model, data)
    monkeypatch.setattr(metrics, "PL_EXACT_MAX_VISIBLE", 4)
    with pytest.raises(ValueError, match="needs a generator"):
        pseudo_likelihood(model, data)
    g = torch.Generator().manual_seed(0)
    draws = np.array([pseudo_likelihood(model, data, g) for _ in range(400)])
    error = draws.std(ddof=1) / np.sqrt(draws.size)
    assert abs(draws.mean() - exact) < 4 * error


def test_reconstruction_mismatch_limits():
    g = torch.Generator().manual_seed(0)
    data = some_data(2000)
    flat = RBM(np.zeros((8, 3)), np.zeros(8), np.zeros(3))  # every spin is resampled at random
    value = reconstruction_mismatch(flat, data, g)
    assert abs(value - 0.5) < 4 * np.sqrt(0.25 / data.size)
    cold = ising_rbm(3, 0.5)  # deep in the ordered phase: an aligned state reconstructs itself
    aligned = np.ones((500, 9), dtype=np.int8)
    assert reconstruction_mismatch(cold, aligned, g) < 1e-3


def test_metrics_reject_mismatched_data():
    model = random_model()
    with pytest.raises(ValueError, match="shape"):
        nll(model, np.ones((3, 7), dtype=np.int8), 0.0)
    with pytest.raises(ValueError, match="shape"):
        pseudo_likelihood(model, np.ones((0, 8), dtype=np.int8))
    assert all_visible_states(3).shape == (8, 3)
