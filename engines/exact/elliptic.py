"""Complete elliptic integrals K and E by the arithmetic-geometric mean, in numpy.

Onsager's energy and specific heat (:mod:`engines.exact.onsager`) need K and E of modulus k near
k = 1, written through the complementary parameter ``p = 1 - k²`` so that the logarithmic
singularity at T_c is resolved. ``scipy.special`` has them (``ellipkm1``, ``ellipe``), but
importing it costs about 0.1 s, and every ``simulate`` stores Onsager's values: the quadratically
converging AGM gives the same numbers to a few ulps (tests/engines/test_exact_elliptic.py compares
both over p from 1e-300 to 1) with no import at all.

* ``K = π / (2 M(1, √p))`` with M the arithmetic-geometric mean;
* ``E = K (1 - Σ_{n≥0} 2^{n-1} c_n²)`` with ``c_0² = k² = 1 - p`` and
  ``c_{n+1} = (a_n - b_n) / 2`` along the AGM (Abramowitz & Stegun 17.6), for p ≥ 1/2; below,
  where that form cancels, Legendre's relation through the complementary modulus.

``p = 0`` gives K = inf and E = 1; p must lie in [0, 1].
"""

from __future__ import annotations

import numpy as np

_MAX_STEPS = 40  # the AGM doubles its correct digits per step; 1e-300 needs about 11


def _agm(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """M(1, √p) and Σ 2^{n-1} c_n² (n ≥ 0, c_0² = q = 1 - p, passed apart so that a tiny q keeps
    its digits) elementwise, for p in (0, 1]."""
    a = np.ones_like(p)
    b = np.sqrt(p)
    total = 0.5 * q
    power = 0.5
    for _ in range(_MAX_STEPS):
        c = 0.5 * (a - b)
        power *= 2.0
        total = total + power * c * c
        a, b = 0.5 * (a + b), np.sqrt(a * b)
        if np.all(np.abs(a - b) <= 4.0 * np.spacing(a)):
            break
    return a, total


def _parameter(p) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=float)
    if np.any(~((p >= 0.0) & (p <= 1.0))):
        raise ValueError("The complementary parameter p = 1 - k² must lie in [0, 1].")
    return p, p > 0.0


def ellipk_complement(p):
    """K as a function of ``p = 1 - k²`` (scipy's ``ellipkm1``); inf at p = 0."""
    p, positive = _parameter(p)
    safe = np.where(positive, p, 1.0)
    m, _ = _agm(safe, 1.0 - safe)
    return np.where(positive, np.pi / (2.0 * m), np.inf)


def ellipe_complement(p):
    """E as a function of ``p = 1 - k²`` (scipy's ``ellipe(1 - p)``); 1 at p = 0."""
    p, positive = _parameter(p)
    safe = np.where(positive, p, 1.0)
    m, total = _agm(safe, 1.0 - safe)
    direct = np.pi / (2.0 * m) * (1.0 - total)
    # near k = 1 the direct form cancels (K large, 1 - Σ small); Legendre's relation with the
    # complementary modulus (K', E' of parameter p, no cancellation there) gives
    # E = π / (2 K') + K (K' - E') / K' = M(1, √(1-p)) + K Σ'
    m_c, total_c = _agm(1.0 - safe, safe)
    legendre = m_c + np.pi / (2.0 * m) * total_c
    return np.where(positive, np.where(safe < 0.5, legendre, direct), 1.0)


__all__ = ["ellipe_complement", "ellipk_complement"]
