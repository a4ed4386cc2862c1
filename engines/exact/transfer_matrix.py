"""Exact magnetization distribution and thermodynamics of the L x L torus by row transfer matrix.

Conventions: H = -J sum_<ij> s_i s_j - h sum_i s_i over the 2N bonds of the periodic L x L
lattice (N = L^2; on the 2 x 2 torus each neighbour pair is joined by two bonds), k_B = 1,
beta = 1/T, K = J/T; any sign of J and h.

Method. Z = Tr T^L with the 2^L x 2^L row transfer matrix T, applied column by column (the
vertical bonds are a tensor product of 2 x 2 matrices, the row's own bonds are diagonal), so
one row costs O(L 2^L) per state instead of O(4^L). Instead of a complex field, the dynamic
programme carries the number n of up spins so far as an extra index; it runs at h = 0 and
the field is put in at the end as exp(beta h M), M = 2n - N, so one run serves every h.

Weights are written x^b with x = exp(-2|K|) <= 1 and b the number of "bad" bonds (unequal
spins for J >= 0, equal spins for J < 0): exp(K B) = exp(2N|K|) x^b. Alongside
W0(n) = sum x^b it carries W1(n) = sum b x^b and W2(n) = sum b^2 x^b, the exact first and
second derivatives in ln x, propagated by the product rule. Every quantity summed is
non-negative, so P(M) has full relative precision (even where it is 1e-200), nothing
overflows, and energy and specific heat are exact, not finite differences. One limit: every
state of an odd-L antiferromagnet (J < 0) has at least 2L bad bonds (each row and each column is
an odd cycle), so once x^(2L) underflows (|J|/T above about 745/(4L), e.g. T < 0.01 |J| at
L = 3) every weight is 0 and nothing is known: the results are NaN, without a warning.

The trace over the first row is reduced to one row per orbit of cyclic column shifts,
weighted by the orbit size (the torus is invariant under them). Cost for one temperature:
about 0.06 s for L = 8, 0.3 s for L = 9 and 1.7 s for L = 10 (numba, one thread, GIL
released; measured on a shared 2-core machine).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from engines.exact import _common
from engines.kernel_cache import cached_kernel

_MAX_L = 10


@cached_kernel(nogil=True, inline="always")
def _absorb(a0: float, a1: float, a2: float, d: int, f: float):
    """Multiply a weight x^b (and its b, b^2 moments) by x^d = f: returns the new moments."""
    return f * a0, f * (a1 + d * a0), f * (a2 + 2.0 * d * a1 + d * d * a0)


@cached_kernel(nogil=True)
def _vertical(A: np.ndarray, L: int, jhi: int, x: float, bad_same: int, bad_diff: int) -> None:
    """Apply the vertical bonds between the previous row and a new row, column by column."""
    f_same = x**bad_same
    f_diff = x**bad_diff
    for c in range(L):
        bit = 1 << c
        for lo in range(1 << L):
            if lo & bit:
                continue
            hi = lo | bit
            for j in range(jhi + 1):
                a0, a1, a2 = A[0, lo, j], A[1, lo, j], A[2, lo, j]
                b0, b1, b2 = A[0, hi, j], A[1, hi, j], A[2, hi, j]
                s0, s1, s2 = _absorb(a0, a1, a2, bad_same, f_same)
                t0, t1, t2 = _absorb(b0, b1, b2, bad_diff, f_diff)
                u0, u1, u2 = _absorb(b0, b1, b2, bad_same, f_same)
                v0, v1, v2 = _absorb(a0, a1, a2, bad_diff, f_diff)
                A[0, lo, j], A[1, lo, j], A[2, lo, j] = s0 + t0, s1 + t1, s2 + t2
                A[0, hi, j], A[1, hi, j], A[2, hi, j] = u0 + v0, u1 + v1, u2 + v2


@cached_kernel(nogil=True)
def _row_weights_and_shift(
    A: np.ndarray, jhi: int, x: float, horiz_bad: np.ndarray, n_up: np.ndarray
) -> None:
    """Weight each new row by its own (horizontal) bonds and add its up spins to the index."""
    for sigma in range(A.shape[1]):
        d = horiz_bad[sigma]
        f = x**d
        n = n_up[sigma]
        for j in range(jhi, -1, -1):
            w0, w1, w2 = _absorb(A[0, sigma, j], A[1, sigma, j], A[2, sigma, j], d, f)
            A[0, sigma, j + n], A[1, sigma, j + n], A[2, sigma, j + n] = w0, w1, w2
        for j in range(n):
            A[0, sigma, j] = 0.0
            A[1, sigma, j] = 0.0
            A[2, sigma, j] = 0.0


@cached_kernel(nogil=True)
def _moments_by_up_count(
    L: int,
    x: float,
    bad_same: int,
    bad_diff: int,
    horiz_bad: np.ndarray,
    n_up: np.ndarray,
    reps: np.ndarray,
    multiplicity: np.ndarray,
) -> np.ndarray:
    """W[k, n] = sum over states with n up spins of b^k x^b, k = 0, 1, 2."""
    N = L * L
    W = np.zeros((3, N + 1))
    A = np.zeros((3, 1 << L, N + 1))
    for q in range(reps.shape[0]):
        first = reps[q]
        A[:] = 0.0
        A[0, first, 0] = 1.0
        jhi = 0
        _row_weights_and_shift(A, jhi, x, horiz_bad, n_up)
        jhi += L
        for _ in range(L - 1):
            _vertical(A, L, jhi, x, bad_same, bad_diff)
            _row_weights_and_shift(A, jhi, x, horiz_bad, n_up)
            jhi += L
        _vertical(A, L, jhi, x, bad_same, bad_diff)  # last row back to the first
        for k in range(3):
            for j in range(N + 1):
                W[k, j] += multiplicity[q] * A[k, first, j]
    return W


@cache
def _row_tables(L: int):
    """Per row state: up spins, unequal horizontal bonds; rotation-orbit representatives."""
    sigma = np.arange(1 << L)
    bits = (sigma[:, None] >> np.arange(L)) & 1
    n_up = bits.sum(axis=1).astype(np.int64)
    unequal = (bits != np.roll(bits, -1, axis=1)).sum(axis=1).astype(np.int64)
    full = (1 << L) - 1
    canonical = sigma.copy()
    rotated = sigma.copy()
    for _ in range(L - 1):
        rotated = ((rotated << 1) | (rotated >> (L - 1))) & full
        canonical = np.minimum(canonical, rotated)
    reps, multiplicity = np.unique(canonical, return_counts=True)
    return n_up, unequal, reps.astype(np.int64), multiplicity.astype(np.float64)


def _moments(L: int, K: float) -> np.ndarray:
    """W[k, n] (see module docstring) for one coupling K = J/T."""
    n_up, unequal, reps, multiplicity = _row_tables(L)
    if K >= 0.0:
        bad_same, bad_diff, horiz_bad = 0, 1, unequal
    else:
        bad_same, bad_diff, horiz_bad = 1, 0, L - unequal
    x = float(np.exp(-2.0 * abs(K)))
    return _moments_by_up_count(L, x, bad_same, bad_diff, horiz_bad, n_up, reps, multiplicity)


def _validated(L, T, J, h):
    L = _common.lattice_size(L, 2, _MAX_L, "transfer matrix")
    T_arr, scalar = _common.temperatures(T)
    return L, T_arr, scalar, _common.coupling(J, ferromagnetic=False), _common.field(h)


def _field_weights(W0: np.ndarray, M: np.ndarray, beta_h: float):
    """exp(ln W0 + beta h M - top) and top, the largest exponent (W0 may underflow to 0).

    Where every W0 underflowed (module doc: an odd-L antiferromagnet, frustrated, at large
    |J|/T) nothing is known: NaN weights and top, quietly."""
    with np.errstate(divide="ignore"):
        log_w = np.log(W0) + beta_h * M
    top = log_w.max()
    if not np.isfinite(top):
        return np.full_like(log_w, np.nan), np.nan
    return np.exp(log_w - top), top


def magnetization_distribution(L: int, T, J: float = 1.0, h: float = 0.0):
    """Exact distribution of the total magnetization M of the L x L torus (L <= 10).

    Returns ``(M, P)``: ``M`` = -N, -N+2, ..., N (int64) and ``P[i]`` = Prob(M = M[i]), of
    shape (N+1,) for scalar T and (len(T), N+1) for an array of temperatures. Every P(M) is
    accurate to a few ulps relative, however small.
    """
    L, T_arr, scalar, J, h = _validated(L, T, J, h)
    N = L * L
    M = np.arange(-N, N + 1, 2)
    P = np.empty((len(T_arr), N + 1))
    for i, t in enumerate(T_arr):
        w, _ = _field_weights(_moments(L, J / t)[0], M, h / t)
        P[i] = w / w.sum()
    return M, _common.shaped(P, scalar)


def magnetization_moments(L: int, T, J: float = 1.0, h: float = 0.0) -> dict:
    """Exact moments of m = M/N on the L x L torus: keys abs_m, m2, m4, binder, chi.

    ``chi`` is the finite-lattice N(<m^2> - <|m|>^2)/T, ``binder`` 1 - <m^4>/(3 <m^2>^2).
    """
    M, P = magnetization_distribution(L, T, J, h)
    T_arr, scalar = _common.temperatures(T)
    out = _common.magnetization_moments_from(M.astype(float), np.atleast_2d(P), T_arr, L * L)
    return {key: _common.shaped(value, scalar) for key, value in out.items()}


def transfer_matrix_energy(L: int, T, J: float = 1.0, h: float = 0.0) -> dict:
    """Exact e = <H>/N, c = Var(H)/(N T^2) and ln Z of the L x L torus in a field (L <= 10).

    Derivatives are exact (carried through the transfer matrix), accurate to ~1e-14.
    """
    L, T_arr, scalar, J, h = _validated(L, T, J, h)
    N = L * L
    M = np.arange(-N, N + 1, 2).astype(float)
    out = {key: np.empty(len(T_arr)) for key in ("e", "c", "log_z")}
    for i, t in enumerate(T_arr):
        W = _moments(L, J / t)
        w, top = _field_weights(W[0], M, h / t)
        if not np.isfinite(top):  # every weight underflowed: nothing known (_field_weights)
            for key in out:
                out[key][i] = np.nan
            continue
        z = w.sum()
        p = w / z
        # Conditional moments of b given M, weighted like W0; where W0 underflowed, w is 0.
        scale = np.divide(w, W[0], out=np.zeros_like(w), where=W[0] > 0.0)
        mean_b = (scale * W[1]).sum() / z
        mean_b2 = (scale * W[2]).sum() / z
        mean_bm = (scale * W[1] * M).sum() / z
        mean_m = p @ M
        var_b = mean_b2 - mean_b**2
        cov_bm = mean_bm - mean_b * mean_m
        var_m = p @ (M - mean_m) ** 2
        # H = -2N|J| + 2|J| b - h M
        out["e"][i] = (-2.0 * N * abs(J) + 2.0 * abs(J) * mean_b - h * mean_m) / N
        var_h = 4.0 * J**2 * var_b - 4.0 * abs(J) * h * cov_bm + h**2 * var_m
        out["c"][i] = var_h / (N * t**2)
        out["log_z"][i] = 2.0 * N * abs(J) / t + top + np.log(z)
    return {key: _common.shaped(value, scalar) for key, value in out.items()}
