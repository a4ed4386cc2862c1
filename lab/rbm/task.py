"""RBM training as a steppable task: minibatches, per-epoch metrics, checkpoints, resumable state.

Each ``step()`` runs minibatches for about ``STEP_SECONDS`` and never crosses an epoch boundary
without measuring it: at the end of every epoch the trainer's metrics (NLL exact or AIS, pseudo-
likelihood, reconstruction error, free-energy gap, norms) go into the history, and every
``checkpoint_every`` epochs the parameters and the trainer's full state are checkpointed. Epoch 0
(before any update) is measured and checkpointed when the task is created for a new model.

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

import numpy as np
import torch

from engines.ising import energies_per_spin, magnetizations_per_spin, summarize
from engines.rbm import RBMDivergence, RBMTrainer, sample_model

STEP_SECONDS = 0.05
OBSERVABLE_SAMPLES = 1024
OBSERVABLE_BURN_IN = 500
OBSERVABLE_THIN = 5
OBSERVABLE_CHAINS = 32
OBSERVABLE_MAX_SHARE = 0.2  # model observables may take at most this share of training time


class RBMRecording:
    """History, checkpoints and latest resumable state of one training run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.history: dict[str, list[float]] = {}
        self.checkpoints: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
        self.trainer_state: dict | None = None

    def add_metrics(self, metrics: dict) -> None:
        with self._lock:
            for key, value in metrics.items():
                if key == "log_z_method":
                    key, value = "log_z_exact", float(value == "exact")
                if isinstance(value, bool | int | float) and key != "checkpoint":
                    self.history.setdefault(key, []).append(float(value))

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
    observables: dict | None = None  # {"epoch", "model": {name: Estimate}, "data": {...}}

    @property
    def progress(self) -> float:
        done = self.epoch + (self.batch / self.n_batches if self.n_batches else 0.0)
        return min(1.0, done / self.epochs) if self.epochs else 1.0


class RBMTrainingTask:
    """Drives an :class:`RBMTrainer` for a job or the CLI."""

    def __init__(
        self,
        trainer: RBMTrainer,
        recording: RBMRecording,
        fresh: bool = True,
        on_epoch: Callable[[dict], None] | None = None,
        temperature: float | None = None,
        measure_observables: bool = False,
    ) -> None:
        self.trainer = trainer
        self.recording = recording
        self.on_epoch = on_epoch
        self.finished = trainer.finished
        self.size = math.isqrt(trainer.model.n_visible)
        self.temperature = temperature
        self.measure_observables = measure_observables
        self._observables: dict | None = None
        self._data_observables: dict | None = None
        self._next_observables = 0.0
        if fresh:
            metrics = trainer.metrics()
            recording.add_metrics(metrics)
            recording.add_checkpoint(trainer)

    def _end_epoch(self) -> None:
        trainer = self.trainer
        metrics = trainer.metrics()
        self.recording.add_metrics(metrics)
        every = trainer.config.checkpoint_every
        if trainer.epoch % every == 0 or trainer.finished:
            self.recording.add_checkpoint(trainer)
        if self.on_epoch is not None:
            self.on_epoch(metrics)
        if self.measure_observables and time.perf_counter() >= self._next_observables:
            start = time.perf_counter()
            self._observables = self.model_observables()
            cost = time.perf_counter() - start
            self._next_observables = start + cost / OBSERVABLE_MAX_SHARE

    def model_observables(self) -> dict:
        """e, |m|, c, χ, U₄ of equilibrium samples of the current model next to the data's.

        The samples come from fresh chains run for ``OBSERVABLE_BURN_IN`` sweeps (never from the
        training chains, which lag behind the model), with the exact global flip v → −v so that
        chains of a Z2-symmetric model visit both ordered phases; c and χ need the data's
        temperature and are left out when it is unknown (several temperatures mixed).
        """
        trainer, L = self.trainer, self.size
        generator = torch.Generator(device=trainer.model.device).manual_seed(
            trainer.config.seed * 1_000_003 + trainer.epoch
        )
        samples, _ = sample_model(
            trainer.model,
            OBSERVABLE_SAMPLES,
            burn_in=OBSERVABLE_BURN_IN,
            thin=OBSERVABLE_THIN,
            n_chains=OBSERVABLE_CHAINS,
            generator=generator,
            flip_moves=True,
        )

        def estimates(configs: np.ndarray) -> dict:
            configs = configs.reshape(-1, L, L)
            e, m = energies_per_spin(configs), magnetizations_per_spin(configs)
            found = summarize(e, m, self.temperature or 1.0, L * L)
            keep = ("e", "abs_m", "m2", "binder") + (("c", "chi") if self.temperature else ())
            return {k: v for k, v in found.items() if k in keep}

        if self._data_observables is None:
            self._data_observables = estimates(trainer.train_data[: OBSERVABLE_SAMPLES * 4])
        return {"epoch": trainer.epoch, "model": estimates(samples), "data": self._data_observables}

    def step(self) -> RBMSnapshot:
        deadline = time.perf_counter() + STEP_SECONDS
        trainer = self.trainer
        while not trainer.finished:
            epoch = trainer.epoch
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
            if trainer.epoch != epoch:
                self._end_epoch()
                break
            if time.perf_counter() >= deadline:
                break
        self.finished = trainer.finished
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


def format_metrics(metrics: dict) -> str:
    """One line of the key metrics of an epoch, for the CLI and the log."""
    parts = [f"epoch {metrics['epoch']}"]
    for key, label in (
        ("nll_train", "NLL train"),
        ("nll_valid", "valid"),
        ("pseudo_likelihood", "log PL"),
        ("reconstruction_error", "recon"),
    ):
        value = metrics.get(key)
        if isinstance(value, float) and math.isfinite(value):
            parts.append(f"{label} {value:.4f}")
    if metrics.get("log_z_method") == "ais":
        parts.append(f"(AIS ± {metrics['log_z_error']:.3f})")
    return ", ".join(parts)
