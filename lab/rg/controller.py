"""The coarse-graining behind the RG comparator dock: rg runs made in a worker, and what to show.

:class:`RGController` runs :func:`lab.rg.runs.coarse_grain_run` for each chosen rule on one Ising
run of the session, in a :class:`lab.core.jobs.Job` (one rule per step, so Stop answers between
rules), and adds every ``rg`` run to the session as it is made. For the ``rbm`` rule it also
computes the reconstruction ⟨v|h⟩ of each configuration from the hidden layer in the worker; for
an ``rbm`` rg run already in the session (made by the CLI, or loaded) it computes it on demand
in a small job of its own. The queries (candidate data and RBM runs, the rg runs of one Ising
run, the rg-flow runs, one run by id) are what the dock lists, as read-only views
(:mod:`lab.rg.runs`): the dock never reads a run's storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from data import RunRecord
from engines.rg import match_units_to_blocks, unit_orientations
from lab.core.controller import JobController
from lab.core.jobs import Job, JobManager, JobState
from lab.ising.runs import IsingRunView
from lab.rbm.runs import RBMRunView, rbm_from_run
from lab.rg.runs import (
    RGFlowRunView,
    RGRunView,
    coarse_grain_run,
)
from lab.session.session import Session

RULE_ORDER = ("majority", "decimation", "rbm")
RBM_LEVELS = 1  # coarse_grain_run makes one level with an RBM (stacked RBMs are not wired yet)


def hidden_units(rg_run: RunRecord, rbm_run: RunRecord) -> np.ndarray:
    """The 0/1 hidden samples (N, m) behind level 1 of an ``rbm`` rg run, in unit order.

    Level 1 holds unit j's draw on its matched block, as the block spin ``(2h_j − 1)·o_j`` with
    the unit's orientation o_j = ±1 (``lab.rg.runs``); both the matching and the orientations
    depend on W alone, so h is recovered exactly: ``h_j = (s_block(j) · o_j + 1) / 2``.
    """
    view = RGRunView(rg_run)
    W = rbm_from_run(rbm_run).to_numpy()["W"]
    L, b = view.size, view.block
    assignment = match_units_to_blocks(W, L, b)
    orientation = unit_orientations(W, assignment, L, b).astype(np.int16)
    level = view.level(1).samples
    spins = level.reshape(level.shape[0], -1)[:, assignment].astype(np.int16)
    return ((spins * orientation + 1) // 2).astype(np.int8)


def reconstruction(rg_run: RunRecord, rbm_run: RunRecord) -> np.ndarray:
    """⟨v|h⟩ = tanh(a + W h) for the hidden layer of every configuration: (N, L, L) float32.

    The mean of p(v|h) in the ±1 convention (p(v_i = +1 | h) = σ(2(a_i + (Wh)_i))), so it lies in
    (−1, 1) and is the original lattice as the RBM redraws it from its coarse variables.
    """
    params = rbm_from_run(rbm_run).to_numpy()
    W, a = params["W"].astype(np.float64), params["a"].astype(np.float64)
    h = hidden_units(rg_run, rbm_run).astype(np.float64)
    L = RGRunView(rg_run).size
    return np.tanh(a + h @ W.T).astype(np.float32).reshape(-1, L, L)


def dispose(job: Job) -> None:
    """Destroy an ended job's Qt object soon, in the GUI thread.

    The reconstruction jobs are short and many; their Qt objects (each with a drain timer) are
    deleted here, in the GUI thread, as soon as they have ended, rather than whenever the last
    Python reference happens to go (Qt aborts when a QObject with a timer is destroyed outside
    its thread). What is left is a Python shell that any thread may free.
    """
    QTimer.singleShot(0, lambda: shiboken6.isValid(job) and shiboken6.delete(job))


@dataclass(frozen=True)
class RGSnapshot:
    """Progress of a coarse-graining job: rules done out of all, and the one in progress."""

    done: int
    total: int
    current: str


class CoarseGrainTask:
    """One :func:`coarse_grain_run` per step; emits ``(run, reconstruction or None)``.

    The run's id is left empty: the session gives it the next free ``rg-NNN`` in the GUI thread.
    """

    def __init__(
        self,
        data_run: RunRecord,
        rules: list[str],
        block: int,
        levels: int,
        seed: int,
        rbm_run: RunRecord | None,
    ) -> None:
        self.data_run, self.rules, self.block = data_run, list(rules), block
        self.levels, self.seed, self.rbm_run = levels, seed, rbm_run
        self.finished = not self.rules
        self.emit: Callable[[object], None] = lambda _: None
        self._done = 0

    def step(self) -> RGSnapshot:
        rule = self.rules[self._done]
        rbm = self.rbm_run if rule == "rbm" else None
        levels = RBM_LEVELS if rule == "rbm" else self.levels
        run = coarse_grain_run("", self.data_run, rule, self.block, levels, self.seed, rbm)
        self.emit((run, reconstruction(run, rbm) if rbm is not None else None))
        self._done += 1
        self.finished = self._done >= len(self.rules)
        return self.snapshot()

    def snapshot(self) -> RGSnapshot:
        current = "" if self.finished else self.rules[self._done]
        return RGSnapshot(self._done, len(self.rules), current)


class ReconstructionTask:
    """One step: the reconstruction of an existing ``rbm`` rg run; emits ``(rg run, array)``."""

    def __init__(self, rg_run: RunRecord, rbm_run: RunRecord) -> None:
        self.rg_run, self.rbm_run = rg_run, rbm_run
        self.finished = False
        self.emit: Callable[[object], None] = lambda _: None

    def step(self) -> None:
        self.emit((self.rg_run, reconstruction(self.rg_run, self.rbm_run)))
        self.finished = True


class RGController(JobController):
    """Coarse-grain Ising runs of the session with several rules; reconstructions on demand."""

    reconstructionReady = Signal(str)  # the id of the rg run whose reconstruction is ready
    runsMade = Signal(list)  # ids of the rg runs a finished coarse-graining job added

    def __init__(self, session: Session, jobs: JobManager, parent: QObject | None = None) -> None:
        super().__init__(session, jobs, parent)
        self._reconstructions: dict[str, np.ndarray] = {}
        self._pending: set[str] = set()
        self._made: list[str] = []
        session.reloaded.connect(self._forget)

    # ----------------------------------------------------------------- queries
    def data_candidates(self) -> list[IsingRunView]:
        """Ising runs with at least two recorded configurations, by size, temperature, id."""
        views = [IsingRunView(r) for r in self.session.runs() if r.kind == "ising"]
        views = [
            v
            for v in views
            if v.samples is not None and v.samples.ndim == 3 and v.samples.shape[0] >= 2
        ]
        return sorted(views, key=lambda v: (int(v.samples.shape[1]), v.temperature, v.id))

    def rbm_candidates(self, size: int, block: int) -> list[RBMRunView]:
        """``rbm`` runs whose hidden layer can be a b×b block lattice of an L×L one:
        n = L² visible and m = (L/b)² hidden units."""
        if block < 1 or size % block:
            return []
        shape = (size * size, (size // block) ** 2)
        views = [RBMRunView(r) for r in self.session.runs() if r.kind == "rbm"]
        return [v for v in views if v.weights is not None and v.weights.shape == shape]

    def rg_runs_of(self, data_id: str) -> list[RGRunView]:
        """The ``rg`` runs made from one Ising run, newest last."""
        views = [RGRunView(r) for r in self.session.runs() if r.kind == "rg"]
        return [v for v in views if v.data_id == data_id]

    def flow_runs(self) -> list[RGFlowRunView]:
        """The ``rg-flow`` runs of the session."""
        return [RGFlowRunView(r) for r in self.session.runs() if r.kind == "rg-flow"]

    def data_run(self, run_id: str) -> IsingRunView:
        """The Ising run ``run_id`` (KeyError if the session has none of that id)."""
        return IsingRunView(self.session.run(run_id))

    def rg_run(self, run_id: str) -> RGRunView | None:
        """The ``rg`` run ``run_id``, or None (absent, or of another kind)."""
        run = self.session.record.runs.get(run_id)
        return RGRunView(run) if run is not None and run.kind == "rg" else None

    def rbm_run(self, run_id: str | None) -> RBMRunView | None:
        """The ``rbm`` run ``run_id``, or None (absent, or of another kind)."""
        run = None if run_id is None else self.session.record.runs.get(run_id)
        return RBMRunView(run) if run is not None and run.kind == "rbm" else None

    def reconstruction(self, rg_id: str) -> np.ndarray | None:
        """⟨v|h⟩ of an ``rbm`` rg run, or None while it is being computed (a job is started
        on the first request; ``reconstructionReady`` says when it is there)."""
        if rg_id in self._reconstructions:
            return self._reconstructions[rg_id]
        if rg_id not in self._pending:
            run = self.session.run(rg_id)
            rbm_id = RGRunView(run).rbm_id
            if rbm_id is None or rbm_id not in self.session.record.runs:
                return None
            self._pending.add(rg_id)
            job = Job(ReconstructionTask(run, self.session.run(rbm_id)), name=f"recon {rg_id}")
            job.outputProduced.connect(self._on_reconstruction)
            job.ended.connect(lambda _state, i=rg_id: self._pending.discard(i))
            job.ended.connect(lambda _state, j=job: dispose(j))
            self.jobs.add(job)
            job.start()
        return None

    # ----------------------------------------------------------------- control
    def start(
        self,
        data_id: str,
        rules: list[str],
        block: int,
        levels: int,
        seed: int,
        rbm_id: str | None = None,
    ) -> None:
        """Coarse-grain ``data_id`` with each rule (majority, decimation, rbm) in a job.

        The rbm rule makes one level with ``rbm_id`` whatever ``levels`` is. Raises ValueError
        with a clear message on bad input, RuntimeError while a job runs.
        """
        if self.running:
            raise RuntimeError("a coarse-graining is already running: stop it first")
        rules = [rule for rule in RULE_ORDER if rule in rules]
        if not rules:
            raise ValueError("choose at least one method")
        data_run = self.session.run(data_id)
        size = int(data_run.datasets["samples"].shape[1])
        if block < 2 or levels < 1 or size % block**levels:
            raise ValueError(f"L = {size} must be divisible by b^levels = {block}^{levels}")
        rbm_run = None
        if "rbm" in rules:
            if rbm_id is None:
                raise ValueError("the RBM method needs an rbm run")
            rbm_run = self.session.run(rbm_id)
            if rbm_id not in [v.id for v in self.rbm_candidates(size, block)]:
                raise ValueError(
                    f"{rbm_id} does not have n = {size}² visible and "
                    f"m = ({size}/{block})² hidden units"
                )
        task = CoarseGrainTask(data_run, rules, block, levels, seed, rbm_run)
        if self.job is not None:
            dispose(self.job)
        self._made = []
        job = self._start_job(task, name=f"coarse-grain {data_id}")
        job.outputProduced.connect(self._on_run)
        self.session.log(
            f"coarse-graining {data_id}: {', '.join(rules)}, b = {block}, "
            f"{levels} level(s), seed {seed}"
        )
        job.start()

    # ----------------------------------------------------------------- results
    def _on_run(self, output: tuple[RunRecord, np.ndarray | None]) -> None:
        run, recon = output
        run.id = self.session.new_run_id(run.kind)
        if recon is not None:
            self._reconstructions[run.id] = recon
        self.session.add_run(run)
        self._made.append(run.id)

    def _on_reconstruction(self, output: tuple[RunRecord, np.ndarray]) -> None:
        run, recon = output
        if self.session.record.runs.get(run.id) is run:  # not replaced by File > Open meanwhile
            self._reconstructions[run.id] = recon
            self.reconstructionReady.emit(run.id)

    def _on_ended(self, state: str) -> None:
        if state == JobState.FAILED.value:
            self.session.log(f"coarse-graining failed: {self.job.error}")
        made = list(self._made)
        if made:
            self.session.log(f"{', '.join(made)} added ({state})")
        self.runsMade.emit(made)

    def _forget(self) -> None:
        self._reconstructions.clear()
