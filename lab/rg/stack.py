"""Stacked RBMs trained greedily (``train-stack``, ``rg-flow --rule rbm``): level k learns the
hidden lattices of level k − 1; the training options as an RBMConfig.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np

from data import (
    RunRecord,
)
from engines.constraints import number_from_text
from engines.rbm import RBMConfig, RBMDivergence, RBMTrainer
from engines.rg import level_trainer, rbm_level
from lab.cli.common import (
    CliError,
)
from lab.core.ids import next_run_id, utc_now
from lab.core.progress import drive
from lab.rbm.runs import (
    config_from_options,
    finish_rbm_run,
    new_rbm_run,
)
from lab.rbm.task import RBMRecording, RBMTrainingTask
from lab.rg.settings import check_levels


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


def _train_stack(
    ids: list[str],
    data_runs: list[RunRecord],
    levels: int,
    block: int,
    config: RBMConfig,
    args: argparse.Namespace,
    rg_ids: list[str],
) -> StackOutcome:
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
            lattices = [
                rbm_level(
                    params["W"],
                    params["b"],
                    lattice,
                    block,
                    np.random.SeedSequence([args.seed, k]),
                    args.min_share,
                )[0]
                for lattice in lattices
            ]
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


def _hidden_levels(text: str, size: int, block: int) -> list[int]:
    """The hidden units of each level of ``--hidden m1,m2,…`` (CliError unless m_k = (L/b^k)²)."""
    try:
        hidden = [int(number_from_text(x, True)) for x in text.split(",")]
    except ValueError:
        raise CliError(f"--hidden must be integers separated by commas, got '{text}'") from None
    expected = []
    L = size
    for _ in hidden:
        L = L // block if block >= 2 and L % block == 0 else 0
        expected.append(L * L)
    if hidden != expected or not hidden:
        raise CliError(
            f"--hidden {text} does not fit L = {size} with blocks b = {block}: "
            f"level k needs (L/b^k)² hidden units"
            + (f", i.e. {','.join(str(m) for m in expected)}" if all(expected) else "")
        )
    try:
        check_levels(size, block, len(hidden))  # the coarsest lattice must still be ≥ 2×2
    except ValueError as exc:
        raise CliError(f"--hidden {text}: {exc}") from None
    return hidden


# ---------------------------------------------------------------------------- RBM training
def _config(args: argparse.Namespace, n_hidden: int) -> RBMConfig:
    """The RBMConfig of the training options (every trainer option of ``train``, RBMConfig's
    defaults; CliError if invalid)."""
    try:
        config = config_from_options(vars(args), RBMConfig(), n_hidden=n_hidden)
        config.validate()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.block_init < 0 or not 0 <= args.min_share <= 1:
        raise CliError(
            f"--block-init must be ≥ 0 and --min-share in [0, 1], got "
            f"{args.block_init:g} and {args.min_share:g}"
        )
    return config
