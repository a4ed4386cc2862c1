"""Stacked RBMs: hand-built block-local stacks reproduce iterated majority rule, non-local levels
are refused with their numbers, and greedy training yields levels of the right shapes."""

from __future__ import annotations

import numpy as np
import pytest

from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBMConfig
from engines.rg import (
    coarse_grain,
    coarse_grain_stack,
    matched_shares,
    rbm_level,
    train_stack,
)


def block_local(L: int, b: int, weight: float, perm: np.ndarray) -> np.ndarray:
    """W (L², (L/b)²): unit j has ±weight on block perm[j] (negative for every third unit)."""
    k = L // b
    W = np.zeros((L, L, k * k))
    for j, block in enumerate(perm):
        i, c = divmod(int(block), k)
        W[b * i : b * i + b, b * c : b * c + b, j] = -weight if j % 3 == 0 else weight
    return W.reshape(L * L, k * k)


def random_spins(n: int, L: int, seed: int) -> np.ndarray:
    return (2 * np.random.default_rng(seed).integers(0, 2, size=(n, L, L)) - 1).astype(np.int8)


def test_a_large_weight_block_local_stack_is_iterated_majority_rule():
    # b = 3 is odd, so block sums never vanish: |Wᵀv| >= 50 and each hidden unit fires on its
    # block's majority except with probability σ(-50) ≈ 2e-22, i.e. never. Units are permuted
    # and a third have negative weights: matching and orientation must undo both.
    L, b = 27, 3
    rng = np.random.default_rng(3)
    stack = [
        (block_local(L, b, 50.0, rng.permutation(81)), np.zeros(81)),
        (block_local(L // b, b, 50.0, rng.permutation(9)), np.zeros(9)),
    ]
    samples = random_spins(200, L, 1)
    levels, shares = coarse_grain_stack(samples, stack, b, seed=4)
    expected = coarse_grain(samples, "majority", b, 2)
    assert [x.shape for x in levels] == [(200, 27, 27), (200, 9, 9), (200, 3, 3)]
    for got, want in zip(levels, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    for share in shares:
        np.testing.assert_allclose(share, 1.0, rtol=0, atol=1e-12)


def test_matched_shares_of_a_half_local_unit():
    # one unit with weight 1 on its block (4 spins) and 1/2 on the 4 spins of another block:
    # share = 4 / (4 + 4 · 1/4) = 0.8 on the first block
    L, b = 4, 2
    W = block_local(L, b, 1.0, np.arange(4))
    W[[2, 3, 6, 7], 0] = 0.5  # block (0, 1), beside unit 0's block (0, 0)
    shares = matched_shares(W, np.arange(4), L, b)
    np.testing.assert_allclose(shares, [0.8, 1.0, 1.0, 1.0], rtol=0, atol=1e-15)


def test_a_dense_rbm_is_refused_with_its_numbers_unless_any_share_is_accepted():
    L, b = 8, 2
    W = np.random.default_rng(0).normal(size=(L * L, 16))
    samples = random_spins(10, L, 2)
    with pytest.raises(ValueError, match=r"not local enough.*block 0\.\d+.*below the required 0.5"):
        rbm_level(W, np.zeros(16), samples, b)
    lattice, shares = rbm_level(W, np.zeros(16), samples, b, min_share=0.0)
    assert lattice.shape == (10, 4, 4) and np.all(np.abs(lattice) == 1)
    assert shares.mean() < 0.5
    with pytest.raises(ValueError, match="Level 2"):  # which level failed is said
        coarse_grain_stack(
            samples,
            [
                (block_local(L, b, 5.0, np.arange(16)), np.zeros(16)),
                (np.ones((16, 4)) * [1, 1, 1, 1], np.zeros(4)),
            ],
            b,
        )
    with pytest.raises(ValueError, match="as many units as blocks"):
        rbm_level(W[:, :15], np.zeros(15), samples, b)


@pytest.fixture(scope="module")
def pooled() -> np.ndarray:
    """600 Wolff configurations of the 8 x 8 torus, 300 each at T = 2.0 and 2.6."""
    out = []
    for T, seed in ((2.0, 1), (2.6, 2)):
        sim = IsingSimulation(IsingParams(8, T, algorithm="wolff", seed=seed))
        sim.thermalize(200)
        for _ in range(300):
            sim.sweep(2)
            out.append(sim.spins.copy())
    return np.asarray(out, dtype=np.int8)


def test_greedy_training_makes_local_levels_drawn_as_the_stack_draws_them(pooled):
    config = RBMConfig(epochs=5, seed=3)
    models, lattices = train_stack(pooled, 2, 2, config, seed=7)
    assert [m.W.shape for m in models] == [(64, 16), (16, 4)]
    assert [x.shape for x in lattices] == [(600, 8, 8), (600, 4, 4), (600, 2, 2)]
    stack = [(m.to_numpy()["W"], m.to_numpy()["b"]) for m in models]
    levels, shares = coarse_grain_stack(pooled, stack, 2, seed=7)
    for got, want in zip(levels, lattices, strict=True):
        np.testing.assert_array_equal(got, want)
    # measured: mean matched shares 0.95 and 0.90 after 5 epochs from the block-local start
    assert all(s.mean() >= 0.5 for s in shares)


def test_greedy_training_from_a_random_start_is_not_local_and_says_so(pooled):
    # measured: a mean matched share of 0.14 (chance 1/16) from the random initialization
    with pytest.raises(ValueError, match="Level 1: .*not local enough"):
        train_stack(pooled, 1, 2, RBMConfig(epochs=3, seed=3), block_init=0.0)


def test_train_stack_refuses_sizes_that_do_not_divide():
    with pytest.raises(ValueError, match="divisible"):
        train_stack(random_spins(10, 6, 0), 2, 2, RBMConfig(epochs=1))
