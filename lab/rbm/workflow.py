"""RBM training from its options to its run: the one path that ``train`` and a sweep's workers
(:mod:`lab.sweep`) share, so that a sweep's point is the run ``train`` would have made with the
same options, bit for bit, by construction.

- :func:`new_training` reads ``train``'s parsed options and the session's Ising runs into the
  run's header, its validated :class:`RBMConfig` (:func:`lab.rbm.runs.training_config`: the
  Ising recipe where an option is not given) and the training data;
- :func:`run_training` steps an :class:`RBMTrainingTask` to its end (a diverging training is
  kept, ``failed``, with its last good checkpoint) and fills the run; :func:`train_run` does it
  from a config and data alone (what a worker runs: no session, no Qt);
- ``evaluate``'s checks and computation are :func:`lab.rbm.evaluation.evaluation_inputs` and
  :func:`lab.rbm.evaluation.evaluate_model`, which a sweep calls as they are.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from data import RunRecord
from engines.rbm import RBMConfig, RBMDivergence, RBMTrainer
from lab.cli.common import CliError, get_run
from lab.core.ids import utc_now
from lab.core.progress import drive
from lab.rbm.runs import finish_rbm_run, new_rbm_run, training_config, training_data
from lab.rbm.task import (
    RBMRecording,
    RBMTrainingTask,
    check_early_stop,
    default_monitor_every,
    early_stop_message,
)


# ---------------------------------------------------------------------------- train
def new_training(
    args: argparse.Namespace, runs: dict[str, RunRecord], run_id: str
) -> tuple[RunRecord, RBMConfig, np.ndarray]:
    """The header of the ``rbm`` run ``train`` makes from its options (``created`` now), its
    validated configuration and its training data ((N, L²) int8 ±1, from the Ising runs
    ``args.data`` of ``runs``). CliError for a missing or unfit data run or a bad setting."""
    if not args.data:
        raise CliError("choose the training data with --data RUN (or --resume RUN)")
    data_runs = [get_run(runs, i, "ising", args.path) for i in args.data]
    try:
        data, size = training_data(data_runs)
        config = training_config(vars(args), data.shape[0], data.shape[1])
    except ValueError as exc:  # RunInputError included
        raise CliError(str(exc)) from None
    run = new_rbm_run(run_id, config, size, args.data)
    run.created = utc_now()
    every = getattr(args, "monitor_every", None)
    run.params["monitor_every"] = default_monitor_every(config.epochs) if every is None else every
    run.params["metrics_every"] = getattr(args, "metrics_every", None) or 0
    run.params["early_stop"] = getattr(args, "early_stop", None) or 0
    try:
        check_early_stop(run.params["early_stop"], config.validation_fraction)
    except ValueError as exc:
        raise CliError(f"{exc} (--validation)") from None
    return run, config, data


def run_training(
    run: RunRecord,
    trainer: RBMTrainer,
    recording: RBMRecording,
    *,
    fresh: bool,
    quiet: bool = True,
    on_epoch: Callable[[dict], None] | None = None,
    temperature: float | None = None,
) -> tuple[str, str]:
    """Train to the end (or Ctrl-C: 'stopped'), then fill ``run`` with the parameters,
    checkpoints, history and resumable state (:func:`lab.rbm.runs.finish_rbm_run`). A
    diverging training ends 'failed' with the divergence as its message, its run holding the
    last good checkpoint. The monitor runs every ``run.params['monitor_every']`` epochs at the
    data's ``temperature``, the metrics every ``run.params['metrics_every']`` (0 or absent:
    automatic), early stopping after ``run.params['early_stop']`` stale measurements (0 or
    absent: off). Returns ``(status, message)``."""
    task = RBMTrainingTask(
        trainer,
        recording,
        fresh=fresh,
        on_epoch=on_epoch,
        temperature=temperature,
        monitor_every=int(run.params.get("monitor_every", 0)),
        metrics_every=int(run.params.get("metrics_every", 0)),
        early_stop=int(run.params.get("early_stop", 0)),
    )
    try:
        status, message = drive(
            task, run.id, quiet, lambda snapshot: (snapshot.progress, f"epoch {snapshot.epoch}")
        )
    except RBMDivergence as exc:
        status, message = "failed", str(exc)
    message = early_stop_message(task) or message
    finish_rbm_run(run, recording, trainer, status, utc_now(), message)
    return status, message


def train_run(
    run: RunRecord, config: RBMConfig, data: np.ndarray, temperature: float | None = None
) -> RunRecord:
    """The run ``train`` stores for the header ``run`` (from :func:`new_training`), trained on
    ``data`` (at ``temperature``, for the monitor) with ``config`` without any session (what a
    sweep's worker runs)."""
    trainer = RBMTrainer(config, data)
    run_training(run, trainer, RBMRecording(), fresh=True, temperature=temperature)
    return run


# ---------------------------------------------------------------------------- sample
def data_temperature(runs: list[RunRecord]) -> float | None:
    """The one temperature of the data runs, or None when they have several (or none)."""
    temperatures = {float(r.params["temperature"]) for r in runs if "temperature" in r.params}
    return temperatures.pop() if len(temperatures) == 1 else None
