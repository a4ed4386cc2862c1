"""τ_int by automatic windowing, error bars of correlated means, and the blocked jackknife."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from engines.ising import Estimate, integrated_autocorrelation_time, mean_with_error
from engines.ising.autocorrelation import autocorrelation, block_jackknife, block_length


def ar1(phi: float, n: int, rng: np.random.Generator, n_series: int | None = None) -> np.ndarray:
    """Stationary AR(1) x_t = φ x_{t-1} + ε_t (unit innovations), τ_int = (1+φ)/(2(1-φ))."""
    shape = (n,) if n_series is None else (n_series, n)
    noise = rng.standard_normal(shape)
    x0 = rng.standard_normal(shape[:-1]) / math.sqrt(1 - phi**2)
    noise[..., 0] = x0  # x_0 drawn from the stationary distribution
    return lfilter([1.0], [1.0, -phi], noise, axis=-1)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_tau_of_ar1_matches_theory(phi):
    n = 200_000
    x = ar1(phi, n, np.random.default_rng(1))
    tau, window = integrated_autocorrelation_time(x)
    exact = (1 + phi) / (2 * (1 - phi))
    # Sokal: Var(τ̂) ≈ 2 (2W + 1) τ² / n; the window's truncation bias φ^(W+1)/(1-φ) is ~1e-3 here.
    sigma = math.sqrt(2 * (2 * window + 1) / n) * exact
    assert abs(tau - exact) < 4 * sigma + phi ** (window + 1) / (1 - phi)


def test_window_is_the_smallest_satisfying_sokal_condition():
    x = ar1(0.8, 50_000, np.random.default_rng(2))
    c = 5.0
    tau, window = integrated_autocorrelation_time(x, c)
    rho = autocorrelation(x)
    assert tau == pytest.approx(0.5 + rho[1 : window + 1].sum())
    assert window >= c * tau
    for w in range(1, window):
        assert w < c * (0.5 + rho[1 : w + 1].sum())
    assert integrated_autocorrelation_time(x, 8.0)[1] > window


def test_autocorrelation_by_fft_matches_direct_sum():
    x = np.random.default_rng(3).standard_normal(300).cumsum()
    d = x - x.mean()
    direct = np.array([np.dot(d[: d.size - t], d[t:]) for t in range(d.size)]) / np.dot(d, d)
    np.testing.assert_allclose(autocorrelation(x), direct, atol=1e-12)


def test_constant_series_and_invalid_input():
    assert integrated_autocorrelation_time(np.full(100, 3.0)) == (0.5, 0)
    assert mean_with_error(np.full(100, 3.0)) == Estimate(3.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="at least 2"):
        mean_with_error(np.array([1.0]))
    with pytest.raises(ValueError, match="1-D"):
        integrated_autocorrelation_time(np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        mean_with_error(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="window factor"):
        integrated_autocorrelation_time(np.arange(10.0), c=0.0)


def test_alternating_series_gets_a_nonnegative_error():
    x = np.tile([1.0, -1.0], 500) + 0.01 * np.random.default_rng(4).standard_normal(1000)
    assert integrated_autocorrelation_time(x)[0] < 0.5
    estimate = mean_with_error(x)
    assert estimate.tau == 0.5
    assert estimate.error == pytest.approx(x.std() / math.sqrt(x.size))


def test_error_bars_of_ar1_means_cover_the_truth():
    phi, n, n_series = 0.8, 4000, 400
    series = ar1(phi, n, np.random.default_rng(5), n_series)
    estimates = [mean_with_error(x) for x in series]
    z = np.array([e.value / e.error for e in estimates])  # the true mean is 0
    within_1 = np.mean(np.abs(z) < 1.0)
    within_2 = np.mean(np.abs(z) < 2.0)
    # Binomial standard deviations for 400 series: 0.023 (68 %) and 0.011 (95 %).
    assert 0.683 - 0.1 < within_1 < 0.683 + 0.1
    assert within_2 > 0.95 - 0.05
    # The error itself matches the exact asymptotic standard deviation of the mean.
    exact_error = math.sqrt((1 + phi) / (1 - phi) / (1 - phi**2) / n)
    mean_error = np.mean([e.error for e in estimates])
    assert mean_error == pytest.approx(exact_error, rel=0.05)
    assert np.mean([e.tau for e in estimates]) == pytest.approx(4.5, rel=0.05)


def test_block_length_rule():
    assert block_length(20_000, 3.2) == 32
    assert block_length(10_000_000, 0.5) == 10_000  # at most ~1000 blocks
    assert block_length(1_000, 20.0) == 100  # at least 10 blocks
    assert block_length(5, 0.5) == 1


def test_jackknife_of_a_linear_function_is_the_block_standard_error():
    x = np.random.default_rng(6).standard_normal(10_000)
    value, error = block_jackknife(x[:, None], lambda mu: mu[..., 0], tau=0.5)
    b = block_length(x.size, 0.5)
    blocks = x.reshape(-1, b).mean(axis=1)
    assert value == pytest.approx(x.mean())
    assert error == pytest.approx(blocks.std(ddof=1) / math.sqrt(blocks.size))


def test_jackknife_error_of_a_variance_matches_theory():
    # For Gaussian data the sample variance has standard error sigma^2 sqrt(2/n).
    rng = np.random.default_rng(7)
    x = 2.0 * rng.standard_normal(40_000)
    value, error = block_jackknife(
        np.column_stack([x, x * x]), lambda mu: mu[..., 1] - mu[..., 0] ** 2, tau=0.5
    )
    assert value == pytest.approx(x.var())
    assert error == pytest.approx(4.0 * math.sqrt(2 / x.size), rel=0.15)
