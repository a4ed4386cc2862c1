"""The xoshiro256** generator used inside the Ising kernels: reference outputs, seeding, doubles."""

from __future__ import annotations

import numpy as np
import pytest

from engines.ising.rng import (
    check_state,
    fill_uniform_float32,
    next_double,
    next_u64,
    seed_state,
)

MASK = (1 << 64) - 1


def _reference_step(s: list[int]) -> int:
    """Pure-Python transcription of xoshiro256** 1.0 (Blackman & Vigna)."""

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK

    result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
    t = (s[1] << 17) & MASK
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 45)
    return result


def test_published_first_outputs_from_state_1_2_3_4():
    state = np.array([1, 2, 3, 4], dtype=np.uint64)
    outputs = [int(next_u64(state)) for _ in range(4)]
    assert outputs == [11520, 0, 1509978240, 1215971899390074240]


def test_matches_pure_python_reference_over_many_steps():
    state = seed_state(2024)
    reference = [int(x) for x in state]
    ours = [int(next_u64(state)) for _ in range(5000)]
    assert ours == [_reference_step(reference) for _ in range(5000)]
    assert [int(x) for x in state] == reference


def test_doubles_are_top_53_bits():
    a, b = seed_state(7), seed_state(7)
    for _ in range(1000):
        u = next_double(a)
        assert 0.0 <= u < 1.0
        assert u == (int(next_u64(b)) >> 11) * 2.0**-53


def test_doubles_are_uniform():
    state = seed_state(11)
    u = np.array([next_double(state) for _ in range(20000)])
    counts = np.histogram(u, bins=20, range=(0.0, 1.0))[0]
    expected = u.size / 20
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 50.0  # 19 degrees of freedom: P(chi2 > 50) ~ 1e-4


def test_seeding_uses_seed_sequence():
    expected = np.random.SeedSequence(5).generate_state(4, np.uint64)
    np.testing.assert_array_equal(seed_state(5), expected)
    assert seed_state(5).dtype == np.uint64
    assert not np.array_equal(seed_state(5), seed_state(6))


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_invalid_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_state(bad)


def test_check_state():
    state = seed_state(3)
    copy = check_state(state)
    np.testing.assert_array_equal(copy, state)
    assert copy is not state
    with pytest.raises(ValueError, match="uint64"):
        check_state(state.astype(np.int64))
    with pytest.raises(ValueError, match="shape"):
        check_state(state[:3])
    with pytest.raises(ValueError, match="zeros"):
        check_state(np.zeros(4, dtype=np.uint64))


def test_float32_fill_takes_two_24_bit_uniforms_from_each_output():
    state, reference = seed_state(11), seed_state(11)
    out = np.empty(7, dtype=np.float32)
    fill_uniform_float32(state, out)
    expected = []
    for _ in range(4):
        x = int(next_u64(reference))
        expected += [(x >> 40) / 2**24, ((x >> 16) & 0xFFFFFF) / 2**24]
    np.testing.assert_array_equal(out, np.float32(expected[:7]))
    np.testing.assert_array_equal(state, reference)  # an odd fill still consumes whole outputs


def test_float32_fill_is_uniform():
    """χ² over 64 equal bins of 2²⁰ draws: the 1e-6 upper quantile of χ²₆₃ is about 125."""
    out = np.empty(1 << 20, dtype=np.float32)
    fill_uniform_float32(seed_state(5), out)
    assert out.min() >= 0.0 and out.max() < 1.0
    counts = np.bincount((out * 64).astype(np.int64), minlength=64)
    expected = out.size / 64
    assert ((counts - expected) ** 2 / expected).sum() < 125
