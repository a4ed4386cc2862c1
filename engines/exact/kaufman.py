"""Kaufman's exact partition function of the finite L x L periodic Ising lattice (h = 0).

Conventions: H = -J sum_<ij> s_i s_j over the 2N nearest-neighbour bonds of the torus
(N = L^2, each site bonded to its right and lower neighbour, with wrap; on the 2 x 2 torus every
neighbour pair is therefore joined by two bonds), k_B = 1, K = J/T, J > 0.

Kaufman (1949), in the form of Ferdinand & Fisher (1969) and Beale (1996)::

    Z = 1/2 (2 sinh 2K)^(N/2) (Z1 + Z2 + Z3 + Z4)
    Z1 = prod_{r=0}^{L-1} 2 cosh(L g_{2r+1} / 2)     Z2 = prod_{r=0}^{L-1} 2 sinh(L g_{2r+1} / 2)
    Z3 = prod_{r=0}^{L-1} 2 cosh(L g_{2r}   / 2)     Z4 = prod_{r=0}^{L-1} 2 sinh(L g_{2r}   / 2)
    cosh g_l = cosh 2K coth 2K - cos(pi l / L)   (g_l > 0 for l >= 1)
    g_0 = 2K + ln tanh K = 2(K - K*)             (signed: negative above T_c, zero at T_c)

so Z4 < 0 above T_c (where Z3 + Z4 > 0 still) and Z4 = 0 exactly at T_c.

Everything is evaluated in log space, and the four terms are combined by a signed log-sum-exp,
so the result is finite and smooth for L up to thousands and J/T up to 300. Beyond J/T = 300 the
lattice is in its two ground states to double precision (the lightest excitation, one flipped
spin, has relative weight N e^{-8K} < N e^{-2400}), so ln Z = 2NK + ln 2, e = -2J and c = 0 are
returned exactly there: every T > 0 has a value, and the formula's own range is never exceeded.

At the other end, J/T < 1e-4, the formula cancels: d ln Z/dK is the difference of two terms of
order N/(2K) (N coth 2K and the products' derivative), which costs digits like 1/K² (a 1e-4
relative error at T = 10⁶ J, the wrong sign at 10⁹ J) and overflows (1/sinh² 2K) at J/T ~ 1e-154.
There the high-temperature expansion is used instead, ln Z = N ln 2 + κ₂K²/2 + κ₃K³/6 + κ₄K⁴/24
+ O(K⁵), with the cumulants of the bond sum of independent spins, read off the loop expansion
Z = 2^N cosh^{2N}K Σ_G tanh^{|G|}K: κ₂ = 2N (4N on the 2 x 2 torus, whose bonds come in
parallel pairs); κ₃ = 36 on the 3 x 3 torus (its 6 wrapping lines of 3 bonds), 0 on every other
(even L: bipartite; odd L ≥ 5: no odd loop shorter than L); κ₄ = 20N, 32N at
L = 4 (its 8 wrapping lines of 4 bonds), 64N at L = 2. At K = 1e-4 the truncation costs about
1e-11 relative (L = 3, from κ₅) and the formula above about 1e-8; below, both shrink.

Energy and specific heat come from analytic K-derivatives of ln Z. Each product is split into
its first factor g(u_f) (u = L g_l / 2, l = 0 or 1) and the rest R, whose logarithmic
derivatives are regular; the only singular factor, sinh(u_0) at T_c, is handled by combining
Z4' = [g'(u_0) u_0' + g(u_0) S] R analytically, so no coth(u_0) is ever formed. The second
derivative is assembled in centred form, sum_i Z_i''/Z - (Z'/Z)^2 without the O(N^2)
cancellation.

Accuracy (checked against enumeration, the transfer matrix and 8th-order finite differences):
ln Z to ~1e-14 relative, e to ~1e-14 absolute, c to ~1e-15 K^2 absolute (so at T << J it may
come out as a tiny negative number, ~ -4e-13 at T = 0.05 J).
"""

from __future__ import annotations

import numpy as np

from engines.exact import _common

_MAX_K = 300.0  # sinh(2K) must stay inside double precision; beyond it, the ground state
_HOT_K = 1e-4  # below it, the high-temperature expansion (module doc)


def _validated(L, T, J) -> tuple[int, np.ndarray, bool]:
    L = _common.lattice_size(L, 2, None, "Kaufman's formula")
    T_arr, scalar = _common.temperatures(T)
    J = _common.coupling(J, ferromagnetic=True)
    return L, J / T_arr, scalar


def _high_temperature(L: int, K: np.ndarray) -> list[np.ndarray]:
    """[ln Z, d ln Z/dK, d^2 ln Z/dK^2] by the high-temperature expansion (module doc)."""
    N = L * L
    k2 = 4.0 * N if L == 2 else 2.0 * N
    k3 = 36.0 if L == 3 else 0.0
    k4 = {2: 64.0, 4: 32.0}.get(L, 20.0) * N
    return [
        N * np.log(2.0) + K * K * (k2 / 2.0 + K * (k3 / 6.0 + K * k4 / 24.0)),
        K * (k2 + K * (k3 / 2.0 + K * k4 / 6.0)),
        k2 + K * (k3 + K * k4 / 2.0),
    ]


def _with_limits(L: int, K: np.ndarray, order: int) -> list[np.ndarray]:
    """:func:`_derivatives` for ``_HOT_K`` <= J/T <= ``_MAX_K``, the ground state's exact values
    beyond, the high-temperature expansion below."""
    N = L * L
    cold = K > _MAX_K
    hot = K < _HOT_K
    out = [2.0 * N * K + np.log(2.0), np.full_like(K, 2.0 * N), np.zeros_like(K)][: order + 1]
    for values, series in zip(out, _high_temperature(L, K[hot]), strict=False):
        values[hot] = series
    warm = ~(cold | hot)
    if np.any(warm):
        for values, computed in zip(out, _derivatives(L, K[warm], order), strict=True):
            values[warm] = computed
    return out


def _factor_terms(u: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    """Log-magnitude, sign and log-derivative data of g(u) = 2 cosh u or 2 sinh u.

    Returns ``log`` = ln|g|, ``sign`` of g, ``log_d`` = ln|g_u| and ``sign_d`` of g_u = dg/du,
    ``h`` = g_u / g and ``h_u`` = d^2 ln g / du^2 (the latter two only where g != 0).
    """
    a = np.abs(u)
    t = np.exp(-2.0 * a)
    one_minus_t = -np.expm1(-2.0 * a)
    sgn = np.sign(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_cosh = a + np.log1p(t)
        log_sinh = a + np.log(one_minus_t)
        if kind == "cosh":
            return {
                "log": log_cosh,
                "sign": np.ones_like(u),
                "log_d": log_sinh,
                "sign_d": sgn,
                "h": sgn * one_minus_t / (1.0 + t),
                "h_u": 4.0 * t / (1.0 + t) ** 2,
            }
        return {
            "log": log_sinh,
            "sign": sgn,
            "log_d": log_cosh,
            "sign_d": np.ones_like(u),
            "h": sgn * (1.0 + t) / one_minus_t,
            "h_u": -4.0 * t / one_minus_t**2,
        }


def _gammas(L: int, K: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """g_l, dg_l/dK and d^2 g_l/dK^2 for l = 0 .. 2L-1; arrays of shape (len(K), 2L)."""
    K = K[:, None]
    s = np.sinh(2.0 * K)
    ch = np.cosh(2.0 * K)
    l = np.arange(2 * L)
    # cosh g_l - 1 = (1 - s)^2 / s + 2 sin^2(pi l / 2L): a sum of two non-negative terms,
    # so g_l is accurate even where it is small (near T_c, small l).
    delta = (1.0 - s) * ((1.0 - s) / s) + 2.0 * np.sin(np.pi * l / (2 * L)) ** 2
    sinh_g = np.sqrt(delta) * np.sqrt(delta + 2.0)
    g = np.log1p(delta + sinh_g)
    # c(K) = cosh 2K coth 2K and its K-derivatives.
    c1 = 2.0 * ch * (1.0 - (1.0 / s) ** 2)
    c2 = 4.0 * s - 4.0 / s + 8.0 * (ch / s) ** 2 / s
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = c1 / sinh_g
        g2 = (c2 - (1.0 + delta) * g1**2) / sinh_g
    # l = 0 keeps its sign and has a closed form.
    g[:, 0] = (2.0 * K + np.log(np.tanh(K)))[:, 0]
    g1[:, 0] = (2.0 + 2.0 / s)[:, 0]
    g2[:, 0] = (-4.0 * (ch / s) / s)[:, 0]
    return g, g1, g2


def _derivatives(L: int, K: np.ndarray, order: int) -> list[np.ndarray]:
    """[ln Z, d ln Z/dK, d^2 ln Z/dK^2][: order + 1] for each K."""
    N = L * L
    g, g1, g2 = _gammas(L, K)
    u, u1, u2 = 0.5 * L * g, 0.5 * L * g1, 0.5 * L * g2
    s = np.sinh(2.0 * K)
    log_prefactor = -np.log(2.0) + 0.5 * N * (2.0 * K + np.log(-np.expm1(-4.0 * K)))

    # The four products: (parity of l, kind of factor). First factor l = 0 or 1, the rest R.
    terms = []
    for parity, kind in ((1, "cosh"), (1, "sinh"), (0, "cosh"), (0, "sinh")):
        cols = slice(parity, 2 * L, 2)
        uf, uf1, uf2 = u[:, cols][:, 0], u1[:, cols][:, 0], u2[:, cols][:, 0]
        rest = _factor_terms(u[:, cols][:, 1:], kind)
        first = _factor_terms(uf, kind)
        ur1, ur2 = u1[:, cols][:, 1:], u2[:, cols][:, 1:]
        terms.append(
            {
                "first": first,
                "log_R": rest["log"].sum(axis=1),  # every rest factor is positive
                "S": (ur1 * rest["h"]).sum(axis=1),
                "V": (ur2 * rest["h"] + ur1**2 * rest["h_u"]).sum(axis=1),
                "uf1": uf1,
                "uf2": uf2,
            }
        )

    # Signed log-sum-exp. Weights are formed as exp(log_R - top + log g)/total, never through
    # the rounded ln(sum), which at L ~ 10^3 would cost nine digits.
    top = np.max([t["first"]["log"] + t["log_R"] for t in terms], axis=0)
    total = sum(t["first"]["sign"] * np.exp(t["log_R"] - top + t["first"]["log"]) for t in terms)
    out = [log_prefactor + top + np.log(total)]
    if order == 0:
        return out
    w_g = [t["first"]["sign"] * np.exp(t["log_R"] - top + t["first"]["log"]) / total for t in terms]
    w_d = [
        t["first"]["sign_d"] * np.exp(t["log_R"] - top + t["first"]["log_d"]) / total for t in terms
    ]
    d_bar = sum(wd * t["uf1"] + wg * t["S"] for t, wg, wd in zip(terms, w_g, w_d, strict=True))
    out.append(N * np.cosh(2.0 * K) / s + d_bar)
    if order == 1:
        return out

    d2 = sum(
        wg * (t["uf1"] ** 2 + t["V"] + (t["S"] - d_bar) ** 2)
        + wd * (t["uf2"] + 2.0 * t["uf1"] * (t["S"] - d_bar))
        for t, wg, wd in zip(terms, w_g, w_d, strict=True)
    )
    out.append(-2.0 * N * (1.0 / s) ** 2 + d2)
    return out


def log_partition_function(L: int, T, J: float = 1.0):
    """Exact ln Z of the L x L periodic lattice at temperature(s) T, zero field (Kaufman 1949)."""
    L, K, scalar = _validated(L, T, J)
    return _common.shaped(_with_limits(L, K, 0)[0], scalar)


def energy_per_spin(L: int, T, J: float = 1.0):
    """Exact e = <H>/N = -(J/N) d ln Z/dK of the L x L torus, zero field."""
    L, K, scalar = _validated(L, T, J)
    d1 = _with_limits(L, K, 1)[1]
    return _common.shaped(-J * d1 / (L * L), scalar)


def specific_heat_per_spin(L: int, T, J: float = 1.0):
    """Exact c = (<H^2> - <H>^2)/(N T^2) = (K^2/N) d^2 ln Z/dK^2 of the L x L torus, zero field."""
    L, K, scalar = _validated(L, T, J)
    d2 = _with_limits(L, K, 2)[2]
    return _common.shaped(K**2 * d2 / (L * L), scalar)
