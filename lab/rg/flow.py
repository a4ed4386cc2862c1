"""The ``rg-flow`` workflow: check the plan before any work, simulate each temperature, train or
take the RBMs, and build the ``rg-flow`` run of T → T′ per level.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from data import (
    RunRecord,
)
from engines.ising import ALGORITHMS, IsingParams
from engines.rbm import RBMConfig, RBMTrainer
from lab.cli.common import (
    CliError,
    get_run,
)
from lab.core.ids import next_run_id, utc_now
from lab.core.progress import drive
from lab.core.resources import check_fits
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.settings import SPIN_BYTES_ON_DISK
from lab.ising.task import IsingPlan, IsingRecording, IsingTask
from lab.rbm.runs import (
    RunInputError,
    new_rbm_run,
    rbm_from_run,
    training_data,
)
from lab.rg.cli import (
    DEFAULT_LEVELS,
    FLOW_RULES,
    MAX_FLOW_STEPS,
    MAX_FLOW_TEMPERATURES,
    MAX_FLOW_UPDATES,
)
from lab.rg.runs import (
    TEMPERATURE_CURVES,
    check_stack,
    coarse_grain_run,
    rbm_flow_run,
)
from lab.rg.settings import check_levels
from lab.rg.stack import _config, _new_ids, _train, _train_stack
from lab.scan.task import parse_temperatures, scan_seeds


# ---------------------------------------------------------------------------- rg-flow
@dataclass
class FlowPlan:
    """What rg-flow will do, checked before any simulation."""

    temperatures: np.ndarray
    plan: IsingPlan
    levels: int
    rbm_runs: list[RunRecord]
    config: RBMConfig | None  # None when the RBMs are given


def flow_temperatures(text: str) -> np.ndarray:
    """The temperatures of ``--temperatures`` (:func:`lab.scan.task.parse_temperatures`), at most
    :data:`MAX_FLOW_TEMPERATURES` of them (a range's count is checked before the range is made)
    and all distinct; ValueError with one sentence otherwise."""
    parts = text.strip().split(":")
    if len(parts) == 3:
        try:
            count = int(parts[2])
        except ValueError:
            count = 0  # parse_temperatures says what is wrong
        if count > MAX_FLOW_TEMPERATURES:
            raise ValueError(
                f"'{text.strip()}' asks for {count} temperatures, more than rg-flow runs "
                f"({MAX_FLOW_TEMPERATURES}): each one is a whole simulation"
            )
    temperatures = parse_temperatures(text)
    if temperatures.size > MAX_FLOW_TEMPERATURES:
        raise ValueError(
            f"{temperatures.size} temperatures, more than rg-flow runs ({MAX_FLOW_TEMPERATURES})"
        )
    values, counts = np.unique(temperatures, return_counts=True)
    if np.any(counts > 1):
        repeated = ", ".join(f"{t:g}" for t in values[counts > 1])
        raise ValueError(f"the temperatures must be distinct: {repeated} given more than once")
    return temperatures


def flow_footprint(args: argparse.Namespace, n_temperatures: int, levels: int) -> dict[str, int]:
    """Upper bounds of what an rg-flow keeps (:func:`lab.core.resources.check_fits`):
    ``memory`` (every temperature's configurations and their coarse levels, int8, with a
    float64 working copy of one level for its observables and, when RBMs are trained, the pooled
    training data as float32) and ``disk`` (the session written atomically with all of it)."""
    spins = args.samples * args.size * args.size
    if args.rule == "rbm-flow":
        share = float(levels)  # every step is a full L×L lattice per sample
    else:
        share = sum(float(args.block) ** (-2 * k) for k in range(1, levels + 1))
    kept = int(n_temperatures * spins * (1 + share))
    training = 5 * n_temperatures * spins if args.rule in ("rbm", "rbm-flow") else 0
    return {
        "memory": kept + max(16 * spins, training) + (64 << 20),
        "disk": int(3 * SPIN_BYTES_ON_DISK * kept) + (1 << 20),
    }


def _plural(count: int) -> str:
    return f"{count} temperature{'' if count == 1 else 's'}"


def _check_work(args: argparse.Namespace, n_temperatures: int, levels: int) -> None:
    """ValueError when the flow asks for more than :data:`MAX_FLOW_UPDATES` spin updates, or
    would not fit this machine's memory or the disk beside the session (checked before any
    simulation: a flow refused an hour in helps nobody)."""
    if args.samples < 2:
        raise ValueError(
            f"--samples must be ≥ 2 (C(r) and the errors need two), got {args.samples}"
        )
    sweeps = args.thermalize + args.samples * args.interval
    updates = n_temperatures * sweeps * args.size * args.size
    if updates > MAX_FLOW_UPDATES:
        raise ValueError(
            f"{_plural(n_temperatures)} × {sweeps} sweeps of L² = {args.size**2} spins are "
            f"{updates:.2g} spin updates, more than rg-flow runs ({MAX_FLOW_UPDATES:.0e}); "
            f"fewer temperatures, samples, --thermalize or --interval"
        )
    check_fits(
        f"rg-flow ({_plural(n_temperatures)} × {args.samples} samples of L = {args.size})",
        **flow_footprint(args, n_temperatures, levels),
        folder=os.path.dirname(os.path.abspath(args.path)),
        advice="fewer temperatures, samples, levels or steps, or a smaller lattice",
    )


def _flow_inputs(args: argparse.Namespace, runs: dict[str, RunRecord]) -> FlowPlan:
    if args.rule not in FLOW_RULES:
        raise CliError(f"unknown rule '{args.rule}' for rg-flow ({', '.join(FLOW_RULES)})")
    if args.algorithm not in ALGORITHMS:
        raise CliError(f"unknown algorithm '{args.algorithm}'")
    rbm_runs = [get_run(runs, run_id, "rbm", args.path) for run_id in args.rbm]
    if rbm_runs and args.rule not in ("rbm", "rbm-flow"):
        raise CliError(f"--rbm is for --rule rbm or rbm-flow, not '{args.rule}'")
    if args.rule == "rbm-flow":
        levels = args.steps
        if not 1 <= levels <= MAX_FLOW_STEPS:
            raise CliError(f"--steps must be from 1 to {MAX_FLOW_STEPS}, got {levels}")
        if len(rbm_runs) > 1:
            raise CliError("rbm-flow iterates one RBM: give at most one --rbm")
    else:
        levels = args.levels if args.levels is not None else (len(rbm_runs) or DEFAULT_LEVELS)
        if rbm_runs and levels != len(rbm_runs):
            raise CliError(
                f"--levels {levels} but {len(rbm_runs)} --rbm runs: the rbm rule "
                f"makes one level per RBM"
            )
        try:
            check_levels(args.size, args.block, levels)  # b^levels | L, coarsest ≥ 2×2
        except ValueError as exc:
            raise CliError(str(exc)) from None
    try:
        temperatures = flow_temperatures(args.temperatures)
        plan = IsingPlan(thermalize=args.thermalize, interval=args.interval, samples=args.samples)
        plan.validate()
        IsingParams(
            size=args.size,
            temperature=float(temperatures[0]),
            algorithm=args.algorithm,
            seed=args.seed,
        ).validate()
        _check_work(args, temperatures.size, levels)
        if args.rule == "rbm":
            check_stack(rbm_runs, args.size, args.block)
        if args.rule == "rbm-flow" and rbm_runs:
            n_visible = rbm_from_run(rbm_runs[0]).n_visible
            if n_visible != args.size**2:
                raise RunInputError(
                    f"run '{rbm_runs[0].id}' has {n_visible} visible units, "
                    f"L = {args.size} needs {args.size**2}"
                )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    config = None
    if args.rule in ("rbm", "rbm-flow") and not rbm_runs:
        hidden = args.hidden if args.hidden is not None else max(1, args.size**2 // 4)
        config = _config(args, hidden)
    return FlowPlan(temperatures, plan, levels, rbm_runs, config)


def _simulate(
    run_id: str, params: IsingParams, plan: IsingPlan, quiet: bool
) -> tuple[RunRecord, str, str]:
    """Simulate one Ising run to its end (Ctrl-C stops it); returns (run, status, message)."""
    run = new_ising_run(run_id, params, plan)
    run.created = utc_now()
    recording = IsingRecording()
    task = IsingTask(params, plan, recording)
    status, message = drive(
        task, f"{run_id} T={params.temperature:.4g}", quiet, lambda s: (s.progress or 0.0, s.phase)
    )
    return finish_ising_run(run, recording, params, status, utc_now(), message), status, message


def _flow_rbms(
    args: argparse.Namespace,
    flow: FlowPlan,
    ids: list[str],
    ising_runs: list[RunRecord],
    rg_ids: list[str],
) -> tuple[list[RunRecord], list[RunRecord], str, str]:
    """(RBMs to use, new RBM runs, status, error): given, or trained on the pooled runs
    (a stack for the rule rbm, whose rg runs will be ``rg_ids``)."""
    if flow.config is None:
        return flow.rbm_runs, [], "finished", ""
    if args.rule == "rbm":
        outcome = _train_stack(ids, ising_runs, flow.levels, args.block, flow.config, args, rg_ids)
        return (outcome.rbm_runs[: outcome.levels], outcome.rbm_runs, outcome.status, outcome.error)
    data, size = training_data(ising_runs)
    trainer = RBMTrainer(flow.config, data)
    run = new_rbm_run(next_run_id(ids, "rbm"), flow.config, size, [r.id for r in ising_runs])
    run.created = utc_now()
    ids.append(run.id)
    status, message = _train(run, trainer, args.quiet)
    return [run], [run], status, message if status == "failed" else ""


def _flow_run(
    run_id: str,
    args: argparse.Namespace,
    flow_plan: FlowPlan,
    rg_runs: list[RunRecord],
    rbms: list[RunRecord],
    status: str,
    message: str,
) -> RunRecord:
    """The rg-flow run: T → T′ per level (per step for rbm-flow) of every rg run made."""
    params: dict[str, object] = {
        "rule": args.rule,
        "block": 1 if args.rule == "rbm-flow" else args.block,
        "levels": flow_plan.levels,
        "size": args.size,
        "temperatures": [float(t) for t in flow_plan.temperatures],
        "samples": args.samples,
        "algorithm": args.algorithm,
        "mode": "rbm-flow" if args.rule == "rbm-flow" else "coarse-grain",
    }
    if rbms:
        params["rbm"] = [r.id for r in rbms]
    if args.rule == "rbm-flow":
        params["steps"] = args.steps
    flow = RunRecord(
        id=run_id,
        kind="rg-flow",
        status=status,
        seed=args.seed,
        params=params,
        inputs=[r.id for r in rg_runs],
        created=utc_now(),
        finished=utc_now(),
        message=message[:200],
    )
    done = len(rg_runs)
    flow.datasets["temperature"] = np.asarray(flow_plan.temperatures[:done], dtype=float)
    for name in TEMPERATURE_CURVES:
        for key in (name, f"{name}_error"):
            flow.datasets[key] = np.array([r.datasets[key] for r in rg_runs], dtype=float).reshape(
                done, flow_plan.levels
            )
    flow.dataset_attrs = {
        name: {"units": "T in units of J", "axes": "temperature, level"}
        for name in TEMPERATURE_CURVES
    }
    return flow


StoreRuns = Callable[[list[RunRecord], bool], None]
"""Where ``run_flow`` hands its runs as they are done: ``store(runs, replace)`` (replace: the
runs replace same-id runs already handed over — the partial ``rg-flow`` run)."""


def run_flow(
    args: argparse.Namespace,
    flow_plan: FlowPlan,
    flow_id: str,
    ids: list[str],
    store: StoreRuns,
) -> tuple[RunRecord, str, str]:
    """Simulate every temperature, coarse-grain or flow it, and build the ``rg-flow`` run
    ``flow_id``: the work of ``rg-flow`` (the command stores into the session, a sweep's worker
    into memory). New run ids are drawn after ``ids`` (extended as they are). Each temperature's
    ising (and, for block spins, rg) runs go to ``store`` as soon as it is done, with the
    ``rg-flow`` run of the rows so far (status 'interrupted'); the final ``rg-flow`` run is
    stored last. Returns (the rg-flow run, its status, an error message or '')."""
    temperatures = flow_plan.temperatures
    flow_saved = False
    ising_runs: list[RunRecord] = []
    rg_runs: list[RunRecord] = []
    rbms: list[RunRecord] = []
    status, error = "finished", ""
    message = ""
    block_spins = args.rule in ("majority", "decimation")
    for temperature, seed in zip(
        temperatures, scan_seeds(args.seed, temperatures.size), strict=True
    ):
        params = IsingParams(
            size=args.size, temperature=float(temperature), algorithm=args.algorithm, seed=seed
        )
        ising, status, message = _simulate(
            next_run_id(ids, "ising"), params, flow_plan.plan, args.quiet
        )
        ids.append(ising.id)
        if status != "finished":
            break
        done = [ising]
        ising_runs.append(ising)
        if block_spins:
            rg = coarse_grain_run(
                next_run_id(ids, "rg"), ising, args.rule, args.block, flow_plan.levels, args.seed
            )
            ids.append(rg.id)
            done.append(rg)
            rg_runs.append(rg)
        partial = _flow_run(
            flow_id,
            args,
            flow_plan,
            rg_runs,
            rbms,
            "interrupted",
            f"recorded {len(ising_runs)} of {temperatures.size} temperatures",
        )
        if flow_saved:
            store(done, False)
            store([partial], True)
        else:
            store([*done, partial], False)
            flow_saved = True
    if not block_spins and status == "finished":
        rg_ids = _new_ids(ids, "rg", len(ising_runs))
        rbms, trained, status, error = _flow_rbms(args, flow_plan, ids, ising_runs, rg_ids)
        message = error or ("interrupted by the user (Ctrl-C)" if status == "stopped" else "")
        ready = status == "finished" and not error
        for rg_id, ising in zip(rg_ids, ising_runs if ready else [], strict=False):
            if args.rule == "rbm":
                rg = coarse_grain_run(
                    rg_id,
                    ising,
                    "rbm",
                    args.block,
                    flow_plan.levels,
                    args.seed,
                    rbms,
                    args.min_share,
                )
            else:
                rg = rbm_flow_run(rg_id, ising, rbms[0], args.steps, args.seed)
            rg_runs.append(rg)
        if trained or rg_runs:
            store([*trained, *rg_runs], False)
        if error:
            status = "failed"
    flow = _flow_run(flow_id, args, flow_plan, rg_runs, rbms, status, message)
    store([flow], flow_saved)
    return flow, status, error


def flow_id_counts(args: argparse.Namespace, flow_plan: FlowPlan) -> dict[str, int]:
    """How many new ids of each kind :func:`run_flow` draws besides the rg-flow run's own (a
    sweep reserves them before its points run): one ising and one rg run per temperature, and
    the RBMs it trains (one per level for the rbm rule, one for rbm-flow; none when given)."""
    n = int(flow_plan.temperatures.size)
    trained = 0
    if flow_plan.config is not None:
        trained = flow_plan.levels if args.rule == "rbm" else 1
    return {"ising": n, "rg": n, "rbm": trained}
