"""The engine-level reproductions: composite receptive fields of a hand-built stack, and the quick
presets of the three experiments run end to end with plain outputs."""

from __future__ import annotations

import numpy as np
import pytest

from engines.rg import matched_locality
from engines.rg.reproductions import (
    PRESETS,
    REPRODUCTIONS,
    composite_fields,
    run_reproduction,
)


def block_local(L: int, b: int, perm: np.ndarray, signs: np.ndarray) -> np.ndarray:
    k = L // b
    W = np.zeros((L, L, k * k))
    for j, block in enumerate(perm):
        i, c = divmod(int(block), k)
        W[b * i : b * i + b, b * c : b * c + b, j] = signs[j]
    return W.reshape(L * L, k * k)


def test_composite_fields_of_a_block_local_stack_are_the_big_blocks():
    # level 1: 16 units on the 2x2 blocks of an 8x8 lattice (permuted, some negative); level 2:
    # 4 units on the 2x2 blocks of the 4x4 coarse lattice. Pulled back, each level-2 unit sees
    # exactly one 4x4 block of the original lattice, with one sign throughout.
    rng = np.random.default_rng(2)
    W1 = block_local(8, 2, rng.permutation(16), np.where(rng.random(16) < 0.4, -1.0, 1.0))
    W2 = block_local(4, 2, rng.permutation(4), np.array([1.0, -1.0, 1.0, 1.0]))
    fields = composite_fields([W1, W2], 8, 2)
    assert [f.shape for f in fields] == [(64, 16), (64, 4)]
    np.testing.assert_array_equal(fields[0], W1)
    loc = matched_locality(fields[1], 8, 4)
    assert loc["mean_matched_share"] == pytest.approx(1.0)
    for j in range(4):
        nonzero = fields[1][:, j][fields[1][:, j] != 0]
        assert nonzero.size == 16 and len(set(np.sign(nonzero))) == 1


def test_every_reproduction_has_a_full_and_a_quick_preset():
    assert set(REPRODUCTIONS) == {"mehta-schwab", "combe-4.1", "rbm-flow"}
    for name in REPRODUCTIONS:
        assert set(PRESETS[name]) == {"full", "quick"}
    with pytest.raises(ValueError, match="Unknown reproduction"):
        run_reproduction("wilson")
    with pytest.raises(ValueError, match="Unknown settings"):
        run_reproduction("combe-4.1", quick=True, overrides={"hidden": 3})


def test_quick_mehta_schwab_makes_local_levels_from_a_random_start():
    r = run_reproduction("mehta-schwab", quick=True)
    assert r["size"] == 16 and [lv["n_units"] for lv in r["levels"]] == [64, 16]
    for lv in r["levels"]:
        assert lv["matched_share"].shape == (lv["n_units"],)
        assert lv["config"]["l1"] == 0.01
    # measured with these settings: 0.55 and 0.63 (chance 4/256 and 4/64); composite 0.55
    assert r["levels"][0]["mean_matched_share"] > 0.4
    assert r["levels"][1]["mean_matched_share"] > 0.4
    assert r["levels"][1]["composite"]["n_blocks"] == 16  # 4x4 blocks of the 16x16 lattice


def test_quick_combe_and_flow_run_and_report_per_seed_and_per_step():
    combe = run_reproduction("combe-4.1", quick=True)
    assert combe["n_seeds"] == len(combe["per_seed"]) == 3
    for p in combe["per_seed"]:
        assert p["n_units"] == p["n_blocks"] == 4 and np.isfinite(p["nll_valid"])
    flow = run_reproduction("rbm-flow", quick=True)
    steps = PRESETS["rbm-flow"]["quick"]["steps"]
    n = len(PRESETS["rbm-flow"]["quick"]["flow_temperatures"])
    assert flow["flow"]["t_energy"].shape == (n, steps + 1)
    assert flow["flow"]["t_binder_error"].shape == (n, steps + 1)
    assert len(flow["summary"]) == n
    for row in flow["summary"]:  # step 0 is Wolff data: the thermometers read its temperature
        assert row["t_energy"] == pytest.approx(row["temperature"], abs=0.25)
    assert np.isfinite(flow["equilibrium"]["t_energy"])
    assert np.isfinite(flow["pooled"]["t_energy"])
