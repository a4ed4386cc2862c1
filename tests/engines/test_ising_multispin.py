"""Multi-spin-coded Metropolis and heat bath: layout, exactness, independence, threads, integration.

The L = 8 accuracy and 3×3 χ² tests of ``"metropolis-msc"`` and ``"heatbath-msc"`` live with the
other algorithms' (test_ising_accuracy.py, test_ising_detailed_balance.py: they run the real
kernel with 4-bit and 1-bit words). Here: the bit layout and its packing, deterministic T → 0
dynamics against the scalar kernels (which checks every ΔE class of the bit-sliced logic at
several word widths), the per-lane independence of the accept masks, χ² over the (bond sum,
magnetization) classes of the 4×4 torus at word widths 1 and 2 and with the parallel kernel,
odd L with multi-bit words, thread-count independence, and the IsingSimulation integration
(packed path, mirror semantics, device validation, no torch import).
"""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np
import pytest
from numba.core.caching import NullCache
from scipy.stats import chisquare

from engines.exact import boltzmann_probabilities, energy_per_spin, enumerate_states
from engines.ising import (
    IsingParams,
    IsingSimulation,
    heatbath,
    metropolis,
    multispin,
    summarize,
    unpack_spins,
)
from engines.ising.lattice import bond_sum_and_magnetization, bond_sums_and_magnetizations
from engines.ising.rng import seed_state
from engines.ising.simulation import PACKED_ALGORITHMS


def _random_lattice(size: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), (size, size))


# ---------------------------------------------------------------------------------- layout
@pytest.mark.parametrize(
    ("size", "width"),
    [
        (2, 1),
        (3, 1),
        (4, 2),
        (6, 3),
        (8, 4),
        (9, 3),
        (10, 5),
        (12, 6),
        (128, 64),
        (192, 48),
        (1024, 64),
        (4096, 64),
    ],
)
def test_choose_width(size, width):
    assert multispin.choose_width(size) == width
    assert size % width == 0 and size // width >= 2


@pytest.mark.parametrize("size", [2, 3, 4, 5, 8, 9, 12, 130, 256])
def test_pack_unpack_round_trip_and_documented_layout(size):
    spins = _random_lattice(size, size)
    for width in {1, multispin.choose_width(size)}:
        words = multispin.pack_spins(spins, width)
        stride = size // width
        assert words.dtype == np.uint64 and words.shape == (size, stride)
        np.testing.assert_array_equal(unpack_spins(words), spins)
        r, j, k = size // 2, stride - 1, width - 1
        assert (int(words[r, j]) >> k) & 1 == (spins[r, j + k * stride] > 0)
        assert int(words.max()) < 2**width  # unused high bits stay 0
        lattice = multispin.MultispinLattice(spins, "metropolis", width=width)
        assert lattice.bond_sum_and_magnetization() == tuple(
            int(x) for x in bond_sum_and_magnetization(spins)
        )


def test_width_restrictions_are_explained():
    with pytest.raises(ValueError, match="divide L"):
        multispin.check_width(8, 3)
    with pytest.raises(ValueError, match="at least 2 words"):
        multispin.check_width(8, 8)
    with pytest.raises(ValueError, match="size"):
        multispin.choose_width(1)
    with pytest.raises(ValueError, match="L×L"):
        unpack_spins(np.zeros((6, 4), dtype=np.uint64))
    lattice = multispin.MultispinLattice(_random_lattice(9, 1), "metropolis")
    lattice.set_parameters(0.4, 1.0, 0.0)
    with pytest.raises(ValueError, match="L and L/w even"):
        lattice.sweeps(1, seed_state(1), parallel=True)


# ------------------------------------------------------------------ T → 0: every ΔE class
def _word_order_reference(spins, n, size, width, delta_e=None, heatbath_rule=None):
    """Zero-temperature dynamics in the multi-spin word order (colour of word (r, j), rows in
    order, the sites j + kS of a word): flip when ΔE < 0 (Metropolis also at ΔE = 0), or set the
    spin to the sign of the local field (heat bath)."""
    s = spins.astype(np.int64)
    stride = size // width
    for _ in range(n):
        for parity in (0, 1):
            for r in range(size):
                for j in range((r + parity) & 1, stride, 2):
                    for k in range(width):
                        c = j + k * stride
                        nb = s[r - 1, c] + s[(r + 1) % size, c] + s[r, c - 1] + s[r, (c + 1) % size]
                        if heatbath_rule is not None:
                            s[r, c] = heatbath_rule(nb)
                        elif delta_e(s[r, c], nb) <= 0:
                            s[r, c] = -s[r, c]
    return s.astype(np.int8)


@pytest.mark.parametrize("size", [4, 6, 8, 9, 12])
@pytest.mark.parametrize(("J", "h"), [(1.0, 0.0), (-1.0, 0.0), (1.0, 0.5), (-1.0, 1.5), (0.7, 3.1)])
def test_zero_temperature_metropolis_matches_reference(size, J, h):
    """At β = 1e6 every probability is 0 or 1, so the dynamics is deterministic whatever the
    random numbers: the bit-sliced classes must reproduce it exactly."""
    beta = 1e6
    spins = _random_lattice(size, 17 * size)
    for width in {1, multispin.choose_width(size)}:
        if size % width or size // width < 2:
            continue
        lattice = multispin.MultispinLattice(spins, "metropolis", width=width)
        lattice.set_parameters(beta, J, h)
        lattice.sweeps(3, seed_state(5), parallel=False)
        expected = _word_order_reference(
            spins, 3, size, width, delta_e=lambda s, nb: 2 * s * (J * nb + h)
        )
        np.testing.assert_array_equal(lattice.unpack(), expected)
        if multispin.is_colourable(size, width):  # the checkerboard order of "metropolis"
            scalar = spins.copy()
            metropolis.metropolis_sweeps(
                scalar, 3, metropolis.acceptance_table(beta, J, h), seed_state(5)
            )
            np.testing.assert_array_equal(lattice.unpack(), scalar)


@pytest.mark.parametrize("size", [4, 8, 9])
@pytest.mark.parametrize(("J", "h"), [(1.0, 0.5), (-1.0, 0.5), (1.0, -2.5)])
def test_zero_temperature_heatbath_matches_reference(size, J, h):
    beta = 1e6
    spins = _random_lattice(size, 3 * size)
    width = multispin.choose_width(size)
    lattice = multispin.MultispinLattice(spins, "heatbath")
    lattice.set_parameters(beta, J, h)
    lattice.sweeps(3, seed_state(2))
    expected = _word_order_reference(
        spins, 3, size, width, heatbath_rule=lambda nb: 1 if J * nb + h > 0 else -1
    )
    np.testing.assert_array_equal(lattice.unpack(), expected)
    if multispin.is_colourable(size, width):
        scalar = spins.copy()
        heatbath.heatbath_sweeps(
            scalar, 3, heatbath.up_probability_table(beta, J, h), seed_state(2)
        )
        np.testing.assert_array_equal(lattice.unpack(), scalar)


# ------------------------------------------------------------------- independent lanes
@pytest.mark.parametrize(
    ("algorithm", "h"), [("metropolis", 0.0), ("metropolis", 0.2), ("heatbath", 0.0)]
)
def test_accept_masks_are_independent_per_lane_with_exact_marginals(algorithm, h):
    """Colour-0 words of a 128×128 lattice whose lanes 0..31 have one down neighbour and lanes
    32..63 none (everything up except the colour-1 sites of rows 1 mod 4 in columns < 64): after
    one sweep the colour-0 bits of rows 0 and 2 mod 4 are the accept masks of two classes. Their
    frequencies must match the two probabilities and no pair of lanes may be correlated."""
    size, beta, J = 128, 1 / 2.3, 1.0
    start = np.ones((size, size), dtype=np.int8)
    r, c = np.indices((size, size))
    start[((r + c) % 2 == 1) & (r % 4 == 1) & (c < 64)] = -1
    rows = np.concatenate([np.arange(0, size, 4), np.arange(2, size, 4)])
    lattice = multispin.MultispinLattice(start, algorithm)
    lattice.set_parameters(beta, J, h)
    state = seed_state(99)
    samples = []
    for _ in range(1500):
        lattice.load(start)
        lattice.sweeps(1, state)
        words = lattice.words[rows, rows % 2]  # the colour-0 word of each row (S = 2)
        samples.append((words[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1))
    bits = np.concatenate(samples).astype(np.float64)  # (n, 64), 1 where the spin is up
    n = bits.shape[0]
    if algorithm == "metropolis":
        p = multispin.metropolis_class_probabilities(beta, J, h)
        moved = 1.0 - bits  # the spins were up: a 0 bit is a flip
        expected = np.where(np.arange(64) < 32, p[2 * 1 + 1], p[2 * 0 + 1])
    else:
        p = multispin.heatbath_class_probabilities(beta, J, h)
        moved = bits
        expected = np.where(np.arange(64) < 32, p[3], p[4])
    freq = moved.mean(axis=0)
    z = (freq - expected) / np.sqrt(expected * (1 - expected) / n)
    assert np.max(np.abs(z)) < 4.5, z
    corr = np.corrcoef(moved, rowvar=False)
    off_diagonal = corr[~np.eye(64, dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 5.0 / np.sqrt(n), np.max(np.abs(off_diagonal))


def test_a_shared_uniform_would_break_the_boltzmann_distribution():
    """Why every lane draws its own U (multispin doc): two non-interacting sites whose
    neighbours are all up, updated with ONE shared uniform, keep their exact marginals but lose
    their independence, so the product (Boltzmann) distribution is not invariant; with
    independent uniforms it is."""
    p8 = np.exp(-8 / 2.3)
    single = np.array([1.0, p8]) / (1 + p8)  # P(+), P(-) of one site
    product = np.outer(single, single)

    def after(shared: bool) -> np.ndarray:
        out = np.zeros((2, 2))
        for a in (0, 1):
            for b in (0, 1):
                # flip probability: + (index 0) flips with p8, - always flips back
                pa, pb = (p8 if a == 0 else 1.0), (p8 if b == 0 else 1.0)
                if shared:  # both flip iff u < their thresholds, the same u
                    lo, hi = min(pa, pb), max(pa, pb)
                    moves = {
                        (1, 1): lo,
                        (1, 0) if pa > pb else (0, 1): hi - lo,
                        (0, 0): 1 - hi,
                    }
                else:
                    moves = {
                        (fa, fb): (pa if fa else 1 - pa) * (pb if fb else 1 - pb)
                        for fa in (0, 1)
                        for fb in (0, 1)
                    }
                for (fa, fb), w in moves.items():
                    out[a ^ fa, b ^ fb] += product[a, b] * w
        return out

    np.testing.assert_allclose(after(shared=False), product, rtol=1e-12)
    shared = after(shared=True)
    np.testing.assert_allclose(shared.sum(axis=1), single, rtol=1e-12)  # marginals still right
    assert abs(shared[0, 0] - product[0, 0]) > 1e-3  # ... but the sites are now correlated


# --------------------------------------------------------- χ² on the 4×4 torus (E, M) classes
L4, T4 = 4, 3.0
STATES4 = enumerate_states(L4)
BONDS4, MAGNET4 = bond_sums_and_magnetizations(STATES4)
CLASS4 = (BONDS4 + 2 * L4 * L4) * (L4 * L4 + 1) + (MAGNET4 + L4 * L4) // 2  # (B, M) → one int


def _forced_cycle_states(size: int, J: float, h: float) -> np.ndarray:
    """States of the 4×4 torus whose checkerboard Metropolis orbit has only forced moves (the
    deterministic cycles of engines.ising.metropolis), for all 2^16 states at once."""
    s = STATES4.astype(np.int64).copy()
    ok = np.ones(len(s), dtype=bool)
    for parity in (0, 1):
        for r in range(size):
            for c in range((r + parity) % 2, size, 2):
                nb = s[:, r - 1, c] + s[:, (r + 1) % size, c] + s[:, r, c - 1]
                nb = nb + s[:, r, (c + 1) % size]
                ok &= 2 * s[:, r, c] * (J * nb + h) <= 0
                s[:, r, c] = -s[:, r, c]
    image = ((s.reshape(len(s), -1) > 0) * (1 << np.arange(size * size))).sum(axis=1)
    alive = ok.copy()
    while True:
        nxt = alive & alive[image]
        if np.array_equal(nxt, alive):
            return np.flatnonzero(alive)
        alive = nxt


def _chi2_classes(counts: np.ndarray, p_state: np.ndarray) -> float:
    expected = np.bincount(CLASS4, weights=p_state, minlength=counts.size) * counts.sum()
    keep = expected >= 5
    observed, exp_kept = counts[keep], expected[keep]
    if not keep.all():
        observed = np.append(observed, counts[~keep].sum())
        exp_kept = np.append(exp_kept, expected[~keep].sum())
    assert counts[expected == 0].sum() == 0
    return float(chisquare(observed, exp_kept).pvalue)


@pytest.mark.parametrize(
    ("algorithm", "J", "h", "width", "parallel"),
    [
        ("metropolis", 1.0, 0.0, 2, False),
        ("metropolis", 1.0, 0.0, 1, False),
        ("metropolis", 1.0, 0.3, 2, True),  # the parallel kernel (pays a thread-pool wake-up)
        ("metropolis", -1.0, 0.3, 1, False),
        ("heatbath", 1.0, 0.0, 2, False),
        ("heatbath", -1.0, 0.3, 1, False),
    ],
)
def test_4x4_class_frequencies_follow_boltzmann(algorithm, J, h, width, parallel):
    n_samples, thinning = (10_000 if parallel else 40_000), 4
    spins = _random_lattice(L4, 5)
    lattice = multispin.MultispinLattice(spins, algorithm, width=width)
    lattice.set_parameters(1 / T4, J, h)
    state = seed_state(int(10 * width + 100 * J + 1000 * h))
    lattice.sweeps(100, state, parallel=parallel)
    counts = np.zeros(CLASS4.max() + 1, dtype=np.int64)
    for _ in range(n_samples):
        lattice.sweeps(thinning, state, parallel=parallel)
        bonds, total = lattice.bond_sum_and_magnetization()
        counts[(bonds + 2 * L4 * L4) * (L4 * L4 + 1) + (total + L4 * L4) // 2] += 1
    p = boltzmann_probabilities(L4, T4, J, h).copy()
    if algorithm == "metropolis":
        frozen = _forced_cycle_states(L4, J, h)
        assert (frozen.size > 0) == (h == 0.0)
        p[frozen] = 0.0
        p /= p.sum()
    assert _chi2_classes(counts, p) > 1e-3


def test_odd_size_with_three_bit_words_matches_exact_energy():
    """L = 9: w = 3, S = 3, words not colourable, updated one after the other (serial path)."""
    T = 2.5
    sim = IsingSimulation(IsingParams(9, T, algorithm="metropolis-msc", seed=31))
    assert sim.packed_width == 3
    sim.thermalize(500)
    e, m = sim.measure(40_000)
    result = summarize(e, m, T, 81)
    z = (result["e"].value - energy_per_spin(9, T)) / result["e"].error
    assert abs(z) < 4.0, z


# ------------------------------------------------------------------------------ threads
@pytest.mark.parametrize(
    ("algorithm", "h"), [("metropolis", 0.0), ("metropolis", 0.1), ("heatbath", 0.1)]
)
def test_parallel_serial_and_thread_counts_give_the_same_lattice(algorithm, h):
    spins = _random_lattice(256, 4)
    results = []
    threads = numba.get_num_threads()
    try:
        for parallel, n_threads in ((False, 1), (True, 1), (True, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(n_threads)
            lattice = multispin.MultispinLattice(spins, algorithm)
            lattice.set_parameters(1 / 2.3, 1.0, h)
            state = seed_state(8)
            lattice.sweeps(6, state, parallel=parallel)
            results.append((lattice.words.copy(), state.copy()))
    finally:
        numba.set_num_threads(threads)
    for words, state in results[1:]:
        np.testing.assert_array_equal(words, results[0][0])
        np.testing.assert_array_equal(state, results[0][1])


def test_busy_thread_pool_falls_back_to_the_serial_kernel_with_the_same_result():
    spins = _random_lattice(256, 6)
    a = multispin.MultispinLattice(spins, "metropolis")
    b = multispin.MultispinLattice(spins, "metropolis")
    for lattice in (a, b):
        lattice.set_parameters(1 / 2.3, 1.0, 0.0)
    sa, sb = seed_state(3), seed_state(3)
    a.sweeps(4, sa, parallel=True)
    with multispin._parallel_lock:
        b.sweeps(4, sb, parallel=True)
    np.testing.assert_array_equal(a.words, b.words)


@pytest.mark.parametrize(
    "kernel",
    [
        multispin.metropolis_zero_field_sweeps,
        multispin.metropolis_zero_field_sweeps_parallel,
        multispin.class_sweeps,
        multispin.class_sweeps_parallel,
        multispin.pack_spins,
        multispin.unpack_into,
        multispin.packed_bond_sum_and_magnetization,
    ],
)
def test_kernels_are_compiled_nopython_nogil_and_cached(kernel):
    assert kernel.targetoptions["nopython"] is True
    assert kernel.targetoptions["nogil"] is True
    assert not isinstance(kernel._cache, NullCache)


# --------------------------------------------------------------------------- integration
@pytest.mark.parametrize("algorithm", PACKED_ALGORITHMS)
@pytest.mark.parametrize("size", [8, 9, 128])
def test_packed_and_unpacked_paths_agree(algorithm, size):
    sim = IsingSimulation(IsingParams(size, 2.3, field=0.1, algorithm=algorithm, seed=2))
    for _ in range(3):
        sim.sweep(2)
        words = sim.packed_spins()
        assert words.dtype == np.uint64 and not words.flags.writeable
        assert words.shape == (size, size // sim.packed_width)
        copy = sim.spins_copy()
        np.testing.assert_array_equal(unpack_spins(words, sim.packed_width), copy)
        np.testing.assert_array_equal(sim.spins, copy)
        assert sim.energy_per_spin() == pytest.approx(
            (-bond_sum_and_magnetization(copy)[0] - 0.1 * copy.sum()) / size**2, abs=1e-12
        )
    with pytest.raises(ValueError):
        words[0, 0] = 0
    # The other algorithms hand out the same layout (a packed copy).
    plain = IsingSimulation(IsingParams(size, 2.3, seed=2))
    np.testing.assert_array_equal(unpack_spins(plain.packed_spins()), plain.spins)


def test_the_spins_mirror_behaves_like_a_live_lattice():
    params = IsingParams(16, 2.3, algorithm="metropolis-msc", seed=12)
    sim = IsingSimulation(params)
    sim.sweep(3)
    state = sim.state_dict()
    held = sim.spins
    held[:4, :4] = 1  # a write into the handed-out array ...
    state["spins"][:4, :4] = 1
    assert sim.magnetization_per_spin() == pytest.approx(held.mean())  # ... is seen at once
    twin = IsingSimulation.from_state(state)
    sim.sweep(5)
    twin.sweep(5)
    np.testing.assert_array_equal(held, twin.spins_copy())  # the held array follows the sweeps
    np.testing.assert_array_equal(sim.packed_spins(), twin.packed_spins())
    sim.set_spin(0, 0, -1)
    twin.set_spin(0, 0, -1)
    assert held[0, 0] == -1
    np.testing.assert_array_equal(sim.state_dict()["spins"], twin.state_dict()["spins"])
    # set_spin before the mirror was ever handed out
    fresh = IsingSimulation(params, "up")
    fresh.sweep(1)
    fresh.set_spin(2, 3, -1)
    assert fresh.spins[2, 3] == -1


def test_device_validation_and_state_without_device():
    with pytest.raises(ValueError, match="CPU only"):
        IsingParams(8, 2.0, algorithm="metropolis-msc", device="cuda").validate()
    with pytest.raises(ValueError, match="device"):
        IsingParams(8, 2.0, device=0).validate()
    sim = IsingSimulation(IsingParams(8, 2.0, algorithm="heatbath-msc", seed=1))
    state = sim.state_dict()
    assert state["device"] == "cpu"
    del state["device"]  # states written before the device existed
    assert IsingSimulation.from_state(state).params == sim.params


def test_pure_ising_commands_never_import_torch():
    code = (
        "import sys\n"
        "from engines.ising import ALL_ALGORITHMS, IsingParams, IsingSimulation\n"
        "for a in ALL_ALGORITHMS:\n"
        "    if a != 'metropolis-torch':\n"
        "        s = IsingSimulation(IsingParams(8, 2.3, algorithm=a, seed=1))\n"
        "        s.sweep(2); s.packed_spins(); s.state_dict()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "IsingSimulation(IsingParams(8, 2.3, algorithm='metropolis-torch')).sweep(1)\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)
