"""Turning an Ising simulation into a session run: parameters, datasets with units, results.

The run's parameters are attributes of its group (``size``, ``temperature``, ``coupling``,
``field``, ``algorithm``, ``thermalize``, ``interval``); its datasets are the recorded series and
configurations; its results are the estimates of ``engines.ising.summarize`` with one-sigma
errors that account for autocorrelation, plus the exact finite-size values where they exist.
"""

from __future__ import annotations

import math

import numpy as np

from data import RunRecord
from engines.exact import energy_per_spin as exact_energy
from engines.exact import specific_heat_per_spin as exact_specific_heat
from engines.ising import IsingParams, correlation_function, summarize
from lab.ising_task import IsingPlan, IsingRecording

DATASET_ATTRS: dict[str, dict[str, str]] = {
    "samples": {
        "units": "spin (±1)",
        "axes": "sample, row, column",
        "description": "recorded configurations, one every `interval` sweeps",
    },
    "energy": {"units": "J per spin", "axes": "sample", "description": "energy per spin H/N"},
    "magnetization": {
        "units": "per spin",
        "axes": "sample",
        "description": "magnetization per spin M/N",
    },
    "sweep": {"units": "sweeps", "axes": "sample", "description": "sweeps done when measured"},
    "correlation/r": {"units": "lattice spacings", "axes": "distance"},
    "correlation/C": {
        "units": "dimensionless",
        "axes": "distance",
        "description": "connected spin-spin correlation C(r)",
    },
    "correlation/error": {"units": "dimensionless", "axes": "distance"},
}


def ising_params_dict(params: IsingParams, plan: IsingPlan) -> dict[str, object]:
    """The run-group attributes that describe an Ising run (the seed is stored separately)."""
    out: dict[str, object] = {
        "size": params.size,
        "temperature": params.temperature,
        "coupling": params.coupling,
        "field": params.field,
        "algorithm": params.algorithm,
        "thermalize": plan.thermalize,
        "interval": plan.interval,
        "record_spins": plan.record_spins,
    }
    if plan.samples is not None:
        out["samples"] = plan.samples
    return out


def new_ising_run(run_id: str, params: IsingParams, plan: IsingPlan, inputs=()) -> RunRecord:
    """A run record in status 'running' for a simulation about to start."""
    return RunRecord(
        id=run_id,
        kind="ising",
        status="running",
        seed=params.seed,
        params=ising_params_dict(params, plan),
        inputs=list(inputs),
    )


def ising_results(
    arrays: dict[str, np.ndarray], params: IsingParams
) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    """Summary estimates and derived datasets (C(r)) of the recorded series.

    Returns ``(results, extra_datasets)``. With fewer than 8 samples only the count is reported:
    error bars from so few correlated samples would be meaningless.
    """
    energy, magnetization = arrays["energy"], arrays["magnetization"]
    results: dict[str, object] = {"n_samples": int(energy.size)}
    extra: dict[str, np.ndarray] = {}
    if energy.size >= 8:
        estimates = summarize(energy, magnetization, params.temperature, params.size**2)
        for name, estimate in estimates.items():
            results[name] = float(estimate.value)
            results[f"{name}_error"] = float(estimate.error)
            if estimate.tau is not None:
                results[f"{name}_tau"] = float(estimate.tau)
        samples = arrays.get("samples")
        if samples is not None and samples.shape[0] >= 8:
            r, c, err = correlation_function(samples)
            extra = {"correlation/r": r, "correlation/C": c, "correlation/error": err}
    if params.field == 0.0:
        results["exact_e"] = float(exact_energy(params.size, params.temperature, params.coupling))
        results["exact_c"] = float(
            exact_specific_heat(params.size, params.temperature, params.coupling)
        )
    return results, extra


def finish_ising_run(
    run: RunRecord,
    recording: IsingRecording,
    params: IsingParams,
    status: str,
    finished: str,
    message: str = "",
) -> RunRecord:
    """Fill ``run`` with the recorded datasets, their units, and the summary results."""
    arrays = recording.arrays(params.size)
    results, extra = ising_results(arrays, params)
    run.datasets = {**arrays, **extra}
    run.dataset_attrs = {name: dict(DATASET_ATTRS[name]) for name in run.datasets}
    run.results = results
    run.status = status
    run.finished = finished
    run.message = short_message(message)
    return run


MESSAGE_MAX_CHARS = 2000


def short_message(message: str) -> str:
    """A run's message, cut to fit comfortably in an HDF5 attribute."""
    if len(message) <= MESSAGE_MAX_CHARS:
        return message
    return message[: MESSAGE_MAX_CHARS - 1] + "…"


def format_estimate(results: dict[str, object], name: str, digits: int = 4) -> str:
    """'value ± error' for one result, or '—' when it was not measured."""
    value = results.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    error = results.get(f"{name}_error")
    if error is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ± {error:.{digits}f}"
