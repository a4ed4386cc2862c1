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
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from data.recording import RunRecorder
from engines.constraints import check_all
from engines.ising import ALGORITHMS as ALGORITHMS  # re-exported: the dock's choices
from engines.ising import Estimate, IsingParams, IsingSimulation, summarize
from lab.core.recorder_guard import RecorderGuard
from lab.core.series import GrowingSeries
from lab.ising.settings import PLAN_CONSTRAINTS, PLAN_NAMES

STEP_SECONDS = 0.02
THERMALIZE_CHUNK_SPINS = 1 << 18
"""Thermalization runs in chunks of about this many spin updates, fixed by the lattice size and
never by measured time: Wolff calibrates its sweep length from the chunks, so time-sized chunks
would make the trajectory (and every sample) depend on the machine's speed."""
STATS_MIN_PERIOD_S = 0.5
STATS_MAX_SHARE = 0.1  # the running estimates may take at most this share of the worker's time
STATS_MIN_SAMPLES = 16


@dataclass(frozen=True)
class IsingPlan:
    """How a run proceeds. ``samples=None`` runs until stopped (the live viewer)."""

    thermalize: int = 1000
    interval: int = 10
    samples: int | None = 1000
    record_spins: bool = True

    def validate(self) -> None:
        """ValueError naming the first setting out of its range (``PLAN_CONSTRAINTS``)."""
        values = {"thermalize": self.thermalize, "interval": self.interval}
        if self.samples is not None:
            values["samples"] = self.samples
        check_all(PLAN_CONSTRAINTS, values, PLAN_NAMES)


class IsingRecording:
    """Measurements and configurations of one recorded run, appended by the worker.

    ``arrays()`` may be called from any thread: it copies what has been recorded so far.
    """

    def __init__(self, record_spins: bool = True) -> None:
        self.record_spins = record_spins
        self._lock = threading.Lock()
        self._energy: list[float] = []
        self._magnetization: list[float] = []
        self._sweep: list[int] = []
        self._spins: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._energy)

    def append(self, sweep: int, energy: float, magnetization: float, spins: np.ndarray) -> None:
        with self._lock:
            self._energy.append(energy)
            self._magnetization.append(magnetization)
            self._sweep.append(sweep)
            if self.record_spins:
                self._spins.append(spins.copy())

    def arrays(self, size: int) -> dict[str, np.ndarray]:
        """Copies of the recorded series: energy, magnetization, sweep and (optionally) samples."""
        with self._lock:
            out = {
                "energy": np.asarray(self._energy, dtype=np.float64),
                "magnetization": np.asarray(self._magnetization, dtype=np.float64),
                "sweep": np.asarray(self._sweep, dtype=np.int64),
            }
            if self.record_spins:
                out["samples"] = (
                    np.stack(self._spins).astype(np.int8)
                    if self._spins
                    else np.zeros((0, size, size), dtype=np.int8)
                )
        return out


@dataclass(frozen=True)
class IsingSnapshot:
    """What a panel needs to draw one frame. Arrays are copies or read-only views."""

    spins: np.ndarray
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
        self, thermalize_left: int, until_measurement: int, energy: np.ndarray,
        magnetization: np.ndarray,
    ) -> None:
        """Continue a task whose counters were :attr:`progress_counters` and whose
        measurements so far were ``energy`` and ``magnetization``; the simulation passed to the
        constructor must be the one restored from the same moment. With the same seed, the
        continuation is the uninterrupted run's (chunks and sweeps do not depend on timing)."""
        if not 0 <= thermalize_left <= self.plan.thermalize:
            raise ValueError(f"thermalize_left {thermalize_left} is outside 0…"
                             f"{self.plan.thermalize}")
        if not 1 <= until_measurement <= self.plan.interval:
            raise ValueError(f"until_measurement {until_measurement} is outside 1…"
                             f"{self.plan.interval}")
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
        energy = sim.energy_per_spin()
        magnetization = sim.magnetization_per_spin()
        self._energy.append(energy)
        self._magnetization.append(magnetization)
        if self.recording is not None:
            self.recording.append(sim.sweeps, energy, magnetization, sim.spins)
        if self.plan.samples is not None and len(self._energy) >= self.plan.samples:
            self.finished = True

    def step(self) -> IsingSnapshot:
        """About ``STEP_SECONDS`` of work: thermalization sweeps, or sweeps and measurements."""
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
        self._estimates = summarize(self._energy.view(), self._magnetization.view(),
                                    self.simulation.params.temperature, self.simulation.n_spins)
        self._estimates_count = n
        cost = time.perf_counter() - now
        self._next_stats = now + max(STATS_MIN_PERIOD_S, cost / STATS_MAX_SHARE)

    def snapshot(self) -> IsingSnapshot:
        sim = self.simulation
        return IsingSnapshot(
            spins=sim.spins.copy(),
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
        )


class TeeRecording(RecorderGuard, IsingRecording):
    """An :class:`IsingRecording` that also appends every measurement to a :class:`RunRecorder`.

    A failing recorder stops the live copy only (:class:`lab.core.recorder_guard.RecorderGuard`).
    """

    def __init__(self, recorder: RunRecorder | None, record_spins: bool = True) -> None:
        super().__init__(record_spins)
        self.recorder = recorder
        self.error = ""

    def append(self, sweep: int, energy: float, magnetization: float, spins: np.ndarray) -> None:
        super().append(sweep, energy, magnetization, spins)
        if self.recorder is None:
            return
        rows = {"energy": np.array([energy]), "magnetization": np.array([magnetization]),
                "sweep": np.array([sweep], dtype=np.int64)}
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
    return IsingSimulation(params).spins.copy()
