"""Onsager's exact results for the infinite square-lattice Ising ferromagnet at zero field.

Conventions: H = -J sum_<ij> s_i s_j, J > 0, k_B = 1, K = J/T; quantities per spin.
With s = sinh 2K and the elliptic modulus k = 2 s / cosh^2 2K = 2 s / (1 + s^2)
(k = 1 exactly at T_c, where s = 1):

- ln Z / N = ln(2 cosh 2K) + (1/pi) int_0^{pi/2} ln[(1 + sqrt(1 - k^2 sin^2 phi)) / 2] dphi
- e = -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K1(k)]                        (Onsager 1944)
- c = (4/pi)(K coth 2K)^2 {K1(k) - E1(k) - (1 - tanh^2 2K)[pi/2 + (2 tanh^2 2K - 1) K1(k)]}
- m = (1 - s^-4)^(1/8) below T_c, 0 above                                    (Yang 1952)

K1, E1 are complete elliptic integrals of modulus k, computed by the AGM
(:mod:`engines.exact.elliptic`, equal to scipy's ``ellipkm1``/``ellipe`` to a few ulps, without
importing scipy.special). Near T_c they are evaluated through 1 - k^2 = (1 - s)^2 (1 + k) / (1 +
s^2), which has no cancellation, as functions of 1 - k^2, so the logarithmic singularity of c is
resolved down to |T - T_c| ~ 1e-15. Within two units in the last place of the float T_c the sign
of T - T_c is not known in floating point (T_c itself is rounded), so there 1 - k^2 is taken as
0: c is ``inf`` and the singular term of e vanishes, whatever the rounding of sinh 2K gives (it
can give 1 - k^2 a few 1e-32 above or, with other libm builds, a few 1e-16 below zero, where
scipy's ``ellipkm1`` returns nan).

At high temperature, J/T < 3e-3, e and c are the differences of terms of order J coth 2K that
cancel (digits lost like 1/K²: e comes out 0 at T = 10⁹ J) and 1/sinh 2K overflows at J/T ~
1e-308, so there they come from the high-temperature expansion instead,
ln Z / N = ln 2 + 2 ln cosh K + t^4 + 2 t^6 + O(t^8) with t = tanh K (the plaquettes and the
1 x 2 rectangles), whose truncation costs about 18 t^6 relative (1e-14 at K = 3e-3, where the
formula is good to about 1e-11).
"""

from __future__ import annotations

import numpy as np

from engines.exact import _common
from engines.exact.elliptic import ellipe_complement, ellipk_complement


def critical_temperature(J: float = 1.0) -> float:
    """Onsager's T_c = 2J / ln(1 + sqrt 2) (about 2.269185 J)."""
    J = _common.coupling(J, ferromagnetic=True)
    return 2.0 * J / np.log1p(np.sqrt(2.0))


_CRITICAL_ULPS = 2.0  # |T - T_c| within this many ulps of T_c counts as T = T_c
_HOT_K = 3e-3  # below it, e and c from the high-temperature expansion (module doc)


def _high_temperature(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d(ln Z/N)/dK and K^2 d^2(ln Z/N)/dK^2 from ln 2 + 2 ln cosh K + t^4 + 2 t^6 (module doc);
    dt/dK = 1 - t^2."""
    t = np.tanh(K)
    t2 = t * t
    d1 = 2.0 * t + (1.0 - t2) * t * t2 * (4.0 + 12.0 * t2)
    # d/dt of (1 - t^2)(4 t^3 + 12 t^5) = 12 t^2 + 40 t^4 - 84 t^6
    d2 = (1.0 - t2) * (2.0 + t2 * (12.0 + t2 * (40.0 - 84.0 * t2)))
    return d1, K * K * d2


def _elliptic_data(T, J):
    """K, 2 tanh^2 2K - 1, 1 - tanh^2 2K and 1 - k^2 (>= 0; 0 at T_c, module doc) for valid
    inputs."""
    T_arr, scalar = _common.temperatures(T)
    J = _common.coupling(J, ferromagnetic=True)
    t_c = critical_temperature(J)
    at_critical = np.abs(T_arr - t_c) <= _CRITICAL_ULPS * np.spacing(t_c)
    K = J / T_arr
    # sinh 2K = inf for K > ~355: a = 0 below is that limit; 1/s overflows for K < ~1e-308,
    # where a = s is kept (and e and c come from the high-temperature expansion).
    with np.errstate(over="ignore", divide="ignore"):
        s = np.sinh(2.0 * K)
        # Both 1 - k and 1 - tanh^2 2K are invariant under s -> 1/s; a = min(s, 1/s) <= 1
        # keeps every square finite at any K.
        a = np.minimum(s, 1.0 / s)
    one_minus_k = (1.0 - a) ** 2 / (1.0 + a**2)
    p = np.where(at_critical, 0.0, np.maximum(one_minus_k * (2.0 - one_minus_k), 0.0))  # 1 - k^2
    tanh2_term = np.sign(s - 1.0) * (1.0 - a**2) / (1.0 + a**2)  # 2 tanh^2 2K - 1
    sech2 = np.where(s > 1.0, a**2, 1.0) / (1.0 + a**2)  # 1 - tanh^2 2K
    return T_arr, scalar, J, K, tanh2_term, sech2, p


def spontaneous_magnetization(T, J: float = 1.0):
    """Spontaneous magnetization per spin (Yang): (1 - sinh(2K)^-4)^(1/8) below T_c, else 0."""
    T_arr, scalar = _common.temperatures(T)
    J = _common.coupling(J, ferromagnetic=True)
    K = J / T_arr
    # sinh(2K)^-4 = exp(-4 ln sinh 2K), computed without overflow at large K.
    with np.errstate(over="ignore", divide="ignore"):  # K -> 0: inside = -inf, m = 0
        log_s = 2.0 * K - np.log(2.0) + np.log(-np.expm1(-4.0 * K))
        inside = -np.expm1(-4.0 * log_s)
    m = np.where(inside > 0.0, np.abs(inside) ** 0.125, 0.0)
    return _common.shaped(m, scalar)


def energy_per_spin_infinite(T, J: float = 1.0):
    """Onsager's internal energy per spin e(T) (equals -sqrt(2) J at T_c)."""
    T_arr, scalar, J, K, tanh2_term, sech2, p = _elliptic_data(T, J)
    hot = K < _HOT_K
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # hot: replaced below
        k1 = ellipk_complement(p)
        singular = np.where(p > 0.0, tanh2_term * k1, 0.0)  # (T - T_c) ln|T - T_c| -> 0
        e = -J / np.tanh(2.0 * K) * (1.0 + (2.0 / np.pi) * singular)
    e = np.where(hot, -J * _high_temperature(K)[0], e)
    return _common.shaped(e, scalar)


def specific_heat_infinite(T, J: float = 1.0):
    """Onsager's specific heat per spin c(T) = de/dT.

    It diverges logarithmically at T_c; the value returned is ``inf`` at T_c (within two ulps
    of the float T_c, module doc) and finite, large, everywhere else (about 18 at 1e-15 from
    T_c).
    """
    T_arr, scalar, J, K, tanh2_term, sech2, p = _elliptic_data(T, J)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # hot: replaced below
        k1 = ellipk_complement(p)
        e1 = ellipe_complement(p)
        brace = k1 - e1 - sech2 * (np.pi / 2.0 + tanh2_term * k1)
        c = (4.0 / np.pi) * (K / np.tanh(2.0 * K)) ** 2 * brace
    c = np.where(p > 0.0, c, np.inf)
    c = np.where(K < _HOT_K, _high_temperature(K)[1], c)
    return _common.shaped(c, scalar)


def log_partition_function_infinite(T, J: float = 1.0):
    """Onsager's ln Z / N of the infinite lattice (by adaptive quadrature, ~1e-14 absolute)."""
    from scipy import integrate  # here: its import costs 0.2 s, and only ln Z needs it

    T_arr, scalar, J, K, _, _, p = _elliptic_data(T, J)

    def integral(p_value: float) -> float:
        def integrand(phi: float) -> float:
            # 1 - k^2 sin^2 phi = cos^2 phi + (1 - k^2) sin^2 phi, exact near T_c.
            root = np.sqrt(np.cos(phi) ** 2 + p_value * np.sin(phi) ** 2)
            return np.log1p(root) - np.log(2.0)

        return integrate.quad(integrand, 0.0, np.pi / 2.0, epsabs=1e-15, epsrel=1e-13)[0]

    log_2cosh = 2.0 * K + np.log1p(np.exp(-4.0 * K))
    values = log_2cosh + np.array([integral(v) for v in p]) / np.pi
    return _common.shaped(values, scalar)
