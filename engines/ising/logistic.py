"""The logistic function for the heat-bath tables, in numpy alone.

``scipy.special.expit`` gives the same numbers but importing scipy.special costs about 0.2 s at
every start of a command; the tables hold five or six entries, built once per temperature.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def expit(x: ArrayLike) -> np.ndarray:
    """``1 / (1 + exp(-x))`` element-wise (float64), to a few units in the last place and without
    overflow for any ``x``: with ``e = exp(-|x|)`` ≤ 1, ``1 / (1 + e)`` for x ≥ 0 and
    ``e / (1 + e)`` for x < 0."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
