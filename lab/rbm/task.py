"""RBM training as a steppable task: minibatches, per-epoch metrics, checkpoints, resumable state.

Each ``step()`` runs minibatches for about ``STEP_SECONDS`` and never crosses an epoch boundary
without recording it: at the end of every epoch a history row holds the epoch's cost and, when
due (``metrics_every``, below), the trainer's metrics (NLL exact or AIS, pseudo-likelihood,
reconstruction mismatch, free-energy gap, norms); the cost is ``seconds`` (wall time of the
epoch's updates) and ``metric_seconds`` (of its metrics and monitor), and every
``checkpoint_every`` epochs the parameters and the trainer's full state are checkpointed.
Epoch 0 (before any update) is measured and checkpointed when the task is created for a new
model.

The monitor (``monitor_every`` = N > 0): at every N-th epoch (epoch 0 included) and at the last,
the model's Ising thermodynamics from short *equilibrium* chains of the current model
(:func:`engines.rbm.thermodynamics.model_thermodynamics`: :data:`MONITOR_CHAINS` fresh chains,
:data:`MONITOR_BURN_IN` sweeps, :data:`MONITOR_SAMPLES` samples one every
:data:`MONITOR_THIN` sweeps, with the exact flip move; errors from τ_int), next to the training
data's, go into the history as ``model_<k>``, ``model_<k>_error``, ``data_<k>`` and
``data_<k>_error`` for k in :data:`MONITORED` (c and χ only when the data share one
temperature); epochs without a measurement hold NaN, so every history series keeps one row per
epoch. The chains are seeded from (seed, epoch) by their own generator, so monitoring never
changes the training trajectory, and the same seed gives the same monitor values. A cost of
about ``MONITOR_CHAINS · (burn-in + samples/chains · thin)`` Gibbs sweeps of one chain, i.e. a
few tenths of a second at L = 8, m = 64; 0 turns it off.

The metrics (``metrics_every``): N ≥ 1 measures every N-th epoch; 0 (the default) as often as keeps
their cost within :data:`METRICS_BUDGET` of the updates' time: after a measurement that took ``c``
seconds, the next is at the end of the first epoch by which the updates since then took ``c /
0.08`` seconds (at L = 40, m = 400 the metrics, AIS in float64, cost ~20 epochs of updates, so they
were most of ``train``'s time); a resumed task measures its first epoch; models of at most
:data:`METRICS_ALWAYS_WEIGHTS` weights every epoch. Epoch 0 and the last epoch are always measured,
and rows of unmeasured epochs keep ``epoch`` and ``seconds`` with NaN metrics. The metrics draw
from their own generator seeded by (seed, epoch), so the schedule never changes the trained
parameters; with 0 the measured epochs depend on the machine's speed, with N they do not.

Early stopping (``early_stop`` = P > 0, off by default): every measured epoch's held-out NLL is
compared with the best so far; it improves when it is lower by more than its error bar (AIS; 0
when log Z is exact). After P measurements in a row without improvement the task finishes,
with :attr:`RBMTrainingTask.stopped_early` set, and the run keeps the parameters of the best
epoch (every measured epoch is checkpointed then; ``lab.rbm.runs.finish_rbm_run``). It needs
a held-out set (``validation_fraction`` > 0).

If training diverges the trainer raises ``RBMDivergence`` (so does ``step`` when an update
overflows the parameters' dtype, as torch reports for a learning rate like 1e300); the
recording keeps the last good checkpoint, which is what the run will hold (see
``lab.rbm.runs``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engines.rbm.config import RBMDivergence

if TYPE_CHECKING:
    from engines.rbm import RBMTrainer

STEP_SECONDS = 0.05
MONITOR_SAMPLES = 1024
MONITOR_BURN_IN = 500
MONITOR_THIN = 5
MONITOR_CHAINS = 32
MONITOR_DATA = 4096  # training configurations the data's side is measured on (the first ones)
MONITOR_REPORTS = 20  # the default monitor measures about this many times per run
METRICS_BUDGET = 0.08
"""``metrics_every = 0`` (automatic): the metrics' share of the updates' wall time they keep to
(below the 10 % asked for: a measurement's cost varies, and the next is triggered only once the
budget is reached)."""
METRICS_ALWAYS_WEIGHTS = 64 * 64
"""``metrics_every = 0``: models with at most this many weights n·m (L = 8, m = 64 and smaller,
whose metrics cost milliseconds) are measured every epoch, whatever the timing."""
MONITORED = ("e", "m", "abs_m", "binder", "c", "chi")
"""The monitored observables (per spin; :mod:`engines.rbm.thermodynamics`): e, ⟨m⟩ (which shows a
broken up/down symmetry), ⟨|m|⟩, U₄, and c, χ when the temperature is known."""
NEEDS_TEMPERATURE = ("c", "chi")

MONITOR_UNITS = {
    "e": "J per spin",
    "m": "per spin",
    "abs_m": "per spin",
    "binder": "dimensionless",
    "c": "k_B per spin",
    "chi": "per spin, 1/J",
}
HISTORY_UNITS = {
    "epoch": "epochs",
    "seconds": "s",
    "metric_seconds": "s",
    "log_z_exact": "dimensionless (1: log Z enumerated, 0: AIS)",
    **{
        f"{side}_{k}{suffix}": units
        for side in ("model", "data")
        for k, units in MONITOR_UNITS.items()
        for suffix in ("", "_error")
    },
}
"""Units of the history series that are not nats per configuration or dimensionless (the
``units`` attribute of ``history/<name>``; :func:`history_units` gives every series')."""


def history_units(name: str) -> str:
    """The ``units`` attribute of the history series ``name`` (as :mod:`lab.rbm.runs` names
    them: NLL, log Z, free energies and pseudo-likelihoods in nats per configuration)."""
    if name in HISTORY_UNITS:
        return HISTORY_UNITS[name]
    if any(word in name for word in ("nll", "log_z", "free_energy", "pseudo")):
        return "nats per configuration"
    return "dimensionless"


def check_early_stop(early_stop: int, validation_fraction: float) -> None:
    """Early stopping's one rule (module doc), for the task, ``train`` and the dock alike:
    ValueError when it is on without a held-out set."""
    if early_stop and not validation_fraction:
        raise ValueError("early stopping needs a held-out set: set a validation fraction above 0")


def default_monitor_every(epochs: int) -> int:
    """The monitor's default period: about :data:`MONITOR_REPORTS` measurements per run."""
    return max(1, int(epochs) // MONITOR_REPORTS)


class RBMRecording:
    """History, checkpoints and latest resumable state of one training run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.history: dict[str, list[float]] = {}
        self.checkpoints: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.trainer_state: dict | None = None
        self.best: tuple[int, float] | None = None  # early stopping: (epoch, held-out NLL)
        self.stopped_early = False

    def add_metrics(self, metrics: dict) -> None:
        """One epoch's row. Every series keeps one value per epoch: a series first seen now
        (e.g. the monitor's, on a run resumed with it) is NaN before, and one missing from
        ``metrics`` gets NaN."""
        with self._lock:
            rows = len(self.history.get("epoch", ()))
            row: dict[str, float] = {}
            for key, value in metrics.items():
                if key == "log_z_method":
                    key, value = "log_z_exact", float(value == "exact")
                if isinstance(value, bool | int | float) and key != "checkpoint":
                    row[key] = float(value)
            for key in self.history.keys() - row.keys():
                if len(self.history[key]) == rows:
                    row[key] = math.nan
            for key, value in row.items():
                series = self.history.setdefault(key, [])
                if len(series) < rows and key != "epoch":
                    series.extend([math.nan] * (rows - len(series)))
                series.append(value)

    def add_checkpoint(self, trainer: RBMTrainer) -> None:
        params = trainer.model.to_numpy()
        state = trainer.state_dict()
        with self._lock:
            self.checkpoints.append(
                (
                    trainer.epoch,
                    params["W"].astype(np.float32),
                    params["a"].astype(np.float32),
                    params["b"].astype(np.float32),
                )
            )
            self.trainer_state = state

    def copy(self) -> tuple[dict[str, np.ndarray], list, dict | None]:
        """(history arrays, checkpoint list, latest trainer state), copied under the lock."""
        with self._lock:
            history = {k: np.asarray(v, dtype=np.float64) for k, v in self.history.items()}
            return history, list(self.checkpoints), self.trainer_state

    @property
    def n_checkpoints(self) -> int:
        return len(self.checkpoints)

    def flush_if_due(self) -> None:
        """Called by the task after every step; a live recording flushes here (this one is in
        memory only)."""


@dataclass(frozen=True)
class RBMSnapshot:
    """What the trainer dock draws: progress, history and the persistent chains (the weights it
    shows come from the checkpoints, so the live W is not copied on every step)."""

    epoch: int
    batch: int
    n_batches: int
    epochs: int
    learning_rate: float
    history: dict[str, np.ndarray]
    chains: np.ndarray | None  # (n_chains, n) int8 ±1, or None for CD
    n_checkpoints: int
    size: int  # L, with n = L²
    observables: dict | None = None  # the monitor's latest (RBMTrainingTask.model_observables)

    @property
    def progress(self) -> float:
        done = self.epoch + (self.batch / self.n_batches if self.n_batches else 0.0)
        return min(1.0, done / self.epochs) if self.epochs else 1.0


class RBMTrainingTask:
    """Drives an :class:`RBMTrainer` for a job or the CLI (module doc: metrics, monitor).

    ``temperature`` is the data's (None when they mix temperatures: c and χ are then not
    monitored); ``monitor_every`` the monitor's period in epochs (0: off).
    """

    def __init__(
        self,
        trainer: RBMTrainer,
        recording: RBMRecording,
        fresh: bool = True,
        on_epoch: Callable[[dict], None] | None = None,
        temperature: float | None = None,
        monitor_every: int = 0,
        metrics_every: int = 0,
        early_stop: int = 0,
    ) -> None:
        if (
            isinstance(monitor_every, bool)
            or not isinstance(monitor_every, int)
            or (monitor_every < 0)
        ):
            raise ValueError(f"monitor every must be an integer ≥ 0, got {monitor_every!r}.")
        bad_metrics = isinstance(metrics_every, bool) or not isinstance(metrics_every, int)
        if bad_metrics or metrics_every < 0:
            raise ValueError(f"metrics every must be an integer ≥ 0, got {metrics_every!r}.")
        if isinstance(early_stop, bool) or not isinstance(early_stop, int) or early_stop < 0:
            raise ValueError(f"early stop must be an integer ≥ 0, got {early_stop!r}.")
        check_early_stop(early_stop, 0.0 if trainer.validation_data is None else 1.0)
        self.trainer = trainer
        self.recording = recording
        self.on_epoch = on_epoch
        self.finished = trainer.finished
        self.size = math.isqrt(trainer.model.n_visible)
        self.temperature = temperature
        self.monitor_every = monitor_every
        self.metrics_every = metrics_every
        self.early_stop = early_stop
        self.stopped_early = False
        self._stale = 0  # measurements since the best held-out NLL
        self._metrics_cost: float | None = None  # seconds of the last measurement (automatic)
        self._update_seconds = 0.0  # updates' wall time since then
        self._observables: dict | None = None
        self._data_observables: dict | None = None
        self._seconds = 0.0  # wall time of the updates of the epoch under way
        if fresh:
            self._record_epoch()

    # ------------------------------------------------------------------ per epoch
    def monitor_due(self, epoch: int) -> bool:
        """Whether the monitor measures at the end of ``epoch``."""
        every = self.monitor_every
        return every > 0 and (epoch % every == 0 or epoch >= self.trainer.config.epochs)

    def metrics_due(self, epoch: int) -> bool:
        """Whether the metrics are measured at the end of ``epoch`` (module doc)."""
        if epoch == 0 or epoch >= self.trainer.config.epochs:
            return True
        if self.metrics_every:
            return epoch % self.metrics_every == 0
        model = self.trainer.model
        if model.n_visible * model.n_hidden <= METRICS_ALWAYS_WEIGHTS:
            return True
        cost = self._metrics_cost
        return cost is None or METRICS_BUDGET * self._update_seconds >= cost

    def _record_epoch(self) -> dict:
        """Measure the epoch just ended (metrics if due, cost, monitor) into the recording."""
        trainer = self.trainer
        start = time.perf_counter()
        epoch = trainer.epoch
        self._update_seconds += self._seconds
        measured = self.metrics_due(epoch)
        metrics: dict = trainer.metrics() if measured else {"epoch": epoch}
        metrics_cost = time.perf_counter() - start
        if self.monitor_due(epoch):
            self._observables = self.model_observables()
            metrics.update(monitor_values(self._observables))
        metrics["seconds"] = self._seconds
        metrics["metric_seconds"] = time.perf_counter() - start
        if measured:
            self._metrics_cost, self._update_seconds = metrics_cost, 0.0
        self._seconds = 0.0
        self.recording.add_metrics(metrics)
        if self._checkpoint_due() or (measured and self.early_stop):
            self.recording.add_checkpoint(trainer)
        if measured and self.early_stop:
            self._judge(epoch, metrics)
        return metrics

    def _judge(self, epoch: int, metrics: dict) -> None:
        """Early stopping (module doc): track the best held-out NLL, finish when it is stale."""
        nll = float(metrics.get("nll_valid", math.nan))
        error = float(metrics.get("nll_valid_error", 0.0))
        if not math.isfinite(nll):
            return
        best = self.recording.best
        if best is None or nll + (error if math.isfinite(error) else 0.0) < best[1]:
            self.recording.best = (epoch, nll)
            self._stale = 0
            return
        self._stale += 1
        if self._stale >= self.early_stop and not self.trainer.finished:
            self.stopped_early = self.finished = True
            self.recording.stopped_early = True

    def _checkpoint_due(self) -> bool:
        trainer = self.trainer
        return (
            trainer.epoch == 0
            or trainer.epoch % trainer.config.checkpoint_every == 0
            or trainer.finished
        )

    def _end_epoch(self) -> None:
        metrics = self._record_epoch()
        if self.on_epoch is not None:
            self.on_epoch(metrics)

    def model_observables(self) -> dict:
        """The monitor's measurement now: ``{"epoch", "model": {k: Estimate}, "data": {k:
        Estimate}}`` for k in :data:`MONITORED` (module doc).

        The samples come from fresh chains (never the training chains, which lag behind the
        model) with the exact global flip v → −v, so that chains of a Z2-symmetric model visit
        both ordered phases; c and χ need the data's temperature and are left out without one.
        """
        import torch  # here, not at the top: importing this module loads no torch (the GUI)

        from engines.rbm.thermodynamics import data_thermodynamics, model_thermodynamics

        trainer = self.trainer
        generator = torch.Generator(device=trainer.model.device).manual_seed(
            (trainer.config.seed * 1_000_003 + trainer.epoch) % 2**63
        )
        temperature = self.temperature or 1.0
        keep = tuple(k for k in MONITORED if self.temperature or k not in NEEDS_TEMPERATURE)
        found = model_thermodynamics(
            trainer.model,
            temperature,
            n_samples=MONITOR_SAMPLES,
            n_chains=MONITOR_CHAINS,
            burn_in=MONITOR_BURN_IN,
            thin=MONITOR_THIN,
            generator=generator,
        )["estimates"]
        if self._data_observables is None:
            data = data_thermodynamics(trainer.train_data[:MONITOR_DATA], temperature)
            self._data_observables = {k: v for k, v in data.items() if k in keep}
        return {
            "epoch": trainer.epoch,
            "model": {k: v for k, v in found.items() if k in keep},
            "data": self._data_observables,
        }

    def step(self) -> RBMSnapshot:
        deadline = time.perf_counter() + STEP_SECONDS
        trainer = self.trainer
        while not (trainer.finished or self.stopped_early):
            epoch = trainer.epoch
            start = time.perf_counter()
            try:
                trainer.step_batch()
            except (RuntimeError, OverflowError) as exc:
                if "overflow" not in str(exc).lower():
                    raise
                raise RBMDivergence(  # e.g. a learning rate beyond the parameters' dtype
                    f"Training diverged at epoch {trainer.epoch}, batch "
                    f"{trainer.batch_in_epoch}: an update overflowed ({exc}); lower the "
                    f"learning rate (now {trainer.config.learning_rate:g})."
                ) from None
            self._seconds += time.perf_counter() - start
            if trainer.epoch != epoch:
                self._end_epoch()
                break
            if time.perf_counter() >= deadline:
                break
        self.finished = trainer.finished or self.stopped_early
        self.recording.flush_if_due()
        return self.snapshot()

    def on_stop(self) -> None:
        """Stopped (possibly mid-epoch): keep the exact state so the run resumes from here."""
        self.recording.trainer_state = self.trainer.state_dict()

    def snapshot(self) -> RBMSnapshot:
        trainer = self.trainer
        history, checkpoints, _ = self.recording.copy()
        chains = trainer.persistent_chains
        return RBMSnapshot(
            epoch=trainer.epoch,
            batch=trainer.batch_in_epoch,
            n_batches=trainer.n_batches,
            epochs=trainer.config.epochs,
            learning_rate=trainer.learning_rate(),
            history=history,
            chains=None if chains is None else chains.cpu().numpy().astype(np.int8),
            n_checkpoints=len(checkpoints),
            size=self.size,
            observables=self._observables,
        )


def early_stop_message(task: RBMTrainingTask) -> str:
    """The run's message when ``task`` stopped early ('' otherwise)."""
    best = task.recording.best
    if not task.stopped_early or best is None:
        return ""
    return (
        f"stopped early at epoch {task.trainer.epoch}: the held-out NLL had not improved for "
        f"{task.early_stop} measurements; parameters of epoch {best[0]} (held-out NLL "
        f"{best[1]:.4f})"
    )


def monitor_values(observables: dict) -> dict[str, float]:
    """A monitor measurement as history entries: ``model_<k>``, ``model_<k>_error``,
    ``data_<k>``, ``data_<k>_error``."""
    out: dict[str, float] = {}
    for side in ("model", "data"):
        for key, est in observables[side].items():
            out[f"{side}_{key}"] = float(est.value)
            out[f"{side}_{key}_error"] = float(est.error)
    return out


MONITOR_LABELS = {"e": "e", "m": "<m>", "abs_m": "<|m|>", "binder": "U4", "c": "c", "chi": "chi"}


def format_monitor(metrics: dict) -> str:
    """One line of the monitor's model-vs-data values of an epoch ('' when not measured):
    ``epoch 20 model vs data: e -1.4512 ± 0.0031 vs -1.4530 ± 0.0020 (+0.5σ), …``."""
    if not math.isfinite(metrics.get("model_e", math.nan)):
        return ""
    parts = []
    for key in MONITORED:
        if not math.isfinite(metrics.get(f"model_{key}", math.nan)):
            continue
        model, model_error = metrics[f"model_{key}"], metrics[f"model_{key}_error"]
        text = f"{MONITOR_LABELS[key]} {model:.4f} ± {model_error:.4f}"
        data = metrics.get(f"data_{key}", math.nan)
        if math.isfinite(data):
            data_error = metrics[f"data_{key}_error"]
            sigma = math.hypot(model_error, data_error)
            z = f" ({(model - data) / sigma:+.1f}σ)" if sigma > 0 else ""
            text += f" vs {data:.4f} ± {data_error:.4f}{z}"
        parts.append(text)
    return f"epoch {metrics['epoch']} model vs data: " + ", ".join(parts)


def format_metrics(metrics: dict) -> str:
    """One line of the key metrics of an epoch, for the CLI and the log."""
    parts = [f"epoch {metrics['epoch']}"]
    for key, label in (
        ("nll_train", "NLL train"),
        ("nll_valid", "valid"),
        ("pseudo_likelihood", "log PL"),
        ("reconstruction_mismatch", "recon"),
    ):
        value = metrics.get(key)
        if isinstance(value, float) and math.isfinite(value):
            parts.append(f"{label} {value:.4f}")
    if metrics.get("log_z_method") == "ais":
        parts.append(f"(AIS ± {metrics['log_z_error']:.3f})")
    return ", ".join(parts)
