"""Exact results by brute-force enumeration of every state of a small L x L torus.

Conventions: H = -J sum_<ij> s_i s_j - h sum_i s_i, the bond sum running over the 2N bonds
sum_{r,c} s[r,c] (s[r,c+1] + s[r+1,c]) with periodic wrap (N = L^2; on the 2 x 2 torus each
neighbour pair is joined by two bonds, as in Kaufman's formula), k_B = 1.

State encoding (other engines rely on it): a state of the L x L lattice is the integer
``x`` in [0, 2^N) whose bit ``r*L + c`` is 1 when ``spin[r, c] = +1`` and 0 when it is -1.
``enumerate_states(L)[x]`` is the lattice of state ``x``, ``state_energies(L)[x]`` its energy.

Thermodynamics go through the exact integer density of states g(u, n): the number of states
with u unsatisfied bonds (s_i s_j = -1) and n up spins, counted once per L by a numba kernel
over all 2^N states (2^25 for L = 5, about a second) and cached. Bond sum B = 2N - 2u and
magnetization M = 2n - N give every observable at any T, J and h as a small weighted sum.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from engines.exact import _common
from engines.kernel_cache import cached_kernel

_MAX_L_STATES = 4  # 2^16 lattices in memory
_MAX_L_COUNT = 5  # 2^25 states counted


@cached_kernel(nogil=True, inline="always")
def _popcount(x: int) -> int:
    """Number of set bits of a non-negative integer below 2^32."""
    x = x - ((x >> 1) & 0x55555555)
    x = (x & 0x33333333) + ((x >> 2) & 0x33333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F
    return ((x * 0x01010101) & 0xFFFFFFFF) >> 24


@cached_kernel(nogil=True, inline="always")
def _unsatisfied_and_up(x: int, L: int, last_col: int, full: int):
    """(unsatisfied bonds, up spins) of state ``x``, using whole-lattice bit shifts."""
    N = L * L
    right = ((x >> 1) & ~last_col) | ((x << (L - 1)) & last_col)  # bit (r,c) <- (r,c+1)
    down = ((x >> L) | (x << (N - L))) & full  # bit (r,c) <- (r+1,c)
    return _popcount(x ^ right) + _popcount(x ^ down), _popcount(x)


def _masks(L: int) -> tuple[int, int]:
    """Bit mask of the last column and of all N bits."""
    last_col = sum(1 << (r * L + L - 1) for r in range(L))
    return last_col, (1 << (L * L)) - 1


@cached_kernel(nogil=True)
def _count_states(L: int, last_col: int, full: int) -> np.ndarray:
    N = L * L
    g = np.zeros((2 * N + 1, N + 1), dtype=np.int64)
    for x in range(1 << N):
        u, n = _unsatisfied_and_up(x, L, last_col, full)
        g[u, n] += 1
    return g


@cached_kernel(nogil=True)
def _per_state(L: int, last_col: int, full: int):
    N = L * L
    bonds = np.empty(1 << N, dtype=np.int64)
    magnet = np.empty(1 << N, dtype=np.int64)
    for x in range(1 << N):
        u, n = _unsatisfied_and_up(x, L, last_col, full)
        bonds[x] = 2 * N - 2 * u
        magnet[x] = 2 * n - N
    return bonds, magnet


@cache
def density_of_states(L: int) -> np.ndarray:
    """Exact g[u, n]: number of states with u unsatisfied bonds and n up spins (read-only)."""
    L = _common.lattice_size(L, 2, _MAX_L_COUNT, "enumeration")
    g = _count_states(L, *_masks(L))
    g.setflags(write=False)
    return g


def enumerate_states(L: int) -> np.ndarray:
    """All 2^N lattices, int8 array of shape (2^N, L, L), state x at index x (see encoding)."""
    L = _common.lattice_size(L, 2, _MAX_L_STATES, "enumerate_states")
    N = L * L
    x = np.arange(1 << N, dtype=np.int64)[:, None]
    bits = (x >> np.arange(N)) & 1
    return (2 * bits - 1).astype(np.int8).reshape(1 << N, L, L)


def state_energies(L: int, J: float = 1.0, h: float = 0.0) -> np.ndarray:
    """Total energy H of every state, float64 array of length 2^N indexed by the state integer.

    For L = 5 this is 2^25 values (256 MiB).
    """
    L = _common.lattice_size(L, 2, _MAX_L_COUNT, "state_energies")
    J = _common.coupling(J, ferromagnetic=False)
    h = _common.field(h)
    bonds, magnet = _per_state(L, *_masks(L))
    return -J * bonds.astype(float) - h * magnet.astype(float)


def boltzmann_probabilities(L: int, T, J: float = 1.0, h: float = 0.0) -> np.ndarray:
    """Boltzmann probability of every state: shape (2^N,) for scalar T, (len(T), 2^N) otherwise."""
    L = _common.lattice_size(L, 2, _MAX_L_STATES, "boltzmann_probabilities")
    T_arr, scalar = _common.temperatures(T)
    energies = state_energies(L, J, h)
    log_w = -energies[None, :] / T_arr[:, None]
    log_w -= log_w.max(axis=1, keepdims=True)
    p = np.exp(log_w)
    p /= p.sum(axis=1, keepdims=True)
    return _common.shaped(p, scalar)


def _weights(L: int, T_arr: np.ndarray, J: float, h: float):
    """Normalised probabilities of the occupied (u, n) classes and their H, M; plus ln Z."""
    g = density_of_states(L)
    N = L * L
    u, n = np.nonzero(g)
    energy = -J * (2 * N - 2 * u) - h * (2 * n - N)
    log_w = np.log(g[u, n])[None, :] - energy[None, :] / T_arr[:, None]
    top = log_w.max(axis=1, keepdims=True)
    w = np.exp(log_w - top)
    total = w.sum(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(total[:, 0])
    return w / total, energy.astype(float), (2 * n - N).astype(float), log_z


def enumerate_log_z(L: int, T, J: float = 1.0, h: float = 0.0):
    """Exact ln Z of the L x L torus by enumeration (L <= 5)."""
    L = _common.lattice_size(L, 2, _MAX_L_COUNT, "enumerate_log_z")
    T_arr, scalar = _common.temperatures(T)
    J = _common.coupling(J, ferromagnetic=False)
    h = _common.field(h)
    return _common.shaped(_weights(L, T_arr, J, h)[3], scalar)


def enumerate_observables(L: int, T, J: float = 1.0, h: float = 0.0) -> dict:
    """Exact per-spin observables of the L x L torus by enumeration (L <= 5).

    Keys: ``e`` = <H>/N, ``c`` = Var(H)/(N T^2), ``abs_m`` = <|m|>, ``m2`` = <m^2>,
    ``m4`` = <m^4>, ``binder`` = 1 - <m^4>/(3 <m^2>^2), ``chi`` = N(<m^2> - <|m|>^2)/T,
    ``log_z`` = ln Z. Values are floats for scalar T, arrays over T otherwise.
    """
    L = _common.lattice_size(L, 2, _MAX_L_COUNT, "enumerate_observables")
    T_arr, scalar = _common.temperatures(T)
    J = _common.coupling(J, ferromagnetic=False)
    h = _common.field(h)
    N = L * L
    p, energy, magnet, log_z = _weights(L, T_arr, J, h)
    mean_e = p @ energy
    var_e = (p * (energy[None, :] - mean_e[:, None]) ** 2).sum(axis=1)
    # Collapse the (u, n) classes onto the magnetization values M = -N, -N+2, ..., N.
    P_M = np.zeros((len(T_arr), N + 1))
    np.add.at(P_M.T, ((magnet + N) // 2).astype(int), p.T)
    M = np.arange(-N, N + 1, 2, dtype=float)
    out = {"e": mean_e / N, "c": var_e / (N * T_arr**2)}
    out.update(_common.magnetization_moments_from(M, P_M, T_arr, N))
    out["log_z"] = log_z
    return {key: _common.shaped(value, scalar) for key, value in out.items()}
