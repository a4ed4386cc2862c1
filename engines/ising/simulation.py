"""The 2D Ising Monte Carlo simulation: parameters, state, sweeps, serialization.

Model: ``H = -J Σ_<ij> s_i s_j - h Σ_i s_i`` on an L×L periodic square lattice (2N bonds, N = L²),
spins int8 ±1, k_B = 1, so T is in units of J/k_B when J = 1.

What one *sweep* means for each algorithm (the time unit of every series and of τ_int):

* ``"metropolis"`` / ``"heatbath"``: one update attempt per spin, checkerboard order.
* ``"metropolis-msc"`` / ``"heatbath-msc"``: the same single-spin moves, multi-spin coded (64
  spins per uint64 word, bit-parallel acceptance, rows of a colour in parallel; see
  :mod:`engines.ising.multispin`): one update attempt per spin, checkerboard order for even L.
  They are separate names because their random stream differs from the scalar kernels'.
* ``"metropolis-torch"`` (in :data:`TORCH_ALGORITHMS`): checkerboard Metropolis with torch
  tensors on ``IsingParams.device`` ("cpu" or "cuda[:k]"), the visiting semantics of
  ``"metropolis"`` with a counter-based stream that is the same on every device (see
  :mod:`engines.ising.torch_checkerboard`); torch is imported only when it is used.
* ``"wolff"``: a number of single-cluster updates fixed in advance, ``cluster_updates_per_sweep =
  max(1, round(N / ⟨C⟩))`` with ⟨C⟩ the mean Wolff cluster size measured by :meth:`thermalize`, so a
  sweep flips about N spins on average. A sweep never stops early when N spins have been flipped:
  a trajectory-dependent stopping rule would bias the observables measured between sweeps.
* ``"swendsen-wang"``: one SW update (every spin's cluster is resampled once). This is the natural
  unit of SW, whose cost is one pass over all bonds whatever the cluster sizes.

Wolff calibration (:meth:`thermalize` with n sweeps): first, Wolff updates until the summed cluster
size reaches ``ceil(n/2)·N`` (equilibration; ⟨C⟩ estimated from the updates started in its second
half), which gives a provisional count; then ``floor(n/2)`` sweeps of that fixed count, whose mean
cluster size gives the final ``cluster_updates_per_sweep`` (``thermalize(0)`` does nothing).
The calibration belongs to the current (T, h): when :meth:`sweep` is called before any
calibration, or after the temperature or field has changed since the last one, it first runs
``thermalize(AUTO_CALIBRATION_SWEEPS)`` (10 sweeps' worth: Wolff updates until 5N spins have been
in clusters, then 5 fixed-count sweeps); those 10 sweeps are counted in
:attr:`IsingSimulation.sweeps` like any thermalization.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from engines.constraints import is_integer
from engines.ising.clusters import (
    bond_probability,
    swendsen_wang_sweeps,
    wolff_until,
    wolff_updates,
)
from engines.ising.heatbath import heatbath_sweeps, up_probability_table
from engines.ising.lattice import bond_sum_and_magnetization, random_spins
from engines.ising.metropolis import acceptance_table, metropolis_sweeps
from engines.ising.multispin import MultispinLattice, choose_width, pack_spins
from engines.ising.params import ALGORITHMS as ALGORITHMS  # re-exported: the names live here too
from engines.ising.params import ALL_ALGORITHMS as ALL_ALGORITHMS
from engines.ising.params import (
    PACKED_ALGORITHMS,
    TORCH_ALGORITHMS,
    IsingParams,
    _check_count,
    _check_field,
    _check_temperature,
)
from engines.ising.rng import check_state, seed_state

if TYPE_CHECKING:  # imported where metropolis-torch runs only (it loads torch)
    from engines.ising.torch_checkerboard import TorchCheckerboard

INITIAL_STATES: tuple[str, ...] = ("random", "up", "down")
AUTO_CALIBRATION_SWEEPS = 10
STATE_FORMAT = "monge-lab/ising-simulation"
STATE_VERSION = 1


class IsingSimulation:
    """A Markov chain on the L×L Ising model with explicit, serializable state.

    The kernels run in numba with the GIL released, so sweeps can run in a worker thread. The
    generator state (xoshiro256**, ``uint64[4]``) is owned here and advanced in place by every
    kernel, so equal seeds give equal trajectories and :meth:`state_dict` resumes bit-for-bit.

    For the multi-spin algorithms (and "metropolis-torch" on CUDA) the state lives in packed
    words (on the device); :attr:`spins` is then an int8 *mirror* with the same semantics as the
    live lattice of the other algorithms, at a price: once it has been handed out, the mirror
    is what energies, magnetizations and state dictionaries read (so writes into it count at
    once), each sweep call packs it back first and unpacks into it afterwards (so references
    to it stay current): two O(N) passes per call. Code that only reads the lattice now and
    then should use :meth:`spins_copy` or :meth:`packed_spins`, which hand nothing out.
    """

    # The lattice state, set by _attach_lattice (from __init__ and from_state).
    _lattice: MultispinLattice | TorchCheckerboard | None  # the packed words or the torch tensor
    _mirrored: bool  # _spins is a mirror of _lattice (not the storage itself)
    _mirror_stale: bool  # the lattice has moved on since the mirror was last unpacked
    _mirror_exposed: bool  # the mirror has been handed out by :attr:`spins`

    def __init__(self, params: IsingParams, initial: str = "random") -> None:
        params.validate()
        if initial not in INITIAL_STATES:
            raise ValueError(
                f"Unknown initial state {initial!r}; valid ones are {', '.join(INITIAL_STATES)}."
            )
        self._params = params
        self._rng = seed_state(params.seed)
        L = params.size
        if initial == "random":
            self._spins = random_spins(L, self._rng)
        else:
            self._spins = np.full((L, L), 1 if initial == "up" else -1, dtype=np.int8)
        self._sweeps = 0
        self._updates_per_sweep = 1 if params.algorithm == "swendsen-wang" else 0
        self._calibrated_for: tuple[float, float] | None = None
        self._cluster_size_sum = 0
        self._cluster_count = 0
        self._attach_lattice()
        self._update_tables()

    # ----------------------------------------------------------------------------- properties
    @property
    def params(self) -> IsingParams:
        """Current parameters (T and h follow :meth:`set_temperature` and :meth:`set_field`)."""
        return self._params

    @property
    def spins(self) -> np.ndarray:
        """The live (L, L) int8 lattice; copy it to keep a snapshot (class doc for the mirror)."""
        if self._mirrored:
            if self._mirror_stale:
                self._mirror_source().unpack_into(self._spins)
                self._mirror_stale = False
            self._mirror_exposed = True
        return self._spins

    def spins_copy(self) -> np.ndarray:
        """A new (L, L) int8 copy of the lattice, without handing out the live array."""
        if self._mirrored and self._mirror_stale:
            return self._mirror_source().unpack()
        return self._spins.copy()

    @property
    def packed_width(self) -> int:
        """Bits per word w of :meth:`packed_spins` (L = w·S; see :mod:`engines.ising.multispin`)."""
        if isinstance(self._lattice, MultispinLattice):
            return self._lattice.width
        return choose_width(self._params.size)

    def packed_spins(self) -> np.ndarray:
        """The lattice as uint64 words of shape (L, S), S = L / :attr:`packed_width`.

        Bit k of word [r, j] is the spin at (r, j + k·S), 1 for +1 (layout of
        :mod:`engines.ising.multispin`; :func:`engines.ising.multispin.unpack_spins` inverts it).
        For the multi-spin algorithms this is a read-only *view* of the live state (no copy; it
        changes with every sweep); for the others a packed copy in the same layout.
        """
        if isinstance(self._lattice, MultispinLattice):
            self._sync_in()
            view = self._lattice.words.view()
            view.flags.writeable = False
            return view
        return pack_spins(self.spins_copy(), self.packed_width)

    @property
    def sweeps(self) -> int:
        """Total sweeps done, thermalization (including automatic Wolff calibration) included."""
        return self._sweeps

    @property
    def n_spins(self) -> int:
        """N = L²."""
        return self._params.size**2

    @property
    def cluster_updates_per_sweep(self) -> int | None:
        """Wolff: calibrated updates per sweep (None before calibration); SW: 1; local: None."""
        return self._updates_per_sweep or None

    @property
    def mean_cluster_size(self) -> float | None:
        """Mean cluster size since the last calibration or parameter change; None if unknown.

        Wolff: mean size of the grown clusters (a cluster-size-weighted average, since the seed site
        is uniform). Swendsen–Wang: N / (mean number of clusters per update), the plain average over
        clusters. Local algorithms: None.
        """
        if self._cluster_count == 0:
            return None
        return self._cluster_size_sum / self._cluster_count

    # ------------------------------------------------------------------------------- setters
    def set_temperature(self, T: float) -> None:
        """Change T (validated); tables are rebuilt and a Wolff calibration becomes stale."""
        _check_temperature(T)
        self._params = dataclasses.replace(self._params, temperature=float(T))
        self._parameters_changed()

    def set_field(self, h: float) -> None:
        """Change h (validated); tables are rebuilt and a Wolff calibration becomes stale."""
        _check_field(h)
        self._params = dataclasses.replace(self._params, field=float(h))
        self._parameters_changed()

    def set_spin(self, row: int, col: int, value: int) -> None:
        """Set one spin (painting): 0 <= row, col < L and value in {+1, -1}."""
        L = self._params.size
        for name, index in (("row", row), ("col", col)):
            if not is_integer(index) or not 0 <= index < L:
                raise ValueError(f"The {name} index must be an integer in [0, {L}), got {index!r}.")
        if not is_integer(value) or value not in (1, -1):
            raise ValueError(f"A spin value must be +1 or -1, got {value!r}.")
        if self._mirrored:
            self._mirror_source().set_spin(row, col, value)
            if self._mirror_stale:
                return
        self._spins[row, col] = value

    # -------------------------------------------------------------------------------- running
    def thermalize(self, n_sweeps: int, accumulate: bool = False) -> None:
        """Run n sweeps to equilibrate; Wolff also (re)calibrates its sweep length (see module).

        With ``accumulate=True`` and a Wolff run already calibrated for the current T and h, the
        n sweeps use the current sweep length and their clusters are *added* to the calibration
        statistics, so a thermalization done in many short calls (as the GUI does, to stay
        responsive) calibrates on all of them rather than on the last one.
        """
        _check_count("The number of thermalization sweeps", n_sweeps)
        if self._params.algorithm != "wolff" or n_sweeps == 0:
            self._advance(n_sweeps)
            return
        N = self.n_spins
        current = (self._params.temperature, self._params.field)
        if accumulate and self._calibrated_for == current:
            count = n_sweeps * self._updates_per_sweep
            size_sum = wolff_updates(
                self._spins, count, self._p_add, self._sign_j, self._two_beta_h, self._rng
            )
            self._cluster_size_sum += int(size_sum)
            self._cluster_count += int(count)
            self._updates_per_sweep = max(
                1, round(N * self._cluster_count / self._cluster_size_sum)
            )
            self._sweeps += n_sweeps
            return
        first = (n_sweeps + 1) // 2
        n_updates, total, n_late, late_size = wolff_until(
            self._spins, first * N, self._p_add, self._sign_j, self._two_beta_h, self._rng
        )
        if n_late > 0:
            count, size_sum = n_late, late_size
        else:
            count, size_sum = n_updates, total
        per_sweep = max(1, round(N * count / size_sum))
        second = n_sweeps - first
        if second > 0:
            count = second * per_sweep
            size_sum = wolff_updates(
                self._spins, count, self._p_add, self._sign_j, self._two_beta_h, self._rng
            )
            per_sweep = max(1, round(N * count / size_sum))
        self._updates_per_sweep = per_sweep
        self._calibrated_for = current
        self._cluster_size_sum = int(size_sum)
        self._cluster_count = int(count)
        self._sweeps += n_sweeps

    def sweep(self, n: int = 1) -> None:
        """Run n measurement sweeps (a Wolff run is calibrated first if it is not, see module)."""
        _check_count("The number of sweeps", n)
        if self._params.algorithm == "wolff" and self._calibrated_for != (
            self._params.temperature,
            self._params.field,
        ):
            self.thermalize(AUTO_CALIBRATION_SWEEPS)
        self._advance(n)

    def measure(self, n_samples: int, sweeps_between: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Take n samples ``sweeps_between`` sweeps apart; returns per-spin (e, m) float arrays."""
        _check_count("The number of samples", n_samples)
        if not is_integer(sweeps_between) or sweeps_between < 1:
            raise ValueError(f"sweeps_between must be an integer >= 1, got {sweeps_between!r}.")
        energies = np.empty(n_samples)
        magnetizations = np.empty(n_samples)
        for k in range(n_samples):
            self.sweep(sweeps_between)
            energies[k], magnetizations[k] = self._energy_and_magnetization()
        return energies, magnetizations

    def energy_per_spin(self) -> float:
        """e = H / N of the current configuration."""
        return self._energy_and_magnetization()[0]

    def magnetization_per_spin(self) -> float:
        """m = (Σ s_i) / N of the current configuration."""
        return self._energy_and_magnetization()[1]

    # ---------------------------------------------------------------------------- persistence
    def state_dict(self) -> dict:
        """Everything needed to resume bit-for-bit: numpy arrays, Python scalars and strings only.

        ``cluster_updates_per_sweep`` is 0 when not calibrated; ``calibration_temperature`` and
        ``calibration_field`` are NaN when no Wolff calibration has been made. ``device`` is
        where a torch algorithm ran (states without it load as "cpu"); the packed algorithms
        store their lattice unpacked, since the packing is a function of L alone.
        """
        p = self._params
        calibrated = self._calibrated_for or (math.nan, math.nan)
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "size": int(p.size),
            "temperature": float(p.temperature),
            "coupling": float(p.coupling),
            "field": float(p.field),
            "algorithm": p.algorithm,
            "seed": int(p.seed),
            "device": p.device,
            "spins": self.spins_copy(),
            "rng_state": self._rng.copy(),
            "sweeps": int(self._sweeps),
            "cluster_updates_per_sweep": int(self._updates_per_sweep),
            "calibration_temperature": float(calibrated[0]),
            "calibration_field": float(calibrated[1]),
            "cluster_size_sum": int(self._cluster_size_sum),
            "cluster_count": int(self._cluster_count),
        }

    @classmethod
    def from_state(cls, state: dict) -> IsingSimulation:
        """Rebuild a simulation from :meth:`state_dict`'s output (validated)."""
        if state.get("format") != STATE_FORMAT or state.get("version") != STATE_VERSION:
            raise ValueError(
                f"Not an Ising simulation state of format {STATE_FORMAT!r} version {STATE_VERSION}."
            )
        params = IsingParams(
            size=int(state["size"]),
            temperature=float(state["temperature"]),
            coupling=float(state["coupling"]),
            field=float(state["field"]),
            algorithm=str(state["algorithm"]),
            seed=int(state["seed"]),
            device=str(state.get("device", "cpu")),
        )
        params.validate()
        spins = np.array(state["spins"], dtype=np.int8, copy=True, order="C")
        if spins.shape != (params.size, params.size) or not np.all(np.abs(spins) == 1):
            raise ValueError(f"The spins must be a ({params.size}, {params.size}) array of ±1.")
        counters = ("sweeps", "cluster_updates_per_sweep", "cluster_size_sum", "cluster_count")
        for key in counters:
            _check_count(f"State entry {key!r}", state[key])
        sim = cls.__new__(cls)
        sim._params = params
        sim._rng = check_state(state["rng_state"])
        sim._spins = spins
        sim._sweeps = int(state["sweeps"])
        sim._updates_per_sweep = int(state["cluster_updates_per_sweep"])
        T_cal, h_cal = float(state["calibration_temperature"]), float(state["calibration_field"])
        sim._calibrated_for = None if math.isnan(T_cal) else (T_cal, h_cal)
        sim._cluster_size_sum = int(state["cluster_size_sum"])
        sim._cluster_count = int(state["cluster_count"])
        sim._attach_lattice()
        sim._update_tables()
        return sim

    # -------------------------------------------------------------------------------- private
    def _attach_lattice(self) -> None:
        """Build the packed / torch lattice of the algorithms that have one (from ``_spins``)."""
        algorithm = self._params.algorithm
        self._lattice = None
        if algorithm in PACKED_ALGORITHMS:
            self._lattice = MultispinLattice(self._spins, algorithm.removesuffix("-msc"))
        elif algorithm in TORCH_ALGORITHMS:
            from engines.ising.torch_checkerboard import TorchCheckerboard

            self._lattice = TorchCheckerboard(self._spins, self._params.device)
        self._mirrored = self._lattice is not None and not getattr(
            self._lattice, "shares_memory", False
        )
        self._mirror_stale = False  # the mirror equals the state right after packing it
        self._mirror_exposed = False

    def _mirror_source(self) -> MultispinLattice | TorchCheckerboard:
        """The lattice that holds the state of a mirrored simulation (``_mirrored`` implies one)."""
        assert self._lattice is not None, "a mirrored simulation always has a lattice"
        return self._lattice

    def _sync_in(self) -> None:
        """Absorb writes into a handed-out mirror before the state is read or advanced."""
        if self._mirrored and self._mirror_exposed:
            self._mirror_source().load(self._spins)

    def _state_changed(self) -> None:
        """After a sweep: refresh a handed-out mirror now, otherwise when it is next asked for."""
        if not self._mirrored:
            return
        if self._mirror_exposed:
            self._mirror_source().unpack_into(self._spins)
            self._mirror_stale = False
        else:
            self._mirror_stale = True

    def _update_tables(self) -> None:
        """Precompute the per-(T, J, h) constants the kernels need (new objects, never mutated)."""
        p = self._params
        beta = 1.0 / p.temperature
        self._metropolis_table = acceptance_table(beta, p.coupling, p.field)
        self._heatbath_table = up_probability_table(beta, p.coupling, p.field)
        self._p_add = bond_probability(beta, p.coupling)
        self._sign_j = int(np.sign(p.coupling))
        self._two_beta_h = 2.0 * beta * p.field
        if self._lattice is not None:
            self._lattice.set_parameters(beta, p.coupling, p.field)

    def _parameters_changed(self) -> None:
        self._update_tables()
        self._cluster_size_sum = 0
        self._cluster_count = 0

    def _advance(self, n: int) -> None:
        """Run n sweeps of the current algorithm (a Wolff run must already be calibrated)."""
        if n == 0:
            return
        algorithm = self._params.algorithm
        if algorithm == "metropolis":
            metropolis_sweeps(self._spins, n, self._metropolis_table, self._rng)
        elif algorithm == "heatbath":
            heatbath_sweeps(self._spins, n, self._heatbath_table, self._rng)
        elif self._lattice is not None:
            self._sync_in()
            self._lattice.sweeps(n, self._rng)
            self._state_changed()
        elif algorithm == "wolff":
            count = n * self._updates_per_sweep
            self._cluster_size_sum += int(
                wolff_updates(
                    self._spins, count, self._p_add, self._sign_j, self._two_beta_h, self._rng
                )
            )
            self._cluster_count += count
        else:
            n_clusters = swendsen_wang_sweeps(
                self._spins, n, self._p_add, self._sign_j, self._two_beta_h, self._rng
            )
            self._cluster_size_sum += n * self.n_spins
            self._cluster_count += int(n_clusters)
        self._sweeps += n

    def _energy_and_magnetization(self) -> tuple[float, float]:
        if self._mirrored and not self._mirror_exposed:
            bonds, total = self._mirror_source().bond_sum_and_magnetization()
        else:
            bonds, total = bond_sum_and_magnetization(self._spins)
        N = self.n_spins
        p = self._params
        return (-p.coupling * bonds - p.field * total) / N, total / N
