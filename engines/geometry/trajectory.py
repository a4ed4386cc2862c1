"""A training trajectory in a metric space: distance from the start, speed, length, line shape.

For points x_0 … x_{K-1} (checkpoints) at epochs e_0 < … < e_{K-1} and a distance d:

* ``from_start[k] = d(x_0, x_k)``;
* ``steps[k] = d(x_k, x_{k+1})`` and ``speed[k] = steps[k] / (e_{k+1} - e_k)`` (distance per epoch);
* ``path_length[k] = Σ_{j<k} steps[j]``, the length of the polygon through the checkpoints up to
  x_k (a lower bound on the length of the continuous trajectory);
* ``line_shape[k] = from_start[k] / path_length[k]`` ∈ (0, 1] by the triangle inequality: 1 when
  x_0 … x_k lie in order on one geodesic, smaller the more the path turns. ``line_shape[0]`` (0/0)
  and any entry whose path length is 0 are NaN.

Each array has one entry per checkpoint (``steps`` and ``speed`` one per interval).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from engines.geometry.psd_metrics import METRICS, FactoredPSD, factored_distances

T = TypeVar("T")


@dataclass(frozen=True)
class Trajectory:
    """Distances along one trajectory in one metric (module doc)."""

    epochs: np.ndarray
    from_start: np.ndarray
    steps: np.ndarray

    def __post_init__(self) -> None:
        for name in ("epochs", "from_start", "steps"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        K = self.epochs.size
        if K < 1 or self.from_start.shape != (K,) or self.steps.shape != (K - 1,):
            raise ValueError(
                f"A trajectory of {K} points needs {K} distances from the start and {K - 1} "
                f"steps, got {self.from_start.shape} and {self.steps.shape}."
            )
        if np.any(np.diff(self.epochs) <= 0):
            raise ValueError("The epochs must increase strictly.")

    @property
    def speed(self) -> np.ndarray:
        return self.steps / np.diff(self.epochs)

    @property
    def path_length(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.steps)])

    @property
    def line_shape(self) -> np.ndarray:
        length = self.path_length
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(length > 0, self.from_start / length, np.nan)


def _epochs(epochs: Sequence[float], K: int) -> np.ndarray:
    e = np.asarray(epochs, dtype=np.float64)
    if e.shape != (K,):
        raise ValueError(f"Need one epoch per point ({K}), got shape {e.shape}.")
    return e


def trajectory(
    points: Sequence[T], epochs: Sequence[float], distance: Callable[[T, T], float]
) -> Trajectory:
    """The trajectory through ``points`` under ``distance`` (2K - 2 distance evaluations)."""
    K = len(points)
    e = _epochs(epochs, K)
    if K < 1:
        raise ValueError("A trajectory needs at least one point.")
    from_start = [0.0] + [distance(points[0], p) for p in points[1:]]
    steps = [distance(a, b) for a, b in zip(points[:-1], points[1:], strict=True)]
    return Trajectory(e, np.array(from_start), np.array(steps).reshape(K - 1))


def factored_trajectories(
    points: Sequence[FactoredPSD], epochs: Sequence[float], metrics: Sequence[str] = METRICS
) -> dict[str, Trajectory]:
    """The trajectory of factored checkpoints in each metric, sharing one reduction per pair."""
    K = len(points)
    e = _epochs(epochs, K)
    if K < 1:
        raise ValueError("A trajectory needs at least one point.")
    from_start = {m: [0.0] for m in metrics}
    steps: dict[str, list[float]] = {m: [] for m in metrics}
    for k in range(1, K):
        start = factored_distances(points[0], points[k], metrics)
        step = start if k == 1 else factored_distances(points[k - 1], points[k], metrics)
        for m in metrics:
            from_start[m].append(start[m])
            steps[m].append(step[m])
    return {m: Trajectory(e, np.array(from_start[m]), np.array(steps[m])) for m in metrics}
