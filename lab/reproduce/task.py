"""A reproduction as a steppable task: the GUI runs it in a Job, the CLI drives it.

An experiment runs end to end in one call (the engines train epoch by epoch inside it), so the
task's single ``step()`` runs it, publishing its progress from the experiment's callback; Stop
(``interrupt()``, called by the job from the GUI thread) makes the next callback raise
:class:`lab.reproduce.experiment.Interrupted`, which ends the step within an epoch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.reproduce.experiment import Interrupted, experiment
from lab.reproduce.outcome import Outcome


@dataclass(frozen=True)
class ReproductionSnapshot:
    """Progress of a reproduction: fraction done (0–1), what it is doing, and its outcome once
    finished (None before)."""

    progress: float
    text: str
    outcome: Outcome | None = None


class ReproductionTask:
    """Runs one experiment (name, settings, quick, seed) to its :class:`Outcome`."""

    def __init__(
        self,
        name: str,
        settings: dict[str, Any],
        quick: bool,
        seed: int,
        on_progress: Callable[[float, str], None] | None = None,
    ) -> None:
        self.experiment = experiment(name)
        self.on_progress = on_progress
        self.settings, self.quick, self.seed = dict(settings), bool(quick), int(seed)
        self.finished = False
        self.outcome: Outcome | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._snapshot = ReproductionSnapshot(0.0, "starting")

    def interrupt(self) -> None:
        """Ask the running experiment to stop at its next progress report (any thread)."""
        self._stop.set()

    def _progress(self, fraction: float, text: str) -> None:
        with self._lock:
            self._snapshot = ReproductionSnapshot(float(fraction), text)
        if self.on_progress is not None:
            self.on_progress(fraction, text)
        if self._stop.is_set():
            raise Interrupted(text)

    def snapshot(self) -> ReproductionSnapshot:
        with self._lock:
            return self._snapshot

    def step(self) -> ReproductionSnapshot:
        """Run the whole experiment (module doc); raises Interrupted when stopped."""
        if self.finished:
            return self.snapshot()
        self.outcome = self.experiment.run(self.settings, self.quick, self.seed, self._progress)
        self.finished = True
        with self._lock:
            self._snapshot = ReproductionSnapshot(1.0, "finished", self.outcome)
        return self._snapshot
