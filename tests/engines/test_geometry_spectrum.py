"""The Wishart spectrum of W Wᵀ, the Marchenko–Pastur law, outliers, spin covariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate

from engines.geometry.spectrum import (
    MP_FIT_COLUMNS,
    MarchenkoPastur,
    eigenvector_images,
    fit_marchenko_pastur,
    spin_covariance,
    wishart_spectrum,
)
from engines.rbm.ising_construction import ising_rbm

N_INIT, M_INIT, STD = 1024, 256, 0.01  # the trainer's initialization (RBM.random, std 0.01)
# KS tolerance: the empirical CDF of m eigenvalues jumps by 1/m, bulk eigenvalues are rigid to
# O(log m / m) in CDF units and the edge fluctuates by m^(-2/3) in x, i.e. 1/m in CDF units:
# KS = O(few/m). Measured over 30 seeds: mean 2.7/m, max 3.7/m; 6/m is the bound.
KS_TOL = 6.0 / M_INIT


@pytest.mark.parametrize(("n", "m"), [(1024, 256), (120, 120), (50, 200), (7, 3)])
def test_mp_density_integrates_to_one_and_cdf_is_its_integral(n, m):
    law = MarchenkoPastur(n, m, 0.37)
    a, b = law.edges
    big, small = max(n, m), min(n, m)
    assert a == pytest.approx(0.37 * (math.sqrt(big) - math.sqrt(small)) ** 2, rel=1e-14, abs=1e-14)
    assert b == pytest.approx(0.37 * (math.sqrt(big) + math.sqrt(small)) ** 2, rel=1e-14)
    total, err = scipy.integrate.quad(law.pdf, a, b, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8 + err)
    for x in np.linspace(a, b, 9)[1:-1]:
        partial, err = scipy.integrate.quad(law.pdf, a, x, limit=200)
        assert law.cdf(x) == pytest.approx(partial, abs=1e-8 + err)
    assert law.cdf(a - 1e-9 * b) == 0.0 and law.cdf(b * (1 + 1e-12)) == 1.0
    assert law.pdf(np.array([a - 1.0, b + 1.0])).tolist() == [0.0, 0.0]


def _init_weights(seed: int) -> np.ndarray:
    return STD * np.random.default_rng(seed).standard_normal((N_INIT, M_INIT))


@pytest.mark.parametrize("seed", [0, 1])
def test_initialization_fits_marchenko_pastur_without_outliers(seed):
    spectrum = wishart_spectrum(_init_weights(seed))
    given = fit_marchenko_pastur(spectrum, std=STD)
    fitted = fit_marchenko_pastur(spectrum)
    assert not given.scale_fitted and fitted.scale_fitted
    # ‖W‖²_F / (nm s²) has std sqrt(2/(nm)) = 0.0028: 5 sigma
    spread = math.sqrt(2 / (N_INIT * M_INIT))
    assert fitted.law.scale2 / STD**2 == pytest.approx(1.0, abs=5 * spread)
    for fit in (given, fitted):
        assert fit.ks < KS_TOL
        assert fit.n_outliers == 0
    assert given.row().shape == (len(MP_FIT_COLUMNS),)
    assert given.row()[MP_FIT_COLUMNS.index("ks")] == given.ks


def test_wrong_scale_is_a_bad_fit():
    """A 5% error in s moves every eigenvalue by 10%: KS ≈ 0.07, well above the tolerance."""
    spectrum = wishart_spectrum(_init_weights(2))
    assert fit_marchenko_pastur(spectrum, std=1.05 * STD).ks > 2 * KS_TOL


def test_planted_spike_is_an_outlier_with_its_direction():
    """BBP: W = s G + θ s √n u hᵀ; for θ = 2 > y^(1/4) the top eigenvalue → n s² (θ + 1/θ)(θ + y/θ)
    and |⟨u, û⟩|² → (θ⁴ - y)/(θ⁴ + θ²) = 0.7875 (the eigenvector in the larger dimension).
    Measured finite-size spread over 8 seeds: 0.025 (eigenvalue ratio), 0.009 (overlap)."""
    rng = np.random.default_rng(3)
    theta, y = 2.0, M_INIT / N_INIT
    u = rng.standard_normal(N_INIT)
    u /= np.linalg.norm(u)
    h = rng.standard_normal(M_INIT)
    h /= np.linalg.norm(h)
    W = _init_weights(4) + theta * STD * math.sqrt(N_INIT) * np.outer(u, h)
    spectrum = wishart_spectrum(W)
    for fit in (fit_marchenko_pastur(spectrum, std=STD), fit_marchenko_pastur(spectrum)):
        assert fit.n_outliers == 1
    top = N_INIT * STD**2 * (theta + 1 / theta) * (theta + y / theta)
    assert spectrum.values[0] / top == pytest.approx(1.0, abs=0.1)
    overlap = float(spectrum.vectors[:, 0] @ u) ** 2
    assert overlap == pytest.approx((theta**4 - y) / (theta**4 + theta**2), abs=0.05)
    image = eigenvector_images(spectrum, 1)[0]
    assert image.shape == (32, 32)
    assert abs(float(image.ravel() @ u)) == pytest.approx(math.sqrt(overlap), rel=1e-12)


@pytest.mark.parametrize(("L", "J"), [(4, 1.0), (6, 1.0), (4, -1.0)])
def test_exact_ising_rbm_spectrum(L, J):
    """W Wᵀ = w²(4I ± A): eigenvalues w²(4 + 2cos(2πk_x/L) + 2cos(2πk_y/L)) (the set is the same
    for 4I - A on even L: k → k + L/2 flips both cosines)."""
    W = ising_rbm(L, 2.3, J=J).W.detach().numpy()
    w = float(np.max(np.abs(W)))
    k = 2 * np.pi * np.arange(L) / L
    exact = np.sort((w * w * (4 + 2 * np.cos(k)[:, None] + 2 * np.cos(k)[None, :])).ravel())[::-1]
    spectrum = wishart_spectrum(W)
    assert spectrum.values.shape == (L * L,)
    assert np.max(np.abs(spectrum.values - exact)) <= 1e-10 * exact[0]
    assert spectrum.rank == L * L - 1  # the (π, π) mode has eigenvalue 0
    assert spectrum.eigenvalues.shape == (2 * L * L,)
    assert np.all(spectrum.eigenvalues[L * L :] == 0) and spectrum.condition == math.inf


@pytest.mark.parametrize(("n", "m"), [(30, 8), (8, 30)])
def test_spectrum_matches_eigenvalues_of_wtw(n, m):
    W = np.random.default_rng(5).standard_normal((n, m))
    spectrum = wishart_spectrum(W)
    expected = np.linalg.eigvalsh(W.T @ W)[::-1]
    np.testing.assert_allclose(spectrum.eigenvalues, expected, rtol=0, atol=1e-12 * expected[0])
    U = spectrum.vectors
    np.testing.assert_allclose((U * spectrum.values) @ U.T, W @ W.T, atol=1e-12 * expected[0])


def test_rank_and_condition():
    rng = np.random.default_rng(6)
    low = rng.standard_normal((20, 3)) @ rng.standard_normal((3, 8))
    spectrum = wishart_spectrum(low)
    assert spectrum.rank == 3 and spectrum.condition == math.inf
    full = rng.standard_normal((20, 8))
    s = np.linalg.svd(full, compute_uv=False)
    assert wishart_spectrum(full).rank == 8
    assert wishart_spectrum(full).condition == pytest.approx((s[0] / s[-1]) ** 2, rel=1e-12)


def test_eigenvector_images_fix_signs_and_shape():
    W = np.random.default_rng(7).standard_normal((16, 5))
    spectrum = wishart_spectrum(W)
    images = eigenvector_images(spectrum, 3)
    assert images.shape == (3, 4, 4)
    for k in range(3):
        v = images[k].ravel()
        assert abs(v @ spectrum.vectors[:, k]) == pytest.approx(1.0, rel=1e-12)
        assert v[np.argmax(np.abs(v))] > 0
    with pytest.raises(ValueError, match="lattice"):
        eigenvector_images(wishart_spectrum(np.ones((15, 2))), 1)


def test_spin_covariance():
    rng = np.random.default_rng(8)
    configs = rng.choice([-1, 1], size=(500, 3, 3)).astype(np.int8)
    flat = configs.reshape(500, 9).astype(float)
    second = spin_covariance(configs)
    np.testing.assert_array_equal(np.diag(second), np.ones(9))
    np.testing.assert_allclose(second, flat.T @ flat / 500, rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        spin_covariance(flat, centred=True), np.cov(flat.T, bias=True), rtol=0, atol=1e-14
    )
    with pytest.raises(ValueError, match="±1"):
        spin_covariance(np.zeros((4, 9)))
