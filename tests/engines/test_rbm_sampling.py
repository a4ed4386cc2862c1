"""Equilibrium sampling: Gibbs on the exact Ising RBM reproduces Kaufman's e and c; Gibbs and
parallel tempering reproduce exact distributions; the global-flip move is exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.exact import (
    boltzmann_probabilities,
    critical_temperature,
    energy_per_spin,
    specific_heat_per_spin,
)
from engines.ising import energies_per_spin, magnetizations_per_spin, summarize
from engines.rbm import RBM, all_visible_states, ising_rbm, log_probabilities_exact, sample_model
from engines.rbm.moves import global_flip


def state_index(samples: np.ndarray) -> np.ndarray:
    """Integer of each ±1 configuration (bit i = spin i up), as in engines.exact."""
    return ((samples > 0).astype(np.int64) << np.arange(samples.shape[1])).sum(1)


def per_chain_frequencies(samples: np.ndarray, n_chains: int, n_states: int) -> np.ndarray:
    """(chains, states) visit frequencies from chain-major samples."""
    idx = state_index(samples).reshape(n_chains, -1)
    return np.stack([np.bincount(row, minlength=n_states) / row.size for row in idx])


def assert_distribution(freq: np.ndarray, p: np.ndarray, max_z: float = 4.5) -> None:
    """Mean frequencies over chains agree with p state by state (error from the chain spread)."""
    mean = freq.mean(0)
    error = freq.std(0, ddof=1) / np.sqrt(freq.shape[0])
    seen = p > 1e-3
    z = np.abs(mean[seen] - p[seen]) / error[seen]
    assert z.max() < max_z, f"worst state deviates by {z.max():.1f} sigma"


def small_model() -> RBM:
    g = torch.Generator().manual_seed(5)
    W = 0.8 * torch.randn(8, 6, generator=g, dtype=torch.float64)
    return RBM(W, 0.3 * torch.randn(8, generator=g, dtype=torch.float64), torch.zeros(6))


@pytest.mark.parametrize("method", ["gibbs", "pt"])
def test_samplers_reproduce_the_exact_distribution(method):
    model = small_model()
    p = np.exp(log_probabilities_exact(model))
    samples, info = sample_model(
        model,
        40_000,
        burn_in=100,
        thin=2,
        method=method,
        n_chains=100,
        generator=torch.Generator().manual_seed(1),
        n_temperatures=4,
    )
    assert samples.shape == (40_000, 8) and samples.dtype == np.int8
    assert set(np.unique(samples)) == {-1, 1}
    assert_distribution(per_chain_frequencies(samples, 100, 256), p)
    assert info["burn_in"] == 100 and info["thin"] == 2 and info["n_chains"] == 100
    assert 0.5 <= info["tau_int_energy"] < 5
    if method == "pt":
        assert len(info["acceptance"]) == 3 and min(info["acceptance"]) > 0.3
        assert info["betas"] == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])


@pytest.mark.parametrize("T", [critical_temperature(), pytest.param(2.8, marks=pytest.mark.slow)])
def test_gibbs_on_the_ising_construction_reproduces_kaufman(T):
    L = 8
    samples, info = sample_model(
        ising_rbm(L, T),
        64_000,
        burn_in=300,
        thin=3,
        n_chains=64,
        generator=torch.Generator().manual_seed(7),
    )
    lattices = samples.reshape(-1, L, L)
    stats = summarize(energies_per_spin(lattices), magnetizations_per_spin(lattices), T, L * L)
    e_exact, c_exact = energy_per_spin(L, T), specific_heat_per_spin(L, T)
    e, c = stats["e"], stats["c"]
    assert e.error < 0.006 and c.error < 0.03
    assert abs(e.value - e_exact) < 3.5 * e.error, (e, e_exact)
    assert abs(c.value - c_exact) < 3.5 * c.error, (c, c_exact)
    assert info["tau_int_energy"] > 0.5


@pytest.mark.parametrize(("method", "flip_moves"), [("pt", False), ("gibbs", True)])
def test_pt_and_flip_moves_cross_between_ordered_phases(method, flip_moves):
    """Ising RBM at T = 1.6 on 4x4: Gibbs chains stay in their phase; PT, or Gibbs with global
    flips, visit both phases equally and give the exact <m²>."""
    L, T, n_chains = 4, 1.6, 16
    model = ising_rbm(L, T)
    m_exact = all_visible_states(16).mean(1)
    m2_exact = float(boltzmann_probabilities(L, T) @ m_exact**2)
    kwargs = {"burn_in": 200, "thin": 1, "n_chains": n_chains, "n_temperatures": 8}
    mixed, info = sample_model(
        model,
        16_000,
        method=method,
        flip_moves=flip_moves,
        generator=torch.Generator().manual_seed(3),
        **kwargs,
    )
    stuck, _ = sample_model(model, 16_000, generator=torch.Generator().manual_seed(3), **kwargs)

    def chain_means(samples, f):
        return f(samples.mean(1)).reshape(n_chains, -1).mean(1)

    m_mixed = chain_means(mixed, lambda m: m)
    assert abs(m_mixed.mean()) < 4 * m_mixed.std(ddof=1) / np.sqrt(n_chains)
    assert np.all(np.abs(m_mixed) < 0.5)  # every chain visits both phases
    m2 = chain_means(mixed, np.square)
    assert abs(m2.mean() - m2_exact) < 4 * m2.std(ddof=1) / np.sqrt(n_chains)
    assert np.all(np.abs(chain_means(stuck, lambda m: m)) > 0.8)  # each Gibbs chain is stuck
    assert info["flip_moves"] is flip_moves
    if method == "pt":
        assert min(info["acceptance"]) > 0.1


def test_global_flip_is_an_exact_metropolis_step():
    """Repeated flips alone, from the exact distribution, leave it invariant (acceptance rule)."""
    model = small_model()
    p = np.exp(log_probabilities_exact(model))
    states = all_visible_states(8).astype(np.float64)
    g = torch.Generator().manual_seed(4)
    start = torch.multinomial(torch.as_tensor(p), 200_000, replacement=True, generator=g)
    v = torch.as_tensor(states)[start]
    v, _ = global_flip(model, v, model.hidden_inputs(v), g)
    freq = np.bincount(state_index(v.numpy()), minlength=256) / v.shape[0]
    error = np.sqrt(p * (1 - p) / v.shape[0])
    assert np.max(np.abs(freq - p) / error) < 5
    # A model symmetric under v -> -v (b = 0, a = -W1/2) always accepts, and x follows the flip.
    sym = RBM(model.W, -model.W.sum(1) / 2, torch.zeros(6))
    x = sym.hidden_inputs(v)
    flipped, x_new = global_flip(sym, v, x, g)
    assert torch.equal(flipped, -v) and torch.allclose(x_new, sym.hidden_inputs(-v))


def test_sample_model_checks_arguments():
    model = small_model()
    with pytest.raises(ValueError, match="Unknown sampling method"):
        sample_model(model, 10, method="metropolis")
    with pytest.raises(ValueError, match="thin >= 1"):
        sample_model(model, 10, thin=0)
    samples, info = sample_model(model, 10, burn_in=0, thin=1, n_chains=3)
    assert samples.shape == (10, 8) and np.isnan(info["tau_int_energy"])
