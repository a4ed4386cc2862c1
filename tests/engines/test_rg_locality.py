"""Locality of hidden layers read as coarse lattices: hand-built local, non-local and collapsed
RBMs get the matched shares one expects; the w²-weighted spread sees through a floor of small
weights; the stack trainer takes one configuration per level."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBMConfig
from engines.rg import locality, matched_locality, per_level_configs, train_stack

L, B = 8, 2
K = L // B


def on_blocks(blocks, weights=None, L: int = L, b: int = B) -> np.ndarray:
    """W (L², len(blocks)): unit j has ``weights[j]`` (default 1) on block ``blocks[j]``."""
    k = L // b
    W = np.zeros((L, L, len(blocks)))
    for j, block in enumerate(blocks):
        i, c = divmod(int(block), k)
        W[b * i : b * i + b, b * c : b * c + b, j] = 1.0 if weights is None else weights[j]
    return W.reshape(L * L, len(blocks))


def test_block_local_units_have_matched_share_one_and_cover_every_block():
    rng = np.random.default_rng(1)
    perm = rng.permutation(K * K)
    W = on_blocks(perm, np.where(rng.random(K * K) < 0.5, -2.0, 0.7))  # signs do not matter
    loc = matched_locality(W, L, B)
    np.testing.assert_allclose(loc["matched_share"], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(loc["assignment"], perm)
    assert loc["mean_matched_share"] == pytest.approx(1.0)
    assert loc["distinct_blocks"] == K * K and loc["blocks_covered"]
    assert loc["units_on_best_block"] == K * K
    assert loc["chance"] == pytest.approx(4 / 64)


def test_dense_random_units_are_near_chance():
    W = np.random.default_rng(9).standard_normal((L * L, K * K))
    loc = matched_locality(W, L, B)
    # chance is 4/64 = 0.0625; Gaussian weights fluctuate above it (measured mean 0.13 here),
    # and the matched share cannot exceed the best-block share
    assert loc["chance"] < loc["mean_matched_share"] < 0.25
    assert np.all(loc["matched_share"] <= loc["best_share"] + 1e-15)


def test_a_collapsed_layer_has_a_high_best_share_but_a_low_matched_share():
    # units 0-3 all on block 0, the others on blocks 4..15: blocks 1-3 belong to no unit
    blocks = [0, 0, 0, 0, *range(4, 16)]
    loc = matched_locality(on_blocks(blocks), L, B)
    assert loc["mean_best_share"] == pytest.approx(1.0)
    # only one of the four can be given block 0; the other three get blocks 1-3, share 0
    assert loc["mean_matched_share"] == pytest.approx(13 / 16)
    assert sorted(loc["matched_share"][:4]) == pytest.approx([0, 0, 0, 1])
    assert loc["distinct_blocks"] == 13 and not loc["blocks_covered"]
    assert loc["units_on_best_block"] == 13
    # every unit on the same block: best share 1, matched share 1/16
    total = matched_locality(on_blocks([5] * 16), L, B)
    assert total["mean_best_share"] == pytest.approx(1.0)
    assert total["mean_matched_share"] == pytest.approx(1 / 16)
    assert total["distinct_blocks"] == 1


def test_combe_size_collapse_is_seen_at_four_units():
    # L = 4, four units, three of them on block 0 (the lab's 400-epoch outcome) and one on block 3
    W = on_blocks([0, 0, 0, 3], [1.0, 0.9, 1.1, 1.0], L=4)
    W[:, 1] += 0.05  # a little weight everywhere on unit 1
    loc = matched_locality(W, 4, 2)
    assert loc["mean_best_share"] > 0.95
    assert loc["mean_matched_share"] < 0.55
    assert loc["distinct_blocks"] == 2


def test_matched_locality_takes_fewer_units_than_blocks_and_refuses_more():
    loc = matched_locality(on_blocks([3, 3, 7]), L, B)
    assert loc["n_units"] == 3 and loc["n_blocks"] == 16
    assert sorted(loc["matched_share"]) == pytest.approx([0, 1, 1])
    with pytest.raises(ValueError, match="at most as many units as blocks"):
        matched_locality(np.ones((L * L, 17)), L, B)


def test_the_spread_sees_through_a_floor_of_small_weights():
    # one unit on block (1, 1) with weight 1, plus 0.05 on every other site; with |w| weights
    # the 60 floor sites carry 3/7 of the weight and the RMS distance would be about 2.3
    W = np.full((L, L), 0.05)
    W[2:4, 2:4] = 1.0
    loc = locality(W.reshape(L * L, 1), L, B)
    assert loc["spread"][0] < 1.0
    assert loc["centre"][0] == pytest.approx([2.5, 2.5], abs=1e-9)
    pure = locality(on_blocks([5]), L, B)
    assert pure["spread"][0] == pytest.approx(math.sqrt(0.5))
    assert pure["effective_sites"][0] == pytest.approx(4.0)
    dense = locality(np.random.default_rng(0).standard_normal((L * L, 16)), L, B)
    assert np.median(dense["effective_sites"]) > 15  # about L²/3 for Gaussian weights
    assert np.all(dense["spread"] > 2.0)


def test_per_level_configs_set_each_option_per_level():
    configs = per_level_configs(
        RBMConfig(seed=4),
        2,
        l1=[0.01, 0.002],
        epochs=7,
        method=["cd", "pcd"],
        learning_rate=(0.03, 0.01),
    )
    assert [c.l1 for c in configs] == [0.01, 0.002]
    assert [c.epochs for c in configs] == [7, 7]
    assert [c.method for c in configs] == ["cd", "pcd"]
    assert [c.learning_rate for c in configs] == [0.03, 0.01]
    assert all(c.seed == 4 for c in configs)
    with pytest.raises(ValueError, match="2 values for 3 levels"):
        per_level_configs(RBMConfig(), 3, l1=[0.1, 0.2])
    with pytest.raises(ValueError, match="Unknown RBMConfig setting"):
        per_level_configs(RBMConfig(), 2, sparsity=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        per_level_configs(RBMConfig(), 2, learning_rate=[0.01, -1.0])


def test_train_stack_trains_each_level_with_its_own_config():
    sim = IsingSimulation(IsingParams(8, 2.5, algorithm="wolff", seed=3))
    sim.thermalize(100)
    samples = []
    for _ in range(200):
        sim.sweep(1)
        samples.append(sim.spins.copy())
    samples = np.asarray(samples)
    configs = per_level_configs(
        RBMConfig(seed=2),
        2,
        l1=[0.01, 0.0],
        epochs=[2, 3],
        batch_size=[32, 16],
        method=["cd", "pcd"],
    )
    seen: dict[int, list] = {1: [], 2: []}
    models, lattices = train_stack(
        samples,
        2,
        2,
        configs,
        block_init=[0.0, 1.0],
        min_share=0.0,
        callback=lambda level, trainer: seen[level].append(
            (
                trainer.epoch,
                trainer.config.l1,
                trainer.config.batch_size,
                trainer.config.method,
                trainer.config.n_hidden,
                trainer.config.seed,
            )
        ),
    )
    assert [e[0] for e in seen[1]] == [1, 2] and [e[0] for e in seen[2]] == [1, 2, 3]
    assert seen[1][0][1:] == (0.01, 32, "cd", 16, 2)
    assert seen[2][0][1:] == (0.0, 16, "pcd", 4, 3)
    assert [m.W.shape for m in models] == [(64, 16), (16, 4)]
    assert [x.shape for x in lattices] == [(200, 8, 8), (200, 4, 4), (200, 2, 2)]
    with pytest.raises(ValueError, match="block_init: 3 values"):
        train_stack(samples, 2, 2, configs, block_init=[0.0, 1.0, 1.0])


def test_units_tiling_a_shifted_grid_are_found_at_that_offset():
    # every unit on a 2x2 block of the grid shifted by (1, 1): on the aligned grid each field
    # straddles four blocks (share 1/4 on any of them); on the shifted grid it is one block
    k = K
    W = np.zeros((L, L, k * k))
    for j in range(k * k):
        i, c = divmod(j, k)
        rows = [(1 + B * i + d) % L for d in range(B)]
        cols = [(1 + B * c + d) % L for d in range(B)]
        W[np.ix_(rows, cols, [j])] = 1.0
    W = W.reshape(L * L, k * k)
    aligned = matched_locality(W, L, B)
    assert aligned["mean_matched_share"] == pytest.approx(0.25)
    shifted = matched_locality(W, L, B, "best")
    assert shifted["offset"] == (1, 1)
    assert shifted["mean_matched_share"] == pytest.approx(1.0) and shifted["blocks_covered"]
    assert matched_locality(W, L, B, (1, 1))["mean_matched_share"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="offset"):
        matched_locality(W, L, B, (2, 0))
    with pytest.raises(ValueError, match="offset"):
        matched_locality(W, L, B, "worst")


def test_l1_warmup_trains_without_l1_first_then_as_configured():
    from engines.rbm import RBMTrainer
    from engines.rg import train_with_l1_warmup

    rng = np.random.default_rng(5)
    data = np.where(rng.random((300, 16)) < 0.5, -1, 1).astype(np.int8)
    trainer = RBMTrainer(RBMConfig(n_hidden=4, l1=0.02, epochs=3, seed=1), data)
    seen = []
    final = train_with_l1_warmup(
        trainer,
        2,
        level=7,
        callback=lambda level, t: seen.append((level, t.epoch, t.config.l1, t.config.epochs)),
    )
    assert seen == [
        (7, 1, 0.0, 2),
        (7, 2, 0.0, 2),
        (7, 1, 0.02, 3),
        (7, 2, 0.02, 3),
        (7, 3, 0.02, 3),
    ]
    assert final.finished and final.config == trainer.config
    np.testing.assert_array_equal(final.validation_data, trainer.validation_data)
    np.testing.assert_array_equal(final.train_data, trainer.train_data)
    plain = train_with_l1_warmup(RBMTrainer(RBMConfig(n_hidden=4, epochs=1), data), 0)
    assert plain.finished and plain.epoch == 1
    with pytest.raises(ValueError, match="warmup_epochs"):
        train_with_l1_warmup(trainer, -1)
