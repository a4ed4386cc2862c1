"""AIS estimates of log Z against exact enumeration and against Kaufman's formula (L = 8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engines.exact import critical_temperature, log_partition_function
from engines.rbm import (
    RBM,
    ais_log_partition,
    base_biases_from_data,
    beta_schedule,
    ising_log_z_offset,
    ising_rbm,
    log_partition_exact,
    sample_model,
)


def nontrivial_model() -> RBM:
    """16 visible, 12 hidden units with weights large enough for a correlated, multimodal p(v)."""
    g = torch.Generator().manual_seed(11)
    W = 0.6 * torch.randn(16, 12, generator=g, dtype=torch.float64)
    a = 0.3 * torch.randn(16, generator=g, dtype=torch.float64)
    b = 0.3 * torch.randn(12, generator=g, dtype=torch.float64)
    return RBM(W, a, b)


def assert_within_error(estimate: tuple[float, float], exact: float, max_error: float) -> None:
    value, error = estimate
    assert 0 < error < max_error, f"error bar {error} not in (0, {max_error})"
    assert abs(value - exact) < 3 * error, f"AIS {value} ± {error} vs exact {exact}"


@pytest.mark.parametrize("base", ["uniform", "visible-bias", "data"])
def test_ais_matches_enumeration_on_16_visible_units(base):
    model = nontrivial_model()
    exact = log_partition_exact(model)
    if base == "data":
        samples, _ = sample_model(model, 2000, burn_in=200, thin=2, n_chains=50)
        base = base_biases_from_data(samples)
    g = torch.Generator().manual_seed(1)
    estimate = ais_log_partition(model, n_chains=200, n_betas=1000, generator=g, base=base)
    assert_within_error(estimate, exact, max_error=0.05)


@pytest.mark.parametrize(
    ("T", "n_chains", "n_betas"),
    [pytest.param(critical_temperature(), 200, 1500, marks=pytest.mark.slow), (3.0, 100, 1000)],
)
def test_ais_matches_kaufman_on_the_l8_ising_construction(T, n_chains, n_betas):
    """64 visible and 128 hidden units: no enumeration, but log Z is known exactly."""
    model = ising_rbm(8, T)
    exact = log_partition_function(8, T) + ising_log_z_offset(8, T)
    g = torch.Generator().manual_seed(2)
    estimate = ais_log_partition(model, n_chains=n_chains, n_betas=n_betas, generator=g)
    assert_within_error(estimate, exact, max_error=0.1)


def test_ais_error_reflects_a_too_short_schedule():
    """Fewer intermediate distributions give a larger error bar (the estimator's spread)."""
    model = nontrivial_model()
    short = ais_log_partition(model, 200, 20, torch.Generator().manual_seed(3))
    long = ais_log_partition(model, 200, 1000, torch.Generator().manual_seed(3))
    assert short[1] > 3 * long[1]


def test_ais_is_exact_for_a_model_without_weights():
    """With W = 0 and the visible-bias base, every importance weight is 1."""
    model = RBM(np.zeros((6, 4)), np.linspace(-1, 1, 6), np.array([0.5, -0.5, 1.0, 0.0]))
    value, error = ais_log_partition(model, 10, 10, base="visible-bias")
    assert value == pytest.approx(log_partition_exact(model), abs=1e-12)
    assert error == pytest.approx(0.0, abs=1e-12)


def test_beta_schedule_and_argument_checks():
    betas = beta_schedule(1000)
    assert betas.shape == (1001,) and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    assert np.sum(betas >= 0.9) > 0.6 * betas.size  # dense near beta = 1
    model = nontrivial_model()
    with pytest.raises(ValueError, match="at least 2 chains"):
        ais_log_partition(model, n_chains=1)
    with pytest.raises(ValueError, match="base must be"):
        ais_log_partition(model, base="data")
    with pytest.raises(ValueError, match="Base biases"):
        ais_log_partition(model, base=np.zeros(3))
    assert math.isfinite(ais_log_partition(model, 4, 5)[0])
