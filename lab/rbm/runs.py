"""RBM training as session runs: data from Ising runs, parameters, checkpoints, history, resume.

An ``rbm`` run holds, in the paper's convention (v ∈ {−1,+1}, h ∈ {0,1}):

- datasets ``W`` (n, m), ``a`` (n,), ``b`` (m,): the final parameters — for a failed (diverged)
  run, those of the last good checkpoint;
- ``checkpoints/W`` (C, n, m), ``checkpoints/a``, ``checkpoints/b``, ``checkpoints/epoch`` (C,):
  parameters every ``checkpoint_every`` epochs, epoch 0 (before any update) first;
- ``history/<metric>`` (epochs + 1,): one value per epoch from epoch 0 (``log_z_exact`` is 1
  where log Z was enumerated, 0 where it came from AIS);
- ``trainer/<name>``: the trainer's arrays at the last checkpoint or stop (generators, persistent
  chains, optimizer buffers, …) and the attribute ``trainer_meta`` (JSON: the rest of the state),
  from which training resumes bit-for-bit.

Its attributes are the hyperparameters, ``size`` (L), ``data`` (ids of the Ising runs) and the
same ids as ``inputs``.

Widgets read these runs through :class:`RBMRunView` (and ``rbm-samples`` runs, the equilibrium
samples of ``main.py sample``, through :class:`RBMSamplesRunView`); both kinds are registered in
:mod:`lab.core.kinds` at the bottom of this module, with their one-line summaries, the trainer
dock ``rbmDock`` for ``rbm`` runs, and :func:`complete_rbm_recording` to complete an ``rbm`` run
recovered from a live recording.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from data import RunRecord
from engines.rbm.config import RBMConfig
from engines.rbm.recipes import ising_config
from lab.core.ids import short_message
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.ising.runs import format_estimate
from lab.rbm.task import RBMRecording, history_units

if TYPE_CHECKING:  # the model and the trainer load torch: imported where they are used
    from engines.rbm import RBM, RBMTrainer

CONFIG_PARAMS = tuple(f.name for f in fields(RBMConfig) if f.name != "seed")
"""The hyperparameters recorded as run attributes (every RBMConfig field; the seed is the run's)."""
PARAM_UNITS = {
    "W": ("coupling (dimensionless, in units of the energy E)", "visible, hidden"),
    "a": ("dimensionless", "visible"),
    "b": ("dimensionless", "hidden"),
    "checkpoints/W": ("dimensionless", "checkpoint, visible, hidden"),
    "checkpoints/a": ("dimensionless", "checkpoint, visible"),
    "checkpoints/b": ("dimensionless", "checkpoint, hidden"),
    "checkpoints/epoch": ("epochs", "checkpoint"),
}


Checkpoint = tuple[int, np.ndarray, np.ndarray | None, np.ndarray | None]  # epoch, W, a, b
TRAINER_BLOB = "trainer"
"""Name of the trainer-state blob in a live recording's resume slot (:func:`pack_trainer_state`)."""


class RunInputError(ValueError):
    """A run given as input does not fit (missing, wrong kind, no samples, mixed sizes)."""


def training_data(runs: list[RunRecord]) -> tuple[np.ndarray, int]:
    """Concatenate the configurations of Ising runs as (N, L²) int8 ±1; returns (data, L).

    Each run counts once: a run given twice would weigh its configurations double and put copies
    on both sides of the validation split, so it is a RunInputError."""
    if not runs:
        raise RunInputError("choose at least one Ising run as training data")
    twice = sorted({run.id for run in runs if sum(r.id == run.id for r in runs) > 1})
    if twice:
        raise RunInputError(
            f"run{'s' if len(twice) > 1 else ''} {', '.join(repr(i) for i in twice)} given more "
            "than once as training data: each run's configurations are used once"
        )
    blocks, size = [], None
    for run in runs:
        if run.kind not in ("ising", "rbm-samples"):
            raise RunInputError(f"run '{run.id}' is of kind '{run.kind}', not an Ising run")
        samples = run.datasets.get("samples")
        if samples is None or samples.shape[0] == 0:
            raise RunInputError(f"run '{run.id}' has no recorded configurations")
        temperature = run.params.get("temperature")
        if temperature is not None and not (
            isinstance(temperature, int | float | np.integer | np.floating)
            and not isinstance(temperature, bool)
            and math.isfinite(temperature)
            and temperature > 0
        ):
            raise RunInputError(
                f"run '{run.id}' has temperature {temperature!r}: not a positive number"
            )
        if size is not None and samples.shape[1] != size:
            raise RunInputError(
                f"run '{run.id}' has L = {samples.shape[1]}, the other data L = {size}"
            )
        size = samples.shape[1]
        blocks.append(samples.reshape(samples.shape[0], -1).astype(np.int8))
    return np.concatenate(blocks), int(size)


def new_rbm_run(run_id: str, config: RBMConfig, size: int, data_ids: list[str]) -> RunRecord:
    params: dict[str, object] = {name: getattr(config, name) for name in CONFIG_PARAMS}
    params.update({"size": size, "n_visible": size * size, "data": list(data_ids)})
    return RunRecord(
        id=run_id,
        kind="rbm",
        status="running",
        seed=config.seed,
        params=params,
        inputs=list(data_ids),
    )


TRAIN_OPTIONS = {
    "hidden": "n_hidden",
    "method": "method",
    "k": "k",
    "batch": "batch_size",
    "lr": "learning_rate",
    "optimizer": "optimizer",
    "momentum": "momentum",
    "l1": "l1",
    "l2": "l2",
    "schedule": "lr_schedule",
    "lr_decay": "lr_decay",
    "epochs": "epochs",
    "centering": "centering",
    "flip_moves": "flip_moves",
    "chains": "n_chains",
    "temperatures": "n_temperatures",
    "validation": "validation_fraction",
    "checkpoint_every": "checkpoint_every",
    "seed": "seed",
    "device": "device",
    "symmetry": "symmetry",
    "replicas": "n_temperatures",
}
"""``train``'s option names (argparse ``dest``) and the :class:`RBMConfig` fields they set."""


def training_config(
    options: Mapping[str, object], n_configurations: int, n_visible: int
) -> RBMConfig:
    """The validated configuration of ``train``'s ``options`` (a ``vars(args)``) for a training
    set of ``n_configurations`` configurations of ``n_visible`` spins.

    Options left at None take the Ising recipe :func:`engines.rbm.recipes.ising_config` (the
    lab's default for Ising data), whose epochs give about 42 000 updates for that data size.
    ValueError with one sentence for a bad value, or a training that cannot fit in memory
    (:func:`check_training_memory`)."""
    overrides = {
        field: options[name]
        for name, field in TRAIN_OPTIONS.items()
        if options.get(name) is not None
    }
    config = ising_config(n_configurations, **overrides)
    config.validate(n_visible=n_visible)
    check_training_memory(config, n_visible, n_configurations)
    return config


def config_from_options(
    options: Mapping[str, object], defaults: RBMConfig, **fixed: object
) -> RBMConfig:
    """``defaults`` with every trainer option of ``options`` (a ``vars(args)``, names of
    :data:`TRAIN_OPTIONS`) that is not None, then ``fixed`` (e.g. the level's ``n_hidden``);
    not validated (the caller knows n_visible)."""
    overrides = {
        field: options[name]
        for name, field in TRAIN_OPTIONS.items()
        if options.get(name) is not None
    }
    return replace(defaults, **{**overrides, **fixed})


def training_memory(config: RBMConfig, n_visible: int, n_configurations: int) -> int:
    """Bytes a training of ``config`` holds at least (float32): W with its gradient and
    optimizer buffers, every checkpoint the recording keeps, the persistent chains of every
    replica with their hidden states, and the data as floats. A lower bound, for refusing
    trainings that cannot fit before any work starts."""
    weights = (n_visible + 1) * (config.n_hidden + 1)
    copies = 4 if config.optimizer == "adam" else 3  # W, gradient, 1–2 optimizer buffers
    checkpoints = config.epochs // max(config.checkpoint_every, 1) + 2
    chains = (config.n_chains or config.batch_size) * (
        config.n_temperatures if config.method == "pt" else 1
    )
    batch = max(chains, config.batch_size) * (n_visible + config.n_hidden) * 3
    return 4 * (weights * (copies + checkpoints) + batch + n_configurations * n_visible)


def physical_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not tell."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_training_memory(config: RBMConfig, n_visible: int, n_configurations: int) -> None:
    """ValueError (one sentence, with the estimate) when :func:`training_memory` exceeds this
    machine's physical memory."""
    need, have = training_memory(config, n_visible, n_configurations), physical_memory()
    if have is not None and need > have:
        raise ValueError(
            f"training {n_visible}×{config.n_hidden} for {config.epochs} epochs "
            f"needs at least {need / 2**30:.3g} GiB of memory, this machine has "
            f"{have / 2**30:.3g} GiB"
        )


def _split_state(state: dict) -> tuple[dict[str, np.ndarray], str]:
    arrays = {f"trainer/{k}": v for k, v in state.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
    return arrays, json.dumps(meta)


def pack_trainer_state(state: dict | None) -> np.ndarray:
    """A trainer state as one uint8 blob for a live recording's resume slot: 8 bytes of length
    (little-endian), then an ``.npz`` of its arrays and of ``trainer_meta`` (the JSON of the
    rest). ``None`` (no checkpoint yet) gives the empty blob."""
    if state is None:
        return np.zeros(8, dtype=np.uint8)
    arrays, meta = _split_state(state)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        trainer_meta=np.array(meta),
        **{name.replace("/", "__"): array for name, array in arrays.items()},
    )
    data = buffer.getvalue()
    return np.frombuffer(len(data).to_bytes(8, "little") + data, dtype=np.uint8).copy()


def unpack_trainer_state(blob: np.ndarray) -> tuple[dict[str, np.ndarray], str] | None:
    """The ``trainer/…`` arrays and the ``trainer_meta`` JSON of :func:`pack_trainer_state`'s
    blob (None for the empty blob); ValueError if the blob is damaged."""
    blob = np.asarray(blob, dtype=np.uint8)
    if blob.size < 8:
        raise ValueError("the recorded trainer state is truncated")
    length = int.from_bytes(blob[:8].tobytes(), "little")
    if length == 0:
        return None
    if length > blob.size - 8:
        raise ValueError("the recorded trainer state is truncated")
    try:
        with np.load(io.BytesIO(blob[8 : 8 + length].tobytes()), allow_pickle=False) as npz:
            meta = str(npz["trainer_meta"])
            arrays = {
                name.replace("__", "/"): npz[name] for name in npz.files if name != "trainer_meta"
            }
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"the recorded trainer state is damaged ({exc})") from None
    return arrays, meta


def trainer_state_from_run(run: RunRecord) -> dict:
    """The resumable trainer state stored in a run (ValueError if it has none)."""
    if "trainer_meta" not in run.params:
        raise ValueError(f"run '{run.id}' holds no trainer state to resume from")
    state = json.loads(str(run.params["trainer_meta"]))
    for name, array in run.datasets.items():
        if name.startswith("trainer/"):
            state[name.removeprefix("trainer/")] = array
    return state


def _checkpoints(dataset: Callable[[str], np.ndarray | None], epochs_done: int) -> list[Checkpoint]:
    """(epoch, W, a, b) of every checkpoint among the datasets ``dataset(name)`` gives; the
    final W alone (at ``epochs_done``) when there are none."""
    epochs = dataset("checkpoints/epoch")
    if epochs is not None:
        W, a, b = (dataset(f"checkpoints/{name}") for name in ("W", "a", "b"))
        return [(int(e), W[i], a[i], b[i]) for i, e in enumerate(epochs)]
    W = dataset("W")
    if W is not None:
        return [(epochs_done, W, dataset("a"), dataset("b"))]
    return []


def run_checkpoints(run: RunRecord) -> list[Checkpoint]:
    """(epoch, W, a, b) of every checkpoint of an ``rbm`` run; its final W alone without any."""
    return _checkpoints(run.datasets.get, int(run.results.get("epochs_done", 0)))


def resumable_epoch(run: RunRecord) -> int | None:
    """The epoch a run would resume from, or None when it holds no trainer state."""
    try:
        return int(trainer_state_from_run(run)["epoch"])
    except ValueError:
        return None


def recording_from_run(run: RunRecord) -> RBMRecording:
    """A recording pre-filled with a run's history and checkpoints, to continue training it."""
    recording = RBMRecording()
    for name, values in run.datasets.items():
        if name.startswith("history/"):
            recording.history[name.removeprefix("history/")] = [float(v) for v in values]
    if "checkpoints/epoch" in run.datasets:
        recording.checkpoints = run_checkpoints(run)
    if "trainer_meta" in run.params:
        recording.trainer_state = trainer_state_from_run(run)
    return recording


def resume_trainer(run: RunRecord, data: np.ndarray, epochs: int | None = None) -> RBMTrainer:
    """The trainer of ``run`` as it was at its last checkpoint or stop, optionally with more
    epochs in total. ``data`` must be the run's training data (checked by checksum)."""
    state = trainer_state_from_run(run)
    if epochs is not None:
        if epochs < int(state["epoch"]):
            raise ValueError(
                f"run '{run.id}' is already at epoch {state['epoch']}; "
                f"ask for more than {epochs} epochs"
            )
        state["config"] = {**state["config"], "epochs": epochs}
    from engines.rbm import RBMTrainer

    return RBMTrainer.from_state(state, data)


def rbm_from_run(run: RunRecord) -> RBM:
    """The model of an ``rbm`` run (its final parameters)."""
    if run.kind != "rbm":
        raise RunInputError(f"run '{run.id}' is of kind '{run.kind}', not an RBM")
    from engines.rbm import RBM

    try:
        W, a, b = (np.asarray(run.datasets[k]) for k in ("W", "a", "b"))
    except KeyError:
        raise RunInputError(f"run '{run.id}' has no parameters W, a, b") from None
    if not all(np.isfinite(x).all() for x in (W, a, b)):
        raise RunInputError(f"run '{run.id}' has parameters that are not finite numbers")
    try:
        return RBM(W, a, b)
    except ValueError as exc:
        raise RunInputError(f"run '{run.id}': {exc}") from None


def rbm_size(run: RunRecord, n_visible: int) -> int:
    """The lattice side L of an ``rbm`` run (its ``size`` parameter), checked against its
    ``n_visible`` = L² units; RunInputError for a missing, non-integer or unfit size."""
    size = run.params.get("size")
    if (
        isinstance(size, bool)
        or not isinstance(size, int | np.integer)
        or size < 2
        or int(size) ** 2 != n_visible
    ):
        raise RunInputError(
            f"run '{run.id}' has size {size!r}, which does not fit its {n_visible} visible "
            "units (L² for an L × L lattice, L ≥ 2)"
        )
    return int(size)


def finish_rbm_run(
    run: RunRecord,
    recording: RBMRecording,
    trainer: RBMTrainer | None,
    status: str,
    finished: str | None,
    message: str = "",
) -> RunRecord:
    """Fill ``run`` with parameters, checkpoints, history and resumable state. The parameters
    ``W``, ``a``, ``b`` are the trainer's, or the last checkpoint's for a failed run, or, for a
    run stopped early (``recording.stopped_early``), the best epoch's, named in the results
    ``best_epoch`` and ``best_nll_valid`` (the trainer state stays the last one: resuming goes
    on from where training stopped)."""
    history, checkpoints, state = recording.copy()
    if checkpoints:
        epochs = np.array([c[0] for c in checkpoints], dtype=np.int64)
        stacked = [np.stack([c[i] for c in checkpoints]) for i in (1, 2, 3)]
        run.datasets.update(
            {
                "checkpoints/epoch": epochs,
                "checkpoints/W": stacked[0],
                "checkpoints/a": stacked[1],
                "checkpoints/b": stacked[2],
            }
        )
    best = recording.best if recording.stopped_early else None
    chosen = [c for c in checkpoints if best is not None and c[0] == best[0]]
    if chosen:  # stopped early: the parameters of the best held-out NLL (lab.rbm.task)
        _, W, a, b = chosen[-1]
        run.datasets.update({"W": W, "a": a, "b": b})
    elif status == "failed" or trainer is None:
        if checkpoints:
            _, W, a, b = checkpoints[-1]
            run.datasets.update({"W": W, "a": a, "b": b})
    else:
        params = trainer.model.to_numpy()
        run.datasets.update({k: params[k].astype(np.float32) for k in ("W", "a", "b")})
    for name, values in history.items():
        run.datasets[f"history/{name}"] = values
    if state is not None:
        arrays, meta = _split_state(state)
        run.datasets = {k: v for k, v in run.datasets.items() if not k.startswith("trainer/")}
        run.datasets.update(arrays)
        run.params["trainer_meta"] = meta
    run.dataset_attrs = {
        name: {"units": PARAM_UNITS[name][0], "axes": PARAM_UNITS[name][1]}
        for name in run.datasets
        if name in PARAM_UNITS
    }
    for name in run.datasets:
        if name.startswith("history/"):
            run.dataset_attrs[name] = {
                "units": history_units(name.removeprefix("history/")),
                "axes": "epoch",
            }
    run.results = history_results(history)
    if chosen and best is not None:
        run.results["best_epoch"] = best[0]
        run.results["best_nll_valid"] = best[1]
    run.status = status
    run.finished = finished
    run.message = short_message(message)
    return run


def history_results(history: Mapping[str, np.ndarray]) -> dict[str, float]:
    """A run's results from its history: each series' last measured (finite) value, so that a
    run stopped after epochs without metrics or monitor keeps the latest ones;
    ``epochs_done`` (the last row's epoch) and ``metrics_epoch`` (the epoch of the last
    measured metrics, when the history has any)."""
    results: dict[str, float] = {}
    for key, values in history.items():
        finite = np.flatnonzero(np.isfinite(values))
        if finite.size:
            results[key] = float(values[finite[-1]])
    epochs = history.get("epoch")
    results["epochs_done"] = int(epochs[-1]) if epochs is not None and epochs.size else 0
    nll = history.get("nll_train")
    if epochs is not None and nll is not None and np.isfinite(nll).any():
        results["metrics_epoch"] = int(epochs[np.flatnonzero(np.isfinite(nll))[-1]])
    return results


def complete_rbm_recording(run: RunRecord) -> RunRecord:
    """Give an ``rbm`` run read from a live recording (history and checkpoints only) its
    parameters ``W``, ``a``, ``b`` from the last checkpoint and its results from the last
    history row, as :func:`finish_rbm_run` does. Other kinds pass unchanged."""
    if run.kind != "rbm":
        return run
    ds = run.datasets
    if "checkpoints/epoch" in ds and len(ds["checkpoints/epoch"]):
        run.datasets.update({name: ds[f"checkpoints/{name}"][-1] for name in ("W", "a", "b")})
        for name in ("W", "a", "b"):
            run.dataset_attrs[name] = {"units": PARAM_UNITS[name][0], "axes": PARAM_UNITS[name][1]}
    blob = ds.pop(f"resume/{TRAINER_BLOB}", None)
    state = None if blob is None else unpack_trainer_state(blob)
    if state is not None:  # the trainer state of the last recorded checkpoint: resumable
        arrays, meta = state
        ds.update(arrays)
        run.params["trainer_meta"] = meta
    history = {k.removeprefix("history/"): v for k, v in ds.items() if k.startswith("history/")}
    run.results = history_results(history)
    return run


# ---------------------------------------------------------------------------- the runs' views
class RBMRunView(RunView):
    """An ``rbm`` run as the trainer dock reads it: its model (W, a, b), its hyperparameters and
    training data, its checkpoints and per-epoch history, the chains saved with its trainer
    state, where it would resume, and what ``main.py evaluate`` measured. Arrays are the run's
    own, read-only."""

    kind = "rbm"

    # ------------------------------------------------------------------ the model
    @property
    def weights(self) -> np.ndarray | None:
        """The final couplings W (n, m) (a failed run's: its last good checkpoint's), or None."""
        return self._dataset("W")

    @property
    def visible_bias(self) -> np.ndarray | None:
        """The final visible biases a (n,), or None."""
        return self._dataset("a")

    @property
    def hidden_bias(self) -> np.ndarray | None:
        """The final hidden biases b (m,), or None."""
        return self._dataset("b")

    @property
    def n_visible(self) -> int:
        """n (= L²): from W, else as recorded (0 when unknown)."""
        W = self.weights
        if W is not None:
            return int(W.shape[0])
        n = self._param("n_visible")
        if n is not None:
            return int(n)
        size = self._param("size")
        return 0 if size is None else int(size) ** 2

    @property
    def n_hidden(self) -> int:
        """m: as recorded, else from W (0 when unknown)."""
        m = self._param("n_hidden")
        if m is not None:
            return int(m)
        W = self.weights
        return 0 if W is None else int(W.shape[1])

    @property
    def size(self) -> int:
        """L of the L × L lattice of the visible units (√n when not recorded)."""
        size = self._param("size")
        return int(size) if size is not None else math.isqrt(self.n_visible)

    # ------------------------------------------------------------------ training
    @property
    def hyperparameters(self) -> Mapping[str, object]:
        """The recorded :class:`RBMConfig` fields (read-only; the seed is :attr:`seed`)."""
        return MappingProxyType(
            {name: self._param(name) for name in CONFIG_PARAMS if self._param(name) is not None}
        )

    @property
    def method(self) -> str:
        """'cd', 'pcd' or 'pt' ('' for an imported model)."""
        return str(self._param("method", ""))

    @property
    def planned_epochs(self) -> int:
        """The epochs the training was asked for (0 when not recorded)."""
        return int(self._param("epochs", 0))

    @property
    def epochs_done(self) -> int:
        """The epochs trained (the last history row's epoch; 0 when none)."""
        done = self._result("epochs_done")
        return int(done) if math.isfinite(done) else 0

    @property
    def data_ids(self) -> tuple[str, ...]:
        """The Ising runs it was trained on."""
        return tuple(str(i) for i in self._param("data", []))

    @property
    def source(self) -> str:
        """The .npz file an imported model came from ('' for a trained one)."""
        return str(self._param("source", ""))

    # ------------------------------------------------------------------ checkpoints, history
    @property
    def checkpoints(self) -> list[Checkpoint]:
        """(epoch, W, a, b) of every checkpoint, epoch 0 first; the final W alone (at
        :attr:`epochs_done`) for a run without checkpoints; [] without parameters."""
        return _checkpoints(self._dataset, self.epochs_done)

    @property
    def history(self) -> dict[str, np.ndarray]:
        """Every per-epoch series by metric name (``epoch``, ``nll_train``, …), from epoch 0."""
        out = {}
        for name in self._run.datasets:
            if name.startswith("history/"):
                out[name.removeprefix("history/")] = self._dataset(name)
        return out

    def history_up_to(self, epoch: int | None) -> dict[str, np.ndarray]:
        """:attr:`history` up to and including ``epoch`` (None: all of it); series not of
        one value per epoch are kept whole."""
        history = self.history
        epochs = history.get("epoch")
        if epoch is None or epochs is None or not epochs.size:
            return history
        keep = epochs <= epoch
        return {
            name: values[keep] if values.size == epochs.size else values
            for name, values in history.items()
        }

    def series(self, metric: str) -> np.ndarray | None:
        """The history of one metric (one value per epoch), or None."""
        return self._dataset(f"history/{metric}")

    @property
    def train_nll(self) -> tuple[float, float]:
        """The last NLL of the training data and its error (nats; NaN when not measured)."""
        return self._result("nll_train"), self._result("nll_train_error")

    @property
    def held_out_nll(self) -> tuple[float, float]:
        """The last NLL of the held-out data and its error (nats; NaN without a held-out set)."""
        return self._result("nll_valid"), self._result("nll_valid_error")

    # ------------------------------------------------------------------ trainer state
    @property
    def chains(self) -> np.ndarray | None:
        """The persistent chains (β = 1 replicas for PT) saved with the trainer state, or None
        (CD, or no trainer state)."""
        chains = self._dataset("trainer/chains")
        if chains is not None and chains.size:
            return chains
        replicas = self._dataset("trainer/replicas")
        if replicas is not None and replicas.ndim == 3 and replicas.size:
            return replicas[0]
        return None

    @property
    def resumable_epoch(self) -> int | None:
        """The epoch training would resume from, or None when it holds no trainer state."""
        return resumable_epoch(self._run)

    # ------------------------------------------------------------------ evaluation
    @property
    def evaluation(self) -> dict[str, object]:
        """What ``main.py evaluate`` measured (log Z, NLL, ``model_<obs>`` and ``data_<obs>``
        with their ``_error``, ``model_samples``, …); {} when not evaluated."""
        return self._group("evaluation")

    @property
    def evaluation_samples(self) -> int | None:
        """The number of model samples the evaluation's observables come from, or None."""
        samples = self.evaluation.get("model_samples")
        return None if samples is None else int(samples)


class RBMSamplesRunView(RunView):
    """An ``rbm-samples`` run (``main.py sample``): equilibrium configurations of an RBM's model,
    their Ising energy and magnetization, and the sampler's settings."""

    kind = "rbm-samples"

    @property
    def rbm_id(self) -> str:
        """The ``rbm`` run sampled ('' when it names none)."""
        return self.inputs[0] if self.inputs else ""

    @property
    def size(self) -> int:
        return int(self._param("size"))

    @property
    def temperature(self) -> float | None:
        """The common temperature of the RBM's training data, None when they had several."""
        t = self._param("temperature")
        return None if t is None else float(t)

    @property
    def sampler(self) -> str:
        return str(self._param("method", ""))

    @property
    def burn_in(self) -> int:
        return int(self._param("burn_in", 0))

    @property
    def thin(self) -> int:
        return int(self._param("thin", 1))

    @property
    def n_chains(self) -> int:
        return int(self._param("chains", 0))

    @property
    def samples(self) -> np.ndarray | None:
        """The configurations (N, L, L) int8 ±1, or None."""
        return self._dataset("samples")

    @property
    def n_samples(self) -> int:
        samples = self.samples
        return 0 if samples is None else int(samples.shape[0])

    @property
    def energy(self) -> np.ndarray | None:
        """The Ising energy per spin of each sample (J = 1)."""
        return self._dataset("energy")

    @property
    def magnetization(self) -> np.ndarray | None:
        return self._dataset("magnetization")


# ---------------------------------------------------------------------------- registry
def _estimate(value: float, error: float) -> str:
    text = f"{value:.4g}"
    return text + (f" ± {error:.2g}" if math.isfinite(error) and error > 0 else "")


def _rbm_summary(view: RunView) -> str:
    """'m = 64, 100 epochs, held-out NLL 4.53 ± 0.02' ('12 of 100 epochs' while unfinished,
    the training NLL without a held-out set, 'imported from f.npz' for an imported model)."""
    assert isinstance(view, RBMRunView)
    parts = [f"m = {view.n_hidden}"]
    done, planned = view.epochs_done, view.planned_epochs
    if view.source:
        parts.append(f"imported from {view.source}")
    elif done < planned:
        parts.append(f"{done} of {planned} epochs")
    else:
        parts.append(f"{done} epoch{'' if done == 1 else 's'}")
    held_out, train = view.held_out_nll, view.train_nll
    if math.isfinite(held_out[0]):
        parts.append(f"held-out NLL {_estimate(*held_out)}")
    elif math.isfinite(train[0]):
        parts.append(f"train NLL {_estimate(*train)}")
    return ", ".join(parts)


def _samples_summary(view: RunView) -> str:
    """'e = -1.234 ± 0.005' where the samples' data had one temperature, else 'N samples'."""
    results = view.record.results
    if "e" in results:
        return f"e = {format_estimate(results, 'e')}"
    if "n_samples" in results:
        return f"{results['n_samples']} samples"
    return ""


register(RunKind("rbm", RBMRunView, _rbm_summary, dock="rbmDock", complete=complete_rbm_recording))
register(RunKind("rbm-samples", RBMSamplesRunView, _samples_summary))
