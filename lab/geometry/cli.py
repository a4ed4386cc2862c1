"""The headless ``geometry`` command: the geometry of an RBM's training, checkpoint by checkpoint.

``geometry S.h5 --rbm RUN [--data RUN ...] [--epsilon 1e-3] [--samples 500] [--seed 0]
[--points 1000] [--k 10] [--burn-in 500] [--quiet]`` adds a run of kind ``geometry``
(``lab.geometry.runs``) computed by ``lab.geometry.task.GeometryTask`` on every checkpoint of the
``rbm`` run, against the data (default: the Ising runs the RBM was trained on), and prints one
line per checkpoint. Ctrl-C keeps the checkpoints done (status ``stopped``, exit 130); a failure
inside the computation keeps them too (status ``failed``, exit 1).

It holds the session's lock throughout and records as it goes: the run is added after the first
checkpoint and replaced with the checkpoints done at most every ``--save-seconds`` (status
``interrupted`` until the end), so a kill at any instant keeps what the last save held.
"""

from __future__ import annotations

import argparse
import sys
import time

from data import RunRecord
from engines.geometry.monge_ampere import MAX_K
from lab.cli.common import (
    SAVE_SECONDS,
    CliError,
    finite_float,
    get_run,
    run_locked,
    store_runs,
)
from lab.core.progress import drive
from lab.geometry.runs import format_geometry, geometry_run
from lab.geometry.task import GeometryOptions, GeometryTask
from lab.rbm.runs import RunInputError, run_checkpoints, training_data
from lab.session.session import next_run_id, utc_now

DEFAULTS = GeometryOptions()


def add_parsers(sub: argparse._SubParsersAction) -> None:
    geometry = sub.add_parser(
        "geometry", help="spectrum, cone distances, transport and entropy along an RBM's training")
    geometry.add_argument("path", help="session file")
    geometry.add_argument("--rbm", required=True, metavar="RUN", help="an rbm run with checkpoints")
    geometry.add_argument("--data", action="append", metavar="RUN",
                          help="an Ising run (repeat for several; default: the RBM's data)")
    geometry.add_argument("--epsilon", type=finite_float, default=DEFAULTS.epsilon,
                          help="the regularization Σ + εI (spin², > 0)")
    geometry.add_argument("--samples", type=int, default=DEFAULTS.samples,
                          help="model samples per checkpoint (and data samples) for the OT")
    geometry.add_argument("--seed", type=int, default=DEFAULTS.seed)
    geometry.add_argument("--points", type=int, default=DEFAULTS.n_points,
                          help="draws for the Gaussian transport check")
    geometry.add_argument("--k", type=int, default=DEFAULTS.k,
                          help=f"size of the compression for Monge–Ampère (≤ {MAX_K})")
    geometry.add_argument("--burn-in", type=int, default=DEFAULTS.burn_in,
                          help="Gibbs sweeps before the model samples")
    geometry.add_argument("--save-seconds", type=finite_float, default=SAVE_SECONDS,
                          help="longest time between two saves of the checkpoints done")
    geometry.add_argument("--quiet", action="store_true", help="no progress bar")
    geometry.set_defaults(func=geometry_command)


def geometry_command(args: argparse.Namespace) -> int:
    return run_locked(args, _geometry)


def _geometry(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    rbm_run = get_run(runs, args.rbm, "rbm", args.path)
    data_ids = args.data or list(rbm_run.params.get("data") or rbm_run.inputs)
    if not data_ids:
        raise CliError(f"run '{rbm_run.id}' records no training data: choose it with --data RUN")
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in data_ids]
    try:
        data, data_size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    size = int(rbm_run.params.get("size", 0))
    if data_size != size:
        raise CliError(f"the data have L = {data_size}, the RBM '{rbm_run.id}' L = {size}")
    epochs = rbm_run.datasets.get("checkpoints/epoch")
    if epochs is None or epochs.size == 0:
        raise CliError(f"run '{rbm_run.id}' has no checkpoints (train it with the trainer)")
    try:
        options = GeometryOptions(epsilon=args.epsilon, samples=args.samples, seed=args.seed,
                                  n_points=args.points, k=args.k, burn_in=args.burn_in)
        task = GeometryTask(run_checkpoints(rbm_run), data, size, options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    run_id = next_run_id(list(runs), "geometry")
    created = utc_now()
    saved = {"done": 0, "at": 0.0}  # checkpoints in the file, and when they were written

    def save_partial(snapshot) -> tuple[float, str]:
        """After each checkpoint: the run so far, at the first and then every --save-seconds."""
        now = time.monotonic()
        if snapshot.done > saved["done"] and (saved["done"] == 0
                                              or now - saved["at"] >= args.save_seconds):
            partial = geometry_run(run_id, rbm_run, data_ids, options, snapshot.datasets,
                                   "interrupted", created=created, finished=utc_now(),
                                   message=f"recorded {snapshot.done} of {snapshot.total} "
                                           f"checkpoints")
            store_runs(args.path, [partial], replace=saved["done"] > 0)
            saved.update(done=snapshot.done, at=now)
        return snapshot.progress, f"checkpoint {snapshot.done}/{snapshot.total}"

    try:
        status, message = drive(task, run_id, args.quiet, save_partial)
    except (ValueError, RuntimeError, ArithmeticError) as exc:
        status, message = "failed", f"checkpoint {task.done + 1}: {exc}"
    run = geometry_run(run_id, rbm_run, data_ids, options, task.datasets(), status,
                       created=created, finished=utc_now(), message=message)
    store_runs(args.path, [run], replace=saved["done"] > 0)
    print(format_geometry(run))
    print(f"{run.id}: {status}, {task.done} of {task.total} checkpoints  ->  {args.path}")
    if status == "failed":
        print(f"monge-lab: geometry failed at {message} (kept the checkpoints done)",
              file=sys.stderr)
        return 1
    return 0 if status == "finished" else 130
