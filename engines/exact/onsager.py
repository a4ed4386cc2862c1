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


def _elliptic_data(T, J):
    """K, 2 tanh^2 2K - 1, 1 - tanh^2 2K and 1 - k^2 (>= 0; 0 at T_c, module doc) for valid
    inputs."""
    T_arr, scalar = _common.temperatures(T)
    J = _common.coupling(J, ferromagnetic=True)
    t_c = critical_temperature(J)
    at_critical = np.abs(T_arr - t_c) <= _CRITICAL_ULPS * np.spacing(t_c)
    K = J / T_arr
    with np.errstate(over="ignore"):  # sinh 2K = inf for K > ~355: a = 0 below is that limit
        s = np.sinh(2.0 * K)
    # Both 1 - k and 1 - tanh^2 2K are invariant under s -> 1/s; a = min(s, 1/s) <= 1 keeps
    # every square finite at any K.
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
    log_s = 2.0 * K - np.log(2.0) + np.log(-np.expm1(-4.0 * K))
    inside = -np.expm1(-4.0 * log_s)
    m = np.where(inside > 0.0, np.abs(inside) ** 0.125, 0.0)
    return _common.shaped(m, scalar)


def energy_per_spin_infinite(T, J: float = 1.0):
    """Onsager's internal energy per spin e(T) (equals -sqrt(2) J at T_c)."""
    T_arr, scalar, J, K, tanh2_term, sech2, p = _elliptic_data(T, J)
    with np.errstate(divide="ignore", invalid="ignore"):
        k1 = ellipk_complement(p)
        singular = np.where(p > 0.0, tanh2_term * k1, 0.0)  # (T - T_c) ln|T - T_c| -> 0
    e = -J / np.tanh(2.0 * K) * (1.0 + (2.0 / np.pi) * singular)
    return _common.shaped(e, scalar)


def specific_heat_infinite(T, J: float = 1.0):
    """Onsager's specific heat per spin c(T) = de/dT.

    It diverges logarithmically at T_c; the value returned is ``inf`` at T_c (within two ulps
    of the float T_c, module doc) and finite, large, everywhere else (about 18 at 1e-15 from
    T_c).
    """
    T_arr, scalar, J, K, tanh2_term, sech2, p = _elliptic_data(T, J)
    with np.errstate(divide="ignore", invalid="ignore"):
        k1 = ellipk_complement(p)
        e1 = ellipe_complement(p)
        brace = k1 - e1 - sech2 * (np.pi / 2.0 + tanh2_term * k1)
        c = (4.0 / np.pi) * (K / np.tanh(2.0 * K)) ** 2 * brace
    c = np.where(p > 0.0, c, np.inf)
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
