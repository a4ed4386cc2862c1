"""The geometry task's time per checkpoint at n = 1024 (L = 32), m = 256, against dense n×n code.

Run: ``python -m benchmarks.geometry [--checkpoints 4]``; prints one JSON object on stdout (not a
test).

Inputs (synthetic weights, real data): the data are 1000 configurations of the 32×32 Ising model
at T = 2.27 (Wolff, seeded, two sweeps apart). The checkpoints are a seeded random-walk sequence
standing in for a training run: ``W_0`` has iid N(0, 0.01²) entries (the trainer's
initialization); ``W_k = W_0 + t_k S + Σ_{j≤k} ξ_j`` with ``t_k = k / (C - 1)``, a growing
structure ``S = 0.3 Σ_{r<4} u_r h_rᵀ`` (u_r the four leading eigenvectors of the data's second
moment, smooth lattice patterns, h_r random unit vectors of the hidden layer) and random-walk
steps ξ_j of iid N(0, 0.002²) entries; biases zero. So the spectrum leaves the Marchenko–Pastur
bulk as a real training does (four outliers at the end), and the model can be sampled.

Measured, each as the best of ``repeats`` (``benchmarks.timing.best_time``):

- ``task_step``: one :meth:`lab.geometry.task.GeometryTask.step` with the default options
  (ε = 1e-3, 500 model samples after 500 sweeps, 1000 Gaussian points, k = 10), per checkpoint
  after the first (the first has no distances to compute);
- the breakdown at the last checkpoint: ``spectrum_mp`` (SVD of W, the MP fit, 8 images),
  ``four_metrics`` (the two factored pairs of a step, first→k and k-1→k, in the four metrics and
  exact Bures–Wasserstein), ``cah`` (entropy, relative entropy to the data, modular spectrum),
  ``gaussian_ot`` (Theorem 1's check), ``monge_ampere`` (the 10×10 potential by autograd),
  ``model_sampling`` and ``empirical_ot`` (500 vs 500 exact plan and the 1-D W₁);
- the dense references on the same matrices: ``dense_spectrum`` (``numpy.linalg.eigh`` of the
  n×n W Wᵀ) and ``dense_four_metrics`` (scipy.linalg ``sqrtm``/``logm``/``solve``+``eigvals`` on
  the n×n ``W Wᵀ + εI`` for the same two pairs), and the ratios dense / ours. The dense distances
  are also compared with ours (``max_relative_difference``).

Section ``wasserstein_scores`` (``--section scores`` runs it alone): the cost of scoring a map
with :func:`engines.geometry.optimal_transport_score` at 500, 2000 and 10 000 samples of 16×16
configurations (Wolff, T = 2.27, seeded; the map is x → decimated block spins repeated on the
lattice, whose OTS is above 1). Per size: the per-site cost matrix, the exact ``ot.emd`` solve,
the plain reference ``scipy.optimize.linear_sum_assignment`` on the same matrix (the N-to-N
problem is an assignment problem; values compared; it is also what ``solver="auto"`` uses
beyond emd), the whole score with the automatic solver (n_bootstrap = 0), and Sinkhorn (default
ε and iteration cap) with its certified bracket and a-priori bias bound against the exact value.
emd is skipped above ``--emd-max`` (default 5000) with the reason recorded (measured memory
≈ 40 N² bytes, time growing ~N^3.4); sizes above 2000 are timed once, not best-of.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import numpy as np
import scipy.linalg as sla
import torch
from scipy.optimize import linear_sum_assignment

from benchmarks.timing import best_time
from engines.geometry import (
    METRICS,
    CenteredGaussian,
    FactoredPSD,
    ReferenceState,
    compression,
    distance_to_data,
    eigenvector_images,
    factored_distances,
    fit_marchenko_pastur,
    latent_transport_check,
    modular_spectrum,
    monge_ampere_check,
    optimal_transport_score,
    paired_costs,
    pairwise_costs,
    regularized,
    repeat_blocks,
    spin_covariance,
    transport_from_costs,
    von_neumann_entropy,
    wishart_spectrum,
)
from engines.geometry.wasserstein_scores import EXACT_MAX
from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBM, sample_model
from engines.rg import decimation

L, M, EPS = 32, 256, 1e-3


def ising_data(n_samples: int = 1000, seed: int = 1) -> np.ndarray:
    sim = IsingSimulation(IsingParams(size=L, temperature=2.27, algorithm="wolff", seed=seed))
    sim.thermalize(200)
    out = np.empty((n_samples, L, L), dtype=np.int8)
    for i in range(n_samples):
        sim.sweep(2)
        out[i] = sim.spins
    return out


def weight_walk(data: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """The random-walk checkpoints of the module doc (float32, like the trainer's)."""
    rng = np.random.default_rng(seed)
    n = L * L
    _, vectors = np.linalg.eigh(spin_covariance(data))
    h = np.linalg.qr(rng.standard_normal((M, 4)))[0]
    structure = 0.3 * vectors[:, ::-1][:, :4] @ h.T
    W = 0.01 * rng.standard_normal((n, M))
    walk = np.zeros((n, M))
    out = []
    for k in range(count):
        if k:
            walk += 0.002 * rng.standard_normal((n, M))
        out.append((W + k / (count - 1) * structure + walk).astype(np.float32))
    return out


def dense_distances(A: np.ndarray, B: np.ndarray) -> dict[str, float]:
    """The four metrics by scipy's dense matrix functions (the plain reference)."""
    root = np.real(sla.sqrtm(A))
    inv_root = np.linalg.inv(root)
    middle = inv_root @ B @ inv_root
    lam = np.real(sla.eigvals(np.linalg.solve(A, B)))
    return {
        "affine_invariant": float(np.linalg.norm(np.real(sla.logm(0.5 * (middle + middle.T))))),
        "log_euclidean": float(np.linalg.norm(np.real(sla.logm(A)) - np.real(sla.logm(B)))),
        "bures_wasserstein": float(
            math.sqrt(
                max(
                    np.trace(A) + np.trace(B) - 2 * np.trace(np.real(sla.sqrtm(root @ B @ root))),
                    0.0,
                )
            )
        ),
        "thompson": float(np.max(np.abs(np.log(lam)))),
    }


def task_section(checkpoints: int, repeats: int) -> dict:
    """The geometry task's time per checkpoint and its breakdown against dense code."""
    from lab.geometry.options import GeometryOptions  # the scores need no lab layer
    from lab.geometry.task import GeometryTask

    n, C = L * L, checkpoints

    data = ising_data()
    Ws = weight_walk(data, C)
    zeros_a, zeros_b = np.zeros(n, np.float32), np.zeros(M, np.float32)
    checkpoints = [(k, W, zeros_a, zeros_b) for k, W in enumerate(Ws)]
    options = GeometryOptions(epsilon=EPS)

    task = GeometryTask(checkpoints, data, L, options)
    steps = []
    while not task.finished:
        start = time.perf_counter()
        task.step()
        steps.append(time.perf_counter() - start)
    ds = task.datasets()

    W0, Wp, Wk = (np.asarray(W, np.float64) for W in (Ws[0], Ws[-2], Ws[-1]))
    first, previous = FactoredPSD.from_factor(W0, EPS), FactoredPSD.from_factor(Wp, EPS)
    exact = (FactoredPSD.from_factor(W0), FactoredPSD.from_factor(Wp))
    data_cov = spin_covariance(data)
    data_reg = regularized(data_cov, EPS)
    target, reference = CenteredGaussian.from_covariance(data_reg), ReferenceState(data_reg)
    directions = wishart_spectrum(W0).vectors[:, :10]
    model = RBM(Ws[-1], zeros_a, zeros_b)
    samples = sample_model(
        model,
        500,
        burn_in=500,
        thin=5,
        n_chains=32,
        flip_moves=True,
        generator=torch.Generator().manual_seed(1),
    )[0].reshape(-1, L, L)
    data_ot = data[:500]

    def spectrum_mp():
        s = wishart_spectrum(Wk)
        fit_marchenko_pastur(s, std=0.01)
        eigenvector_images(s, 8, L)

    def four_metrics():
        point = FactoredPSD.from_factor(Wk, EPS)
        point0 = FactoredPSD(point.spectrum, 0.0)
        for p, p0 in ((first, exact[0]), (previous, exact[1])):
            factored_distances(p, point, METRICS)
            factored_distances(p0, point0, ("bures_wasserstein",))

    def cah():
        point = FactoredPSD.from_factor(Wk, EPS)
        von_neumann_entropy(point)
        reference.relative_entropy(point)
        modular_spectrum(point)

    breakdown = {
        "spectrum_mp": best_time(spectrum_mp, repeats),
        "four_metrics": best_time(four_metrics, repeats),
        "cah": best_time(cah, repeats),
        "gaussian_ot": best_time(lambda: latent_transport_check(Wk, target, EPS, 1000), repeats),
        "monge_ampere": best_time(
            lambda: monge_ampere_check(compression(Wk, directions, EPS)), repeats
        ),
        "model_sampling": best_time(
            lambda: sample_model(
                model,
                500,
                burn_in=500,
                thin=5,
                n_chains=32,
                flip_moves=True,
                generator=torch.Generator().manual_seed(1),
            ),
            repeats,
        ),
        "empirical_ot": best_time(lambda: distance_to_data(samples, data_ot), repeats),
    }

    A0, Ap, Ak = (W @ W.T + EPS * np.eye(n) for W in (W0, Wp, Wk))
    dense_spectrum = best_time(lambda: np.linalg.eigh(Wk @ Wk.T), repeats)
    start = time.perf_counter()
    dense = [dense_distances(A0, Ak), dense_distances(Ap, Ak)]
    dense_four = time.perf_counter() - start
    ours = factored_distances(first, FactoredPSD.from_factor(Wk, EPS), METRICS)
    difference = {m: abs(dense[0][m] - ours[m]) / ours[m] for m in METRICS}

    result = {
        "n": n,
        "m": M,
        "epsilon": EPS,
        "checkpoints": C,
        "inputs": "random-walk W sequence (module doc) against 1000 Wolff samples at T = 2.27",
        "task_step_seconds": steps,
        "task_step_seconds_per_checkpoint": float(np.mean(steps[1:])),
        "breakdown_seconds": breakdown,
        "dense_spectrum_seconds": dense_spectrum,
        "spectrum_ratio_dense_over_ours": dense_spectrum / breakdown["spectrum_mp"],
        "dense_four_metrics_seconds": dense_four,
        "four_metrics_ratio_dense_over_ours": dense_four / breakdown["four_metrics"],
        "max_relative_difference_dense_vs_factored": max(difference.values()),
        "relative_difference_by_metric": difference,
        "last_checkpoint": {
            "n_outliers": int(ds["n_outliers"][-1]),
            "line_shape_bw": float(ds["line_shape/bures_wasserstein"][-1]),
            "gaussian_ot_residual": float(ds["gaussian_ot_residual"][-1]),
            "monge_ampere_residual": float(ds["monge_ampere_residual"][-1]),
        },
    }
    return result


def scores_section(sizes: list[int], repeats: int, emd_max: int, lsa_max: int) -> dict:
    """Cost of scoring a map: emd, the assignment and Sinkhorn on 16×16 configurations."""
    L_scores, n_max = 16, max(sizes)
    sim = IsingSimulation(IsingParams(size=L_scores, temperature=2.27, algorithm="wolff", seed=3))
    sim.thermalize(200)
    x = np.empty((n_max, L_scores, L_scores), dtype=np.int8)
    for i in range(n_max):
        sim.sweep(2)
        x[i] = sim.spins
    tx = repeat_blocks(decimation(x, 2), L_scores)
    out: dict = {
        "lattice": L_scores,
        "map": "x -> decimation (b = 2) repeated on the lattice",
        "cost": "sqeuclidean per site",
        "exact_max_default": EXACT_MAX,
        "timing": "best of --repeats up to N = 2000, a single run above",
        "sizes": {},
    }
    for n in sizes:
        xs, ys = x[:n], tx[:n]
        reps = repeats if n <= 2000 else 1
        row: dict = {"load_average_before": os.getloadavg()}
        start = time.perf_counter()
        C = pairwise_costs(xs, ys)
        first = time.perf_counter() - start
        row["cost_matrix_seconds"] = (
            min(first, best_time(lambda xs=xs, ys=ys: pairwise_costs(xs, ys), reps - 1))
            if reps > 1
            else first
        )
        row["cost_matrix_MB"] = C.nbytes / 2**20
        map_cost = float(paired_costs(xs, ys).mean())
        exact = None
        if n <= emd_max:
            row["emd_seconds"] = best_time(
                lambda C=C: transport_from_costs(C, solver="emd", plan_max=0), reps
            )
            exact = row["emd_cost"] = transport_from_costs(C, solver="emd", plan_max=0)["cost"]
        else:
            row["emd_skipped"] = (
                f"N = {n} > --emd-max {emd_max}: emd needs about 40 N^2 bytes = "
                f"{40 * n * n / 2**30:.1f} GiB (measured +990 MB at N = 5000) and, from the "
                "measured 0.59 s (2000) -> 12.9 s (5000), ~N^3.4, about 2 min per solve on the "
                "shared 2-core machine."
            )
        if n <= lsa_max:  # the plain reference, and the solver "auto" uses beyond emd
            start = time.perf_counter()
            rows, cols = linear_sum_assignment(C)
            lsa_s = time.perf_counter() - start
            if reps > 1:
                lsa_s = min(lsa_s, best_time(lambda C=C: linear_sum_assignment(C), reps - 1))
            lsa_cost = float(C[rows, cols].mean())
            row.update(lsa_seconds=lsa_s, lsa_cost=lsa_cost)
            if exact is None:
                exact = lsa_cost
            else:
                row.update(
                    lsa_over_emd_seconds=lsa_s / row["emd_seconds"], emd_minus_lsa=exact - lsa_cost
                )
        start = time.perf_counter()
        score = optimal_transport_score(xs, ys, n_bootstrap=0, plan_max=0)
        score_s = time.perf_counter() - start
        if reps > 1:
            score_s = min(
                score_s,
                best_time(
                    lambda xs=xs, ys=ys: optimal_transport_score(xs, ys, n_bootstrap=0, plan_max=0),
                    reps - 1,
                ),
            )
        row.update(score_seconds=score_s, score_solver=score["solver"], ots=score["ots"])
        start = time.perf_counter()
        sink = transport_from_costs(C, solver="sinkhorn", plan_max=0)
        sink_s = time.perf_counter() - start
        if reps > 1:
            sink_s = min(
                sink_s,
                best_time(
                    lambda C=C: transport_from_costs(C, solver="sinkhorn", plan_max=0), reps - 1
                ),
            )
        row.update(
            sinkhorn_seconds=sink_s,
            sinkhorn_reg=sink["reg"],
            sinkhorn_iterations=sink["iterations"],
            sinkhorn_converged=sink["converged"],
            sinkhorn_lower=sink["lower"],
            sinkhorn_upper=sink["upper"],
            sinkhorn_bias_bound=sink["bias_bound"],
            sinkhorn_plan_entropy=sink["plan_entropy"],
            ots_sinkhorn_bracket=[map_cost / sink["upper"], map_cost / sink["lower"]],
        )
        if exact is not None:
            row.update(
                sinkhorn_lower_relative_error=(sink["lower"] - exact) / exact,
                sinkhorn_upper_relative_error=(sink["upper"] - exact) / exact,
                sinkhorn_over_exact_seconds=sink_s / row.get("emd_seconds", row.get("lsa_seconds")),
            )
        row["load_average_after"] = os.getloadavg()
        out["sizes"][str(n)] = row
        del C
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--section", choices=("all", "task", "scores"), default="all")
    parser.add_argument(
        "--score-sizes",
        default="500,2000,10000",
        help="comma-separated sample counts for the scores section",
    )
    parser.add_argument(
        "--emd-max", type=int, default=EXACT_MAX, help="largest size at which emd is timed"
    )
    parser.add_argument(
        "--lsa-max",
        type=int,
        default=10_000,
        help="largest size at which linear_sum_assignment is timed",
    )
    args = parser.parse_args()
    machine = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
    }
    sizes = [int(v) for v in args.score_sizes.split(",")]
    if args.section == "scores":
        scores = scores_section(sizes, args.repeats, args.emd_max, args.lsa_max)
        print(json.dumps({"wasserstein_scores": scores, "machine": machine}, indent=2))
        return
    result = task_section(args.checkpoints, args.repeats)
    if args.section == "all":
        result["wasserstein_scores"] = scores_section(
            sizes, args.repeats, args.emd_max, args.lsa_max
        )
    result["machine"] = {**machine, "load_average_end": os.getloadavg()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
