"""Measuring a trained RBM: log Z (exact or AIS), equilibrium samples of the model, their
thermodynamics against the data's and the exact Ising values, and the effective Hamiltonian of
the paper's eqs. 18–19.

:func:`evaluation_inputs` checks what ``evaluate`` names (the ``rbm`` run, the optional data,
the temperature, the sampler's settings) before any work; :func:`evaluate_model` measures, and
:func:`thermodynamics_table` prints the comparison that ``evaluate`` and ``sample`` show: for
each of e, ⟨m⟩, ⟨|m|⟩, c, χ, U4 (per spin, conventions of :mod:`engines.rbm.thermodynamics`)
the model ± σ (σ from τ_int, jackknife for c, χ, U4), the data ± σ, the exact value and the
deviations Δ/σ. Without a temperature c, χ and the exact values are left out (the model has no
temperature of its own).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from data import RunRecord
from engines.ising import (
    correlation_function,
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)
from engines.rbm import (
    RBM,
    ais_log_partition,
    base_biases_from_data,
    log_partition_exact,
    mean_free_energy,
    sample_model,
)
from engines.rbm.partition import enumeration_cost
from engines.rbm.thermodynamics import (
    compare,
    data_thermodynamics,
    exact_thermodynamics,
    model_thermodynamics,
)
from engines.rg import effective_couplings, free_energy_vs_ising
from lab.cli.common import (
    CliError,
    get_run,
)
from lab.rbm.runs import (
    RunInputError,
    physical_memory,
    rbm_from_run,
    rbm_size,
    training_data,
)

EXACT_UNITS = 24


EFFECTIVE_HAMILTONIAN_MAX = 20_000  # configurations used by the coupling regression


EXACT_BUDGET = 2.0**35


OBSERVABLES = ("e", "abs_m", "c", "chi", "binder")
"""The observables of the stored ``model_<name>``/``data_<name>`` pairs of older evaluations."""

SUMMARY = ("e", "m", "abs_m", "c", "chi", "binder")
"""The observables ``evaluate`` and ``sample`` compare, in the order printed."""
LABELS = {"e": "e", "m": "<m>", "abs_m": "<|m|>", "c": "c", "chi": "chi", "binder": "U4"}
NEEDS_TEMPERATURE = ("c", "chi")
SAMPLER_METHODS = ("gibbs", "pt")
MIN_SAMPLES = 20  # the fewest configurations τ_int and the jackknife are estimated from


def _generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


# ---------------------------------------------------------------------------- sample
def _model_samples(
    model, size: int, n: int, burn_in: int, thin: int, method: str, chains: int, seed: int
) -> tuple[np.ndarray, dict]:
    try:
        samples, diagnostics = sample_model(
            model,
            n,
            burn_in=burn_in,
            thin=thin,
            method=method,
            n_chains=chains,
            generator=_generator(seed, model.device),
            flip_moves=True,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return samples[:n].reshape(-1, size, size), diagnostics


# ---------------------------------------------------------------------------- evaluate
def log_z_of(model, n_chains: int, n_betas: int, seed: int, data: np.ndarray | None):
    """(log Z, error, method): exact enumeration when affordable, AIS otherwise (its base model
    the independent spins of ``data``, uniform without data)."""
    model64 = model.to(torch.float64)
    if (
        min(model.n_visible, model.n_hidden) <= EXACT_UNITS
        and enumeration_cost(model64) <= EXACT_BUDGET
    ):
        return log_partition_exact(model64), 0.0, "exact"
    base = "uniform" if data is None else base_biases_from_data(data)
    log_z, error = ais_log_partition(
        model64, n_chains, n_betas, _generator(seed, model.device), base=base
    )
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


def _effective_hamiltonian(model, configs: np.ndarray, temperature: float) -> dict:
    """Eqs. 18–19: F(v) against βH(v) on the data, and the couplings of -F by regression."""
    params = {k: v.astype(np.float64) for k, v in model.to_numpy().items()}
    fit = free_energy_vs_ising(params["W"], params["a"], params["b"], configs, temperature)
    couplings = effective_couplings(
        params["W"], params["a"], params["b"], configs[:EFFECTIVE_HAMILTONIAN_MAX]
    )
    out = {
        "free_energy_slope": float(fit["slope"]),
        "free_energy_slope_error": float(fit["slope_error"]),
        "free_energy_r2": float(fit["r2"]),
        "beta_J": 1.0 / temperature,
    }
    for name in ("K1", "K2", "K4", "field"):
        value, error = couplings[name]
        out[name], out[f"{name}_error"] = float(value), float(error)
    return out


# ---------------------------------------------------------------------------- thermodynamics
MAX_SWEEPS = 10**9
"""The most sweeps ``--burn-in`` or ``--thin`` may ask for (the geometry commands' bound)."""


def check_sampler_options(args: argparse.Namespace, n_visible: int | None = None) -> None:
    """CliError (one line) for sampler settings that cannot work, before any work: counts out
    of range, a seed the session cannot store, and (given the model's ``n_visible``) samples
    that cannot fit in this machine's memory."""
    if args.samples < MIN_SAMPLES:
        raise CliError(f"--samples must be ≥ {MIN_SAMPLES}, got {args.samples}")
    if not 0 <= args.seed < 2**63:
        raise CliError(f"--seed must be in 0 … 2**63 - 1, got {args.seed}")
    for name, value in (("--burn-in", args.burn_in), ("--thin", args.thin)):
        if value > MAX_SWEEPS:
            raise CliError(f"{name} must be at most {MAX_SWEEPS:.0e} sweeps, got {value}")
    if n_visible is not None:
        # the chains' record (int8), the samples kept (int8) and their e and m (float64)
        need, have = args.samples * (2 * n_visible + 16), physical_memory()
        if have is not None and need > have:
            raise CliError(
                f"--samples {args.samples} of {n_visible} spins need at least "
                f"{need / 2**30:.3g} GiB of memory, this machine has {have / 2**30:.3g} GiB"
            )
    if args.chains < 1 or args.chains > args.samples:
        raise CliError(
            f"--chains must be between 1 and --samples ({args.samples}), got {args.chains}"
        )
    if args.burn_in < 0:
        raise CliError(f"--burn-in must be ≥ 0 sweeps, got {args.burn_in}")
    if args.thin < 1:
        raise CliError(f"--thin must be ≥ 1 sweep, got {args.thin}")
    if args.method not in SAMPLER_METHODS:
        raise CliError(f"unknown --method '{args.method}' (gibbs or pt)")
    if args.temperature is not None and not args.temperature > 0:
        raise CliError(f"--temperature must be > 0 (in J/k_B), got {args.temperature:g}")
    if getattr(args, "ais_chains", 1) < 1 or getattr(args, "ais_betas", 2) < 2:
        raise CliError(
            f"--ais-chains must be ≥ 1 and --ais-betas ≥ 2, got {args.ais_chains} "
            f"and {args.ais_betas}"
        )


def sampler_inputs(
    args: argparse.Namespace, runs: dict[str, RunRecord]
) -> tuple[RunRecord, RBM, int]:
    """The ``rbm`` run ``args.rbm`` names, its model and lattice side L, with the sampler
    options checked against it (:func:`check_sampler_options`); CliError otherwise."""
    check_sampler_options(args)
    rbm_run = get_run(runs, args.rbm, "rbm", args.path)
    try:
        model = rbm_from_run(rbm_run)
        size = rbm_size(rbm_run, model.n_visible)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    check_sampler_options(args, model.n_visible)
    return rbm_run, model, size


def exact_values(size: int, temperature: float | None) -> dict[str, float] | None:
    """The exact Ising values of the L×L torus at T (:func:`exact_thermodynamics`), or None
    without a temperature or beyond the exact references' range (never an error)."""
    if temperature is None:
        return None
    try:
        exact = exact_thermodynamics(size, temperature)
    except (ValueError, OverflowError, FloatingPointError, ZeroDivisionError):
        return None
    return {k: v for k, v in exact.items() if math.isfinite(v)} or None


def comparison(
    model: dict, data: dict | None, exact: dict | None, temperature: float | None
) -> dict[str, dict]:
    """:func:`engines.rbm.thermodynamics.compare` of the summary's observables (c and χ only
    with a temperature)."""
    keys = tuple(k for k in SUMMARY if temperature is not None or k not in NEEDS_TEMPERATURE)
    return compare(model, data, exact, keys)


def flat_comparison(rows: dict[str, dict]) -> dict[str, float]:
    """The rows of :func:`comparison` as attributes: ``model_<k>``, ``model_<k>_error``,
    ``data_<k>``, ``data_<k>_error``, ``exact_<k>``, ``z_data_<k>``, ``z_exact_<k>``."""
    out: dict[str, float] = {}
    for key, row in rows.items():
        for name in ("model", "data", "exact", "z_data", "z_exact"):
            if name in row:
                out[f"{name}_{key}"] = float(row[name])
            if f"{name}_error" in row:
                out[f"{name}_{key}_error"] = float(row[f"{name}_error"])
    return out


def comparison_from_attributes(attrs: dict) -> dict[str, dict]:
    """The rows of :func:`comparison` back from :func:`flat_comparison`'s attributes."""
    rows: dict[str, dict] = {}
    for key in SUMMARY:
        row = {}
        for name in ("model", "data", "exact", "z_data", "z_exact"):
            for suffix in ("", "_error"):
                if f"{name}_{key}{suffix}" in attrs:
                    row[f"{name}{suffix}"] = float(attrs[f"{name}_{key}{suffix}"])
        if "model" in row:
            rows[key] = row
    return rows


def thermodynamics_table(rows: dict[str, dict]) -> list[str]:
    """The comparison as printed lines: observable, model ± σ, data ± σ, exact, and the
    deviations Δ/σ of the model from the data and from the exact value."""

    def cell(row: dict, name: str) -> str:
        return f"{row[name]:.5f} ± {row[f'{name}_error']:.5f}" if name in row else "-"

    lines = [
        f"{'':>6}  {'model':>20}  {'data':>20}  {'exact':>9}  {'Δ/σ data':>8}  {'Δ/σ exact':>9}"
    ]
    for key, row in rows.items():
        exact = f"{row['exact']:.5f}" if "exact" in row else "-"
        z_data = f"{row['z_data']:+.2f}" if "z_data" in row else "-"
        z_exact = f"{row['z_exact']:+.2f}" if "z_exact" in row else "-"
        lines.append(
            f"{LABELS[key]:>6}  {cell(row, 'model'):>20}  {cell(row, 'data'):>20}  "
            f"{exact:>9}  {z_data:>8}  {z_exact:>9}"
        )
    return lines


def summary_of_samples(
    samples: np.ndarray, temperature: float | None, data: np.ndarray | None
) -> dict[str, dict]:
    """The comparison for model ``samples`` (n, L, L) (time-ordered per chain, chain-major), the
    ``data`` (N, L²) or None and the exact values at ``temperature`` (or None)."""
    size = samples.shape[1]
    model = data_thermodynamics(samples, temperature or 1.0)
    data_est = None if data is None else data_thermodynamics(data, temperature or 1.0)
    return comparison(model, data_est, exact_values(size, temperature), temperature)


def evaluation_inputs(
    args: argparse.Namespace, runs: dict[str, RunRecord]
) -> tuple[RunRecord, np.ndarray | None, list[str], float | None]:
    """What ``evaluate``'s options ``args`` name among ``runs``, checked before any work: the
    ``rbm`` run, the data ((N, L²) int8, or None when neither ``--data`` nor the run's inputs
    name an Ising run of the session, as for an imported RBM), their ids, and the temperature
    (``--temperature``, else the data's one temperature, else None). CliError otherwise."""
    rbm_run, _, size = sampler_inputs(args, runs)
    if args.data:
        data_ids = [args.data]
    else:
        data_ids = [i for i in rbm_run.inputs if i in runs and runs[i].kind == "ising"]
    if not data_ids:
        return rbm_run, None, [], args.temperature
    data_runs = [get_run(runs, i, "ising", args.path) for i in data_ids]
    try:
        data, data_size = training_data(data_runs)
    except RunInputError as exc:
        raise CliError(str(exc)) from None
    if data_size != size:
        raise CliError(f"the data have L = {data_size}, the RBM L = {size}")
    if data.shape[0] < MIN_SAMPLES:
        raise CliError(f"the data have {data.shape[0]} configurations, fewer than {MIN_SAMPLES}")
    temperatures = {float(r.params["temperature"]) for r in data_runs if "temperature" in r.params}
    temperature = args.temperature
    if temperature is None:
        if len(temperatures) != 1:
            raise CliError(
                "the data runs have different temperatures: choose one with --data "
                "or give --temperature"
            )
        temperature = temperatures.pop()
    return rbm_run, data, data_ids, temperature


def evaluate_model(
    rbm_run: RunRecord,
    data: np.ndarray | None,
    data_ids: list[str],
    temperature: float | None,
    args: argparse.Namespace,
) -> dict[str, object]:
    """The attributes ``evaluate`` stores as the run's ``evaluation`` group: log Z (exact or
    AIS ± error); the model's thermodynamics from equilibrium chains
    (:func:`engines.rbm.thermodynamics.model_thermodynamics`, ``args``: ``samples``,
    ``chains``, ``burn_in``, ``thin``, ``method``, ``seed``) against the data's and the exact
    values (:func:`flat_comparison`), τ_int in sweeps and the chains' spread ratios; with data
    also their NLL (nats per configuration) and the effective Hamiltonian of −F. Only W, a, b
    and ``size`` of ``rbm_run`` are read."""
    model = rbm_from_run(rbm_run)
    size = int(rbm_run.params["size"])
    log_z, log_z_error, method = log_z_of(model, args.ais_chains, args.ais_betas, args.seed, data)
    measured = model_thermodynamics(
        model,
        temperature or 1.0,
        n_samples=args.samples,
        n_chains=args.chains,
        burn_in=args.burn_in,
        thin=args.thin,
        method=args.method,
        generator=_generator(args.seed, model.device),
    )
    data_est = None if data is None else data_thermodynamics(data, temperature or 1.0)
    rows = comparison(measured["estimates"], data_est, exact_values(size, temperature), temperature)
    evaluation: dict[str, object] = {
        "log_z": float(log_z),
        "log_z_error": float(log_z_error),
        "log_z_method": method,
        "data": list(data_ids),
        "model_samples": int(args.samples),
        "chains": int(args.chains),
        "burn_in": int(args.burn_in),
        "thin": int(args.thin),
        "sampler": args.method,
        "seed": int(args.seed),
    }
    if temperature is not None:
        evaluation["temperature"] = float(temperature)
    evaluation.update(flat_comparison(rows))
    for key in rows:
        tau = measured["tau_int_sweeps"].get(key)
        if tau is not None:
            evaluation[f"tau_int_{key}"] = float(tau)
        spread = measured["chain_spread_ratio"].get(key)
        if spread is not None:
            evaluation[f"chain_spread_{key}"] = float(spread)
    evaluation["tau_int_energy"] = evaluation.get("tau_int_e", math.nan)
    if data is not None:
        nll = mean_free_energy(model.to(torch.float64), data) + log_z
        evaluation.update({"nll": float(nll), "nll_error": float(log_z_error)})
        if temperature is not None:
            evaluation.update(
                _effective_hamiltonian(model, data.reshape(-1, size, size), temperature)
            )
    return evaluation
