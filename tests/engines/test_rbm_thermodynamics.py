"""Model thermodynamics (engines.rbm.thermodynamics): the exact hidden-layer evaluation against
brute force, the chains against it and against Kaufman on the exact Ising RBM, the z-scores, and
the flip move that makes symmetric chains mix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engines.exact import critical_temperature
from engines.ising import (
    Estimate,
    IsingParams,
    IsingSimulation,
    energies_per_spin,
    magnetizations_per_spin,
)
from engines.rbm import RBM, all_visible_states, ising_rbm, log_probabilities_exact, sample_model
from engines.rbm.thermodynamics import (
    compare,
    data_thermodynamics,
    exact_model_thermodynamics,
    exact_thermodynamics,
    lattice_size,
    model_thermodynamics,
)


def brute_force(model: RBM, T: float) -> dict[str, float]:
    L = lattice_size(model.n_visible)
    p = np.exp(log_probabilities_exact(model))
    states = all_visible_states(model.n_visible).reshape(-1, L, L)
    e, m = energies_per_spin(states), magnetizations_per_spin(states)
    n = L * L
    out = {"e": p @ e, "m": p @ m, "abs_m": p @ np.abs(m), "m2": p @ m**2, "m4": p @ m**4}
    out["c"] = n * (p @ e**2 - out["e"] ** 2) / T**2
    out["chi"] = n * (out["m2"] - out["abs_m"] ** 2) / T
    out["binder"] = 1 - out["m4"] / (3 * out["m2"] ** 2)
    return out


@pytest.mark.parametrize("L", [2, 3, 4])
def test_exact_model_thermodynamics_matches_brute_force(L):
    """Every observable of a random (asymmetric) RBM, also on the 2×2 torus with its doubled bonds,
    to float64 rounding."""
    g = torch.Generator().manual_seed(L)
    n = L * L
    model = RBM(
        0.6 * torch.randn(n, 5, generator=g, dtype=torch.float64),
        0.3 * torch.randn(n, generator=g, dtype=torch.float64),
        0.3 * torch.randn(5, generator=g, dtype=torch.float64),
    )
    got, want = exact_model_thermodynamics(model, 2.1), brute_force(model, 2.1)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-10, abs=1e-12), key


def test_chains_agree_with_hidden_enumeration_at_l8():
    """A symmetric 64×12 model with structure (plaquette-like weights): Gibbs + flip chains and the
    exact enumeration agree within the chains' own τ_int-based errors."""
    g = torch.Generator().manual_seed(2)
    W = 0.25 * torch.randn(64, 12, generator=g, dtype=torch.float64) + 0.35
    model = RBM(W, -0.5 * W.sum(1), torch.zeros(12, dtype=torch.float64))
    T = 2.269
    exact = exact_model_thermodynamics(model, T)
    result = model_thermodynamics(
        model,
        T,
        n_samples=20_000,
        n_chains=40,
        burn_in=300,
        thin=5,
        generator=torch.Generator().manual_seed(3),
    )
    est = result["estimates"]
    for key in ("e", "m", "abs_m", "m2", "c", "chi"):
        assert abs(est[key].value - exact[key]) < 4 * est[key].error, key
    assert est["abs_m"].value > 0.3  # an ordered model, so that the flip move matters
    assert set(result["tau_int_sweeps"]) >= {"e", "abs_m", "c"}
    assert all(0.5 < r < 2.0 for r in result["chain_spread_ratio"].values())


def test_chains_on_the_exact_ising_rbm_reproduce_exact_values():
    """ising_rbm(8, T) has p(v) = Ising at T: the model thermodynamics are the exact ones."""
    T = 2.5
    result = model_thermodynamics(
        ising_rbm(8, T),
        T,
        n_samples=20_000,
        n_chains=40,
        burn_in=200,
        thin=4,
        generator=torch.Generator().manual_seed(5),
    )
    table = compare(result["estimates"], exact=exact_thermodynamics(8, T))
    for key in ("e", "abs_m", "m", "c", "chi", "binder"):
        assert abs(table[key]["z_exact"]) < 4, (key, table[key])
    assert result["L"] == 8 and result["n_samples"] == 20_000


def test_data_thermodynamics_of_wolff_samples():
    T = 2.0
    sim = IsingSimulation(IsingParams(8, T, algorithm="wolff", seed=4))
    sim.thermalize(200)
    data = np.empty((8000, 64), dtype=np.int8)
    for i in range(data.shape[0]):
        sim.sweep()
        data[i] = sim.spins.reshape(-1)
    est = data_thermodynamics(data, T)
    assert est.keys() >= {"e", "m", "abs_m", "m2", "m4", "c", "chi", "binder"}
    table = compare(est, exact=exact_thermodynamics(8, T))
    for key in ("e", "abs_m", "c", "chi"):
        assert abs(table[key]["z_exact"]) < 4, key
    same = data_thermodynamics(data.reshape(-1, 8, 8), T)
    assert same["c"] == est["c"]


def test_compare_combines_model_and_data_errors():
    model = {"e": Estimate(-1.50, 0.003), "m": Estimate(0.01, 0.01)}
    data = {"e": Estimate(-1.49, 0.004)}
    table = compare(model, data, {"e": -1.4918, "m": 0.0})
    row = table["e"]
    assert row["z_exact"] == pytest.approx((-1.50 + 1.4918) / 0.005)
    assert row["z_data"] == pytest.approx(-0.01 / 0.005)
    assert row["z_data_exact"] == pytest.approx((-1.49 + 1.4918) / 0.004)
    assert row["relative"] == pytest.approx(-1.50 / -1.4918 - 1)
    assert table["m"]["z_exact"] == pytest.approx(1.0) and "relative" not in table["m"]
    assert set(table) == {"e", "m"}


def test_exact_thermodynamics_values():
    values = exact_thermodynamics(8, critical_temperature())
    assert values["e"] == pytest.approx(-1.4915, abs=2e-3)
    assert values["chi"] > 0 and 0.55 < values["binder"] < 0.65 and values["m"] == 0.0
    assert set(exact_thermodynamics(16, 2.0)) == {"e", "c"}  # no transfer matrix beyond L = 10


def test_bad_arguments():
    with pytest.raises(ValueError, match="not the L"):
        lattice_size(10)
    model = RBM(np.zeros((16, 21)), np.zeros(16), np.zeros(21))
    with pytest.raises(ValueError, match="<= 20 hidden"):
        exact_model_thermodynamics(model, 2.0)
    with pytest.raises(ValueError, match="temperature"):
        exact_model_thermodynamics(ising_rbm(4, 2.0), -1.0)
    with pytest.raises(ValueError, match="flip_probability"):
        sample_model(ising_rbm(4, 2.0), 10, flip_probability=0.0)


@pytest.mark.parametrize(("probability", "mixes"), [(1.0, False), (0.5, True)])
def test_flip_proposed_every_sweep_is_invisible_at_even_thinning(probability, mixes):
    """The exact Ising RBM is symmetric, so its flip is always accepted: proposed every sweep it
    flips the lattice deterministically, and chains recorded every 2 sweeps stay in the phase
    they started in; proposed with probability 1/2 the sign is random at every record. Gibbs alone
    leaves a phase of the L = 4 lattice by two domain walls, Boltzmann factor e^{-4LJ/T}: at
    T = 1.6 that is e^{-10} per chain and sweep (measured: one of 16 chains crossed in 4100
    sweeps), at T = 1.0 e^{-16} ≈ 10^-7, about 0.007 crossings expected here."""
    n_chains = 16
    samples, info = sample_model(
        ising_rbm(4, 1.0),
        8000,
        burn_in=100,
        thin=2,
        n_chains=n_chains,
        flip_moves=True,
        flip_probability=probability,
        generator=torch.Generator().manual_seed(9),
    )
    chain_m = samples.mean(1).reshape(n_chains, -1).mean(1)
    assert info["flip_probability"] == probability
    if mixes:
        assert np.all(np.abs(chain_m) < 0.3)
    else:
        assert np.all(np.abs(chain_m) > 0.8)
    assert math.isfinite(info["tau_int_energy"])
