"""IsingSimulation: validation, painting, reproducibility, state round trips, sweep bookkeeping."""

from __future__ import annotations

import dataclasses
import math
import threading
import time

import numpy as np
import pytest
from numba.core.caching import NullCache

from engines.ising import (
    ALGORITHMS,
    IsingParams,
    IsingSimulation,
    clusters,
    heatbath,
    lattice,
    metropolis,
    rng,
)
from engines.ising.simulation import AUTO_CALIBRATION_SWEEPS


def _energy_reference(spins: np.ndarray, J: float, h: float) -> float:
    s = spins.astype(float)
    bonds = np.sum(s * np.roll(s, -1, axis=0)) + np.sum(s * np.roll(s, -1, axis=1))
    return (-J * bonds - h * s.sum()) / s.size


def _trajectory(sim: IsingSimulation, n: int) -> np.ndarray:
    frames = []
    for _ in range(n):
        sim.sweep()
        frames.append(sim.spins.copy())
    return np.array(frames)


# ------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"size": 1}, "size"),
        ({"size": 4.0}, "size"),
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"coupling": math.nan}, "coupling"),
        ({"coupling": math.inf}, "coupling"),
        ({"field": math.inf}, "field"),
        ({"algorithm": "glauber"}, "metropolis, heatbath, wolff, swendsen-wang"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_invalid_params(changes, match):
    params = dataclasses.replace(IsingParams(size=8, temperature=2.0), **changes)
    with pytest.raises(ValueError, match=match):
        params.validate()
    with pytest.raises(ValueError, match=match):
        IsingSimulation(params)


def test_valid_params_and_initial_states():
    params = IsingParams(size=5, temperature=1.5, coupling=-1.0, field=0.2, seed=3)
    params.validate()
    assert IsingSimulation(params, "up").magnetization_per_spin() == 1.0
    assert IsingSimulation(params, "down").magnetization_per_spin() == -1.0
    spins = IsingSimulation(params, "random").spins
    assert spins.dtype == np.int8 and spins.shape == (5, 5)
    assert set(np.unique(spins)) <= {-1, 1}
    with pytest.raises(ValueError, match="random, up, down"):
        IsingSimulation(params, "checkerboard")


def test_setters_validate_and_update_params():
    sim = IsingSimulation(IsingParams(size=4, temperature=2.0))
    sim.set_temperature(3.5)
    sim.set_field(-0.25)
    assert sim.params.temperature == 3.5 and sim.params.field == -0.25
    for bad in (0.0, -2.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="temperature"):
            sim.set_temperature(bad)
    with pytest.raises(ValueError, match="field"):
        sim.set_field(math.nan)
    with pytest.raises(ValueError, match="sweeps"):
        sim.sweep(-1)
    with pytest.raises(ValueError, match="thermalization"):
        sim.thermalize(2.5)


def test_set_spin():
    sim = IsingSimulation(IsingParams(size=4, temperature=2.0), "up")
    sim.set_spin(1, 2, -1)
    assert sim.spins[1, 2] == -1 and sim.spins.sum() == 14
    assert sim.magnetization_per_spin() == 14 / 16
    for args, match in [
        ((4, 0, 1), "row"),
        ((0, -1, 1), "col"),
        ((0, 0, 0), "value|spin"),
        ((0, 0, 2), "spin"),
        ((0.0, 0, 1), "row"),
    ]:
        with pytest.raises(ValueError, match=match):
            sim.set_spin(*args)


@pytest.mark.parametrize("size", [2, 3, 6])
def test_energy_and_magnetization_match_direct_formula(size):
    for seed in range(5):
        sim = IsingSimulation(IsingParams(size, 2.0, coupling=0.7, field=-0.3, seed=seed))
        ref = _energy_reference(sim.spins, 0.7, -0.3)
        assert sim.energy_per_spin() == pytest.approx(ref, abs=1e-12)
        assert sim.magnetization_per_spin() == pytest.approx(sim.spins.mean(), abs=1e-12)


def test_measure_returns_per_spin_series():
    sim = IsingSimulation(IsingParams(6, 2.5, seed=1))
    e, m = sim.measure(5, sweeps_between=2)
    assert e.shape == m.shape == (5,)
    assert sim.sweeps == 10
    assert e[-1] == sim.energy_per_spin() and m[-1] == sim.magnetization_per_spin()
    with pytest.raises(ValueError, match="sweeps_between"):
        sim.measure(3, sweeps_between=0)


# --------------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_seed_same_trajectory_different_seed_differs(algorithm):
    def run(seed: int) -> np.ndarray:
        sim = IsingSimulation(IsingParams(12, 2.3, field=0.1, algorithm=algorithm, seed=seed))
        sim.thermalize(5)
        return _trajectory(sim, 20)

    a, b, c = run(42), run(42), run(43)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_state_dict_round_trip_resumes_bit_for_bit(algorithm):
    sim = IsingSimulation(IsingParams(10, 2.27, field=0.05, algorithm=algorithm, seed=9))
    sim.thermalize(30)
    sim.sweep(7)
    state = sim.state_dict()
    for key, value in state.items():
        assert isinstance(value, (np.ndarray, int, float, str)), key
    resumed = IsingSimulation.from_state(state)
    assert resumed.params == sim.params
    assert resumed.sweeps == sim.sweeps
    assert resumed.cluster_updates_per_sweep == sim.cluster_updates_per_sweep
    assert resumed.mean_cluster_size == sim.mean_cluster_size
    np.testing.assert_array_equal(_trajectory(sim, 25), _trajectory(resumed, 25))
    np.testing.assert_array_equal(sim.state_dict()["rng_state"], resumed.state_dict()["rng_state"])
    assert sim.sweeps == resumed.sweeps == 30 + 7 + 25


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_round_trip_before_any_sweep_and_after_temperature_change(algorithm):
    sim = IsingSimulation(IsingParams(8, 2.0, algorithm=algorithm, seed=4))
    copy = IsingSimulation.from_state(sim.state_dict())
    np.testing.assert_array_equal(_trajectory(sim, 5), _trajectory(copy, 5))
    sim.set_temperature(3.0)
    copy = IsingSimulation.from_state(sim.state_dict())
    np.testing.assert_array_equal(_trajectory(sim, 5), _trajectory(copy, 5))
    assert sim.sweeps == copy.sweeps


def test_state_dict_is_a_copy_and_from_state_validates():
    sim = IsingSimulation(IsingParams(4, 2.0, seed=1))
    state = sim.state_dict()
    state["spins"][0, 0] *= -1
    assert sim.spins[0, 0] != state["spins"][0, 0]
    with pytest.raises(ValueError, match="format"):
        IsingSimulation.from_state({**state, "format": "other"})
    with pytest.raises(ValueError, match="spins"):
        IsingSimulation.from_state({**state, "spins": np.ones((3, 3), dtype=np.int8)})
    with pytest.raises(ValueError, match="spins"):
        IsingSimulation.from_state({**state, "spins": np.zeros((4, 4), dtype=np.int8)})
    with pytest.raises(ValueError, match="RNG"):
        IsingSimulation.from_state({**state, "rng_state": np.zeros(4, dtype=np.uint64)})
    with pytest.raises(ValueError, match="algorithm"):
        IsingSimulation.from_state({**state, "algorithm": "nope"})
    with pytest.raises(ValueError, match="sweeps"):
        IsingSimulation.from_state({**state, "sweeps": -3})


# ---------------------------------------------------------------------- sweep bookkeeping
def test_local_algorithms_have_no_cluster_statistics():
    for algorithm in ("metropolis", "heatbath"):
        sim = IsingSimulation(IsingParams(8, 2.0, algorithm=algorithm))
        sim.thermalize(3)
        sim.sweep(2)
        assert sim.sweeps == 5
        assert sim.cluster_updates_per_sweep is None and sim.mean_cluster_size is None


def test_wolff_calibration_follows_mean_cluster_size():
    N = 16 * 16
    hot = IsingSimulation(IsingParams(16, 1e6, algorithm="wolff", seed=1))
    hot.thermalize(4)
    assert hot.mean_cluster_size == pytest.approx(1.0, abs=1e-3)
    assert hot.cluster_updates_per_sweep == N
    cold = IsingSimulation(IsingParams(16, 0.5, algorithm="wolff", seed=1), "up")
    cold.thermalize(4)
    assert cold.mean_cluster_size > 0.99 * N
    assert cold.cluster_updates_per_sweep == 1
    critical = IsingSimulation(IsingParams(16, 2.269, algorithm="wolff", seed=1))
    critical.thermalize(200)
    expected = max(1, round(N / critical.mean_cluster_size))
    assert abs(critical.cluster_updates_per_sweep - expected) <= 1
    assert 1 < critical.cluster_updates_per_sweep < N


def test_wolff_sweep_calibrates_first_and_recalibrates_after_changes():
    sim = IsingSimulation(IsingParams(16, 1e6, algorithm="wolff", seed=2))
    assert sim.cluster_updates_per_sweep is None and sim.mean_cluster_size is None
    sim.sweep(3)
    assert sim.sweeps == AUTO_CALIBRATION_SWEEPS + 3
    assert sim.cluster_updates_per_sweep == 256
    sim.sweep(2)  # already calibrated: no extra thermalization
    assert sim.sweeps == AUTO_CALIBRATION_SWEEPS + 5
    sim.set_temperature(0.5)
    assert sim.mean_cluster_size is None
    sim.thermalize(20)
    assert sim.cluster_updates_per_sweep == 1
    sim.set_field(0.01)
    before = sim.sweeps
    sim.sweep(1)
    assert sim.sweeps == before + AUTO_CALIBRATION_SWEEPS + 1


def test_wolff_sweep_runs_exactly_the_fixed_number_of_updates():
    sim = IsingSimulation(IsingParams(12, 2.4, algorithm="wolff", seed=5))
    sim.thermalize(20)
    k = sim.cluster_updates_per_sweep
    state = sim.state_dict()
    sim.sweep(3)
    spins = state["spins"].copy()
    generator = state["rng_state"].copy()
    p_add = clusters.bond_probability(1 / 2.4, 1.0)
    clusters.wolff_updates(spins, 3 * k, p_add, 1, 0.0, generator)
    np.testing.assert_array_equal(spins, sim.spins)
    np.testing.assert_array_equal(generator, sim.state_dict()["rng_state"])


def test_swendsen_wang_cluster_statistics():
    sim = IsingSimulation(IsingParams(8, 0.01, algorithm="swendsen-wang", seed=1), "up")
    sim.sweep(4)
    assert sim.cluster_updates_per_sweep == 1
    assert sim.mean_cluster_size == 64.0  # p_add = 1 - exp(-200): one cluster per update
    assert abs(sim.magnetization_per_spin()) == 1.0
    hot = IsingSimulation(IsingParams(8, 1e9, algorithm="swendsen-wang", seed=1))
    hot.sweep(4)
    assert hot.mean_cluster_size == 1.0


def test_wolff_field_acceptance_keeps_ordered_state_along_strong_field():
    # All spins along a strong field: the flip of the single all-lattice cluster costs
    # exp(-2 beta h N) ~ 1e-139, so the state never changes.
    sim = IsingSimulation(IsingParams(8, 0.5, field=1.0, algorithm="wolff", seed=3), "up")
    sim.sweep(50)
    assert sim.magnetization_per_spin() == 1.0


@pytest.mark.parametrize(
    "kernel",
    [
        metropolis.metropolis_sweeps,
        heatbath.heatbath_sweeps,
        clusters.wolff_updates,
        clusters.wolff_until,
        clusters.swendsen_wang_sweeps,
        lattice.random_spins,
        lattice.bond_sum_and_magnetization,
        lattice.bond_sums_and_magnetizations,
        lattice.pair_correlations,
        rng.next_u64,
        rng.next_double,
    ],
)
def test_kernels_are_compiled_nopython_nogil_and_cached(kernel):
    assert kernel.targetoptions["nopython"] is True
    assert kernel.targetoptions["nogil"] is True
    assert not isinstance(kernel._cache, NullCache)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sweeps_release_the_gil(algorithm):
    # A worker thread sweeps for ~0.4 s while this thread keeps time-stamping a Python loop.
    # If the kernel held the GIL, this thread would stall for the whole call.
    sim = IsingSimulation(IsingParams(128, 2.3, algorithm=algorithm, seed=1))
    sim.sweep(2)
    start = time.perf_counter()
    sim.sweep(10)
    n = max(1, round(0.4 / ((time.perf_counter() - start) / 10)))
    worker = threading.Thread(target=sim.sweep, args=(n,))
    stamps = [time.perf_counter()]
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
    worker.join()
    stamps.append(time.perf_counter())
    duration = stamps[-1] - stamps[0]
    assert max(np.diff(stamps)) < duration / 2
