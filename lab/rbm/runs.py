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
"""

from __future__ import annotations

import io
import json
from dataclasses import fields

import numpy as np

from data import RunRecord
from engines.rbm import RBM, RBMConfig, RBMTrainer
from lab.core.ids import short_message
from lab.ising.runs import complete_ising_run
from lab.rbm.task import RBMRecording

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
    """Concatenate the configurations of Ising runs as (N, L²) int8 ±1; returns (data, L)."""
    if not runs:
        raise RunInputError("choose at least one Ising run as training data")
    blocks, size = [], None
    for run in runs:
        if run.kind not in ("ising", "rbm-samples"):
            raise RunInputError(f"run '{run.id}' is of kind '{run.kind}', not an Ising run")
        samples = run.datasets.get("samples")
        if samples is None or samples.shape[0] == 0:
            raise RunInputError(f"run '{run.id}' has no recorded configurations")
        if size is not None and samples.shape[1] != size:
            raise RunInputError(
                f"run '{run.id}' has L = {samples.shape[1]}, the other data L = {size}")
        size = samples.shape[1]
        blocks.append(samples.reshape(samples.shape[0], -1).astype(np.int8))
    return np.concatenate(blocks), int(size)


def new_rbm_run(run_id: str, config: RBMConfig, size: int, data_ids: list[str]) -> RunRecord:
    params: dict[str, object] = {name: getattr(config, name) for name in CONFIG_PARAMS}
    params.update({"size": size, "n_visible": size * size, "data": list(data_ids)})
    return RunRecord(id=run_id, kind="rbm", status="running", seed=config.seed, params=params,
                     inputs=list(data_ids))


def config_from_run(run: RunRecord) -> RBMConfig:
    """The training configuration recorded in an ``rbm`` run."""
    values = {name: run.params[name] for name in CONFIG_PARAMS if name in run.params}
    return RBMConfig(seed=int(run.seed or 0), **values)


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
    np.savez(buffer, trainer_meta=np.array(meta),
             **{name.replace("/", "__"): array for name, array in arrays.items()})
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
        with np.load(io.BytesIO(blob[8:8 + length].tobytes()), allow_pickle=False) as npz:
            meta = str(npz["trainer_meta"])
            arrays = {name.replace("__", "/"): npz[name] for name in npz.files
                      if name != "trainer_meta"}
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


def run_checkpoints(run: RunRecord) -> list[Checkpoint]:
    """(epoch, W, a, b) of every checkpoint of an ``rbm`` run; its final W alone without any."""
    ds = run.datasets
    if "checkpoints/epoch" in ds:
        return [(int(e), ds["checkpoints/W"][i], ds["checkpoints/a"][i], ds["checkpoints/b"][i])
                for i, e in enumerate(ds["checkpoints/epoch"])]
    if "W" in ds:
        return [(int(run.results.get("epochs_done", 0)), ds["W"], ds.get("a"), ds.get("b"))]
    return []


def run_chains(run: RunRecord) -> np.ndarray | None:
    """The persistent chains (β = 1 replicas for PT) saved with a run's trainer state."""
    chains = run.datasets.get("trainer/chains")
    if chains is not None and chains.size:
        return chains
    replicas = run.datasets.get("trainer/replicas")
    if replicas is not None and replicas.ndim == 3 and replicas.size:
        return replicas[0]
    return None


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
            raise ValueError(f"run '{run.id}' is already at epoch {state['epoch']}; "
                             f"ask for more than {epochs} epochs")
        state["config"] = {**state["config"], "epochs": epochs}
    return RBMTrainer.from_state(state, data)


def rbm_from_run(run: RunRecord) -> RBM:
    """The model of an ``rbm`` run (its final parameters)."""
    if run.kind != "rbm":
        raise RunInputError(f"run '{run.id}' is of kind '{run.kind}', not an RBM")
    try:
        return RBM(run.datasets["W"], run.datasets["a"], run.datasets["b"])
    except KeyError:
        raise RunInputError(f"run '{run.id}' has no parameters W, a, b") from None


def finish_rbm_run(run: RunRecord, recording: RBMRecording, trainer: RBMTrainer | None,
                   status: str, finished: str | None, message: str = "") -> RunRecord:
    """Fill ``run`` with parameters, checkpoints, history and resumable state."""
    history, checkpoints, state = recording.copy()
    if checkpoints:
        epochs = np.array([c[0] for c in checkpoints], dtype=np.int64)
        stacked = [np.stack([c[i] for c in checkpoints]) for i in (1, 2, 3)]
        run.datasets.update({"checkpoints/epoch": epochs, "checkpoints/W": stacked[0],
                             "checkpoints/a": stacked[1], "checkpoints/b": stacked[2]})
    if status == "failed" or trainer is None:
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
        for name in run.datasets if name in PARAM_UNITS
    }
    for name in run.datasets:
        if name.startswith("history/"):
            run.dataset_attrs[name] = {"units": "nats per configuration" if "nll" in name
                                       or "log_z" in name or "free_energy" in name
                                       or "pseudo" in name else "dimensionless",
                                       "axes": "epoch"}
    run.results = {key: float(values[-1]) for key, values in history.items() if values.size}
    run.results["epochs_done"] = int(history["epoch"][-1]) if "epoch" in history else 0
    run.status = status
    run.finished = finished
    run.message = short_message(message)
    return run


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
    run.results = {key: float(values[-1]) for key, values in history.items() if values.size}
    epochs = history.get("epoch")
    run.results["epochs_done"] = int(epochs[-1]) if epochs is not None and epochs.size else 0
    return run


def complete_recorded_run(run: RunRecord) -> RunRecord:
    """A run read from a live recording, completed as at the end of its job: an Ising run's
    results, an RBM run's parameters, results and resumable trainer state."""
    return complete_rbm_recording(complete_ising_run(run))
