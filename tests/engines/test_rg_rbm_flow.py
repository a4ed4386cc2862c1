"""The Iso–Shiba–Yokoo RBM flow v -> h -> v': exact cases (a copying RBM stands still, W = 0
forgets v and gives ⟨v'⟩ = tanh(a), the RBM's own p(v) is stationary) and reproducibility."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from engines.rg import rbm_flow, reconstruction_step


def random_spins(n: int, L: int, seed: int) -> np.ndarray:
    return (2 * np.random.default_rng(seed).integers(0, 2, size=(n, L, L)) - 1).astype(np.int8)


def test_a_copying_rbm_makes_the_flow_stand_still():
    # one hidden unit per spin, W = w·I, a = -w/2, b = 0: h_i = [v_i = +1] and v'_i = 2h_i - 1,
    # each wrong with probability σ(-w/2)·… ≤ e^-30; 3 steps × 200 × 64 spins: never
    L, w = 8, 60.0
    n = L * L
    samples = random_spins(200, L, 0)
    flow = rbm_flow(w * np.eye(n), np.full(n, -w / 2), np.zeros(n), samples, 3, seed=1)
    assert len(flow) == 4
    for step in flow[1:]:
        np.testing.assert_array_equal(step, samples)


def test_without_weights_v_prime_forgets_v_and_has_mean_tanh_a():
    L, N, a0 = 8, 2000, 0.3
    n = L * L
    W, a, b = np.zeros((n, 5)), np.full(n, a0), np.linspace(-1, 1, 5)
    up = reconstruction_step(W, a, b, np.ones((N, L, L), dtype=np.int8), seed=5)
    down = reconstruction_step(W, a, b, -np.ones((N, L, L), dtype=np.int8), seed=5)
    np.testing.assert_array_equal(up, down)  # the same draws, whatever v was
    # N·n independent spins with p(+1) = σ(2 a0): mean tanh(a0), standard error below
    sigma = math.sqrt((1 - math.tanh(a0) ** 2) / (N * n))
    assert abs(up.mean() - math.tanh(a0)) < 5 * sigma


def test_the_rbm_equilibrium_is_stationary_under_one_step():
    # L = 2: 16 visible states; p(v) ∝ exp(a·v) Π_j (1 + exp(b_j + (Wᵀv)_j)) exactly
    rng = np.random.default_rng(11)
    W, a, b = rng.normal(0, 0.8, (4, 3)), rng.normal(0, 0.3, 4), rng.normal(0, 0.5, 3)
    states = np.array(list(itertools.product([-1, 1], repeat=4)), dtype=np.int8)
    log_p = states @ a + np.log1p(np.exp(states @ W + b)).sum(axis=1)
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    N = 40_000
    drawn = states[rng.choice(16, size=N, p=p)].reshape(N, 2, 2)
    after = reconstruction_step(W, a, b, drawn, seed=2).reshape(N, 4)
    index = ((after + 1) // 2) @ (2 ** np.arange(3, -1, -1))  # row of `states`
    counts = np.bincount(index, minlength=16)
    chi2 = float(((counts - N * p) ** 2 / (N * p)).sum())
    assert chi2 < 50.0  # 15 degrees of freedom: P(χ² > 50) ≈ 1e-5 if stationary


def test_the_flow_is_reproducible_and_checks_its_input():
    L, n = 4, 16
    rng = np.random.default_rng(0)
    W, a, b = rng.normal(size=(n, 4)), rng.normal(size=n), rng.normal(size=4)
    samples = random_spins(50, L, 3)
    first, again = rbm_flow(W, a, b, samples, 2, seed=9), rbm_flow(W, a, b, samples, 2, seed=9)
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[2], rbm_flow(W, a, b, samples, 2, seed=10)[2])
    with pytest.raises(ValueError, match="steps"):
        rbm_flow(W, a, b, samples, 0)
    with pytest.raises(ValueError, match="shapes"):
        rbm_flow(W[:8], a, b, samples, 1)
    with pytest.raises(ValueError, match="spins"):
        rbm_flow(W, a, b, samples * 0, 1)
