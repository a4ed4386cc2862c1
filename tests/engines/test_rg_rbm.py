"""The RBM as a coarse-graining map: a hand-built block-local RBM is recognized as local, placed
on its blocks and reproduces majority rule for large weights; a dense random RBM is not local;
the Binder temperature inverts the exact U4 of the transfer matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engines.exact import magnetization_moments
from engines.ising import Estimate
from engines.rbm import RBM
from engines.rg import (
    binder_temperature,
    hidden_activations,
    hidden_lattice,
    hidden_samples,
    locality,
    majority,
    match_units_to_blocks,
    receptive_field_centres,
)

L, B = 8, 2
K = L // B  # coarse lattice size; K * K blocks and hidden units


def block_local_weights(weight: float, perm: np.ndarray) -> np.ndarray:
    """W (L², K²): unit j has ``weight`` on the B x B spins of block perm[j], 0 elsewhere."""
    W = np.zeros((L, L, K * K))
    for j, block in enumerate(perm):
        i, k = divmod(int(block), K)
        W[B * i : B * i + B, B * k : B * k + B, j] = weight
    return W.reshape(L * L, K * K)


@pytest.fixture
def perm() -> np.ndarray:
    return np.random.default_rng(7).permutation(K * K)


def random_spins(n: int, seed: int) -> np.ndarray:
    return (2 * np.random.default_rng(seed).integers(0, 2, size=(n, L, L)) - 1).astype(np.int8)


def test_block_local_units_are_centred_on_their_blocks(perm):
    W = block_local_weights(0.7, perm)
    block_row, block_col = np.divmod(perm, K)
    expected = np.stack([B * block_row + (B - 1) / 2, B * block_col + (B - 1) / 2], axis=1)
    centres = receptive_field_centres(W, L)
    np.testing.assert_allclose(centres, expected, rtol=0, atol=1e-9)
    # Edge blocks (rows/columns L-2, L-1) are centred at L - 1/2 - ... = 6.5, inside [0, L).
    assert np.all((centres >= 0) & (centres < L))
    assert np.any(expected == L - 1.5)


def test_centre_of_a_patch_straddling_the_boundary():
    # One unit on rows {L-1, 0} and columns {L-1, 0}: the torus centre is (L - 1/2, L - 1/2).
    field = np.zeros((L, L))
    field[np.ix_([L - 1, 0], [L - 1, 0])] = 1.0
    centre = receptive_field_centres(field.reshape(L * L, 1), L)
    np.testing.assert_allclose(centre, [[L - 0.5, L - 0.5]], atol=1e-9)
    assert locality(field.reshape(L * L, 1), L, B)["spread"][0] == pytest.approx(math.sqrt(0.5))


def test_block_local_units_are_local_and_matched(perm):
    W = block_local_weights(-1.3, perm)  # the sign of the weights does not matter
    loc = locality(W, L, B)
    np.testing.assert_allclose(loc["block_share"], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(loc["best_block"], np.stack(np.divmod(perm, K), axis=1))
    np.testing.assert_allclose(loc["spread"], math.sqrt(0.5), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(match_units_to_blocks(W, L, B), perm)


def test_large_block_local_weights_reproduce_majority_rule(perm):
    weight, tie_break = 50.0, 1e-3
    W = block_local_weights(weight, perm)
    bias = np.full(K * K, tie_break)  # sigma(b + w * sum) -> 1 if sum > 0, 0 if sum < 0
    samples = random_spins(200, seed=3)
    hidden = hidden_samples(W, bias, samples, seed=11)
    assert hidden.dtype == np.int8 and hidden.shape == (200, K * K)
    coarse = hidden_lattice(hidden, match_units_to_blocks(W, L, B), L, B)
    assert coarse.dtype == np.int8
    block_sums = samples.reshape(-1, K, B, K, B).sum(axis=(2, 4))
    untied = block_sums != 0
    assert 0.5 < untied.mean() < 0.8  # 6/16 of random blocks are tied
    np.testing.assert_array_equal(coarse[untied], majority(samples, B, seed=0)[untied])
    # Tied blocks see p = sigma(tie_break) ~ 1/2: both values occur.
    assert 0 < (coarse[~untied] == 1).mean() < 1


def test_activations_are_the_rbm_conditionals(perm):
    rng = np.random.default_rng(5)
    W = block_local_weights(0.4, perm) + 0.05 * rng.standard_normal((L * L, K * K))
    bias = 0.1 * rng.standard_normal(K * K)
    samples = random_spins(20, seed=4)
    p = hidden_activations(W, bias, samples)
    rbm = RBM(W, np.zeros(L * L), bias)
    v = torch.as_tensor(samples.reshape(20, -1), dtype=torch.float64)
    expected = rbm.hidden_probabilities(v)
    np.testing.assert_allclose(p, expected.numpy(), rtol=1e-12, atol=0)
    drawn = hidden_lattice(p, match_units_to_blocks(W, L, B), L, B)
    assert drawn.dtype == np.float64
    np.testing.assert_array_equal(drawn.reshape(20, -1)[:, perm], p)


def test_dense_random_weights_are_not_local():
    W = np.random.default_rng(9).standard_normal((L * L, K * K))
    loc = locality(W, L, B)
    # A local unit has share 1 and spread sqrt(0.5); evenly spread weights give 4/64 and ~3.3.
    # Over 200 seeds of this draw the largest share was 0.39 and the smallest spread 2.8.
    assert np.all(loc["block_share"] < 0.5)
    assert np.median(loc["block_share"]) < 0.25
    assert np.all(loc["spread"] > 2.5)


def test_matching_needs_one_unit_per_block():
    with pytest.raises(ValueError, match="as many units as blocks"):
        match_units_to_blocks(np.ones((L * L, 5)), L, B)


@pytest.mark.parametrize("size", [4, 6])
@pytest.mark.parametrize("T", [1.8, 2.269185, 3.2])
def test_binder_temperature_inverts_the_exact_cumulant(size, T):
    u = float(magnetization_moments(size, T)["binder"])
    result = binder_temperature(Estimate(u, 1e-3, 2.0), size)
    assert result.value == pytest.approx(T, abs=1e-7)
    assert result.tau == 2.0
    # The error is sigma_U / |dU/dT|; dU/dT from the inverse map, by a symmetric difference in U.
    du = 1e-6
    dT_du = (
        binder_temperature(Estimate(u + du, 0.0), size).value
        - binder_temperature(Estimate(u - du, 0.0), size).value
    ) / (2 * du)
    assert result.error == pytest.approx(1e-3 * abs(dT_du), rel=1e-4)


def test_binder_temperature_refuses_large_lattices_and_out_of_range_values():
    with pytest.raises(ValueError, match="transfer matrix"):
        binder_temperature(Estimate(0.5, 0.01), 12)
    with pytest.raises(ValueError, match="outside the range"):
        binder_temperature(Estimate(0.7, 0.01), 4)  # above 2/3: no temperature


def test_unit_orientations_are_the_signs_of_the_block_weights():
    from engines.rg import match_units_to_blocks, unit_orientations

    L, b, k = 8, 2, 4
    rng = np.random.default_rng(3)
    permutation = rng.permutation(k * k)
    signs = np.where(rng.random(k * k) < 0.5, -1, 1)
    W = np.zeros((L * L, k * k))
    for j, block in enumerate(permutation):
        br, bc = divmod(block, k)
        for dr in range(b):
            for dc in range(b):
                W[(br * b + dr) * L + bc * b + dc, j] = 3.0 * signs[j]
    assignment = match_units_to_blocks(W, L, b)
    np.testing.assert_array_equal(assignment, permutation)
    np.testing.assert_array_equal(unit_orientations(W, assignment, L, b), signs)
