"""Headless RBM commands: ``train``, ``sample``, ``evaluate`` and ``import-rbm``.

- ``train S.h5 --data RUN [--data RUN …] --hidden 64 --epochs 100 --batch 64 --lr 0.01
  --method pcd --k 1 --seed 1 [--device cuda]`` adds a run of kind ``rbm`` (``lab.rbm.runs``).
  A diverging run is kept with its last good checkpoint, marked failed, and the command exits 1.
- ``sample S.h5 --rbm RUN --samples 2000 --seed 1`` adds ``rbm-samples``: equilibrium samples
  of the model from long Gibbs (or PT) chains, with the exact global flip move v → −v (so
  chains cross between the ordered phases of a Z2-symmetric model), and their Ising energy and
  magnetization.
- ``evaluate S.h5 --rbm RUN [--data RUN]`` prints log Z (exact or AIS ± error), the NLL of the
  data, the observables of model samples next to the data's, and the effective Hamiltonian
  (F(v) against βH(v) on the data, and the couplings of −F by regression, against βJ); stores
  them as the attributes of the run's ``evaluation`` group.
- ``import-rbm S.h5 params.npz --size L [--convention pm1|01]`` adds an ``rbm`` run.
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
    correlation_function,
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)
from engines.rbm import (
    RBMConfig,
    RBMDivergence,
    RBMTrainer,
    ais_log_partition,
    base_biases_from_data,
    load_npz,
    log_partition_exact,
    mean_free_energy,
    sample_model,
)
from engines.rbm.partition import enumeration_cost
from engines.rg import effective_couplings, free_energy_vs_ising
from lab.cli.common import (
    SAVE_SECONDS,
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
from lab.session.session import next_run_id, utc_now

DEFAULTS = RBMConfig()
EXACT_UNITS = 24
EFFECTIVE_HAMILTONIAN_MAX = 20_000  # configurations used by the coupling regression
EXACT_BUDGET = 2.0**35
OBSERVABLES = ("e", "abs_m", "c", "chi", "binder")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train an RBM on Ising runs of the session")
    train.add_argument("path", help="session file")
    train.add_argument("--data", action="append", metavar="RUN",
                       help="an Ising run id (repeat for several)")
    train.add_argument("--resume", metavar="RUN",
                       help="continue an rbm run from its last checkpoint or stop")
    train.add_argument("--hidden", type=int, default=DEFAULTS.n_hidden, help="hidden units m")
    train.add_argument("--epochs", type=int, default=None,
                       help="epochs in total (default 100; on --resume, as recorded)")
    train.add_argument("--batch", type=int, default=DEFAULTS.batch_size, help="minibatch size")
    train.add_argument("--lr", type=finite_float, default=DEFAULTS.learning_rate,
                       help="learning rate")
    train.add_argument("--method", default=DEFAULTS.method, help="cd | pcd | pt")
    train.add_argument("--k", type=int, default=DEFAULTS.k, help="Gibbs steps per update")
    train.add_argument("--optimizer", default=DEFAULTS.optimizer, help="sgd (momentum) | adam")
    train.add_argument("--momentum", type=finite_float, default=DEFAULTS.momentum)
    train.add_argument("--l1", type=finite_float, default=DEFAULTS.l1, help="L1 weight penalty")
    train.add_argument("--l2", type=finite_float, default=DEFAULTS.l2, help="L2 weight penalty")
    train.add_argument("--schedule", default=DEFAULTS.lr_schedule,
                       help="constant | linear (to 0 at the end) | exponential")
    train.add_argument("--centering", action="store_true", help="centered gradients")
    train.add_argument("--chains", type=int, default=DEFAULTS.n_chains,
                       help="persistent chains (0: batch size)")
    train.add_argument("--temperatures", type=int, default=DEFAULTS.n_temperatures,
                       help="PT replicas")
    train.add_argument("--validation", type=finite_float, default=DEFAULTS.validation_fraction,
                       help="held-out fraction of the data")
    train.add_argument("--checkpoint-every", type=int, default=DEFAULTS.checkpoint_every,
                       help="epochs")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="cpu | cuda")
    train.add_argument("--save-seconds", type=finite_float, default=SAVE_SECONDS,
                       help="longest time between two saves of the checkpoints done")
    train.add_argument("--quiet", action="store_true")
    train.set_defaults(func=train_command)

    sample = sub.add_parser("sample", help="draw equilibrium samples from a trained RBM")
    sample.add_argument("path")
    sample.add_argument("--rbm", required=True, metavar="RUN")
    sample.add_argument("--samples", type=int, default=2000)
    sample.add_argument("--burn-in", type=int, default=1000, help="Gibbs sweeps v→h→v")
    sample.add_argument("--thin", type=int, default=10, help="sweeps between samples")
    sample.add_argument("--method", default="gibbs", help="gibbs | pt")
    sample.add_argument("--chains", type=int, default=32)
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(func=sample_command)

    evaluate = sub.add_parser("evaluate", help="log Z, NLL and observables of an RBM vs data")
    evaluate.add_argument("path")
    evaluate.add_argument("--rbm", required=True, metavar="RUN")
    evaluate.add_argument("--data", metavar="RUN", help="Ising run (default: the RBM's data)")
    evaluate.add_argument("--samples", type=int, default=2000, help="model samples")
    evaluate.add_argument("--ais-chains", type=int, default=200)
    evaluate.add_argument("--ais-betas", type=int, default=2000)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(func=evaluate_command)

    imp = sub.add_parser("import-rbm", help="add an RBM from an .npz file (W, a, b)")
    imp.add_argument("path")
    imp.add_argument("npz", help="file with arrays W (n, m), a (n,), b (m,)")
    imp.add_argument("--size", type=int, required=True, help="L, with n = L²")
    imp.add_argument("--convention", default="pm1", help="pm1 (v = ±1) | 01 (v ∈ {0,1})")
    imp.set_defaults(func=import_command)


# ---------------------------------------------------------------------------- helpers
def _data_temperature(runs: list[RunRecord]) -> float | None:
    temperatures = {float(r.params["temperature"]) for r in runs if "temperature" in r.params}
    return temperatures.pop() if len(temperatures) == 1 else None


def _generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


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


# ---------------------------------------------------------------------------- sample
def _model_samples(model, size: int, n: int, burn_in: int, thin: int, method: str,
                   chains: int, seed: int) -> tuple[np.ndarray, dict]:
    try:
        samples, diagnostics = sample_model(model, n, burn_in=burn_in, thin=thin, method=method,
                                            n_chains=chains,
                                            generator=_generator(seed, model.device),
                                            flip_moves=True)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return samples[:n].reshape(-1, size, size), diagnostics


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


# ---------------------------------------------------------------------------- evaluate
def log_z_of(model, n_chains: int, n_betas: int, seed: int, data: np.ndarray):
    """(log Z, error, method): exact enumeration when affordable, AIS otherwise."""
    model64 = model.to(torch.float64)
    if (min(model.n_visible, model.n_hidden) <= EXACT_UNITS
            and enumeration_cost(model64) <= EXACT_BUDGET):
        return log_partition_exact(model64), 0.0, "exact"
    log_z, error = ais_log_partition(model64, n_chains, n_betas,
                                     _generator(seed, model.device),
                                     base=base_biases_from_data(data))
    return log_z, error, "ais"


def _observables(samples: np.ndarray, temperature: float) -> dict[str, float]:
    size = samples.shape[1]
    e, m = energies_per_spin(samples), magnetizations_per_spin(samples)
    out: dict[str, object] = {}
    for name, est in summarize(e, m, temperature, size * size).items():
        if name in OBSERVABLES:
            out[name], out[f"{name}_error"] = float(est.value), float(est.error)
    r, c, err = correlation_function(samples)
    out["correlation"], out["correlation_error"] = [float(x) for x in c], [float(x) for x in err]
    return out


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


def _effective_hamiltonian(model, configs: np.ndarray, temperature: float) -> dict:
    """Eqs. 18–19: F(v) against βH(v) on the data, and the couplings of -F by regression."""
    params = {k: v.astype(np.float64) for k, v in model.to_numpy().items()}
    fit = free_energy_vs_ising(params["W"], params["a"], params["b"], configs, temperature)
    couplings = effective_couplings(params["W"], params["a"], params["b"],
                                    configs[:EFFECTIVE_HAMILTONIAN_MAX])
    out = {"free_energy_slope": float(fit["slope"]),
           "free_energy_slope_error": float(fit["slope_error"]),
           "free_energy_r2": float(fit["r2"]), "beta_J": 1.0 / temperature}
    for name in ("K1", "K2", "K4", "field"):
        value, error = couplings[name]
        out[name], out[f"{name}_error"] = float(value), float(error)
    return out


# ---------------------------------------------------------------------------- import
def import_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path) if os.path.exists(args.path) else {}
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
