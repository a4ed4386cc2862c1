"""The Ising simulation as a steppable task: thermalize, then measure every ``interval`` sweeps.

One task serves the GUI's live viewer, the temperature scan and the CLI. Each ``step()`` does about
``STEP_SECONDS`` of sweeps (measured, adaptive), so pause and stop answer quickly at any lattice
size, and returns an :class:`IsingSnapshot` for the panels. How the work is split never changes
the trajectory: measurement sweeps are split-invariant for every algorithm, and thermalization
(where Wolff calibrates) runs in chunks sized by the lattice, not by the clock.

Measurements (energy and magnetization per spin) go into the *statistics* series, which restart
whenever the physics changes (temperature, field, painted spins), after a fresh thermalization.
When a :class:`IsingRecording` is attached, the same measurements — and the configurations — are
also recorded for the session file.

A measurement costs one pass over the state where it lives (:mod:`engines.ising.frames`): for the
multi-spin algorithms (e, m) come from popcounts of the packed words and a recorded configuration
is unpacked into one buffer the task reuses; the int8 mirror of the packed state is never handed
out, which would make every later sweep call pack and unpack the lattice. Snapshots carry no copy
of a large lattice: a viewer sets :attr:`IsingTask.display_pixels` and gets, at most every
``DISPLAY_PERIOD_S``, a block image no larger than that (:func:`engines.ising.frames.block_image`,
computed in the worker from the packed words), and a full copy of the spins only for lattices of
at most ``SNAPSHOT_SPINS_MAX`` sites.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from data.recording import RunRecorder
from engines.ising import ALGORITHMS as ALGORITHMS  # re-exported: the dock's choices
from engines.ising import Estimate, IsingParams, IsingSimulation, summarize
from engines.ising.frames import (
    block_image,
    configuration,
    energy_and_magnetization,
    spins_block_image,
)
from engines.ising.multispin import unpack_into
from engines.ising.params import PACKED_ALGORITHMS
from lab.core.recorder_guard import RecorderGuard
from lab.core.series import GrowingSeries
from lab.ising.plan import IsingPlan as IsingPlan  # re-exported: where the task was

STEP_SECONDS = 0.02
THERMALIZE_CHUNK_SPINS = 1 << 18
"""Thermalization runs in chunks of about this many spin updates, fixed by the lattice size and
never by measured time: Wolff calibrates its sweep length from the chunks, so time-sized chunks
would make the trajectory (and every sample) depend on the machine's speed."""
STATS_MIN_PERIOD_S = 0.5
STATS_MAX_SHARE = 0.1  # the running estimates may take at most this share of the worker's time
STATS_MIN_SAMPLES = 16
SNAPSHOT_SPINS_MAX = 1 << 16
"""Lattices of at most this many sites (256 × 256, 64 KiB) carry a copy of their spins in every
snapshot; larger ones only the viewer's block image (copying 4 M spins 50 times a second is what
kept the L = 2048 viewer below 30 frames/s)."""
DISPLAY_PERIOD_S = 1 / 60
"""Shortest time between two block images of a running task: faster than the viewers' 30 Hz
pull, so that every pull finds a new frame, and no image is made that nobody will draw."""


def display_block(size: int, pixels: int) -> int:
    """Sites per image pixel along each axis, ``ceil(L / pixels)``: the smallest block whose
    image fits in ``pixels`` × ``pixels`` (1 when the lattice fits)."""
    return max(1, -(-int(size) // max(1, int(pixels))))


def spins_image(spins: np.ndarray, block: int = 1) -> np.ndarray:
    """The uint8 block image of an (L, L) ±1 configuration (0: all −1 … 255: all +1 in each
    ``block`` × ``block`` block), as the worker publishes it; for drawing recorded frames."""
    return spins_block_image(spins, block)


class IsingRecording:
    """Measurements and configurations of one recorded run, appended by the worker.

    A configuration handed over with its packed words (``append(..., packed=words)``, the
    multi-spin algorithms) is kept packed, one bit a spin (8× less memory than int8), and
    unpacked by :meth:`arrays`; the others are kept as int8 copies. ``arrays()`` may be called
    from any thread: it copies what has been recorded so far.
    """

    def __init__(self, record_spins: bool = True) -> None:
        self.record_spins = record_spins
        self._lock = threading.Lock()
        self._energy: list[float] = []
        self._magnetization: list[float] = []
        self._sweep: list[int] = []
        self._spins: list[np.ndarray] = []  # (L, L) int8, or (L, S) uint64 packed words

    def __len__(self) -> int:
        return len(self._energy)

    def append(
        self,
        sweep: int,
        energy: float,
        magnetization: float,
        spins: np.ndarray | None,
        packed: np.ndarray | None = None,
    ) -> None:
        """One measurement: the configuration as int8 ``spins`` (read now, may be reused by the
        caller) and/or its packed words (layout of :mod:`engines.ising.multispin`); either may
        be None when the other is given, both when spins are not recorded."""
        with self._lock:
            self._energy.append(energy)
            self._magnetization.append(magnetization)
            self._sweep.append(sweep)
            if self.record_spins:
                self._spins.append(packed.copy() if packed is not None else spins.copy())

    def arrays(self, size: int) -> dict[str, np.ndarray]:
        """Copies of the recorded series: energy, magnetization, sweep and (optionally) samples."""
        with self._lock:
            out = {
                "energy": np.asarray(self._energy, dtype=np.float64),
                "magnetization": np.asarray(self._magnetization, dtype=np.float64),
                "sweep": np.asarray(self._sweep, dtype=np.int64),
            }
            if self.record_spins:
                frames = list(self._spins)
        if self.record_spins:
            samples = np.empty((len(frames), size, size), dtype=np.int8)
            for k, frame in enumerate(frames):
                if frame.dtype == np.uint64:
                    unpack_into(frame, size // frame.shape[1], samples[k])
                else:
                    samples[k] = frame
            out["samples"] = samples
        return out


@dataclass(frozen=True)
class IsingSnapshot:
    """What a panel needs to draw one frame. Arrays are copies or read-only views.

    ``spins`` is a copy of the lattice for lattices of at most ``SNAPSHOT_SPINS_MAX`` sites
    (None above); ``image`` the block image for the task's viewer (None when no viewer asked
    for one, see :attr:`IsingTask.display_pixels`), ``block`` its sites per pixel along each
    axis and ``size`` the lattice's L. The same image object is handed out until a new one is
    made, so a viewer redraws only when ``image`` is a new object.
    """

    spins: np.ndarray | None
    sweeps: int
    phase: str  # "thermalizing", "sampling" or "done"
    temperature: float
    field: float
    energy: np.ndarray  # statistics series since the last change (per spin)
    magnetization: np.ndarray
    recorded: int
    target_samples: int | None
    mean_cluster_size: float | None
    estimates: dict[str, Estimate] | None = None  # running estimates (engines.ising.summarize)
    estimates_count: int = 0  # how many measurements the estimates used
    image: np.ndarray | None = None  # uint8 block image, 0 (all −1) … 255 (all +1)
    block: int = 1
    size: int = 0

    @property
    def progress(self) -> float | None:
        """Fraction of the planned samples taken, or None for an open-ended run."""
        if self.target_samples is None:
            return None
        return min(1.0, len(self.energy) / self.target_samples)


class IsingTask:
    """Steps an :class:`IsingSimulation` through thermalization and sampling."""

    def __init__(
        self,
        params: IsingParams,
        plan: IsingPlan,
        recording: IsingRecording | None = None,
        simulation: IsingSimulation | None = None,
        initial: str = "random",
    ) -> None:
        plan.validate()
        self.plan = plan
        self.simulation = simulation if simulation is not None else IsingSimulation(params, initial)
        self.recording = recording
        self.finished = False
        self._thermalize_left = plan.thermalize
        self._until_measurement = plan.interval
        self._seconds_per_sweep: float | None = None
        self._thermalize_chunk = max(1, THERMALIZE_CHUNK_SPINS // self.simulation.n_spins)
        self._energy = GrowingSeries()
        self._magnetization = GrowingSeries()
        self._estimates: dict[str, Estimate] | None = None
        self._estimates_count = 0
        self._next_stats = 0.0
        self.display_pixels: int | None = None
        """Set by a viewer: the pixels its lattice view has along each axis. The snapshots
        then carry a block image that fits (:func:`display_block`); None: no image (CLI)."""
        self._changes = 0  # counts changes of the lattice made outside sweeps (painting)
        self._image: np.ndarray | None = None
        self._image_key: tuple[int, int, int] | None = None
        self._image_time = -1.0
        self._buffer: np.ndarray | None = None  # the recorded configuration, reused
        self.threads: int | None = None
        """Set before the task runs: at most this many numba threads for the kernels of the
        thread that steps it (numba's thread count is per calling thread). The live viewer
        leaves one core to the GUI thread; None: numba's default (every core)."""
        self._threads_set = False

    # ------------------------------------------------------------ commands
    # These run in the worker thread (through Job.submit) or directly when no job runs.
    def set_temperature(self, temperature: float) -> None:
        self.simulation.set_temperature(temperature)
        self._restart_statistics()

    def set_field(self, field: float) -> None:
        self.simulation.set_field(field)
        self._restart_statistics()

    def paint(self, cells: list[tuple[int, int]], value: int) -> None:
        """Set the given (row, col) spins to ``value`` (±1); the statistics restart."""
        for row, col in cells:
            self.simulation.set_spin(row, col, value)
        self._changes += 1
        self._restart_statistics()

    def set_recording(self, recording: IsingRecording | None) -> None:
        self.recording = recording

    # ------------------------------------------------------------ resuming
    @property
    def progress_counters(self) -> tuple[int, int, int]:
        """``(thermalization sweeps left, sweeps until the next measurement, measurements
        taken)``: with the simulation's state_dict, what a resumed task needs."""
        return self._thermalize_left, self._until_measurement, len(self._energy)

    def restore_progress(
        self,
        thermalize_left: int,
        until_measurement: int,
        energy: np.ndarray,
        magnetization: np.ndarray,
    ) -> None:
        """Continue a task whose counters were :attr:`progress_counters` and whose
        measurements so far were ``energy`` and ``magnetization``; the simulation passed to the
        constructor must be the one restored from the same moment. With the same seed, the
        continuation is the uninterrupted run's (chunks and sweeps do not depend on timing)."""
        if not 0 <= thermalize_left <= self.plan.thermalize:
            raise ValueError(
                f"thermalize_left {thermalize_left} is outside 0…{self.plan.thermalize}"
            )
        if not 1 <= until_measurement <= self.plan.interval:
            raise ValueError(
                f"until_measurement {until_measurement} is outside 1…{self.plan.interval}"
            )
        if len(energy) != len(magnetization):
            raise ValueError("energy and magnetization must have the same length")
        self._thermalize_left, self._until_measurement = thermalize_left, until_measurement
        self._energy, self._magnetization = GrowingSeries(), GrowingSeries()
        for e, m in zip(energy, magnetization, strict=True):
            self._energy.append(float(e))
            self._magnetization.append(float(m))
        self.finished = self.plan.samples is not None and len(energy) >= self.plan.samples

    def _restart_statistics(self) -> None:
        self._energy = GrowingSeries()
        self._magnetization = GrowingSeries()
        self._estimates, self._estimates_count, self._next_stats = None, 0, 0.0
        self._thermalize_left = self.plan.thermalize
        self._until_measurement = self.plan.interval

    # ------------------------------------------------------------ stepping
    @property
    def phase(self) -> str:
        if self.finished:
            return "done"
        return "thermalizing" if self._thermalize_left > 0 else "sampling"

    def _sweep_budget(self) -> int:
        if self._seconds_per_sweep is None:
            return 1
        return max(1, int(STEP_SECONDS / max(self._seconds_per_sweep, 1e-9)))

    def _timed(self, action, n: int) -> None:
        start = time.perf_counter()
        action(n)
        per_sweep = (time.perf_counter() - start) / n
        if self._seconds_per_sweep is None:
            self._seconds_per_sweep = per_sweep
        else:
            self._seconds_per_sweep = 0.7 * self._seconds_per_sweep + 0.3 * per_sweep

    def _measure(self) -> None:
        sim = self.simulation
        energy, magnetization = energy_and_magnetization(sim)
        self._energy.append(energy)
        self._magnetization.append(magnetization)
        recording = self.recording
        if recording is not None:
            spins = packed = None
            if getattr(recording, "record_spins", True):
                self._buffer = spins = configuration(sim, self._buffer)
                if sim.params.algorithm in PACKED_ALGORITHMS:
                    packed = sim.packed_spins()
            recording.append(sim.sweeps, energy, magnetization, spins, packed=packed)
        if self.plan.samples is not None and len(self._energy) >= self.plan.samples:
            self.finished = True

    def step(self) -> IsingSnapshot:
        """About ``STEP_SECONDS`` of work: thermalization sweeps, or sweeps and measurements."""
        if self.threads is not None and not self._threads_set:
            import numba  # the kernels' thread pool; the count is kept per calling thread

            numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))
            self._threads_set = True
        deadline = time.perf_counter() + STEP_SECONDS
        while not self.finished:
            budget = self._sweep_budget()
            if self._thermalize_left > 0:
                n = min(self._thermalize_chunk, self._thermalize_left)
                # Wolff calibrates its sweep length over the second half of the thermalization,
                # accumulated across the short calls that keep the job responsive.
                accumulate = 2 * self._thermalize_left <= self.plan.thermalize
                self._timed(partial(self.simulation.thermalize, accumulate=accumulate), n)
                self._thermalize_left -= n
            else:
                n = min(budget, self._until_measurement)
                self._timed(self.simulation.sweep, n)
                self._until_measurement -= n
                if self._until_measurement == 0:
                    self._until_measurement = self.plan.interval
                    self._measure()
            if time.perf_counter() >= deadline:
                break
        self._update_estimates()
        return self.snapshot()

    def _update_estimates(self) -> None:
        """Recompute the running estimates, at most STATS_MAX_SHARE of the worker's time.

        Done here, in the worker, because on long series (65 536 measurements: ~80 ms) it
        would stall the GUI thread.
        """
        n = len(self._energy)
        now = time.perf_counter()
        if n < STATS_MIN_SAMPLES or n == self._estimates_count or now < self._next_stats:
            return
        self._estimates = summarize(
            self._energy.view(),
            self._magnetization.view(),
            self.simulation.params.temperature,
            self.simulation.n_spins,
        )
        self._estimates_count = n
        cost = time.perf_counter() - now
        self._next_stats = now + max(STATS_MIN_PERIOD_S, cost / STATS_MAX_SHARE)

    def _display_image(self) -> tuple[np.ndarray | None, int]:
        """The block image for the viewer, new when the lattice changed and DISPLAY_PERIOD_S
        has passed since the last one (at once after painting or a new viewer size)."""
        pixels = self.display_pixels
        if not pixels:
            return None, 1
        sim = self.simulation
        block = display_block(sim.params.size, pixels)
        key = (sim.sweeps, self._changes, block)
        old = self._image_key
        now = time.perf_counter()
        if self._image is None or (
            key != old
            and (old is None or key[1:] != old[1:] or now - self._image_time >= DISPLAY_PERIOD_S)
        ):
            image = block_image(sim, block)
            image.flags.writeable = False
            self._image, self._image_key, self._image_time = image, key, now
        return self._image, self._image_key[2]

    def snapshot(self) -> IsingSnapshot:
        sim = self.simulation
        image, block = self._display_image()
        return IsingSnapshot(
            spins=sim.spins_copy() if sim.n_spins <= SNAPSHOT_SPINS_MAX else None,
            sweeps=sim.sweeps,
            phase=self.phase,
            temperature=sim.params.temperature,
            field=sim.params.field,
            energy=self._energy.view(),
            magnetization=self._magnetization.view(),
            recorded=0 if self.recording is None else len(self.recording),
            target_samples=self.plan.samples,
            mean_cluster_size=sim.mean_cluster_size,
            estimates=self._estimates,
            estimates_count=self._estimates_count,
            image=image,
            block=block,
            size=sim.params.size,
        )


class TeeRecording(RecorderGuard, IsingRecording):
    """An :class:`IsingRecording` that also appends every measurement to a :class:`RunRecorder`.

    A failing recorder stops the live copy only (:class:`lab.core.recorder_guard.RecorderGuard`).
    """

    def __init__(self, recorder: RunRecorder | None, record_spins: bool = True) -> None:
        super().__init__(record_spins)
        self.recorder = recorder
        self.error = ""

    def append(
        self,
        sweep: int,
        energy: float,
        magnetization: float,
        spins: np.ndarray | None,
        packed: np.ndarray | None = None,
    ) -> None:
        super().append(sweep, energy, magnetization, spins, packed)
        if self.recorder is None:
            return
        rows = {
            "energy": np.array([energy]),
            "magnetization": np.array([magnetization]),
            "sweep": np.array([sweep], dtype=np.int64),
        }
        if self.record_spins:
            rows["samples"] = spins[None]
        self._guard(lambda: self.recorder.append(rows))


class RecordedIsingTask(IsingTask):
    """An :class:`IsingTask` that lets its :class:`TeeRecording` flush after every step, so rows
    never wait longer than the flush interval even when measurements are rare."""

    def step(self) -> IsingSnapshot:
        snapshot = super().step()
        if isinstance(self.recording, TeeRecording):
            self.recording.flush_if_due()
        return snapshot


def initial_configuration(params: IsingParams) -> np.ndarray:
    """The configuration a simulation with ``params`` starts from (a copy), drawn exactly as
    :class:`IsingTask` draws it: the dock shows it before Start."""
    return IsingSimulation(params).spins_copy()
