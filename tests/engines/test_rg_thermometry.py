"""Thermometers of configuration sets: an Ising ensemble reads one temperature on all three and
passes the consistency checks; a mixture of two temperatures does not; the RBM flow's readings
(a copying RBM stands still, a weightless one forgets everything) and their reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from engines.exact import magnetization_moments
from engines.ising import IsingParams, IsingSimulation, energies_per_spin, mean_with_error
from engines.rg import effective_temperature
from engines.rg.rbm_flow import FLOW_KEYS, flow_thermometry
from engines.rg.thermometry import GRID, exact_tables, thermometry


def wolff(L: int, T: float, n: int, seed: int) -> np.ndarray:
    sim = IsingSimulation(IsingParams(L, T, algorithm="wolff", seed=seed))
    sim.thermalize(200)
    out = np.empty((n, L, L), dtype=np.int8)
    for i in range(n):
        sim.sweep(2)
        out[i] = sim.spins
    return out


@pytest.fixture(scope="module")
def ising_6() -> dict[float, np.ndarray]:
    return {T: wolff(6, T, 3000, seed) for T, seed in ((1.5, 1), (2.5, 2), (4.0, 3))}


def test_the_tables_interpolate_the_exact_curves():
    tables = exact_tables(4)
    mids = (GRID[1:] + GRID[:-1]) / 2
    exact = magnetization_moments(4, mids)
    for name in ("abs_m", "m2", "binder"):
        interpolated = np.interp(mids, tables["T"], tables[name])
        np.testing.assert_allclose(interpolated, exact[name], rtol=0, atol=1e-4)
    assert "binder" not in exact_tables(12)  # no transfer matrix beyond L = 10
    with pytest.raises(ValueError, match="coupling"):
        exact_tables(4, J=-1.0)


def test_an_ising_ensemble_reads_its_temperature_on_every_thermometer(ising_6):
    samples = ising_6[2.5]
    r = thermometry(samples)
    for key in ("t_energy", "t_abs_m", "t_binder"):
        assert abs(r[key] - 2.5) < 4 * r[f"{key}_error"], (key, r[key], r[f"{key}_error"])
    assert abs(r["gap"]) < 4 * r["gap_error"]
    assert r["max_abs_z"] < 4.0
    # the energy thermometer is Kaufman's inversion (engines.rg.effective_temperature)
    direct = effective_temperature(mean_with_error(energies_per_spin(samples)), 6)
    assert r["t_energy"] == pytest.approx(direct.value, abs=1e-4)


def test_a_mixture_of_two_temperatures_is_not_an_ising_ensemble(ising_6):
    # half the configurations at 1.5 (ordered), half at 4.0 (disordered), interleaved
    mixture = np.empty((6000, 6, 6), dtype=np.int8)
    mixture[0::2], mixture[1::2] = ising_6[1.5], ising_6[4.0]
    r = thermometry(mixture)
    assert abs(r["gap"]) > 5 * r["gap_error"]
    assert r["max_abs_z"] > 10
    # the energy (maximum-likelihood) temperature lies between the two
    assert 1.5 < r["t_energy"] < 4.0


def test_large_lattices_get_the_energy_thermometer_only():
    r = thermometry(wolff(12, 2.5, 200, 4))
    assert np.isfinite(r["t_energy"]) and abs(r["t_energy"] - 2.5) < 0.1
    assert np.isnan(r["t_binder"]) and np.isnan(r["gap"])
    with pytest.raises(ValueError, match="at least 20"):
        thermometry(wolff(4, 2.5, 10, 5))


def test_flow_thermometry_of_exact_cases(ising_6):
    n = 36  # 6 x 6 lattices
    starts = [ising_6[1.5][:1000], ising_6[4.0][:1000]]
    w = 60.0  # copying RBM: one hidden unit per spin, the flow stands still
    still = flow_thermometry(
        w * np.eye(n), np.full(n, -w / 2), np.zeros(n), starts, [1.5, 4.0], 2, seed=1
    )
    assert set(FLOW_KEYS) <= set(still) and still["t_energy"].shape == (2, 3)
    np.testing.assert_array_equal(still["flip_fraction"], 0.0)
    for k in (1, 2):
        np.testing.assert_array_equal(still["t_energy"][:, k], still["t_energy"][:, 0])
    assert still["t_energy"][0, 0] == pytest.approx(1.5, abs=0.05)
    assert still["t_energy"][1, 0] == pytest.approx(4.0, abs=0.15)
    # no weights, no biases: v' is a fair coin per spin, e ≈ 0, i.e. T beyond the tables (NaN)
    gone = flow_thermometry(
        np.zeros((n, 4)),
        np.zeros(n),
        np.zeros(4),
        starts,
        [1.5, 4.0],
        1,
        seed=1,
        equilibrium=starts[1],
    )
    assert np.all(np.isnan(gone["t_energy"][:, 1]))
    assert gone["flip_fraction"][0, 0] == pytest.approx(0.5, abs=0.02)
    assert gone["equilibrium"]["t_energy"] == pytest.approx(still["t_energy"][1, 0])
    again = flow_thermometry(
        np.zeros((n, 4)), np.zeros(n), np.zeros(4), starts, [1.5, 4.0], 1, seed=1
    )
    np.testing.assert_array_equal(again["flip_fraction"], gone["flip_fraction"])
    with pytest.raises(ValueError, match="One sample set per temperature"):
        flow_thermometry(np.zeros((n, 4)), np.zeros(n), np.zeros(4), starts, [1.5], 1)


def test_flow_thermometry_reads_the_configurations_of_rbm_flow(ising_6):
    from engines.rg import rbm_flow

    rng = np.random.default_rng(4)
    n = 36
    W, a, b = rng.normal(0, 0.3, (n, 9)), rng.normal(0, 0.1, n), rng.normal(0, 0.3, 9)
    start = ising_6[2.5][:400]
    out = flow_thermometry(W, a, b, [start], [2.5], 4, seed=6, read_steps=[0, 2, 4])
    np.testing.assert_array_equal(out["steps"], [0, 2, 4])
    stream = int(np.random.SeedSequence([6, 0]).generate_state(1)[0])
    flow = rbm_flow(W, a, b, start, 4, seed=stream)
    for column, k in enumerate((0, 2, 4)):
        reading = thermometry(flow[k])
        for key in ("t_energy", "t_binder", "gap", "max_abs_z"):
            assert out[key][0, column] == pytest.approx(reading[key], nan_ok=True)
    flips = [np.mean(flow[k] != flow[k - 1]) for k in range(1, 5)]
    np.testing.assert_allclose(out["flip_fraction"][0], flips)
    # Wolff data: the energy distribution is that of one temperature
    assert out["c_ratio"][0, 0] == pytest.approx(1.0, abs=4 * out["c_ratio_error"][0, 0])
    with pytest.raises(ValueError, match="read_steps"):
        flow_thermometry(W, a, b, [start], [2.5], 4, read_steps=[0, 5])
