"""Extreme but accepted couplings and fields: the bounds of IsingParams, and the kernels and
exact results quiet and right at |J|/T from 1e-300 to 1e12."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from engines import exact
from engines.exact import enumeration, kaufman, onsager
from engines.ising.params import MAX_COUPLING, MAX_FIELD, IsingParams
from engines.ising.simulation import IsingSimulation


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"coupling": 1e308}, "coupling"),
        ({"coupling": -1.000001e6}, "coupling"),
        ({"field": 1e308}, "field"),
        ({"field": -1e12}, "field"),
        ({"coupling": float("inf")}, "coupling"),
    ],
)
def test_couplings_and_fields_beyond_the_bounds_are_refused_with_the_reason(changes, name):
    with pytest.raises(ValueError, match=name) as info:
        IsingParams(size=4, temperature=2.3, **changes).validate()
    assert "1e+06" in str(info.value) and "finite" in str(info.value)


def test_the_bounds_themselves_and_ordinary_values_are_accepted():
    for J, h in ((MAX_COUPLING, MAX_FIELD), (-MAX_COUPLING, -MAX_FIELD), (10.0, -10.0), (0, 0)):
        IsingParams(size=4, temperature=1e-6, coupling=J, field=h).validate()


def _bond_sum_moments(L: int, K: float) -> tuple[float, float]:
    """<B> and Var B at K from the density of states, without cancellation: sum g b = 0, so
    <B> = sum g b expm1(K b) / Z, every term >= 0."""
    g = np.asarray(enumeration.density_of_states(L), dtype=float).sum(axis=1)
    b = 2.0 * L * L - 2.0 * np.arange(g.size)
    weights = g * np.exp(K * b)
    mean = (g * b * np.expm1(K * b)).sum() / weights.sum()
    return mean, (weights * b * b).sum() / weights.sum() - mean**2


@pytest.mark.parametrize("L", [2, 3, 4, 5])
@pytest.mark.parametrize("K", [3e-5, 1e-7, 1e-9, 1e-12])
def test_kaufman_at_high_temperature_equals_enumeration(no_warnings, L, K):
    """J/T below 1e-4: the high-temperature expansion (the formula had the wrong sign at 1e-9)."""
    mean, var = _bond_sum_moments(L, K)
    N = L * L
    assert kaufman.energy_per_spin(L, 1.0 / K) == pytest.approx(-mean / N, rel=1e-12)
    assert kaufman.specific_heat_per_spin(L, 1.0 / K) == pytest.approx(K * K * var / N, rel=1e-10)


def test_kaufman_joins_its_high_temperature_expansion_continuously(no_warnings):
    for L in (2, 3, 4, 16):
        T = 1.0 / np.array([1.0001e-4, 0.9999e-4])
        e = kaufman.energy_per_spin(L, T) * T
        c = kaufman.specific_heat_per_spin(L, T) * T**2
        assert e[0] == pytest.approx(e[1], rel=1e-6) and c[0] == pytest.approx(c[1], rel=1e-6)


def test_onsager_at_high_temperature(no_warnings):
    """Above T = 333 J the expansion: e = -(2t + 4t^3 ...), c = K^2 (2 + 12 K^2 ...)."""
    T = np.array([1e3, 1e6, 1e9, 1e12])
    K = 1.0 / T
    np.testing.assert_allclose(onsager.energy_per_spin_infinite(T), -2.0 * K, rtol=1e-5)
    np.testing.assert_allclose(onsager.specific_heat_infinite(T), 2.0 * K**2, rtol=1e-5)
    # continuous at the join, where the formula is still good to ~1e-11
    edge = 1.0 / np.array([3.0001e-3, 2.9999e-3])
    e = onsager.energy_per_spin_infinite(edge) * edge
    assert e[0] == pytest.approx(e[1], rel=1e-6)


@pytest.mark.parametrize("J", [1e-300, 5e-324, 1e6])
@pytest.mark.parametrize("T", [1e-6, 2.3, 1e12])
def test_exact_results_are_quiet_at_extreme_couplings(no_warnings, J, T):
    values = [
        exact.energy_per_spin(4, T, J),
        exact.specific_heat_per_spin(4, T, J),
        exact.log_partition_function(4, T, J),
        exact.energy_per_spin_infinite(T, J),
        exact.specific_heat_infinite(T, J),
        exact.spontaneous_magnetization(T, J),
    ]
    assert np.all(np.isfinite(values))
    for h in (0.0, 1e6, -1e6):
        exact.magnetization_moments(3, T, J, h)
        exact.transfer_matrix_energy(3, T, J, h)


def test_frozen_antiferromagnets_give_no_reference_quietly(no_warnings):
    """Even L: the Néel states, <m^2> = 0 and the Binder cumulant 0/0 is NaN. Odd L (frustrated):
    every weight underflows and nothing is known, NaN."""
    even = exact.magnetization_moments(4, 2.3, -1e6, 0.0)
    assert even["m2"] == 0.0 and np.isnan(even["binder"])
    odd = exact.transfer_matrix_energy(3, 1e-6, -1e6, 1e6)
    assert all(np.isnan(value) for value in odd.values())
    assert np.isnan(exact.magnetization_moments(3, 0.01, -1.0)["abs_m"])
    # below the underflow the odd lattice keeps its values
    assert np.isfinite(exact.transfer_matrix_energy(3, 0.5, -1.0)["e"])


@pytest.mark.parametrize(
    "algorithm", ["metropolis", "heatbath", "wolff", "swendsen-wang", "metropolis-msc"]
)
@pytest.mark.parametrize(("J", "h"), [(1e-300, 0.0), (1e6, -1e6), (-1e6, 1e6)])
def test_kernels_run_quietly_at_extreme_couplings(no_warnings, algorithm, J, h):
    """metropolis-msc at J = 1e-300 refused its own tables (a probability of 1.0)."""
    for T in (1e-6, 1e12):
        sim = IsingSimulation(IsingParams(4, T, coupling=J, field=h, algorithm=algorithm, seed=1))
        sim.sweep(3)
        energies, magnetizations = sim.measure(2)
        assert np.all(np.isfinite(energies)) and np.all(np.abs(magnetizations) <= 1.0)


def test_a_neel_frozen_series_has_no_binder_cumulant_quietly(no_warnings):
    """An antiferromagnet frozen in its Néel states measures m = 0 at every sample: U4 is 0/0."""
    from engines.ising.observables import summarize

    estimates = summarize(np.full(64, -2.0), np.zeros(64), temperature=0.05, n_spins=16)
    assert np.isnan(estimates["binder"].value)
    assert estimates["e"].value == -2.0 and estimates["chi"].value == 0.0
