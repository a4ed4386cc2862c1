"""Distances and geodesics on the cone of positive semi-definite matrices.

Four metrics, for n×n symmetric A, B (a distance has the units of its formula: BW that of √A,
the others are dimensionless):

* affine-invariant  ``‖log(A^{-1/2} B A^{-1/2})‖_F = sqrt(Σ log² λ_i)``, λ_i the eigenvalues of
  A⁻¹B; geodesic ``A^{1/2} (A^{-1/2} B A^{-1/2})^t A^{1/2}``;
* log-Euclidean  ``‖log A - log B‖_F``; geodesic ``exp((1-t) log A + t log B)``;
* Bures–Wasserstein  ``sqrt(tr A + tr B - 2 tr (A^{1/2} B A^{1/2})^{1/2})`` (the 2-Wasserstein
  distance between N(0, A) and N(0, B)), defined on the whole closed cone, rank-deficient
  boundary included; geodesic ``((1-t)I + tT) A ((1-t)I + tT)`` with T the Brenier map A → B, or
  for factors A = W₀W₀ᵀ, B = W₁W₁ᵀ the straight line ``(1-t) W₀ + t W₁ Q`` after the optimal
  rotation Q (:func:`bures_wasserstein_geodesic_factor`, valid on the boundary too);
* Thompson  ``max_i |log λ_i(A⁻¹B)|``. The affine-invariant geodesic is also a Thompson geodesic
  (along it the eigenvalues of A⁻¹γ(t) are λ_i^t, so every |log| scales by t): use it
  (``GEODESICS["thompson"]``). Thompson geodesics are not unique.

The trace ``tr (A^{1/2} B A^{1/2})^{1/2}`` is computed as the nuclear norm of ``A^{1/2} B^{1/2}``
(singular values, no squaring); BW² then loses ~ε_mach (tr A + tr B) to cancellation, so BW is
accurate to ~1e-8 sqrt(tr A + tr B) absolutely when A ≈ B.

Regularization is explicit. Affine-invariant, log-Euclidean and Thompson need full rank: every
function takes ``eps`` and works on ``Σ + εI``; with ``eps = 0`` a singular input (smallest
eigenvalue ≤ n ε_mach λ_max) raises ``ValueError``. Bures–Wasserstein takes ``eps`` too, for
comparing the same regularized points, but needs none.

Factored points (RBM checkpoints). :class:`FactoredPSD` is ``W Wᵀ + εI`` kept as the thin SVD of
W (n×m): eigenvalues ``s² + ε`` on the range of W and ε on its complement. Both points of a pair
act as multiples of the identity on the complement V⊥ of ``V = range W_a + range W_b`` (dimension
k ≤ m_a + m_b), so every metric splits into a k×k problem on V plus a closed-form term from V⊥,
``(n - k)`` times the one-dimensional distance between ε_a and ε_b (zero when they are equal):
:func:`factored_distances`, O(n m² + k³) instead of O(n³) (about 0.25 s per pair, all four metrics,
at n = 1024, m = 256 on one core). Bures–Wasserstein with ε = 0 on both is
``tr A + tr B - 2‖W₀ᵀW₁‖_*`` (an m×m SVD); with ε > 0 the trace of the root is the sum of the
square roots of the eigenvalues of ``A_V^{1/2} B_V A_V^{1/2}`` (all ≥ ε², so no precision is lost
to the square root).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engines.geometry.spectrum import WishartSpectrum, wishart_spectrum

METRICS = ("affine_invariant", "log_euclidean", "bures_wasserstein", "thompson")

_EPS = np.finfo(np.float64).eps
_ORTH_TOL = 1e-8
"""Directions of range W_b with a component below this outside range W_a are dropped from V: the
neglected part enters the distances at second order (≲ 1e-16 λ_max/ε relative)."""


# ----------------------------------------------------------------------------- dense matrices
def _check_eps(eps: float) -> float:
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}.")
    return float(eps)


def psd_eigh(
    A: np.ndarray, eps: float = 0.0, name: str = "The matrix", full_rank: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition (ascending) of ``A + εI`` after checking that A is a finite symmetric
    PSD matrix (and A + εI full rank when asked: else ValueError naming ``name``); eigenvalues
    within rounding of 0 (≤ n ε_mach max|λ|) are set to exactly 0."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise ValueError(f"{name} must be a square matrix, got shape {A.shape}.")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} has non-finite entries.")
    n = A.shape[0]
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    if np.max(np.abs(A - A.T)) > 1e3 * n * _EPS * scale:
        raise ValueError(f"{name} is not symmetric.")
    w, V = np.linalg.eigh(0.5 * (A + A.T) + eps * np.eye(n))
    tol = n * _EPS * max(float(np.max(np.abs(w))), 0.0)
    if w[0] < -tol:
        raise ValueError(f"{name} is not positive semi-definite (eigenvalue {w[0]:.3g}).")
    if full_rank and w[0] <= tol:
        raise ValueError(
            f"{name} is singular (smallest eigenvalue {w[0]:.3g} <= {tol:.3g}); this metric needs "
            "full rank: pass eps > 0 (or a larger eps) to use Σ + εI."
        )
    return np.where(w > tol, w, 0.0), V


def _fun(V: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``V diag(values) Vᵀ``."""
    return (V * values) @ V.T


def _generalized_eigenvalues(A: np.ndarray, B: np.ndarray, eps: float) -> np.ndarray:
    """Eigenvalues of (A+εI)⁻¹(B+εI), both checked to be full rank."""
    wa, Va = psd_eigh(A, eps, "A", full_rank=True)
    psd_eigh(B, eps, "B", full_rank=True)
    inv_sqrt = _fun(Va, wa**-0.5)
    M = inv_sqrt @ (np.asarray(B, dtype=np.float64) + eps * np.eye(wa.size)) @ inv_sqrt
    return np.linalg.eigvalsh(0.5 * (M + M.T))


def affine_invariant(A: np.ndarray, B: np.ndarray, eps: float = 0.0) -> float:
    """``‖log((A+εI)^{-1/2} (B+εI) (A+εI)^{-1/2})‖_F``."""
    lam = _generalized_eigenvalues(A, B, _check_eps(eps))
    return float(np.sqrt(np.sum(np.log(lam) ** 2)))


def thompson(A: np.ndarray, B: np.ndarray, eps: float = 0.0) -> float:
    """``max_i |log λ_i((A+εI)⁻¹(B+εI))|``."""
    lam = _generalized_eigenvalues(A, B, _check_eps(eps))
    return float(np.max(np.abs(np.log(lam))))


def log_euclidean(A: np.ndarray, B: np.ndarray, eps: float = 0.0) -> float:
    """``‖log(A+εI) - log(B+εI)‖_F``."""
    eps = _check_eps(eps)
    wa, Va = psd_eigh(A, eps, "A", full_rank=True)
    wb, Vb = psd_eigh(B, eps, "B", full_rank=True)
    return float(np.linalg.norm(_fun(Va, np.log(wa)) - _fun(Vb, np.log(wb))))


def bures_wasserstein(A: np.ndarray, B: np.ndarray, eps: float = 0.0) -> float:
    """``sqrt(tr A + tr B - 2 ‖A^{1/2} B^{1/2}‖_*)`` on ``A + εI``, ``B + εI`` (ε = 0 is fine)."""
    eps = _check_eps(eps)
    wa, Va = psd_eigh(A, eps, "A", full_rank=False)
    wb, Vb = psd_eigh(B, eps, "B", full_rank=False)
    nuclear = np.sum(np.linalg.svd(_fun(Va, np.sqrt(wa)) @ _fun(Vb, np.sqrt(wb)), compute_uv=False))
    return float(math.sqrt(max(np.sum(wa) + np.sum(wb) - 2.0 * nuclear, 0.0)))


DISTANCES: dict[str, Callable[..., float]] = {
    "affine_invariant": affine_invariant,
    "log_euclidean": log_euclidean,
    "bures_wasserstein": bures_wasserstein,
    "thompson": thompson,
}


def _check_t(t: float) -> float:
    if not math.isfinite(t):
        raise ValueError(f"t must be finite, got {t!r}.")
    return float(t)


def affine_invariant_geodesic(
    A: np.ndarray, B: np.ndarray, t: float, eps: float = 0.0
) -> np.ndarray:
    """``A^{1/2} (A^{-1/2} B A^{-1/2})^t A^{1/2}`` on the regularized points (also Thompson's)."""
    t, eps = _check_t(t), _check_eps(eps)
    wa, Va = psd_eigh(A, eps, "A", full_rank=True)
    psd_eigh(B, eps, "B", full_rank=True)
    root, inv_root = _fun(Va, np.sqrt(wa)), _fun(Va, wa**-0.5)
    M = inv_root @ (np.asarray(B, dtype=np.float64) + eps * np.eye(wa.size)) @ inv_root
    wm, Vm = np.linalg.eigh(0.5 * (M + M.T))
    G = root @ _fun(Vm, wm**t) @ root
    return 0.5 * (G + G.T)


def log_euclidean_geodesic(A: np.ndarray, B: np.ndarray, t: float, eps: float = 0.0) -> np.ndarray:
    """``exp((1-t) log A + t log B)`` on the regularized points."""
    t, eps = _check_t(t), _check_eps(eps)
    wa, Va = psd_eigh(A, eps, "A", full_rank=True)
    wb, Vb = psd_eigh(B, eps, "B", full_rank=True)
    L = (1.0 - t) * _fun(Va, np.log(wa)) + t * _fun(Vb, np.log(wb))
    wl, Vl = np.linalg.eigh(0.5 * (L + L.T))
    return _fun(Vl, np.exp(wl))


def brenier_from_eigh(
    wa: np.ndarray, Va: np.ndarray, B: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The Brenier map ``T = A^{-1/2} (A^{1/2} B A^{1/2})^{1/2} A^{-1/2}`` from N(0, A) to N(0, B)
    and the eigenvalues μ (clipped ≥ 0) of ``A^{1/2} B A^{1/2}`` (``Σ √μ`` enters W₂²).

    A is given by its eigen-decomposition ``Va diag(wa) Vaᵀ`` (all wa > 0), B as a dense PSD
    matrix; the one implementation behind :func:`bures_wasserstein_map` and
    :func:`engines.geometry.gaussian_ot.brenier_map` (which reuses a stored decomposition).
    """
    root, inv_root = _fun(Va, np.sqrt(wa)), _fun(Va, wa**-0.5)
    M = root @ np.asarray(B, dtype=np.float64) @ root
    wm, Vm = np.linalg.eigh(0.5 * (M + M.T))
    wm = np.maximum(wm, 0.0)
    T = inv_root @ _fun(Vm, np.sqrt(wm)) @ inv_root
    return 0.5 * (T + T.T), wm


def bures_wasserstein_map(A: np.ndarray, B: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """The optimal transport map N(0, A) → N(0, B), ``T = A^{-1/2} (A^{1/2} B A^{1/2})^{1/2}
    A^{-1/2}`` (symmetric, T A T = B); A + εI must be nonsingular (else T is not unique)."""
    eps = _check_eps(eps)
    wa, Va = psd_eigh(A, eps, "A", full_rank=True)
    psd_eigh(B, eps, "B", full_rank=False)
    B = np.asarray(B, dtype=np.float64) + eps * np.eye(wa.size)
    return brenier_from_eigh(wa, Va, B)[0]


def bures_wasserstein_geodesic(
    A: np.ndarray, B: np.ndarray, t: float, eps: float = 0.0
) -> np.ndarray:
    """``((1-t)I + tT) A ((1-t)I + tT)``, T the Brenier map (A + εI nonsingular; for a
    rank-deficient A use :func:`bures_wasserstein_geodesic_factor`)."""
    t, eps = _check_t(t), _check_eps(eps)
    T = bures_wasserstein_map(A, B, eps)
    n = T.shape[0]
    M = (1.0 - t) * np.eye(n) + t * T
    G = M @ (np.asarray(A, dtype=np.float64) + eps * np.eye(n)) @ M
    return 0.5 * (G + G.T)


def bures_wasserstein_geodesic_factor(W0: np.ndarray, W1: np.ndarray, t: float) -> np.ndarray:
    """A factor W_t of the BW geodesic from W₀W₀ᵀ to W₁W₁ᵀ: ``(1-t) W₀ + t W₁ Q``.

    Q (m×m orthogonal) is the polar factor ``V Uᵀ`` of ``W₀ᵀ W₁ = U S Vᵀ``, which maximizes
    ``tr(W₀ᵀ W₁ Q) = ‖W₀ᵀW₁‖_*``, so ``‖W₀ - W₁Q‖_F = BW`` and the straight line between the
    aligned factors is the McCann interpolation (valid for rank-deficient endpoints).
    """
    t = _check_t(t)
    W0, W1 = np.asarray(W0, dtype=np.float64), np.asarray(W1, dtype=np.float64)
    if W0.ndim != 2 or W0.shape != W1.shape:
        raise ValueError(f"W0 and W1 must be matrices of one shape, got {W0.shape}, {W1.shape}.")
    U, _, Vt = np.linalg.svd(W0.T @ W1)
    return (1.0 - t) * W0 + t * (W1 @ (Vt.T @ U.T))


GEODESICS: dict[str, Callable[..., np.ndarray]] = {
    "affine_invariant": affine_invariant_geodesic,
    "log_euclidean": log_euclidean_geodesic,
    "bures_wasserstein": bures_wasserstein_geodesic,
    "thompson": affine_invariant_geodesic,
}


def dense_distance(metric: str, A: np.ndarray, B: np.ndarray, eps: float = 0.0) -> float:
    """The distance named ``metric`` (one of :data:`METRICS`) between n×n matrices."""
    if metric not in DISTANCES:
        raise ValueError(f"Unknown metric {metric!r}; use one of {METRICS}.")
    return DISTANCES[metric](A, B, eps)


# --------------------------------------------------------------------------- factored points
@dataclass(frozen=True)
class FactoredPSD:
    """``Σ = W Wᵀ + εI`` (n×n) kept as the spectrum of W Wᵀ (thin SVD of W) and ε."""

    spectrum: WishartSpectrum
    eps: float = 0.0

    def __post_init__(self) -> None:
        _check_eps(self.eps)

    @classmethod
    def from_factor(cls, W: np.ndarray, eps: float = 0.0) -> FactoredPSD:
        return cls(wishart_spectrum(W), eps)

    @property
    def n(self) -> int:
        return self.spectrum.n

    @property
    def range_vectors(self) -> np.ndarray:
        """(n, r) orthonormal basis of range W (numerical rank r)."""
        return self.spectrum.vectors[:, : self.spectrum.rank]

    @property
    def range_values(self) -> np.ndarray:
        """The r nonzero eigenvalues of W Wᵀ (descending), ε not added."""
        return self.spectrum.values[: self.spectrum.rank]

    @property
    def eigenvalues(self) -> np.ndarray:
        """All n eigenvalues of Σ, descending: ``s² + ε`` on the range, then ε (n - r times)."""
        return np.concatenate(
            [self.range_values + self.eps, np.full(self.n - self.range_values.size, self.eps)]
        )

    @property
    def trace(self) -> float:
        return float(np.sum(self.range_values) + self.n * self.eps)

    @property
    def is_singular(self) -> bool:
        return self.eps == 0.0 and self.range_values.size < self.n

    def dense(self) -> np.ndarray:
        """The n×n matrix (O(n² r); for small n and for tests)."""
        U = self.range_vectors
        return (U * self.range_values) @ U.T + self.eps * np.eye(self.n)

    def compress(self, B: np.ndarray) -> np.ndarray:
        """``Bᵀ Σ B`` for an (n, k) matrix B (O(n r k))."""
        C = B.T @ self.range_vectors
        return (C * self.range_values) @ C.T + self.eps * (B.T @ B)


@dataclass(frozen=True)
class _Joint:
    """Two factored points on V = range A + range B (module doc): A_V = diag(a), B_V = C diag(lb)
    Cᵀ + ε_b I, C the coordinates of B's range vectors in V; k = dim V."""

    a: np.ndarray
    C: np.ndarray
    lb: np.ndarray
    eps_b: float
    k: int


def _joint(P: FactoredPSD, Q: FactoredPSD) -> _Joint:
    Ua, la = P.range_vectors, P.range_values
    Ub, lb = Q.range_vectors, Q.range_values
    coords = Ua.T @ Ub
    R = Ub - Ua @ coords
    second = Ua.T @ R  # re-orthogonalize ("twice is enough")
    R -= Ua @ second
    coords += second
    # coordinates of R in an orthonormal basis of its range: R = Q_R T (QR, Q_R never formed),
    # T = U S Vᵀ, so R = (Q_R U) S Vᵀ; only S Vᵀ is needed
    _, sr, Vrt = np.linalg.svd(np.linalg.qr(R, mode="r"))
    keep = sr > _ORTH_TOL
    extra = int(np.count_nonzero(keep))
    C = np.vstack([coords, sr[keep, None] * Vrt[keep]])
    k = la.size + extra
    a = np.concatenate([la + P.eps, np.full(extra, P.eps)])
    return _Joint(a=a, C=C, lb=lb, eps_b=Q.eps, k=k)


def _b_function(j: _Joint, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """f(B_V) = C diag(f(lb + ε_b) - f(ε_b)) Cᵀ + f(ε_b) I (f(ε_b) = 0 taken when ε_b = 0)."""
    f0 = float(f(np.array([j.eps_b]))[0]) if j.eps_b > 0 else 0.0
    return (j.C * (f(j.lb + j.eps_b) - f0)) @ j.C.T + f0 * np.eye(j.k)


def _singular_error(which: str) -> ValueError:
    return ValueError(
        f"{which} = W Wᵀ + εI is singular (rank < n with ε = 0); this metric needs full rank: "
        "use eps > 0."
    )


def factored_distances(
    P: FactoredPSD, Q: FactoredPSD, metrics: Sequence[str] = METRICS
) -> dict[str, float]:
    """The distances named in ``metrics`` between two factored points (module doc)."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; use some of {METRICS}.")
    if P.n != Q.n:
        raise ValueError(f"The points have different sizes, {P.n} and {Q.n}.")
    n = P.n
    out: dict[str, float] = {}
    if "bures_wasserstein" in metrics and P.eps == 0.0 and Q.eps == 0.0:
        cross = P.range_vectors.T @ Q.range_vectors
        M = np.sqrt(P.range_values)[:, None] * cross * np.sqrt(Q.range_values)[None, :]
        nuclear = float(np.sum(np.linalg.svd(M, compute_uv=False))) if M.size else 0.0
        out["bures_wasserstein"] = math.sqrt(max(P.trace + Q.trace - 2.0 * nuclear, 0.0))
    rest = [m for m in metrics if m not in out]
    if not rest:
        return out
    j = _joint(P, Q)
    rest_n = n - j.k
    full_rank = [m for m in rest if m != "bures_wasserstein"]
    if full_rank:
        if P.is_singular:
            raise _singular_error("The first point")
        if Q.is_singular:
            raise _singular_error("The second point")
    if {"affine_invariant", "thompson", "bures_wasserstein"} & set(rest):
        B = _b_function(j, lambda x: x)  # B_V
    if "affine_invariant" in rest or "thompson" in rest:
        s = 1.0 / np.sqrt(j.a)
        mu = np.linalg.eigvalsh(s[:, None] * B * s[None, :])
        log_mu = np.log(mu)
        c = math.log(Q.eps / P.eps) if rest_n else 0.0
        if "affine_invariant" in rest:
            out["affine_invariant"] = math.sqrt(float(np.sum(log_mu**2)) + rest_n * c * c)
        if "thompson" in rest:
            out["thompson"] = max(float(np.max(np.abs(log_mu))), abs(c))
    if "log_euclidean" in rest:
        D = -_b_function(j, np.log)
        D[np.diag_indices(j.k)] += np.log(j.a)
        c = math.log(Q.eps / P.eps) if rest_n else 0.0
        out["log_euclidean"] = math.sqrt(float(np.sum(D * D)) + rest_n * c * c)
    if "bures_wasserstein" in rest:
        s = np.sqrt(j.a)
        mu = np.linalg.eigvalsh(s[:, None] * B * s[None, :])  # A_V^{1/2} B_V A_V^{1/2}
        nuclear = float(np.sum(np.sqrt(np.maximum(mu, 0.0))))
        c = math.sqrt(P.eps) - math.sqrt(Q.eps)
        bw2 = float(np.sum(j.a)) + float(np.sum(j.lb)) + j.k * Q.eps - 2.0 * nuclear
        out["bures_wasserstein"] = math.sqrt(max(bw2 + rest_n * c * c, 0.0))
    return {m: out[m] for m in metrics}


def factored_distance(metric: str, P: FactoredPSD, Q: FactoredPSD) -> float:
    """One distance between factored points (:func:`factored_distances`)."""
    return factored_distances(P, Q, (metric,))[metric]
