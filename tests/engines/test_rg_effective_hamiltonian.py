"""The RBM's effective Hamiltonian: the exact Ising RBM has F(v) = βH(v) + const and effective
couplings K1 = βJ, K2 = K4 = field = 0; F matches the brute-force marginal over the hidden units;
the coupling features count bonds, diagonals and plaquettes of hand-made configurations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import logsumexp

from engines.rbm import all_visible_states, ising_rbm
from engines.rg import (
    coupling_features,
    effective_couplings,
    free_energies,
    free_energy_vs_ising,
)

T = 2.5


def _random_configurations(L: int, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(count, L, L))


def _ising_parameters(L: int):
    p = ising_rbm(L, T).to_numpy()
    return p["W"], p["a"], p["b"]


@pytest.mark.parametrize(
    ("L", "samples"),
    [
        (4, _random_configurations(4, 500, seed=1)),
        (6, _random_configurations(6, 500, seed=2)),
        (4, all_visible_states(16).reshape(-1, 4, 4)),
    ],
    ids=["L4-random", "L6-random", "L4-all-states"],
)
def test_exact_ising_rbm_has_free_energy_beta_h(L, samples):
    W, a, b = _ising_parameters(L)
    fit = free_energy_vs_ising(W, a, b, samples, temperature=T)
    assert fit["slope"] == pytest.approx(1.0, abs=1e-10)
    assert fit["r2"] == pytest.approx(1.0, abs=1e-10)
    assert fit["slope_error"] < 1e-10
    # The offset is -(log Z_RBM - log Z_Ising) = -2N (ln 2 + βJ) for this construction.
    assert fit["offset"] == pytest.approx(-2 * L * L * (math.log(2.0) + 1.0 / T), abs=1e-9)
    np.testing.assert_allclose(fit["F"] - fit["beta_H"], fit["offset"], rtol=0, atol=1e-9)

    couplings = effective_couplings(W, a, b, samples)
    assert couplings["K1"][0] == pytest.approx(1.0 / T, abs=1e-8)
    for name in ("field", "K2", "K4"):
        assert couplings[name][0] == pytest.approx(0.0, abs=1e-8)
    assert couplings["residual_rms"] < 1e-9
    for name in ("field", "K1", "K2", "K4"):
        assert 0.0 <= couplings[name][1] < 1e-8


def test_effective_k1_follows_the_temperature_and_sign_of_j():
    samples = _random_configurations(4, 300, seed=3)
    for temperature, J in [(1.5, 1.0), (4.0, 1.0), (2.0, -1.0)]:
        p = ising_rbm(4, temperature, J=J).to_numpy()
        couplings = effective_couplings(p["W"], p["a"], p["b"], samples)
        assert couplings["K1"][0] == pytest.approx(J / temperature, abs=1e-8)
        fit = free_energy_vs_ising(p["W"], p["a"], p["b"], samples, temperature, J=J)
        assert fit["slope"] == pytest.approx(1.0, abs=1e-10)


def test_visible_biases_alone_give_the_field_with_the_stated_sign():
    # W = 0: F(v) = -a·v - m log 2, so -F = h Σ v + const with a_i = h.
    L, h = 3, 0.37
    samples = _random_configurations(L, 200, seed=4)
    couplings = effective_couplings(np.zeros((L * L, 2)), np.full(L * L, h), np.zeros(2), samples)
    assert couplings["field"][0] == pytest.approx(h, abs=1e-12)
    for name in ("K1", "K2", "K4"):
        assert couplings[name][0] == pytest.approx(0.0, abs=1e-12)


def test_free_energy_matches_the_brute_force_marginal():
    rng = np.random.default_rng(5)
    L, m = 3, 8
    n = L * L
    W = rng.normal(0.0, 0.7, size=(n, m))
    a = rng.normal(0.0, 0.5, size=n)
    b = rng.normal(0.0, 0.5, size=m)
    samples = _random_configurations(L, 40, seed=6)
    hidden = np.array(list(itertools.product([0.0, 1.0], repeat=m)))  # (2^m, m)
    v = samples.reshape(-1, n).astype(np.float64)
    minus_energy = (v @ a)[:, None] + (hidden @ b)[None, :] + (v @ W) @ hidden.T
    expected = -logsumexp(minus_energy, axis=1)
    np.testing.assert_allclose(free_energies(W, a, b, samples), expected, rtol=1e-12, atol=1e-12)


def test_coupling_features_of_hand_made_configurations():
    up = np.ones((1, 4, 4), dtype=np.int8)
    rows, cols = np.indices((4, 4))
    checkerboard = np.where((rows + cols) % 2 == 0, 1, -1)[None].astype(np.int8)
    X, names = coupling_features(np.concatenate([up, -up, checkerboard]))
    assert names == ("magnetization", "nearest", "next_nearest", "plaquette")
    np.testing.assert_array_equal(X[0], [16, 32, 32, 16])
    np.testing.assert_array_equal(X[1], [-16, 32, 32, 16])
    np.testing.assert_array_equal(X[2], [0, -32, 32, 16])


def test_coupling_features_of_stripes_and_one_flipped_spin():
    # Vertical stripes: columns alternate. Horizontal bonds all -1, vertical all +1; both
    # diagonals join columns of opposite sign; each plaquette holds two + and two -.
    stripes = np.where(np.arange(4) % 2 == 0, 1, -1)[None, None, :].repeat(4, axis=1)
    # One flipped spin in the all-up state: 4 bonds, 4 diagonals and 4 plaquettes change sign.
    flipped = np.ones((1, 4, 4), dtype=np.int8)
    flipped[0, 1, 2] = -1
    X, _ = coupling_features(np.concatenate([stripes, flipped]))
    np.testing.assert_array_equal(X[0], [0, 0, -32, 16])
    np.testing.assert_array_equal(X[1], [14, 32 - 8, 32 - 8, 16 - 8])


def test_couplings_the_data_cannot_distinguish_have_infinite_errors():
    # Three distinct configurations, repeated: the centred features span at most 2 dimensions,
    # so at least two of the four couplings are undetermined.
    W, a, b = _ising_parameters(4)
    distinct = _random_configurations(4, 3, seed=7)
    couplings = effective_couplings(W, a, b, np.tile(distinct, (4, 1, 1)))
    errors = [couplings[name][1] for name in ("field", "K1", "K2", "K4")]
    assert sum(math.isinf(e) for e in errors) >= 2


def test_errors_grow_when_features_are_nearly_collinear():
    # Ordered-phase-like data (few flipped spins) make the features nearly collinear; a generic
    # random RBM (whose F is not in the span of the features) then has larger errors there than
    # on random configurations of the same number.
    rng = np.random.default_rng(8)
    L, count = 4, 400
    W = rng.normal(0.0, 0.5, size=(L * L, 12))
    a = rng.normal(0.0, 0.2, size=L * L)
    b = rng.normal(0.0, 0.2, size=12)
    ordered = np.ones((count, L, L), dtype=np.int8)
    flips = rng.random((count, L, L)) < 0.05
    ordered[flips] = -1
    spread = effective_couplings(W, a, b, _random_configurations(L, count, seed=9))
    narrow = effective_couplings(W, a, b, ordered)
    assert spread["residual_rms"] > 0
    assert all(np.isfinite(spread[name][1]) for name in ("field", "K1", "K2", "K4"))
    assert narrow["K4"][1] > spread["K4"][1]


@pytest.mark.parametrize(
    "bad",
    [np.ones((3, 4)), np.zeros((2, 3, 3)), np.ones((2, 3, 4))],
    ids=["not-3d", "zeros", "not-square"],
)
def test_bad_samples_are_rejected(bad):
    with pytest.raises(ValueError):
        coupling_features(bad)


def test_bad_inputs_are_rejected():
    W, a, b = _ising_parameters(4)
    samples = _random_configurations(4, 10, seed=10)
    with pytest.raises(ValueError, match="W must have shape"):
        free_energies(W[:-1], a, b, samples)
    with pytest.raises(ValueError, match="a must have shape"):
        free_energies(W, a[:-1], b, samples)
    with pytest.raises(ValueError, match="temperature"):
        free_energy_vs_ising(W, a, b, samples, temperature=0.0)
    with pytest.raises(ValueError, match="same energy"):
        free_energy_vs_ising(W, a, b, np.ones((5, 4, 4)), temperature=T)
    with pytest.raises(ValueError, match="At least 6"):
        effective_couplings(W, a, b, samples[:5])
