"""What the geometry task, its run view and the dock share, in a light module.

:mod:`lab.geometry.task` loads torch and POT; the names here do not, so the main window (the
dock, :mod:`lab.geometry.runs`) imports them without paying for those before a geometry
computation starts. The task imports them from here (and they stay importable from it).
"""

from __future__ import annotations

import numpy as np

from engines.geometry.psd_metrics import METRICS
from engines.geometry.spectrum import wishart_spectrum

TRAJECTORY_METRICS = (*METRICS, "bures_wasserstein_exact")
"""The metrics of the distance/speed/path_length/line_shape datasets (the last one with ε = 0)."""
TRAJECTORY_QUANTITIES = ("distance", "speed", "path_length", "line_shape")


def leading_eigenvectors(W: np.ndarray, k: int) -> np.ndarray:
    """(n, min(k, m)): the leading eigenvectors of W Wᵀ (those of ρ ∝ W Wᵀ + εI), descending."""
    spectrum = wishart_spectrum(W)
    return spectrum.vectors[:, : min(k, spectrum.values.size)]
