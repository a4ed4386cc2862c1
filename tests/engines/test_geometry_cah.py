"""The CAH cone: density matrices, entropies, modular flow (invariance, KMS), self-duality, the
Bloch disk."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg

from engines.geometry.cah import (
    ReferenceState,
    bloch_disk,
    cone_witness,
    density_matrix,
    modular_checks,
    modular_flow,
    modular_hamiltonian,
    modular_spectrum,
    natural_cone_embedding,
    relative_entropy,
    state_spectrum,
    von_neumann_entropy,
)
from engines.geometry.psd_metrics import FactoredPSD


def _state(rng: np.random.Generator, n: int, cond: float = 20.0) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    p = np.geomspace(1.0, 1.0 / cond, n)
    return (Q * (p / p.sum())) @ Q.T


def test_density_matrix_is_explicitly_regularized():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((8, 3))
    S = W @ W.T
    rho = density_matrix(S, eps=0.5)
    np.testing.assert_allclose(rho, (S + 0.5 * np.eye(8)) / (np.trace(S) + 4.0), atol=1e-15)
    assert np.trace(rho) == pytest.approx(1.0, abs=1e-15)
    assert np.min(np.linalg.eigvalsh(density_matrix(S))) > -1e-15  # rank 3, no ε: still a state


def test_entropy_known_values_and_factored_form():
    n = 9
    assert von_neumann_entropy(np.eye(n)) == pytest.approx(math.log(n), rel=1e-14)
    v = np.random.default_rng(1).standard_normal(n)
    assert von_neumann_entropy(np.outer(v, v)) == pytest.approx(0.0, abs=1e-13)
    rng = np.random.default_rng(2)
    for eps in (0.0, 0.3):
        P = FactoredPSD.from_factor(rng.standard_normal((n, 4)), eps)
        assert von_neumann_entropy(P) == pytest.approx(von_neumann_entropy(P.dense()), rel=1e-12)
        np.testing.assert_allclose(state_spectrum(P), state_spectrum(P.dense()), atol=1e-14)
        assert 0 < von_neumann_entropy(P) < math.log(n)


def test_relative_entropy():
    rng = np.random.default_rng(3)
    n = 6
    rho, sigma = _state(rng, n), _state(rng, n, 50.0)
    assert relative_entropy(rho, rho) == pytest.approx(0.0, abs=1e-13)
    assert relative_entropy(rho, sigma) > 0.01
    # S(ρ ‖ I/n) = log n - S(ρ)
    assert relative_entropy(rho, np.eye(n)) == pytest.approx(
        math.log(n) - von_neumann_entropy(rho), rel=1e-12
    )
    # commuting: the classical Kullback–Leibler divergence of the eigenvalues
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    p, q = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    expected = float(np.sum(p * np.log(p / q)))
    assert relative_entropy((Q * p) @ Q.T, (Q * q) @ Q.T) == pytest.approx(expected, rel=1e-10)
    # ρ with weight on the kernel of σ
    singular = np.diag([0.5, 0.5, 0, 0, 0, 0])
    assert relative_entropy(rho, singular) == math.inf
    assert relative_entropy(np.diag([0.2, 0.8, 0, 0, 0, 0]), singular) == pytest.approx(
        0.2 * math.log(0.4) + 0.8 * math.log(1.6), rel=1e-12
    )


def test_relative_entropy_of_factored_states_against_a_reference():
    rng = np.random.default_rng(4)
    n = 12
    data = _state(rng, n, 100.0)
    reference = ReferenceState(data)
    for eps in (0.0, 0.02):
        P = FactoredPSD.from_factor(rng.standard_normal((n, 5)), eps)
        assert reference.relative_entropy(P) == pytest.approx(
            relative_entropy(P.dense(), data), rel=1e-10
        )
    singular_data = FactoredPSD.from_factor(rng.standard_normal((n, 5))).dense()
    assert (
        ReferenceState(singular_data).relative_entropy(
            FactoredPSD.from_factor(rng.standard_normal((n, 5)), 0.01)
        )
        == math.inf
    )


def test_modular_hamiltonian():
    rng = np.random.default_rng(5)
    rho = _state(rng, 5)
    K = modular_hamiltonian(rho)
    np.testing.assert_allclose(scipy.linalg.expm(-K), rho, atol=1e-14)
    np.testing.assert_allclose(modular_spectrum(rho), np.linalg.eigvalsh(K), atol=1e-12)
    P = FactoredPSD.from_factor(rng.standard_normal((7, 3)), 0.1)
    np.testing.assert_allclose(
        modular_spectrum(P), np.linalg.eigvalsh(modular_hamiltonian(P.dense())), atol=1e-12
    )
    with pytest.raises(ValueError, match="not faithful"):
        modular_hamiltonian(np.diag([0.5, 0.5, 0.0]))
    with pytest.raises(ValueError, match="not faithful"):
        modular_spectrum(FactoredPSD.from_factor(rng.standard_normal((7, 3))))


def test_modular_flow_is_a_group_of_automorphisms():
    rng = np.random.default_rng(6)
    n = 5
    rho = _state(rng, n)
    X = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    np.testing.assert_allclose(modular_flow(rho, X, 0.0), X, atol=1e-13)
    np.testing.assert_allclose(modular_flow(rho, np.eye(n), 0.7), np.eye(n), atol=1e-13)
    np.testing.assert_allclose(modular_flow(rho, rho @ rho, 1.3), rho @ rho, atol=1e-14)
    both = modular_flow(rho, modular_flow(rho, X, 0.4), 0.9)
    np.testing.assert_allclose(both, modular_flow(rho, X, 1.3), atol=1e-12)
    Y = rng.standard_normal((n, n))
    np.testing.assert_allclose(
        modular_flow(rho, X @ Y, 2.1),
        modular_flow(rho, X, 2.1) @ modular_flow(rho, Y, 2.1),
        atol=1e-12,
    )
    # σ_t(X) = ρ^{it} X ρ^{-it} with ρ^{it} = expm(i t log ρ)
    U = scipy.linalg.expm(1j * 0.8 * scipy.linalg.logm(rho))
    np.testing.assert_allclose(modular_flow(rho, X, 0.8), U @ X @ U.conj().T, atol=1e-11)


def test_state_is_invariant_and_kms_holds():
    """Residuals ≤ 1e-10 for ‖X‖, ‖Y‖ = O(1) and κ(ρ) = 20 (rounding is O(ε_mach κ ‖X‖‖Y‖));
    the wrong continuation t + i fails by orders of magnitude (the check can fail)."""
    rng = np.random.default_rng(7)
    n = 6
    rho = _state(rng, n)

    def omega(A: np.ndarray) -> complex:
        return np.trace(rho @ A)

    for _ in range(3):
        X = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / n
        Y = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / n
        for t in (0.0, 0.37, -2.5, 10.0):
            checks = modular_checks(rho, X, Y, t)
            assert checks.invariance <= 1e-10
            assert checks.kms <= 1e-10
            wrong = omega(X @ modular_flow(rho, Y, t + 1j)) - omega(modular_flow(rho, Y, t) @ X)
            assert abs(wrong) > 1e-3


def test_self_duality_of_the_psd_cone():
    rng = np.random.default_rng(8)
    n = 6
    for _ in range(20):
        A = rng.standard_normal((n, 2))
        B = rng.standard_normal((n, 3))
        pairing = np.trace(A @ A.T @ B @ B.T)  # = ‖Aᵀ B‖²_F
        assert pairing >= 0 and pairing == pytest.approx(np.sum((A.T @ B) ** 2), rel=1e-12)
    S = np.diag([2.0, 1.0, -0.5, 3.0])
    R, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    S = R @ S @ R.T
    witness = cone_witness(S)
    assert np.min(np.linalg.eigvalsh(witness)) >= -1e-15
    assert np.trace(S @ witness) == pytest.approx(-0.5, rel=1e-12)
    assert cone_witness(_state(rng, 4)) is None


def test_natural_cone_is_the_psd_cone_for_a_faithful_state():
    rng = np.random.default_rng(9)
    n = 5
    rho = _state(rng, n)
    w, V = np.linalg.eigh(rho)
    inverse_quarter = (V * w**-0.25) @ V.T
    for _ in range(5):
        G = rng.standard_normal((n, 3))
        image = natural_cone_embedding(rho, G @ G.T)  # PSD → PSD
        assert np.min(np.linalg.eigvalsh(image)) >= -1e-14
        H = rng.standard_normal((n, n))
        Y = H @ H.T  # every PSD Y is the image of a PSD X
        X = inverse_quarter @ Y @ inverse_quarter
        assert np.min(np.linalg.eigvalsh(X)) > 0
        np.testing.assert_allclose(natural_cone_embedding(rho, X), Y, atol=1e-11 * np.max(Y))
        indefinite = np.diag([1.0, -1.0, 2.0, -3.0, 0.5])  # inertia is preserved (Sylvester)
        assert np.sum(np.linalg.eigvalsh(natural_cone_embedding(rho, indefinite)) < 0) == 2


def test_bloch_disk():
    n = 6
    basis = np.eye(n)[:, :2]
    assert bloch_disk([np.diag([3.0, 1.0, 5, 5, 5, 5])], basis) == pytest.approx(
        np.array([[0.0, 0.5]])
    )
    theta = 0.3
    v = math.cos(theta) * basis[:, 0] + math.sin(theta) * basis[:, 1]
    pure = bloch_disk([np.outer(v, v) + np.diag([0, 0, 1.0, 2, 3, 4])], basis)[0]
    np.testing.assert_allclose(pure, [math.sin(2 * theta), math.cos(2 * theta)], atol=1e-15)
    rng = np.random.default_rng(10)
    Ws = [rng.standard_normal((n, 3)) for _ in range(5)]
    factored = [FactoredPSD.from_factor(W, 0.1) for W in Ws]
    points = bloch_disk(factored)  # default basis: leading pair of the last state
    np.testing.assert_allclose(points, bloch_disk([P.dense() for P in factored]), atol=1e-12)
    assert np.all(np.hypot(points[:, 0], points[:, 1]) <= 1.0 + 1e-12)
    top = factored[-1].eigenvalues[:2]
    np.testing.assert_allclose(points[-1], [0.0, (top[0] - top[1]) / top.sum()], atol=1e-12)
