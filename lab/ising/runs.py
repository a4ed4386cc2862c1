"""Turning an Ising simulation into a session run: parameters, datasets with units, results.

The run's parameters are attributes of its group (``size``, ``temperature``, ``coupling``,
``field``, ``algorithm``, ``device``, ``thermalize``, ``interval``; runs recorded before
``device`` existed ran on the CPU); its datasets are the recorded series and configurations;
its results are the estimates of ``engines.ising.summarize`` with one-sigma errors that account
for autocorrelation, plus the exact finite-size values where they exist.

The correlation function C(r) is computed when a run is completed, from every
``correlation_stride``-th recorded configuration (a result of the run): 1 unless the run holds
more than ``CORRELATION_MAX_SPINS`` spins in all, so that C(r) of a long run of a large lattice
(about 20 ms a configuration at L = 2048) never costs more than a few seconds; the thinned
series is still a time series, and its jackknife errors account for what is left of the
autocorrelation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from data import RunRecord
from data.recording import RunRecorder, Stream
from engines.ising import ALL_ALGORITHMS, Estimate, IsingParams
from lab.core.ids import short_message
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.ising.exact import exact_reference
from lab.ising.plan import IsingPlan

if TYPE_CHECKING:  # the task and the kernels load when a run is computed or resumed, not read
    from lab.ising.task import IsingRecording, IsingTask

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
        "description": "connected spin-spin correlation C(r), from every "
        "`correlation_stride`-th configuration (results)",
    },
    "correlation/error": {"units": "dimensionless", "axes": "distance"},
}


MIN_ESTIMATE_SAMPLES = 8
"""Fewer measurements than this give no estimates: error bars from so few correlated samples
would be meaningless (:func:`ising_results`)."""
CORRELATION_MAX_SPINS = 1 << 27
"""C(r) reads at most about this many spins (32 configurations of 2048², 2048 of 256², every
configuration of any run below that): see the module docstring."""


def correlation_stride(n_samples: int, size: int) -> int:
    """Every how many recorded configurations C(r) reads: the smallest stride that keeps it
    within :data:`CORRELATION_MAX_SPINS` spins (1 for most runs)."""
    return max(1, -(-int(n_samples) * size * size // CORRELATION_MAX_SPINS))


def ising_params_dict(params: IsingParams, plan: IsingPlan) -> dict[str, object]:
    """The run-group attributes that describe an Ising run (the seed is stored separately)."""
    out: dict[str, object] = {
        "size": params.size,
        "temperature": params.temperature,
        "coupling": params.coupling,
        "field": params.field,
        "algorithm": params.algorithm,
        "device": params.device,
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
    if energy.size >= MIN_ESTIMATE_SAMPLES:
        from engines.ising import summarize  # numba: only when results are computed

        estimates = summarize(energy, magnetization, params.temperature, params.size**2)
        for name, estimate in estimates.items():
            results[name] = float(estimate.value)
            results[f"{name}_error"] = float(estimate.error)
            if estimate.tau is not None:
                results[f"{name}_tau"] = float(estimate.tau)
        samples = arrays.get("samples")
        if samples is not None and samples.shape[0] >= MIN_ESTIMATE_SAMPLES:
            stride = correlation_stride(samples.shape[0], params.size)
            from engines.ising.observables import CorrelationSeries

            series = CorrelationSeries(params.size)
            series.add(samples[::stride])  # frame by frame: no copy of the samples
            r, c, err = series.result()
            extra = {"correlation/r": r, "correlation/C": c, "correlation/error": err}
            results["correlation_stride"] = stride
    # The exact finite-L values next to the estimates (inspect, the session browser): Kaufman's
    # e and c at h = 0 for every L, the transfer matrix's <|m|>, chi and U4 up to L = 8.
    exact = exact_reference(params.size, params.temperature, params.coupling, params.field)
    for name in ("e", "c", "abs_m", "chi", "binder"):
        if name in exact and math.isfinite(exact[name]):
            results[f"exact_{name}"] = exact[name]
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


# ---------------------------------------------------------------------------- live recording

SERIES = ("energy", "magnetization", "sweep")
"""The per-measurement series of an Ising run, besides the configurations (``samples``)."""


def ising_streams(size: int, record_spins: bool) -> dict[str, Stream]:
    """The streams a live Ising recording declares (units as in :data:`DATASET_ATTRS`)."""
    streams = {
        "energy": Stream((), np.float64, attrs=DATASET_ATTRS["energy"]),
        "magnetization": Stream((), np.float64, attrs=DATASET_ATTRS["magnetization"]),
        "sweep": Stream((), np.int64, attrs=DATASET_ATTRS["sweep"]),
    }
    if record_spins:
        streams["samples"] = Stream(
            (size, size), np.int8, spins=True, attrs=DATASET_ATTRS["samples"]
        )
    return streams


class LiveRecording:
    """What an :class:`IsingTask` records into, written straight to a :class:`RunRecorder`.

    Each measurement goes to every stream in one ``append`` (so a flush never splits it); the
    recorder's resume state should be :func:`ising_resume_state` of the same task, which at
    that moment has exactly the measurements appended so far. Used from the worker thread only.
    """

    def __init__(self, recorder: RunRecorder, record_spins: bool, already: int = 0) -> None:
        self.recorder = recorder
        self.record_spins = record_spins
        self._count = already

    def __len__(self) -> int:
        return self._count

    def append(
        self,
        sweep: int,
        energy: float,
        magnetization: float,
        spins: np.ndarray | None,
        packed: np.ndarray | None = None,
    ) -> None:
        """One measurement (``spins``: the int8 configuration when spins are recorded; the
        recorder copies it, so the task may reuse its buffer; ``packed`` is not needed)."""
        rows = {
            "energy": np.array([energy]),
            "magnetization": np.array([magnetization]),
            "sweep": np.array([sweep], dtype=np.int64),
        }
        if self.record_spins:
            rows["samples"] = spins[None]
        self.recorder.append(rows)
        self._count += 1


COUNTERS = (
    "sweeps",
    "cluster_updates_per_sweep",
    "cluster_size_sum",
    "cluster_count",
    "thermalize_left",
    "until_measurement",
    "measured",
)
REALS = ("temperature", "coupling", "field", "calibration_temperature", "calibration_field")
"""Entries of the resume state's ``counters`` (int64) and ``reals`` (float64) arrays."""


def ising_resume_state(task: IsingTask) -> dict[str, np.ndarray]:
    """The arrays that resume ``task`` bit for bit: ``spins``, ``rng_state`` (xoshiro256**),
    ``counters`` (:data:`COUNTERS`) and ``reals`` (:data:`REALS`). Stored in a run as the
    datasets ``resume/<name>``."""
    state = task.simulation.state_dict()
    state.update(
        zip(
            ("thermalize_left", "until_measurement", "measured"),
            task.progress_counters,
            strict=True,
        )
    )
    return {
        "spins": state["spins"],
        "rng_state": state["rng_state"],
        "counters": np.array([state[k] for k in COUNTERS], dtype=np.int64),
        "reals": np.array([state[k] for k in REALS], dtype=np.float64),
    }


def run_params(run: RunRecord) -> tuple[IsingParams, IsingPlan]:
    """The parameters and plan an Ising run was recorded with (ValueError if not an Ising run
    with valid parameters)."""
    p = run.params
    try:
        params = IsingParams(
            size=int(p["size"]),
            temperature=float(p["temperature"]),
            coupling=float(p["coupling"]),
            field=float(p["field"]),
            algorithm=str(p["algorithm"]),
            seed=int(run.seed or 0),
            device=str(p.get("device", "cpu")),
        )
        plan = IsingPlan(
            thermalize=int(p["thermalize"]),
            interval=int(p["interval"]),
            samples=int(p["samples"]) if "samples" in p else None,
            record_spins=bool(p["record_spins"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"run {run.id} is not a recorded Ising run ({exc})") from None
    if params.algorithm not in ALL_ALGORITHMS:
        raise ValueError(f"run {run.id}: unknown algorithm {params.algorithm!r}")
    try:
        params.validate()
    except ValueError as exc:
        raise ValueError(f"run {run.id}: {exc}") from None
    plan.validate()
    return params, plan


def resume_ising_task(
    run: RunRecord, recording: IsingRecording | LiveRecording | None = None
) -> tuple[IsingTask, dict[str, np.ndarray]]:
    """An :class:`IsingTask` continuing ``run`` from its resume state, and the run's recorded
    series cut to the measurements that state had taken (a kill can leave none beyond it, but
    an older state is possible). ValueError if the run cannot be resumed."""
    from engines.ising import IsingSimulation
    from engines.ising.simulation import STATE_FORMAT, STATE_VERSION
    from lab.ising.task import IsingTask

    params, plan = run_params(run)
    try:
        counters = dict(zip(COUNTERS, run.datasets["resume/counters"].tolist(), strict=True))
        reals = dict(zip(REALS, run.datasets["resume/reals"].tolist(), strict=True))
        state = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "size": params.size,
            "algorithm": params.algorithm,
            "seed": params.seed,
            "device": params.device,
            "spins": run.datasets["resume/spins"],
            "rng_state": run.datasets["resume/rng_state"],
            **{k: counters[k] for k in COUNTERS[:4]},
            **reals,
        }
        simulation = IsingSimulation.from_state(state)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"run {run.id} has no valid resume state ({exc})") from None
    measured = counters["measured"]
    kept = {
        name: run.datasets[name][:measured] for name in (*SERIES, "samples") if name in run.datasets
    }
    if any(len(series) < measured for series in kept.values()):
        raise ValueError(f"run {run.id}: its series are shorter than its resume state")
    task = IsingTask(params, plan, recording, simulation=simulation)
    task.restore_progress(
        counters["thermalize_left"],
        counters["until_measurement"],
        kept["energy"],
        kept["magnetization"],
    )
    return task, kept


def complete_ising_run(run: RunRecord) -> RunRecord:
    """Give a recorded Ising run (from a recording) its units and summary results, as
    :func:`finish_ising_run` does for a run recorded in memory. Other kinds pass unchanged."""
    if run.kind != "ising":
        return run
    params, _ = run_params(run)
    arrays = {name: run.datasets[name] for name in (*SERIES, "samples") if name in run.datasets}
    results, extra = ising_results(arrays, params)
    run.datasets.update(extra)
    run.dataset_attrs.update({name: dict(DATASET_ATTRS[name]) for name in extra})
    run.results = results
    return run


def format_estimate(results: dict[str, object], name: str, digits: int = 4) -> str:
    """'value ± error' for one result, or '—' when it was not measured."""
    value = results.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    error = results.get(f"{name}_error")
    if error is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ± {error:.{digits}f}"


# ---------------------------------------------------------------------------- the run's view
ESTIMATED = ("e", "abs_m", "c", "chi", "binder")
"""The observables whose estimates an Ising run's results hold (``name``, ``name_error``,
``name_tau``)."""


@dataclass(frozen=True, eq=False)
class Correlation:
    """C(r) with its one-sigma errors; r in lattice spacings (of the original lattice, for the
    levels of a coarse-graining)."""

    r: np.ndarray
    C: np.ndarray
    error: np.ndarray


class IsingRunView(RunView):
    """An ``ising`` run as the views read it: its physics, its recorded series and
    configurations, its estimates and the exact values at its (L, T, J, h)."""

    kind = "ising"

    @property
    def size(self) -> int:
        return int(self._param("size"))

    @property
    def temperature(self) -> float:
        return float(self._param("temperature"))

    @property
    def coupling(self) -> float:
        return float(self._param("coupling", 1.0))

    @property
    def field(self) -> float:
        return float(self._param("field", 0.0))

    @property
    def algorithm(self) -> str:
        return str(self._param("algorithm", ""))

    @property
    def device(self) -> str:
        """Where the run's simulation ran ("cpu" for runs recorded before this was kept)."""
        return str(self._param("device", "cpu"))

    def _series(self, name: str) -> np.ndarray:
        values = self._dataset(name)
        return np.zeros(0) if values is None else values

    @property
    def energy(self) -> np.ndarray:
        """Energy per spin of each measurement (J per spin)."""
        return self._series("energy")

    @property
    def magnetization(self) -> np.ndarray:
        """Magnetization per spin of each measurement."""
        return self._series("magnetization")

    @property
    def sweeps(self) -> np.ndarray | None:
        """Sweeps done at each measurement (None if not recorded)."""
        return self._dataset("sweep")

    @property
    def samples(self) -> np.ndarray | None:
        """The recorded configurations (N, L, L) int8 ±1, or None."""
        return self._dataset("samples")

    @property
    def n_measurements(self) -> int:
        return int(self.energy.size)

    @property
    def count(self) -> int:
        """The number of recorded configurations."""
        samples = self.samples
        return 0 if samples is None else int(samples.shape[0])

    @property
    def correlation(self) -> Correlation | None:
        """The measured connected C(r), or None if it was not measured."""
        arrays = [self._dataset(f"correlation/{key}") for key in ("r", "C", "error")]
        return None if any(a is None for a in arrays) else Correlation(*arrays)

    def exact(self) -> dict[str, float]:
        """The exact values known at this run's (L, T, J, h) (:func:`lab.ising.exact`)."""
        return exact_reference(self.size, self.temperature, self.coupling, self.field)

    def estimates(self) -> dict[str, Estimate]:
        """The estimates stored in the run's results, exactly as recorded."""
        results = self.record.results
        out = {}
        for name in ESTIMATED:
            if name in results and f"{name}_error" in results:
                tau = results.get(f"{name}_tau")
                out[name] = Estimate(
                    float(results[name]),
                    float(results[f"{name}_error"]),
                    None if tau is None else float(tau),
                )
        return out

    def estimates_up_to(self, count: int) -> dict[str, Estimate]:
        """The estimates from the first ``count`` measurements: all of them, the stored results;
        fewer, ``summarize`` of that prefix (as the results were computed), none under
        :data:`MIN_ESTIMATE_SAMPLES`."""
        if count >= self.n_measurements:
            return self.estimates()
        if count < MIN_ESTIMATE_SAMPLES:
            return {}
        from engines.ising import summarize

        return summarize(
            self.energy[:count], self.magnetization[:count], self.temperature, self.size**2
        )


def _ising_summary(view: RunView) -> str:
    results = view.record.results
    if "e" in results:
        return f"e = {format_estimate(results, 'e')}"
    if "n_samples" in results:
        return f"{results['n_samples']} samples"
    return ""


register(
    RunKind("ising", IsingRunView, _ising_summary, dock="isingDock", complete=complete_ising_run)
)
