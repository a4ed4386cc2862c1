"""A sweep as a steppable task: submit its points to a Dask cluster, collect them as they end.

One task serves the ``sweep`` command and the sweep dock's job. The first ``step()`` opens the
cluster (:mod:`lab.sweep.cluster`), sends the shared inputs once (``Client.scatter``) and
submits one Dask task per point to run (:func:`lab.sweep.work.run_point`, with
:data:`~lab.sweep.cluster.RETRIES` retries), in grid order; every later ``step()`` waits at
most ``STEP_SECONDS`` for points to end and hands each one's :class:`~lab.sweep.work.Outcome`
to ``on_outcome`` (the command files it into the session at once) or, in a job, to ``emit``
(the dock's controller files it in the GUI thread). A task that raised on every try is an
outcome ``failed`` with the exception as its message; the other points go on.

``on_stop()`` (Ctrl-C, Cancel) cancels the points in flight and closes the cluster: what
finished is kept, the rest stays to resume. The task never touches the session.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from lab.sweep.cluster import RETRIES, Cluster
from lab.sweep.runs import SweepState
from lab.sweep.work import Outcome, Prepared, run_point, shared_files

STEP_SECONDS = 0.05
POLL_SECONDS = 0.005
PROCESSING_PERIOD_S = 1.0
"""How often the task asks the scheduler which points are running."""


@dataclass(frozen=True)
class SweepSnapshot:
    """Progress of a sweep: points per status, time, the estimated time left (None until a
    point has ended), the cluster and its dashboard, and each point's status."""

    phase: str  # "starting", "running" or "done"
    total: int
    finished: int
    failed: int
    running: int
    pending: int
    elapsed: float
    eta: float | None
    cluster: str
    dashboard: str
    statuses: tuple[str, ...]

    @property
    def progress(self) -> float:
        return (self.finished + self.failed) / self.total if self.total else 1.0

    def describe(self) -> str:
        """'12/16 done, 2 running, 1 failed, ETA 35 s'."""
        text = f"{self.finished}/{self.total} done, {self.running} running"
        if self.failed:
            text += f", {self.failed} failed"
        if self.eta is not None and self.phase == "running":
            text += f", ETA {_duration(self.eta)}"
        return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class SweepTask:
    """Runs the prepared points of ``state`` (those in ``prepared.jobs``) on the cluster that
    ``open_cluster()`` gives; see the module docstring."""

    def __init__(
        self,
        state: SweepState,
        prepared: Prepared,
        open_cluster: Callable[[], Cluster],
        *,
        shared_dir: str | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        on_cluster: Callable[[Cluster], None] | None = None,
    ) -> None:
        self.command = state.plan.command
        self.prepared = prepared
        self.total = len(state.rows)
        self.statuses = [
            row.status
            if row.status == "finished"
            else ("pending" if any(j.index == row.index for j in prepared.jobs) else row.status)
            for row in state.rows
        ]
        self._open_cluster = open_cluster
        self.shared_dir = shared_dir
        self.on_outcome = on_outcome
        self.on_cluster = on_cluster
        self.emit: Callable[[object], None] = lambda _: None
        self.cluster: Cluster | None = None
        self.finished = not prepared.jobs
        self.error = ""
        self._futures: dict[int, object] = {}
        self._done: object = None
        self._keys: dict[str, int] = {}
        self._start = time.monotonic()
        self._submitted_at: float | None = None
        self._ended_here = 0
        self._next_processing = 0.0
        self._cluster_text = self._dashboard = ""
        self.token = uuid.uuid4().hex[:8]

    # ------------------------------------------------------------------ stepping
    def step(self) -> SweepSnapshot:
        """One round (module docstring); the cluster is closed if anything here raises."""
        try:
            return self._step()
        except BaseException:
            self.close()
            raise

    def _step(self) -> SweepSnapshot:
        if self.finished:
            return self.snapshot()
        if self.cluster is None:
            self._submit()
            return self.snapshot()
        deadline = time.monotonic() + STEP_SECONDS
        batch = self._done.next_batch(block=False)
        while not batch and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            batch = self._done.next_batch(block=False)
        indices = {id(f): i for i, f in self._futures.items()}
        for future in batch:
            index = indices.get(id(future))
            if index is None:
                continue
            del self._futures[index]
            outcome = self._outcome(index, future)
            self.statuses[index] = outcome.status
            self._ended_here += 1
            self._deliver(outcome)
        self._update_running()
        if not self._futures:
            self.finished = True
            self.close()
        return self.snapshot()

    def _submit(self) -> None:
        self.cluster = self._open_cluster()
        self._cluster_text, self._dashboard = self.cluster.describe(), self.cluster.dashboard
        if self.on_cluster is not None:
            self.on_cluster(self.cluster)
        client = self.cluster.client
        shared = {
            key: client.scatter(value, hash=False) for key, value in self.prepared.inputs.items()
        }
        from distributed import as_completed

        self._done = as_completed(loop=client.loop)
        token = self.token
        for job in self.prepared.jobs:
            key = f"monge-lab-{token}-point-{job.index:05d}"
            data = shared[job.input_key] if job.input_key is not None else None
            self._futures[job.index] = client.submit(
                run_point,
                self.command,
                job.index,
                job.payload,
                data,
                self.shared_dir,
                token,
                key=key,
                retries=RETRIES,
                pure=False,
            )
            self._keys[key] = job.index
        self._done.update(list(self._futures.values()))
        self._submitted_at = time.monotonic()
        self._next_processing = 0.0
        self._update_running()

    def _outcome(self, index: int, future) -> Outcome:
        """The outcome of a future that is done (a failed outcome if its task raised)."""
        status = future.status
        try:
            if status == "finished":
                outcome = future.result()
                if outcome.files:
                    outcome.load_files()
                return outcome
            if status == "error":
                exc = future.exception()
                return Outcome(index, "failed", f"{type(exc).__name__}: {exc}")
            return Outcome(index, "failed", f"the task was {status} by the cluster")
        except Exception as exc:  # noqa: BLE001 — fetching or reading the result failed
            return Outcome(index, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(Exception):
                future.release()

    def _deliver(self, outcome: Outcome) -> None:
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        else:
            self.emit(outcome)

    def _update_running(self) -> None:
        now = time.monotonic()
        if now < self._next_processing or self.cluster is None:
            return
        self._next_processing = now + PROCESSING_PERIOD_S
        try:
            processing = self.cluster.client.processing()
        except Exception:  # noqa: BLE001 — a busy or restarting scheduler: keep the last view
            return
        running = {self._keys[k] for keys in processing.values() for k in keys if k in self._keys}
        for index in self._futures:
            self.statuses[index] = "running" if index in running else "pending"

    # ------------------------------------------------------------------ ending
    def on_stop(self) -> None:
        """Cancel the points in flight (they stay to resume) and close the cluster."""
        if self.cluster is not None and self._futures:
            with contextlib.suppress(Exception):
                self.cluster.client.cancel(list(self._futures.values()), force=True)
        for index in self._futures:
            self.statuses[index] = "pending"
        self._futures.clear()
        self.finished = True
        self.close()

    def close(self) -> None:
        """Close the cluster (idempotent), then delete what the workers of cancelled points
        wrote into the shared folder (a point still running on a remote worker may write its
        file later: ``.sweep-<tag>-…``, safe to delete)."""
        if self.cluster is not None:
            self.cluster.close()
        if self.shared_dir is not None:
            for leftover in shared_files(self.shared_dir, self.token):
                leftover.unlink(missing_ok=True)

    # ------------------------------------------------------------------ progress
    def snapshot(self) -> SweepSnapshot:
        counts = {s: self.statuses.count(s) for s in ("finished", "failed", "running", "pending")}
        elapsed = time.monotonic() - self._start
        eta = None
        left = counts["running"] + counts["pending"]
        if self._submitted_at is not None and self._ended_here:
            rate = self._ended_here / max(time.monotonic() - self._submitted_at, 1e-9)
            eta = left / rate
        phase = "done" if self.finished else ("starting" if self.cluster is None else "running")
        cluster, dashboard = ("", "") if self.finished else (self._cluster_text, self._dashboard)
        return SweepSnapshot(
            phase,
            self.total,
            counts["finished"],
            counts["failed"],
            counts["running"],
            counts["pending"],
            elapsed,
            eta,
            cluster,
            dashboard,
            tuple(self.statuses),
        )
