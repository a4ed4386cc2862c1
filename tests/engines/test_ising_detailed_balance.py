"""Each algorithm samples the exact Boltzmann distribution of the 3×3 torus (χ² over 512 states).

Samples are taken every 5 sweeps at T = 3 (long enough apart that the χ² statistic, which assumes
independent draws, is not inflated by autocorrelation); states with expected count < 5 are pooled.
State index: bit r*L + c is 1 when spin (r, c) is +1 (the engines.exact encoding). L = 3 is odd,
so the checkerboard colours are not a bipartition and J < 0 is frustrated: both are covered.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from engines.exact import boltzmann_probabilities
from engines.ising import ALGORITHMS, IsingParams, IsingSimulation

L, T = 3, 3.0
N_SAMPLES, THINNING = 50_000, 5
BIT = 1 << np.arange(L * L)


def _state_index(spins: np.ndarray) -> int:
    return int(BIT[spins.reshape(-1) > 0].sum())


def _visit_counts(algorithm: str, J: float, h: float, seed: int) -> np.ndarray:
    sim = IsingSimulation(IsingParams(L, T, coupling=J, field=h, algorithm=algorithm, seed=seed))
    sim.thermalize(100)
    counts = np.zeros(2 ** (L * L), dtype=np.int64)
    for _ in range(N_SAMPLES):
        sim.sweep(THINNING)
        counts[_state_index(sim.spins)] += 1
    return counts


def _chi2_pvalue(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = probabilities * counts.sum()
    keep = expected >= 5.0
    observed, expected_kept = counts[keep], expected[keep]
    if not keep.all():
        observed = np.append(observed, counts[~keep].sum())
        expected_kept = np.append(expected_kept, expected[~keep].sum())
    return float(chisquare(observed, expected_kept).pvalue)


def _metropolis_frozen_states(J: float, h: float) -> np.ndarray:
    """States from which every Metropolis move of every sweep is forced (ΔE <= 0), found by a
    pure-Python replay of the checkerboard order: the closed deterministic cycles documented in
    engines.ising.metropolis, which a chain started elsewhere can never reach."""

    def forced_sweep(x: int) -> int | None:
        s = ((x >> np.arange(L * L)) & 1).reshape(L, L) * 2 - 1
        for parity in (0, 1):
            for r in range(L):
                for c in range((r + parity) % 2, L, 2):
                    n = s[r - 1, c] + s[(r + 1) % L, c] + s[r, c - 1] + s[r, (c + 1) % L]
                    if 2 * s[r, c] * (J * n + h) > 0:
                        return None
                    s[r, c] = -s[r, c]
        return _state_index(s)

    frozen = []
    for x in range(2 ** (L * L)):
        orbit, y = set(), x
        while y is not None and y not in orbit:
            orbit.add(y)
            y = forced_sweep(y)
        if y is not None:
            frozen.append(x)
    return np.array(frozen, dtype=np.int64)


CASES = [(algorithm, 1.0, 0.0) for algorithm in ALGORITHMS]
CASES += [(algorithm, 1.0, 0.3) for algorithm in ALGORITHMS]
CASES += [(algorithm, -1.0, 0.3) for algorithm in ALGORITHMS]


@pytest.mark.parametrize(("algorithm", "J", "h"), CASES)
def test_visited_state_frequencies_follow_boltzmann(algorithm, J, h):
    counts = _visit_counts(algorithm, J, h, seed=7 + CASES.index((algorithm, J, h)))
    p = boltzmann_probabilities(L, T, J, h)
    if algorithm in ("metropolis", "metropolis-msc"):  # the same checkerboard order (w = 1)
        frozen = _metropolis_frozen_states(J, h)
        assert counts[frozen].sum() == 0
        p = p.copy()
        p[frozen] = 0.0
        p /= p.sum()
    assert _chi2_pvalue(counts, p) > 1e-3


def test_metropolis_frozen_cycles_exist_only_without_field():
    frozen = _metropolis_frozen_states(1.0, 0.0)
    assert frozen.size == 8
    assert _metropolis_frozen_states(1.0, 0.3).size == 0
    # From a frozen state the Metropolis chain cycles deterministically, whatever the seed.
    for seed in range(5):
        sim = IsingSimulation(IsingParams(L, T, algorithm="metropolis", seed=seed))
        sim.spins[:] = ((frozen[0] >> np.arange(L * L)) & 1).reshape(L, L) * 2 - 1
        visited = set()
        for _ in range(20):
            sim.sweep()
            visited.add(_state_index(sim.spins))
        assert visited <= set(frozen.tolist())
