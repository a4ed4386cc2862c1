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
    regularized,
    spin_covariance,
    von_neumann_entropy,
    wishart_spectrum,
)
from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBM, sample_model
from lab.geometry.task import GeometryOptions, GeometryTask

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
        "bures_wasserstein": float(math.sqrt(max(np.trace(A) + np.trace(B) - 2 * np.trace(
            np.real(sla.sqrtm(root @ B @ root))), 0.0))),
        "thompson": float(np.max(np.abs(np.log(lam)))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    n, C, repeats = L * L, args.checkpoints, args.repeats

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
    samples = sample_model(model, 500, burn_in=500, thin=5, n_chains=32, flip_moves=True,
                           generator=torch.Generator().manual_seed(1))[0].reshape(-1, L, L)
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
            lambda: monge_ampere_check(compression(Wk, directions, EPS)), repeats),
        "model_sampling": best_time(lambda: sample_model(
            model, 500, burn_in=500, thin=5, n_chains=32, flip_moves=True,
            generator=torch.Generator().manual_seed(1)), repeats),
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
        "n": n, "m": M, "epsilon": EPS, "checkpoints": C,
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
        "last_checkpoint": {"n_outliers": int(ds["n_outliers"][-1]),
                            "line_shape_bw": float(ds["line_shape/bures_wasserstein"][-1]),
                            "gaussian_ot_residual": float(ds["gaussian_ot_residual"][-1]),
                            "monge_ampere_residual": float(ds["monge_ampere_residual"][-1])},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg(), "torch_threads": torch.get_num_threads()},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
