"""Error bars for time series from a Markov chain: τ_int, the mean's error, blocked jackknife.

Convention: for a stationary series with variance σ² and normalized autocorrelation ρ(t),
``τ_int = 1/2 + Σ_{t≥1} ρ(t)`` and ``Var(mean of n) ≈ 2 τ_int σ² / n``, so independent data have
τ_int = 1/2 and ``2 τ_int`` is the number of steps per independent sample. τ_int is in units of
the series' own spacing (sweeps, when one sample is taken per sweep).

Derived quantities (a nonlinear function of several means, such as the specific heat) get their
errors from a jackknife over blocks. Block-length rule: ``b = max(ceil(10 τ), ceil(n / 1000))``
with τ the largest τ_int of the series involved, so that block means are nearly independent (the
residual correlation between neighbouring blocks makes the squared error low by about τ/b, i.e.
~10 %) and at most ~1000 blocks are formed; if that leaves fewer than 10 blocks, 10 blocks are
used anyway (the run is then shorter than ~100 τ and the error is underestimated: take more
samples).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BLOCK_TAUS = 10.0
MAX_BLOCKS = 1000
MIN_BLOCKS = 10


@dataclass(frozen=True)
class Estimate:
    """A value with one standard error; ``tau`` is the τ_int (in samples) used for the error."""

    value: float
    error: float
    tau: float | None = None


def _as_series(x: np.ndarray, name: str = "series") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"The {name} must be a 1-D array of at least 2 samples, got {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"The {name} contains NaN or infinite values.")
    return x


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalized autocorrelation ρ(t), t = 0..n-1, by FFT (zero-padded, biased 1/n estimator).

    A constant series has no defined ρ; it is returned as ρ(0) = 1 and ρ(t ≥ 1) = 0.
    """
    x = _as_series(x)
    n = x.size
    d = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(d, size)
    acov = np.fft.irfft(f * np.conj(f), size)[:n]
    if acov[0] <= 0.0:
        rho = np.zeros(n)
        rho[0] = 1.0
        return rho
    return acov / acov[0]


def integrated_autocorrelation_time(x: np.ndarray, c: float = 5.0) -> tuple[float, int]:
    """τ_int by Sokal's automatic windowing; returns ``(tau, window)``.

    ``τ(W) = 1/2 + Σ_{t=1}^{W} ρ(t)``, with W the smallest window such that ``W ≥ c τ(W)``. If no
    window up to n - 1 satisfies it (series far too short), W = n - 1 is returned. A constant
    series returns (0.5, 0). Anticorrelated series can give τ < 1/2, even τ ≤ 0 (see
    :func:`error_tau`).
    """
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"The window factor c must be a finite number > 0, got {c!r}.")
    rho = autocorrelation(x)
    if rho.size < 2 or not np.any(rho[1:]):
        return 0.5, 0
    taus = 0.5 + np.cumsum(rho[1:])
    windows = np.arange(1, rho.size)
    ok = np.flatnonzero(windows >= c * taus)
    w = int(ok[0]) if ok.size else rho.size - 2
    return float(taus[w]), int(windows[w])


def error_tau(x: np.ndarray) -> float:
    """The τ used for error bars: ``max(τ_int, 1/2)``.

    A truncated sum cannot resolve anticorrelation reliably: for a series that alternates in sign
    (m under Wolff updates at low T, where nearly every update flips the whole lattice) τ(W) even
    comes out negative. Anticorrelated series therefore get the error of independent samples,
    which is an upper bound on their true error.
    """
    return max(integrated_autocorrelation_time(x)[0], 0.5)


def mean_with_error(x: np.ndarray) -> Estimate:
    """Sample mean with the error ``sqrt(2 τ σ² / n)``, τ from :func:`error_tau`."""
    x = _as_series(x)
    tau = error_tau(x)
    return Estimate(float(x.mean()), math.sqrt(2.0 * tau * x.var() / x.size), tau)


def block_length(n: int, tau: float) -> int:
    """Block length for the jackknife of n samples with autocorrelation time τ (module rule)."""
    b = max(math.ceil(BLOCK_TAUS * tau), math.ceil(n / MAX_BLOCKS), 1)
    if n // b < MIN_BLOCKS:
        b = max(1, n // MIN_BLOCKS)
    return b


def block_jackknife(
    data: np.ndarray, func: Callable[[np.ndarray], np.ndarray], tau: float
) -> tuple[np.ndarray, np.ndarray]:
    """Value and jackknife error of ``func(means)`` for the columns of ``data`` (n, k).

    ``func`` maps an array of column means of shape (..., k) to its result of shape (..., *out),
    elementwise over the leading axes. The value is ``func`` of the means of all n samples; the
    error comes from leaving out one block at a time (block length by :func:`block_length`, using
    the last ``n_blocks · b`` samples so that an incomplete block falls at the start of the run).
    """
    data = np.asarray(data, dtype=np.float64)
    n = data.shape[0]
    b = block_length(n, tau)
    n_blocks = n // b
    if n_blocks < 2:
        raise ValueError(f"A jackknife needs at least 2 blocks; got {n} samples.")
    used = data[n - n_blocks * b :]
    block_sums = used.reshape(n_blocks, b, -1).sum(axis=1)
    leave_one_out = (block_sums.sum(axis=0) - block_sums) / (b * (n_blocks - 1))
    replicates = np.asarray(func(leave_one_out))
    value = np.asarray(func(data.mean(axis=0)))
    spread = replicates - replicates.mean(axis=0)
    error = np.sqrt((n_blocks - 1) / n_blocks * np.sum(spread**2, axis=0))
    return value, error
