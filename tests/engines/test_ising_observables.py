"""Observables and their summary, checked on exact samples of the 4×4 torus (no Markov chain)."""

from __future__ import annotations

import numpy as np
import pytest

from engines.exact import boltzmann_probabilities, enumerate_states
from engines.ising import (
    correlation_function,
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)

L, T = 4, 2.5
N = L * L


@pytest.fixture(scope="module")
def exact_ensemble():
    """All 4×4 states with their Boltzmann probabilities and exact per-state observables."""
    states = enumerate_states(L)
    p = boltzmann_probabilities(L, T)
    s = states.astype(float)
    e = -(s * np.roll(s, -1, 1) + s * np.roll(s, -1, 2)).sum(axis=(1, 2)) / N
    m = s.mean(axis=(1, 2))
    shifted = [np.roll(s, -r, 1) + np.roll(s, -r, 2) for r in range(L // 2 + 1)]
    G = np.stack([(s * t).mean(axis=(1, 2)) / 2 for t in shifted], axis=1)
    return states, p, e, m, G


def _iid_samples(exact_ensemble, n: int, seed: int) -> np.ndarray:
    states, p, *_ = exact_ensemble
    return states[np.random.default_rng(seed).choice(p.size, size=n, p=p)]


def test_energies_and_magnetizations_match_direct_formula():
    rng = np.random.default_rng(0)
    for size in (2, 3, 7):
        samples = rng.choice(np.array([-1, 1], dtype=np.int8), size=(20, size, size))
        s = samples.astype(float)
        bonds = (s * np.roll(s, -1, 1) + s * np.roll(s, -1, 2)).sum(axis=(1, 2))
        expected = (-1.3 * bonds - 0.4 * s.sum(axis=(1, 2))) / size**2
        np.testing.assert_allclose(energies_per_spin(samples, J=1.3, h=0.4), expected, atol=1e-12)
        np.testing.assert_allclose(magnetizations_per_spin(samples), s.mean(axis=(1, 2)))


def test_ground_states():
    up = np.ones((3, 5, 5), dtype=np.int8)
    np.testing.assert_array_equal(energies_per_spin(up), -2.0)
    np.testing.assert_array_equal(energies_per_spin(-up, h=0.5), -1.5)
    np.testing.assert_array_equal(magnetizations_per_spin(-up), -1.0)
    r, C, err = correlation_function(up)
    np.testing.assert_array_equal(r, [0, 1, 2])
    np.testing.assert_array_equal(C, 0.0)
    np.testing.assert_array_equal(err, 0.0)


@pytest.mark.parametrize(
    "bad", [np.ones((4, 4), np.int8), np.ones((2, 3, 4), np.int8), np.zeros((2, 3, 3), np.int8)]
)
def test_invalid_samples(bad):
    with pytest.raises(ValueError, match="Samples"):
        energies_per_spin(bad)


def test_correlation_function_against_exact_enumeration(exact_ensemble):
    _, p, _, m, G = exact_ensemble
    exact = p @ G - (p @ np.abs(m)) ** 2
    r, C, err = correlation_function(_iid_samples(exact_ensemble, 20_000, 1))
    np.testing.assert_array_equal(r, np.arange(L // 2 + 1))
    assert np.all(err[1:] > 0)
    assert np.all(np.abs(C - exact) < 4 * err + 1e-12)


def test_correlation_function_identities(exact_ensemble):
    samples = _iid_samples(exact_ensemble, 2_000, 2)
    _, C, _ = correlation_function(samples)
    abs_m = np.abs(magnetizations_per_spin(samples)).mean()
    assert C[0] == pytest.approx(1 - abs_m**2)
    # At h = 0 the nearest-neighbour correlation is the energy: G(1) = -e / (2J).
    assert C[1] + abs_m**2 == pytest.approx(-energies_per_spin(samples).mean() / 2)


def test_summarize_against_exact_enumeration(exact_ensemble):
    samples = _iid_samples(exact_ensemble, 40_000, 3)
    _, p, e, m, _ = exact_ensemble
    m2, m4 = p @ m**2, p @ m**4
    abs_m = p @ np.abs(m)
    exact = {
        "e": p @ e,
        "m": 0.0,
        "abs_m": abs_m,
        "m2": m2,
        "m4": m4,
        "c": N * (p @ e**2 - (p @ e) ** 2) / T**2,
        "chi": N * (m2 - abs_m**2) / T,
        "binder": 1 - m4 / (3 * m2**2),
    }
    result = summarize(energies_per_spin(samples), magnetizations_per_spin(samples), T, N)
    assert set(result) == set(exact)
    for key, value in exact.items():
        estimate = result[key]
        assert estimate.error > 0, key
        assert estimate.tau == pytest.approx(0.5, abs=0.1), key  # independent samples
        assert abs(estimate.value - value) < 4 * estimate.error, key


def test_summarize_validates_input():
    e, m = np.zeros(10), np.zeros(9)
    with pytest.raises(ValueError, match="equal length"):
        summarize(e, m, 2.0, 16)
    with pytest.raises(ValueError, match="temperature"):
        summarize(e, e, 0.0, 16)


# ------------------------------------------------------------------ the packed correlation pass
def _random_spins(rng, n: int, size: int) -> np.ndarray:
    return np.where(rng.random((n, size, size)) < rng.random(), 1, -1).astype(np.int8)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7, 8, 9, 12, 30, 33, 64, 96, 128, 130, 192])
def test_the_packed_correlation_sums_are_the_direct_double_loop(size):
    """Bit for bit: the popcount pass over the packed frame and its transpose gives the same
    integers as the direct loop, for every word width (L = 3: 1-bit words; L = 192: 64)."""
    from engines.ising.lattice import pair_correlations
    from engines.ising.multispin import choose_width, pack_spins
    from engines.ising.observables import CorrelationSeries

    samples = _random_spins(np.random.default_rng(size), 3, size)
    expected = pair_correlations(samples, size // 2)
    whole = CorrelationSeries(size)
    whole.add(samples)
    packed = CorrelationSeries(size)
    width = choose_width(size)
    for frame in samples:
        packed.add_packed(pack_spins(frame, width), width)
    for series in (whole, packed):
        np.testing.assert_array_equal(np.concatenate(series._rows), expected)


def test_correlation_series_in_blocks_equals_the_whole(monkeypatch):
    """Fed in blocks (a file read chunk by chunk, or blocks smaller than the samples), the
    series gives exactly :func:`correlation_function` of all samples."""
    import engines.ising.observables as observables

    samples = _random_spins(np.random.default_rng(1), 50, 10)
    expected = correlation_function(samples)
    monkeypatch.setattr(observables, "BLOCK_BYTES", 3 * 100)  # 3 frames at a time
    series = observables.CorrelationSeries(10)
    for start in (0, 7, 19, 33):
        series.add(samples[start : {0: 7, 7: 19, 19: 33, 33: 50}[start]])
    assert len(series) == 50
    for got, want in zip(series.result(), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    thinned = observables.CorrelationSeries(10)
    thinned.add(samples[::4])  # a strided view: copied a block at a time
    for got, want in zip(thinned.result(), correlation_function(samples[::4].copy()), strict=True):
        np.testing.assert_array_equal(got, want)


def test_only_plus_and_minus_one_pass_the_in_place_check():
    from engines.ising.observables import all_spins

    for value in range(-128, 128):
        frames = np.ones((2, 3, 3), dtype=np.int8)
        frames[1, 2, 0] = value
        assert all_spins(frames) == (value in (1, -1)), value
    with pytest.raises(ValueError, match="spins"):
        correlation_function(np.zeros((3, 4, 4), dtype=np.int8))
    with pytest.raises(ValueError, match="spins"):
        correlation_function(np.full((3, 4, 4), 2, dtype=np.int64))
