"""The Wishart cone of an RBM: the spectrum of W Wᵀ, the Marchenko–Pastur law, outliers.

Conventions. ``W`` is the (n, m) weight matrix (n visible, m hidden units). The spectrum of the
n×n matrix W Wᵀ is read from the thin SVD ``W = U diag(s) Vᵀ``: its nonzero eigenvalues are the
squared singular values ``s²`` (also the eigenvalues of the m×m WᵀW), its eigenvectors the left
singular vectors ``U``, and every eigenvalue beyond the first ``min(n, m)`` is 0. One SVD of the
n×m factor (O(n m²)) replaces any n×n eigen-decomposition.

Marchenko–Pastur. If the entries of W are iid N(0, s²) (the RBM's initialization:
``engines.rbm.model.RBM.random`` draws them with std 0.01, the trainer's default), the
``p = min(n, m)`` nonzero eigenvalues of W Wᵀ, with ``N = max(n, m)`` and ratio ``y = p / N``,
are ``N s² x`` where x has the Marchenko–Pastur density of unit variance

    f(x) = sqrt((b - x)(x - a)) / (2π y x),   a = (1 - √y)²,  b = (1 + √y)²,

so the bulk of W Wᵀ fills ``[s²(√N - √p)², s²(√N + √p)²]``. Its CDF is in closed form
(:meth:`MarchenkoPastur.cdf`); the goodness of fit is the Kolmogorov–Smirnov distance between the
empirical CDF of the p eigenvalues and the law, with s either given (the initialization std) or
fitted by moments, ``s² = ‖W‖²_F / (n m)`` (the mean of x is 1), and :class:`MPFit` says which.

Outliers are eigenvalues above ``edge · (1 + c p^(-2/3))`` with ``c = OUTLIER_C = 3``. The
Tracy–Widom scale of the largest eigenvalue relative to the edge is
``√y (1 + √y)^(-2/3) p^(-2/3)`` (Johnstone 2001), at most ``0.63 p^(-2/3)`` (y = 1) and
``0.38 p^(-2/3)`` at n = 1024, m = 256; the margin is therefore ≥ 4.8 Tracy–Widom units (≥ 7.9 at
1024×256), far in the TW₁ tail (P ≲ 1e-4): a noise eigenvalue is essentially never reported. By the
BBP transition, a rank-one signal ``β u hᵀ`` (unit u, h) added to noise of std s leaves the bulk iff
``θ = β / (s √N) > y^(1/4)``; its eigenvalue then tends to ``N s² (θ + 1/θ)(θ + y/θ)``.

The covariance of spin configurations (data or model samples), the other side of the picture, is
:func:`spin_covariance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OUTLIER_C = 3.0
"""Margin above the bulk edge, in units of ``edge · p^(-2/3)``, beyond which an eigenvalue is an
outlier."""

MP_FIT_COLUMNS = (
    "ks",
    "scale2",
    "lower_edge",
    "upper_edge",
    "threshold",
    "n_outliers",
    "scale_fitted",
)
"""The fields of :meth:`MPFit.row`, in order (one row of a per-checkpoint ``mp_fit`` dataset)."""


def _as_factor(W: np.ndarray) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or min(W.shape) < 1:
        raise ValueError(f"W must be a non-empty (n, m) matrix, got shape {W.shape}.")
    if not np.all(np.isfinite(W)):
        raise ValueError("W has non-finite entries.")
    return W


@dataclass(frozen=True)
class WishartSpectrum:
    """The eigen-decomposition of W Wᵀ from the thin SVD of W (n×m).

    ``values`` are the ``p = min(n, m)`` squared singular values, descending; ``vectors`` (n, p)
    the matching orthonormal eigenvectors (left singular vectors); every other eigenvalue is 0.
    """

    vectors: np.ndarray
    values: np.ndarray
    n: int
    m: int

    @property
    def eigenvalues(self) -> np.ndarray:
        """The m eigenvalues of WᵀW, descending (zeros padded when m > n): one ``spectrum`` row."""
        return np.concatenate([self.values, np.zeros(self.m - self.values.size)])

    @property
    def rank_tolerance(self) -> float:
        """Eigenvalues at or below this are zero: numpy's rank rule ``max(n, m) ε s_max``, squared
        (a singular value that small is at the rounding level of the SVD)."""
        s_max = math.sqrt(self.values[0]) if self.values.size else 0.0
        return (max(self.n, self.m) * np.finfo(np.float64).eps * s_max) ** 2

    @property
    def rank(self) -> int:
        return int(np.count_nonzero(self.values > self.rank_tolerance))

    @property
    def condition(self) -> float:
        """λ_max / λ_min of WᵀW: ``inf`` when W has a null direction (rank < m)."""
        if self.rank < self.m:
            return math.inf
        return float(self.values[0] / self.values[-1])


def wishart_spectrum(W: np.ndarray) -> WishartSpectrum:
    """The spectrum and eigenvectors of W Wᵀ (one thin SVD of W, O(n m min(n, m)))."""
    W = _as_factor(W)
    U, s, _ = np.linalg.svd(W, full_matrices=False)
    return WishartSpectrum(vectors=U, values=s * s, n=W.shape[0], m=W.shape[1])


def eigenvector_images(spectrum: WishartSpectrum, count: int, L: int | None = None) -> np.ndarray:
    """The ``count`` leading eigenvectors of W Wᵀ as (count, L, L) images (row-major sites).

    Signs are fixed so that each vector's entry of largest magnitude is positive (eigenvectors are
    defined up to sign; this makes images of successive checkpoints comparable). ``L`` defaults to
    √n.
    """
    n = spectrum.n
    if L is None:
        L = math.isqrt(n)
    if n != L * L:
        raise ValueError(f"{n} visible units are not an L×L lattice (L = {L}).")
    if not 0 <= count <= spectrum.values.size:
        raise ValueError(f"count must be in [0, {spectrum.values.size}], got {count}.")
    vectors = spectrum.vectors[:, :count].T.copy()
    peak = vectors[np.arange(count), np.argmax(np.abs(vectors), axis=1)]
    vectors *= np.where(peak < 0, -1.0, 1.0)[:, None]
    return vectors.reshape(count, L, L)


@dataclass(frozen=True)
class MarchenkoPastur:
    """The law of the nonzero eigenvalues of W Wᵀ for W (n×m) with iid N(0, scale2) entries."""

    n: int
    m: int
    scale2: float

    def __post_init__(self) -> None:
        if min(self.n, self.m) < 1:
            raise ValueError(f"n and m must be >= 1, got {self.n}, {self.m}.")
        if not (math.isfinite(self.scale2) and self.scale2 > 0):
            raise ValueError(f"The variance s² must be finite and > 0, got {self.scale2}.")

    @property
    def p(self) -> int:
        """The number of nonzero eigenvalues, min(n, m)."""
        return min(self.n, self.m)

    @property
    def ratio(self) -> float:
        """y = min(n, m) / max(n, m) ∈ (0, 1]."""
        return self.p / max(self.n, self.m)

    @property
    def unit(self) -> float:
        """N s²: eigenvalue = unit · x with x of the unit-variance law."""
        return max(self.n, self.m) * self.scale2

    @property
    def edges(self) -> tuple[float, float]:
        """The bulk ``(s²(√N - √p)², s²(√N + √p)²)``."""
        r = math.sqrt(self.ratio)
        return self.unit * (1.0 - r) ** 2, self.unit * (1.0 + r) ** 2

    def outlier_threshold(self, c: float = OUTLIER_C) -> float:
        """``upper edge · (1 + c p^(-2/3))`` (module doc)."""
        return self.edges[1] * (1.0 + c * self.p ** (-2.0 / 3.0))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """The density of an eigenvalue of W Wᵀ (zero outside the bulk)."""
        a, b = self.edges
        x = np.asarray(x, dtype=np.float64)
        inside = (x > a) & (x < b)
        xs = np.where(inside, x, 0.5 * (a + b))
        density = np.sqrt((b - xs) * (xs - a)) / (2.0 * math.pi * self.ratio * self.unit * xs)
        return np.where(inside, density, 0.0)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The closed-form CDF: ``(G(x) - G(a)) / (2π y)`` in unit-variance variables, with
        ``G(x) = r + (a+b)/2 · asin((2x-a-b)/(b-a)) - √(ab) · asin(((a+b)x - 2ab)/((b-a)x))``,
        ``r = sqrt((b-x)(x-a))``; G' = r/x (differentiate), and G(b) - G(a) = 2πy."""
        y = self.ratio
        a, b = (1.0 - math.sqrt(y)) ** 2, (1.0 + math.sqrt(y)) ** 2
        u = np.asarray(x, dtype=np.float64) / self.unit
        us = np.clip(u, a, b)
        us = np.where(us > 0, us, b)  # a = 0 only when y = 1; x = 0 is handled below
        r = np.sqrt(np.maximum((b - us) * (us - a), 0.0))
        s1 = np.clip((2.0 * us - a - b) / (b - a), -1.0, 1.0)
        s2 = np.clip(((a + b) * us - 2.0 * a * b) / ((b - a) * us), -1.0, 1.0)
        g = r + 0.5 * (a + b) * np.arcsin(s1) - math.sqrt(a * b) * np.arcsin(s2)
        g_a = -0.25 * math.pi * (a + b) + 0.5 * math.pi * math.sqrt(a * b)
        inside = np.clip((g - g_a) / (2.0 * math.pi * y), 0.0, 1.0)
        return np.where(u <= a, 0.0, np.where(u >= b, 1.0, inside))


def ks_distance(values: np.ndarray, law: MarchenkoPastur) -> float:
    """Kolmogorov–Smirnov distance sup |F_emp - F| between the values' empirical CDF and the law."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    k = v.size
    if k == 0:
        raise ValueError("No eigenvalues to compare.")
    F = law.cdf(v)
    i = np.arange(1, k + 1)
    return float(max(np.max(i / k - F), np.max(F - (i - 1) / k)))


@dataclass(frozen=True)
class MPFit:
    """The Marchenko–Pastur law drawn against one spectrum, and how well it fits."""

    law: MarchenkoPastur
    ks: float
    scale_fitted: bool  # True: s² = ‖W‖²_F/(nm) (moments); False: s given (init std)
    threshold: float
    n_outliers: int  # the leading n_outliers eigenvalues are above ``threshold``

    def row(self) -> np.ndarray:
        """The fit as floats, in the order of :data:`MP_FIT_COLUMNS`."""
        lower, upper = self.law.edges
        return np.array(
            [
                self.ks,
                self.law.scale2,
                lower,
                upper,
                self.threshold,
                float(self.n_outliers),
                float(self.scale_fitted),
            ]
        )


def fit_marchenko_pastur(
    spectrum: WishartSpectrum, std: float | None = None, c: float = OUTLIER_C
) -> MPFit:
    """Compare the nonzero spectrum of W Wᵀ with the Marchenko–Pastur law.

    ``std`` is the entries' standard deviation (the initialization's, 0.01 for the trainer);
    ``None`` fits it by moments, ``s² = Σ s_i² / (n m) = ‖W‖²_F / (n m)``. Outliers are counted
    against ``edge · (1 + c p^(-2/3))`` (module doc).
    """
    if std is None:
        scale2 = float(np.sum(spectrum.values)) / (spectrum.n * spectrum.m)
    else:
        if not (math.isfinite(std) and std > 0):
            raise ValueError(f"std must be a finite number > 0, got {std!r}.")
        scale2 = float(std) ** 2
    law = MarchenkoPastur(spectrum.n, spectrum.m, scale2)
    threshold = law.outlier_threshold(c)
    return MPFit(
        law=law,
        ks=ks_distance(spectrum.values, law),
        scale_fitted=std is None,
        threshold=threshold,
        n_outliers=int(np.count_nonzero(spectrum.values > threshold)),
    )


def spin_covariance(configs: np.ndarray, centred: bool = False) -> np.ndarray:
    """The (n, n) covariance of ±1 configurations of shape (N, L, L) or (N, n), n = L².

    Default: the second moment ``⟨v vᵀ⟩`` (ones on the diagonal). Ising data and an RBM trained on
    them are Z2-symmetric, so the true mean is 0 and the second moment *is* the covariance; the
    sample mean of an ordered-phase sample is ±|m| by accident of which sign the chains picked,
    and subtracting it would remove the long-range order from the matrix. ``centred=True``
    subtracts the sample mean (for data without the symmetry). Data's and model's covariance are
    this function applied to each set of samples.
    """
    v = np.asarray(configs)
    if v.ndim == 3:
        v = v.reshape(v.shape[0], -1)
    if v.ndim != 2 or v.shape[0] < 1:
        raise ValueError(f"configs must have shape (N, L, L) or (N, n), got {np.shape(configs)}.")
    v = v.astype(np.float64)
    if not np.all(np.abs(v) == 1.0):
        raise ValueError("configs must contain only ±1 spins.")
    if centred:
        v = v - v.mean(axis=0)
    return (v.T @ v) / v.shape[0]
