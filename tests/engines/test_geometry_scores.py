"""Line-shape and optimal-transport scores (Gai & Zhang) and the lattice embeddings, against
constructed truths: straight and bent tracks, brute-force optimal assignments, translated point
clouds and displacement interpolants (exact Wasserstein geodesics), Sinkhorn against emd."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import expit

from engines.geometry.lattice_embedding import (
    hidden_units_from_lattice,
    rbm_reconstruction,
    repeat_blocks,
    stack_embedding,
    stack_orientation,
)
from engines.geometry.wasserstein_scores import (
    DEFAULT_REG,
    distribution_line_shape,
    line_shape_score,
    optimal_transport,
    optimal_transport_score,
    paired_costs,
    pairwise_costs,
    score_block_spin,
    score_levels,
    score_rbm_coarse,
    score_rbm_flow,
    score_stack,
    score_training,
    track_distances,
    wasserstein,
)
from engines.rg import coarse_grain, coarse_grain_stack, hidden_samples, rbm_flow, rbm_level


def correlated_spins(count: int, L: int, rng: np.random.Generator) -> np.ndarray:
    """(count, L, L) ±1 configurations with short-range correlations (signs of smoothed noise)."""
    g = rng.standard_normal((count, L, L))
    g = g + np.roll(g, 1, 1) + np.roll(g, 1, 2) + 0.5 * np.roll(g, (1, 1), (1, 2))
    return np.where(g >= 0, 1, -1).astype(np.int8)


def brute_force_assignment(C: np.ndarray) -> tuple[np.ndarray, float]:
    """The optimal permutation of a small n×n cost matrix and its mean cost, by enumeration."""
    n = C.shape[0]
    rows = np.arange(n)
    best = min(itertools.permutations(range(n)), key=lambda p: C[rows, list(p)].sum())
    best = np.array(best)
    return best, float(C[rows, best].mean())


# --------------------------------------------------------------------------- costs
def test_hamming_is_a_quarter_of_squared_euclidean_on_spins():
    rng = np.random.default_rng(0)
    x, y = correlated_spins(30, 6, rng), correlated_spins(20, 6, rng)
    sq, ham = pairwise_costs(x, y, "sqeuclidean"), pairwise_costs(x, y, "hamming")
    np.testing.assert_array_equal(ham, sq / 4)
    differing = (x.reshape(30, 1, -1) != y.reshape(1, 20, -1)).mean(axis=2)
    np.testing.assert_array_equal(ham, differing)
    z = correlated_spins(30, 6, rng)
    np.testing.assert_array_equal(paired_costs(x, z, "hamming"), paired_costs(x, z) / 4)
    # the same transport problem: OT scales by 4, the plan and the score do not move
    e_sq, e_ham = optimal_transport(x, z, "sqeuclidean"), optimal_transport(x, z, "hamming")
    assert e_sq["cost"] == pytest.approx(4 * e_ham["cost"], rel=1e-12)
    s_sq = optimal_transport_score(x, z, "sqeuclidean", n_bootstrap=0)
    s_ham = optimal_transport_score(x, z, "hamming", n_bootstrap=0)
    assert s_sq["ots"] == pytest.approx(s_ham["ots"], rel=1e-12)


def test_real_valued_costs_match_their_definitions():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (9, 16)), rng.uniform(-1, 1, (7, 16))
    diff = x[:, None, :] - y[None, :, :]
    np.testing.assert_allclose(pairwise_costs(x, y), (diff**2).sum(-1) / 16, rtol=1e-12)
    np.testing.assert_allclose(
        pairwise_costs(x, y, "hamming"), np.abs(diff).sum(-1) / 32, rtol=1e-12
    )
    np.testing.assert_allclose(
        track_distances(x[:7], y), np.sqrt(((x[:7] - y) ** 2).sum(-1) / 16), rtol=1e-12
    )
    # the spin fast path and the real path agree on ±1 values stored as floats
    s, t = correlated_spins(5, 4, rng), correlated_spins(6, 4, rng)
    np.testing.assert_allclose(
        pairwise_costs(s + 0.0, t + 0.0),
        ((s.reshape(5, 1, 16) - t.reshape(1, 6, 16)) ** 2).sum(-1) / 16,
    )
    with pytest.raises(ValueError, match="cost"):
        pairwise_costs(x, y, "euclidean")
    with pytest.raises(ValueError, match="dimension"):
        pairwise_costs(x, y[:, :8])


# --------------------------------------------------------------------------- line-shape score
@pytest.mark.parametrize("metric", ["euclidean", "hamming"])
@pytest.mark.parametrize("unit_steps", [False, True])
def test_straight_tracks_have_lss_one(metric, unit_steps):
    rng = np.random.default_rng(2)
    start, direction = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
    times = np.array([0.0, 0.1, 0.5, 0.6, 1.7])  # uneven, monotone steps along each line
    tracks = start[None] + times[:, None, None] * direction[None]
    out = line_shape_score(tracks, metric, unit_steps)
    np.testing.assert_allclose(out["per_track"], 1.0, rtol=1e-12)
    assert out["mean"] == pytest.approx(1.0, rel=1e-12)
    assert out["sem"] < 1e-12
    assert out["n_valid"] == 50 and out["n_closed"] == out["n_static"] == 0


def test_detours_have_their_closed_form_lss():
    a, h = 1.5, 0.8
    bent = np.array([[[0.0, 0.0]], [[a, h]], [[2 * a, 0.0]]])  # (K+1 = 3, N = 1, d = 2)
    assert line_shape_score(bent)["mean"] == pytest.approx(math.sqrt(1 + (h / a) ** 2))
    corner = np.array([[[0.0, 0.0]], [[3.0, 0.0]], [[3.0, 4.0]]])
    assert line_shape_score(corner)["mean"] == pytest.approx(7 / 5)
    # unit steps: (1, 0) + (0, 1) has length √2 after 2 unit steps
    assert line_shape_score(corner, unit_steps=True)["mean"] == pytest.approx(math.sqrt(2))
    # a back-and-forth track: out 1, back 1/2 → path 3/2, chord 1/2
    back = np.array([[[0.0]], [[1.0]], [[0.5]]])
    assert line_shape_score(back)["mean"] == pytest.approx(3.0)


def test_lss_of_spin_tracks_in_the_hamming_metric():
    """v → v′ flips k spins, v′ → v″ flips back j of them and m new ones: LSS = (k+j+m)/(k−j+m)."""
    n, k, j, m = 64, 10, 4, 6
    v0 = np.ones(n, dtype=np.int8)
    v1 = v0.copy()
    v1[:k] = -1
    v2 = v1.copy()
    v2[:j] = 1
    v2[k : k + m] = -1
    out = line_shape_score([v0[None], v1[None], v2[None]], "hamming")
    assert out["mean"] == pytest.approx((k + j + m) / (k - j + m))
    assert out["path_length"][0] == pytest.approx((k + j + m) / n)
    euclid = line_shape_score([v0[None], v1[None], v2[None]], "euclidean")["mean"]
    assert euclid == pytest.approx((math.sqrt(k) + math.sqrt(j + m)) / math.sqrt(k - j + m))


def test_lss_aggregates_and_degenerate_tracks():
    a_values = np.array([0.5, 1.0, 2.0, 3.0])
    # track i: (0,0) → (1, a_i) → (2, 0), LSS_i = √(1 + a_i²)
    x1 = np.stack([np.ones(4), a_values], axis=1)
    tracks = np.stack([np.zeros((4, 2)), x1, np.stack([2 * np.ones(4), np.zeros(4)], 1)])
    expected = np.sqrt(1 + a_values**2)
    static = np.zeros((3, 1, 2))  # never moves
    closed = np.array([[[0.0, 0.0]], [[1.0, 1.0]], [[0.0, 0.0]]])  # comes back
    out = line_shape_score(np.concatenate([tracks, static, closed], axis=1))
    np.testing.assert_allclose(out["per_track"][:4], expected)
    assert np.isnan(out["per_track"][4]) and out["per_track"][5] == math.inf
    assert (out["n_tracks"], out["n_valid"], out["n_static"], out["n_closed"]) == (6, 4, 1, 1)
    assert out["mean"] == pytest.approx(expected.mean())
    assert out["sem"] == pytest.approx(expected.std(ddof=1) / 2)
    assert out["median"] == pytest.approx(np.median(expected))
    path = 2 * np.sqrt(1 + a_values**2) / math.sqrt(2)  # per-site Euclidean: ‖·‖/√2
    assert out["pooled"] == pytest.approx((path.sum() + 2.0) / (4 * 2 / math.sqrt(2)))
    # a callable metric gives the same scores
    same = line_shape_score(tracks, distance=lambda u, v: track_distances(u, v, "euclidean"))
    np.testing.assert_allclose(same["per_track"], expected)
    with pytest.raises(ValueError, match="normed"):
        line_shape_score(tracks, unit_steps=True, distance=lambda u, v: np.zeros(4))


# --------------------------------------------------------------------------- OT score
@pytest.mark.parametrize("cost", ["sqeuclidean", "hamming"])
def test_brute_force_optimal_map_has_ots_one_and_a_permuted_map_its_ratio(cost):
    rng = np.random.default_rng(3)
    n = 7
    x, y = rng.uniform(-1, 1, (n, 5)), rng.uniform(-1, 1, (n, 5))
    C = pairwise_costs(x, y, cost)
    best, optimum = brute_force_assignment(C)
    optimal = optimal_transport_score(x, y[best], cost, n_bootstrap=8, seed=1)
    assert optimal["ot_cost"] == pytest.approx(optimum, rel=1e-12)
    assert optimal["ots"] == pytest.approx(1.0, rel=1e-12)
    assert optimal["agreement"] == 1.0
    # a sub-sample of an optimal pairing is still optimal: every replicate scores 1
    np.testing.assert_allclose(optimal["bootstrap"], 1.0, rtol=1e-12)
    swapped = best.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    for perm in (swapped, np.arange(n), rng.permutation(n)):
        out = optimal_transport_score(x, y[perm], cost, n_bootstrap=0)
        assert out["ots"] == pytest.approx(C[np.arange(n), perm].mean() / optimum, rel=1e-12)
        assert out["ots"] >= 1.0 - 1e-12
    # the emd plan between equal-size sets is a permutation: the brute-force one
    plan = optimal_transport(x, y, cost)
    np.testing.assert_array_equal(plan["partner"], best)
    np.testing.assert_allclose(plan["partner_mass"], 1.0)
    assert plan["plan_entropy"] == pytest.approx(math.log(n))
    np.testing.assert_allclose(plan["plan"].sum(axis=1), 1 / n)


def test_ots_does_not_depend_on_the_order_of_samples():
    rng = np.random.default_rng(4)
    x = correlated_spins(60, 4, rng)
    tx = np.where(rng.random(x.shape) < 0.2, -x, x)  # flip 20 % of the spins
    base = optimal_transport_score(x, tx, n_bootstrap=0)
    order = rng.permutation(60)
    shuffled = optimal_transport_score(x[order], tx[order], n_bootstrap=0)
    for key in ("ots", "map_cost", "ot_cost", "agreement"):
        assert shuffled[key] == pytest.approx(base[key], rel=1e-12)
    assert base["ots"] > 1.0


def test_a_translation_is_an_optimal_map():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((80, 6))
    v = np.array([0.3, -1.0, 0.0, 2.0, 0.5, 0.1])
    out = optimal_transport_score(x, x + v, n_bootstrap=4)
    assert out["ots"] == pytest.approx(1.0, rel=1e-9)
    assert out["ot_cost"] == pytest.approx(v @ v / 6, rel=1e-9)
    assert wasserstein(x, x + v) == pytest.approx(np.linalg.norm(v) / math.sqrt(6), rel=1e-9)
    # the identity: 0/0 counts as optimal
    assert optimal_transport_score(x, x, n_bootstrap=0)["ots"] == 1.0
    # a permutation of the sample onto itself: the same set, positive map cost
    assert optimal_transport_score(x, x[::-1], n_bootstrap=0)["ots"] == math.inf


@pytest.mark.parametrize("cost", ["sqeuclidean", "hamming"])
def test_sinkhorn_lies_within_its_bounds_of_emd(cost):
    rng = np.random.default_rng(6)
    x, y = correlated_spins(120, 6, rng), correlated_spins(120, 6, rng)
    exact = optimal_transport(x, y, cost)
    entropic = optimal_transport(x, y, cost, solver="sinkhorn")
    assert entropic["solver"] == "sinkhorn" and exact["solver"] == "emd"
    assert entropic["lower"] <= exact["cost"] + 1e-12
    assert exact["cost"] <= entropic["upper"] + 1e-12
    assert entropic["upper"] - exact["cost"] <= entropic["bias_bound"]
    reg = DEFAULT_REG[cost]
    assert entropic["reg"] == reg
    scale = pairwise_costs(x, y, cost).max()
    assert entropic["bias_bound"] == pytest.approx(
        reg * math.log(120) + 4 * scale * entropic["marginal_error"], rel=1e-12
    )
    # the reported cost is the certified lower bound
    assert entropic["cost"] == entropic["lower"]
    np.testing.assert_allclose(entropic["plan"].sum(axis=1), 1 / 120, atol=1e-15)
    np.testing.assert_allclose(entropic["plan"].sum(axis=0), 1 / 120, atol=1e-15)
    assert math.log(120) < entropic["plan_entropy"] <= 2 * math.log(120)
    # a stopped iterate: the bracket and the bound still hold
    early = optimal_transport(x, y, cost, solver="sinkhorn", max_iterations=20)
    assert not early["converged"] and early["marginal_error"] > 1e-6
    assert early["lower"] <= exact["cost"] + 1e-12 <= early["upper"] + 2e-12
    assert early["upper"] - exact["cost"] <= early["bias_bound"]
    # the score's bracket holds the exact score
    tx = np.where(rng.random(x.shape) < 0.1, -x, x)
    ots_exact = optimal_transport_score(x, tx, cost, n_bootstrap=0)["ots"]
    ots = optimal_transport_score(x, tx, cost, n_bootstrap=0, solver="sinkhorn")
    assert ots["ots_low"] <= ots_exact <= ots["ots_high"] == ots["ots"]


@pytest.mark.parametrize("cost", ["sqeuclidean", "hamming"])
def test_assignment_solver_is_emd(cost):
    rng = np.random.default_rng(18)
    x = correlated_spins(90, 6, rng)
    tx = np.where(rng.random(x.shape) < 0.15, -x, x)
    emd = optimal_transport_score(x, tx, cost, n_bootstrap=3, seed=2)
    lsa = optimal_transport_score(x, tx, cost, n_bootstrap=3, seed=2, solver="assignment")
    assert lsa["solver"] == "assignment"
    for key in ("ots", "ot_cost", "map_cost"):
        assert lsa[key] == pytest.approx(emd[key], rel=1e-12)
    np.testing.assert_allclose(lsa["bootstrap"], emd["bootstrap"], rtol=1e-12)
    with pytest.raises(ValueError, match="N = M"):
        optimal_transport(x, tx[:80], cost, solver="assignment")


def test_auto_solver_switches_at_exact_max():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 3))
    assert optimal_transport(x, y, exact_max=40)["solver"] == "emd"
    beyond = optimal_transport(x, y, exact_max=39)
    assert beyond["solver"] == "assignment"
    assert beyond["cost"] == pytest.approx(optimal_transport(x, y)["cost"], rel=1e-12)
    assert optimal_transport(x, y[:30], exact_max=39, reg=0.2)["solver"] == "sinkhorn"
    assert optimal_transport(x, y, plan_max=39)["plan"] is None


def test_ots_bootstrap_is_seeded_and_spreads():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((50, 4))
    tx = x + 0.5 * rng.standard_normal((50, 4))  # noisy: not an optimal map
    a = optimal_transport_score(x, tx, n_bootstrap=12, seed=3)
    b = optimal_transport_score(x, tx, n_bootstrap=12, seed=3)
    c = optimal_transport_score(x, tx, n_bootstrap=12, seed=4)
    np.testing.assert_array_equal(a["bootstrap"], b["bootstrap"])
    assert not np.array_equal(a["bootstrap"], c["bootstrap"])
    assert a["ots_se"] > 0 and np.all(a["bootstrap"] >= 1 - 1e-12)
    assert a["ots_ci"][0] <= a["ots_ci"][1]


# --------------------------------------------------------------------------- distribution level
@pytest.mark.parametrize("cost", ["sqeuclidean", "hamming"])
def test_displacement_interpolants_are_a_geodesic(cost):
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((40, 5)), rng.standard_normal((40, 5)) + 1.0
    partner = optimal_transport(x, y, cost)["partner"]
    times = [0.0, 0.2, 0.5, 0.7, 1.0]
    measures = [(1 - t) * x + t * y[partner] for t in times]
    out = distribution_line_shape(measures, cost)
    assert out["line_shape"] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(out["running"], 1.0, atol=1e-9)
    W = out["from_start"][-1]
    np.testing.assert_allclose(out["steps"], np.diff(times) * W, rtol=1e-9)
    assert out["distance"] == ("W2" if cost == "sqeuclidean" else "W1")
    # the same measures out of order are not a geodesic path
    shuffled = distribution_line_shape([measures[i] for i in (0, 3, 1, 4)], cost)
    assert shuffled["line_shape"] == pytest.approx((0.7 + 0.5 + 0.8) / 1.0, rel=1e-9)


def test_translated_clouds_give_the_closed_form_line_shape():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((50, 2))
    v1, v2 = np.array([3.0, 0.0]), np.array([0.0, 4.0])
    out = distribution_line_shape([x, x + v1, x + v1 + v2])
    assert out["line_shape"] == pytest.approx(7 / 5, rel=1e-9)
    np.testing.assert_allclose(out["steps"], np.array([3, 4]) / math.sqrt(2), rtol=1e-9)


# --------------------------------------------------------------------------- embeddings
def test_repeat_blocks_repeats_each_block_spin():
    rng = np.random.default_rng(11)
    samples = correlated_spins(5, 8, rng)
    levels = coarse_grain(samples, "majority", 2, 2, seed=1)
    for k, level in enumerate(levels):
        big = repeat_blocks(level, 8)
        assert big.shape == (5, 8, 8) and big.dtype == level.dtype
        f = 2**k
        for r, c in itertools.product(range(8), range(8)):
            np.testing.assert_array_equal(big[:, r, c], level[:, r // f, c // f])
    np.testing.assert_array_equal(repeat_blocks(samples, 8), samples)
    with pytest.raises(ValueError, match="tile"):
        repeat_blocks(levels[1], 6)


def test_reconstruction_is_the_conditional_mean_of_the_lab_sampler():
    """tanh(a + W h), averaged over h ~ p(h|v), is E[v′|v] of engines.rg.reconstruction_step."""
    rng = np.random.default_rng(12)
    L, m = 2, 3
    W, a, b = rng.normal(0, 0.8, (L * L, m)), rng.normal(0, 0.5, L * L), rng.normal(0, 0.5, m)
    v = np.array([[1, -1], [-1, -1]], dtype=np.int8)
    p_on = expit(v.reshape(-1) @ W + b)
    states = np.array(list(itertools.product([0, 1], repeat=m)), dtype=np.float64)
    weights = np.prod(np.where(states == 1, p_on, 1 - p_on), axis=1)
    recon = rbm_reconstruction(W, a, states, L)
    assert recon.shape == (2**m, L, L) and np.all(np.abs(recon) < 1)
    exact = np.tensordot(weights, recon, axes=1)
    count = 40_000
    flow = rbm_flow(W, a, b, np.repeat(v[None], count, axis=0), steps=1, seed=5)
    empirical = flow[1].mean(axis=0)
    se = np.sqrt((1 - exact**2) / count)
    assert np.all(np.abs(empirical - exact) < 5 * se)
    np.testing.assert_allclose(rbm_reconstruction(W, a, states), recon.reshape(2**m, -1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm_reconstruction(W, a, states * 2)


def block_local_stack(L: int, block: int, w: float, rng: np.random.Generator) -> list:
    """A two-level stack whose units each see one block, in permuted order and with random
    signs, with a = −s w / 2 on the unit's block so that E[v|h] = s tanh(w/2) (2h − 1)."""
    rbms = []
    size = L
    for _ in range(2):
        k = size // block
        m = k * k
        perm, signs = rng.permutation(m), rng.choice([-1.0, 1.0], m)
        W = np.zeros((size * size, m))
        a = np.zeros(size * size)
        for u in range(m):
            bi, bj = divmod(perm[u], k)
            sites = [
                (block * bi + r) * size + block * bj + c for r in range(block) for c in range(block)
            ]
            W[sites, u] = signs[u] * w
            a[sites] = -signs[u] * w / 2
        rbms.append((W, a, np.zeros(m)))
        size = k
    return rbms


def test_stack_levels_invert_to_hidden_units_and_embed_in_closed_form():
    rng = np.random.default_rng(13)
    L, block, w = 4, 2, 3.0
    rbms = block_local_stack(L, block, w, rng)
    samples = correlated_spins(30, L, rng)
    # one level: the drawn lattice gives back exactly the hidden samples it was drawn from
    W1, a1, b1 = rbms[0]
    lattice, _ = rbm_level(W1, b1, samples, block, seed=7)
    assignment, orientation = stack_orientation(W1, L, block)
    np.testing.assert_array_equal(
        hidden_units_from_lattice(lattice, assignment, orientation),
        hidden_samples(W1, b1, samples, seed=7),
    )
    levels, _ = coarse_grain_stack(samples, [(W, b) for W, _, b in rbms], block, seed=2)
    embedded = stack_embedding(levels, [(W, a) for W, a, _ in rbms], block)
    assert [e.shape for e in embedded] == [(30, L, L)] * 3
    t = math.tanh(w / 2)
    np.testing.assert_allclose(embedded[1], t * repeat_blocks(levels[1], L), rtol=1e-12)
    top = repeat_blocks(levels[2], L).astype(np.float64)
    np.testing.assert_allclose(embedded[2], np.tanh(w * t * top / 2), rtol=1e-12)
    # given orientations are used as such
    keys = [stack_orientation(W, s, block) for (W, _, _), s in zip(rbms, (L, L // 2), strict=True)]
    again = stack_embedding(levels, [(W, a) for W, a, _ in rbms], block, keys)
    np.testing.assert_array_equal(again[2], embedded[2])


# --------------------------------------------------------------------------- what the lab scores
def test_score_block_spin_levels_is_consistent():
    rng = np.random.default_rng(14)
    samples = correlated_spins(40, 8, rng)
    levels = coarse_grain(samples, "majority", 2, 2, seed=0)
    out = score_block_spin(levels, n_bootstrap=3, seed=1)
    assert out["kind"] == "block_spin" and list(out["sizes"]) == [8, 4, 2]
    assert out["n_levels"] == 3 and out["n_samples"] == 40 and out["dim"] == 64
    assert out["ots"]["ots"].shape == (2,) and out["ots"]["partner"].shape == (2, 40)
    assert np.all(out["ots"]["ots"] >= 1 - 1e-12) and out["ots_total"]["ots"] >= 1 - 1e-12
    valid = out["lss"]["per_track"][np.isfinite(out["lss"]["per_track"])]
    assert np.all(valid >= 1 - 1e-12)
    # the map's OT problems are the distribution-level steps and chord, in W₂ per site
    dist = out["distribution"]
    np.testing.assert_allclose(dist["steps"] ** 2, out["ots"]["ot_cost"], rtol=1e-12)
    assert dist["from_start"][-1] ** 2 == pytest.approx(out["ots_total"]["ot_cost"], rel=1e-12)
    embedded = [repeat_blocks(x, 8) for x in levels]
    again = distribution_line_shape(embedded)
    np.testing.assert_allclose(dist["steps"], again["steps"], rtol=1e-12)
    np.testing.assert_allclose(dist["from_start"], again["from_start"], rtol=1e-12)
    assert dist["line_shape"] >= 1 - 1e-12


@pytest.mark.parametrize("cost", ["sqeuclidean", "hamming"])
def test_majority_rule_is_an_optimal_map_and_decimation_is_not(cost):
    """Majority rule is the nearest block-constant configuration: OTS = 1 exactly (module doc)."""
    rng = np.random.default_rng(17)
    samples = correlated_spins(80, 8, rng)
    for b in (2, 4):  # b = 2 has ties, broken by coins: still nearest points
        coarse = repeat_blocks(coarse_grain(samples, "majority", b, 1, seed=3)[1], 8)
        ots = optimal_transport_score(samples, coarse, cost, n_bootstrap=0)["ots"]
        assert ots == pytest.approx(1.0, abs=1e-12)
    decimated = repeat_blocks(coarse_grain(samples, "decimation", 2, 1)[1], 8)
    assert optimal_transport_score(samples, decimated, cost, n_bootstrap=0)["ots"] > 1.01


def test_score_rbm_flow_coarse_stack_and_training_run():
    rng = np.random.default_rng(15)
    L, block = 4, 2
    rbms = block_local_stack(L, block, 2.0, rng)
    samples = correlated_spins(30, L, rng)
    W, a, b = rbms[0]
    flow = score_rbm_flow(
        rbm_flow(rng.normal(0, 0.3, (16, 5)), np.zeros(16), np.zeros(5), samples, steps=3, seed=1),
        n_bootstrap=2,
    )
    assert flow["kind"] == "rbm_flow" and flow["n_levels"] == 4
    assert flow["ots"]["ots"].shape == (3,) and len(flow["distribution"]["solvers"]) == 5
    coarse = score_rbm_coarse(samples, W, a, hidden_samples(W, b, samples, seed=3), n_bootstrap=2)
    assert coarse["n_levels"] == 2 and coarse["embedding"] == "reconstruction"
    moving = coarse["lss"]["per_track"][np.isfinite(coarse["lss"]["per_track"])]
    np.testing.assert_allclose(moving, 1.0)
    levels, _ = coarse_grain_stack(samples, [(W_, b_) for W_, _, b_ in rbms], block, seed=0)
    stack = score_stack(levels, [(W_, a_) for W_, a_, _ in rbms], block, n_bootstrap=0)
    repeat = score_stack(
        levels, [(W_, a_) for W_, a_, _ in rbms], block, embedding="repeat", n_bootstrap=0
    )
    assert stack["kind"] == repeat["kind"] == "stack" and list(stack["sizes"]) == [4, 2, 1]
    assert not np.allclose(stack["ots"]["ot_cost"], repeat["ots"]["ot_cost"])
    # a training run along translations: line shape in closed form, W to the data per checkpoint
    data = rng.standard_normal((40, 2))
    checkpoints = [data + [6.0, 0.0], data + [3.0, 0.0], data + [3.0, 4.0], data]
    run = score_training(checkpoints, data, epochs=[0, 1, 2, 5])
    d = math.sqrt(2)  # per-site units
    np.testing.assert_allclose(run["to_data"], np.array([6, 3, 5, 0]) / d, rtol=1e-9, atol=1e-12)
    assert run["distribution"]["line_shape"] == pytest.approx((3 + 4 + 5) / 6, rel=1e-9)
    assert list(run["epochs"]) == [0, 1, 2, 5] and run["n_checkpoints"] == 4


def test_scoring_refuses_levels_of_different_shapes():
    rng = np.random.default_rng(16)
    samples = correlated_spins(10, 4, rng)
    with pytest.raises(ValueError, match="embed"):
        score_levels([samples, samples[:, ::2, ::2]])
    with pytest.raises(ValueError, match="two"):
        score_levels([samples])
