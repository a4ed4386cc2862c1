"""What the headless RG commands do (options in :mod:`lab.rg.cli`): ``coarse-grain``,
``train-stack``, ``rg-flow`` and ``rg-example``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

import numpy as np

from data import (
    RunRecord,
    SessionFileError,
)
from engines.ising import IsingParams
from engines.rbm import RBMConfig, RBMTrainer
from engines.rg import matched_locality
from lab.cli.common import (
    CliError,
    check_session_writable,
    get_run,
    run_locked,
    save_runs,
    session_runs,
    store_runs,
)
from lab.core.ids import next_run_id, utc_now
from lab.core.progress import drive
from lab.ising.task import IsingPlan
from lab.rbm.runs import (
    RunInputError,
    check_training_memory,
    config_from_options,
    finish_rbm_run,
    new_rbm_run,
    training_data,
)
from lab.rbm.task import RBMRecording, RBMTrainingTask
from lab.rg.cli import DEFAULT_LEVELS
from lab.rg.flow import FlowPlan, _flow_inputs, _simulate, run_flow
from lab.rg.runs import (
    TEMPERATURE_CURVES,
    coarse_grain_run,
    format_levels,
    format_locality,
)
from lab.rg.stack import _config, _hidden_levels, _new_ids, _train_stack


def coarse_grain_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    data_run = get_run(runs, args.data, "ising", args.path)
    stack = [get_run(runs, run_id, "rbm", args.path) for run_id in args.rbm]
    if stack and args.rule != "rbm":
        raise CliError(f"--rbm is for --rule rbm, not '{args.rule}'")
    levels = args.levels if args.levels is not None else (len(stack) or DEFAULT_LEVELS)
    try:
        run = coarse_grain_run(
            next_run_id(list(runs), "rg"),
            data_run,
            args.rule,
            args.block,
            levels,
            args.seed,
            stack or None,
            args.min_share,
        )
    except (RunInputError, ValueError) as exc:
        raise CliError(str(exc)) from None
    save_runs(args.path, [run])
    print(
        f"{run.id}: {args.rule}, b = {args.block}, from {data_run.id} "
        f"(T = {run.params.get('temperature', float('nan')):g})"
    )
    print("\n".join(format_levels(run)))
    if args.rule == "rbm":
        print("\n".join(format_locality(run)))
        print(
            "mean block share per level: "
            + ", ".join(f"{s:.3f}" for s in run.datasets["block_share"])
        )
    return 0


def train_stack_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in args.data]
    try:
        _, size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    hidden = _hidden_levels(args.hidden, size, args.block)
    levels = len(hidden)
    config = _config(args, 1)
    _check_stack_memory(config, hidden, size, sum(len(r.datasets["samples"]) for r in data_runs))
    ids = list(runs)
    rg_ids = _new_ids(ids, "rg", len(data_runs))
    outcome = _train_stack(ids, data_runs, levels, args.block, config, args, rg_ids)
    new_runs = list(outcome.rbm_runs)
    if outcome.levels:
        done = outcome.rbm_runs[: outcome.levels]
        for rg_id, data_run in zip(rg_ids, data_runs, strict=True):
            rg = coarse_grain_run(
                rg_id, data_run, "rbm", args.block, outcome.levels, args.seed, done, args.min_share
            )
            rg.params["stack"] = True
            new_runs.append(rg)
    save_runs(args.path, new_runs)
    for run in new_runs:
        if run.kind == "rbm":
            print(
                f"{run.id}: level {run.params['stack_level']}, {run.params['n_visible']} → "
                f"{run.params['n_hidden']} units, {run.status}, "
                f"{run.results.get('epochs_done', 0)} epochs"
            )
        else:
            print(
                f"{run.id}: the stack's levels of {run.params['data']} (mean block share "
                + ", ".join(f"{s:.3f}" for s in run.datasets["block_share"])
                + ")"
            )
            print("\n".join(format_levels(run)))
    if outcome.error:
        print(f"monge-lab: {outcome.error}", file=sys.stderr)
        return 1
    return 0 if outcome.status == "finished" else 130


def _check_stack_memory(
    config: RBMConfig, hidden: list[int], size: int, n_configurations: int
) -> None:
    """CliError when a level of the stack (``hidden`` units per level, from ``_hidden_levels``)
    on L = ``size`` data would need more memory than this machine has
    (:func:`lab.rbm.runs.check_training_memory`), before any level is trained."""
    n_visible = size * size
    for n_hidden in hidden:
        try:
            check_training_memory(replace(config, n_hidden=n_hidden), n_visible, n_configurations)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        n_visible = n_hidden


def rg_flow_command(args: argparse.Namespace) -> int:
    """Simulate, coarse-grain and record the flow, holding the session's lock throughout.

    Each temperature's ising (and, for block spins, rg) runs are added as soon as it is done,
    with the ``rg-flow`` run of the rows so far (status 'interrupted' until the end, so a kill
    leaves it marked as such); the end replaces it with the final status.
    """
    return run_locked(args, _rg_flow, existing=False)


def _rg_flow(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    flow_plan = _flow_inputs(args, runs)
    ids = list(runs)
    flow_id = next_run_id(ids, "rg-flow")
    ids.append(flow_id)

    def store(new: list[RunRecord], replace: bool) -> None:
        store_runs(args.path, new, replace=replace)

    flow, status, error = run_flow(args, flow_plan, flow_id, ids, store)
    _print_flow(flow, args, flow_plan, status)
    if error:
        print(f"monge-lab: {error}", file=sys.stderr)
        return 1
    return 0 if status == "finished" else 130


def _print_flow(
    flow: RunRecord, args: argparse.Namespace, flow_plan: FlowPlan, status: str
) -> None:
    levels, temperatures = flow_plan.levels, flow_plan.temperatures
    done = flow.datasets["temperature"].size
    what = "step" if args.rule == "rbm-flow" else "level"
    print(
        f"{flow.id}: {args.rule}, b = {flow.params['block']}, L = {args.size}, {done} of "
        f"{temperatures.size} temperatures ({status})"
    )
    print(
        f"{'T':>8} "
        + " ".join(
            f"{'T′ ' + what + ' ' + str(k + 1) + ' (energy)':>24}{'(Binder)':>18}"
            for k in range(levels)
        )
    )
    for i in range(done):
        cells = []
        for k in range(levels):
            for name in TEMPERATURE_CURVES:
                value = flow.datasets[name][i, k]
                error = flow.datasets[f"{name}_error"][i, k]
                cells.append("—" if not np.isfinite(value) else f"{value:.4f} ± {error:.4f}")
        print(
            f"{temperatures[i]:>8.4f} "
            + " ".join(f"{cells[2 * k]:>24}{cells[2 * k + 1]:>18}" for k in range(levels))
        )


EXAMPLE_MIN_SAMPLES = 20
"""The fewest configurations ``rg-example`` trains on (the held-out NLL needs a few)."""


def rg_example_command(args: argparse.Namespace) -> int:
    """The paper's §4.1: L = 4 at T_c, an RBM with four hidden units, each expected to summarize
    a 2×2 block; records the three runs and reports each unit's locality."""
    try:
        check_session_writable(args.path)
        plan = IsingPlan(thermalize=1000, interval=2, samples=args.samples)
        plan.validate()
        params = IsingParams(
            size=4, temperature=args.temperature, algorithm="wolff", seed=args.seed
        )
        params.validate()
        config = config_from_options(vars(args), RBMConfig(n_hidden=4))
        config.validate(n_visible=16)
    except (SessionFileError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if config.n_hidden != 4:
        raise CliError(
            "rg-example's RBM has one hidden unit per 2×2 block of the 4×4 lattice: --hidden "
            f"must be 4, got {config.n_hidden}"
        )
    n_valid = round(config.validation_fraction * args.samples)
    if args.samples < EXAMPLE_MIN_SAMPLES or args.samples - n_valid < 1:
        raise CliError(
            f"--samples {args.samples} with --validation {config.validation_fraction:g} leaves "
            f"{args.samples - n_valid} configurations to train on: give at least "
            f"{EXAMPLE_MIN_SAMPLES} samples and keep some out of the held-out split"
        )
    runs = session_runs(args.path) if os.path.lexists(args.path) else {}
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
    status, message = drive(task, rbm.id, args.quiet, lambda s: (s.progress, f"epoch {s.epoch}"))
    finish_rbm_run(rbm, recording, trainer, status, utc_now(), message)
    new_runs = [ising, rbm]
    if status == "finished":
        rg = coarse_grain_run(
            next_run_id(ids, "rg"), ising, "rbm", 2, 1, args.seed, rbm, min_share=0.0
        )  # the example reports locality, whatever it is
        rg.params["preset"] = "paper-4.1"
        matched = matched_locality(rbm.datasets["W"], 4, 2)
        rg.results["mean_matched_share"] = float(matched["mean_matched_share"])
        rg.results["min_matched_share"] = float(matched["min_matched_share"])
        new_runs.append(rg)
    save_runs(args.path, new_runs)
    if status != "finished":
        return 130
    shares = rg.datasets["locality/block_share"]
    print(
        f"{rg.id}: the paper's §4.1 example, L = 4 at T = {args.temperature:g}, m = 4 "
        f"({rbm.id}, NLL held-out {rbm.results.get('nll_valid', float('nan')):.4f} nats)"
    )
    print("\n".join(format_locality(rg)))
    distinct = len({tuple(b) for b in rg.datasets["locality/best_block"]})
    print(
        f"mean block share {shares.mean():.3f} (1: every unit on one 2×2 block; 0.25: no "
        f"locality); the units' best blocks cover {distinct} of the 4 blocks"
    )
    print(
        f"matched share (units matched one to one to the blocks): mean "
        f"{rg.results['mean_matched_share']:.3f}, lowest {rg.results['min_matched_share']:.3f}"
        f" (chance 0.25)"
    )
    print("\n".join(format_levels(rg)))
    return 0
