"""The CAH cone: a covariance as a quantum state, its entropy, modular flow and Bloch disk.

States. A PSD matrix Σ (regularized explicitly: ``Σ + εI``, by :func:`density_matrix` for a
dense matrix or by the ε of a :class:`FactoredPSD`) defines the density matrix ``ρ = Σ / tr Σ``
(PSD, trace 1). Every function taking a "state" accepts either an n×n PSD matrix (normalized by
its trace here, so a ρ passes unchanged) or a FactoredPSD (W Wᵀ + εI, used without ever forming
an n×n matrix). Entropies are in nats.

* von Neumann entropy ``S(ρ) = -tr ρ log ρ = -Σ p_i log p_i`` (0 log 0 = 0), in [0, log n];
* relative entropy ``S(ρ‖σ) = tr ρ (log ρ - log σ) ≥ 0``, zero iff ρ = σ, +inf when ρ has weight
  on the kernel of σ (:class:`ReferenceState` keeps σ's eigen-decomposition for repeated use);
* modular Hamiltonian ``K = -log ρ`` (ρ faithful) and its spectrum ``-log p_i``.

Modular flow. ``σ_t(X) = ρ^{it} X ρ^{-it} = e^{-itK} X e^{itK}`` (complex; t may be complex:
``σ_{t-i}(Y) = ρ^{it} ρ Y ρ^{-1} ρ^{-it}``). With ``ω(X) = tr(ρX)``:

* invariance: ``ω(σ_t(X)) = ω(X)`` (ρ commutes with ρ^{it});
* KMS: ``ω(X σ_{t-i}(Y)) = ω(σ_t(Y) X)``. Proof: the left side is
  ``tr(ρ X ρ^{it} ρ Y ρ^{-1} ρ^{-it}) = tr(ρ^{-it} X ρ^{it} ρ Y)`` (cycle ρ^{-1}ρ^{-it} to the
  front, powers of ρ commute), the right side ``tr(ρ ρ^{it} Y ρ^{-it} X) = tr(ρ^{-it} X ρ^{it} ρ
  Y)`` (cycle). This is Takesaki's convention: ω is a KMS state at β = -1 for σ, i.e. at β = 1 for
  the Heisenberg flow ``τ_t = σ_{-t}`` of K. With ``t + i`` instead of ``t - i`` the identity fails
  (the tests check both).

Self-duality. The PSD cone equals its dual under ``⟨A, B⟩ = tr(AB)``: pairings of PSD matrices are
≥ 0, and a symmetric S with a negative eigenvalue λ (eigenvector v) pairs negatively with the PSD
witness v vᵀ, ``tr(S v vᵀ) = λ`` (:func:`cone_witness`). For faithful ρ the natural cone
``{ρ^{1/4} X ρ^{1/4} : X ≥ 0}`` is the PSD cone: a congruence by the invertible ρ^{1/4} maps PSD
onto PSD (Sylvester's law of inertia), inverse ``Y ↦ ρ^{-1/4} Y ρ^{-1/4}``.

Bloch disk. Each Σ_k of a trajectory is compressed onto a FIXED orthonormal pair (b₁, b₂) (default:
the two leading eigenvectors of the last Σ, signs fixed so that each vector's largest-magnitude
entry is positive), ``C = Bᵀ Σ_k B`` (2×2, PSD), normalized to trace 1:
``C / tr C = ½ [[1 + z, x], [x, 1 - z]]``, so ``z = (C₁₁ - C₂₂)/tr C``, ``x = 2 C₁₂ / tr C`` and
``x² + z² ≤ 1`` (det ≥ 0): the real Bloch disk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.geometry.psd_metrics import FactoredPSD, psd_eigh

_EPS = np.finfo(np.float64).eps


def _eps_check(eps: float) -> float:
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}.")
    return float(eps)


def density_matrix(S: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """``ρ = (S + εI) / tr(S + εI)`` for a PSD matrix S (nonzero after regularization)."""
    eps = _eps_check(eps)
    w, V = psd_eigh(S, eps, "Σ")
    if not np.sum(w) > 0:
        raise ValueError("Σ + εI is zero: it has no density matrix.")
    rho = (V * (w / np.sum(w))) @ V.T
    return 0.5 * (rho + rho.T)


def _dense_state(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending, summing to 1) and eigenvectors of ρ = S / tr S."""
    w, V = psd_eigh(rho, 0.0, "ρ")
    total = float(np.sum(w))
    if not total > 0:
        raise ValueError("The state is the zero matrix.")
    return w / total, V


def state_spectrum(state: np.ndarray | FactoredPSD) -> np.ndarray:
    """The n eigenvalues of the density matrix, descending (summing to 1)."""
    if isinstance(state, FactoredPSD):
        if not state.trace > 0:
            raise ValueError("The state is the zero matrix.")
        return state.eigenvalues / state.trace
    return _dense_state(state)[0][::-1]


def von_neumann_entropy(state: np.ndarray | FactoredPSD) -> float:
    """``-Σ p log p`` over the density matrix's eigenvalues, nats (0 log 0 = 0)."""
    p = state_spectrum(state)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def modular_spectrum(state: np.ndarray | FactoredPSD) -> np.ndarray:
    """The spectrum of ``K = -log ρ``, ascending; ValueError if ρ is not faithful."""
    p = state_spectrum(state)
    if not p[-1] > 0:
        raise ValueError(
            "The state is not faithful (ρ has a kernel): K = -log ρ is infinite there; "
            "regularize with eps > 0."
        )
    return -np.log(p)


def _faithful(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, V = _dense_state(rho)
    if not p[0] > 0:
        raise ValueError(
            "The state is not faithful (ρ has a kernel): regularize with density_matrix(S, eps)."
        )
    return p, V


def modular_hamiltonian(rho: np.ndarray) -> np.ndarray:
    """``K = -log ρ`` (n×n) of a faithful state."""
    p, V = _faithful(rho)
    return (V * -np.log(p)) @ V.T


class ReferenceState:
    """A fixed state σ (the data's), eigen-decomposed once, for ``S(ρ‖σ)`` at every checkpoint."""

    def __init__(self, sigma: np.ndarray) -> None:
        p, V = _dense_state(sigma)
        self._support = p > 0
        self._log = np.log(p[self._support])
        self._V = V
        self.n = p.size

    def _finish(self, entropy: float, weights: np.ndarray) -> float:
        """``-S(ρ) - tr ρ log σ`` from ρ's weights ``v_jᵀ ρ v_j`` on σ's eigenvectors."""
        if np.sum(weights[~self._support]) > 10 * self.n * _EPS:
            return math.inf
        return max(-entropy - float(np.dot(weights[self._support], self._log)), 0.0)

    def relative_entropy(self, state: np.ndarray | FactoredPSD) -> float:
        """``S(ρ‖σ) = tr ρ (log ρ - log σ)``, nats; +inf if ρ has weight on σ's kernel.

        Clipped at 0: the exact value is ≥ 0 and rounding can make an equal pair -1e-16.
        For a FactoredPSD the cost is O(n² r), without an n×n eigen-decomposition.
        """
        if isinstance(state, FactoredPSD):
            if state.n != self.n:
                raise ValueError(f"The state has size {state.n}, the reference {self.n}.")
            G = self._V.T @ state.range_vectors
            weights = (G * G) @ state.range_values + state.eps
            return self._finish(von_neumann_entropy(state), weights / state.trace)
        p, V = _dense_state(state)
        if p.size != self.n:
            raise ValueError(f"The state has size {p.size}, the reference {self.n}.")
        G = self._V.T @ V
        weights = (G * G) @ p
        q = p[p > 0]
        return self._finish(float(-np.sum(q * np.log(q))), weights)


def relative_entropy(rho: np.ndarray | FactoredPSD, sigma: np.ndarray) -> float:
    """``S(ρ‖σ)`` in nats (:meth:`ReferenceState.relative_entropy`)."""
    return ReferenceState(sigma).relative_entropy(rho)


def modular_flow(rho: np.ndarray, X: np.ndarray, t: complex) -> np.ndarray:
    """``σ_t(X) = ρ^{it} X ρ^{-it}`` (complex n×n) for a faithful ρ; t may be complex."""
    p, V = _faithful(rho)
    X = np.asarray(X)
    if X.shape != (p.size, p.size):
        raise ValueError(f"X must be {p.size}×{p.size}, got shape {X.shape}.")
    log_p = np.log(p)
    phase = np.exp(1j * complex(t) * (log_p[:, None] - log_p[None, :]))
    return V @ (phase * (V.T @ X @ V)) @ V.T


@dataclass(frozen=True)
class ModularChecks:
    """Residuals of the identities of the module doc (absolute; O(ε_mach κ(ρ) ‖X‖‖Y‖))."""

    invariance: float  # |ω(σ_t(X)) - ω(X)|
    kms: float  # |ω(X σ_{t-i}(Y)) - ω(σ_t(Y) X)|


def modular_checks(rho: np.ndarray, X: np.ndarray, Y: np.ndarray, t: float) -> ModularChecks:
    """Check invariance of ω under σ_t and the KMS condition at real time t."""
    rho = np.asarray(rho, dtype=np.float64)
    rho = rho / np.trace(rho)

    def omega(A: np.ndarray) -> complex:
        return complex(np.sum(rho * A.T))  # tr(ρA)

    return ModularChecks(
        invariance=abs(omega(modular_flow(rho, X, t)) - omega(np.asarray(X))),
        kms=abs(omega(X @ modular_flow(rho, Y, t - 1j)) - omega(modular_flow(rho, Y, t) @ X)),
    )


def cone_witness(S: np.ndarray) -> np.ndarray | None:
    """For symmetric S outside the PSD cone, the PSD ``v vᵀ`` with ``tr(S v vᵀ) = λ_min(S) < 0``
    (v the unit eigenvector of the smallest eigenvalue); None when S is PSD (to rounding)."""
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be a square matrix, got shape {S.shape}.")
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    if w[0] >= -S.shape[0] * _EPS * max(float(np.max(np.abs(w))), 0.0):
        return None
    v = V[:, 0]
    return np.outer(v, v)


def natural_cone_embedding(rho: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``ρ^{1/4} X ρ^{1/4}`` (ρ faithful), the map of the natural cone (module doc)."""
    p, V = _faithful(rho)
    quarter = (V * p**0.25) @ V.T
    Y = quarter @ np.asarray(X, dtype=np.float64) @ quarter
    return 0.5 * (Y + Y.T)


def _fixed_signs(B: np.ndarray) -> np.ndarray:
    peak = B[np.argmax(np.abs(B), axis=0), np.arange(B.shape[1])]
    return B * np.where(peak < 0, -1.0, 1.0)


def bloch_basis(state: np.ndarray | FactoredPSD) -> np.ndarray:
    """(n, 2): the two leading eigenvectors of Σ, signs fixed (module doc)."""
    if isinstance(state, FactoredPSD):
        if state.range_values.size < 2:
            raise ValueError(
                "Σ has fewer than two nonzero eigenvalues: its leading pair is not defined; "
                "pass a basis."
            )
        return _fixed_signs(state.range_vectors[:, :2])
    _, V = psd_eigh(state, 0.0, "Σ")
    if V.shape[0] < 2:
        raise ValueError("The Bloch disk needs n >= 2.")
    return _fixed_signs(V[:, [-1, -2]])


def _compress(state: np.ndarray | FactoredPSD, B: np.ndarray) -> np.ndarray:
    if isinstance(state, FactoredPSD):
        return state.compress(B)
    return B.T @ np.asarray(state, dtype=np.float64) @ B


def bloch_disk(
    states: Sequence[np.ndarray | FactoredPSD], basis: np.ndarray | None = None
) -> np.ndarray:
    """(K, 2) points ``(x, z)`` of the trace-normalized 2×2 compressions (module doc)."""
    if len(states) < 1:
        raise ValueError("No states to draw.")
    B = bloch_basis(states[-1]) if basis is None else np.asarray(basis, dtype=np.float64)
    if B.ndim != 2 or B.shape[1] != 2 or not np.allclose(B.T @ B, np.eye(2), atol=1e-10):
        raise ValueError("basis must be (n, 2) with orthonormal columns.")
    points = np.empty((len(states), 2))
    for k, state in enumerate(states):
        C = _compress(state, B)
        trace = C[0, 0] + C[1, 1]
        if not trace > 0:
            raise ValueError(f"State {k} vanishes on the basis: its compression has trace 0.")
        points[k] = 2.0 * C[0, 1] / trace, (C[0, 0] - C[1, 1]) / trace
    return points
