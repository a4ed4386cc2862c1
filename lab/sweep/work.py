"""What a sweep's point is, per command: prepared on the client, run on a worker, filed back.

The client (:func:`prepare`) turns each point's options (the command's own parsed options,
:meth:`lab.sweep.plan.SweepPlan.namespace`) into what the command itself would build before its
work — the run's header, the trainer's configuration, the data — with the command's own
functions (:mod:`lab.ising.workflow`, :mod:`lab.rbm.workflow`, :mod:`lab.rbm.evaluation`,
:mod:`lab.geometry`), so a bad
point is refused before anything runs. A worker (:func:`run_point`, a plain function that Dask
ships by reference) then runs the command's own work on it and returns an :class:`Outcome`:
the finished runs as plain records (arrays and values), never touching a session. The data a
point reads (an RBM's training configurations) is an *input* shared by key: the client sends
each input to the cluster once (``Client.scatter``), not once per point.

Per command:

- ``simulate``: :func:`lab.ising.workflow.simulate_run`, the very recording ``simulate``
  makes, read back and completed as its fold does: one ``ising`` run per point;
- ``train``: :func:`lab.rbm.workflow.train_run`: one ``rbm`` run per point (a diverging
  training is the point's run, ``failed``, with its last good checkpoint);
- ``evaluate``: :func:`lab.rbm.evaluation.evaluate_model` of an existing ``rbm`` run: the
  point's result is the run's ``evaluation`` group, set on the client's copy of the run;
- ``geometry``: :class:`lab.geometry.task.GeometryTask` over the RBM's checkpoints: one
  ``geometry`` run per point;
- ``rg-flow``: :func:`lab.rg.flow.run_flow`, the work of ``rg-flow``: per point its ``rg-flow``
  run (the point's run id) and the ising, rg and rbm runs it makes, whose ids the client
  reserves before the points run (:func:`lab.rg.flow.flow_id_counts`), so the points' runs never
  collide. A resumed point draws its other ids anew (after every id in the session): its
  ``rg-flow`` id and its results are those of the uninterrupted sweep, the numbers of its ising,
  rg and rbm runs may differ.

With a shared folder (``shared_dir``) a worker writes its runs there as one-run session files
and returns only their paths; the client reads them and deletes them.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data import RunRecord, SessionRecord, load_session, save_session
from lab.cli.common import CliError
from lab.core.ids import next_run_id, utc_now
from lab.sweep.plan import PlanError, Point, SweepPlan

RUN_KINDS = {
    "simulate": "ising",
    "train": "rbm",
    "geometry": "geometry",
    "evaluate": "rbm",
    "rg-flow": "rg-flow",
}
"""The kind of the run each point of a command makes (evaluate: the rbm run it evaluates)."""


@dataclass
class Job:
    """One point, ready to submit: its index, run id, payload (small: a header, a config) and
    the key of the shared input it reads (None: none)."""

    index: int
    run_id: str
    payload: Any
    input_key: str | None = None


@dataclass
class Prepared:
    """The jobs of a sweep's points to run, the inputs they share, by key, and the run ids
    reserved for the runs the points make besides their own (``reserved``: rg-flow's)."""

    jobs: list[Job]
    inputs: dict[str, Any] = field(default_factory=dict)
    reserved: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What a worker returns for one point: ``status`` ('finished' or 'failed'), ``message``,
    the runs to add (``runs``; or, with a shared folder, the ``files`` holding them), the
    groups to set on existing runs (``groups``: run id → {group: attributes}), the compute
    time ``seconds``, the worker's address and the ``bytes`` this outcome weighs on the wire."""

    index: int
    status: str
    message: str = ""
    runs: list[RunRecord] = field(default_factory=list)
    groups: dict[str, dict[str, dict]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    worker: str = ""
    bytes: int = 0

    def load_files(self) -> None:
        """Read the runs a worker left in the shared folder (then delete the files)."""
        for name in self.files:
            self.runs.extend(load_session(name).runs.values())
            for leftover in (Path(name),):
                leftover.unlink(missing_ok=True)
        self.files = []


# ---------------------------------------------------------------------------- run ids
def assign_run_ids(
    plan: SweepPlan, namespaces: Sequence[argparse.Namespace], taken: Sequence[str]
) -> list[str]:
    """The run id of each point, in grid order: new ids of the command's run kind after
    ``taken`` (evaluate: the rbm run it evaluates, each at most once)."""
    if plan.command == "evaluate":
        ids = [ns.rbm for ns in namespaces]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise PlanError(
                f"evaluate: {twice[0]} would be evaluated by {ids.count(twice[0])} "
                "points (its evaluation group holds one): sweep rbm runs, not seeds"
            )
        return ids
    kind = RUN_KINDS.get(plan.command)
    if kind is None:
        raise PlanError(f"a sweep cannot run {plan.command} yet")
    ids: list[str] = []
    known = list(taken)
    for _ in namespaces:
        ids.append(next_run_id(known, kind))
        known.append(ids[-1])
    return ids


# ---------------------------------------------------------------------------- the client
def prepare(
    plan: SweepPlan,
    points: Sequence[Point],
    namespaces: Sequence[argparse.Namespace],
    run_ids: Sequence[str],
    runs: Mapping[str, RunRecord],
    folder: str,
    taken: Sequence[str] = (),
) -> Prepared:
    """The jobs of ``points`` (with their options ``namespaces`` and ids ``run_ids``), checked
    as their command checks them; PlanError naming the first bad point. ``runs`` are the
    session's, ``folder`` the session's folder (for the checks of disk space), ``taken`` any
    other ids no new run may have (ids reserved by other jobs, recordings beside the session)."""
    prepare_one = _PREPARE.get(plan.command)
    prepared = Prepared([])
    in_use = [*runs, *run_ids, *taken]
    for point, ns, run_id in zip(points, namespaces, run_ids, strict=True):
        try:
            if plan.command == "rg-flow":  # its other runs' ids are reserved point by point
                payload, key, data = _prepare_rg_flow(ns, run_id, dict(runs), in_use, prepared)
            elif prepare_one is not None:
                payload, key, data = prepare_one(ns, run_id, dict(runs), folder)
            else:
                raise PlanError(f"a sweep cannot run {plan.command} yet")
        except (CliError, ValueError) as exc:
            if isinstance(exc, PlanError):
                raise
            raise PlanError(f"{plan.describe(point)}: {exc}") from None
        if key is not None and key not in prepared.inputs:
            prepared.inputs[key] = data
        prepared.jobs.append(Job(point.index, run_id, payload, key))
    return prepared


def _prepare_simulate(ns, run_id, runs, folder):
    from lab.ising.workflow import new_simulation

    return new_simulation(ns, run_id, folder), None, None


def _prepare_train(ns, run_id, runs, folder):
    from lab.rbm.workflow import data_temperature, new_training

    run, config, data = new_training(ns, runs, run_id)
    temperature = data_temperature([runs[i] for i in ns.data if i in runs])
    return (run, config, temperature), "data:" + "+".join(ns.data), data


def _prepare_evaluate(ns, run_id, runs, folder):
    from lab.rbm.evaluation import evaluation_inputs

    rbm_run, data, data_ids, temperature = evaluation_inputs(ns, runs)
    model = RunRecord(
        id=rbm_run.id,
        kind="rbm",
        status=rbm_run.status,
        seed=rbm_run.seed,
        params={"size": int(rbm_run.params["size"])},
        datasets={k: rbm_run.datasets[k] for k in ("W", "a", "b")},
    )
    options = argparse.Namespace(**{k: v for k, v in vars(ns).items() if k != "func"})
    key = None if data is None else "data:" + "+".join(data_ids)
    return (model, data_ids, temperature, options), key, data


def _prepare_geometry(ns, run_id, runs, folder):
    from lab.cli.common import get_run
    from lab.core.settings import option_values
    from lab.geometry.options import SETTINGS, GeometryOptions
    from lab.rbm.runs import run_checkpoints, training_data

    rbm_run = get_run(runs, ns.rbm, "rbm", ns.path)
    data_ids = ns.data or list(rbm_run.params.get("data") or rbm_run.inputs)
    if not data_ids:
        raise CliError(f"run '{rbm_run.id}' records no training data: choose it with --data RUN")
    data, data_size = training_data([get_run(runs, i, "ising", ns.path) for i in data_ids])
    size = int(rbm_run.params.get("size", 0))
    if data_size != size:
        raise CliError(f"the data have L = {data_size}, the RBM '{rbm_run.id}' L = {size}")
    checkpoints = run_checkpoints(rbm_run)
    if "checkpoints/epoch" not in rbm_run.datasets or not checkpoints:
        raise CliError(f"run '{rbm_run.id}' has no checkpoints (train it with the trainer)")
    options = GeometryOptions(**option_values(ns, SETTINGS))
    options.compression(int(rbm_run.params.get("n_hidden", checkpoints[0][1].shape[1])))
    payload = (run_id, rbm_run.id, data_ids, size, options)
    key = f"checkpoints:{rbm_run.id}:data:" + "+".join(data_ids)
    return payload, key, (data, checkpoints)  # the checkpoints are large: shared, sent once


def _prepare_rg_flow(ns, run_id, runs, in_use: list[str], prepared: Prepared):
    """rg-flow's inputs checked as the command checks them, and the ids of the point's other
    runs reserved after ``in_use`` (extended with them, and listed in ``prepared.reserved``).
    The worker draws its ids after ``floor`` (the highest id of each kind before the block), so
    it draws exactly the reserved ones."""
    from lab.rg.flow import _flow_inputs, flow_id_counts

    flow_plan = _flow_inputs(ns, runs)
    floor, block = [], [run_id]
    for kind, count in flow_id_counts(ns, flow_plan).items():
        highest = _highest(in_use, kind)
        if highest:
            floor.append(highest)
        for _ in range(count):
            block.append(next_run_id(in_use, kind))
            in_use.append(block[-1])
    prepared.reserved.extend(block[1:])
    options = argparse.Namespace(**{k: v for k, v in vars(ns).items() if k != "func"})
    options.quiet = True
    return (run_id, options, flow_plan, floor, block), None, None


def _highest(ids: Sequence[str], kind: str) -> str:
    """The id of ``kind`` with the highest number among ``ids`` ('' if none): the run ids drawn
    after it (:func:`lab.core.ids.next_run_id`) are those drawn after all of ``ids``."""
    following = next_run_id(list(ids), kind)
    number = int(following.rsplit("-", 1)[1]) - 1
    return f"{kind}-{number:03d}" if number else ""


_PREPARE = {
    "simulate": _prepare_simulate,
    "train": _prepare_train,
    "evaluate": _prepare_evaluate,
    "geometry": _prepare_geometry,
}


# ---------------------------------------------------------------------------- the worker
def run_point(
    command: str,
    index: int,
    payload: Any,
    data: Any = None,
    shared_dir: str | None = None,
    tag: str = "",
) -> Outcome:
    """Run one point of ``command`` (on a Dask worker: no Qt, no session) and return its
    :class:`Outcome`. Exceptions other than the command's own failures (a diverging RBM) go to
    Dask, which retries the task, then reports it failed."""
    start = time.perf_counter()
    outcome = _RUN[command](index, payload, data)
    outcome.seconds = time.perf_counter() - start
    outcome.worker = _worker_address()
    if shared_dir is not None:
        outcome.files = [_write_run(run, shared_dir, tag) for run in outcome.runs]
        outcome.runs = []
    outcome.bytes = wire_bytes(outcome)
    return outcome


def _run_simulate(index: int, header: RunRecord, data) -> Outcome:
    from lab.ising.workflow import simulate_run

    run = simulate_run(header)
    return Outcome(index, run.status, run.message, runs=[run])


def _run_train(index: int, payload, data) -> Outcome:
    from lab.rbm.workflow import train_run

    run, config, temperature = payload
    run = train_run(run, config, data, temperature)
    return Outcome(index, run.status, run.message, runs=[run])


def _run_evaluate(index: int, payload, data) -> Outcome:
    from lab.rbm.evaluation import evaluate_model

    model, data_ids, temperature, options = payload
    evaluation = evaluate_model(model, data, data_ids, temperature, options)
    return Outcome(index, "finished", groups={model.id: {"evaluation": evaluation}})


def _run_geometry(index: int, payload, data) -> Outcome:
    from lab.geometry.runs import geometry_run
    from lab.geometry.task import GeometryTask

    run_id, rbm_id, data_ids, size, options = payload
    data, checkpoints = data
    created = utc_now()
    task = GeometryTask(checkpoints, data, size, options)
    status, message = "finished", ""
    try:
        while not task.finished:
            task.step()
    except (ValueError, RuntimeError, ArithmeticError) as exc:
        status, message = "failed", f"checkpoint {task.done + 1}: {exc}"
    rbm = RunRecord(id=rbm_id, kind="rbm", status="finished", seed=None, params={})
    run = geometry_run(
        run_id,
        rbm,
        data_ids,
        options,
        task.datasets(),
        status,
        created=created,
        finished=utc_now(),
        message=message,
    )
    return Outcome(index, status, message, runs=[run])


def _run_rg_flow(index: int, payload, data) -> Outcome:
    from lab.rg.flow import run_flow

    run_id, options, flow_plan, floor, block = payload
    made: dict[str, RunRecord] = {}

    def store(new: list[RunRecord], replace: bool) -> None:
        for run in new:
            made[run.id] = run

    flow, status, error = run_flow(options, flow_plan, run_id, [*floor, run_id], store)
    strays = sorted(set(made) - set(block))
    if strays:  # the reservation and the flow disagree: never file a colliding id
        raise RuntimeError(f"rg-flow made runs outside its reserved ids: {', '.join(strays)}")
    return Outcome(index, status, error or flow.message, runs=list(made.values()))


_RUN = {
    "simulate": _run_simulate,
    "train": _run_train,
    "evaluate": _run_evaluate,
    "geometry": _run_geometry,
    "rg-flow": _run_rg_flow,
}


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


def shared_files(folder: str, tag: str) -> list[Path]:
    """The files the workers of the sweep task ``tag`` wrote in ``folder``."""
    return sorted(Path(folder).glob(f".sweep-{tag}-*.h5"))


def _write_run(run: RunRecord, folder: str, tag: str) -> str:
    """Write ``run`` as a one-run session file in ``folder``; returns its path."""
    path = os.path.join(folder, f".sweep-{tag}-{uuid.uuid4().hex[:8]}-{run.id}.h5")
    save_session(SessionRecord(runs={run.id: run}, created=utc_now()), path)
    return path


def wire_bytes(value: object) -> int:
    """The bytes ``value`` weighs when Dask sends it: its pickle (protocol 5) and the
    out-of-band buffers of its arrays (sent as they are, not copied into the pickle)."""
    buffers: list[pickle.PickleBuffer] = []
    stream = io.BytesIO()
    pickle.Pickler(stream, protocol=5, buffer_callback=buffers.append).dump(value)
    return stream.tell() + sum(memoryview(b).nbytes for b in buffers)
