"""Headless RG commands: ``coarse-grain`` one Ising run, ``train-stack`` RBMs, run an ``rg-flow``.

- ``coarse-grain S.h5 --data RUN --rule majority|decimation|rbm [--rbm RUN [--rbm RUN …]]
  [--block 2] [--levels 2] [--min-share 0.5] [--seed 0]`` adds an ``rg`` run
  (``lab.rg.runs``); with ``rbm`` one level per RBM of the stack, level 1 first.
- ``train-stack S.h5 --data RUN [--data RUN …] --hidden 400,100 [--block 2] [--epochs E]
  [--batch B] [--lr LR] [--block-init 1] [--min-share 0.5] [--seed 0]`` trains stacked RBMs
  greedily (``engines.rg.stack``) and adds one ``rbm`` run per level (param ``stack_level``;
  level 1 is trained on the Ising runs, level k ≥ 2 on the hidden lattices of level k − 1,
  stored as ``level_<k−1>/samples`` of the ``rg`` runs named by its param ``stack_data``; its
  input is the previous level's RBM) and one ``rg`` run per data run with the stack's levels.
- ``rg-flow S.h5 --rule majority|decimation|rbm|rbm-flow --temperatures 1.5:3.5:11 --size 32
  [--block 2] [--levels 2] [--samples 1000] [--seed 0] [--rbm RUN …] [--epochs 30]
  [--hidden M] [--steps 5]`` simulates every temperature (Wolff), coarse-grains it, and adds all
  those runs plus one ``rg-flow`` run whose datasets ``temperature`` (n,),
  ``effective_temperature`` and ``binder_temperature`` (n, levels) with their ``*_error`` are the
  flow T → T′ of each level. With ``rbm`` the levels are those of a stack of RBMs (``--rbm``
  runs, or one stack of ``--levels`` RBMs trained on all the temperatures pooled, recorded);
  with ``rbm-flow`` the levels are the ``--steps`` steps v → h → v′ of one RBM (``--rbm``, or
  one with ``--hidden`` units, default L²/4, trained on the pooled temperatures), the flow of
  Iso, Shiba & Yokoo. Ctrl-C keeps what is done (status 'stopped'). rg-flow holds the
  session's lock throughout and records as it goes: each temperature's runs are added once it is
  done, with the ``rg-flow`` run of the rows so far (status 'interrupted' until the end), so a
  kill at any instant loses at most the temperature in progress.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from data import (
    RunRecord,
    SessionFileError,
)
from engines.ising import ALGORITHMS, IsingParams
from engines.rbm import RBMConfig, RBMDivergence, RBMTrainer
from engines.rg import MIN_BLOCK_SHARE, level_trainer, rbm_level
from lab.cli.common import (
    CliError,
    check_session_writable,
    finite_float,
    get_run,
    run_locked,
    save_runs,
    session_runs,
    store_runs,
)
from lab.core.progress import drive
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.task import IsingPlan, IsingRecording, IsingTask
from lab.rbm.runs import (
    RunInputError,
    finish_rbm_run,
    new_rbm_run,
    rbm_from_run,
    training_data,
)
from lab.rbm.task import RBMRecording, RBMTrainingTask
from lab.rg.runs import (
    TEMPERATURE_CURVES,
    check_stack,
    coarse_grain_run,
    format_levels,
    format_locality,
    rbm_flow_run,
)
from lab.scan.controller import parse_temperatures, scan_seeds
from lab.session.session import next_run_id, utc_now

FLOW_RULES = ("majority", "decimation", "rbm", "rbm-flow")
DEFAULT_LEVELS = 2
FLOW_EPOCHS = 30  # RBMs trained by rg-flow (the RBMConfig default, 100, is slow at L ≥ 16)
FLOW_STEPS = 5


def _training_options(parser: argparse.ArgumentParser, epochs: int) -> None:
    parser.add_argument("--epochs", type=int, default=epochs, help="epochs per RBM")
    parser.add_argument("--batch", type=int, default=RBMConfig.batch_size)
    parser.add_argument("--lr", type=finite_float, default=RBMConfig.learning_rate)
    parser.add_argument("--block-init", type=finite_float, default=1.0,
                        help="initial weight of each hidden unit on its block (0: random)")
    parser.add_argument("--min-share", type=finite_float, default=MIN_BLOCK_SHARE,
                        help="lowest mean share of a unit's squared weight on its block")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    cg = sub.add_parser("coarse-grain", help="block-spin or RBM coarse-graining of an Ising run")
    cg.add_argument("path", help="session file")
    cg.add_argument("--data", required=True, metavar="RUN", help="an Ising run id")
    cg.add_argument("--rule", default="majority", help="majority | decimation | rbm")
    cg.add_argument("--rbm", metavar="RUN", action="append", default=[],
                    help="an RBM run (for --rule rbm; repeat for a stack, level 1 first)")
    cg.add_argument("--block", type=int, default=2, help="block size b")
    cg.add_argument("--levels", type=int, help="coarse-graining steps (default 2, or one per "
                                               "--rbm)")
    cg.add_argument("--min-share", type=finite_float, default=MIN_BLOCK_SHARE,
                    help="rbm: lowest mean share of a unit's squared weight on its block")
    cg.add_argument("--seed", type=int, default=0, help="tie-breaks and hidden samples")
    cg.set_defaults(func=coarse_grain_command)

    stack = sub.add_parser("train-stack", help="train stacked RBMs greedily, level by level")
    stack.add_argument("path", help="session file")
    stack.add_argument("--data", required=True, metavar="RUN", action="append",
                       help="an Ising run id (repeat to pool several)")
    stack.add_argument("--hidden", required=True,
                       help="hidden units per level, e.g. 400,100 (each (L_k/b)²)")
    stack.add_argument("--block", type=int, default=2, help="block size b")
    _training_options(stack, RBMConfig.epochs)
    stack.add_argument("--seed", type=int, default=0)
    stack.add_argument("--quiet", action="store_true")
    stack.set_defaults(func=train_stack_command)

    flow = sub.add_parser("rg-flow", help="simulate temperatures, follow their RG flow")
    flow.add_argument("path", help="session file (created or extended)")
    flow.add_argument("--rule", default="majority", help=" | ".join(FLOW_RULES))
    flow.add_argument("--temperatures", required=True, help="'start:stop:count' or 'T1, T2, …'")
    flow.add_argument("--size", type=int, required=True, help="L of the simulated lattices")
    flow.add_argument("--block", type=int, default=2)
    flow.add_argument("--levels", type=int, help=f"default {DEFAULT_LEVELS}, or one per --rbm")
    flow.add_argument("--samples", type=int, default=1000, help="configurations per T")
    flow.add_argument("--thermalize", type=int, default=500)
    flow.add_argument("--interval", type=int, default=2, help="sweeps between samples")
    flow.add_argument("--algorithm", default="wolff", help="|".join(ALGORITHMS))
    flow.add_argument("--rbm", metavar="RUN", action="append", default=[],
                      help="rbm, rbm-flow: an RBM run of the session (else one is trained)")
    flow.add_argument("--hidden", type=int, help="rbm-flow: hidden units (default L²/4)")
    flow.add_argument("--steps", type=int, default=FLOW_STEPS, help="rbm-flow: v → h → v′ steps")
    _training_options(flow, FLOW_EPOCHS)
    flow.add_argument("--seed", type=int, default=0)
    flow.add_argument("--quiet", action="store_true")
    flow.set_defaults(func=rg_flow_command)

    example = sub.add_parser("rg-example", help="the paper's §4.1: L = 4, four hidden units")
    example.add_argument("path", help="session file (created or extended)")
    example.add_argument("--temperature", type=finite_float, default=2.269185)
    example.add_argument("--samples", type=int, default=10_000)
    example.add_argument("--epochs", type=int, default=100)
    example.add_argument("--seed", type=int, default=0)
    example.add_argument("--quiet", action="store_true")
    example.set_defaults(func=rg_example_command)


def coarse_grain_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    data_run = get_run(runs, args.data, "ising", args.path)
    stack = [get_run(runs, run_id, "rbm", args.path) for run_id in args.rbm]
    if stack and args.rule != "rbm":
        raise CliError(f"--rbm is for --rule rbm, not '{args.rule}'")
    levels = args.levels if args.levels is not None else (len(stack) or DEFAULT_LEVELS)
    try:
        run = coarse_grain_run(next_run_id(list(runs), "rg"), data_run, args.rule, args.block,
                               levels, args.seed, stack or None, args.min_share)
    except (RunInputError, ValueError) as exc:
        raise CliError(str(exc)) from None
    save_runs(args.path, [run])
    print(f"{run.id}: {args.rule}, b = {args.block}, from {data_run.id} "
          f"(T = {run.params.get('temperature', float('nan')):g})")
    print("\n".join(format_levels(run)))
    if args.rule == "rbm":
        print("\n".join(format_locality(run)))
        print("mean block share per level: " + ", ".join(
            f"{s:.3f}" for s in run.datasets["block_share"]))
    return 0


# ---------------------------------------------------------------------------- RBM training
def _config(args: argparse.Namespace, n_hidden: int) -> RBMConfig:
    """The RBMConfig of the training options (CliError if invalid)."""
    config = RBMConfig(n_hidden=n_hidden, epochs=args.epochs, batch_size=args.batch,
                       learning_rate=args.lr, seed=args.seed)
    try:
        config.validate()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.block_init < 0 or not 0 <= args.min_share <= 1:
        raise CliError(f"--block-init must be ≥ 0 and --min-share in [0, 1], got "
                       f"{args.block_init:g} and {args.min_share:g}")
    return config


def _train(run: RunRecord, trainer: RBMTrainer, quiet: bool) -> tuple[str, str]:
    """Drive a trainer to its end into ``run`` (Ctrl-C stops it); returns (status, message)."""
    recording = RBMRecording()
    task = RBMTrainingTask(trainer, recording)
    try:
        status, message = drive(task, run.id, quiet, lambda s: (s.progress, f"epoch {s.epoch}"))
    except RBMDivergence as exc:
        status, message = "failed", str(exc)
    finish_rbm_run(run, recording, trainer, status, utc_now(), message)
    return status, message


@dataclass
class StackOutcome:
    """What greedy training made: the RBM runs (level 1 first), how many levels can be drawn
    (trained and local), the status, and the error that stopped it (empty if none)."""

    rbm_runs: list[RunRecord] = field(default_factory=list)
    levels: int = 0
    status: str = "finished"
    error: str = ""


def _train_stack(ids: list[str], data_runs: list[RunRecord], levels: int, block: int,
                 config: RBMConfig, args: argparse.Namespace, rg_ids: list[str]) -> StackOutcome:
    """Train ``levels`` RBMs greedily on the pooled data runs (``engines.rg.stack``): level k on
    the hidden lattices of level k − 1, drawn with ``SeedSequence([seed, k])`` as
    :func:`coarse_grain_run` will draw them into the rg runs ``rg_ids`` (one per data run)."""
    outcome = StackOutcome()
    lattices = [run.datasets["samples"] for run in data_runs]
    for k in range(1, levels + 1):
        pooled = np.concatenate(lattices)
        trainer = level_trainer(pooled, block, config, k, args.block_init)
        inputs = [r.id for r in data_runs] if k == 1 else [outcome.rbm_runs[-1].id]
        run = new_rbm_run(next_run_id(ids, "rbm"), trainer.config, pooled.shape[1], inputs)
        run.params.update({"data": [r.id for r in data_runs], "stack_level": k})
        if k > 1:
            run.params["stack_data"] = [f"{i}/level_{k - 1}/samples" for i in rg_ids]
        run.created = utc_now()
        ids.append(run.id)
        outcome.rbm_runs.append(run)
        outcome.status, message = _train(run, trainer, args.quiet)
        if outcome.status != "finished":
            outcome.error = message if outcome.status == "failed" else ""
            return outcome
        params = run.datasets
        try:
            lattices = [rbm_level(params["W"], params["b"], lattice, block,
                                  np.random.SeedSequence([args.seed, k]), args.min_share)[0]
                        for lattice in lattices]
        except ValueError as exc:
            outcome.error = f"level {k} ({run.id}): {exc}"
            run.message = outcome.error[:200]
            return outcome
        outcome.levels = k
    return outcome


def _new_ids(ids: list[str], kind: str, count: int) -> list[str]:
    """``count`` fresh ids of ``kind``, reserved by adding them to ``ids``."""
    out = []
    for _ in range(count):
        out.append(next_run_id(ids, kind))
        ids.append(out[-1])
    return out


def _hidden_levels(text: str, size: int, block: int) -> int:
    """The number of levels of ``--hidden m1,m2,…`` (CliError unless m_k = (L/b^k)²)."""
    try:
        hidden = [int(x) for x in text.split(",")]
    except ValueError:
        raise CliError(f"--hidden must be integers separated by commas, got '{text}'") from None
    expected = []
    L = size
    for _ in hidden:
        L = L // block if block >= 2 and L % block == 0 else 0
        expected.append(L * L)
    if hidden != expected or not hidden:
        raise CliError(f"--hidden {text} does not fit L = {size} with blocks b = {block}: "
                       f"level k needs (L/b^k)² hidden units"
                       + (f", i.e. {','.join(str(m) for m in expected)}" if all(expected)
                          else ""))
    return len(hidden)


def train_stack_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in args.data]
    try:
        _, size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    levels = _hidden_levels(args.hidden, size, args.block)
    config = _config(args, 1)
    ids = list(runs)
    rg_ids = _new_ids(ids, "rg", len(data_runs))
    outcome = _train_stack(ids, data_runs, levels, args.block, config, args, rg_ids)
    new_runs = list(outcome.rbm_runs)
    if outcome.levels:
        done = outcome.rbm_runs[:outcome.levels]
        for rg_id, data_run in zip(rg_ids, data_runs, strict=True):
            rg = coarse_grain_run(rg_id, data_run, "rbm", args.block, outcome.levels,
                                  args.seed, done, args.min_share)
            rg.params["stack"] = True
            new_runs.append(rg)
    save_runs(args.path, new_runs)
    for run in new_runs:
        if run.kind == "rbm":
            print(f"{run.id}: level {run.params['stack_level']}, {run.params['n_visible']} → "
                  f"{run.params['n_hidden']} units, {run.status}, "
                  f"{run.results.get('epochs_done', 0)} epochs")
        else:
            print(f"{run.id}: the stack's levels of {run.params['data']} (mean block share "
                  + ", ".join(f"{s:.3f}" for s in run.datasets["block_share"]) + ")")
            print("\n".join(format_levels(run)))
    if outcome.error:
        print(f"monge-lab: {outcome.error}", file=sys.stderr)
        return 1
    return 0 if outcome.status == "finished" else 130


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
            raise CliError(f"--levels {levels} but {len(rbm_runs)} --rbm runs: the rbm rule "
                           f"makes one level per RBM")
        if levels < 1 or args.block < 2 or args.size % args.block**levels:
            raise CliError(f"L = {args.size} must be divisible by b^levels = "
                           f"{args.block}^{levels}")
    try:
        temperatures = parse_temperatures(args.temperatures)
        plan = IsingPlan(thermalize=args.thermalize, interval=args.interval,
                         samples=args.samples)
        plan.validate()
        IsingParams(size=args.size, temperature=float(temperatures[0]),
                    algorithm=args.algorithm, seed=args.seed).validate()
        if args.rule == "rbm":
            check_stack(rbm_runs, args.size, args.block)
        if args.rule == "rbm-flow" and rbm_runs:
            n_visible = rbm_from_run(rbm_runs[0]).n_visible
            if n_visible != args.size**2:
                raise RunInputError(f"run '{rbm_runs[0].id}' has {n_visible} visible units, "
                                    f"L = {args.size} needs {args.size**2}")
    except ValueError as exc:
        raise CliError(str(exc)) from None
    config = None
    if args.rule in ("rbm", "rbm-flow") and not rbm_runs:
        hidden = args.hidden if args.hidden is not None else max(1, args.size**2 // 4)
        config = _config(args, hidden)
    return FlowPlan(temperatures, plan, levels, rbm_runs, config)


def _simulate(run_id: str, params: IsingParams, plan: IsingPlan,
              quiet: bool) -> tuple[RunRecord, str, str]:
    """Simulate one Ising run to its end (Ctrl-C stops it); returns (run, status, message)."""
    run = new_ising_run(run_id, params, plan)
    run.created = utc_now()
    recording = IsingRecording()
    task = IsingTask(params, plan, recording)
    status, message = drive(task, f"{run_id} T={params.temperature:.4g}", quiet,
                            lambda s: (s.progress or 0.0, s.phase))
    return finish_ising_run(run, recording, params, status, utc_now(), message), status, message


def _flow_rbms(args: argparse.Namespace, flow: FlowPlan, ids: list[str],
               ising_runs: list[RunRecord],
               rg_ids: list[str]) -> tuple[list[RunRecord], list[RunRecord], str, str]:
    """(RBMs to use, new RBM runs, status, error): given, or trained on the pooled runs
    (a stack for the rule rbm, whose rg runs will be ``rg_ids``)."""
    if flow.config is None:
        return flow.rbm_runs, [], "finished", ""
    if args.rule == "rbm":
        outcome = _train_stack(ids, ising_runs, flow.levels, args.block, flow.config, args,
                               rg_ids)
        return (outcome.rbm_runs[:outcome.levels], outcome.rbm_runs, outcome.status,
                outcome.error)
    data, size = training_data(ising_runs)
    trainer = RBMTrainer(flow.config, data)
    run = new_rbm_run(next_run_id(ids, "rbm"), flow.config, size, [r.id for r in ising_runs])
    run.created = utc_now()
    ids.append(run.id)
    status, message = _train(run, trainer, args.quiet)
    return [run], [run], status, message if status == "failed" else ""


def rg_flow_command(args: argparse.Namespace) -> int:
    """Simulate, coarse-grain and record the flow, holding the session's lock throughout.

    Each temperature's ising (and, for block spins, rg) runs are added as soon as it is done,
    with the ``rg-flow`` run of the rows so far (status 'interrupted' until the end, so a kill
    leaves it marked as such); the end replaces it with the final status.
    """
    return run_locked(args, _rg_flow, existing=False)


def _rg_flow(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    flow_plan = _flow_inputs(args, runs)
    temperatures = flow_plan.temperatures
    ids = list(runs)
    flow_id = next_run_id(ids, "rg-flow")
    ids.append(flow_id)
    flow_saved = False
    ising_runs: list[RunRecord] = []
    rg_runs: list[RunRecord] = []
    rbms: list[RunRecord] = []
    status, error = "finished", ""
    message = ""
    block_spins = args.rule in ("majority", "decimation")
    for temperature, seed in zip(temperatures, scan_seeds(args.seed, temperatures.size),
                                 strict=True):
        params = IsingParams(size=args.size, temperature=float(temperature),
                             algorithm=args.algorithm, seed=seed)
        ising, status, message = _simulate(next_run_id(ids, "ising"), params, flow_plan.plan,
                                           args.quiet)
        ids.append(ising.id)
        if status != "finished":
            break
        done = [ising]
        ising_runs.append(ising)
        if block_spins:
            rg = coarse_grain_run(next_run_id(ids, "rg"), ising, args.rule, args.block,
                                  flow_plan.levels, args.seed)
            ids.append(rg.id)
            done.append(rg)
            rg_runs.append(rg)
        partial = _flow_run(flow_id, args, flow_plan, rg_runs, rbms, "interrupted",
                            f"recorded {len(ising_runs)} of {temperatures.size} temperatures")
        if flow_saved:
            store_runs(args.path, done)
            store_runs(args.path, [partial], replace=True)
        else:
            store_runs(args.path, [*done, partial])
            flow_saved = True
    if not block_spins and status == "finished":
        rg_ids = _new_ids(ids, "rg", len(ising_runs))
        rbms, trained, status, error = _flow_rbms(args, flow_plan, ids, ising_runs, rg_ids)
        message = error or ("interrupted by the user (Ctrl-C)" if status == "stopped" else "")
        ready = status == "finished" and not error
        for rg_id, ising in zip(rg_ids, ising_runs if ready else [], strict=False):
            if args.rule == "rbm":
                rg = coarse_grain_run(rg_id, ising, "rbm", args.block, flow_plan.levels,
                                      args.seed, rbms, args.min_share)
            else:
                rg = rbm_flow_run(rg_id, ising, rbms[0], args.steps, args.seed)
            rg_runs.append(rg)
        if trained or rg_runs:
            store_runs(args.path, [*trained, *rg_runs])
        if error:
            status = "failed"
    flow = _flow_run(flow_id, args, flow_plan, rg_runs, rbms, status, message)
    store_runs(args.path, [flow], replace=flow_saved)
    _print_flow(flow, args, flow_plan, status)
    if error:
        print(f"monge-lab: {error}", file=sys.stderr)
        return 1
    return 0 if status == "finished" else 130


def _flow_run(run_id: str, args: argparse.Namespace, flow_plan: FlowPlan,
              rg_runs: list[RunRecord], rbms: list[RunRecord], status: str,
              message: str) -> RunRecord:
    """The rg-flow run: T → T′ per level (per step for rbm-flow) of every rg run made."""
    params: dict[str, object] = {
        "rule": args.rule, "block": 1 if args.rule == "rbm-flow" else args.block,
        "levels": flow_plan.levels, "size": args.size,
        "temperatures": [float(t) for t in flow_plan.temperatures], "samples": args.samples,
        "algorithm": args.algorithm,
        "mode": "rbm-flow" if args.rule == "rbm-flow" else "coarse-grain"}
    if rbms:
        params["rbm"] = [r.id for r in rbms]
    if args.rule == "rbm-flow":
        params["steps"] = args.steps
    flow = RunRecord(id=run_id, kind="rg-flow", status=status, seed=args.seed, params=params,
                     inputs=[r.id for r in rg_runs], created=utc_now(), finished=utc_now(),
                     message=message[:200])
    done = len(rg_runs)
    flow.datasets["temperature"] = np.asarray(flow_plan.temperatures[:done], dtype=float)
    for name in TEMPERATURE_CURVES:
        for key in (name, f"{name}_error"):
            flow.datasets[key] = np.array([r.datasets[key] for r in rg_runs],
                                          dtype=float).reshape(done, flow_plan.levels)
    flow.dataset_attrs = {name: {"units": "T in units of J", "axes": "temperature, level"}
                          for name in TEMPERATURE_CURVES}
    return flow


def _print_flow(flow: RunRecord, args: argparse.Namespace, flow_plan: FlowPlan,
                status: str) -> None:
    levels, temperatures = flow_plan.levels, flow_plan.temperatures
    done = flow.datasets["temperature"].size
    what = "step" if args.rule == "rbm-flow" else "level"
    print(f"{flow.id}: {args.rule}, b = {flow.params['block']}, L = {args.size}, {done} of "
          f"{temperatures.size} temperatures ({status})")
    print(f"{'T':>8} " + " ".join(f"{'T′ ' + what + ' ' + str(k + 1) + ' (energy)':>24}"
                                  f"{'(Binder)':>18}" for k in range(levels)))
    for i in range(done):
        cells = []
        for k in range(levels):
            for name in TEMPERATURE_CURVES:
                value = flow.datasets[name][i, k]
                error = flow.datasets[f"{name}_error"][i, k]
                cells.append("—" if not np.isfinite(value) else f"{value:.4f} ± {error:.4f}")
        print(f"{temperatures[i]:>8.4f} " + " ".join(
            f"{cells[2 * k]:>24}{cells[2 * k + 1]:>18}" for k in range(levels)))


def rg_example_command(args: argparse.Namespace) -> int:
    """The paper's §4.1: L = 4 at T_c, an RBM with four hidden units, each expected to summarize
    a 2×2 block; records the three runs and reports each unit's locality."""
    try:
        check_session_writable(args.path)
        plan = IsingPlan(thermalize=1000, interval=2, samples=args.samples)
        plan.validate()
        params = IsingParams(size=4, temperature=args.temperature, algorithm="wolff",
                             seed=args.seed)
        params.validate()
        config = RBMConfig(n_hidden=4, epochs=args.epochs, seed=args.seed)
        config.validate(n_visible=16)
    except (SessionFileError, ValueError) as exc:
        raise CliError(str(exc)) from None
    runs = session_runs(args.path) if os.path.exists(args.path) else {}
    ids = list(runs)
    ising, status, message = _simulate(next_run_id(ids, "ising"), params, plan, args.quiet)
    ids.append(ising.id)
    if status != "finished":
        save_runs(args.path, [ising])
        return 130
    data, size = training_data([ising])
    trainer = RBMTrainer(config, data)
    recording = RBMRecording()
    rbm = new_rbm_run(next_run_id(ids, "rbm"), config, size, [ising.id])
    rbm.created = utc_now()
    ids.append(rbm.id)
    task = RBMTrainingTask(trainer, recording)
    status, message = drive(task, rbm.id, args.quiet,
                            lambda s: (s.progress, f"epoch {s.epoch}"))
    finish_rbm_run(rbm, recording, trainer, status, utc_now(), message)
    new_runs = [ising, rbm]
    if status == "finished":
        rg = coarse_grain_run(next_run_id(ids, "rg"), ising, "rbm", 2, 1, args.seed, rbm,
                              min_share=0.0)  # the example reports locality, whatever it is
        rg.params["preset"] = "paper-4.1"
        new_runs.append(rg)
    save_runs(args.path, new_runs)
    if status != "finished":
        return 130
    shares = rg.datasets["locality/block_share"]
    print(f"{rg.id}: the paper's §4.1 example, L = 4 at T = {args.temperature:g}, m = 4 "
          f"({rbm.id}, NLL held-out {rbm.results.get('nll_valid', float('nan')):.4f} nats)")
    print("\n".join(format_locality(rg)))
    distinct = len({tuple(b) for b in rg.datasets["locality/best_block"]})
    print(f"mean block share {shares.mean():.3f} (1: every unit on one 2×2 block; 0.25: no "
          f"locality); the units' best blocks cover {distinct} of the 4 blocks")
    print("\n".join(format_levels(rg)))
    return 0
