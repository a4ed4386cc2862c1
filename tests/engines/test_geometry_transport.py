"""Gaussian optimal transport (Brenier map, Monge–Ampère residual) and empirical OT of ±1 sets."""

from __future__ import annotations

import itertools

import numpy as np
import ot
import pytest
from scipy.optimize import linprog

from engines.geometry.empirical_ot import (
    configuration_wasserstein,
    distance_to_data,
    hamming_cost,
    wasserstein_1d,
)
from engines.geometry.gaussian_ot import (
    CenteredGaussian,
    brenier_map,
    gaussian_transport_check,
    latent_covariance,
    latent_transport_check,
    regularized,
    wasserstein2_squared,
)

# The threshold for the Gaussian Monge–Ampère residual (relative to |log ρ₀|) and for
# T Σ₀ T = Σ₁; rounding gives about 1e-15 at n ≤ 50 and ≲ 1e-13 in the Theorem-1 case below.
GAUSSIAN_TOLERANCE = 1e-10


def random_spd(n: int, condition: float, rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.logspace(0.0, np.log10(condition), n) * rng.uniform(0.1, 10.0)
    return (q * lam) @ q.T


def correlated_spins(count: int, L: int, rng: np.random.Generator) -> np.ndarray:
    """(count, L, L) ±1 configurations with short-range correlations (signs of smoothed noise)."""
    g = rng.standard_normal((count, L, L))
    g = g + np.roll(g, 1, 1) + np.roll(g, 1, 2) + 0.5 * np.roll(g, (1, 1), (1, 2))
    return np.where(g >= 0, 1, -1).astype(np.int8)


# --------------------------------------------------------------------------- Gaussian OT
@pytest.mark.parametrize("n", [10, 30, 50])
def test_brenier_map_on_random_covariances(n):
    rng = np.random.default_rng(n)
    s0, s1 = random_spd(n, 100.0, rng), random_spd(n, 100.0, rng)
    g0, g1 = CenteredGaussian.from_covariance(s0), CenteredGaussian.from_covariance(s1)
    T = brenier_map(g0, g1)
    assert np.array_equal(T, T.T)
    assert np.linalg.eigvalsh(T)[0] > 0
    A, _ = ot.gaussian.bures_wasserstein_mapping(np.zeros(n), np.zeros(n), s0, s1)
    np.testing.assert_allclose(T, A, rtol=0, atol=GAUSSIAN_TOLERANCE * np.max(np.abs(T)))
    w2 = ot.gaussian.bures_wasserstein_distance(np.zeros(n), np.zeros(n), s0, s1) ** 2
    scale = np.trace(s0) + np.trace(s1)  # the size of the terms that cancel in W₂²
    assert wasserstein2_squared(g0, g1) == pytest.approx(w2, abs=GAUSSIAN_TOLERANCE * scale)

    check = gaussian_transport_check(g0, g1, n_points=500, seed=1)
    assert check.relative_residual < GAUSSIAN_TOLERANCE
    assert check.pushforward_error < GAUSSIAN_TOLERANCE
    assert check.displacement == pytest.approx(check.w2_squared, abs=GAUSSIAN_TOLERANCE * scale)
    # The sample mean of ‖Tx − x‖² is a mean of 500 iid draws: within 5 standard errors.
    assert abs(check.displacement_sample - check.w2_squared) < 5 * check.displacement_sample_error
    assert check.log_det_map == pytest.approx(0.5 * (g1.log_det - g0.log_det), abs=1e-10 * n)


def test_commuting_covariances_have_the_closed_form():
    a = np.array([0.5, 1.0, 2.0, 9.0])
    b = np.array([2.0, 1.0, 0.5, 4.0])
    g0 = CenteredGaussian.from_covariance(np.diag(a))
    g1 = CenteredGaussian.from_covariance(np.diag(b))
    np.testing.assert_allclose(brenier_map(g0, g1), np.diag(np.sqrt(b / a)), rtol=1e-14, atol=0)
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert wasserstein2_squared(g0, g1) == pytest.approx(expected, abs=1e-14 * np.sum(a + b))


def test_log_density_is_the_gaussian_density():
    rng = np.random.default_rng(2)
    s = random_spd(4, 10.0, rng)
    g = CenteredGaussian.from_covariance(s)
    x = rng.standard_normal((6, 4))
    direct = -0.5 * np.einsum("ij,jk,ik->i", x, np.linalg.inv(s), x) - 0.5 * np.log(
        np.linalg.det(2 * np.pi * s)
    )
    np.testing.assert_allclose(g.log_density(x), direct, rtol=1e-12)


def test_same_gaussian_is_transported_by_the_identity():
    rng = np.random.default_rng(4)
    g = CenteredGaussian.from_covariance(random_spd(20, 10.0, rng))
    check = gaussian_transport_check(g, g, n_points=100)
    np.testing.assert_allclose(brenier_map(g, g), np.eye(20), rtol=0, atol=1e-12)
    assert check.w2_squared < 1e-12 * np.trace(g.covariance)
    assert check.max_abs_residual < 1e-11


def test_theorem_one_latent_picture_against_data():
    rng = np.random.default_rng(5)
    L, m = 16, 64  # n = 256 with the paper's ratio m/n = 1/4
    n = L * L
    data = correlated_spins(2000, L, rng).reshape(2000, n).astype(np.float64)
    data_gaussian = CenteredGaussian.from_covariance(np.cov(data, rowvar=False))
    W = rng.standard_normal((n, m)) * 0.1
    epsilon = 1e-3
    check = latent_transport_check(W, data_gaussian, epsilon=epsilon, n_points=500, seed=0)
    assert check.epsilon == epsilon
    assert check.dim == n
    assert check.relative_residual < GAUSSIAN_TOLERANCE
    assert check.pushforward_error < GAUSSIAN_TOLERANCE
    source = CenteredGaussian.from_covariance(W @ W.T + epsilon * np.eye(n))
    scale = np.trace(source.covariance) + np.trace(data_gaussian.covariance)
    assert check.w2_squared == pytest.approx(
        wasserstein2_squared(source, data_gaussian), abs=1e-12 * scale
    )
    assert check.displacement == pytest.approx(check.w2_squared, abs=GAUSSIAN_TOLERANCE * scale)
    assert abs(check.displacement_sample - check.w2_squared) < 5 * check.displacement_sample_error


def test_singular_covariances_need_an_explicit_epsilon():
    W = np.random.default_rng(6).standard_normal((30, 5))
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        latent_covariance(W, 0.0)
    with pytest.raises(ValueError, match="singular"):
        CenteredGaussian.from_covariance(W @ W.T)
    sigma = latent_covariance(W, 0.5)
    np.testing.assert_allclose(sigma, W @ W.T + 0.5 * np.eye(30), rtol=1e-15)
    np.testing.assert_allclose(np.linalg.eigvalsh(sigma)[:25], 0.5, rtol=1e-12)
    np.testing.assert_array_equal(regularized(W @ W.T, 0.5), sigma)
    with pytest.raises(ValueError, match="symmetric"):
        CenteredGaussian.from_covariance(np.array([[1.0, 0.3], [0.0, 1.0]]))


# --------------------------------------------------------------------------- empirical OT
def fraction_differing(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(x.ravel() != y.ravel()))


def test_hamming_cost_counts_differing_spins():
    rng = np.random.default_rng(10)
    x = np.where(rng.random((5, 4, 4)) < 0.5, 1, -1)
    y = np.where(rng.random((3, 4, 4)) < 0.3, 1, -1)
    cost = hamming_cost(x, y)
    expected = [[fraction_differing(a, b) for b in y] for a in x]
    np.testing.assert_array_equal(cost, expected)  # k/16 is exact in binary


@pytest.mark.parametrize("size", range(1, 8))
def test_emd_equals_the_brute_force_assignment(size):
    rng = np.random.default_rng(20 + size)
    x = np.where(rng.random((size, 3, 3)) < 0.5, 1, -1)
    y = np.where(rng.random((size, 3, 3)) < 0.7, 1, -1)
    cost = np.array([[fraction_differing(a, b) for b in y] for a in x])
    best = min(np.mean(cost[np.arange(size), perm]) for perm in itertools.permutations(range(size)))
    result = configuration_wasserstein(x, y)
    assert result.method == "emd"
    assert result.bias_bound == 0.0
    assert result.distance == pytest.approx(best, abs=1e-15)
    plan = result.plan
    np.testing.assert_allclose(plan.sum(axis=1), 1 / size, rtol=0, atol=1e-15)
    np.testing.assert_allclose(plan.sum(axis=0), 1 / size, rtol=0, atol=1e-15)


def test_unequal_sizes_give_the_linear_programming_optimum():
    rng = np.random.default_rng(30)
    N, M = 6, 4
    x = np.where(rng.random((N, 4, 4)) < 0.5, 1, -1)
    y = np.where(rng.random((M, 4, 4)) < 0.6, 1, -1)
    cost = hamming_cost(x, y)
    # the transport LP solved independently by HiGHS: minimize ⟨P, C⟩ over couplings
    rows = np.kron(np.eye(N), np.ones(M))
    cols = np.kron(np.ones(N), np.eye(M))
    lp = linprog(
        cost.ravel(),
        A_eq=np.vstack([rows, cols]),
        b_eq=np.concatenate([np.full(N, 1 / N), np.full(M, 1 / M)]),
        bounds=(0, None),
        method="highs",
    )
    result = configuration_wasserstein(x, y)
    assert result.distance == pytest.approx(lp.fun, abs=1e-12)
    plan = result.plan
    assert plan.shape == (N, M)
    assert np.all(plan >= 0)
    np.testing.assert_allclose(plan.sum(axis=1), 1 / N, rtol=0, atol=1e-15)
    np.testing.assert_allclose(plan.sum(axis=0), 1 / M, rtol=0, atol=1e-15)
    assert np.sum(plan * cost) == pytest.approx(result.distance, abs=1e-15)


def test_plan_is_dropped_for_large_sets():
    rng = np.random.default_rng(31)
    x = np.where(rng.random((12, 9)) < 0.5, 1, -1)
    assert configuration_wasserstein(x, x, plan_max=10).plan is None
    assert configuration_wasserstein(x, x, plan_max=12).plan.shape == (12, 12)


def test_identical_sets_are_at_distance_zero():
    rng = np.random.default_rng(40)
    x = correlated_spins(50, 6, rng)
    y = x[rng.permutation(50)]
    result = distance_to_data(x, y)
    assert result.configurations.distance == 0.0
    assert result.energy_w1 == 0.0
    assert result.magnetization_w1 == 0.0


def test_one_dimensional_w1_is_the_sorted_difference():
    rng = np.random.default_rng(50)
    u, v = rng.normal(0, 1, 200), rng.exponential(1.0, 200)
    expected = np.mean(np.abs(np.sort(u) - np.sort(v)))
    assert wasserstein_1d(u, v) == pytest.approx(expected, rel=1e-12)


def test_distance_to_data_uses_energies_and_magnetizations():
    rng = np.random.default_rng(60)
    model, data = correlated_spins(40, 6, rng), np.where(rng.random((30, 6, 6)) < 0.6, 1, -1)

    def energy(s):  # −(1/N) Σ_<ij> s_i s_j over the 2N bonds of the torus
        s = s.astype(np.float64)
        return -np.sum(s * (np.roll(s, 1, 1) + np.roll(s, 1, 2)), axis=(1, 2)) / s[0].size

    result = distance_to_data(model, data)
    assert result.energy_w1 == pytest.approx(wasserstein_1d(energy(model), energy(data)), rel=1e-12)
    magnetization = wasserstein_1d(model.mean(axis=(1, 2)), data.mean(axis=(1, 2)))
    assert result.magnetization_w1 == pytest.approx(magnetization, rel=1e-12)
    assert result.configurations.plan.shape == (40, 30)
    # m is 2-Lipschitz for the cost: |m − m′| = |Σ(v − v′)|/n ≤ 2 · (fraction of differing
    # spins), so pushing the optimal plan forward gives W₁(m) ≤ 2 W₁(configurations).
    assert result.magnetization_w1 <= 2 * result.configurations.distance + 1e-15


def test_entropic_distance_is_within_its_bias_bound_of_emd():
    rng = np.random.default_rng(70)
    x = correlated_spins(300, 8, rng)
    y = np.where(rng.random((250, 8, 8)) < 0.55, 1, -1)
    exact = configuration_wasserstein(x, y)
    entropic = configuration_wasserstein(x, y, exact_max=100, reg=0.01)
    assert entropic.method == "sinkhorn"
    assert entropic.plan is None
    assert entropic.bias_bound == pytest.approx(0.01 * np.log(250), rel=1e-15)
    # 0 ≤ ⟨P_ε, C⟩ − W ≤ ε log min(N, M); the slack covers the plan's marginal error (‖·‖ ≤ 1e-9,
    # costs ≤ 1) and float rounding.
    gap = entropic.distance - exact.distance
    assert -1e-7 <= gap <= entropic.bias_bound + 1e-7


def test_empirical_ot_rejects_invalid_inputs():
    x = np.ones((3, 4, 4))
    with pytest.raises(ValueError, match="spins"):
        configuration_wasserstein(np.zeros((3, 4, 4)), x)
    with pytest.raises(ValueError, match="differ"):
        configuration_wasserstein(x, np.ones((3, 3, 3)))
    with pytest.raises(ValueError, match="reg"):
        configuration_wasserstein(x, x, exact_max=1, reg=1e-4)
    with pytest.raises(ValueError, match="Lattices differ"):
        distance_to_data(x, np.ones((3, 5, 5)))
