"""Metrics and geodesics on the PSD cone, factored points, trajectories."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest

from engines.geometry.psd_metrics import (
    GEODESICS,
    METRICS,
    FactoredPSD,
    affine_invariant,
    bures_wasserstein,
    bures_wasserstein_geodesic,
    bures_wasserstein_geodesic_factor,
    bures_wasserstein_map,
    dense_distance,
    factored_distance,
    factored_distances,
    log_euclidean,
    thompson,
)
from engines.geometry.trajectory import Trajectory, factored_trajectories, trajectory


def _spd(rng: np.random.Generator, n: int, cond: float = 30.0) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q * np.geomspace(1.0, cond, n)) @ Q.T


def test_commuting_closed_forms():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    a, b = rng.uniform(0.1, 5.0, 7), rng.uniform(0.1, 5.0, 7)
    A, B = (Q * a) @ Q.T, (Q * b) @ Q.T
    diff = np.log(a) - np.log(b)
    assert bures_wasserstein(A, B) == pytest.approx(
        np.linalg.norm(np.sqrt(a) - np.sqrt(b)), rel=1e-12
    )
    assert affine_invariant(A, B) == pytest.approx(np.linalg.norm(diff), rel=1e-12)
    assert log_euclidean(A, B) == pytest.approx(np.linalg.norm(diff), rel=1e-12)
    assert thompson(A, B) == pytest.approx(np.max(np.abs(diff)), rel=1e-12)


def test_affine_invariance_of_affine_invariant_and_thompson():
    rng = np.random.default_rng(1)
    A, B = _spd(rng, 6), _spd(rng, 6)
    G = rng.standard_normal((6, 6))
    for f in (affine_invariant, thompson):
        assert f(G @ A @ G.T, G @ B @ G.T) == pytest.approx(f(A, B), rel=1e-9)


def test_bures_wasserstein_equals_pot_full_rank():
    rng = np.random.default_rng(2)
    for _ in range(3):
        A, B = _spd(rng, 12, 100.0), _spd(rng, 12, 5.0)
        expected = float(ot.gaussian.bures_distance(A, B))
        assert bures_wasserstein(A, B) == pytest.approx(expected, rel=1e-10)


def test_bures_wasserstein_equals_pot_rank_deficient():
    """POT's matrix square root does not clip the -1e-16 eigenvalues of a generic singular matrix
    (it returns NaN there, or fails to converge), so the boundary points are built with exact zero
    blocks: A = diag(Ã, 0) (rank 6 of 10) against B = diag(B̃, 0) (same kernel) and against a
    full-rank B."""
    rng = np.random.default_rng(3)
    n = 10
    Wa, Wb = np.zeros((n, 6)), np.zeros((n, 8))
    Wa[:6] = rng.standard_normal((6, 6))
    Wb[:6] = rng.standard_normal((6, 8))
    A = Wa @ Wa.T
    for W in (Wb, rng.standard_normal((n, 12))):
        B = W @ W.T
        expected = float(ot.gaussian.bures_distance(A, B))
        assert math.isfinite(expected)
        assert bures_wasserstein(A, B) == pytest.approx(expected, rel=1e-10)
        factored = factored_distance(
            "bures_wasserstein", FactoredPSD.from_factor(Wa), FactoredPSD.from_factor(W)
        )
        assert factored == pytest.approx(expected, rel=1e-10)


def test_factor_form_bures_wasserstein_is_the_nuclear_norm_formula():
    rng = np.random.default_rng(4)
    W0, W1 = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
    nuclear = np.sum(np.linalg.svd(W0.T @ W1, compute_uv=False))
    expected = math.sqrt(np.sum(W0 * W0) + np.sum(W1 * W1) - 2 * nuclear)
    P, Q = FactoredPSD.from_factor(W0), FactoredPSD.from_factor(W1)
    assert factored_distance("bures_wasserstein", P, Q) == pytest.approx(expected, rel=1e-12)
    assert bures_wasserstein(W0 @ W0.T, W1 @ W1.T) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    ("ma", "mb", "eps_a", "eps_b"),
    [
        (6, 9, 0.1, 0.1),
        (6, 9, 0.05, 0.3),
        (20, 25, 0.01, 0.01),
        (40, 3, 0.0, 0.2),
        (1, 1, 1.0, 1.0),
    ],
)
def test_factored_distances_equal_dense(ma, mb, eps_a, eps_b):
    """Low rank + εI reduced to V = range A + range B plus the closed-form complement term equals
    the n×n computation (the last cases: k = n, full-rank A without ε, rank one)."""
    rng = np.random.default_rng(ma + mb)
    n = 30
    Wa, Wb = rng.standard_normal((n, ma)), rng.standard_normal((n, mb))
    if min(ma, mb) > 1:
        Wb[:, 0] = Wa[:, 0]  # a shared direction: V is smaller than ma + mb
    P, Q = FactoredPSD.from_factor(Wa, eps_a), FactoredPSD.from_factor(Wb, eps_b)
    A, B = P.dense(), Q.dense()
    np.testing.assert_allclose(A, Wa @ Wa.T + eps_a * np.eye(n), atol=1e-12 * np.max(A))
    got = factored_distances(P, Q)
    for metric in METRICS:
        assert got[metric] == pytest.approx(dense_distance(metric, A, B), rel=1e-10), metric


def test_singular_points_need_explicit_eps():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((12, 4))
    A, B = W @ W.T, _spd(rng, 12)
    for f in (affine_invariant, log_euclidean, thompson):
        with pytest.raises(ValueError, match="singular.*eps > 0"):
            f(A, B)
        assert math.isfinite(f(A, B, eps=1e-3))
    assert bures_wasserstein(A, B) > 0
    P, Q = FactoredPSD.from_factor(W), FactoredPSD.from_factor(rng.standard_normal((12, 4)), 0.1)
    for metric in ("affine_invariant", "log_euclidean", "thompson"):
        with pytest.raises(ValueError, match="singular"):
            factored_distance(metric, P, Q)
    assert factored_distance("bures_wasserstein", P, Q) > 0


@pytest.mark.parametrize("metric", METRICS)
def test_geodesics_are_geodesics(metric):
    """γ(0) = A, γ(1) = B and d(A, γ(t)) = t d, d(γ(t), B) = (1 - t) d; at t = ½ the midpoint is
    equidistant. The Thompson geodesic is the affine-invariant one."""
    rng = np.random.default_rng(6)
    A, B = _spd(rng, 6, 20.0), _spd(rng, 6, 50.0)
    d = dense_distance(metric, A, B)
    gamma = GEODESICS[metric]
    assert dense_distance(metric, gamma(A, B, 0.0), gamma(A, B, 1.0)) == pytest.approx(d, rel=1e-9)
    np.testing.assert_allclose(gamma(A, B, 1.0), B, atol=1e-10 * np.max(B))
    for t in (0.25, 0.5):
        G = gamma(A, B, t)
        assert dense_distance(metric, A, G) == pytest.approx(t * d, rel=1e-9)
        assert dense_distance(metric, G, B) == pytest.approx((1 - t) * d, rel=1e-9)


def test_brenier_map_pushes_a_to_b():
    rng = np.random.default_rng(7)
    A, B = _spd(rng, 5), _spd(rng, 5)
    T = bures_wasserstein_map(A, B)
    np.testing.assert_allclose(T, T.T, atol=1e-12)
    assert np.min(np.linalg.eigvalsh(T)) > 0
    np.testing.assert_allclose(T @ A @ T, B, atol=1e-10 * np.max(B))


def test_factor_geodesic_on_the_boundary_and_against_the_dense_one():
    rng = np.random.default_rng(8)
    W0, W1 = rng.standard_normal((20, 5)), rng.standard_normal((20, 5))  # rank 5 of 20
    P = [
        FactoredPSD.from_factor(bures_wasserstein_geodesic_factor(W0, W1, t))
        for t in (0.0, 0.5, 1.0)
    ]
    d = factored_distance("bures_wasserstein", P[0], P[2])
    assert d == pytest.approx(
        factored_distance(
            "bures_wasserstein", FactoredPSD.from_factor(W0), FactoredPSD.from_factor(W1)
        ),
        rel=1e-12,
    )
    assert factored_distance("bures_wasserstein", P[0], P[1]) == pytest.approx(d / 2, rel=1e-9)
    assert factored_distance("bures_wasserstein", P[1], P[2]) == pytest.approx(d / 2, rel=1e-9)
    S0, S1 = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))  # full rank: same curve
    Wt = bures_wasserstein_geodesic_factor(S0, S1, 0.3)
    np.testing.assert_allclose(
        Wt @ Wt.T,
        bures_wasserstein_geodesic(S0 @ S0.T, S1 @ S1.T, 0.3),
        atol=1e-10 * np.max(np.abs(S0 @ S0.T)),
    )


@pytest.mark.parametrize("metric", METRICS)
def test_points_on_a_geodesic_have_line_shape_one(metric):
    rng = np.random.default_rng(9)
    A, B = _spd(rng, 5, 10.0), _spd(rng, 5, 40.0)
    ts = np.array([0.0, 0.1, 0.35, 0.4, 0.8, 1.0])
    points = [GEODESICS[metric](A, B, t) for t in ts]
    epochs = [0, 1, 2, 5, 6, 10]
    path = trajectory(points, epochs, lambda a, b: dense_distance(metric, a, b))
    d = dense_distance(metric, A, B)
    assert math.isnan(path.line_shape[0])
    np.testing.assert_allclose(path.line_shape[1:], 1.0, rtol=1e-9)
    np.testing.assert_allclose(path.from_start, ts * d, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(path.path_length, ts * d, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(path.speed, np.diff(ts) * d / np.diff(epochs), rtol=1e-9)


def test_a_turning_path_has_the_euclidean_line_shape_in_log_coordinates():
    """Log-Euclidean is flat: for commuting points the line shape is the Euclidean ratio of the
    log-eigenvalue vectors."""
    logs = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, 0.0], [1.5, 2.0, -1.0]])
    points = [np.diag(np.exp(x)) for x in logs]
    path = trajectory(points, [0, 1, 3], log_euclidean)
    legs = np.linalg.norm(np.diff(logs, axis=0), axis=1)
    expected = np.linalg.norm(logs[2] - logs[0]) / legs.sum()
    assert path.line_shape[2] == pytest.approx(expected, rel=1e-12)
    assert path.line_shape[2] < 1.0
    np.testing.assert_allclose(path.speed, legs / [1, 2], rtol=1e-12)


def test_factored_trajectories_equal_dense_ones():
    rng = np.random.default_rng(10)
    n, eps = 16, 0.05
    Ws = [rng.standard_normal((n, 4)) for _ in range(4)]
    points = [FactoredPSD.from_factor(W, eps) for W in Ws]
    epochs = [0, 2, 3, 7]
    paths = factored_trajectories(points, epochs)
    for metric in METRICS:
        dense = trajectory(
            [p.dense() for p in points], epochs, lambda a, b, m=metric: dense_distance(m, a, b)
        )
        np.testing.assert_allclose(paths[metric].from_start, dense.from_start, rtol=1e-10)
        np.testing.assert_allclose(paths[metric].steps, dense.steps, rtol=1e-10)


def test_trajectory_validates_epochs():
    with pytest.raises(ValueError, match="increase"):
        Trajectory([0, 1, 1], [0, 1, 2], [1, 1])
    with pytest.raises(ValueError, match="one epoch per point"):
        trajectory([np.eye(2)] * 3, [0, 1], bures_wasserstein)
