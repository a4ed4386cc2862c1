"""The geometry of a training run as a session run of kind ``geometry``.

Inputs: the ``rbm`` run first, then the Ising runs whose configurations are the data. Parameters:
the :class:`lab.geometry.task.GeometryOptions` (``epsilon`` in spin², explicit), ``size`` (L),
``n_visible``, ``n_hidden``, ``rbm``, ``data``. Datasets: the contract's arrays
(:meth:`lab.geometry.task.GeometryTask.datasets`), each with the attributes ``units``, ``axes`` and
``description`` of :func:`dataset_info`; ``mp_fit`` also has ``columns``. Results: the values at
the last checkpoint and the largest residuals.

Units: W is dimensionless (``lab.rbm.runs``), so are W Wᵀ, its eigenvalues and every distance
between points ``W Wᵀ + εI`` (Bures–Wasserstein has the units of Σ^½, dimensionless here);
covariances of spin configurations are in spin² (spins ±1).

:class:`GeometryRunView` is what the dock reads of such a run (registered as the kind
``geometry`` at the bottom, with its one-line summary and the dock ``geometryDock``). The
dock's plots draw the contract's dict (a run's, :attr:`GeometryRunView.contract`, or a live
snapshot's) with the helpers :func:`mp_law`, :func:`fitted_law` and :func:`mp_fit_value`;
``MP_FIT_COLUMNS``, ``MarchenkoPastur`` and ``TRAJECTORY_METRICS`` are importable from here, so
that the widgets need not import the engines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from data import RunRecord
from engines.geometry import MP_FIT_COLUMNS, MarchenkoPastur
from lab.core.ids import short_message
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.geometry.common import TRAJECTORY_METRICS
from lab.geometry.options import GeometryOptions

_C = "checkpoint"
_FIXED: dict[str, tuple[str, str, str]] = {
    "epoch": ("epochs", _C, "training epoch of each checkpoint"),
    "spectrum": (
        "dimensionless (W is dimensionless)",
        f"{_C}, eigenvalue",
        "eigenvalues of W Wᵀ (squared singular values of W), descending",
    ),
    "rank": ("count", _C, "numerical rank of W"),
    "condition": ("dimensionless", _C, "λmax/λmin of WᵀW; inf when rank < m"),
    "n_outliers": (
        "count",
        _C,
        "eigenvalues of W Wᵀ above the Marchenko–Pastur edge of the "
        "initialization times (1 + 3 p^(-2/3)) (Tracy–Widom margin)",
    ),
    "mp_law": (
        "(count, count, dimensionless)",
        "(n, m, s²)",
        "the Marchenko–Pastur law of the initialization: n visible, m hidden units and "
        "the weights' variance s² fitted on the epoch-0 checkpoint (NaN without one)",
    ),
    "mp_fit": (
        "see columns: ks dimensionless, scale2 and edges in eigenvalue units, "
        "n_outliers count, scale_fitted 1 if s² is each checkpoint's own moment fit",
        f"{_C}, column",
        "the Marchenko–Pastur law against each checkpoint's spectrum",
    ),
    "eigenvectors": (
        "dimensionless (unit vectors)",
        f"{_C}, vector, row, column",
        "the min(8, m) leading eigenvectors of W Wᵀ as L×L images, signs fixed so "
        "that the largest entry is positive",
    ),
    "monge_ampere_residual": (
        "nats",
        _C,
        "log det D²F − 2F of the SPD cone's canonical potential (Hessian "
        "by autograd) at the k×k compression of W Wᵀ + εI on the first "
        "checkpoint's k leading eigenvectors; 0 in exact arithmetic",
    ),
    "gaussian_ot_residual": (
        "dimensionless (relative)",
        _C,
        "Theorem 1: max |log ρ₀(x) − log ρ₁(Tx) − log det T| / "
        "max |log ρ₀(x)| for the Brenier map T from N(0, WWᵀ + εI) to "
        "N(0, data second moment + εI), on seeded draws x ~ ρ₀",
    ),
    "gaussian_w2": (
        "spin (W₂ per configuration)",
        _C,
        "W₂ between N(0, WWᵀ + εI) and N(0, data second moment + εI)",
    ),
    "wasserstein_to_data": (
        "fraction of spins",
        _C,
        "W₁ for the normalized Hamming cost between model samples (fresh "
        "equilibrium chains) and a fixed subsample of the data",
    ),
    "energy_w1": (
        "J per spin (J = 1)",
        _C,
        "W₁ between the energy-per-spin distributions of model samples and data",
    ),
    "magnetization_w1": (
        "per spin",
        _C,
        "W₁ between the signed magnetization-per-spin distributions of model samples and data",
    ),
    "entropy": ("nats", _C, "von Neumann entropy of ρ = (WWᵀ + εI)/tr"),
    "relative_entropy_to_data": (
        "nats",
        _C,
        "S(ρ_model ‖ ρ_data), ρ_data = (data second moment ⟨vvᵀ⟩ + εI)/tr",
    ),
    "bloch": (
        "dimensionless",
        f"{_C}, (x, z)",
        "Bloch-disk point of the trace-normalized 2×2 compression of WWᵀ + εI on the two "
        "leading eigenvectors of the last checkpoint's",
    ),
    "modular_spectrum": (
        "nats",
        f"{_C}, eigenvalue",
        "eigenvalues of the modular Hamiltonian −log ρ, ascending",
    ),
    "data_covariance": ("spin²", "visible, visible", "second moment ⟨vvᵀ⟩ of the data"),
    "model_covariance": (
        "spin²",
        "visible, visible",
        "second moment ⟨vvᵀ⟩ of the model samples at the last checkpoint",
    ),
    "data_spectrum": ("spin²", "eigenvalue", "eigenvalues of the data's second moment, descending"),
    "ot_plan": (
        "probability (sums to 1)",
        "model sample, data sample",
        "the exact optimal plan between ≤ 100 model samples of the last checkpoint and as "
        "many data samples (normalized Hamming cost)",
    ),
}
_QUANTITY = {
    "distance": ("{u}", "distance from the first checkpoint in the {m} metric{e}"),
    "speed": ("{u} per epoch", "step length / Δepoch in the {m} metric{e} (NaN at the first)"),
    "path_length": ("{u}", "length of the polygon through the checkpoints, {m} metric{e}"),
    "line_shape": (
        "dimensionless, in (0, 1]",
        "distance / path length, {m} metric{e} (1 on a geodesic; NaN at the first)",
    ),
}


def dataset_info(name: str) -> tuple[str, str, str]:
    """(units, axes, description) of a dataset of a geometry run."""
    if name in _FIXED:
        return _FIXED[name]
    quantity, metric = name.split("/")
    units, text = _QUANTITY[quantity]
    exact = metric == "bures_wasserstein_exact"
    base = "bures_wasserstein" if exact else metric
    return (
        units.format(
            u="dimensionless" if base != "bures_wasserstein" else "dimensionless (units of Σ^½)"
        ),
        _C,
        text.format(m=base.replace("_", "-"), e=" on WWᵀ (ε = 0)" if exact else " on WWᵀ + εI"),
    )


def _ids(runs: Sequence[RunRecord | str]) -> list[str]:
    return [r if isinstance(r, str) else r.id for r in runs]


def geometry_run(
    run_id: str,
    rbm_run: RunRecord,
    data_runs: Sequence[RunRecord | str],
    options: GeometryOptions,
    datasets: Mapping[str, np.ndarray],
    status: str,
    created: str = "",
    finished: str | None = None,
    message: str = "",
) -> RunRecord:
    """A ``geometry`` run holding ``datasets`` (a task's :meth:`datasets`, or a snapshot's)."""
    data_ids = _ids(data_runs)
    n, m = (int(x) for x in datasets["mp_law"][:2])
    params: dict = {k: v for k, v in options.params().items() if k != "seed"}
    params.update(
        {
            "size": math.isqrt(n),
            "n_visible": n,
            "n_hidden": m,
            "rbm": rbm_run.id,
            "data": data_ids,
            "metrics": list(TRAJECTORY_METRICS),
        }
    )
    run = RunRecord(
        id=run_id,
        kind="geometry",
        status=status,
        seed=options.seed,
        params=params,
        inputs=[rbm_run.id, *data_ids],
        created=created,
        finished=finished,
        message=short_message(message),
    )
    run.datasets = {name: np.asarray(array) for name, array in datasets.items()}
    for name in run.datasets:
        units, axes, description = dataset_info(name)
        run.dataset_attrs[name] = {"units": units, "axes": axes, "description": description}
    run.dataset_attrs["mp_fit"]["columns"] = list(MP_FIT_COLUMNS)
    run.results = _results(run.datasets)
    return run


def _results(ds: Mapping[str, np.ndarray]) -> dict[str, float | int]:
    C = int(ds["epoch"].size)
    out: dict[str, float | int] = {"checkpoints": C}
    if C == 0:
        return out
    out["last_epoch"] = int(ds["epoch"][-1])
    for name in ("n_outliers", "rank"):
        out[name] = int(ds[name][-1])
    for name in ("wasserstein_to_data", "entropy", "relative_entropy_to_data", "gaussian_w2"):
        out[name] = float(ds[name][-1])
    for metric in TRAJECTORY_METRICS:
        out[f"distance.{metric}"] = float(ds[f"distance/{metric}"][-1])
        out[f"line_shape.{metric}"] = float(ds[f"line_shape/{metric}"][-1])
    out["max_monge_ampere_residual"] = float(np.max(np.abs(ds["monge_ampere_residual"])))
    out["max_gaussian_ot_residual"] = float(np.max(ds["gaussian_ot_residual"]))
    return out


def format_geometry(run: RunRecord) -> str:
    """A table of a geometry run, one line per checkpoint, for the command line."""
    ds = run.datasets
    ks = MP_FIT_COLUMNS.index("ks")
    header = (
        f"{'epoch':>6} {'rank':>4} {'KS':>6} {'out':>3}  {'d_AI':>8} {'d_LE':>8} "
        f"{'d_BW':>8} {'d_Th':>8}  {'shp_AI':>6} {'shp_BW':>6}  {'MA res':>8} "
        f"{'G res':>8}  {'W1 data':>7} {'S':>7}"
    )
    lines = [
        f"{run.id}: geometry of {run.params.get('rbm')} against "
        f"{', '.join(run.params.get('data', []))} (ε = {run.params.get('epsilon')}, "
        f"{run.params.get('samples')} samples per checkpoint); distances and line shapes on "
        "WWᵀ + εI, W1 data in fraction of spins, S in nats",
        header,
    ]
    for i, epoch in enumerate(ds["epoch"]):
        d = [
            ds[f"distance/{m}"][i]
            for m in ("affine_invariant", "log_euclidean", "bures_wasserstein", "thompson")
        ]
        lines.append(
            f"{epoch:>6} {ds['rank'][i]:>4} {ds['mp_fit'][i, ks]:>6.3f} {ds['n_outliers'][i]:>3}  "
            + " ".join(f"{x:>8.4g}" for x in d)
            + f"  {ds['line_shape/affine_invariant'][i]:>6.3f} "
            f"{ds['line_shape/bures_wasserstein'][i]:>6.3f}  "
            f"{ds['monge_ampere_residual'][i]:>8.1e} {ds['gaussian_ot_residual'][i]:>8.1e}  "
            f"{ds['wasserstein_to_data'][i]:>7.4f} {ds['entropy'][i]:>7.4f}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the contract's dict
def mp_law(d: Mapping[str, np.ndarray]) -> MarchenkoPastur | None:
    """The Marchenko–Pastur law of the initialization from ``mp_law`` = (n, m, s²); None when s²
    is NaN (the run has no epoch-0 checkpoint)."""
    value = d.get("mp_law")
    values = None if value is None else np.asarray(value)
    if values is None or values.size != 3 or not np.isfinite(values[2]) or values[2] <= 0:
        return None
    return MarchenkoPastur(int(values[0]), int(values[1]), float(values[2]))


def mp_fit_value(d: Mapping[str, np.ndarray], index: int, column: str) -> float:
    """One field (:data:`MP_FIT_COLUMNS`) of the checkpoint's MP fit row."""
    fit = np.asarray(d["mp_fit"])
    return float(fit[index, MP_FIT_COLUMNS.index(column)])


def fitted_law(d: Mapping[str, np.ndarray], index: int) -> MarchenkoPastur:
    """The Marchenko–Pastur law of checkpoint ``index``'s moment fit (n, m of the spectrum)."""
    n, m = int(np.asarray(d["mp_law"])[0]), int(np.asarray(d["spectrum"]).shape[1])
    return MarchenkoPastur(n, m, mp_fit_value(d, index, "scale2"))


# ---------------------------------------------------------------------------- the run's view
class GeometryRunView(RunView):
    """A ``geometry`` run as the dock reads it: the rbm run analysed, the options, and the
    contract's arrays (read-only) the plots draw."""

    kind = "geometry"

    @property
    def rbm_id(self) -> str:
        """The ``rbm`` run analysed (the first input; '' when the run names none)."""
        return self.inputs[0] if self.inputs else ""

    @property
    def data_ids(self) -> tuple[str, ...]:
        """The Ising runs the model was compared with."""
        return tuple(str(i) for i in self._param("data", []))

    @property
    def epsilon(self) -> float | None:
        """The regularization ε of Σ + εI (spin²), as recorded; None when not recorded."""
        return _number(self._param("epsilon"))

    @property
    def samples(self) -> int | None:
        """Model samples per checkpoint (and size of the data subsample); None if unknown."""
        value = self._param("samples")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def seed(self) -> int | None:
        """The seed of the computation (a ``seed`` parameter if the file has one, else the
        run's seed)."""
        return self._param("seed", self._run.seed)

    @property
    def size(self) -> int | None:
        """L (the lattice is L × L); None when not recorded."""
        value = self._param("size")
        return None if value is None else int(value)

    @property
    def n_hidden(self) -> int | None:
        value = self._param("n_hidden")
        return None if value is None else int(value)

    @property
    def epochs(self) -> np.ndarray:
        """The training epoch of each checkpoint analysed (empty when none)."""
        epochs = self._dataset("epoch")
        return np.zeros(0, dtype=np.int64) if epochs is None else epochs

    @property
    def n_checkpoints(self) -> int:
        return int(self.epochs.size)

    @property
    def contract(self) -> dict[str, np.ndarray]:
        """Every array of the contract (``lab.geometry.task.GeometryTask.datasets``) the run
        holds, by name, read-only: what the dock's plots draw."""
        out = {}
        for name in self._run.datasets:
            array = self._dataset(name)
            if array is not None:
                out[name] = array
        return out


def _number(value: object) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _geometry_summary(view: RunView) -> str:
    """'rbm-001, 11 checkpoints, ε = 0.001' (what is known of it)."""
    assert isinstance(view, GeometryRunView)
    count = view.n_checkpoints
    parts = [view.rbm_id or "?", f"{count} checkpoint{'' if count == 1 else 's'}"]
    if view.epsilon is not None:
        parts.append(f"ε = {view.epsilon:g}")
    return ", ".join(parts)


register(RunKind("geometry", GeometryRunView, _geometry_summary, dock="geometryDock"))

# The Wasserstein scores are a kind of this feature too: registering the geometry kinds
# registers them (lab.cli.recover.register_every_kind imports this module).
import lab.geometry.score_runs  # noqa: E402,F401
