"""xoshiro256** pseudo-random generator usable inside numba kernels, with explicit state.

Why our own generator: numba's built-in ``np.random`` keeps a hidden per-thread state that cannot
be saved, restored or passed between threads. Here the whole state is a ``uint64[4]`` array owned
by the simulation; every kernel receives it and advances it in place, so a run can be serialized
and resumed bit-for-bit, and two simulations never share a stream.

Algorithm: xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro256starstar.c).
Uniform doubles in [0, 1) use the top 53 bits of each 64-bit output: ``(x >> 11) * 2**-53``.
Seeding: ``np.random.SeedSequence(seed).generate_state(4, np.uint64)``.

Hot loops call :func:`xoshiro_next` / :func:`uniform` on four local scalars (the state unpacked from
the array at the start of a kernel and written back at the end) so that LLVM keeps the state in
registers instead of reloading it from memory after every write to the lattice.
"""

from __future__ import annotations

import numpy as np

from engines.ising.jit import kernel

_U64_5 = np.uint64(5)
_U64_9 = np.uint64(9)
_SHIFT_7 = np.uint64(7)
_SHIFT_11 = np.uint64(11)
_SHIFT_17 = np.uint64(17)
_SHIFT_45 = np.uint64(45)
_SHIFT_64 = np.uint64(64)
_TWO_POW_MINUS_53 = 1.0 / 9007199254740992.0


def seed_state(seed: int) -> np.ndarray:
    """A fresh xoshiro256** state (``uint64[4]``) derived from a non-negative integer seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The seed must be a non-negative integer, got {seed!r}.")
    state = np.random.SeedSequence(int(seed)).generate_state(4, np.uint64)
    if not state.any():  # xoshiro's one forbidden state; SeedSequence never produces it in practice
        raise ValueError(f"Seed {seed} produced the all-zero xoshiro256** state; use another seed.")
    return state


def check_state(state: np.ndarray) -> np.ndarray:
    """Validate a generator state read back from a state dictionary and return a private copy."""
    state = np.array(state, copy=True)
    if state.dtype != np.uint64 or state.shape != (4,):
        raise ValueError(
            f"The RNG state must be a uint64 array of shape (4,), got {state.dtype} {state.shape}."
        )
    if not state.any():
        raise ValueError("The RNG state is all zeros, which xoshiro256** cannot leave.")
    return state


@kernel
def _rotl(x, k):
    return (x << k) | (x >> (_SHIFT_64 - k))


@kernel
def xoshiro_next(s0, s1, s2, s3):
    """One xoshiro256** step on unpacked state; returns ``(output, s0, s1, s2, s3)``."""
    result = _rotl(s1 * _U64_5, _SHIFT_7) * _U64_9
    t = s1 << _SHIFT_17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _SHIFT_45)
    return result, s0, s1, s2, s3


@kernel
def uniform(s0, s1, s2, s3):
    """Uniform double in [0, 1) from the top 53 bits; returns ``(u, s0, s1, s2, s3)``."""
    x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
    return (x >> _SHIFT_11) * _TWO_POW_MINUS_53, s0, s1, s2, s3


@kernel
def next_u64(state):
    """Advance an array state in place and return the next 64-bit output."""
    x, state[0], state[1], state[2], state[3] = xoshiro_next(state[0], state[1], state[2], state[3])
    return x


@kernel
def next_double(state):
    """Advance an array state in place and return a uniform double in [0, 1)."""
    return (next_u64(state) >> _SHIFT_11) * _TWO_POW_MINUS_53


_SHIFT_40 = np.uint64(40)
_SHIFT_16 = np.uint64(16)
_LOW_24 = np.uint64(0xFFFFFF)
_TWO_POW_MINUS_24 = np.float32(1.0 / 16777216.0)


@kernel
def fill_uniform_float32(state, out):
    """Fill the 1-D float32 array ``out`` with uniforms on [0, 1), advancing ``state`` in place.

    Each 64-bit output gives two floats, from its top 24 bits and the 24 below them: every value
    is k·2⁻²⁴ with k uniform on 0 … 2²⁴ − 1, the same grid as torch's CPU float32 uniforms (the
    most a float32 in [0.5, 1) can resolve), at about a third of their cost. An odd-length fill
    discards the second half of its last output.
    """
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    n = out.shape[0]
    i = 0
    while i < n:
        x, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
        out[i] = np.float32(x >> _SHIFT_40) * _TWO_POW_MINUS_24
        if i + 1 < n:
            out[i + 1] = np.float32((x >> _SHIFT_16) & _LOW_24) * _TWO_POW_MINUS_24
        i += 2
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
