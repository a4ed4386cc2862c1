"""Multi-spin-coded (bit-parallel) Metropolis and heat bath for the 2D Ising model (numba).

Bit layout
----------
The L×L lattice is stored as ``words``, a C-contiguous ``uint64`` array of shape ``(L, S)`` with
``L = w·S``: bit k (k = 0 is the least significant) of ``words[r, j]`` is the spin at row r and
column ``c = j + k·S``, 1 for +1 and 0 for -1; bits k >= w are always 0. Each row is cut into w
segments of S columns and a word holds the j-th column of every segment, so the sites of one
word are S >= 2 columns apart: no two of them are neighbours. The neighbours of every bit of
``words[r, j]`` sit at the *same* bit of ``words[r ± 1, j]`` and ``words[r, j ± 1]``; only at the
row's seam does a word wrap to the next segment: the left neighbours of ``words[r, 0]`` are
``words[r, S-1]`` rotated left by one bit within w bits (bit k gets bit k-1, bit 0 gets bit
w-1), the right neighbours of ``words[r, S-1]`` are ``words[r, 0]`` rotated right by one bit.
:func:`choose_width` takes w as the largest divisor of L with w <= 64, S >= 2 and, when L is
even, S even (w = 64 for every multiple of 128; L = 8 gives w = 4, L = 3 gives w = 1): the same
code path runs at every size, down to one-bit words.

Colours and order
-----------------
The colour of word (r, j) is ``(r + j) mod 2``. When L and S are even, every site of a word has
the word's colour (``c = j + kS`` has the parity of j) and a half sweep of one colour is exactly
the checkerboard half sweep of :mod:`engines.ising.metropolis`; the words of one colour do not
interact, so their rows are updated in parallel (``prange``). Otherwise (L odd, or S odd) the
words are updated one after the other, colour 0 then colour 1, rows in order, each word seeing
the current values of its neighbours; for L = 3 (w = 1) this is the visiting order of
``"metropolis"``. One sweep is one update attempt per spin either way.

Neighbour classes (ΔE)
----------------------
For a word s with neighbour words n1..n4 the indicator words ``d_i = s ^ n_i`` (Metropolis,
J > 0: the bond is unsatisfied; for J < 0 the complement ``~(s ^ n_i)``) or ``d_i = n_i``
(heat bath: the neighbour is +1) are added bit-sliced into five exact-count masks C0..C4 (bit
set where the count is 0, …, 4). Metropolis, with u unsatisfied bonds among the four, flips at
``ΔE = 2|J|(4 - 2u) + 2hs``: at h = 0 only u = 0 (ΔE = 8|J|, p8 = e^{-8β|J|}) and u = 1
(ΔE = 4|J|, p4 = e^{-4β|J|}) are random, u >= 2 always flips. With a field the ten classes
(u, s) each get their own probability min(1, e^{-βΔE}). Heat bath sets the spin to +1 with
probability ``1 / (1 + e^{-2β(J(2k-4) + h)})`` for k up neighbours: five classes, any J, any h.

Random numbers, and why the chain is exact
------------------------------------------
A probability p < 1 becomes the 64-bit threshold ``t = floor(p·2⁶⁴)``; each bit lane draws its
own uniform U on the 64-bit grid and accepts when ``U < t`` (probability t·2⁻⁶⁴, within 2⁻⁶⁴ of
p; the other kernels compare 53-bit doubles). The 64 lanes compare *at once*, most significant
bit first: the i-th random word R_i supplies bit i of every lane's U, the lane's threshold bit
is selected by its class mask, a lane is decided at the first bit where U and t differ
(accepted when U has 0 and t has 1), and drawing stops when every lane that needs a decision is
decided (about log2(64) + 1.3 ≈ 7 words for 64 lanes, never more than 64; the zero-field
kernel draws its first 4 words without testing, since they are nearly always needed). Each
lane's decision is a function of its own bits only, which are independent fair bits of
xoshiro256** words never reused, so the decisions of the sites of a word are *independent*
Bernoulli variables with the exact single-site probabilities; stopping early (or late) only
skips (or discards) bits that no undecided lane reads.

Independence matters. Sharing one uniform by the 64 spins of a word (``u < p`` for all of them)
gives the right marginal acceptance per spin but does *not* leave the Boltzmann distribution
invariant: the sites of a word are conditionally independent given the rest of the lattice, a
kernel that preserves their product distribution must not couple their moves, and two sites
with all-up neighbours show it (both flip down together with probability p8 and come back
independently with probability 1, so the joint law after one update is not the product of the
marginals; ``tests/engines/test_ising_multispin.py`` computes this counterexample exactly).
With independent lanes, the update of one word is a product of single-site Metropolis (or heat
bath) kernels on sites that do not interact, each reversible with respect to the conditional
Boltzmann distribution of its site, so the word update is reversible with respect to the
Boltzmann distribution and so is every half sweep of one colour; a sweep (a fixed sequence of
such updates) leaves it invariant. At h = 0 the fixed checkerboard order has the same
deterministic cycles as ``"metropolis"`` (see :mod:`engines.ising.metropolis`).

Streams, threads and resumption
-------------------------------
Each half sweep draws one 64-bit key from the simulation's xoshiro256** state; row r of that half
sweep seeds its own xoshiro256** from ``splitmix64(key + (4r + i + 1)·γ)``, i = 0..3 (the
recommended seeding of xoshiro). A row's random words depend only on (key, r), never on which
thread ran it, so the parallel and the serial kernel give identical lattices for any thread
count, and the lattice plus the state resume a run bit-for-bit. When another thread is already
inside a parallel kernel, the serial kernel runs instead (same result): numba's thread pool is
never entered twice.
"""

from __future__ import annotations

import math
import threading

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from engines.ising.jit import kernel, parallel_kernel
from engines.ising.logistic import expit
from engines.ising.rng import next_u64, xoshiro_next

MAX_WIDTH = 64
#: Lattices with at least this many spins use the parallel kernel (when their words can be
#: coloured); below it one half sweep (~50 µs at 512²) is too short to pay for waking the thread
#: pool, which takes 10-100 µs on a busy machine.
PARALLEL_MIN_SPINS = 512 * 512

_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SH30 = np.uint64(30)
_SH27 = np.uint64(27)
_SH31 = np.uint64(31)
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_SH1 = np.uint64(1)
_SH2 = np.uint64(2)
_SH4 = np.uint64(4)
_SH56 = np.uint64(56)

_parallel_lock = threading.Lock()
_UNROLLED = 4  # digits drawn without an exit test in the zero-field kernel


# ------------------------------------------------------------------------------ layout helpers
def choose_width(size: int) -> int:
    """Bits per word w for an L×L lattice (module doc): the largest divisor of L with w <= 64 and
    S = L/w >= 2, S even when L is even (so that the words can be coloured)."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"The lattice size must be an integer >= 2, got {size!r}.")
    size = int(size)
    candidates = [w for w in range(1, MAX_WIDTH + 1) if size % w == 0 and size // w >= 2]
    if size % 2 == 0:
        candidates = [w for w in candidates if (size // w) % 2 == 0]
    return max(candidates)


def check_width(size: int, width: int) -> int:
    """Validate a word width for size L (w divides L, 1 <= w <= 64, L/w >= 2); returns w."""
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)):
        raise ValueError(f"The word width must be an integer, got {width!r}.")
    width = int(width)
    if not 1 <= width <= MAX_WIDTH or size % width or size // width < 2:
        raise ValueError(
            f"A word width must divide L = {size}, lie in [1, {MAX_WIDTH}] and leave at least 2 "
            f"words per row, got {width}."
        )
    return width


def is_colourable(size: int, width: int) -> bool:
    """True when the words' colours (r + j) mod 2 are a proper colouring: L and S = L/w even."""
    return size % 2 == 0 and (size // width) % 2 == 0


# ------------------------------------------------------------------------------ bit primitives
@kernel
def splitmix64(z):
    """The splitmix64 output function (Steele, Lea & Flood) of a 64-bit counter value."""
    z = (z ^ (z >> _SH30)) * _MIX1
    z = (z ^ (z >> _SH27)) * _MIX2
    return z ^ (z >> _SH31)


@kernel
def row_stream(key, row):
    """The xoshiro256** state of one row in one half sweep: ``splitmix64(key + (4r + i + 1)γ)``."""
    base = key + np.uint64(4 * row) * _GAMMA
    s0 = splitmix64(base + _GAMMA)
    s1 = splitmix64(base + np.uint64(2) * _GAMMA)
    s2 = splitmix64(base + np.uint64(3) * _GAMMA)
    s3 = splitmix64(base + np.uint64(4) * _GAMMA)
    return s0, s1, s2, s3


@kernel
def popcount(x):
    """Number of set bits of a uint64 (SWAR; LLVM lowers it to the popcnt instruction)."""
    x = x - ((x >> _SH1) & _M1)
    x = (x & _M2) + ((x >> _SH2) & _M2)
    x = (x + (x >> _SH4)) & _M4
    return (x * _H01) >> _SH56


@kernel
def _width_mask(width):
    return _ALL if width == 64 else (_ONE << np.uint64(width)) - _ONE


@kernel
def _neighbours(words, r, j, width, mask):
    """The four neighbour words of ``words[r, j]`` aligned bit for bit (module doc)."""
    size, n_words = words.shape
    up = words[r - 1 if r > 0 else size - 1, j]
    down = words[r + 1 if r + 1 < size else 0, j]
    if j > 0:
        left = words[r, j - 1]
    else:
        x = words[r, n_words - 1]
        left = ((x << _SH1) | (x >> np.uint64(width - 1))) & mask
    if j + 1 < n_words:
        right = words[r, j + 1]
    else:
        x = words[r, 0]
        right = ((x >> _SH1) | (x << np.uint64(width - 1))) & mask
    return up, down, left, right


@kernel
def _counts(d1, d2, d3, d4, mask):
    """Bit-sliced count of four indicator words: masks C0..C4 of lanes whose count is 0..4."""
    x1 = d1 ^ d2
    a1 = d1 & d2
    x2 = d3 ^ d4
    a2 = d3 & d4
    low = x1 ^ x2
    y = x1 & x2
    t0 = ~(a1 | a2 | y) & mask
    t1 = (a1 ^ a2) | y
    return t0 & ~low, t0 & low, t1 & ~low, t1 & low, a1 & a2


@kernel
def _compare_step(undecided, accepted, threshold, s0, s1, s2, s3):
    """One digit of the lane-parallel comparison ``U < t`` (most significant digit first).

    A fresh xoshiro256** word supplies this digit of every lane's U; a lane still undecided is
    accepted where U has 0 and t has 1, and stays undecided only where the two digits agree.
    """
    bits, s0, s1, s2, s3 = xoshiro_next(s0, s1, s2, s3)
    accepted |= undecided & threshold & ~bits
    undecided &= ~(bits ^ threshold)
    return undecided, accepted, s0, s1, s2, s3


# ----------------------------------------------------------------- zero-field Metropolis rows
@kernel
def _row_metropolis_zero_field(words, r, parity, width, key, invert, tb8, tb4):
    """Update the words of row r whose colour is ``parity`` (Metropolis, h = 0, J != 0).

    ``invert`` is all ones for J < 0 (counting parallel bonds as unsatisfied); ``tb8``/``tb4``
    hold, for i = 0..63, all ones where bit 63 - i of the threshold of p8/p4 is set.
    """
    n_words = words.shape[1]
    mask = _width_mask(width)
    s0, s1, s2, s3 = row_stream(key, r)
    for j in range((r + parity) & 1, n_words, 2):
        s = words[r, j]
        up, down, left, right = _neighbours(words, r, j, width, mask)
        x1 = (s ^ up) ^ (s ^ down)
        a1 = (s ^ up ^ invert) & (s ^ down ^ invert)
        d3 = s ^ left ^ invert
        d4 = s ^ right ^ invert
        x2 = d3 ^ d4
        a2 = d3 & d4
        low = x1 ^ x2
        t0 = ~(a1 | a2 | (x1 & x2)) & mask  # at most one unsatisfied bond: ΔE > 0
        zero = t0 & ~low  # no unsatisfied bond: ΔE = 8|J|
        one = t0 & low  # one unsatisfied bond: ΔE = 4|J|
        undecided = t0
        accepted = _ZERO
        i = 0
        if undecided != _ZERO:  # the first digits are nearly always needed: no exit test
            for i in range(_UNROLLED):
                undecided, accepted, s0, s1, s2, s3 = _compare_step(
                    undecided, accepted, (zero & tb8[i]) | (one & tb4[i]), s0, s1, s2, s3
                )
            i = _UNROLLED
        while undecided != _ZERO and i < 64:
            undecided, accepted, s0, s1, s2, s3 = _compare_step(
                undecided, accepted, (zero & tb8[i]) | (one & tb4[i]), s0, s1, s2, s3
            )
            i += 1
        words[r, j] = s ^ ((mask & ~t0) | accepted)


@kernel
def _half_sweep_zero_field_serial(words, parity, width, key, invert, tb8, tb4):
    for r in range(words.shape[0]):
        _row_metropolis_zero_field(words, r, parity, width, key, invert, tb8, tb4)


@parallel_kernel
def _half_sweep_zero_field_parallel(words, parity, width, key, invert, tb8, tb4):
    for r in nb.prange(words.shape[0]):
        _row_metropolis_zero_field(words, r, parity, width, key, invert, tb8, tb4)


@kernel
def metropolis_zero_field_sweeps(words, n_sweeps, width, invert, tb8, tb4, state):
    """``n_sweeps`` serial multi-spin Metropolis sweeps at h = 0; advances ``state`` in place."""
    for _ in range(n_sweeps):
        for parity in range(2):
            key = next_u64(state)
            _half_sweep_zero_field_serial(words, parity, width, key, invert, tb8, tb4)


@kernel
def metropolis_zero_field_sweeps_parallel(words, n_sweeps, width, invert, tb8, tb4, state):
    """Same as :func:`metropolis_zero_field_sweeps` with the rows of a colour in parallel."""
    for _ in range(n_sweeps):
        for parity in range(2):
            key = next_u64(state)
            _half_sweep_zero_field_parallel(words, parity, width, key, invert, tb8, tb4)


# -------------------------------------------------------------------- general class rows
@kernel
def _row_metropolis_field(words, r, parity, width, key, invert, sure, maybe, tb):
    """Update the words of row r of colour ``parity``: Metropolis with per-class probabilities.

    Class ``c = 2u + b`` (u unsatisfied bonds, b the spin bit). ``sure[c]``/``maybe[c]`` are all
    ones when class c always flips / flips at random; ``tb[i, c]`` is all ones where bit 63 - i of
    the threshold of class c is set (zero for the other classes), so the threshold word of one
    draw is a fixed OR of ten ANDs that stays in registers.
    """
    n_words = words.shape[1]
    mask = _width_mask(width)
    s0, s1, s2, s3 = row_stream(key, r)
    for j in range((r + parity) & 1, n_words, 2):
        s = words[r, j]
        up, down, left, right = _neighbours(words, r, j, width, mask)
        c0, c1, c2, c3, c4 = _counts(
            s ^ up ^ invert, s ^ down ^ invert, s ^ left ^ invert, s ^ right ^ invert, mask
        )
        minus = mask & ~s
        m0, m1, m2, m3, m4 = c0 & minus, c0 & s, c1 & minus, c1 & s, c2 & minus
        m5, m6, m7, m8, m9 = c2 & s, c3 & minus, c3 & s, c4 & minus, c4 & s
        flips = (
            (m0 & sure[0])
            | (m1 & sure[1])
            | (m2 & sure[2])
            | (m3 & sure[3])
            | (m4 & sure[4])
            | (m5 & sure[5])
            | (m6 & sure[6])
            | (m7 & sure[7])
            | (m8 & sure[8])
            | (m9 & sure[9])
        )
        undecided = (
            (m0 & maybe[0])
            | (m1 & maybe[1])
            | (m2 & maybe[2])
            | (m3 & maybe[3])
            | (m4 & maybe[4])
            | (m5 & maybe[5])
            | (m6 & maybe[6])
            | (m7 & maybe[7])
            | (m8 & maybe[8])
            | (m9 & maybe[9])
        )
        i = 0
        while undecided != _ZERO and i < 64:
            threshold = (
                (m0 & tb[i, 0])
                | (m1 & tb[i, 1])
                | (m2 & tb[i, 2])
                | (m3 & tb[i, 3])
                | (m4 & tb[i, 4])
                | (m5 & tb[i, 5])
                | (m6 & tb[i, 6])
                | (m7 & tb[i, 7])
                | (m8 & tb[i, 8])
                | (m9 & tb[i, 9])
            )
            undecided, flips, s0, s1, s2, s3 = _compare_step(
                undecided, flips, threshold, s0, s1, s2, s3
            )
            i += 1
        words[r, j] = s ^ flips


@kernel
def _row_heatbath(words, r, parity, width, key, sure, maybe, tb):
    """Update the words of row r of colour ``parity`` by heat bath.

    Class k = number of up neighbours; ``sure[k]``/``maybe[k]`` are all ones when the spin always
    becomes +1 / becomes +1 at random; ``tb[i, k]`` as in :func:`_row_metropolis_field`.
    """
    n_words = words.shape[1]
    mask = _width_mask(width)
    s0, s1, s2, s3 = row_stream(key, r)
    for j in range((r + parity) & 1, n_words, 2):
        up, down, left, right = _neighbours(words, r, j, width, mask)
        c0, c1, c2, c3, c4 = _counts(up, down, left, right, mask)
        plus = (c0 & sure[0]) | (c1 & sure[1]) | (c2 & sure[2]) | (c3 & sure[3]) | (c4 & sure[4])
        undecided = (
            (c0 & maybe[0]) | (c1 & maybe[1]) | (c2 & maybe[2]) | (c3 & maybe[3]) | (c4 & maybe[4])
        )
        i = 0
        while undecided != _ZERO and i < 64:
            threshold = (
                (c0 & tb[i, 0])
                | (c1 & tb[i, 1])
                | (c2 & tb[i, 2])
                | (c3 & tb[i, 3])
                | (c4 & tb[i, 4])
            )
            undecided, plus, s0, s1, s2, s3 = _compare_step(
                undecided, plus, threshold, s0, s1, s2, s3
            )
            i += 1
        words[r, j] = plus


@kernel
def _half_sweep_classes_serial(words, parity, width, key, heatbath, invert, sure, maybe, tb):
    for r in range(words.shape[0]):
        if heatbath:
            _row_heatbath(words, r, parity, width, key, sure, maybe, tb)
        else:
            _row_metropolis_field(words, r, parity, width, key, invert, sure, maybe, tb)


@parallel_kernel
def _half_sweep_classes_parallel(words, parity, width, key, heatbath, invert, sure, maybe, tb):
    for r in nb.prange(words.shape[0]):
        if heatbath:
            _row_heatbath(words, r, parity, width, key, sure, maybe, tb)
        else:
            _row_metropolis_field(words, r, parity, width, key, invert, sure, maybe, tb)


@kernel
def class_sweeps(words, n_sweeps, width, heatbath, invert, sure, maybe, tb, state):
    """``n_sweeps`` serial multi-spin sweeps with per-class probabilities (any h; heat bath)."""
    for _ in range(n_sweeps):
        for parity in range(2):
            key = next_u64(state)
            _half_sweep_classes_serial(words, parity, width, key, heatbath, invert, sure, maybe, tb)


@kernel
def class_sweeps_parallel(words, n_sweeps, width, heatbath, invert, sure, maybe, tb, state):
    """Same as :func:`class_sweeps` with the rows of a colour in parallel."""
    for _ in range(n_sweeps):
        for parity in range(2):
            key = next_u64(state)
            _half_sweep_classes_parallel(
                words, parity, width, key, heatbath, invert, sure, maybe, tb
            )


# ------------------------------------------------------------------------ packing, observables
@kernel
def pack_spins(spins, width):
    """Pack an (L, L) int8 ±1 lattice into the ``(L, L/w)`` uint64 words of the module doc."""
    size = spins.shape[0]
    n_words = size // width
    words = np.zeros((size, n_words), dtype=np.uint64)
    for r in range(size):
        for k in range(width):
            bit = np.uint64(k)
            base = k * n_words
            for j in range(n_words):
                words[r, j] |= np.uint64(spins[r, base + j] > 0) << bit
    return words


@kernel
def unpack_into(words, width, out):
    """Write the (L, L) int8 ±1 lattice held by ``words`` into ``out`` (no allocation)."""
    size, n_words = words.shape
    for r in range(size):
        for k in range(width):
            bit = np.uint64(k)
            base = k * n_words
            for j in range(n_words):
                out[r, base + j] = np.int8(((words[r, j] >> bit) & _ONE) * np.uint64(2)) - 1


def unpack_spins(words: np.ndarray, width: int | None = None) -> np.ndarray:
    """A new (L, L) int8 ±1 lattice from packed words of shape (L, S); w defaults to L / S."""
    words = np.ascontiguousarray(words, dtype=np.uint64)
    size, n_words = words.shape
    if width is None:
        width = size // n_words
    if width * n_words != size:
        raise ValueError(f"Packed words of shape {words.shape} do not hold an L×L lattice.")
    out = np.empty((size, size), dtype=np.int8)
    unpack_into(words, check_width(size, width), out)
    return out


@kernel
def packed_bond_sum_and_magnetization(words, width):
    """``(B, M)`` of the packed lattice (B = Σ_<ij> s_i s_j over the 2N bonds, M = Σ s_i)."""
    size, n_words = words.shape
    mask = _width_mask(width)
    up_spins = 0
    unsatisfied = 0
    for r in range(size):
        rd = r + 1 if r + 1 < size else 0
        for j in range(n_words):
            s = words[r, j]
            if j + 1 < n_words:
                right = words[r, j + 1]
            else:
                x = words[r, 0]
                right = ((x >> _SH1) | (x << np.uint64(width - 1))) & mask
            up_spins += popcount(s)
            unsatisfied += popcount(s ^ right) + popcount(s ^ words[rd, j])
    n_spins = size * size
    return 2 * n_spins - 2 * unsatisfied, 2 * up_spins - n_spins


# ------------------------------------------------------------------------------- tables
def _threshold(p: float) -> int:
    """``floor(p·2⁶⁴)`` for 0 <= p < 1 (exact: p·2⁶⁴ is a scaled double)."""
    return int(math.ldexp(p, 64))


def threshold_bits(probabilities: ArrayLike) -> np.ndarray:
    """``tb[m, i]`` = all ones where bit 63 - i of ``floor(p_m·2⁶⁴)`` is set; shape (K, 64)."""
    probabilities = np.atleast_1d(np.asarray(probabilities, dtype=np.float64))
    out = np.zeros((probabilities.size, 64), dtype=np.uint64)
    for m, p in enumerate(probabilities):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"A threshold probability must lie in [0, 1), got {p!r}.")
        t = _threshold(float(p))
        for i in range(64):
            if (t >> (63 - i)) & 1:
                out[m, i] = np.uint64(0xFFFFFFFFFFFFFFFF)
    return out


def metropolis_class_probabilities(beta: float, coupling: float, field: float) -> np.ndarray:
    """``p[c] = min(1, exp(-β ΔE))`` for the classes ``c = 2u + b`` (u unsatisfied bonds, b = 1
    for spin +1): ``ΔE = 2|J|(4 - 2u) + 2hs``; shape (10,)."""
    u = np.repeat(np.arange(5.0), 2)
    s = np.tile([-1.0, 1.0], 5)
    delta_e = 2.0 * abs(coupling) * (4.0 - 2.0 * u) + 2.0 * field * s
    return np.exp(np.minimum(0.0, -beta * delta_e))


def heatbath_class_probabilities(beta: float, coupling: float, field: float) -> np.ndarray:
    """``P[k] = 1 / (1 + exp(-2β(J(2k - 4) + h)))`` for k = 0..4 up neighbours; shape (5,)."""
    k = np.arange(5.0)
    return expit(2.0 * beta * (coupling * (2.0 * k - 4.0) + field))


class MultispinLattice:
    """A lattice held as packed words, with its sweeps and observables (module doc for all rules).

    ``algorithm`` is "metropolis" or "heatbath"; :meth:`set_parameters` builds the tables for
    (β, J, h). Metropolis at h = 0 and J != 0 runs the two-class kernel, everything else (h != 0,
    J = 0 or |J|/T below double precision's reach, heat bath) the general class kernel; both are
    exact.
    """

    def __init__(self, spins: np.ndarray, algorithm: str, width: int | None = None) -> None:
        if algorithm not in ("metropolis", "heatbath"):
            raise ValueError(f"Unknown multi-spin algorithm {algorithm!r}.")
        spins = np.ascontiguousarray(spins, dtype=np.int8)
        size = spins.shape[0]
        if spins.shape != (size, size):
            raise ValueError(f"The spins must be a square (L, L) array, got {spins.shape}.")
        self.size = size
        self.width = choose_width(size) if width is None else check_width(size, width)
        self.algorithm = algorithm
        self.colourable = is_colourable(size, self.width)
        self.words = pack_spins(spins, self.width)
        self._tables: tuple = ()

    @property
    def stride(self) -> int:
        """S = L / w, the column distance between the sites of one word."""
        return self.words.shape[1]

    def set_parameters(self, beta: float, coupling: float, field: float) -> None:
        """Precompute the thresholds and class lists for (β, J, h)."""
        invert = np.uint64(0xFFFFFFFFFFFFFFFF) if coupling < 0 else np.uint64(0)
        zero_field = self.algorithm == "metropolis" and field == 0.0 and coupling != 0.0
        if zero_field:
            p = metropolis_class_probabilities(beta, coupling, 0.0)
            # p4 ≥ p8; a |J|/T so small that p4 rounds to 1 (J = 1e-300) has no threshold:
            # the class kernel takes such moves as sure.
            if p[2] < 1.0:
                tb = threshold_bits([p[0], p[2]])  # u = 0 (p8) and u = 1 (p4)
                self._tables = ("zero-field", invert, tb[0].copy(), tb[1].copy())
                return
        heatbath = self.algorithm == "heatbath"
        if heatbath:
            p = heatbath_class_probabilities(beta, coupling, field)
        else:
            p = metropolis_class_probabilities(beta, coupling, field)
        ones = np.uint64(0xFFFFFFFFFFFFFFFF)
        sure = np.where(p >= 1.0, ones, np.uint64(0)).astype(np.uint64)
        random = (p > 0.0) & (p < 1.0)
        maybe = np.where(random, ones, np.uint64(0)).astype(np.uint64)
        tb = np.zeros((64, p.size), dtype=np.uint64)
        if random.any():
            tb[:, random] = threshold_bits(p[random]).T
        self._tables = ("classes", heatbath, invert, sure, maybe, np.ascontiguousarray(tb))

    def sweeps(self, n_sweeps: int, state: np.ndarray, parallel: bool | None = None) -> None:
        """Run n sweeps in place, advancing the xoshiro256** ``state``.

        ``parallel=None`` picks the parallel kernel for colourable lattices of at least
        :data:`PARALLEL_MIN_SPINS` spins when numba may use more than one thread
        (``numba.set_num_threads``); the result never depends on the choice.
        """
        if not self._tables:
            raise RuntimeError("set_parameters must be called before sweeps.")
        if n_sweeps <= 0:
            return
        if parallel is None:
            parallel = (
                self.colourable
                and self.size * self.size >= PARALLEL_MIN_SPINS
                and nb.get_num_threads() > 1
            )
        if parallel and not self.colourable:
            raise ValueError(
                f"The parallel kernel needs L and L/w even (L = {self.size}, w = {self.width})."
            )
        if parallel and _parallel_lock.acquire(blocking=False):
            try:
                self._run(n_sweeps, state, parallel=True)
            finally:
                _parallel_lock.release()
        else:
            self._run(n_sweeps, state, parallel=False)

    def _run(self, n: int, state: np.ndarray, parallel: bool) -> None:
        t = self._tables
        if t[0] == "zero-field":
            zero_field = metropolis_zero_field_sweeps
            if parallel:
                zero_field = metropolis_zero_field_sweeps_parallel
            zero_field(self.words, n, self.width, t[1], t[2], t[3], state)
        else:
            classes = class_sweeps_parallel if parallel else class_sweeps
            classes(self.words, n, self.width, t[1], t[2], t[3], t[4], t[5], state)

    def load(self, spins: np.ndarray) -> None:
        """Replace the state by an (L, L) int8 ±1 lattice (packed in place of the old words)."""
        self.words[...] = pack_spins(np.ascontiguousarray(spins, dtype=np.int8), self.width)

    def unpack_into(self, out: np.ndarray) -> None:
        """Write the lattice into an existing (L, L) int8 array."""
        unpack_into(self.words, self.width, out)

    def unpack(self) -> np.ndarray:
        """A new (L, L) int8 ±1 copy of the lattice."""
        out = np.empty((self.size, self.size), dtype=np.int8)
        unpack_into(self.words, self.width, out)
        return out

    def set_spin(self, row: int, col: int, value: int) -> None:
        """Set the spin at (row, col) to value (±1, validated by the caller)."""
        j, k = col % self.stride, col // self.stride
        bit = np.uint64(1) << np.uint64(k)
        if value > 0:
            self.words[row, j] |= bit
        else:
            self.words[row, j] &= ~bit

    def bond_sum_and_magnetization(self) -> tuple[int, int]:
        """``(B, M)`` computed from the words (popcounts, no unpacking)."""
        bonds, total = packed_bond_sum_and_magnetization(self.words, self.width)
        return int(bonds), int(total)
