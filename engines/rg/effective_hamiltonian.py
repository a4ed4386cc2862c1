"""The RBM's effective Hamiltonian: its free energy F(v) compared with the Ising βH(v) (eqs. 18–19).

An RBM defines a visible marginal ``p(v) = e^{-F(v)} / Z`` with the free energy

    F(v) = -a·v - Σ_j log(1 + exp(b_j + (Wᵀv)_j))

(visible spins ``v ∈ {±1}^n``, n = L², row-major; hidden units in {0, 1}). If the RBM has learned
the Boltzmann weights of the Ising model at temperature T, then ``F(v) = βH(v) + const`` with
``H(v) = -J Σ_<ij> v_i v_j`` on the L×L torus (2N bonds) and β = 1/T. The constant is
``log Z_RBM - log Z_Ising`` and is unknown without the partition functions: F is only defined up to
it, so in a plot of F against βH only the **slope** (1 for learned Boltzmann weights) and the
**scatter** about the line carry meaning, never the offset.

Effective couplings. Write ``-F(v) = const + h·Σ_i v_i + K1·Σ_nn v_i v_j + K2·Σ_nnn v_i v_j
+ K4·Σ_□ v_i v_j v_k v_l + (rest)`` and fit the coefficients by ordinary least squares on the
configurations of the data. The sign is chosen so that ``p(v) ∝ e^{-F(v)}`` reads as
``e^{K1 Σ_nn v_i v_j + ...}``: K1 compares directly with βJ = J/T, and an RBM that is exactly
the Ising model has K1 = βJ, K2 = K4 = h = 0. The regression lives on the part of v-space that
the data visit: couplings whose features the data cannot tell apart (collinear over the sampled
configurations, e.g. the next-nearest and four-spin sums deep in the ordered phase) are
ill-determined, and their standard errors say so (infinite when exactly collinear).

All computation is numpy float64.
"""

from __future__ import annotations

import math

import numpy as np

from engines.ising import energies_per_spin

FEATURE_NAMES = ("magnetization", "nearest", "next_nearest", "plaquette")
"""The columns of :func:`coupling_features`, in order."""

COUPLING_NAMES = ("field", "K1", "K2", "K4")
"""The keys of :func:`effective_couplings` for the columns of :data:`FEATURE_NAMES`."""

_RANK_RTOL = 1e-10
"""Singular values of the centred, unit-norm design below this fraction of the largest are zero."""


def _lattice(samples) -> np.ndarray:
    """Samples as an (N, L, L) float64 array of ±1 after checking shape and values."""
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2] or samples.shape[1] < 2:
        raise ValueError(f"Samples must have shape (N, L, L) with L >= 2, got {samples.shape}.")
    if samples.shape[0] < 1:
        raise ValueError("At least one configuration is needed.")
    if not np.all(np.abs(samples) == 1):
        raise ValueError("Samples must contain only spins +1 and -1.")
    return samples.astype(np.float64)


def free_energies(W, a, b, samples) -> np.ndarray:
    """F(v) of each configuration: (N, L, L) ±1 -> (N,) float64 (module doc for the formula).

    W is (n, m), a (n,), b (m,), with n = L² and the row-major flattening of the lattice.
    """
    v = _lattice(samples)
    v = v.reshape(v.shape[0], -1)
    W = np.asarray(W, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = v.shape[1]
    if W.ndim != 2 or W.shape[0] != n:
        raise ValueError(f"W must have shape ({n}, m) for {n} visible spins, got {W.shape}.")
    if a.shape != (n,):
        raise ValueError(f"a must have shape ({n},), got {a.shape}.")
    if b.shape != (W.shape[1],):
        raise ValueError(f"b must have shape ({W.shape[1]},), got {b.shape}.")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("The RBM parameters contain NaN or infinite values.")
    return -(v @ a) - np.logaddexp(0.0, v @ W + b).sum(axis=1)


def free_energy_vs_ising(W, a, b, samples, temperature: float, J: float = 1.0) -> dict:
    """F(v) against the Ising βH(v) on the data, with the least-squares line F = slope·βH + offset.

    Returns ``{"beta_H", "F"}`` ((N,) float64 each, for the scatter plot) and the fit:
    ``"slope"`` (1 when the RBM has learned the Boltzmann weights), ``"slope_error"`` (its
    standard error, from the residual variance with N - 2 degrees of freedom), ``"offset"`` and
    ``"r2"`` (coefficient of determination; 1 when F is exactly linear in βH, and also reported as
    1 in the degenerate case of a constant F, which the line fits exactly). F is defined only up to
    the constant ``log Z``: the offset depends on the unknown partition functions and carries no
    meaning; only the slope and the scatter do. βH uses ``H = -J Σ_<ij> v_i v_j`` on the torus
    (2N bonds, no field) and β = 1/temperature. At least 3 configurations with at least two
    distinct energies are needed.
    """
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"The temperature must be a finite number > 0, got {temperature!r}.")
    if not math.isfinite(J):
        raise ValueError(f"The coupling J must be finite, got {J!r}.")
    F = free_energies(W, a, b, samples)
    if F.shape[0] < 3:
        raise ValueError(f"At least 3 configurations are needed for the fit, got {F.shape[0]}.")
    n_spins = np.asarray(samples).shape[1] ** 2
    beta_H = energies_per_spin(samples, J=J) * n_spins / temperature
    x = beta_H - beta_H.mean()
    y = F - F.mean()
    sxx = float(x @ x)
    if sxx <= 0.0:
        raise ValueError("All configurations have the same energy: the slope is undefined.")
    slope = float(x @ y) / sxx
    residuals = y - slope * x
    rss = float(residuals @ residuals)
    tss = float(y @ y)
    return {
        "beta_H": beta_H,
        "F": F,
        "slope": slope,
        "slope_error": math.sqrt(rss / (F.shape[0] - 2) / sxx),
        "offset": float(F.mean() - slope * beta_H.mean()),
        "r2": 1.0 - rss / tss if tss > 0.0 else 1.0,
    }


def coupling_features(samples) -> tuple[np.ndarray, tuple[str, ...]]:
    """The design matrix of the effective-coupling regression, and its column names.

    For each configuration (N, L, L) of ±1 on the torus, the float64 columns are
    ``"magnetization"`` Σ_i v_i; ``"nearest"`` Σ over the 2N nearest-neighbour bonds (right and
    down from each site); ``"next_nearest"`` Σ over the 2N diagonal pairs (down-right and
    down-left from each site); ``"plaquette"`` Σ over the N elementary squares of the product of
    their four spins. No intercept column: the fit adds it. On the L = 2 torus a pair is counted
    once per bond joining it (twice), consistent with the 2N-bond convention.
    """
    s = _lattice(samples)
    right = np.roll(s, -1, axis=2)
    down = np.roll(s, -1, axis=1)
    down_right = np.roll(down, -1, axis=2)
    down_left = np.roll(down, 1, axis=2)
    columns = (
        s.sum(axis=(1, 2)),
        (s * (right + down)).sum(axis=(1, 2)),
        (s * (down_right + down_left)).sum(axis=(1, 2)),
        (s * right * down * down_right).sum(axis=(1, 2)),
    )
    return np.stack(columns, axis=1), FEATURE_NAMES


def effective_couplings(W, a, b, samples) -> dict[str, tuple[float, float] | float]:
    """Effective couplings of F by ordinary least squares of -F(v) on the features (+ intercept).

    Fits ``-F(v) = c + field·Σv + K1·Σ_nn + K2·Σ_nnn + K4·Σ_□`` (columns of
    :func:`coupling_features`) over the configurations of the data. The sign makes K1 directly
    comparable with βJ (module doc). Returns ``{name: (coefficient, standard error)}`` for
    ``"field", "K1", "K2", "K4"`` and ``"residual_rms"`` (a float: the RMS residual of -F, in
    units of kT; 0 when F lies in the span of the features, as for the exact Ising RBM).

    Standard errors are the usual OLS ones, ``s² (XᵀX)⁻¹`` with ``s² = RSS / (N - p)``, p = 5 the
    number of fitted parameters; they describe how well the data's configurations pin the
    coefficients down, not a sampling error of the RBM. The columns are centred (absorbing the
    intercept) and scaled before a singular-value decomposition; when the data leave features
    exactly collinear (fewer distinct configurations than parameters, a constant feature), the
    coefficients that the data cannot determine are reported with their minimum-norm value and an
    infinite standard error. At least 6 configurations are needed.
    """
    F = free_energies(W, a, b, samples)
    X, _ = coupling_features(samples)
    n_samples, k = X.shape
    if n_samples < k + 2:
        raise ValueError(
            f"At least {k + 2} configurations are needed for {k + 1} parameters, got {n_samples}."
        )
    X = X - X.mean(axis=0)
    y = F.mean() - F  # -F, centred
    scale = np.sqrt((X * X).sum(axis=0))
    scale[scale == 0.0] = 1.0  # a constant feature: a zero column, unidentified below
    u, sv, vt = np.linalg.svd(X / scale, full_matrices=False)
    rank = int(np.count_nonzero(sv > _RANK_RTOL * sv[0]))
    u, sv, V = u[:, :rank], sv[:rank], vt[:rank].T
    coefficients = V @ ((u.T @ y) / sv)
    residuals = y - (X / scale) @ coefficients
    rss = float(residuals @ residuals)
    variance = rss / (n_samples - 1 - rank)
    errors = np.sqrt(variance * ((V / sv) ** 2).sum(axis=1))
    # A coefficient is determined by the data iff its unit vector lies in the row space of X.
    identified = (V**2).sum(axis=1) > 1.0 - 1e-8
    errors = np.where(identified, errors, np.inf)
    result: dict[str, tuple[float, float] | float] = {
        name: (float(c), float(e))
        for name, c, e in zip(COUPLING_NAMES, coefficients / scale, errors / scale, strict=True)
    }
    result["residual_rms"] = math.sqrt(rss / n_samples)
    return result
