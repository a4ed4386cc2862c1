"""Observables of Ising configurations and their statistical summary with error bars.

Per-spin conventions (N = L²): ``e = H/N`` with ``H = -J Σ_<ij> s_i s_j - h Σ s_i`` over the 2N
bonds of the torus, ``m = Σ s_i / N``. From a series of (e, m) samples at temperature T:

* specific heat per spin ``c = N (⟨e²⟩ - ⟨e⟩²) / T²``
* susceptibility per spin ``χ = N (⟨m²⟩ - ⟨|m|⟩²) / T`` (the finite-lattice form using |m|, since
  ⟨m⟩ = 0 by symmetry at h = 0 for any finite L)
* Binder cumulant ``U4 = 1 - ⟨m⁴⟩ / (3 ⟨m²⟩²)``

Means carry the error ``sqrt(2 τ_int σ²/n)``; c, χ and U4 carry blocked-jackknife errors (rule in
:mod:`engines.ising.autocorrelation`).

The correlation function is computed frame by frame on the bit-packed configuration and its
transpose (the words of :mod:`engines.ising.multispin`): for every distance r along each axis,
``Σ_i s_i s_{i+r}`` is N minus twice the number of differing pairs, a popcount of XORed words r
rows apart, so a frame costs ``O(N · L / 64)`` word operations (about 20 ms at L = 2048) and no
temporary larger than one frame; the sums are exact integers, those of the direct double loop.
:class:`CorrelationSeries` takes the frames in blocks (e.g. chunk by chunk from a file), so a long
run never needs all its configurations in memory at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic

from engines.ising.autocorrelation import (
    Estimate,
    block_jackknife,
    error_tau,
    mean_with_error,
)
from engines.ising.jit import kernel
from engines.ising.lattice import bond_sums_and_magnetizations
from engines.ising.multispin import choose_width, pack_spins, unpack_spins

BLOCK_BYTES = 1 << 24
"""Configurations are checked and converted this many bytes at a time (16 MiB), so that no
temporary scales with the number of samples."""


@kernel
def all_spins(values):
    """True if every entry of an int8 array (any shape, C-contiguous) is +1 or -1, checked in
    place (no temporaries): ``(v + 1) mod 256`` is 0 or 2 exactly for v = ±1."""
    flat = values.reshape(-1)
    bad = np.uint8(0)
    for i in range(flat.size):
        bad |= np.uint8(flat[i] + 1) & np.uint8(0xFD)
    return bad == 0


def _check_shape(samples: np.ndarray) -> None:
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2] or samples.shape[1] < 2:
        raise ValueError(f"Samples must have shape (n, L, L) with L >= 2, got {samples.shape}.")


def _as_samples(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    _check_shape(samples)
    if samples.dtype == np.int8:
        samples = np.ascontiguousarray(samples)  # no copy when it already is
        valid = all_spins(samples)  # no temporary of the samples' size
    else:
        valid = bool(np.all(np.abs(samples) == 1))
    if not valid:
        raise ValueError("Samples must contain only spins +1 and -1.")
    return np.ascontiguousarray(samples, dtype=np.int8)


@intrinsic
def _ctpop64(typingctx, x):
    """LLVM's ``ctpop`` of a uint64 (see :data:`popcount64`)."""
    signature = types.uint64(types.uint64)

    def codegen(context, builder, sig, args):
        function = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(function, args)

    return signature, codegen


popcount64 = cast(Callable[[np.uint64], np.uint64], _ctpop64)
"""The number of set bits of a uint64 inside a kernel, as LLVM's ``ctpop`` (one popcnt
instruction; about 3× faster in these loops than the portable bit-twiddling count). Callable
only from compiled code; typed here as what it computes (numba's stub types an intrinsic by its
typing function, whose ``typingctx`` argument the kernels do not pass)."""


@kernel
def _differing_pairs(first, second):
    """Σ_i popcount(first[i] ^ second[i]) over two equal-length word arrays (four independent
    sums, so that the popcounts pipeline)."""
    d0 = d1 = d2 = d3 = np.uint64(0)
    n = first.size
    i = 0
    while i + 4 <= n:
        d0 += popcount64(first[i] ^ second[i])
        d1 += popcount64(first[i + 1] ^ second[i + 1])
        d2 += popcount64(first[i + 2] ^ second[i + 2])
        d3 += popcount64(first[i + 3] ^ second[i + 3])
        i += 4
    while i < n:
        d0 += popcount64(first[i] ^ second[i])
        i += 1
    return d0 + d1 + d2 + d3


@kernel
def _differing_rows(flat, offset):
    """Σ_i popcount(flat[i] ^ flat[(i + offset) mod n]) over the words of a lattice flattened
    row by row: with ``offset = r · S`` (S words per row), the number of site pairs at distance r
    along the rows' axis (ŷ) whose spins differ."""
    n = flat.size
    return _differing_pairs(flat[: n - offset], flat[offset:]) + _differing_pairs(
        flat[n - offset :], flat[:offset]
    )


@kernel
def packed_axis_correlations(words, transposed, r_max, out):
    """``out[r] = Σ_i s_i (s_{i+r x̂} + s_{i+r ŷ})`` (an exact integer) for r = 0..r_max, from
    the packed words of one configuration and of its transpose (layout of
    :mod:`engines.ising.multispin`, any word width); returns the magnetization ``M = Σ_i s_i``.

    A pair at distance r along ŷ sits at the same bit of words r rows apart, whatever the layout;
    the pairs along x̂ are those along ŷ of the transpose. ``Σ_i s_i s_{i+r}`` over one axis is N
    minus twice the number of differing pairs.
    """
    size, n_words = words.shape
    n_spins = size * size
    flat, flat_t = words.reshape(-1), transposed.reshape(-1)
    up = np.uint64(0)
    for i in range(flat.size):
        up += popcount64(flat[i])
    for r in range(r_max + 1):
        differ = _differing_rows(flat, r * n_words) + _differing_rows(flat_t, r * n_words)
        out[r] = 2 * n_spins - 2 * np.int64(differ)
    return 2 * np.int64(up) - n_spins


@kernel
def _transposed(spins):
    """A C-contiguous transposed copy of an (L, L) array, copied in 32 × 32 tiles (a plain
    strided copy misses the cache on every write)."""
    size = spins.shape[0]
    out = np.empty_like(spins)
    tile = 32
    for r0 in range(0, size, tile):
        r1 = min(r0 + tile, size)
        for c0 in range(0, size, tile):
            c1 = min(c0 + tile, size)
            for r in range(r0, r1):
                for c in range(c0, c1):
                    out[c, r] = spins[r, c]
    return out


@kernel
def pack_transposed(spins, width):
    """The packed words (layout of :mod:`engines.ising.multispin`) of the transpose of an (L, L)
    int8 ±1 lattice."""
    return pack_spins(_transposed(spins), width)


@kernel
def frame_axis_correlations(samples, width, r_max, sums, totals):
    """:func:`packed_axis_correlations` of each (L, L) frame of an int8 block, packed (with its
    transpose) one at a time: ``sums[k]`` and ``totals[k]`` for frame k."""
    for k in range(samples.shape[0]):
        frame = samples[k]
        words = pack_spins(frame, width)
        transposed = pack_transposed(frame, width)
        totals[k] = packed_axis_correlations(words, transposed, r_max, sums[k])


def energies_per_spin(samples: np.ndarray, J: float = 1.0, h: float = 0.0) -> np.ndarray:
    """e = H/N for each configuration of an (n, L, L) array of ±1; returns float64 (n,)."""
    samples = _as_samples(samples)
    bonds, totals = bond_sums_and_magnetizations(samples)
    n_spins = samples.shape[1] * samples.shape[2]
    return (-J * bonds - h * totals) / n_spins


def magnetizations_per_spin(samples: np.ndarray) -> np.ndarray:
    """m = Σ s_i / N for each configuration of an (n, L, L) array of ±1; returns float64 (n,)."""
    samples = _as_samples(samples)
    return samples.sum(axis=(1, 2), dtype=np.int64) / (samples.shape[1] * samples.shape[2])


class CorrelationSeries:
    """The per-configuration series behind :func:`correlation_function`, fed block by block.

    :meth:`add` takes (n, L, L) int8 blocks of configurations in time order, :meth:`add_packed`
    one packed configuration (``IsingSimulation.packed_spins()``); each configuration adds one
    row ``G(0..L//2)`` and one ``|m|``, so memory grows by ``L/2 + 2`` doubles per configuration
    whatever L. :meth:`result` is the connected C(r) with its errors.
    """

    def __init__(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 2:
            raise ValueError(f"The lattice size must be an integer >= 2, got {size!r}.")
        self.size = int(size)
        self.r_max = self.size // 2
        self.width = choose_width(self.size)
        self._norm = 1.0 / (2.0 * self.size * self.size)
        self._rows: list[np.ndarray] = []  # blocks of G rows, (n_k, r_max + 1)
        self._abs_m: list[np.ndarray] = []  # blocks of |m|, (n_k,)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows)

    def add(self, samples: np.ndarray) -> None:
        """Append the configurations of an (n, L, L) block of ±1 (ValueError otherwise)."""
        samples = np.asarray(samples)
        _check_shape(samples)
        if samples.shape[1] != self.size:
            raise ValueError(
                f"Samples of L = {samples.shape[1]} added to a series of L = {self.size}."
            )
        per_block = max(1, BLOCK_BYTES // (self.size * self.size))
        for start in range(0, samples.shape[0], per_block):
            block = _as_samples(samples[start : start + per_block])
            sums = np.empty((block.shape[0], self.r_max + 1), dtype=np.int64)
            totals = np.empty(block.shape[0], dtype=np.int64)
            frame_axis_correlations(block, self.width, self.r_max, sums, totals)
            self._append(sums, totals)

    def add_packed(self, words: np.ndarray, width: int) -> None:
        """Append one configuration given as packed words of shape (L, L / width)."""
        words = np.ascontiguousarray(words, dtype=np.uint64)
        if words.shape != (self.size, self.size // width) or width * words.shape[1] != self.size:
            raise ValueError(
                f"Packed words of shape {words.shape} (w = {width}) do not hold "
                f"an L = {self.size} lattice."
            )
        transposed = pack_transposed(unpack_spins(words, width), width)
        sums = np.empty((1, self.r_max + 1), dtype=np.int64)
        total = packed_axis_correlations(words, transposed, self.r_max, sums[0])
        self._append(sums, np.array([total], dtype=np.int64))

    def _append(self, sums: np.ndarray, totals: np.ndarray) -> None:
        self._rows.append(sums * self._norm)
        self._abs_m.append(np.abs(totals) / (self.size * self.size))

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(r, C, error)`` as :func:`correlation_function` defines them (>= 2 configurations)."""
        if len(self) < 2:
            raise ValueError("The correlation function needs at least 2 samples.")
        data = np.column_stack([np.concatenate(self._rows), np.concatenate(self._abs_m)])
        tau = max(error_tau(column) for column in data.T)
        value, error = block_jackknife(data, lambda mu: mu[..., :-1] - mu[..., -1:] ** 2, tau)
        return np.arange(self.r_max + 1), value, error


def correlation_function(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connected spin correlation ``C(r) = G(r) - ⟨|m|⟩²`` for r = 0..L//2; returns (r, C, error).

    ``G(r) = ⟨(1/2N) Σ_i s_i (s_{i+r x̂} + s_{i+r ŷ})⟩``: the pair correlation at distance r along
    the lattice axes, averaged over all sites and both axes (and over the samples). Subtracting
    ⟨|m|⟩² rather than ⟨m⟩² (which is 0 on a finite lattice at h = 0) removes the ordered part
    below T_c, so C decays with r in both phases; note C(0) = 1 - ⟨|m|⟩². The samples are taken
    as a time series (in order); errors are a blocked jackknife whose block length uses the
    largest τ_int among the series G(r) and |m|. At least 2 samples are needed. The samples are
    read frame by frame (:class:`CorrelationSeries`): no temporary of their size is made.
    """
    samples = np.asarray(samples)
    _check_shape(samples)
    if samples.shape[0] < 2:
        raise ValueError("The correlation function needs at least 2 samples.")
    series = CorrelationSeries(samples.shape[1])
    series.add(samples)
    return series.result()


def summarize(
    energies: np.ndarray, magnetizations: np.ndarray, temperature: float, n_spins: int
) -> dict[str, Estimate]:
    """Estimates of e, m, |m|, m², m⁴, c, χ and U4 (keys "e", "m", "abs_m", "m2", "m4", "c",
    "chi", "binder") from per-spin series sampled in time order at temperature T on N spins."""
    e = np.asarray(energies, dtype=np.float64)
    m = np.asarray(magnetizations, dtype=np.float64)
    if e.ndim != 1 or e.shape != m.shape or e.size < 2:
        raise ValueError("energies and magnetizations must be 1-D series of equal length >= 2.")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"The temperature must be a finite number > 0, got {temperature!r}.")
    if n_spins < 1:
        raise ValueError(f"n_spins must be a positive integer, got {n_spins!r}.")
    abs_m, m2 = np.abs(m), m * m
    m4 = m2 * m2
    out = {
        "e": mean_with_error(e),
        "m": mean_with_error(m),
        "abs_m": mean_with_error(abs_m),
        "m2": mean_with_error(m2),
        "m4": mean_with_error(m4),
    }

    def derived(columns: list[np.ndarray], func) -> Estimate:
        tau = max(error_tau(x) for x in columns)
        value, error = block_jackknife(np.column_stack(columns), func, tau)
        return Estimate(float(value), float(error), tau)

    T = float(temperature)
    out["c"] = derived([e, e * e], lambda mu: n_spins * (mu[..., 1] - mu[..., 0] ** 2) / T**2)
    out["chi"] = derived([m2, abs_m], lambda mu: n_spins * (mu[..., 0] - mu[..., 1] ** 2) / T)
    out["binder"] = derived([m2, m4], _binder)
    return out


def _binder(mu: np.ndarray) -> np.ndarray:
    """U4 = 1 - <m⁴>/(3<m²>²) from the means (<m²>, <m⁴>); NaN, quietly, where <m²> = 0 (a
    lattice frozen in its Néel states, an antiferromagnet at low T: 0/0, undefined)."""
    m2, m4 = mu[..., 0], mu[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m2 > 0.0, 1.0 - m4 / (3.0 * m2**2), np.nan)
