"""The SPD cone's canonical potential satisfies log det D²F = 2F (Hessian by autograd)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engines.geometry.monge_ampere import (
    canonical_potential,
    compression,
    leading_directions,
    monge_ampere_check,
    potential_constant,
    potential_hessian,
    symmetric_basis,
    trajectory_residuals,
)

# The threshold. Rounding puts the residual near 1e-14 for well-conditioned X and, at
# κ(X) = 1e4 (κ of the Hessian 1e8), near 1e-9 at worst: well inside it.
MA_TOLERANCE = 1e-8


def random_spd(k: int, condition: float, rng: np.random.Generator) -> np.ndarray:
    """Q diag(λ) Qᵀ with λ log-spaced over ``condition`` and a random overall scale."""
    q, _ = np.linalg.qr(rng.standard_normal((k, k)))
    lam = np.logspace(0.0, np.log10(condition), k) * rng.uniform(0.01, 100.0)
    return (q * lam) @ q.T


@pytest.mark.parametrize("k", [1, 2, 3, 6, 10])
def test_basis_is_orthonormal_for_the_trace_inner_product(k):
    basis = symmetric_basis(k)
    d = k * (k + 1) // 2
    assert basis.shape == (d, k, k)
    assert np.array_equal(basis, np.transpose(basis, (0, 2, 1)))
    gram = np.einsum("aij,bji->ab", basis, basis)
    np.testing.assert_allclose(gram, np.eye(d), rtol=0, atol=1e-15)


def test_potential_constant_matches_its_definition():
    for k in range(1, 11):
        d = k * (k + 1) / 2
        assert potential_constant(k) == pytest.approx(d / 2 * np.log((k + 1) / 2), rel=1e-15)
    assert potential_constant(1) == 0.0  # k = 1: F = -log x, F'' = 1/x², log F'' = 2F


@pytest.mark.parametrize("k", [2, 4, 7])
def test_autograd_hessian_equals_the_closed_form(k):
    rng = np.random.default_rng(k)
    X = random_spd(k, 100.0, rng)
    inverse = np.linalg.inv(X)
    basis = symmetric_basis(k)
    closed = np.array(
        [[(k + 1) / 2 * np.trace(inverse @ a @ inverse @ b) for b in basis] for a in basis]
    )
    hessian = potential_hessian(X)
    # Entries from X⁻¹, accurate to about u κ(X) = 2e-14 relative to the largest.
    np.testing.assert_allclose(hessian, closed, rtol=0, atol=1e-12 * np.max(np.abs(closed)))


def test_identity_gives_the_constant_exactly():
    for k in range(1, 11):
        check = monge_ampere_check(np.eye(k))
        d = k * (k + 1) // 2
        assert check.log_det_hessian == pytest.approx(d * np.log((k + 1) / 2), abs=1e-12)
        assert check.two_potential == pytest.approx(2 * potential_constant(k), abs=1e-15)
        assert abs(check.residual) < 1e-12


def test_potential_scales_as_minus_half_k_plus_one_log_det():
    rng = np.random.default_rng(3)
    X = random_spd(5, 10.0, rng)
    # F(tX) = F(X) - (k+1)/2 · k log t: a homogeneity check independent of slogdet's internals.
    t = 3.7
    assert canonical_potential(t * X) == pytest.approx(
        canonical_potential(X) - 3 * 5 * np.log(t), abs=1e-12
    )


@pytest.mark.parametrize(("k", "condition"), list(itertools.product(range(2, 11), [10.0, 1e4])))
def test_monge_ampere_residual_on_random_spd(k, condition):
    rng = np.random.default_rng(100 * k + int(np.log10(condition)))
    for _ in range(3):
        X = random_spd(k, condition, rng)
        check = monge_ampere_check(X)
        assert check.k == k
        assert check.condition_number == pytest.approx(condition, rel=1e-6)
        assert abs(check.residual) < MA_TOLERANCE


def test_compression_is_the_projected_covariance():
    rng = np.random.default_rng(7)
    n, m = 256, 64
    W = rng.standard_normal((n, m)) * 0.1
    P = leading_directions(W, 10)
    np.testing.assert_allclose(P.T @ P, np.eye(10), rtol=0, atol=1e-12)
    sigma = W @ W.T
    top = np.linalg.eigvalsh(sigma)[::-1][:10]
    # P spans the leading eigenvectors: Σ P = P diag(top)
    np.testing.assert_allclose(sigma @ P, P * top, rtol=0, atol=1e-12 * top[0])
    epsilon = 1e-3
    X = compression(W, P, epsilon)
    np.testing.assert_allclose(
        X, P.T @ (sigma + epsilon * np.eye(n)) @ P, rtol=0, atol=1e-13 * top[0]
    )


def test_monge_ampere_residual_on_compressions_of_a_random_weight_matrix():
    rng = np.random.default_rng(8)
    W = rng.standard_normal((1024, 256)) * 0.01  # the paper's sizes and initialization scale
    P = leading_directions(W, 10)
    for k in (1, 2, 5, 10):
        for epsilon in (0.0, 1e-3):
            check = monge_ampere_check(compression(W, P[:, :k], epsilon))
            assert abs(check.residual) < MA_TOLERANCE


def test_trajectory_residuals_use_a_fixed_basis():
    rng = np.random.default_rng(8)
    n, m = 144, 36
    path = [rng.standard_normal((n, m)) * 0.01]
    for _ in range(4):
        path.append(path[-1] + rng.standard_normal((n, m)) * 0.02)
    residuals = trajectory_residuals(path, k=6)
    assert residuals.shape == (5,)
    assert np.all(np.abs(residuals) < MA_TOLERANCE)
    # the default basis is the last checkpoint's leading directions, so the first compression is
    # not diagonal (it would be on its own eigenvectors)
    X0 = compression(path[0], leading_directions(path[-1], 6))
    assert np.max(np.abs(X0 - np.diag(np.diag(X0)))) > 1e-3 * np.max(np.diag(X0))
    explicit = trajectory_residuals(path, k=6, directions=leading_directions(path[-1], 6))
    np.testing.assert_array_equal(residuals, explicit)


def test_rejects_invalid_inputs():
    with pytest.raises(ValueError, match="positive definite"):
        monge_ampere_check(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="k x k"):
        monge_ampere_check(np.eye(11))
    with pytest.raises(ValueError, match="symmetric"):
        canonical_potential(np.array([[1.0, 0.5], [0.0, 1.0]]))
    W = np.random.default_rng(0).standard_normal((20, 5))
    with pytest.raises(ValueError, match="orthonormal"):
        compression(W, np.ones((20, 2)))
    with pytest.raises(ValueError, match="epsilon"):
        compression(W, leading_directions(W, 2), epsilon=-1.0)
    with pytest.raises(ValueError, match="rank"):
        leading_directions(np.outer(np.arange(1.0, 21.0), np.ones(5)), 2)
    with pytest.raises(ValueError, match="No checkpoints"):
        trajectory_residuals([], k=2)
