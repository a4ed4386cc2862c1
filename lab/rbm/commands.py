"""What the headless RBM commands do (options in :mod:`lab.rbm.cli`): ``train`` (saving as it
goes under the session's lock), ``sample``, ``evaluate`` and ``import-rbm``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

from data import RunRecord, SessionFileError
from engines.ising import (
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)
from engines.rbm import (
    RBMConfig,
    RBMDivergence,
    RBMTrainer,
    load_npz,
    mean_free_energy,
)
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
from lab.rbm.cli import DEFAULTS
from lab.rbm.evaluation import (
    OBSERVABLES,
    _effective_hamiltonian,
    _model_samples,
    _observables,
    log_z_of,
)
from lab.rbm.runs import (
    RunInputError,
    finish_rbm_run,
    new_rbm_run,
    rbm_from_run,
    recording_from_run,
    resume_trainer,
    training_data,
)
from lab.rbm.task import RBMRecording, RBMTrainingTask, format_metrics


# ---------------------------------------------------------------------------- helpers
def _data_temperature(runs: list[RunRecord]) -> float | None:
    temperatures = {float(r.params["temperature"]) for r in runs if "temperature" in r.params}
    return temperatures.pop() if len(temperatures) == 1 else None


# ---------------------------------------------------------------------------- train
def _new_training(args: argparse.Namespace, runs: dict[str, RunRecord]):
    if not args.data:
        raise CliError("choose the training data with --data RUN (or --resume RUN)")
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in args.data]
    try:
        data, size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    config = RBMConfig(
        n_hidden=args.hidden, method=args.method, k=args.k, batch_size=args.batch,
        learning_rate=args.lr, optimizer=args.optimizer, momentum=args.momentum, l1=args.l1,
        l2=args.l2, lr_schedule=args.schedule,
        epochs=DEFAULTS.epochs if args.epochs is None else args.epochs,
        centering=args.centering,
        n_chains=args.chains, n_temperatures=args.temperatures,
        validation_fraction=args.validation, checkpoint_every=args.checkpoint_every,
        seed=args.seed, device=args.device,
    )
    try:
        config.validate(n_visible=data.shape[1])
        trainer = RBMTrainer(config, data)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    run = new_rbm_run(next_run_id(list(runs), "rbm"), config, size, args.data)
    run.created = utc_now()
    return run, trainer, RBMRecording(), True


def _resumed_training(args: argparse.Namespace, runs: dict[str, RunRecord]):
    run = get_run(runs, args.resume, "rbm", args.path)
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in run.params.get("data", [])]
    try:
        data, _ = training_data(data_runs)
        trainer = resume_trainer(run, data, args.epochs)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    run.params["epochs"] = trainer.config.epochs
    return run, trainer, recording_from_run(run), False


def train_command(args: argparse.Namespace) -> int:
    """Train holding the session's lock throughout, saving as it goes: after a checkpoint, at
    most every ``--save-seconds``, the run is written with the checkpoints, history and trainer
    state so far (status ``interrupted``), so a kill keeps a run that resumes from its last
    saved checkpoint (``--resume``); the end writes the final status."""
    return run_locked(args, _train)


def _train(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    if args.resume:
        run, trainer, recording, fresh = _resumed_training(args, runs)
    else:
        run, trainer, recording, fresh = _new_training(args, runs)
    lines: list[str] = []
    in_file = not fresh  # a resumed run is already in the session
    saved = {"checkpoints": recording.n_checkpoints, "at": time.monotonic()}

    def save(status: str, message: str = "") -> None:
        nonlocal in_file
        finish_rbm_run(run, recording, trainer, status, utc_now(), message)
        store_runs(args.path, [run], replace=in_file)
        in_file = True
        saved.update(checkpoints=recording.n_checkpoints, at=time.monotonic())

    def on_epoch(metrics: dict) -> None:
        lines.append(format_metrics(metrics))
        if (recording.n_checkpoints > saved["checkpoints"]
                and time.monotonic() - saved["at"] >= args.save_seconds
                and not trainer.finished):
            save("interrupted", "training in progress (saved as it went)")

    task = RBMTrainingTask(trainer, recording, fresh=fresh, on_epoch=on_epoch)
    try:
        status, message = drive(task, run.id, args.quiet,
                                lambda snapshot: (snapshot.progress, f"epoch {snapshot.epoch}"))
    except RBMDivergence as exc:
        status, message = "failed", str(exc)
    save(status, message)
    if lines and not args.quiet:
        print(lines[-1])
    print(f"{run.id}: {status}, {run.results.get('epochs_done', 0)} epochs, "
          f"{len(recording.checkpoints)} checkpoints  ->  {args.path}")
    if status == "failed":
        print(f"monge-lab: training diverged: {message} (kept the last good checkpoint)",
              file=sys.stderr)
        return 1
    return 0 if status == "finished" else 130


def sample_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    rbm_run = get_run(runs, args.rbm, "rbm", args.path)
    model = rbm_from_run(rbm_run)
    size = int(rbm_run.params["size"])
    samples, diagnostics = _model_samples(model, size, args.samples, args.burn_in, args.thin,
                                          args.method, args.chains, args.seed)
    energy = energies_per_spin(samples)
    magnetization = magnetizations_per_spin(samples)
    data_runs = [runs[i] for i in rbm_run.inputs if i in runs]
    temperature = _data_temperature(data_runs)
    params = {"size": size, "samples": args.samples, "burn_in": args.burn_in, "thin": args.thin,
              "method": args.method, "chains": args.chains, "flip_moves": True}
    if temperature is not None:
        params["temperature"] = temperature
    run = RunRecord(id=next_run_id(list(runs), "rbm-samples"), kind="rbm-samples",
                    status="finished", seed=args.seed, params=params, inputs=[rbm_run.id],
                    created=utc_now(), finished=utc_now())
    run.datasets = {"samples": samples.astype(np.int8), "energy": energy,
                    "magnetization": magnetization}
    run.dataset_attrs = {
        "samples": {"units": "spin (±1)", "axes": "sample, row, column"},
        "energy": {"units": "J per spin (Ising energy of the sample, J = 1)", "axes": "sample"},
        "magnetization": {"units": "per spin", "axes": "sample"},
    }
    run.results = {k: float(v) for k, v in diagnostics.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
    if temperature is not None:
        for name, est in summarize(energy, magnetization, temperature, size * size).items():
            run.results[name], run.results[f"{name}_error"] = est.value, est.error
    save_runs(args.path, [run])
    print(f"{run.id}: {samples.shape[0]} samples of {rbm_run.id} "
          f"(burn-in {args.burn_in}, thin {args.thin}, tau_int(F) = "
          f"{diagnostics.get('tau_int_energy', math.nan):.2f})  ->  {args.path}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    rbm_run = get_run(runs, args.rbm, "rbm", args.path)
    model = rbm_from_run(rbm_run)
    size = int(rbm_run.params["size"])
    data_ids = [args.data] if args.data else [i for i in rbm_run.inputs if i in runs]
    data_runs = [get_run(runs, i, "ising", args.path) for i in data_ids]
    try:
        data, data_size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    if data_size != size:
        raise CliError(f"the data have L = {data_size}, the RBM L = {size}")
    temperature = _data_temperature(data_runs)
    if temperature is None:
        raise CliError("the data runs have different temperatures: choose one with --data")
    log_z, log_z_error, method = log_z_of(model, args.ais_chains, args.ais_betas, args.seed,
                                          data)
    nll = mean_free_energy(model.to(torch.float64), data) + log_z
    samples, diagnostics = _model_samples(model, size, args.samples, 1000, 10, "gibbs", 32,
                                          args.seed)
    model_obs = _observables(samples, temperature)
    data_obs = _observables(data.reshape(-1, size, size), temperature)
    evaluation: dict[str, object] = {
        "log_z": float(log_z), "log_z_error": float(log_z_error), "log_z_method": method,
        "nll": float(nll), "nll_error": float(log_z_error), "data": data_ids,
        "temperature": temperature, "model_samples": int(samples.shape[0]),
        "burn_in": 1000, "thin": 10,
        "tau_int_energy": float(diagnostics.get("tau_int_energy", math.nan)), "seed": args.seed,
    }
    evaluation.update({f"model_{k}": v for k, v in model_obs.items()})
    evaluation.update({f"data_{k}": v for k, v in data_obs.items()})
    evaluation.update(_effective_hamiltonian(model, data.reshape(-1, size, size), temperature))
    rbm_run.groups["evaluation"] = evaluation
    save_runs(args.path, [rbm_run], replace=True)

    error = f" ± {log_z_error:.4f}" if method == "ais" else ""
    print(f"{rbm_run.id}: log Z = {log_z:.4f}{error} ({method}); NLL of {', '.join(data_ids)} "
          f"= {nll:.4f}{error} nats per configuration")
    print(f"{'observable':>10}  {'model':>22}  {'data':>22}")
    for name in OBSERVABLES:
        cells = [f"{obs[name]:.5f} ± {obs[f'{name}_error']:.5f}" for obs in (model_obs, data_obs)]
        print(f"{name:>10}  {cells[0]:>22}  {cells[1]:>22}")
    print(f"F(v) against βH(v) on the data: slope {evaluation['free_energy_slope']:.4f} ± "
          f"{evaluation['free_energy_slope_error']:.4f}, r² = {evaluation['free_energy_r2']:.4f}"
          f"  (1 and 1 when the RBM has learned the Boltzmann weights)")
    print("effective couplings of -F: " + ", ".join(
        f"{name} = {evaluation[name]:.4f} ± {evaluation[name + '_error']:.4f}"
        for name in ("K1", "K2", "K4", "field")) + f"  (βJ = {1 / temperature:.4f})")
    return 0


# ---------------------------------------------------------------------------- import
def import_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path) if os.path.lexists(args.path) else {}
    if args.convention not in ("pm1", "01"):
        raise CliError(f"unknown convention '{args.convention}' (pm1 or 01)")
    if args.size < 2:
        raise CliError(f"size must be ≥ 2, got {args.size}")
    try:
        model = load_npz(args.npz, convention=args.convention)
    except (OSError, ValueError, KeyError) as exc:
        raise CliError(f"cannot read {args.npz}: {exc}") from None
    if model.n_visible != args.size**2:
        raise CliError(f"{args.npz} has {model.n_visible} visible units, but L = {args.size} "
                       f"needs {args.size**2}")
    try:
        check_session_writable(args.path)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    params = model.to_numpy()
    run = RunRecord(
        id=next_run_id(list(runs), "rbm"), kind="rbm", status="finished", seed=None,
        params={"size": args.size, "n_visible": model.n_visible, "n_hidden": model.n_hidden,
                "source": os.path.basename(args.npz), "convention": args.convention},
        created=utc_now(), finished=utc_now(),
        datasets={k: params[k] for k in ("W", "a", "b")},
    )
    save_runs(args.path, [run])
    print(f"{run.id}: imported {args.npz} ({model.n_visible} visible, {model.n_hidden} hidden, "
          f"{args.convention} convention)  ->  {args.path}")
    return 0
