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

from data import RunRecord, SessionFileError
from engines.ising import (
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)
from engines.rbm import RBMDivergence, RBMTrainer, load_npz
from engines.rbm.recipes import ising_config
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
from lab.rbm.evaluation import (
    MIN_SAMPLES,
    _model_samples,
    comparison_from_attributes,
    evaluate_model,
    evaluation_inputs,
    flat_comparison,
    sampler_inputs,
    summary_of_samples,
    thermodynamics_table,
)
from lab.rbm.runs import (
    TRAIN_OPTIONS,
    RunInputError,
    finish_rbm_run,
    recording_from_run,
    resume_trainer,
    training_data,
)
from lab.rbm.task import (
    RBMRecording,
    RBMTrainingTask,
    default_monitor_every,
    early_stop_message,
    format_metrics,
    format_monitor,
)
from lab.rbm.workflow import data_temperature, new_training


# ---------------------------------------------------------------------------- train
def _new_training(args: argparse.Namespace, runs: dict[str, RunRecord]):
    """A new run of ``train``'s options (:func:`lab.rbm.workflow.new_training`, the path a
    sweep's worker takes too), its trainer checked (values, memory) before any work."""
    run, config, data = new_training(args, runs, next_run_id(list(runs), "rbm"))
    try:
        trainer = RBMTrainer(config, data)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return run, trainer, RBMRecording(), True


def _check_resume_options(args: argparse.Namespace) -> None:
    """CliError when ``--resume`` comes with options it would ignore: a resumed run keeps its
    data and every trainer setting (only ``--epochs`` can grow), so a changed one is refused
    rather than silently dropped."""
    defaults = ising_config()  # train's option defaults (lab.rbm.cli)
    changed = [
        f"--{name.replace('_', '-')}"
        for name, field in TRAIN_OPTIONS.items()
        if name != "epochs"
        and name in vars(args)
        and getattr(args, name) != getattr(defaults, field)
    ]
    if args.data:
        changed.insert(0, "--data")
    if changed:
        raise CliError(
            f"--resume {args.resume} continues that run with its own data and settings: "
            f"{', '.join(changed)} cannot change (only --epochs can grow)"
        )


def _resumed_training(args: argparse.Namespace, runs: dict[str, RunRecord]):
    _check_resume_options(args)
    run = get_run(runs, args.resume, "rbm", args.path)
    data_runs = [get_run(runs, run_id, "ising", args.path) for run_id in run.params.get("data", [])]
    try:
        data, _ = training_data(data_runs)
        trainer = resume_trainer(run, data, args.epochs)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if trainer.finished:
        raise CliError(
            f"run '{run.id}' has done its {trainer.config.epochs} epochs: ask for "
            f"more with --epochs N (N > {trainer.epoch})"
        )
    run.params["epochs"] = trainer.config.epochs
    return run, trainer, recording_from_run(run), False


def train_command(args: argparse.Namespace) -> int:
    """Train holding the session's lock throughout, saving as it goes: after a checkpoint, at
    most every ``--save-seconds``, the run is written with the checkpoints, history and trainer
    state so far (status ``interrupted``), so a kill keeps a run that resumes from its last
    saved checkpoint (``--resume``); the end writes the final status."""
    return run_locked(args, _train)


def _progress(snapshot) -> tuple[float, str]:
    """The progress bar's fraction (per minibatch) and text of a training snapshot."""
    return snapshot.progress, (
        f"epoch {snapshot.epoch}/{snapshot.epochs} batch {snapshot.batch}/{snapshot.n_batches}"
    )


def _report(line: str) -> None:
    """Print a line on stdout while a progress bar may be drawn in place on stderr."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
    print(line, flush=True)


def _train(args: argparse.Namespace, runs: dict[str, RunRecord]) -> int:
    if args.resume:
        run, trainer, recording, fresh = _resumed_training(args, runs)
    else:
        run, trainer, recording, fresh = _new_training(args, runs)
    every = args.monitor_every
    if args.resume or "monitor_every" not in run.params:
        every = default_monitor_every(trainer.config.epochs) if every is None else every
        run.params["monitor_every"] = every
    every = int(run.params["monitor_every"])
    if args.metrics_every is not None or "metrics_every" not in run.params:
        run.params["metrics_every"] = args.metrics_every or 0
    if args.early_stop is not None or "early_stop" not in run.params:
        run.params["early_stop"] = args.early_stop or 0
    lines: list[str] = []
    in_file = not fresh  # a resumed run is already in the session
    saved = {"checkpoints": recording.n_checkpoints, "at": time.monotonic()}

    def finish(status: str, message: str = "") -> None:
        finish_rbm_run(run, recording, trainer, status, utc_now(), message)

    def save(status: str, message: str = "") -> None:
        nonlocal in_file
        finish(status, message)
        store_runs(args.path, [run], replace=in_file)
        in_file = True
        saved.update(checkpoints=recording.n_checkpoints, at=time.monotonic())

    def on_epoch(metrics: dict) -> None:
        lines.append(format_metrics(metrics))
        monitor = format_monitor(metrics)
        if monitor and not args.quiet:
            _report(monitor)
        if (
            recording.n_checkpoints > saved["checkpoints"]
            and time.monotonic() - saved["at"] >= args.save_seconds
            and not trainer.finished
        ):
            save("interrupted", "training in progress (saved as it went)")

    try:
        task = RBMTrainingTask(
            trainer,
            recording,
            fresh=fresh,
            on_epoch=on_epoch,
            temperature=data_temperature(
                [runs[i] for i in run.params.get("data", []) if i in runs]
            ),
            monitor_every=every,
            metrics_every=int(run.params["metrics_every"]),
            early_stop=int(run.params["early_stop"]),
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if fresh and not args.quiet:
        first = format_monitor(_last_row(recording))
        if first:
            _report(first)
    try:
        status, message = drive(task, run.id, args.quiet, _progress)
    except RBMDivergence as exc:
        status, message = "failed", str(exc)
    message = early_stop_message(task) or message
    finish(status, message)
    store_runs(args.path, [run], replace=in_file)
    if lines and not args.quiet:
        print(lines[-1])
    if task.stopped_early:
        print(f"{run.id}: {message}")
    print(
        f"{run.id}: {status}, {run.results.get('epochs_done', 0)} epochs, "
        f"{len(recording.checkpoints)} checkpoints  ->  {args.path}"
    )
    if status == "failed":
        print(
            f"monge-lab: training diverged: {message} (kept the last good checkpoint)",
            file=sys.stderr,
        )
        return 1
    return 0 if status == "finished" else 130


def _last_row(recording: RBMRecording) -> dict:
    """The last history row of ``recording`` (epoch 0's, before any update), as metrics."""
    history = recording.copy()[0]
    return {key: float(values[-1]) for key, values in history.items() if values.size} | {
        "epoch": int(history["epoch"][-1]) if "epoch" in history else 0
    }


def sample_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    rbm_run, model, size = sampler_inputs(args, runs)
    samples, diagnostics = _model_samples(
        model, size, args.samples, args.burn_in, args.thin, args.method, args.chains, args.seed
    )
    energy = energies_per_spin(samples)
    magnetization = magnetizations_per_spin(samples)
    data_runs = [runs[i] for i in rbm_run.inputs if i in runs]
    temperature = (
        args.temperature
        if args.temperature is not None
        else data_temperature([r for r in data_runs if r.kind == "ising"])
    )
    params = {
        "size": size,
        "samples": args.samples,
        "burn_in": args.burn_in,
        "thin": args.thin,
        "method": args.method,
        "chains": args.chains,
        "flip_moves": True,
    }
    if temperature is not None:
        params["temperature"] = temperature
    run = RunRecord(
        id=next_run_id(list(runs), "rbm-samples"),
        kind="rbm-samples",
        status="finished",
        seed=args.seed,
        params=params,
        inputs=[rbm_run.id],
        created=utc_now(),
        finished=utc_now(),
    )
    run.datasets = {
        "samples": samples.astype(np.int8),
        "energy": energy,
        "magnetization": magnetization,
    }
    run.dataset_attrs = {
        "samples": {"units": "spin (±1)", "axes": "sample, row, column"},
        "energy": {"units": "J per spin (Ising energy of the sample, J = 1)", "axes": "sample"},
        "magnetization": {"units": "per spin", "axes": "sample"},
    }
    run.results = {
        k: float(v)
        for k, v in diagnostics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    if temperature is not None:
        for name, est in summarize(energy, magnetization, temperature, size * size).items():
            run.results[name], run.results[f"{name}_error"] = est.value, est.error
    data = _summary_data(rbm_run, runs, size)
    rows = summary_of_samples(samples, temperature, data)
    run.results.update(flat_comparison(rows))
    save_runs(args.path, [run])
    print(
        f"{run.id}: {samples.shape[0]} samples of {rbm_run.id} "
        f"(burn-in {args.burn_in}, thin {args.thin}, tau_int(F) = "
        f"{diagnostics.get('tau_int_energy', math.nan):.2f})  ->  {args.path}"
    )
    _print_summary(rows, temperature, size)
    return 0


def _summary_data(rbm_run: RunRecord, runs: dict[str, RunRecord], size: int):
    """The RBM's training data for the comparison, or None (none, mixed sizes, too few)."""
    data_runs = [runs[i] for i in rbm_run.inputs if i in runs and runs[i].kind == "ising"]
    if not data_runs:
        return None
    try:
        data, data_size = training_data(data_runs)
    except RunInputError:
        return None
    return data if data_size == size and data.shape[0] >= MIN_SAMPLES else None


def _print_summary(rows: dict, temperature: float | None, size: int) -> None:
    where = (
        f"L = {size}, T = {temperature:g}"
        if temperature is not None
        else f"L = {size}, no temperature (c, chi and the exact values need --temperature)"
    )
    print(f"thermodynamics per spin ({where}; σ from τ_int, jackknife for c, chi, U4):")
    for line in thermodynamics_table(rows):
        print(line)


def evaluate_command(args: argparse.Namespace) -> int:
    runs = session_runs(args.path)
    rbm_run, data, data_ids, temperature = evaluation_inputs(args, runs)
    try:
        check_session_writable(args.path)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    evaluation = evaluate_model(rbm_run, data, data_ids, temperature, args)
    rbm_run.groups["evaluation"] = evaluation
    save_runs(args.path, [rbm_run], replace=True)

    log_z, log_z_error, method = (evaluation[k] for k in ("log_z", "log_z_error", "log_z_method"))
    error = f" ± {log_z_error:.4f}" if method == "ais" else ""
    line = f"{rbm_run.id}: log Z = {log_z:.4f}{error} ({method})"
    if data is not None:
        line += (
            f"; NLL of {', '.join(data_ids)} = {evaluation['nll']:.4f}{error} nats per "
            f"configuration"
        )
    print(line)
    print(
        f"model: {args.samples} samples from {args.chains} {args.method} chains with the flip "
        f"move (burn-in {args.burn_in}, thin {args.thin}), tau_int(e) = "
        f"{evaluation.get('tau_int_e', math.nan):.1f}, tau_int(|m|) = "
        f"{evaluation.get('tau_int_abs_m', math.nan):.1f} sweeps"
    )
    size = int(rbm_run.params["size"])
    rows = comparison_from_attributes(evaluation)
    _print_summary(rows, temperature, size)
    if "free_energy_slope" in evaluation:
        print(
            f"F(v) against βH(v) on the data: slope {evaluation['free_energy_slope']:.4f} ± "
            f"{evaluation['free_energy_slope_error']:.4f}, r² = "
            f"{evaluation['free_energy_r2']:.4f}  (1 and 1 when the RBM has learned the "
            f"Boltzmann weights)"
        )
        print(
            "effective couplings of -F: "
            + ", ".join(
                f"{name} = {evaluation[name]:.4f} ± {evaluation[name + '_error']:.4f}"
                for name in ("K1", "K2", "K4", "field")
            )
            + f"  (βJ = {1 / temperature:.4f})"
        )
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
        with np.load(args.npz, allow_pickle=False) as f:
            convention = str(f["convention"]) if "convention" in f.files else args.convention
    except Exception as exc:  # noqa: BLE001 — whatever a foreign file breaks (a bad zip, zlib) is its fault
        raise CliError(f"cannot read {args.npz}: {exc}") from None
    params = model.to_numpy()
    if not all(np.all(np.isfinite(params[k])) for k in ("W", "a", "b")):
        raise CliError(f"{args.npz}: W, a and b must all be finite numbers")
    if model.n_visible != args.size**2:
        raise CliError(
            f"{args.npz} has {model.n_visible} visible units, but L = {args.size} "
            f"needs {args.size**2}"
        )
    try:
        check_session_writable(args.path)
    except SessionFileError as exc:
        raise CliError(str(exc)) from None
    run = RunRecord(
        id=next_run_id(list(runs), "rbm"),
        kind="rbm",
        status="finished",
        seed=None,
        params={
            "size": args.size,
            "n_visible": model.n_visible,
            "n_hidden": model.n_hidden,
            "source": os.path.basename(args.npz),
            "convention": convention,
        },
        created=utc_now(),
        finished=utc_now(),
        datasets={k: params[k] for k in ("W", "a", "b")},
    )
    save_runs(args.path, [run])
    print(
        f"{run.id}: imported {args.npz} ({model.n_visible} visible, {model.n_hidden} hidden, "
        f"{convention} convention)  ->  {args.path}"
    )
    return 0
