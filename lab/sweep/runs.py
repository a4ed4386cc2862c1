"""A sweep as a session run: the plan, the grid, each point's status and run, and its views.

A ``sweep`` run holds

- attributes: ``command`` (the kind of work: simulate, train, …), ``plan`` (the plan as JSON,
  :meth:`lab.sweep.plan.SweepPlan.to_json`), ``points``, ``seeds``, ``axes`` (the swept
  options), ``cluster`` (where it last ran), ``done``, ``failed``; its seed is the plan's base
  seed;
- the group ``grid``: per swept option, its value at each point (numbers as numbers);
- the group ``points``: per point, ``run`` (the id of its run, assigned in grid order when the
  sweep starts, so resuming and rerunning are deterministic), ``status`` (pending, running,
  finished, failed), ``seed``, ``grid_index``, ``replicate``, ``message``, ``seconds`` (compute
  time on its worker), ``bytes`` (what its result weighed on the wire) and ``worker``;
- ``inputs``: the runs its points made so far (or, for ``evaluate``, the runs they evaluated).

Its status is ``interrupted`` while it runs (so that a kill leaves it marked as such), then
``finished`` (every point finished), ``failed`` (some point failed; the others are kept) or
``stopped`` (Ctrl-C, Cancel). ``sweep --resume`` runs the points that are not finished.

:class:`SweepState` builds and updates that record; :class:`SweepRunView` is what the sweep
dock reads (points, their values, the scalars of their runs, curves with error bars).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from data import RunRecord
from lab.core.ids import short_message, utc_now
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.sweep.plan import PlanError, SweepPlan

POINT_STATUSES = ("pending", "running", "finished", "failed")
FILED = ("finished", "failed")
"""Point statuses whose run (if any) is in the session."""


@dataclass
class PointRow:
    """One point as the sweep run records it (module docstring)."""

    index: int
    grid_index: int
    replicate: int
    values: dict[str, str]
    seed: int
    run_id: str
    status: str = "pending"
    message: str = ""
    seconds: float = math.nan
    bytes: int = 0
    worker: str = ""


@dataclass
class SweepState:
    """A sweep in progress: its id, plan, points and status; :meth:`record` is its run."""

    id: str
    plan: SweepPlan
    rows: list[PointRow]
    created: str = ""
    status: str = "interrupted"
    message: str = ""
    cluster: str = ""
    filed: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, sweep_id: str, plan: SweepPlan, run_ids: Sequence[str]) -> SweepState:
        points = plan.points()
        rows = [
            PointRow(p.index, p.grid_index, p.replicate, dict(p.values), p.seed, run_id)
            for p, run_id in zip(points, run_ids, strict=True)
        ]
        return cls(sweep_id, plan, rows, created=utc_now())

    # ------------------------------------------------------------------ counts
    def count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    @property
    def unfinished(self) -> list[PointRow]:
        """The points a resume runs: every one that is not finished."""
        return [row for row in self.rows if row.status != "finished"]

    def progress_text(self) -> str:
        n = len(self.rows)
        failed = self.count("failed")
        text = f"{self.count('finished')} of {n} points finished"
        return text + (f", {failed} failed" if failed else "")

    # ------------------------------------------------------------------ updates
    def mark(
        self,
        index: int,
        status: str,
        message: str = "",
        *,
        seconds: float = math.nan,
        nbytes: int = 0,
        worker: str = "",
        filed: bool = False,
    ) -> None:
        """Set point ``index``'s status (and what its worker reported)."""
        row = self.rows[index]
        row.status, row.message = status, short_message(message)
        if not math.isnan(seconds):
            row.seconds = seconds
        if nbytes:
            row.bytes = nbytes
        if worker:
            row.worker = worker
        if filed and row.run_id not in self.filed:
            self.filed.append(row.run_id)

    def end(self, stopped: bool = False) -> None:
        """The final status: ``stopped`` (Ctrl-C, Cancel: the points in flight are pending
        again), else ``failed`` when some point failed, else ``finished``."""
        for row in self.rows:
            if row.status == "running":
                row.status = "pending"
        if stopped:
            self.status = "stopped"
        elif self.count("pending"):
            self.status = "interrupted"
        elif self.count("failed"):
            self.status = "failed"
        else:
            self.status = "finished"
        self.message = self.progress_text()

    # ------------------------------------------------------------------ the run
    def record(self) -> RunRecord:
        """The ``sweep`` run of this state (module docstring)."""
        rows = self.rows
        grid = {dest: _typed([row.values[dest] for row in rows]) for dest in self.plan.axes}
        points = {
            "run": [row.run_id for row in rows],
            "status": [row.status for row in rows],
            "seed": [int(row.seed) for row in rows],
            "grid_index": [row.grid_index for row in rows],
            "replicate": [row.replicate for row in rows],
            "message": [row.message for row in rows],
            "seconds": [float(row.seconds) for row in rows],
            "bytes": [int(row.bytes) for row in rows],
            "worker": [row.worker for row in rows],
        }
        params: dict = {
            "command": self.plan.command,
            "plan": self.plan.to_json(),
            "points": len(rows),
            "seeds": self.plan.seeds,
            "done": self.count("finished"),
            "failed": self.count("failed"),
        }
        if self.plan.axes:
            params["axes"] = list(self.plan.axes)
        if self.cluster:
            params["cluster"] = self.cluster
        groups = {"points": points}
        if grid:
            groups["grid"] = grid
        finished = None if self.status == "interrupted" else utc_now()
        order = {row.run_id: row.index for row in rows}
        inputs = sorted(self.filed, key=lambda i: order.get(i, 0))
        return RunRecord(
            id=self.id,
            kind="sweep",
            status=self.status,
            seed=self.plan.seed,
            params=params,
            inputs=inputs,
            created=self.created,
            finished=finished,
            message=short_message(self.message or self.progress_text()),
            groups=groups,
        )

    @classmethod
    def from_record(cls, run: RunRecord) -> SweepState:
        """The state of a recorded sweep (PlanError if the run is not a readable sweep)."""
        if run.kind != "sweep":
            raise PlanError(f"run '{run.id}' is of kind '{run.kind}', not a sweep")
        try:
            plan = SweepPlan.from_json(str(run.params["plan"]))
            table = run.groups["points"]
            points = plan.points()
            if len(points) != len(table["run"]):
                raise PlanError(
                    f"sweep '{run.id}' records {len(table['run'])} points, its "
                    f"plan has {len(points)}"
                )
            rows = []
            for i, point in enumerate(points):
                row = PointRow(
                    point.index,
                    point.grid_index,
                    point.replicate,
                    dict(point.values),
                    int(table["seed"][i]),
                    str(table["run"][i]),
                    str(table["status"][i]),
                    str(table["message"][i]),
                    float(table["seconds"][i]),
                    int(table["bytes"][i]),
                    str(table["worker"][i]),
                )
                if row.status not in POINT_STATUSES:
                    raise PlanError(f"sweep '{run.id}': point {i + 1} has status {row.status!r}")
                rows.append(row)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            if isinstance(exc, PlanError):
                raise
            raise PlanError(f"run '{run.id}' is not a readable sweep ({exc})") from None
        return cls(
            run.id,
            plan,
            rows,
            created=run.created,
            status=run.status,
            message=run.message,
            cluster=str(run.params.get("cluster", "")),
            filed=list(run.inputs),
        )


def _typed(texts: list[str]) -> list:
    """Values of one axis as numbers when every one is a number (ints when all are), else
    as text."""
    try:
        numbers = [float(t) for t in texts]
    except ValueError:
        return list(texts)
    if all(
        n.is_integer() and "." not in t and "e" not in t.lower()
        for n, t in zip(numbers, texts, strict=True)
    ):
        return [int(t) for t in texts]
    return numbers


# ---------------------------------------------------------------------------- scalars
def run_scalars(run: RunRecord) -> dict[str, tuple[float, float]]:
    """The scalar results of a point's run, ``name → (value, one-sigma error or NaN)``: its
    results (``e``, ``binder``, ``nll_valid``, …, errors from ``<name>_error``; the NLLs take
    log Z's error when they have none) and the numbers of its ``evaluation`` group
    (``evaluation.nll``, …)."""
    out: dict[str, tuple[float, float]] = {}

    def take(values: Mapping, prefix: str) -> None:
        for name, value in values.items():
            if name.endswith(("_error", "_tau")) or isinstance(value, bool):
                continue
            if not isinstance(value, int | float):
                continue
            error = values.get(f"{name}_error")
            if not isinstance(error, int | float) and name.startswith("nll"):
                error = values.get("log_z_error")
            out[prefix + name] = (
                float(value),
                float(error) if isinstance(error, int | float) else math.nan,
            )

    take(run.results, "")
    take(run.groups.get("evaluation", {}), "evaluation.")
    return out


@dataclass(frozen=True, eq=False)
class Curve:
    """One curve of a sweep's plot: a label (the other swept options' values), x, y and
    one-sigma errors (NaN where unknown)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    error: np.ndarray


def combine(values: Sequence[float], errors: Sequence[float]) -> tuple[float, float]:
    """The mean of replicates and its error: the larger of the replicates' standard error and
    the propagated error √(Σσ²)/n (one replicate: its own error)."""
    v = np.asarray(values, dtype=float)
    e = np.asarray(errors, dtype=float)
    n = v.size
    mean = float(v.mean())
    propagated = float(np.sqrt(np.nansum(e**2)) / n) if np.isfinite(e).any() else math.nan
    if n == 1:
        return mean, propagated
    spread = float(v.std(ddof=1) / math.sqrt(n))
    return mean, spread if math.isnan(propagated) else max(spread, propagated)


# ---------------------------------------------------------------------------- the view
@dataclass(frozen=True)
class PointView:
    """One point as the sweep dock shows it."""

    index: int
    run_id: str
    status: str
    seed: int
    values: dict[str, str]
    message: str
    seconds: float
    worker: str


class SweepRunView(RunView):
    """A ``sweep`` run as the sweep dock reads it: what it ran, its points, and the curves of a
    scalar result against a swept option."""

    kind = "sweep"

    def state(self) -> SweepState:
        """The sweep's state (to resume it or show it)."""
        return SweepState.from_record(self.record)

    @property
    def command(self) -> str:
        return str(self._param("command", ""))

    @property
    def plan(self) -> SweepPlan:
        return SweepPlan.from_json(str(self._param("plan", "{}")))

    @property
    def axes(self) -> tuple[str, ...]:
        return tuple(self._param("axes", []) or [])

    @property
    def n_points(self) -> int:
        return int(self._param("points", 0))

    @property
    def cluster(self) -> str:
        return str(self._param("cluster", ""))

    def points(self) -> list[PointView]:
        return [
            PointView(r.index, r.run_id, r.status, r.seed, r.values, r.message, r.seconds, r.worker)
            for r in self.state().rows
        ]

    def counts(self) -> dict[str, int]:
        """Points per status."""
        state = self.state()
        return {status: state.count(status) for status in POINT_STATUSES}

    def numeric_axes(self) -> list[str]:
        """The swept options whose values are numbers (what a plot can have on x)."""
        grid = self._group("grid")
        return [
            a for a in self.axes if a in grid and all(isinstance(v, int | float) for v in grid[a])
        ]

    def scalar_names(self, lookup: Callable[[str], RunRecord | None]) -> list[str]:
        """The scalar results the finished points' runs have (``lookup(run_id)`` gives a run,
        None when absent), in first-seen order."""
        names: dict[str, None] = {}
        for point in self.points():
            run = lookup(point.run_id) if point.status == "finished" else None
            if run is not None:
                names.update(dict.fromkeys(run_scalars(run)))
        return list(names)

    def curves(self, lookup: Callable[[str], RunRecord | None], x: str, y: str) -> list[Curve]:
        """``y`` (a scalar result) against the swept option ``x``: one curve per value of the
        other swept options (e.g. U₄ against T for each L), replicates combined by
        :func:`combine`, x sorted. Points not finished, or without ``y``, are left out."""
        grid = self._group("grid")
        if x not in grid:
            raise ValueError(f"'{x}' is not a swept option of {self.id}")
        others = [a for a in self.axes if a not in (x, "seed")]
        groups: dict[tuple, dict[float, tuple[list, list]]] = {}
        for point in self.points():
            run = lookup(point.run_id) if point.status == "finished" else None
            scalars = {} if run is None else run_scalars(run)
            if y not in scalars:
                continue
            key = tuple(grid[a][point.index] for a in others if a in grid)
            xs = groups.setdefault(key, {})
            values, errors = xs.setdefault(float(grid[x][point.index]), ([], []))
            values.append(scalars[y][0])
            errors.append(scalars[y][1])
        curves = []
        for key, xs in groups.items():
            order = sorted(xs)
            combined = [combine(*xs[v]) for v in order]
            label = ", ".join(f"{a}={v}" for a, v in zip(others, key, strict=False)) or y
            curves.append(
                Curve(
                    label,
                    np.array(order),
                    np.array([c[0] for c in combined]),
                    np.array([c[1] for c in combined]),
                )
            )
        return curves


def _sweep_summary(view: RunView) -> str:
    """'simulate, 16 points: 12 finished, 1 failed'."""
    assert isinstance(view, SweepRunView)
    counts = view.counts()
    text = f"{view.command}, {view.n_points} points: {counts['finished']} finished"
    return text + (f", {counts['failed']} failed" if counts["failed"] else "")


register(RunKind("sweep", SweepRunView, _sweep_summary, dock="sweepDock"))
