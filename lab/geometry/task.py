"""The geometry of a training run as a steppable task: one RBM checkpoint per step.

Each ``step()`` takes the next pending checkpoint (epoch, W, a, b) and computes, for
``Σ = W Wᵀ`` (n×n, n = L², never formed) regularized explicitly as ``Σ + εI``:

- the Wishart cone: the spectrum of W Wᵀ (squared singular values), rank, condition, the
  Marchenko–Pastur law of the initialization (s² fitted by moments on the epoch-0 checkpoint;
  every checkpoint is compared with that one law, so the KS distance and the outliers show how
  training leaves the bulk; without an epoch-0 checkpoint each one is fitted by moments), the
  K = min(8, m) leading eigenvectors as L×L images;
- the trajectory in the four metrics of ``engines.geometry.METRICS`` on ``Σ + εI`` and in
  Bures–Wasserstein with ε = 0 (``bures_wasserstein_exact``): distance from the first checkpoint,
  speed, polygonal path length and line shape, by factored distances (O(n m²) per pair);
- the Monge–Ampère residual of the cone potential on the k×k compression of ``Σ + εI`` onto the
  k leading eigenvectors of the FIRST checkpoint (fixed, so the residuals of a trajectory are
  comparable and a checkpoint's value never changes when later ones arrive; compressing each Σ
  onto its own eigenvectors would give diagonal matrices);
- Theorem 1: the Brenier map from N(0, W Wᵀ + εI) to N(0, data second moment + εI), its W₂ and
  its relative Monge–Ampère residual on ``n_points`` seeded draws;
- the CAH cone: von Neumann entropy of ρ = (Σ + εI)/tr, S(ρ ‖ ρ_data), the modular spectrum;
- model samples (``engines.rbm.sample_model``: fresh equilibrium chains with the global flip)
  against a fixed subsample of the data: W₁ for the normalized Hamming cost, and W₁ of the energy
  and magnetization per spin.

Whatever depends on the LAST checkpoint (the Bloch basis, the model's covariance, the exact plan
between ≤ 100 model and data samples) is recomputed when a new last checkpoint is processed.
Every random draw is seeded from ``(seed, stream, epoch)``, so a checkpoint's values do not depend
on the order or grouping of the steps: processing the checkpoints in one pass or with
:meth:`GeometryTask.extend` between steps (a live training) gives the same arrays.

The arrays, keyed as in the contract with the dock (see ``lab.geometry.runs`` for units), are
:meth:`GeometryTask.datasets`; each snapshot carries a copy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engines.geometry import (
    METRICS,
    MP_FIT_COLUMNS,
    CenteredGaussian,
    FactoredPSD,
    ReferenceState,
    bloch_basis,
    bloch_disk,
    compression,
    configuration_wasserstein,
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
from engines.rbm import RBM, sample_model
from lab.geometry.common import TRAJECTORY_METRICS, TRAJECTORY_QUANTITIES
from lab.geometry.options import GeometryOptions
from lab.rbm.runs import Checkpoint

EIGENVECTOR_IMAGES = 8
PLAN_SAMPLES = 100
STREAM_DATA, STREAM_MODEL, STREAM_GAUSSIAN = 1, 2, 3
"""The streams of :func:`stream_seed`: the data subsample, the model's chains, the Gaussian draws
(the Wasserstein scores of :mod:`lab.geometry.score_task` draw theirs from the same streams)."""
_STREAM_DATA, _STREAM_MODEL, _STREAM_GAUSSIAN = STREAM_DATA, STREAM_MODEL, STREAM_GAUSSIAN
_ROWS = (
    "epoch",
    "spectrum",
    "rank",
    "condition",
    "n_outliers",
    "mp_fit",
    "eigenvectors",
    "monge_ampere_residual",
    "gaussian_ot_residual",
    "gaussian_w2",
    "wasserstein_to_data",
    "energy_w1",
    "magnetization_w1",
    "entropy",
    "relative_entropy_to_data",
    "modular_spectrum",
)


@dataclass(frozen=True)
class GeometrySnapshot:
    """What a view draws: the contract's arrays for the ``done`` checkpoints processed so far."""

    datasets: dict[str, np.ndarray]
    done: int
    total: int

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def contract(self) -> dict[str, np.ndarray]:
        """The contract's arrays (``datasets``), as the dock's plots name them."""
        return self.datasets


def stream_seed(seed: int, stream: int, epoch: int) -> int:
    """A 32-bit seed derived from (seed, stream, epoch): independent of the processing order."""
    return int(np.random.SeedSequence([seed, stream, epoch]).generate_state(1)[0])


_seed = stream_seed


def _as_configs(data: np.ndarray, size: int) -> np.ndarray:
    """(N, L, L) int8 ±1 from (N, L²) or (N, L, L) spins."""
    v = np.asarray(data)
    if v.ndim < 2 or v.shape[0] < 2 or int(np.prod(v.shape[1:])) != size * size:
        raise ValueError(
            f"the data must hold at least 2 configurations of {size}×{size} spins, "
            f"got shape {v.shape}"
        )
    v = v.reshape(v.shape[0], size, size)
    if not np.all(np.abs(v) == 1):
        raise ValueError("the data must contain only ±1 spins")
    return v.astype(np.int8)


class GeometryTask:
    """Steps through RBM checkpoints, one per ``step()`` (module doc); ``finished`` when none is
    pending. ``checkpoints`` are (epoch, W (n, m), a (n,), b (m,)) with strictly increasing
    epochs, ``data`` the (N, n) or (N, L, L) ±1 configurations the model is compared with."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        data: np.ndarray,
        size: int,
        options: GeometryOptions | None = None,
    ) -> None:
        self.options = options if options is not None else GeometryOptions()
        if size < 2:
            raise ValueError(f"L must be >= 2, got {size}")
        if not checkpoints:
            raise ValueError("the RBM has no checkpoints to analyse")
        self.size = size
        self.n = size * size
        W0 = np.asarray(checkpoints[0][1])
        if W0.ndim != 2 or W0.shape[0] != self.n:
            raise ValueError(
                f"the RBM has W of shape {W0.shape}, the data {self.n} spins (L = {size})"
            )
        self.m = int(W0.shape[1])
        self.k = self.options.compression(self.m)
        self._pending: list[Checkpoint] = []
        self._last_epoch: int | None = None
        self._add(checkpoints)
        eps = self.options.epsilon
        configs = _as_configs(data, size)
        self._data_covariance = spin_covariance(configs)
        self._data_spectrum = np.linalg.eigvalsh(self._data_covariance)[::-1].copy()
        data_reg = regularized(self._data_covariance, eps)
        self._data_gaussian = CenteredGaussian.from_covariance(data_reg)
        self._reference = ReferenceState(data_reg)
        rng = np.random.default_rng(_seed(self.options.seed, _STREAM_DATA, 0))
        keep = min(configs.shape[0], self.options.samples)
        self._data_ot = configs[np.sort(rng.choice(configs.shape[0], keep, replace=False))]
        first_epoch, first_W = int(checkpoints[0][0]), np.asarray(checkpoints[0][1], np.float64)
        self._init_scale2 = (
            float(np.sum(first_W * first_W)) / (self.n * self.m) if first_epoch == 0 else math.nan
        )
        self._rows: dict[str, list] = {name: [] for name in _ROWS}
        self._trajectory = {
            (q, metric): [] for q in TRAJECTORY_QUANTITIES for metric in TRAJECTORY_METRICS
        }
        self._weights: list[np.ndarray] = []
        self._first: tuple[FactoredPSD, FactoredPSD] | None = None
        self._previous: tuple[FactoredPSD, FactoredPSD] | None = None
        self._directions: np.ndarray | None = None
        self._bloch = np.empty((0, 2))
        self._model_covariance = np.full((self.n, self.n), np.nan, dtype=np.float32)
        self._ot_plan = np.empty((0, 0))
        self.done = 0

    # ------------------------------------------------------------------------ checkpoints
    def _add(self, checkpoints: Iterable[Checkpoint]) -> int:
        added = 0
        for epoch, W, a, b in checkpoints:
            epoch = int(epoch)
            if self._last_epoch is not None and epoch <= self._last_epoch:
                continue
            if a is None or b is None:
                raise ValueError(f"the checkpoint of epoch {epoch} has no biases a, b")
            if (
                np.shape(W) != (self.n, self.m)
                or np.shape(a) != (self.n,)
                or np.shape(b) != (self.m,)
            ):
                raise ValueError(
                    f"the checkpoint of epoch {epoch} has W of shape {np.shape(W)}, "
                    f"expected {(self.n, self.m)} with matching biases"
                )
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                raise ValueError(f"the checkpoint of epoch {epoch} has non-finite parameters")
            self._pending.append((epoch, W, a, b))
            self._last_epoch = epoch
            added += 1
        return added

    def extend(self, checkpoints: Iterable[Checkpoint]) -> int:
        """Append checkpoints to process (a live training). Those at or before the last epoch
        already known are skipped, so a caller may pass a growing list again; returns the number
        added. Call it from the thread that steps the task, or while no job runs."""
        return self._add(checkpoints)

    @property
    def total(self) -> int:
        return self.done + len(self._pending)

    @property
    def finished(self) -> bool:
        """True when no checkpoint is pending (``extend`` may make it False again)."""
        return not self._pending

    # ------------------------------------------------------------------------ stepping
    def step(self) -> GeometrySnapshot:
        if self._pending:
            self._process(*self._pending.pop(0))
        return self.snapshot()

    def snapshot(self) -> GeometrySnapshot:
        return GeometrySnapshot(datasets=self.datasets(), done=self.done, total=self.total)

    def _process(self, epoch: int, W: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        opts, eps, rows = self.options, self.options.epsilon, self._rows
        W64 = np.asarray(W, dtype=np.float64)
        spectrum = wishart_spectrum(W64)
        init = math.sqrt(self._init_scale2) if math.isfinite(self._init_scale2) else None
        fit = fit_marchenko_pastur(spectrum, std=init)
        rows["epoch"].append(epoch)
        rows["spectrum"].append(spectrum.eigenvalues)
        rows["rank"].append(spectrum.rank)
        rows["condition"].append(spectrum.condition)
        rows["n_outliers"].append(fit.n_outliers)
        rows["mp_fit"].append(fit.row())
        count = min(EIGENVECTOR_IMAGES, spectrum.values.size)
        rows["eigenvectors"].append(eigenvector_images(spectrum, count, self.size))

        point = (FactoredPSD(spectrum, eps), FactoredPSD(spectrum, 0.0))
        self._trajectory_step(epoch, point)

        if self._directions is None:
            self._directions = spectrum.vectors[:, : self.k].copy()
        rows["monge_ampere_residual"].append(
            monge_ampere_check(compression(W64, self._directions, eps)).residual
        )
        check = latent_transport_check(
            W64,
            self._data_gaussian,
            eps,
            n_points=opts.n_points,
            seed=_seed(opts.seed, _STREAM_GAUSSIAN, epoch),
        )
        rows["gaussian_ot_residual"].append(check.relative_residual)
        rows["gaussian_w2"].append(math.sqrt(check.w2_squared))

        state = point[0]
        rows["entropy"].append(von_neumann_entropy(state))
        rows["relative_entropy_to_data"].append(self._reference.relative_entropy(state))
        rows["modular_spectrum"].append(modular_spectrum(state))

        samples = self._model_samples(epoch, W, a, b)
        to_data = distance_to_data(samples, self._data_ot)
        rows["wasserstein_to_data"].append(to_data.configurations.distance)
        rows["energy_w1"].append(to_data.energy_w1)
        rows["magnetization_w1"].append(to_data.magnetization_w1)

        # quantities of the last checkpoint
        self._weights.append(W)
        self._model_covariance = spin_covariance(samples).astype(np.float32)
        pairs = min(PLAN_SAMPLES, samples.shape[0], self._data_ot.shape[0])
        self._ot_plan = configuration_wasserstein(
            samples[:pairs], self._data_ot[:pairs], plan_max=pairs
        ).plan
        self._bloch = self._bloch_points(state)
        self.done += 1

    def _trajectory_step(self, epoch: int, point: tuple[FactoredPSD, FactoredPSD]) -> None:
        series = self._trajectory
        if self._first is None:
            self._first = point
            for metric in TRAJECTORY_METRICS:
                for q, value in zip(
                    TRAJECTORY_QUANTITIES, (0.0, math.nan, 0.0, math.nan), strict=True
                ):
                    series[q, metric].append(value)
        else:
            previous_epoch = self._rows["epoch"][-2]
            start = self._distances(self._first, point)
            step = (
                start if self._previous is self._first else self._distances(self._previous, point)
            )
            for metric in TRAJECTORY_METRICS:
                length = series["path_length", metric][-1] + step[metric]
                series["distance", metric].append(start[metric])
                series["speed", metric].append(step[metric] / (epoch - previous_epoch))
                series["path_length", metric].append(length)
                series["line_shape", metric].append(
                    start[metric] / length if length > 0 else math.nan
                )
        self._previous = point

    @staticmethod
    def _distances(
        p: tuple[FactoredPSD, FactoredPSD], q: tuple[FactoredPSD, FactoredPSD]
    ) -> dict[str, float]:
        out = factored_distances(p[0], q[0], METRICS)
        out["bures_wasserstein_exact"] = factored_distances(p[1], q[1], ("bures_wasserstein",))[
            "bures_wasserstein"
        ]
        return out

    def _model_samples(self, epoch: int, W: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        opts = self.options
        model = RBM(np.asarray(W, np.float32), np.asarray(a, np.float32), np.asarray(b, np.float32))
        generator = torch.Generator().manual_seed(_seed(opts.seed, _STREAM_MODEL, epoch))
        samples, _ = sample_model(
            model,
            opts.samples,
            burn_in=opts.burn_in,
            thin=opts.thin,
            n_chains=opts.chains,
            generator=generator,
            flip_moves=True,
        )
        return samples.reshape(-1, self.size, self.size)

    def _bloch_points(self, last: FactoredPSD) -> np.ndarray:
        """(C, 2) Bloch points of every checkpoint on the last Σ's two leading eigenvectors."""
        if last.range_values.size < 2:
            return np.full((len(self._weights), 2), np.nan)
        basis = bloch_basis(last)
        compressed = [compression(W, basis, self.options.epsilon) for W in self._weights]
        return bloch_disk(compressed, basis=np.eye(2))

    # ------------------------------------------------------------------------ results
    def datasets(self) -> dict[str, np.ndarray]:
        """The contract's arrays for the checkpoints processed so far (copies)."""
        rows, C, n, m = self._rows, self.done, self.n, self.m
        images = min(EIGENVECTOR_IMAGES, m, n)
        out = {
            "epoch": np.array(rows["epoch"], dtype=np.int64),
            "spectrum": np.array(rows["spectrum"], dtype=np.float64).reshape(C, m),
            "rank": np.array(rows["rank"], dtype=np.int64),
            "condition": np.array(rows["condition"], dtype=np.float64),
            "n_outliers": np.array(rows["n_outliers"], dtype=np.int64),
            "mp_law": np.array([n, m, self._init_scale2], dtype=np.float64),
            "mp_fit": np.array(rows["mp_fit"], dtype=np.float64).reshape(C, len(MP_FIT_COLUMNS)),
            "eigenvectors": np.array(rows["eigenvectors"], dtype=np.float32).reshape(
                C, images, self.size, self.size
            ),
            "modular_spectrum": np.array(rows["modular_spectrum"], dtype=np.float64).reshape(C, n),
            "bloch": self._bloch.copy(),
            "data_covariance": self._data_covariance.astype(np.float32),
            "model_covariance": self._model_covariance.copy(),
            "data_spectrum": self._data_spectrum.copy(),
            "ot_plan": np.array(self._ot_plan, dtype=np.float64),
        }
        for name in (
            "monge_ampere_residual",
            "gaussian_ot_residual",
            "gaussian_w2",
            "wasserstein_to_data",
            "energy_w1",
            "magnetization_w1",
            "entropy",
            "relative_entropy_to_data",
        ):
            out[name] = np.array(rows[name], dtype=np.float64)
        for (q, metric), values in self._trajectory.items():
            out[f"{q}/{metric}"] = np.array(values, dtype=np.float64)
        return out
