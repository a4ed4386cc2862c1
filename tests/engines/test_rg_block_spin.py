"""Block-spin RG: majority rule and decimation on hand-made lattices, the effective temperature
against Kaufman's exact energy, and the flow of Wolff-sampled configurations around T_c."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.exact import critical_temperature, energy_per_spin, specific_heat_per_spin
from engines.ising import Estimate, IsingParams, IsingSimulation
from engines.rg import coarse_grain, decimation, effective_temperature, level_observables, majority

# 4 x 4, b = 2: block sums TL = +2, TR = -4, BL = +2 (top-left spin -1), BR = 0 (a tie).
LATTICE_4 = np.array(
    [
        [1, 1, -1, -1],
        [1, -1, -1, -1],
        [-1, 1, 1, -1],
        [1, 1, -1, 1],
    ],
    dtype=np.int8,
)

# 6 x 6, b = 3: block sums TL = +1, TR = -3, BL = +9, BR = -1 (top-left spin +1).
LATTICE_6 = np.array(
    [
        [1, -1, 1, -1, 1, -1],
        [-1, 1, 1, -1, -1, 1],
        [1, -1, -1, 1, -1, -1],
        [1, 1, 1, 1, -1, 1],
        [1, 1, 1, -1, -1, 1],
        [1, 1, 1, 1, -1, -1],
    ],
    dtype=np.int8,
)

CHECKERBOARD_4 = np.where(np.indices((4, 4)).sum(axis=0) % 2 == 0, 1, -1).astype(np.int8)


def wolff_samples(L: int, T: float, n: int, seed: int, thin: int = 2) -> np.ndarray:
    """n configurations of the L x L torus at T, ``thin`` Wolff sweeps apart after 200 sweeps."""
    sim = IsingSimulation(IsingParams(L, T, algorithm="wolff", seed=seed))
    sim.thermalize(200)
    out = np.empty((n, L, L), dtype=np.int8)
    for k in range(n):
        sim.sweep(thin)
        out[k] = sim.spins
    return out


# ------------------------------------------------------------------------- hand-made lattices
def test_majority_and_decimation_on_4x4():
    blocks = majority(LATTICE_4[None], 2, seed=0)
    assert blocks.dtype == np.int8 and blocks.shape == (1, 2, 2)
    assert blocks[0, 0, 0] == 1 and blocks[0, 0, 1] == -1 and blocks[0, 1, 0] == 1
    assert blocks[0, 1, 1] in (-1, 1)  # the tie
    np.testing.assert_array_equal(decimation(LATTICE_4[None], 2), [[[1, -1], [-1, 1]]])


def test_majority_and_decimation_on_6x6_with_b3():
    expected = np.array([[[1, -1], [1, -1]]], dtype=np.int8)
    for seed in range(5):  # odd b: never a tie, the seed is irrelevant
        np.testing.assert_array_equal(majority(LATTICE_6[None], 3, seed), expected)
    np.testing.assert_array_equal(decimation(LATTICE_6[None], 3), [[[1, -1], [1, 1]]])


def test_rules_act_on_each_sample_independently():
    stack = np.stack([LATTICE_6, -LATTICE_6, LATTICE_6])
    blocks = majority(stack, 3, seed=0)
    np.testing.assert_array_equal(blocks[1], -blocks[0])
    np.testing.assert_array_equal(blocks[2], blocks[0])
    np.testing.assert_array_equal(decimation(stack, 3)[1], -decimation(stack, 3)[0])


def test_tie_break_follows_the_documented_draws():
    """Every block of a checkerboard ties: one draw per block, row-major over (sample, i, j)."""
    stack = np.stack([CHECKERBOARD_4] * 50)
    blocks = majority(stack, 2, seed=7)
    coins = np.random.default_rng(7).integers(0, 2, size=200, dtype=np.int8)
    np.testing.assert_array_equal(blocks, (2 * coins - 1).reshape(50, 2, 2))
    np.testing.assert_array_equal(majority(stack, 2, seed=7), blocks)  # reproducible
    assert not np.array_equal(majority(stack, 2, seed=8), blocks)
    assert 60 < np.count_nonzero(blocks == 1) < 140  # both outcomes, fair coin (±4.2σ)


def test_tie_break_touches_only_tied_blocks():
    stack = np.stack([LATTICE_4] * 40)
    outcomes = set()
    for seed in range(40):
        blocks = majority(stack, 2, seed)
        np.testing.assert_array_equal(blocks[:, 0, 0], 1)
        np.testing.assert_array_equal(blocks[:, 0, 1], -1)
        np.testing.assert_array_equal(blocks[:, 1, 0], 1)
        outcomes.update(np.unique(blocks[:, 1, 1]).tolist())
    assert outcomes == {-1, 1}


@pytest.mark.parametrize("rule", [lambda s, b: majority(s, b, 0), decimation])
def test_bad_sizes_and_inputs_raise(rule):
    with pytest.raises(ValueError, match="not divisible"):
        rule(LATTICE_6[None], 4)
    with pytest.raises(ValueError, match="not divisible"):
        rule(LATTICE_4[None], 3)
    with pytest.raises(ValueError, match="block size"):
        rule(LATTICE_4[None], 1)
    with pytest.raises(ValueError, match="shape"):
        rule(LATTICE_4, 2)
    with pytest.raises(ValueError, match="spins"):
        rule(np.zeros((1, 4, 4), dtype=np.int8), 2)


def test_coarse_grain_levels():
    rng = np.random.default_rng(3)
    samples = (2 * rng.integers(0, 2, size=(5, 36, 36)) - 1).astype(np.int8)
    levels = coarse_grain(samples, "decimation", 3, 2)
    assert [lv.shape for lv in levels] == [(5, 36, 36), (5, 12, 12), (5, 4, 4)]
    np.testing.assert_array_equal(levels[0], samples)
    np.testing.assert_array_equal(levels[2], samples[:, ::9, ::9])
    first = coarse_grain(samples[:, :32, :32], "majority", 2, 3, seed=5)
    again = coarse_grain(samples[:, :32, :32], "majority", 2, 3, seed=5)
    assert [lv.shape[1] for lv in first] == [32, 16, 8, 4]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        first[1], majority(samples[:, :32, :32], 2, np.random.SeedSequence([5, 1]))
    )
    with pytest.raises(ValueError, match="divisible by b\\*\\*3"):
        coarse_grain(samples[:, :12, :12], "majority", 2, 3)
    with pytest.raises(ValueError, match="Unknown block-spin rule"):
        coarse_grain(samples, "average", 3, 1)


# ------------------------------------------------------------------------ effective temperature
@pytest.mark.parametrize(("L", "T"), [(4, 1.7), (16, 2.3), (8, 4.0)])
def test_effective_temperature_inverts_the_exact_energy(L, T):
    sigma_e = 1e-3
    t_eff = effective_temperature(Estimate(float(energy_per_spin(L, T)), sigma_e, 0.5), L)
    assert t_eff.value == pytest.approx(T, abs=1e-9)
    assert t_eff.error == pytest.approx(sigma_e / float(specific_heat_per_spin(L, T)), rel=1e-6)
    assert t_eff.tau == 0.5


def test_effective_temperature_outside_the_bracket_raises():
    with pytest.raises(ValueError, match="outside the range"):
        effective_temperature(Estimate(-2.0, 0.0), 8)
    with pytest.raises(ValueError, match="outside the range"):
        effective_temperature(Estimate(float(energy_per_spin(8, 3.0)), 0.01), 8, bracket=(1.0, 2.5))


def test_level_observables_keys_and_rescaled_distances():
    ordered = np.ones((4, 8, 8), dtype=np.int8)
    ordered[1::2] *= -1
    out = level_observables(ordered, scale=4)
    assert out["size"] == 8 and out["n_samples"] == 4
    assert out["e"].value == -2.0 and out["abs_m"].value == 1.0
    np.testing.assert_array_equal(out["r"], 4 * out["r_coarse"])
    np.testing.assert_array_equal(out["r_coarse"], np.arange(5))
    assert "t_eff" not in out  # e = -2 lies below e(8, T) for every T in the bracket
    assert "c" not in out and "chi" not in out
    assert {"c", "chi"} <= set(level_observables(ordered, temperature_hint=2.0))


# --------------------------------------------------------------------- statistics and RG flow
@pytest.mark.parametrize("T", [2.0, 2.5])
def test_level0_effective_temperature_recovers_the_simulation_temperature(T):
    t_eff = level_observables(wolff_samples(16, T, 1000, seed=11))["t_eff"]
    assert abs(t_eff.value - T) < 3.0 * t_eff.error


def test_binder_of_majority_blocks_at_tc_matches_the_half_size_lattice():
    Tc = critical_temperature()
    blocks = coarse_grain(wolff_samples(64, Tc, 1000, seed=21), "majority", 2, 1, seed=0)[1]
    coarse = level_observables(blocks, scale=2)["binder"]
    direct = level_observables(wolff_samples(32, Tc, 1000, seed=22))["binder"]
    assert abs(coarse.value - direct.value) < 3.0 * math.hypot(coarse.error, direct.error)


@pytest.mark.parametrize(("T", "colder"), [(2.0, True), (3.0, False)])
def test_block_spins_flow_away_from_tc(T, colder):
    blocks = coarse_grain(wolff_samples(32, T, 500, seed=31), "majority", 2, 1, seed=0)[1]
    t_eff = level_observables(blocks)["t_eff"]
    if colder:
        assert t_eff.value < T - 3.0 * t_eff.error
    else:
        assert t_eff.value > T + 3.0 * t_eff.error
