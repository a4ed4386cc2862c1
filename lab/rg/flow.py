"""The ``rg-flow`` workflow: check the plan before any work, simulate each temperature, train or
take the RBMs, and build the ``rg-flow`` run of T → T′ per level.
"""

from __future__ import annotations

import argparse
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
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.task import IsingPlan, IsingRecording, IsingTask
from lab.rbm.runs import (
    RunInputError,
    new_rbm_run,
    rbm_from_run,
    training_data,
)
from lab.rg.cli import DEFAULT_LEVELS, FLOW_RULES
from lab.rg.runs import (
    TEMPERATURE_CURVES,
    check_stack,
)
from lab.rg.stack import _config, _train, _train_stack
from lab.scan.task import parse_temperatures


# ---------------------------------------------------------------------------- rg-flow
@dataclass
class FlowPlan:
    """What rg-flow will do, checked before any simulation."""

    temperatures: np.ndarray
    plan: IsingPlan
    levels: int
    rbm_runs: list[RunRecord]
    config: RBMConfig | None  # None when the RBMs are given


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
        if levels < 1:
            raise CliError(f"--steps must be ≥ 1, got {levels}")
        if len(rbm_runs) > 1:
            raise CliError("rbm-flow iterates one RBM: give at most one --rbm")
    else:
        levels = args.levels if args.levels is not None else (len(rbm_runs) or DEFAULT_LEVELS)
        if rbm_runs and levels != len(rbm_runs):
            raise CliError(
                f"--levels {levels} but {len(rbm_runs)} --rbm runs: the rbm rule "
                f"makes one level per RBM"
            )
        if levels < 1 or args.block < 2 or args.size % args.block**levels:
            raise CliError(f"L = {args.size} must be divisible by b^levels = {args.block}^{levels}")
    try:
        temperatures = parse_temperatures(args.temperatures)
        plan = IsingPlan(thermalize=args.thermalize, interval=args.interval, samples=args.samples)
        plan.validate()
        IsingParams(
            size=args.size,
            temperature=float(temperatures[0]),
            algorithm=args.algorithm,
            seed=args.seed,
        ).validate()
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
