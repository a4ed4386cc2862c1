"""The canonical potential of the SPD cone and its Monge–Ampère equation ``log det D²F = 2F``.

On the cone of k × k symmetric positive definite matrices, with the inner product
``⟨A, B⟩ = tr(AB)`` on Sym(k) (dimension ``d = k(k+1)/2``), the canonical potential is ::

    F(X) = −((k+1)/2) log det X + c_k,    c_k = (d/2) log((k+1)/2).

Its Hessian is ``D²F(X)[H, H] = ((k+1)/2) tr(X⁻¹ H X⁻¹ H)``: the operator ``H ↦ X⁻¹ H X⁻¹`` on
Sym(k) has determinant ``det(X)^{−(k+1)}`` (a congruence ``H ↦ A H Aᵀ`` scales the volume of Sym(k)
by ``det(A)^{k+1}``), so in any basis orthonormal for ⟨·,·⟩ ::

    log det D²F = d log((k+1)/2) − (k+1) log det X = 2F    exactly when c_k is as above.

The constant is what fixes the normalization: another inner product on Sym(k) (e.g. Euclidean on
the upper-triangular entries) multiplies det D²F by its Gram determinant and shifts c_k.

:func:`monge_ampere_check` computes ``D²F`` with ``torch.autograd.functional.hessian`` in float64
on the coordinates ``y ∈ R^d`` of ``X + Σ_a y_a B_a`` (B_a the orthonormal basis of
:func:`symmetric_basis`), never from the closed form, and returns ``log det D²F − 2F``. Rounding:
the Hessian's eigenvalues are ``((k+1)/2) λ_i⁻¹ λ_j⁻¹``, so its condition number is κ(X)², and each
entry is computed from ``X⁻¹`` to relative accuracy about ``u κ(X)``; the residual is typically
1e-14 for well-conditioned X and stays below about 1e-10 at κ(X) = 1e4, k = 10.

Along training, ``Σ = W Wᵀ + ε I`` (n × n) is compressed to ``X = Pᵀ Σ P = (PᵀW)(PᵀW)ᵀ + ε I_k``
on k ≤ 10 orthonormal columns P: :func:`compression` never forms the n × n matrix. A FIXED P for
the whole trajectory (default in :func:`trajectory_residuals`: the k leading left singular vectors
of the last checkpoint's W) keeps the compressions comparable; compressing each Σ onto its own
leading eigenvectors would give diagonal X.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engines.geometry.params import MAX_K as MAX_K  # re-exported where it is used


def symmetric_basis(k: int) -> np.ndarray:
    """An orthonormal basis of Sym(k) for ``tr(AB)``: (d, k, k), d = k(k+1)/2.

    ``E_ii`` for the diagonal, ``(E_ij + E_ji)/√2`` for i < j, in row-major order of (i, j ≤ ...).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    d = k * (k + 1) // 2
    basis = np.zeros((d, k, k))
    a = 0
    for i in range(k):
        basis[a, i, i] = 1.0
        a += 1
        for j in range(i + 1, k):
            basis[a, i, j] = basis[a, j, i] = 1.0 / np.sqrt(2.0)
            a += 1
    return basis


def potential_constant(k: int) -> float:
    """``c_k = (d/2) log((k+1)/2)``, d = k(k+1)/2: makes the equation read ``log det D²F = 2F``."""
    d = k * (k + 1) // 2
    return 0.5 * d * float(np.log((k + 1) / 2.0))


def _spd(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != X.shape[1] or not 1 <= X.shape[0] <= MAX_K:
        raise ValueError(f"X must be k x k with 1 <= k <= {MAX_K}, got shape {X.shape}.")
    if not np.all(np.isfinite(X)) or np.max(np.abs(X - X.T)) > 1e-12 * np.max(np.abs(X)):
        raise ValueError("X must be a finite symmetric matrix.")
    X = 0.5 * (X + X.T)
    try:
        np.linalg.cholesky(X)
    except np.linalg.LinAlgError:
        raise ValueError("X is not positive definite.") from None
    return X


def canonical_potential(X: np.ndarray) -> float:
    """``F(X) = −((k+1)/2) log det X + c_k`` for an SPD k × k matrix (dimensionless, nats)."""
    X = _spd(X)
    k = X.shape[0]
    _, log_det = np.linalg.slogdet(X)
    return -0.5 * (k + 1) * float(log_det) + potential_constant(k)


def potential_hessian(X: np.ndarray) -> np.ndarray:
    """``D²F(X)`` in the basis of :func:`symmetric_basis`, by automatic differentiation (d × d).

    F is evaluated in torch float64 through a Cholesky factor (``log det X = 2 Σ log L_ii``) on
    ``X + Σ_a y_a B_a`` and differentiated twice in y at y = 0.
    """
    X = _spd(X)
    k = X.shape[0]
    base = torch.as_tensor(X, dtype=torch.float64)
    basis = torch.as_tensor(symmetric_basis(k), dtype=torch.float64)

    def potential(y: torch.Tensor) -> torch.Tensor:
        point = base + torch.einsum("a,aij->ij", y, basis)
        chol = torch.linalg.cholesky(point)
        return -(k + 1) * torch.log(torch.diagonal(chol)).sum()

    y0 = torch.zeros(basis.shape[0], dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(potential, y0)
    return hessian.numpy()


@dataclass(frozen=True)
class MongeAmpereCheck:
    """``residual = log_det_hessian − two_potential`` (nats; 0 in exact arithmetic) at a k × k X."""

    k: int
    log_det_hessian: float
    two_potential: float
    residual: float
    condition_number: float


def monge_ampere_check(X: np.ndarray) -> MongeAmpereCheck:
    """``log det D²F(X) − 2F(X)`` with the Hessian from autograd (see the module docstring)."""
    X = _spd(X)
    sign, log_det = np.linalg.slogdet(potential_hessian(X))
    if sign <= 0:
        raise ValueError("The Hessian of F is not positive definite: X is too ill-conditioned.")
    two_f = 2.0 * canonical_potential(X)
    return MongeAmpereCheck(
        k=int(X.shape[0]),
        log_det_hessian=float(log_det),
        two_potential=two_f,
        residual=float(log_det) - two_f,
        condition_number=float(np.linalg.cond(X)),
    )


def leading_directions(W: np.ndarray, k: int) -> np.ndarray:
    """The k leading eigenvectors of ``W Wᵀ`` (left singular vectors of W), as columns (n, k).

    From the m × m Gram matrix: ``WᵀW V = V diag(s²)``, ``U = W V / s`` (re-orthonormalized by a
    QR step), an O(n m²) computation that never forms an n × n matrix. Raises ValueError when
    ``s_k² ≤ m u s_1²``: W then has numerical rank < k and the k-th direction is undefined.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or not 1 <= k <= min(MAX_K, *W.shape):
        raise ValueError(f"Need a 2-D W and 1 <= k <= min({MAX_K}, n, m); got {W.shape}, k={k}.")
    squares, v = np.linalg.eigh(W.T @ W)
    squares, v = squares[::-1][:k], v[:, ::-1][:, :k]
    if not squares[-1] > W.shape[1] * np.finfo(np.float64).eps * squares[0]:
        raise ValueError(f"W has numerical rank < k = {k}: its leading directions are undefined.")
    q, r = np.linalg.qr(W @ (v / np.sqrt(squares)))
    return q * np.sign(np.diag(r))


def compression(W: np.ndarray, directions: np.ndarray, epsilon: float = 0.0) -> np.ndarray:
    """``Pᵀ (W Wᵀ + ε I) P = (PᵀW)(PᵀW)ᵀ + ε I_k`` for orthonormal columns P (n, k); k × k."""
    W = np.asarray(W, dtype=np.float64)
    P = np.asarray(directions, dtype=np.float64)
    if P.ndim != 2 or W.ndim != 2 or P.shape[0] != W.shape[0]:
        raise ValueError(f"Directions (n, k) and W (n, m) do not match: {P.shape}, {W.shape}.")
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}.")
    if not np.allclose(P.T @ P, np.eye(P.shape[1]), rtol=0.0, atol=1e-10):
        raise ValueError("The directions must be orthonormal columns.")
    B = P.T @ W
    return B @ B.T + epsilon * np.eye(P.shape[1])


def trajectory_residuals(
    weights: Sequence[np.ndarray],
    k: int,
    epsilon: float = 0.0,
    directions: np.ndarray | None = None,
) -> np.ndarray:
    """The Monge–Ampère residual at every checkpoint's compression (one float per W, nats).

    ``directions`` default: the k leading eigenvectors of the LAST ``W Wᵀ``, fixed for all.
    """
    if len(weights) == 0:
        raise ValueError("No checkpoints.")
    if directions is None:
        directions = leading_directions(weights[-1], k)
    elif directions.shape[1] != k:
        raise ValueError(f"directions has {directions.shape[1]} columns, expected k = {k}.")
    return np.array(
        [monge_ampere_check(compression(W, directions, epsilon)).residual for W in weights]
    )
