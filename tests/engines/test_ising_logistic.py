"""The heat-bath tables' logistic function against scipy's ``expit`` (the reference it replaces
to spare every command scipy.special's import)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit as scipy_expit

from engines.ising.logistic import expit


def test_expit_matches_scipy_to_a_few_ulp_over_the_whole_range():
    x = np.concatenate([np.linspace(-800.0, 800.0, 20001), [0.0, -0.0, 1e-300, -745.0, 709.0]])
    ours, reference = expit(x), scipy_expit(x)
    normal = reference > 1e-300
    assert np.max(np.abs(ours[normal] - reference[normal]) / reference[normal]) < 4e-16
    assert np.all(np.abs(ours[~normal] - reference[~normal]) < 1e-300)  # the subnormal tail
    assert expit(np.array([np.inf, -np.inf])).tolist() == [1.0, 0.0]
    assert expit(np.array([0.0])).tolist() == [0.5]
