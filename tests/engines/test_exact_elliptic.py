"""The AGM elliptic integrals against scipy.special (an independent implementation, Cephes)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from engines.exact.elliptic import ellipe_complement, ellipk_complement

P = np.concatenate([[1e-300, 1e-200, 1e-100, 1e-32, 1e-16], np.logspace(-15, 0, 400)])


def test_k_matches_scipy_ellipkm1_to_a_few_ulps() -> None:
    np.testing.assert_allclose(ellipk_complement(P), special.ellipkm1(P), rtol=1e-14, atol=0)


def test_e_matches_scipy_ellipe_to_a_few_ulps() -> None:
    np.testing.assert_allclose(ellipe_complement(P), special.ellipe(1.0 - P), rtol=1e-14, atol=0)


def test_known_values_and_the_singular_end() -> None:
    # k = 0 (p = 1): K = E = π/2; k = 1 (p = 0): K = inf, E = 1; Legendre's relation at k² = 1/2
    assert ellipk_complement(1.0) == pytest.approx(np.pi / 2, rel=1e-15)
    assert ellipe_complement(1.0) == pytest.approx(np.pi / 2, rel=1e-15)
    assert ellipk_complement(0.0) == np.inf and ellipe_complement(0.0) == 1.0
    K, E = ellipk_complement(0.5), ellipe_complement(0.5)
    legendre = 2 * E * K - K * K
    assert legendre == pytest.approx(np.pi / 2, rel=1e-14)


@pytest.mark.parametrize("bad", [-1e-18, 1.5, np.nan])
def test_outside_the_range_is_an_error(bad: float) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        ellipk_complement(np.array([0.5, bad]))
