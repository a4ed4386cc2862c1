"""Checkerboard Metropolis with torch tensors, on the CPU or a CUDA device ("metropolis-torch").

torch is imported inside the functions of this module, never at its import, so the rest of
:mod:`engines.ising` (and every command that only uses the numba kernels) never loads torch.

Update order
------------
One sweep is one flip attempt per spin with the semantics of ``"metropolis"``: all sites with
(r + c) even, then all sites with (r + c) odd, each seeing the current values of its neighbours.
For even L the sites of one colour do not interact, so each colour is one vectorized *stage*:
gather the colour's spins and neighbour sums, decide every flip at once, scatter back. For odd L
the colours touch across the seams, and the sequential (row-major) order of a colour is
reproduced exactly by three stages per colour: the sites off the last row and column, then
those of the last column and of the last row (which only depend on the first stage), then the
corner (L-1, L-1) (colour 0 only, which depends on both). Each stage is an independent set, so
every stage is a product of single-site Metropolis moves on non-interacting sites; with the same
per-site random numbers this chain *is* the sequential checkerboard chain, its deterministic
h = 0 cycles included (see :mod:`engines.ising.metropolis`).

Random numbers
--------------
Counter-based, so that the stream does not depend on the device, on torch's generators or on the
stage split: each half sweep draws one 64-bit key from the simulation's xoshiro256** state, and
site i = r·L + c gets ``z = splitmix64(key + (i + 1)·γ)`` (the splitmix64 output function, γ the
golden-ratio increment: site i reads the i-th output of the splitmix64 sequence seeded by the
key). ``U = z >> 2`` is uniform on 0 … 2⁶² − 1 and the flip is accepted when
``U < floor(p·2⁶²)`` with ``p = min(1, exp(-β ΔE))`` (p = 1 gives 2⁶², always accepted), so the
acceptance is exact to 2⁻⁶². All arithmetic is on int64 tensors, whose products wrap modulo 2⁶⁴
like uint64 (logical shifts are arithmetic shifts followed by a mask), so CPU and CUDA give the
same lattices bit for bit and a state saved on one device resumes on the other. One flip
decision uses one site's own number, so decisions are independent across sites and exact
detailed balance holds stage by stage.

The lattice lives as an (L, L) int8 tensor on the device. On the CPU it shares its memory with
the simulation's numpy array (no copies at all); on CUDA the simulation keeps a host mirror.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from engines.ising.jit import kernel
from engines.ising.rng import next_u64

if TYPE_CHECKING:
    import torch


UNIFORM_BITS = 62
_RANDOMS_PER_CHUNK = 1 << 20  # precompute the uniforms of several sweeps of a small lattice
#: Up to this many spins a stage gathers its neighbours through a precomputed (5, m) index (few
#: tensor operations, which is what costs on small lattices); above it, four rolls of the lattice
#: (no index memory, which is what costs on large ones). Both give the same sums.
GATHER_MAX_SPINS = 1 << 14


def _signed(x: int) -> int:
    """The int64 with the same 64 bits as the unsigned integer x."""
    return x - (1 << 64) if x >= 1 << 63 else x


_GAMMA = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)


def check_device(device: str) -> torch.device:
    """``torch.device(device)`` for "cpu" or an available "cuda[:k]"; ValueError otherwise.

    The rule (and the messages) of :func:`engines.rbm.config.check_device`, restated here so that
    the Ising engine does not depend on the RBM package.
    """
    import torch

    if not isinstance(device, str):
        raise ValueError(f"Unknown device {device!r}; use 'cpu' or 'cuda'.")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Unknown device {device!r}; use 'cpu' or 'cuda'.") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"Unknown device {device!r}; use 'cpu' or 'cuda'.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"Device {device!r} was asked for but CUDA is not available here.")
    return dev


def acceptance_thresholds(beta: float, coupling: float, field: float) -> np.ndarray:
    """int64 thresholds ``t[2n + s + 9] = floor(min(1, exp(-β·2s(Jn + h)))·2⁶²)`` (n = neighbour
    sum, s = spin; the other entries of the 19 are unused)."""
    out = np.zeros(19, dtype=np.int64)
    for s in (-1, 1):
        for n in range(-4, 5, 2):
            p = math.exp(min(0.0, -beta * 2.0 * s * (coupling * n + field)))
            out[2 * n + s + 9] = int(math.ldexp(p, UNIFORM_BITS))
    return out


def stage_sites(size: int) -> list[tuple[int, np.ndarray]]:
    """The stages of one sweep as (colour, flat site indices r·L + c), in order (module doc)."""
    r, c = np.indices((size, size))
    colour = (r + c) % 2
    flat = (r * size + c).reshape(-1)
    colour = colour.reshape(-1)
    if size % 2 == 0:
        return [(p, flat[colour == p]) for p in (0, 1)]
    last = size - 1
    r, c = r.reshape(-1), c.reshape(-1)
    inner = (r < last) & (c < last)
    edges = (r == last) ^ (c == last)
    corner = (r == last) & (c == last)
    stages = []
    for p in (0, 1):
        for part in (inner, edges, corner):
            sites = flat[part & (colour == p)]
            if sites.size:
                stages.append((p, sites))
    return stages


def _with_neighbours(sites: np.ndarray, size: int) -> np.ndarray:
    """A (5, m) int64 array: the flat sites, then their up, down, left and right neighbours."""
    r, c = np.divmod(sites, size)
    rows = [r, (r - 1) % size, (r + 1) % size, r, r]
    cols = [c, c, c, (c - 1) % size, (c + 1) % size]
    return np.stack([a * size + b for a, b in zip(rows, cols, strict=True)]).astype(np.int64)


@kernel
def draw_keys(state, count):
    """``count`` successive 64-bit outputs of the xoshiro256** ``state`` (advanced in place)."""
    out = np.empty(count, dtype=np.uint64)
    for k in range(count):
        out[k] = next_u64(state)
    return out


def _logical_shift_right(z: torch.Tensor, k: int) -> torch.Tensor:
    return (z >> k) & ((1 << (64 - k)) - 1)


def site_uniforms(keys: torch.Tensor | int, bases: torch.Tensor) -> torch.Tensor:
    """``splitmix64(key + base) >> 2`` elementwise: keys (T, n), (n,) or one int64 value, bases
    ``(i + 1)·γ`` (n,); int64 in, int64 uniforms on 0 … 2⁶² − 1 out."""
    z = keys + bases
    z ^= _logical_shift_right(z, 30)
    z *= _MIX1
    z ^= _logical_shift_right(z, 27)
    z *= _MIX2
    z ^= _logical_shift_right(z, 31)
    return _logical_shift_right(z, 64 - UNIFORM_BITS)


class TorchCheckerboard:
    """An (L, L) int8 lattice as a torch tensor on ``device`` with checkerboard Metropolis sweeps.

    On the CPU, ``spins`` (a C-contiguous int8 numpy array) *is* the storage: the tensor is a view
    of it (``shares_memory`` is True). On CUDA the tensor is a copy that :meth:`load` and
    :meth:`unpack_into` move across.
    """

    def __init__(self, spins: np.ndarray, device: str = "cpu") -> None:
        import torch

        self._torch = torch
        self.device = check_device(device)
        if spins.dtype != np.int8 or not spins.flags.c_contiguous:
            raise ValueError("The spins must be a C-contiguous int8 array.")
        self.size = spins.shape[0]
        self.shares_memory = self.device.type == "cpu"
        host = torch.from_numpy(spins)
        self.tensor = host if self.shares_memory else host.to(self.device)
        self._gather_neighbours = self.size * self.size <= GATHER_MAX_SPINS
        self._stages = []  # (index, start, stop): the stage's columns in the uniforms
        stages = stage_sites(self.size)
        start = 0
        for _, sites in stages:
            if self._gather_neighbours:
                index = torch.as_tensor(_with_neighbours(sites, self.size), device=self.device)
            else:
                index = torch.as_tensor(sites, dtype=torch.int64, device=self.device)
            self._stages.append((index, start, start + sites.size))
            start += sites.size
        # Every site once, in stage order: (i + 1)·γ, and (small lattices, whose uniforms are
        # computed for several sweeps at once) the colour that picks each site's key.
        self._parities = [p for p, _ in stages]
        order = np.concatenate([sites for _, sites in stages])
        self._bases = (torch.as_tensor(order, device=self.device) + 1) * _GAMMA
        self._chunk = max(1, _RANDOMS_PER_CHUNK // (self.size * self.size))
        self._colours = None
        if self._chunk > 1:
            colours = np.concatenate([np.full(sites.size, p) for p, sites in stages])
            self._colours = torch.as_tensor(colours, dtype=torch.int64, device=self.device)
        self._thresholds: torch.Tensor | None = None

    def set_parameters(self, beta: float, coupling: float, field: float) -> None:
        """Build the acceptance thresholds for (β, J, h) on the device."""
        table = acceptance_thresholds(beta, coupling, field)
        self._thresholds = self._torch.as_tensor(table, device=self.device)

    def sweeps(self, n_sweeps: int, state: np.ndarray) -> None:
        """Run n sweeps in place, advancing the xoshiro256** ``state`` by two outputs per sweep.

        For small lattices the uniforms of several sweeps are computed in one go (the same
        numbers, fewer tensor operations).
        """
        if self._thresholds is None:
            raise RuntimeError("set_parameters must be called before sweeps.")
        torch = self._torch
        done = 0
        with torch.no_grad():
            while done < n_sweeps:
                count = min(self._chunk, n_sweeps - done)
                keys = draw_keys(state, 2 * count).view(np.int64).reshape(count, 2)
                if self._colours is None:  # one sweep, each stage's uniforms just before it
                    for parity, (index, start, stop) in zip(
                        self._parities, self._stages, strict=True
                    ):
                        key = int(keys[0, parity])
                        self._stage(index, site_uniforms(key, self._bases[start:stop]))
                else:
                    keys_t = torch.as_tensor(keys, device=self.device)
                    uniforms = site_uniforms(keys_t[:, self._colours], self._bases)
                    for t in range(count):
                        for index, start, stop in self._stages:
                            self._stage(index, uniforms[t, start:stop])
                done += count

    def _stage(self, index: torch.Tensor, uniforms: torch.Tensor) -> None:
        """Flip the sites of one stage at once (they do not interact)."""
        thresholds = self._thresholds
        assert thresholds is not None, "sweeps checks that set_parameters was called"
        torch = self._torch
        spins = self.tensor
        flat = spins.view(-1)
        if self._gather_neighbours:  # index rows: the sites, then their four neighbours
            values = flat[index]
            s = values[0]
            code = values[1:].sum(0) * 2 + s + 9
            index = index[0]
        else:
            neighbours = (
                torch.roll(spins, 1, 0)
                + torch.roll(spins, -1, 0)
                + torch.roll(spins, 1, 1)
                + torch.roll(spins, -1, 1)
            )
            s = flat[index]
            code = (neighbours.view(-1)[index] * 2 + s + 9).long()
        accept = uniforms < thresholds[code]
        flat[index] = torch.where(accept, -s, s)

    # ---------------------------------------------------------------- host transfer, observables
    def load(self, spins: np.ndarray) -> None:
        """Copy an (L, L) int8 host lattice into the tensor."""
        if not self.shares_memory:
            self.tensor.copy_(self._torch.from_numpy(np.ascontiguousarray(spins)))

    def unpack_into(self, out: np.ndarray) -> None:
        """Copy the lattice into an (L, L) int8 host array."""
        if not self.shares_memory:
            out[...] = self.tensor.cpu().numpy()

    def unpack(self) -> np.ndarray:
        """A new (L, L) int8 host copy of the lattice."""
        return self.tensor.cpu().numpy().copy()

    def set_spin(self, row: int, col: int, value: int) -> None:
        """Set one spin (validated by the caller)."""
        self.tensor[row, col] = value

    def bond_sum_and_magnetization(self) -> tuple[int, int]:
        """``(B, M)`` computed on the device."""
        torch = self._torch
        s = self.tensor.to(torch.int32)
        bonds = (s * torch.roll(s, -1, 0)).sum() + (s * torch.roll(s, -1, 1)).sum()
        return int(bonds), int(s.sum())
