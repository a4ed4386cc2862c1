"""Every algorithm reproduces the exact 8×8 thermodynamics within 4 of its own standard errors.

Oracles: Kaufman's finite-L energy and specific heat, and exact magnetization moments from the
transfer matrix (engines.exact). The errors come from ``summarize``: τ_int-corrected for means,
blocked jackknife for c, χ and U4, so this also checks that the error bars account for the
autocorrelation of each algorithm. One sample per sweep, after 1000 thermalization sweeps.
"""

from __future__ import annotations

import pytest

from engines.exact import (
    energy_per_spin,
    magnetization_distribution,
    magnetization_moments,
    specific_heat_per_spin,
    transfer_matrix_energy,
)
from engines.ising import ALGORITHMS, IsingParams, IsingSimulation, summarize

L = 8
N = L * L
N_SAMPLES = 60_000
THERMALIZATION = 1000
TEMPERATURES = (2.0, 2.269185, 3.0)


def _run(algorithm: str, T: float, seed: int, field: float = 0.0) -> dict:
    sim = IsingSimulation(IsingParams(L, T, field=field, algorithm=algorithm, seed=seed))
    sim.thermalize(THERMALIZATION)
    e, m = sim.measure(N_SAMPLES)
    return summarize(e, m, T, N)


def _assert_within(result: dict, exact: dict, label: str) -> None:
    for key, value in exact.items():
        estimate = result[key]
        assert estimate.error > 0, (label, key)
        z = (estimate.value - value) / estimate.error
        assert abs(z) < 4.0, (
            f"{label} {key}: {estimate.value:.5f} ± {estimate.error:.5f} "
            f"vs exact {value:.5f} (z = {z:.2f})"
        )


@pytest.mark.parametrize("T", TEMPERATURES)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_field_matches_exact(algorithm, T):
    seed = 1000 + 10 * ALGORITHMS.index(algorithm) + TEMPERATURES.index(T)
    result = _run(algorithm, T, seed)
    moments = magnetization_moments(L, T)
    exact = {
        "e": energy_per_spin(L, T),
        "c": specific_heat_per_spin(L, T),
        "abs_m": moments["abs_m"],
        "m2": moments["m2"],
        "binder": moments["binder"],
        "chi": moments["chi"],
    }
    _assert_within(result, exact, f"{algorithm} T={T}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_in_a_field_matches_exact(algorithm):
    T, h = 2.5, 0.1
    result = _run(algorithm, T, 2000 + ALGORITHMS.index(algorithm), field=h)
    M, P = magnetization_distribution(L, T, h=h)
    energy = transfer_matrix_energy(L, T, h=h)
    exact = {"e": energy["e"], "c": energy["c"], "m": P @ M / N, "m2": P @ M**2 / N**2}
    _assert_within(result, exact, f"{algorithm} T={T} h={h}")
