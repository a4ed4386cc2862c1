"""RBM energies, conditionals and exact log Z against brute force over every (v, h), and the
exact Ising construction against enumeration and Kaufman's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engines.exact import boltzmann_probabilities, enumerate_log_z, log_partition_function
from engines.rbm import (
    RBM,
    ising_log_z_offset,
    ising_rbm,
    log_partition_exact,
    log_probabilities_exact,
)
from engines.rbm.partition import layer_states


def random_model(n: int, m: int, seed: int, scale: float = 1.0) -> RBM:
    g = torch.Generator().manual_seed(seed)
    W = scale * torch.randn(n, m, generator=g, dtype=torch.float64)
    a = 0.5 * scale * torch.randn(n, generator=g, dtype=torch.float64)
    b = 0.5 * scale * torch.randn(m, generator=g, dtype=torch.float64)
    return RBM(W, a, b)


def joint_log_weights(model: RBM) -> torch.Tensor:
    """-E(v, h) for every visible state (rows) and hidden state (columns), by brute force."""
    n, m = model.n_visible, model.n_hidden
    v = 2.0 * layer_states(n, 0, 1 << n, model.device) - 1.0
    h = layer_states(m, 0, 1 << m, model.device)
    vv = v[:, None, :].expand(-1, h.shape[0], -1)
    hh = h[None, :, :].expand(v.shape[0], -1, -1)
    return -model.energy(vv, hh)


@pytest.mark.parametrize(("n", "m", "seed"), [(8, 6, 0), (6, 8, 1), (7, 7, 2), (1, 3, 3)])
def test_both_enumerations_agree_with_brute_force(n, m, seed):
    model = random_model(n, m, seed)
    brute = float(torch.logsumexp(joint_log_weights(model).reshape(-1), 0))
    assert log_partition_exact(model, "visible") == pytest.approx(brute, abs=1e-10)
    assert log_partition_exact(model, "hidden") == pytest.approx(brute, abs=1e-10)
    assert log_partition_exact(model) == pytest.approx(brute, abs=1e-10)


def test_log_z_handles_large_parameters_without_overflow():
    model = random_model(8, 6, 4, scale=60.0)
    brute = float(torch.logsumexp(joint_log_weights(model).reshape(-1), 0))
    assert math.isfinite(brute) and brute > 700  # exp(log Z) would overflow
    assert log_partition_exact(model, "visible") == pytest.approx(brute, rel=1e-13)
    assert log_partition_exact(model, "hidden") == pytest.approx(brute, rel=1e-13)


def test_float32_model_is_evaluated_in_float64():
    model64 = random_model(8, 6, 5)
    model32 = model64.to(torch.float32)
    exact32 = log_partition_exact(RBM.from_state(model32.state_dict()).to(torch.float64))
    assert log_partition_exact(model32) == pytest.approx(exact32, abs=1e-12)


def test_free_energy_is_the_marginal_over_hidden_units():
    model = random_model(8, 6, 6)
    marginal = -torch.logsumexp(joint_log_weights(model), dim=1)
    v = 2.0 * layer_states(8, 0, 256, model.device) - 1.0
    assert torch.allclose(model.free_energy(v), marginal, rtol=0, atol=1e-12)


def test_conditionals_match_the_joint_distribution():
    model = random_model(5, 4, 7)
    p = torch.softmax(joint_log_weights(model).reshape(-1), 0).reshape(32, 16)
    v = 2.0 * layer_states(5, 0, 32, model.device) - 1.0
    h = layer_states(4, 0, 16, model.device)
    p_h_given_v = (p / p.sum(1, keepdim=True)) @ h  # E[h | v]
    assert torch.allclose(model.hidden_probabilities(v), p_h_given_v, atol=1e-12)
    p_v_given_h = (p / p.sum(0, keepdim=True)).T @ ((v + 1) / 2)  # P(v_i = +1 | h)
    assert torch.allclose(model.visible_probabilities(h), p_v_given_h, atol=1e-12)


def test_log_probabilities_are_normalized():
    model = random_model(10, 5, 8)
    log_p = log_probabilities_exact(model)
    assert log_p.shape == (1024,)
    assert np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-12)


def test_enumeration_refuses_layers_over_24_units():
    model = RBM(np.zeros((25, 30)), np.zeros(25), np.zeros(30))
    with pytest.raises(ValueError, match="24 units"):
        log_partition_exact(model)
    with pytest.raises(ValueError, match="24 units"):
        log_partition_exact(RBM(np.zeros((25, 3)), np.zeros(25), np.zeros(3)), over="visible")
    with pytest.raises(ValueError, match="over must be"):
        log_partition_exact(random_model(3, 3, 0), over="both")


def test_zero_model_has_log_z_of_counting():
    model = RBM(np.zeros((5, 3)), np.zeros(5), np.zeros(3))
    assert log_partition_exact(model) == pytest.approx(8 * math.log(2), abs=1e-14)


@pytest.mark.parametrize("L", [2, 3])
@pytest.mark.parametrize(
    ("T", "J"), [(2.269, 1.0), (1.2, 1.0), (4.0, 1.0), (2.0, -1.0), (3.0, 0.0)]
)
def test_ising_construction_log_z_identity(L, T, J):
    """log Z_RBM = log Z_Ising + 2N (ln 2 + |K|), both layers enumerated where possible."""
    model = ising_rbm(L, T, J)
    expected = enumerate_log_z(L, T, J) + ising_log_z_offset(L, T, J)
    assert expected == pytest.approx(
        enumerate_log_z(L, T, J) + 2 * L * L * (math.log(2) + abs(J) / T), abs=1e-12
    )
    assert log_partition_exact(model, "visible") == pytest.approx(expected, abs=1e-10)
    if model.n_hidden <= 24:
        assert log_partition_exact(model, "hidden") == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize(("L", "T", "J"), [(3, 2.269, 1.0), (3, 1.5, -0.7), (4, 2.269, 1.0)])
def test_ising_construction_reproduces_every_boltzmann_probability(L, T, J):
    model = ising_rbm(L, T, J)
    p = np.exp(log_probabilities_exact(model))
    assert np.max(np.abs(p - boltzmann_probabilities(L, T, J)) / p) < 1e-11


def test_ising_construction_matches_kaufman_at_l4():
    model = ising_rbm(4, 2.5)
    expected = log_partition_function(4, 2.5) + ising_log_z_offset(4, 2.5)
    assert log_partition_exact(model) == pytest.approx(expected, abs=1e-10)


def test_ising_construction_structure():
    model = ising_rbm(3, 2.0)
    W = model.W.numpy()
    w = math.acosh(math.exp(2 * 1.0 / 2.0))
    assert model.n_visible == 9 and model.n_hidden == 18
    assert np.all(np.count_nonzero(W, axis=0) == 2)  # every hidden unit joins one bond
    assert np.all(np.count_nonzero(W, axis=1) == 4)  # every site lies on 4 bonds
    assert np.allclose(W[W != 0], w, rtol=1e-14)
    assert np.allclose(model.a.numpy(), -2 * w, rtol=1e-14)
    assert np.all(model.b.numpy() == 0)
    with pytest.raises(ValueError, match="temperature"):
        ising_rbm(3, 0.0)
    with pytest.raises(ValueError, match="lattice size"):
        ising_rbm(1, 2.0)


def test_model_validation_and_state_round_trip():
    with pytest.raises(ValueError, match="do not match"):
        RBM(np.zeros((3, 2)), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="non-empty"):
        RBM(np.zeros((3, 0)), np.zeros(3), np.zeros(0))
    model = random_model(6, 4, 9).to(torch.float32)
    state = model.state_dict()
    assert state["dtype"] == "float32" and state["W"].dtype == np.float32
    again = RBM.from_state(state)
    assert all(torch.equal(getattr(again, k), getattr(model, k)) for k in "Wab")
    with pytest.raises(ValueError, match="last dimension"):
        model.free_energy(torch.ones(3, 5))


def test_random_model_reproduces_data_means():
    data = np.where(np.random.default_rng(0).random((500, 6)) < 0.8, 1, -1).astype(np.int8)
    data[:, 0] = 1
    model = RBM.random(6, 4, torch.Generator().manual_seed(0), data=data, std=0.0)
    expected = np.clip(data.mean(0), -0.999, 0.999)
    assert np.allclose(np.tanh(model.a.numpy()), expected, atol=1e-6)
    assert torch.all(model.b == 0) and torch.all(model.W == 0)
