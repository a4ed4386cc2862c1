"""The Wasserstein view of learning: line-shape and optimal-transport scores (Gai & Zhang).

Reference: K. Gai and S. Zhang, "A Mathematical Principle of Deep Learning: Learn the Geodesic
Curve in the Wasserstein Space" (arXiv:2102.09235 v1–v2, 2021), revised as "Deep Residual
Networks Learn the Geodesic Curve in the Wasserstein Space" (v3). Their abstract: "the data tracks
of a ResNet tend to be line-shaped in terms of the line-shape score, and the map learned by a
ResNet is closer to the optimal transport map in terms of the optimal transport score".

**Provenance of the definitions.** Only the abstract of the paper could be read here (the stored
copies of arXiv, ar5iv and the HTML version stop after the abstract, and no code of the authors
was found). The exact formulas and normalisations of the paper are therefore NOT quoted; what is
implemented are the natural definitions below. The one independent statement found is in
Aubry, Meng, Sugolov & Papyan, "Transformer Block Coupling and its Correlation with
Generalization in LLMs" (ICLR 2025, arXiv:2407.07810), which uses "the line-shape score (LSS),
defined by Gai & Zhang (2021)" as ``LSS = L / ‖x̃^L − x̃^0‖`` on a track whose steps are
normalised to unit length (``x̃^{l+1} = x̃^l + (x^{l+1} − x^l)/‖x^{l+1} − x^l‖``) and notes
``LSS ≥ 1``. That variant is offered as ``unit_steps=True``; both variants are ≥ 1 with equality
exactly for straight tracks, so they share the paper's stated orientation.

Definitions (all scores ≥ 1, with 1 for the geodesic / optimal case):

* **Line-shape score** of a track x₀ → x₁ → … → x_K in a metric space (d):
  ``LSS = Σ_k d(x_k, x_{k+1}) / d(x₀, x_K)`` ≥ 1 by the triangle inequality, = 1 iff the points lie
  in order on a geodesic (a straight segment, monotonically, in a normed space). With
  ``unit_steps`` every non-zero step is first rescaled to length 1, so the score is
  ``(number of moving steps) / d(x₀, x̃_K)`` and each step counts equally however long it is.
  Aggregated over N tracks as the mean with its standard error (std over tracks / √n, tracks are
  independent), plus the median and the pooled ratio ``Σ path / Σ chord``.
  Degenerate tracks: a *static* track (path length 0) has no shape — its score is NaN and it is
  left out; a *closed* track (chord 0 < path, e.g. an RBM chain v → v′ → v that comes back) has
  score +inf and is also left out of the mean/SE/median (counted in ``n_closed``); both enter the
  pooled ratio through their lengths (a closed track adds path but no chord).
* **Optimal-transport score** of a map given as pairs (x_i, T(x_i)), i = 1 … N:
  ``OTS = (1/N) Σ_i c(x_i, T(x_i)) / OT_c(μ, ν)``, μ = (1/N) Σ δ_{x_i}, ν = (1/N) Σ δ_{T(x_i)},
  ``OT_c(μ, ν) = min over couplings π of Σ π_ij c(x_i, T(x_j))``. The map's own pairing is one
  coupling, so OTS ≥ 1 (exact solver), = 1 iff the map's pairing is an optimal one. Invariant to
  the order of the samples and to scaling the cost. If OT_c = 0 the score is 1 when the map cost
  is 0 too (T = identity on the sample) and +inf otherwise (T permutes identical sets).
  A map that is optimal for the population scores exactly 1 at every N (the support of an
  optimal plan is cyclically monotone, and so is any sample of it); a map that is not scores
  closer to 1 on small samples, where fewer competing partners exist (x → decimated block spins
  on 16×16 Ising configurations at T = 2.27: 1.00014 at N = 500, 1.0015 at 2000, 1.0056 at
  10 000). Compare scores at equal N.
* **Distribution-level line shape** of a sequence of empirical measures μ₀, …, μ_K:
  ``Σ_k W(μ_k, μ_{k+1}) / W(μ₀, μ_K)`` ≥ 1 — the same orientation as LSS (path over chord), i.e.
  the reciprocal of :attr:`engines.geometry.Trajectory.line_shape` (chord over path, ≤ 1). With
  the default cost W is **W₂** (``W₂ = OT_{|·|²}^{1/2}``), the metric whose geodesics are the
  displacement interpolations of the paper's Benamou–Brenier picture; with the Hamming cost it is
  W₁ of the Hamming metric. Displacement interpolants along an optimal plan score exactly 1.

Costs, for any real-valued embedding of configurations in R^d (d = number of sites; ±1 spins,
block spins repeated on the lattice, reconstructions in [−1, 1]), normalised PER SITE:

* ``"sqeuclidean"`` (default): ``c(x, y) = ‖x − y‖² / d``. On ±1 spins it is 4 × the fraction of
  differing spins, so there ``OT = 4 · OT_hamming`` and OTS is the same for both costs.
  W₂ = √OT is the RMS displacement per site, in [0, 2].
* ``"hamming"``: ``c(x, y) = ‖x − y‖₁ / (2d)``, the fraction of differing spins on ±1 vectors; on
  reals in [−1, 1] it is, per site averaged over sites, the smallest probability (over couplings)
  that a ±1 spin of mean x_i and one of mean y_i differ, |x_i − y_i|/2, the total variation
  between the two one-spin laws. It is a metric, so W = OT directly (W₁).
* Track metrics for LSS: ``"euclidean"`` (default, ``‖x − y‖ / √d``, the RMS per site) or
  ``"hamming"`` (as above). The squared Euclidean cost is not a metric and is not offered for LSS.

Solvers (``solver="auto"``): the exact network simplex ``ot.emd`` (POT 0.9) when
``max(N, M) ≤ exact_max`` (default :data:`EXACT_MAX` = 5000); beyond it, the exact
``scipy.optimize.linear_sum_assignment`` when N = M (uniform N-to-N transport is an assignment
problem, Birkhoff — every OTS is of this kind), and Sinkhorn when N ≠ M (e.g. model samples
against a data set of another size). ``"emd"``, ``"assignment"`` (N = M only) and
``"sinkhorn"`` force one.
The threshold was set by measuring, on 16 × 16 Wolff configurations at T = 2.27 (d = 256,
squared-Euclidean cost, one solve, two independent sample sets, shared 2-core machine at load
1–5; peak memory is the resident-set growth of a fresh process):

==========  =========  =====================  =====================  =====================
N = M       emd (s)    emd peak memory (MB)   assignment (s, MB)     Sinkhorn ε=0.04 (s)
==========  =========  =====================  =====================  =====================
500         0.02       +10                    0.05, +5               0.38 (bias +8.5 %)
1000        0.45       +42                    0.38, +20              3.2 (+10 %)
2000        0.59       +158                   1.1, +68               47, load 4.9 (+12 %)
5000        12.9       +990                   13.3, +394             not run
==========  =========  =====================  =====================  =====================

Converged Sinkhorn at ε = 0.04 per site (1 % of the spins, the default of :mod:`engines.
geometry.empirical_ot`) is slower than emd at every size and its plan costs 10 % too much;
larger ε converges faster but is worse (ε = 0.2: +37 %). So emd is used up to where its memory
(≈ 40 N² bytes) stays near a gigabyte; at 10 000 it would need ≈ 4 GB and, growing like
N^3.4, about two minutes per solve. For a near-identity map (x → decimated block spins, the
kind of map OTS scores) the assignment solver was 4 × faster than emd at N = 2000 (0.26 against
0.98 s; 0.0025 against 0.076 s at 500), with a quarter of the memory. At N = 10 000 (same map)
it took 28 s and 2.7 GB peak (the 800 MB cost matrix dominates; building it took 14 s),
against 72 s and 4.2 GB for 300 Sinkhorn iterations at the default ε, whose bracket was only
−0.11 % / +1.0 % wide around the exact value: hence the exact assignment beyond emd whenever
N = M.

Sinkhorn's result is certified by a bracket ``lower ≤ OT ≤ upper``:

* ``upper`` = the cost of the Sinkhorn plan after the rounding of Altschuler, Weed & Rigollet
  (NeurIPS 2017, Alg. 2), an exact coupling of the two uniform measures, hence ≥ OT;
* ``lower`` = ``Σ a_i f_i + Σ b_j g_j`` for the c-transformed Sinkhorn potentials
  (``f_i = min_j C_ij − g_j``, then ``g_j = min_i C_ij − f_i``), a feasible dual pair, hence ≤ OT
  by weak duality.

Both hold for ANY Sinkhorn iterate, converged or not, so Sinkhorn is stopped after
:data:`SINKHORN_MAX_ITERATIONS` (or when ``‖column sums − b‖₂ < 1e-8``) and ``converged`` says
which. The lower bound is by far the better estimate, and it is the ``cost`` Sinkhorn reports
(so an OTS from Sinkhorn is still ≥ 1). Measured at N = 2000 (same configurations; relative
error of lower / upper against emd, 200 iterations, 3–5 s):

====================================  ================  ================  ================
                                       ε = 0.04          ε = 0.02          ε = 0.01
====================================  ================  ================  ================
map x → decimation                     −0.31 % / +14 %   −0.13 % / +2.9 %  −0.06 % / +0.8 %
two independent sample sets            −0.74 % / +13 %   −0.33 % / +6.1 %  −0.24 % / +4.1 %
====================================  ================  ================  ================

The lower bound does not improve past ~50 iterations (it is limited by ε, not by convergence),
hence the defaults :data:`DEFAULT_REG` (ε = 0.01 per site for the squared-Euclidean cost, the
same quarter of a percent of the spins for Hamming; ``‖C‖_∞/ε`` stays below 600, so the kernel
does not underflow and the fast non-log iteration is used) and 300 iterations. Near-identity maps
between ±1 configurations (many almost-tied costs) need 10⁴–10⁵ iterations to converge even at
N = 120; converging is not needed for the bracket.

The a-priori bound of :mod:`engines.geometry.empirical_ot`, ``0 ≤ ⟨P_ε, C⟩ − OT ≤ ε log min(N, M)``
(``H(P_ε) ≤ log N + log M``, any coupling has entropy ≥ max(log N, log M)), is correct for a
converged plan with exact marginals. A stopped iterate P is the exact entropic plan of its own
marginals r, c (total mass 1), so ``⟨P, C⟩ ≤ OT(r, c) + ε log min(N, M)``; rounding changes a
plan by at most ``2δ`` in L1 with ``δ = ‖r − a‖₁ + ‖c − b‖₁`` (their Lemma 7), which gives both
``⟨round(P), C⟩ ≤ ⟨P, C⟩ + 2‖C‖_∞ δ`` and ``OT(r, c) ≤ OT(a, b) + 2‖C‖_∞ δ``; hence
``upper − OT ≤ bias_bound = ε log min(N, M) + 4 ‖C‖_∞ δ``. The error of the reported ``cost``
(the lower bound) is at most the bracket's width ``upper − lower``.

Plans kept for plots: for each source sample its **partner** (the target it sends most mass to:
the assigned partner for emd or assignment between equal-size uniform sets, whose optimal
vertex is a permutation; the argmax of the rounded plan's row for Sinkhorn), the fraction of its
mass on that partner, and the plan's entropy ``H(P) = −Σ P_ij log P_ij`` in nats (log N for a
permutation, up to log N + log M for the independent coupling). The full plan is kept when both
sets have at most :data:`PLAN_MAX` samples.

Error bars of OTS: bootstrap over samples (pairs resampled with replacement, seeded with
``np.random.default_rng(seed)``, seed an int or a list of ints; each replicate solves its own OT
problem with the same solver, so a bootstrap of B costs B more solves — about 30 s each at
N = 10 000: pass a small ``n_bootstrap`` there, or 0).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import ot
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from engines.geometry.lattice_embedding import rbm_reconstruction, repeat_blocks, stack_embedding

EXACT_MAX = 5000
PLAN_MAX = 200
COSTS: tuple[str, ...] = ("sqeuclidean", "hamming")
TRACK_METRICS: tuple[str, ...] = ("euclidean", "hamming")
SOLVERS: tuple[str, ...] = ("auto", "emd", "assignment", "sinkhorn")
DEFAULT_REG: dict[str, float] = {"sqeuclidean": 0.01, "hamming": 0.0025}
"""Entropic regularization in the cost's (per-site) units: a quarter of a percent of the spins
for both costs (the measurement in the module doc)."""
DEFAULT_BOOTSTRAP = 20
SINKHORN_MAX_ITERATIONS = 300
"""Default cap on Sinkhorn iterations: a stopped iterate still gives a certified bracket."""
_EMD_MAX_ITERATIONS = 100_000_000
_SINKHORN_TOLERANCE = 1e-8  # POT's stopping rule: ‖column sums − b‖₂
_LOG_DOMAIN_RATIO = 600.0  # use log-domain Sinkhorn when max C / ε exceeds this (exp underflow)
_CHUNK = 1 << 22  # entries per block of row-wise reductions over (N, M) matrices
_EXPONENT = {"sqeuclidean": 2.0, "hamming": 1.0}


# --------------------------------------------------------------------------- points and costs
def as_points(x: np.ndarray, name: str = "x") -> np.ndarray:
    """Samples (N, ...) as an (N, d) float64 array of finite values (configurations flattened)."""
    x = np.asarray(x)
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (N >= 1, ...), got {x.shape}.")
    x = x.reshape(x.shape[0], -1).astype(np.float64)
    if x.shape[1] < 1:
        raise ValueError(f"{name} has no coordinates.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def _check_cost(cost: str) -> None:
    if cost not in COSTS:
        raise ValueError(f"Unknown cost {cost!r}; valid ones are {', '.join(COSTS)}.")


def _pair_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_points(x, "x"), as_points(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"The samples differ in dimension: {a.shape[1]} and {b.shape[1]}.")
    return a, b


def _is_spins(a: np.ndarray) -> bool:
    return bool(np.all(np.abs(a) == 1))


def pairwise_costs(x: np.ndarray, y: np.ndarray, cost: str = "sqeuclidean") -> np.ndarray:
    """The (N, M) per-site cost between every row of x (N, ...) and of y (M, ...), float64.

    ``"sqeuclidean"``: ‖x − y‖²/d; ``"hamming"``: ‖x − y‖₁/(2d) (module doc). For ±1 inputs both
    come from the exact integer dot products ``(d − x·y)`` (in float32 below 2²⁴ sites); real
    inputs use ``‖x‖² + ‖y‖² − 2 x·y`` after a common centring (clipped at 0) or scipy's
    ``cdist(..., "cityblock")``.
    """
    _check_cost(cost)
    a, b = _pair_points(x, y)
    d = a.shape[1]
    if _is_spins(a) and _is_spins(b) and d < 1 << 24:
        out = (a.astype(np.float32) @ b.astype(np.float32).T).astype(np.float64)
        np.subtract(d, out, out=out)  # 2 × the number of differing spins, exact
        out *= 2.0 if cost == "sqeuclidean" else 0.5  # 4 k or k: exact (powers of two)
        out /= d
        return out
    if cost == "hamming":
        return cdist(a, b, "cityblock") / (2.0 * d)
    centre = 0.5 * (a.mean(axis=0) + b.mean(axis=0))
    a, b = a - centre, b - centre
    sq = np.einsum("ij,ij->i", a, a)[:, None] + np.einsum("ij,ij->i", b, b)[None, :] - 2 * a @ b.T
    return np.maximum(sq, 0.0) / d


def paired_costs(x: np.ndarray, y: np.ndarray, cost: str = "sqeuclidean") -> np.ndarray:
    """(N,) per-site cost c(x_i, y_i) between aligned rows (the cost of a map's own pairing)."""
    _check_cost(cost)
    a, b = _pair_points(x, y)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"A map needs as many images as inputs: {a.shape[0]} and {b.shape[0]}.")
    diff = a - b
    d = a.shape[1]
    if cost == "sqeuclidean":
        return np.einsum("ij,ij->i", diff, diff) / d
    return np.abs(diff).sum(axis=1) / (2.0 * d)


def track_distances(x: np.ndarray, y: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """(N,) per-site distance between aligned rows: ‖x−y‖/√d ("euclidean") or ‖x−y‖₁/(2d)."""
    if metric not in TRACK_METRICS:
        raise ValueError(f"Unknown metric {metric!r}; valid ones are {', '.join(TRACK_METRICS)}.")
    a, b = _pair_points(x, y)
    d = a.shape[1]
    diff = a - b
    if metric == "euclidean":
        return np.sqrt(np.einsum("ij,ij->i", diff, diff) / d)
    return np.abs(diff).sum(axis=1) / (2.0 * d)


# --------------------------------------------------------------------------- optimal transport
def _row_blocks(n_rows: int, n_cols: int):
    step = max(1, _CHUNK // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _plan_entropy(P: np.ndarray) -> float:
    total = 0.0
    for rows in _row_blocks(*P.shape):
        p = P[rows]
        p = p[p > 0]
        total -= float(np.sum(p * np.log(p)))
    return total


def _round_to_coupling(P: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Altschuler–Weed–Rigollet rounding, in place: a coupling of (a, b) within
    2(‖r − a‖₁ + ‖c − b‖₁) of P in L1 (r, c: the row and column sums of P)."""
    r = P.sum(axis=1)
    P *= np.minimum(a / np.where(r > 0, r, 1.0), 1.0)[:, None]
    c = P.sum(axis=0)
    P *= np.minimum(b / np.where(c > 0, c, 1.0), 1.0)[None, :]
    err_r, err_c = a - P.sum(axis=1), b - P.sum(axis=0)
    mass = err_c.sum()
    if mass > 0:
        for rows in _row_blocks(*P.shape):
            P[rows] += err_r[rows, None] * (err_c / mass)[None, :]
    return P


def _dual_lower_bound(C: np.ndarray, a: np.ndarray, b: np.ndarray, g: np.ndarray) -> float:
    """Σ a f + Σ b g for the c-transforms f = min_j C − g, then g = min_i C − f (≤ OT)."""
    g = np.where(np.isfinite(g), g, -np.inf)
    f = np.empty(C.shape[0])
    for rows in _row_blocks(*C.shape):
        f[rows] = np.min(C[rows] - g[None, :], axis=1)
    g2 = np.full(C.shape[1], np.inf)
    for rows in _row_blocks(*C.shape):
        g2 = np.minimum(g2, np.min(C[rows] - f[rows, None], axis=0))
    return float(a @ f + b @ g2)


def _choose_solver(solver: str, N: int, M: int, exact_max: int) -> str:
    """ "auto": emd up to exact_max, then the exact assignment when N = M, else Sinkhorn."""
    if solver not in SOLVERS:
        raise ValueError(f"Unknown solver {solver!r}; valid ones are {', '.join(SOLVERS)}.")
    if solver == "auto":
        if max(N, M) <= exact_max:
            return "emd"
        return "assignment" if N == M else "sinkhorn"
    return solver


def transport_from_costs(
    C: np.ndarray,
    cost: str = "sqeuclidean",
    solver: str = "auto",
    exact_max: int = EXACT_MAX,
    reg: float | None = None,
    plan_max: int = PLAN_MAX,
    max_iterations: int = SINKHORN_MAX_ITERATIONS,
) -> dict:
    """Optimal transport between uniform measures given their (N, M) cost matrix.

    Returns a dict: ``solver`` ("emd", "assignment" or "sinkhorn"), ``cost`` (OT: exact for emd
    and assignment; for Sinkhorn the certified dual lower bound, its best estimate), ``lower``
    and ``upper`` (certified bracket, ``upper`` the rounded plan's cost; both = cost when
    exact), ``bias_bound`` (a-priori bound on upper − OT; 0 when exact), ``distance``,
    ``distance_lower``,
    ``distance_upper`` (W = OT^(1/p), p = 2 for "sqeuclidean", 1 for "hamming"), ``reg`` (NaN for
    emd), ``iterations`` (Sinkhorn; 0 for emd), ``converged`` (Sinkhorn reached its tolerance;
    True for emd), ``marginal_error`` (δ, L1, before rounding),
    ``partner`` (N,) int64, ``partner_mass`` (N,) fraction of each row's mass on its partner,
    ``plan_entropy`` (nats), ``plan`` ((N, M) or None), ``n_source``, ``n_target``.
    """
    return _transport(C, cost, solver, exact_max, reg, plan_max, max_iterations=max_iterations)


Exact = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _transport(
    C: np.ndarray,
    cost: str,
    solver: str,
    exact_max: int,
    reg: float | None,
    plan_max: int,
    exact: Exact | None = None,
    max_iterations: int = SINKHORN_MAX_ITERATIONS,
) -> dict:
    """:func:`transport_from_costs`; ``exact(rows, cols)`` recomputes costs on the support of an
    emd plan from differences, so that an OT cost of 0 comes out as exactly 0 (the expanded
    ``‖x‖² + ‖y‖² − 2x·y`` leaves rounding residues, which W = √OT would magnify)."""
    _check_cost(cost)
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or min(C.shape) < 1 or not np.all(np.isfinite(C)) or np.any(C < 0):
        raise ValueError("The cost matrix must be a non-empty (N, M) array of finite costs >= 0.")
    N, M = C.shape
    a, b = np.full(N, 1.0 / N), np.full(M, 1.0 / M)
    method = _choose_solver(solver, N, M, exact_max)
    if method == "emd":
        P, log = ot.emd(a, b, C, numItermax=_EMD_MAX_ITERATIONS, log=True)
        if log["warning"] is not None:
            raise RuntimeError(f"ot.emd did not reach the optimum: {log['warning']}")
        if exact is None:
            value = float(np.vdot(P, C))
        else:
            rows, cols = np.nonzero(P)
            value = float(np.sum(P[rows, cols] * exact(rows, cols)))
        lower = upper = value
        bias, eps, iterations, marginal, converged = 0.0, math.nan, 0, 0.0, True
    elif method == "assignment":
        if N != M:
            raise ValueError(f"The assignment solver needs N = M, got {N} and {M}.")
        rows, cols = linear_sum_assignment(C)
        P = np.zeros((N, M))
        P[rows, cols] = 1.0 / N
        costs = C[rows, cols] if exact is None else exact(rows, cols)
        value = lower = upper = float(costs.sum() / N)
        bias, eps, iterations, marginal, converged = 0.0, math.nan, 0, 0.0, True
    else:
        eps = DEFAULT_REG[cost] if reg is None else float(reg)
        if not eps > 0:  # also rejects NaN
            raise ValueError(f"reg must be > 0, got {reg}.")
        scale = float(C.max())
        log_domain = scale / eps > _LOG_DOMAIN_RATIO
        with warnings.catch_warnings():  # not converging is reported, and the bracket holds
            warnings.simplefilter("ignore", UserWarning)
            P, log = ot.sinkhorn(
                a,
                b,
                C,
                eps,
                method="sinkhorn_log" if log_domain else "sinkhorn",
                numItermax=max_iterations,
                stopThr=_SINKHORN_TOLERANCE,
                log=True,
            )
        converged = bool(log["err"]) and bool(log["err"][-1] < _SINKHORN_TOLERANCE)
        iterations = int(log["niter"]) + 1
        if not np.all(np.isfinite(P)):
            raise RuntimeError("ot.sinkhorn returned a non-finite plan; increase reg.")
        marginal = float(np.abs(P.sum(axis=1) - a).sum() + np.abs(P.sum(axis=0) - b).sum())
        P = _round_to_coupling(P, a, b)
        upper = float(np.vdot(P, C))
        g = eps * (log["log_v"] if log_domain else np.log(np.maximum(log["v"], 1e-300)))
        value = lower = min(_dual_lower_bound(C, a, b, g), upper)
        bias = eps * math.log(min(N, M)) + 4.0 * scale * marginal
    partner = np.argmax(P, axis=1).astype(np.int64)
    p = _EXPONENT[cost]
    return {
        "solver": method,
        "cost": value,
        "lower": lower,
        "upper": upper,
        "bias_bound": bias,
        "distance": max(value, 0.0) ** (1.0 / p),
        "distance_lower": max(lower, 0.0) ** (1.0 / p),
        "distance_upper": max(upper, 0.0) ** (1.0 / p),
        "reg": eps,
        "iterations": iterations,
        "converged": converged,
        "marginal_error": marginal,
        "partner": partner,
        "partner_mass": P[np.arange(N), partner] * N,
        "plan_entropy": _plan_entropy(P),
        "plan": P if max(N, M) <= plan_max else None,
        "n_source": N,
        "n_target": M,
    }


def optimal_transport(
    x: np.ndarray,
    y: np.ndarray,
    cost: str = "sqeuclidean",
    solver: str = "auto",
    exact_max: int = EXACT_MAX,
    reg: float | None = None,
    plan_max: int = PLAN_MAX,
    max_iterations: int = SINKHORN_MAX_ITERATIONS,
) -> dict:
    """OT between the uniform empirical measures on the rows of x (N, ...) and y (M, ...).

    The dict of :func:`transport_from_costs`, plus ``cost_name`` and ``dim`` (sites per sample).
    """
    X, Y = _pair_points(x, y)
    C = pairwise_costs(X, Y, cost)
    out = _transport(
        C,
        cost,
        solver,
        exact_max,
        reg,
        plan_max,
        lambda r, c: paired_costs(X[r], Y[c], cost),
        max_iterations,
    )
    out["cost_name"] = cost
    out["dim"] = int(np.asarray(x)[0].size)
    return out


def wasserstein(x: np.ndarray, y: np.ndarray, cost: str = "sqeuclidean", **options: Any) -> float:
    """W₂ per site (default cost) or W₁ of the Hamming metric between two sample sets."""
    return float(optimal_transport(x, y, cost, **options)["distance"])


# --------------------------------------------------------------------------- line-shape score
def _tracks(tracks: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    arr = tracks if isinstance(tracks, np.ndarray) else np.stack([np.asarray(t) for t in tracks])
    if arr.ndim < 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"Tracks must have shape (K+1 >= 2, N >= 1, ...), got {arr.shape}.")
    arr = arr.reshape(arr.shape[0], arr.shape[1], -1).astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("The tracks contain NaN or infinite values.")
    return arr


def _norms(diff: np.ndarray, metric: str) -> np.ndarray:
    d = diff.shape[-1]
    if metric == "euclidean":
        return np.sqrt(np.einsum("...i,...i->...", diff, diff) / d)
    return np.abs(diff).sum(axis=-1) / (2.0 * d)


def line_shape_score(
    tracks: np.ndarray | Sequence[np.ndarray],
    metric: str = "euclidean",
    unit_steps: bool = False,
    distance: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> dict:
    """LSS of N tracks x₀ → … → x_K given as an array (K+1, N, ...) or K+1 arrays (N, ...).

    ``metric``: "euclidean" or "hamming" (per-site, module doc); or ``distance``, a callable
    ``(x (N, d), y (N, d)) -> (N,)`` metric on aligned rows (then ``unit_steps`` is not
    available). Returns a dict: ``per_track`` (N,) (NaN static, +inf closed), ``path_length``
    (N,), ``chord`` (N,), ``step_lengths`` (K, N), ``mean``, ``sem``, ``std``, ``median`` (over
    the ``n_valid`` finite tracks; NaN if none), ``pooled`` (Σ path / Σ chord over all tracks),
    ``n_tracks``, ``n_valid``, ``n_closed``, ``n_static``, ``n_steps`` (K), ``dim``, ``metric``,
    ``unit_steps``.
    """
    x = _tracks(tracks)
    K, N, d = x.shape[0] - 1, x.shape[1], x.shape[2]
    if distance is not None:
        if unit_steps:
            raise ValueError("unit_steps needs a normed metric ('euclidean' or 'hamming').")

        def dist(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            out = np.asarray(distance(u, v), dtype=np.float64)
            if out.shape != (N,):
                raise ValueError(f"The distance must return shape ({N},), got {out.shape}.")
            return out

        steps = np.stack([dist(x[k], x[k + 1]) for k in range(K)])
        chord = dist(x[0], x[K])
        metric_name = getattr(distance, "__name__", "callable")
    else:
        if metric not in TRACK_METRICS:
            raise ValueError(f"Unknown metric {metric!r}; valid: {', '.join(TRACK_METRICS)}.")
        diff = np.diff(x, axis=0)  # (K, N, d)
        steps = _norms(diff, metric)
        if unit_steps:
            moving = steps > 0
            unit = np.where(moving[..., None], diff / np.where(moving, steps, 1.0)[..., None], 0.0)
            chord = _norms(unit.sum(axis=0), metric)
            steps = moving.astype(np.float64)
        else:
            chord = _norms(x[K] - x[0], metric)
        metric_name = metric
    path = steps.sum(axis=0)
    static = path <= 0
    closed = ~static & (chord <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_track = np.where(static, np.nan, np.where(closed, np.inf, path / chord))
    valid = np.isfinite(per_track)
    values = per_track[valid]
    n_valid = int(values.size)
    total_chord = float(chord.sum())
    return {
        "per_track": per_track,
        "path_length": path,
        "chord": chord,
        "step_lengths": steps,
        "mean": float(values.mean()) if n_valid else math.nan,
        "sem": float(values.std(ddof=1) / math.sqrt(n_valid)) if n_valid > 1 else math.nan,
        "std": float(values.std(ddof=1)) if n_valid > 1 else math.nan,
        "median": float(np.median(values)) if n_valid else math.nan,
        "pooled": float(path.sum()) / total_chord if total_chord > 0 else math.nan,
        "n_tracks": N,
        "n_valid": n_valid,
        "n_closed": int(closed.sum()),
        "n_static": int(static.sum()),
        "n_steps": K,
        "dim": d,
        "metric": metric_name,
        "unit_steps": bool(unit_steps),
    }


# --------------------------------------------------------------------------- OT score
def _ratio(numerator: float, denominator: float, zero: float) -> float:
    """numerator / denominator with 0/0 = 1 and x/0 = inf (``zero``: what counts as 0)."""
    if denominator <= zero:
        return 1.0 if numerator <= zero else math.inf
    return numerator / denominator


def _resampled_exact(X: np.ndarray, Y: np.ndarray, idx: np.ndarray, cost: str) -> Exact:
    """``exact(rows, cols)`` (:func:`_transport`) of the bootstrap sample ``X[idx]``, ``Y[idx]``:
    the paired costs of its rows and columns, indexing through ``idx`` (no copy of X or Y)."""
    return lambda r, c: paired_costs(X[idx[r]], Y[idx[c]], cost)


def optimal_transport_score(
    x: np.ndarray,
    tx: np.ndarray,
    cost: str = "sqeuclidean",
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int | Sequence[int] = 0,
    solver: str = "auto",
    exact_max: int = EXACT_MAX,
    reg: float | None = None,
    plan_max: int = PLAN_MAX,
) -> dict:
    """OTS of the map x_i → tx_i (pairs given as two aligned arrays (N, ...)).

    Returns a dict: ``ots`` (map cost / OT cost; with Sinkhorn OT is its lower bound, so ``ots``
    = ``ots_high``), ``ots_low`` and ``ots_high`` (from the solver's bracket: map / upper,
    map / lower; equal when exact), ``ots_se`` (bootstrap std), ``ots_ci``
    (2,) (2.5 and 97.5 % bootstrap percentiles), ``bootstrap`` (B,) replicate values,
    ``map_cost`` (mean c(x_i, T x_i)) and ``map_cost_se``, ``ot_cost``, ``ot_lower``,
    ``ot_upper``, ``bias_bound``, ``agreement`` (fraction of samples whose optimal partner has the
    same image as their own: T already sends them where an optimal plan does), ``partner``,
    ``partner_mass``, ``plan_entropy``, ``plan``, ``solver``, ``reg``, ``cost``, ``n``, ``dim``,
    ``n_bootstrap``, ``seed``. ``n_bootstrap = 0`` skips the bootstrap (NaN errors).

    Exact property: a nearest-point map onto any set S (T(x) ∈ argmin_{s∈S} c(x, s), ties broken
    anyhow) has OTS = 1, because every other pairing with the images costs at least Σ_i
    min_s c(x_i, s). Majority-rule block spins repeated on the lattice are such a map for both
    costs (the nearest block-constant configuration), so each majority level scores exactly 1;
    decimation and compositions of levels are not, and score above 1. ``agreement`` counts a tie
    (an optimal partner with a different image of equal cost) as a disagreement.
    """
    X, Y = _pair_points(x, tx)
    N: int = X.shape[0]
    if Y.shape[0] != N:
        raise ValueError(f"A map needs as many images as inputs: {N} and {Y.shape[0]}.")
    if (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, (int, np.integer))
        or n_bootstrap < 0
    ):
        raise ValueError(f"n_bootstrap must be a non-negative integer, got {n_bootstrap!r}.")
    C = pairwise_costs(X, Y, cost)
    own = paired_costs(X, Y, cost)
    map_cost = float(own.mean())
    ot_result = _transport(
        C, cost, solver, exact_max, reg, plan_max, lambda r, c: paired_costs(X[r], Y[c], cost)
    )
    zero = 1e-12 * max(float(C.mean()), 1e-300)
    method = ot_result["solver"]
    rng = np.random.default_rng(seed)
    replicates = np.empty(n_bootstrap)
    for r in range(n_bootstrap):
        idx = rng.integers(0, N, size=N)
        res = _transport(
            C[np.ix_(idx, idx)], cost, method, exact_max, reg, 0, _resampled_exact(X, Y, idx, cost)
        )
        replicates[r] = _ratio(float(own[idx].mean()), res["cost"], zero)
    finite = replicates[np.isfinite(replicates)]
    partner = ot_result["partner"]
    same_image = np.all(Y[partner] == Y, axis=1)
    return {
        "ots": _ratio(map_cost, ot_result["cost"], zero),
        "ots_low": _ratio(map_cost, ot_result["upper"], zero),
        "ots_high": _ratio(map_cost, ot_result["lower"], zero),
        "ots_se": float(finite.std(ddof=1)) if finite.size > 1 else math.nan,
        "ots_ci": (np.percentile(finite, [2.5, 97.5]) if finite.size > 1 else np.full(2, math.nan)),
        "bootstrap": replicates,
        "map_cost": map_cost,
        "map_cost_se": float(own.std(ddof=1) / math.sqrt(N)) if N > 1 else math.nan,
        "ot_cost": ot_result["cost"],
        "ot_lower": ot_result["lower"],
        "ot_upper": ot_result["upper"],
        "bias_bound": ot_result["bias_bound"],
        "agreement": float(same_image.mean()),
        "partner": partner,
        "partner_mass": ot_result["partner_mass"],
        "plan_entropy": ot_result["plan_entropy"],
        "plan": ot_result["plan"],
        "solver": method,
        "reg": ot_result["reg"],
        "cost": cost,
        "n": N,
        "dim": X.shape[1],
        "n_bootstrap": int(n_bootstrap),
        "seed": seed,
    }


# --------------------------------------------------------------------------- distribution level
def _line_shape_dict(
    steps: np.ndarray, start: np.ndarray, solvers: list[str], n_samples: np.ndarray, cost: str
) -> dict:
    """The distribution-level dict from (K, 3) steps and distances from the start (value,
    lower, upper)."""
    path = np.cumsum(steps[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        running = np.where(start[:, 0] > 0, path / start[:, 0], np.nan)
    chord = start[-1]
    return {
        "steps": steps[:, 0],
        "steps_lower": steps[:, 1],
        "steps_upper": steps[:, 2],
        "from_start": start[:, 0],
        "from_start_lower": start[:, 1],
        "from_start_upper": start[:, 2],
        "path_length": path,
        "line_shape": float(running[-1]),
        "running": running,
        "line_shape_low": float(steps[:, 1].sum() / chord[2]) if chord[2] > 0 else math.nan,
        "line_shape_high": float(steps[:, 2].sum() / chord[1]) if chord[1] > 0 else math.nan,
        "solvers": solvers,
        "n_samples": n_samples,
        "distance": "W2" if cost == "sqeuclidean" else "W1",
        "cost": cost,
    }


def _distances(result: dict) -> tuple[float, float, float]:
    return result["distance"], result["distance_lower"], result["distance_upper"]


def distribution_line_shape(
    distributions: Sequence[np.ndarray],
    cost: str = "sqeuclidean",
    solver: str = "auto",
    exact_max: int = EXACT_MAX,
    reg: float | None = None,
) -> dict:
    """Line shape of empirical measures μ₀ … μ_K (each an (N_k, ...) sample array): ≥ 1.

    Returns a dict: ``steps`` (K,) W(μ_k, μ_{k+1}); ``from_start`` (K,) W(μ₀, μ_k), k = 1 … K;
    ``path_length`` (K,) cumulative steps; ``line_shape`` = path_length[-1] / from_start[-1];
    ``running`` (K,) = path_length / from_start (NaN where from_start is 0); ``line_shape_low``,
    ``line_shape_high`` (from Sinkhorn's brackets: Σ lower steps / upper chord and the reverse;
    equal to line_shape with emd); ``steps_lower/upper``, ``from_start_lower/upper``; ``solvers``
    (one per solve, steps first), ``n_samples`` (K+1,), ``distance`` ("W2" or "W1"), ``cost``.
    W(μ₀, μ₁) is solved once: 2K − 1 OT problems in all. With Sinkhorn the triangle inequality
    holds only within the brackets, so the score may fall below 1 by their width.
    """
    if len(distributions) < 2:
        raise ValueError("A line shape needs at least two distributions.")
    points = [as_points(m, f"distribution {k}") for k, m in enumerate(distributions)]
    dims = {p.shape[1] for p in points}
    if len(dims) != 1:
        raise ValueError(f"The distributions live in different dimensions: {sorted(dims)}.")
    K = len(points) - 1
    solvers: list[str] = []

    def solve(u: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
        res = optimal_transport(u, v, cost, solver, exact_max, reg, plan_max=0)
        solvers.append(res["solver"])
        return _distances(res)

    steps = np.array([solve(points[k], points[k + 1]) for k in range(K)])  # (K, 3)
    start = np.empty((K, 3))
    start[0] = steps[0]
    for k in range(2, K + 1):
        start[k - 1] = solve(points[0], points[k])
    return _line_shape_dict(steps, start, solvers, np.array([p.shape[0] for p in points]), cost)


# --------------------------------------------------------------------------- what the lab scores
_STACKED = (
    "ots",
    "ots_low",
    "ots_high",
    "ots_se",
    "map_cost",
    "map_cost_se",
    "ot_cost",
    "ot_lower",
    "ot_upper",
    "bias_bound",
    "agreement",
    "plan_entropy",
    "reg",
)


def _stack_ots(results: Sequence[dict]) -> dict:
    """OTS dicts of several maps stacked into arrays (one entry per map)."""
    out: dict[str, np.ndarray | list[str]] = {
        key: np.array([r[key] for r in results]) for key in _STACKED
    }
    out["ots_ci"] = np.array([r["ots_ci"] for r in results]).reshape(len(results), 2)
    out["partner"] = np.array([r["partner"] for r in results])
    out["partner_mass"] = np.array([r["partner_mass"] for r in results])
    out["solver"] = [r["solver"] for r in results]
    return out


def _check_levels(levels: Sequence[np.ndarray]) -> list[np.ndarray]:
    if len(levels) < 2:
        raise ValueError("Scoring needs at least two levels (or steps).")
    arrays = [np.asarray(x) for x in levels]
    shape = arrays[0].shape
    for k, x in enumerate(arrays):
        if x.shape != shape:
            raise ValueError(
                f"Level {k} has shape {x.shape}, level 0 has {shape}: embed the "
                "levels on one lattice first (engines.geometry.lattice_embedding)."
            )
    return arrays


def _ot_distances(result: dict, cost: str) -> tuple[float, float, float]:
    """(W, W_lower, W_upper) from an OTS dict's OT cost and bracket."""
    p = _EXPONENT[cost]
    return tuple(max(result[k], 0.0) ** (1.0 / p) for k in ("ot_cost", "ot_lower", "ot_upper"))


def score_levels(
    levels: Sequence[np.ndarray],
    cost: str = "sqeuclidean",
    metric: str = "euclidean",
    unit_steps: bool = False,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    solver: str = "auto",
    exact_max: int = EXACT_MAX,
    reg: float | None = None,
) -> dict:
    """Scores of samples carried through levels x⁰ → x¹ → … → x^K, all of one shape (N, ...).

    Sample i's track is (x⁰_i, …, x^K_i). Returns ``{"lss": line_shape_score(...), "ots": the
    OTS of each map x^k → x^{k+1} stacked (K entries of ots, ots_low/high, ots_se, ots_ci (K, 2),
    map_cost(_se), ot_cost, ot_lower/upper, bias_bound, agreement, plan_entropy, reg, partner
    (K, N), partner_mass (K, N), solver), "ots_total": the OTS dict of the whole map x⁰ → x^K,
    "distribution": the distribution-level line shape of the levels' empirical measures,
    "n_samples", "n_levels" (K + 1), "dim", "cost", "metric"}``.

    The OT problem of map k is the step W(μ_k, μ_{k+1}) of the distribution-level line shape and
    that of the whole map is its chord, so those are solved once; only W(μ₀, μ_k), 1 < k < K,
    are extra. Bootstrap replicates of map k (k = 0 … K−1; K for the whole map) are seeded with
    ``np.random.default_rng([seed, k])``. With K = 1 the LSS is 1 for every moving track (a
    two-point track is straight) and ``ots_total`` is the one map's dict.
    """
    arrays = _check_levels(levels)
    K = len(arrays) - 1
    lss = line_shape_score(arrays, metric, unit_steps)
    maps = [
        optimal_transport_score(
            arrays[k],
            arrays[k + 1],
            cost,
            n_bootstrap,
            [seed, k],
            solver,
            exact_max,
            reg,
            plan_max=0,
        )
        for k in range(K)
    ]
    total = (
        maps[0]
        if K == 1
        else optimal_transport_score(
            arrays[0], arrays[K], cost, n_bootstrap, [seed, K], solver, exact_max, reg, plan_max=0
        )
    )
    steps = np.array([_ot_distances(r, cost) for r in maps])
    start = np.empty((K, 3))
    start[0], start[K - 1] = steps[0], _ot_distances(total, cost)
    solvers = [r["solver"] for r in maps] + ([total["solver"]] if K > 1 else [])
    for k in range(2, K):
        res = optimal_transport(arrays[0], arrays[k], cost, solver, exact_max, reg, plan_max=0)
        start[k - 1] = _distances(res)
        solvers.append(res["solver"])
    n = np.full(K + 1, arrays[0].shape[0])
    return {
        "lss": lss,
        "ots": _stack_ots(maps),
        "ots_total": total,
        "distribution": _line_shape_dict(steps, start, solvers, n, cost),
        "n_samples": int(arrays[0].shape[0]),
        "n_levels": K + 1,
        "dim": int(arrays[0][0].size),
        "cost": cost,
        "metric": metric,
    }


def score_rbm_flow(flow: Sequence[np.ndarray], **options: Any) -> dict:
    """(a) The RBM flow v → v′ → v″ → … (:func:`engines.rg.rbm_flow`: (N, L, L) ±1 per step).

    Each chain's track is scored by LSS, each step v^k → v^{k+1} by OTS, and the flow of the
    step distributions by the distribution-level line shape; :func:`score_levels`'s dict with
    ``"kind": "rbm_flow"``. ``options`` are those of :func:`score_levels`.
    """
    out = score_levels(flow, **options)
    out["kind"] = "rbm_flow"
    return out


def score_block_spin(levels: Sequence[np.ndarray], **options: Any) -> dict:
    """(b) Block-spin levels ``[level 0 (N, L, L), level 1 (N, L/b, L/b), …]`` (or any coarse
    lattices, e.g. RBM hidden layers drawn by :func:`engines.rg.hidden_lattice`), embedded on the
    L × L lattice by repeating each block spin (:func:`~engines.geometry.lattice_embedding.
    repeat_blocks`), then :func:`score_levels`; ``"kind": "block_spin"``, ``"embedding":
    "repeat"``, ``"sizes"`` the linear size of each level. Each majority-rule level map scores
    OTS = 1 exactly (a nearest-point map, :func:`optimal_transport_score`); decimation and the
    whole map level 0 → K do not."""
    L = int(np.asarray(levels[0]).shape[1])
    embedded = [repeat_blocks(np.asarray(x), L) for x in levels]
    out = score_levels(embedded, **options)
    out.update(
        kind="block_spin",
        embedding="repeat",
        sizes=np.array([np.asarray(x).shape[1] for x in levels]),
    )
    return out


def score_rbm_coarse(
    samples: np.ndarray, W: np.ndarray, a: np.ndarray, hidden: np.ndarray, **options: Any
) -> dict:
    """(b) One RBM as a coarse-graining: v (N, L, L) → its hidden layer (N, m), embedded by the
    reconstruction tanh(a + W h) (0/1 samples or activations); :func:`score_levels` on the two
    levels (OTS of v → E[v|h]; the LSS of a two-point track is 1), ``"kind": "rbm_coarse"``."""
    samples = np.asarray(samples)
    L = int(samples.shape[1])
    out = score_levels([samples.astype(np.float64), rbm_reconstruction(W, a, hidden, L)], **options)
    out.update(kind="rbm_coarse", embedding="reconstruction")
    return out


def score_stack(
    levels: Sequence[np.ndarray],
    rbms: Sequence[tuple[np.ndarray, np.ndarray]],
    block: int,
    embedding: str = "reconstruction",
    orientations: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    **options: Any,
) -> dict:
    """(b, d) A stack v → h₁ → h₂ → … read as a deep network's layers.

    ``levels`` and ``rbms`` = [(W_k, a_k)] as for :func:`~engines.geometry.lattice_embedding.
    stack_embedding`. ``embedding="reconstruction"`` embeds level k by the stack's mean-field
    down-pass (the network's own reading of its layer), ``"repeat"`` by repeating the drawn block
    spins (the RG reading); then :func:`score_levels`, with ``"kind": "stack"``.
    """
    if embedding == "reconstruction":
        embedded = stack_embedding(levels, rbms, block, orientations)
    elif embedding == "repeat":
        L = int(np.asarray(levels[0]).shape[1])
        embedded = [repeat_blocks(np.asarray(x), L).astype(np.float64) for x in levels]
    else:
        raise ValueError(f"Unknown embedding {embedding!r}; use 'reconstruction' or 'repeat'.")
    out = score_levels(embedded, **options)
    out.update(
        kind="stack", embedding=embedding, sizes=np.array([np.asarray(x).shape[1] for x in levels])
    )
    return out


def score_training(
    checkpoints: Sequence[np.ndarray],
    data: np.ndarray,
    epochs: Sequence[float] | None = None,
    cost: str = "sqeuclidean",
    solver: str = "auto",
    exact_max: int = EXACT_MAX,
    reg: float | None = None,
) -> dict:
    """(c) A training run: model samples at checkpoints (each (N_k, ...)) against the data.

    Returns ``{"distribution": distribution_line_shape(checkpoints) (initialization → end),
    "to_data" (K+1,) W(model_k, data), "to_data_lower", "to_data_upper", "to_data_solver",
    "epochs" (K+1,), "n_checkpoints", "n_data", "cost", "kind": "training"}``. Model samples
    must be equilibrium samples of each checkpoint (long chains), not k-step reconstructions.
    """
    if len(checkpoints) < 2:
        raise ValueError("A training run needs at least two checkpoints.")
    e = (
        np.arange(len(checkpoints), dtype=np.float64)
        if epochs is None
        else np.asarray(epochs, dtype=np.float64)
    )
    if e.shape != (len(checkpoints),):
        raise ValueError(f"Need one epoch per checkpoint ({len(checkpoints)}), got {e.shape}.")
    to_data = [
        optimal_transport(m, data, cost, solver, exact_max, reg, plan_max=0) for m in checkpoints
    ]
    return {
        "distribution": distribution_line_shape(checkpoints, cost, solver, exact_max, reg),
        "to_data": np.array([r["distance"] for r in to_data]),
        "to_data_lower": np.array([r["distance_lower"] for r in to_data]),
        "to_data_upper": np.array([r["distance_upper"] for r in to_data]),
        "to_data_solver": [r["solver"] for r in to_data],
        "epochs": e,
        "n_checkpoints": len(checkpoints),
        "n_data": int(np.asarray(data).shape[0]),
        "cost": cost,
        "kind": "training",
    }
