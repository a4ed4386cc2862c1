"""A temperature scan as a steppable task: one Ising task per temperature, each point's seed
derived from the scan's, and the scan's curves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from data import RunRecord
from engines.constraints import number_from_text
from engines.ising import IsingParams
from lab.core.ids import utc_now
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.task import IsingPlan, IsingSnapshot, RecordedIsingTask, TeeRecording

SCAN_OBSERVABLES = ("e", "abs_m", "c", "chi", "binder")


def parse_temperatures(text: str) -> np.ndarray:
    """Temperatures from 'a:b:n' (n evenly spaced values from a to b) or 'T1, T2, …'.

    Raises ValueError with a message that says what is wrong.
    """
    text = text.strip()
    if not text:
        raise ValueError("give temperatures as 'start:stop:count' or a list 'T1, T2, …'")
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop = number_from_text(parts[0], False), number_from_text(parts[1], False)
            count = int(number_from_text(parts[2], True))
            if count < 1:
                raise ValueError("the count must be ≥ 1")
            values = np.linspace(start, stop, count)
        else:
            items = [p.strip() for p in text.replace(";", ",").split(",")]
            if not all(items) and any(items):
                raise ValueError("an empty item (two commas in a row, or one at an end)")
            values = np.array([number_from_text(p, False) for p in items if p])
    except ValueError as exc:
        detail = f": {exc}" if str(exc) else ""
        raise ValueError(
            f"'{text}' is not 'start:stop:count' or a comma-separated list{detail}"
        ) from None
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("every temperature must be a finite number > 0")
    return values


def scan_seeds(seed: int, count: int) -> list[int]:
    """Independent per-temperature seeds derived from the scan's seed."""
    states = np.random.SeedSequence(seed).generate_state(count, np.uint32)
    return [int(s) for s in states]


@dataclass(frozen=True)
class ScanSnapshot:
    """Progress of a scan: the current point's snapshot and the finished points' results."""

    index: int
    temperatures: np.ndarray
    current: IsingSnapshot | None
    points: tuple[dict, ...]  # results of finished temperatures, in order


class ScanTask:
    """Runs one :class:`IsingTask` per temperature; hands each finished run to ``emit``.

    ``run_ids`` are the ids of the points' runs (default: empty, the session gives them);
    ``tee(run)``, called in the worker when a point starts, gives the recording it writes into
    (default: memory only).
    """

    def __init__(
        self,
        base: IsingParams,
        temperatures: np.ndarray,
        plan: IsingPlan,
        run_ids: list[str] | None = None,
        tee: RecorderFactory | None = None,
    ) -> None:
        if plan.samples is None:
            raise ValueError("a scan needs a finite number of samples per temperature")
        base.validate()
        plan.validate()
        self.base = base
        self.temperatures = np.asarray(temperatures, dtype=float)
        self.plan = plan
        self.seeds = scan_seeds(base.seed, self.temperatures.size)
        self.run_ids = run_ids or [""] * self.temperatures.size
        self._tee = tee or (lambda run: TeeRecording(None, plan.record_spins))
        self.finished = False
        self.emit: Callable[[object], None] = lambda _: None
        self._index = 0
        self._points: list[dict] = []
        self._task: RecordedIsingTask | None = None
        self._run: RunRecord | None = None

    def _start_point(self) -> None:
        params = replace(
            self.base,
            temperature=float(self.temperatures[self._index]),
            seed=self.seeds[self._index],
        )
        self._run = new_ising_run(self.run_ids[self._index], params, self.plan)
        self._run.created = utc_now()
        self._task = RecordedIsingTask(params, self.plan, self._tee(self._run))

    @property
    def recording(self) -> TeeRecording | None:
        """The recording of the point in progress (to close once the job has ended)."""
        return None if self._task is None else self._task.recording

    def step(self) -> ScanSnapshot:
        if self._task is None:
            self._start_point()
        snapshot = self._task.step()
        if self._task.finished:
            params = self._task.simulation.params
            run = finish_ising_run(self._run, self._task.recording, params, "finished", utc_now())
            self._points.append({"temperature": params.temperature, **run.results})
            self.emit((run, self._task.recording))
            self._task = None
            self._index += 1
            self.finished = self._index >= self.temperatures.size
        return ScanSnapshot(self._index, self.temperatures, snapshot, tuple(self._points))

    def on_stop(self) -> None:
        """Hand over the point in progress as a 'stopped' run, so its samples are kept."""
        if self._task is not None and len(self._task.recording) > 0:
            params = self._task.simulation.params
            self.emit(
                (
                    finish_ising_run(self._run, self._task.recording, params, "stopped", utc_now()),
                    self._task.recording,
                )
            )
            self._task = None

    def snapshot(self) -> ScanSnapshot:
        current = None if self._task is None else self._task.snapshot()
        return ScanSnapshot(self._index, self.temperatures, current, tuple(self._points))


def scan_datasets(points: list[dict]) -> dict[str, np.ndarray]:
    """The scan's curves: temperature and each observable with its error (NaN if missing)."""
    out = {"temperature": np.array([p["temperature"] for p in points], dtype=float)}
    for name in SCAN_OBSERVABLES:
        for key in (name, f"{name}_error"):
            out[key] = np.array([p.get(key, np.nan) for p in points], dtype=float)
    return out


RecorderFactory = Callable[[RunRecord], TeeRecording]
