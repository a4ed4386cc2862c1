"""Observables of Ising configurations and their statistical summary with error bars.

Per-spin conventions (N = L²): ``e = H/N`` with ``H = -J Σ_<ij> s_i s_j - h Σ s_i`` over the 2N
bonds of the torus, ``m = Σ s_i / N``. From a series of (e, m) samples at temperature T:

* specific heat per spin ``c = N (⟨e²⟩ - ⟨e⟩²) / T²``
* susceptibility per spin ``χ = N (⟨m²⟩ - ⟨|m|⟩²) / T`` (the finite-lattice form using |m|, since
  ⟨m⟩ = 0 by symmetry at h = 0 for any finite L)
* Binder cumulant ``U4 = 1 - ⟨m⁴⟩ / (3 ⟨m²⟩²)``

Means carry the error ``sqrt(2 τ_int σ²/n)``; c, χ and U4 carry blocked-jackknife errors (rule in
:mod:`engines.ising.autocorrelation`).
"""

from __future__ import annotations

import numpy as np

from engines.ising.autocorrelation import (
    Estimate,
    block_jackknife,
    error_tau,
    mean_with_error,
)
from engines.ising.lattice import bond_sums_and_magnetizations, pair_correlations


def _as_samples(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2] or samples.shape[1] < 2:
        raise ValueError(f"Samples must have shape (n, L, L) with L >= 2, got {samples.shape}.")
    if not np.all(np.abs(samples) == 1):
        raise ValueError("Samples must contain only spins +1 and -1.")
    return np.ascontiguousarray(samples, dtype=np.int8)


def energies_per_spin(samples: np.ndarray, J: float = 1.0, h: float = 0.0) -> np.ndarray:
    """e = H/N for each configuration of an (n, L, L) array of ±1; returns float64 (n,)."""
    samples = _as_samples(samples)
    bonds, totals = bond_sums_and_magnetizations(samples)
    n_spins = samples.shape[1] * samples.shape[2]
    return (-J * bonds - h * totals) / n_spins


def magnetizations_per_spin(samples: np.ndarray) -> np.ndarray:
    """m = Σ s_i / N for each configuration of an (n, L, L) array of ±1; returns float64 (n,)."""
    samples = _as_samples(samples)
    return samples.sum(axis=(1, 2), dtype=np.int64) / (samples.shape[1] * samples.shape[2])


def correlation_function(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connected spin correlation ``C(r) = G(r) - ⟨|m|⟩²`` for r = 0..L//2; returns (r, C, error).

    ``G(r) = ⟨(1/2N) Σ_i s_i (s_{i+r x̂} + s_{i+r ŷ})⟩``: the pair correlation at distance r along
    the lattice axes, averaged over all sites and both axes (and over the samples). Subtracting
    ⟨|m|⟩² rather than ⟨m⟩² (which is 0 on a finite lattice at h = 0) removes the ordered part
    below T_c, so C decays with r in both phases; note C(0) = 1 - ⟨|m|⟩². The samples are taken
    as a time series (in order); errors are a blocked jackknife whose block length uses the
    largest τ_int among the series G(r) and |m|. At least 2 samples are needed.
    """
    samples = _as_samples(samples)
    if samples.shape[0] < 2:
        raise ValueError("The correlation function needs at least 2 samples.")
    r_max = samples.shape[1] // 2
    data = np.column_stack(
        [pair_correlations(samples, r_max), np.abs(magnetizations_per_spin(samples))]
    )
    tau = max(error_tau(column) for column in data.T)
    value, error = block_jackknife(data, lambda mu: mu[..., :-1] - mu[..., -1:] ** 2, tau)
    return np.arange(r_max + 1), value, error


def summarize(
    energies: np.ndarray, magnetizations: np.ndarray, temperature: float, n_spins: int
) -> dict[str, Estimate]:
    """Estimates of e, m, |m|, m², m⁴, c, χ and U4 (keys "e", "m", "abs_m", "m2", "m4", "c",
    "chi", "binder") from per-spin series sampled in time order at temperature T on N spins."""
    e = np.asarray(energies, dtype=np.float64)
    m = np.asarray(magnetizations, dtype=np.float64)
    if e.ndim != 1 or e.shape != m.shape or e.size < 2:
        raise ValueError("energies and magnetizations must be 1-D series of equal length >= 2.")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"The temperature must be a finite number > 0, got {temperature!r}.")
    if n_spins < 1:
        raise ValueError(f"n_spins must be a positive integer, got {n_spins!r}.")
    abs_m, m2 = np.abs(m), m * m
    m4 = m2 * m2
    out = {
        "e": mean_with_error(e),
        "m": mean_with_error(m),
        "abs_m": mean_with_error(abs_m),
        "m2": mean_with_error(m2),
        "m4": mean_with_error(m4),
    }

    def derived(columns: list[np.ndarray], func) -> Estimate:
        tau = max(error_tau(x) for x in columns)
        value, error = block_jackknife(np.column_stack(columns), func, tau)
        return Estimate(float(value), float(error), tau)

    T = float(temperature)
    out["c"] = derived([e, e * e], lambda mu: n_spins * (mu[..., 1] - mu[..., 0] ** 2) / T**2)
    out["chi"] = derived([m2, abs_m], lambda mu: n_spins * (mu[..., 0] - mu[..., 1] ** 2) / T)
    out["binder"] = derived([m2, m4], lambda mu: 1.0 - mu[..., 1] / (3.0 * mu[..., 0] ** 2))
    return out
