"""What a Wasserstein scoring reads from the session: a *plan* built from the run to score.

Four sources, each turned into a plan before any work (a problem is a :class:`ScoreInputError`
with one sentence, the CLI's exit 2):

- an ``rg`` run of the rbm-flow (``mode = "rbm-flow"``): the Iso–Shiba–Yokoo flow
  v → v′ → v″ …, every step an L × L lattice (mode ``rbm-flow``);
- an ``rg`` run of block spins (rule ``majority`` or ``decimation``): level k's
  (L/b^k)² block spins (mode ``block-spin``, embedded by repeating each block spin);
- an ``rg`` run of the rule ``rbm``: a stack v → h₁ → h₂ … of RBMs, one per level (mode
  ``stack``, embedded by the stack's reconstruction or by repeating the drawn block spins);
- an ``rg-flow`` run: each of its ``rg`` runs (one per temperature) as one *group* of the plan,
  in the mode of its rule;
- an ``rbm`` run: its checkpoints (mode ``training``), whose equilibrium samples are compared
  with each other and with the data the RBM was trained on.

Level 0 of an ``rg`` run is its data run's configurations (the ``rg`` run keeps levels ≥ 1,
aligned sample by sample with them). Nothing here subsamples or computes: the task
(:mod:`lab.geometry.score_task`) does, so a plan can also be made from plain arrays
(:func:`levels_plan`, :func:`training_plan`: the ``gai-zhang`` reproduction).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from data import RunRecord
from lab.rbm.runs import Checkpoint, RBMRunView
from lab.rg.runs import RGFlowRunView, RGRunView

LEVEL_MODES = ("rbm-flow", "block-spin", "stack")
MODES = (*LEVEL_MODES, "training")
SOURCE_KINDS = ("rg-flow", "rg", "rbm")


class ScoreInputError(ValueError):
    """The run to score does not fit (missing inputs, no samples, too few levels, …)."""


@dataclass(frozen=True, eq=False)
class LevelGroup:
    """One set of levels x⁰ → x¹ → … → x^K of the same samples: ``levels[k]`` (N, l_k, l_k)
    (±1, level 0 the data), from the run ``source_id`` at ``temperature`` (NaN if unknown)."""

    label: str
    temperature: float
    source_id: str
    levels: list[np.ndarray]

    @property
    def n_available(self) -> int:
        return int(np.asarray(self.levels[0]).shape[0])

    @property
    def sizes(self) -> list[int]:
        return [int(np.asarray(x).shape[1]) for x in self.levels]


@dataclass(frozen=True, eq=False)
class LevelsPlan:
    """Levels to score (modes rbm-flow, block-spin, stack): one group per temperature.

    ``rbms`` = [(W_k, a_k)] of a stack, level 1 first (empty otherwise); ``block`` the block
    side (1 for the rbm-flow); ``inputs`` every run read, the scored one first."""

    mode: str
    source_id: str
    source_kind: str
    groups: list[LevelGroup]
    rule: str = ""
    block: int = 1
    rbms: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    rbm_ids: list[str] = field(default_factory=list)
    data_ids: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.groups[0].sizes[0]

    @property
    def n_levels(self) -> int:
        return len(self.groups[0].levels)

    @property
    def n_available(self) -> int:
        """The samples every group has (the most that can be scored at equal N)."""
        return min(g.n_available for g in self.groups)


@dataclass(frozen=True, eq=False)
class TrainingPlan:
    """An RBM's training to score: ``checkpoints`` (epoch, W, a, b) in epoch order and the
    ``data`` (M, L, L) ±1 it was trained on."""

    source_id: str
    checkpoints: list[Checkpoint]
    data: np.ndarray
    size: int
    data_ids: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    mode: str = "training"
    source_kind: str = "rbm"
    rule: str = ""
    block: int = 1

    @property
    def n_levels(self) -> int:
        return len(self.checkpoints)

    @property
    def n_available(self) -> int:
        return int(self.data.shape[0])


Plan = LevelsPlan | TrainingPlan


# ---------------------------------------------------------------------------- from arrays
def _check_levels(levels: Sequence[np.ndarray], mode: str, block: int, what: str) -> list:
    arrays = [np.asarray(x) for x in levels]
    if len(arrays) < 2:
        raise ScoreInputError(f"{what}: scoring needs at least two levels (or steps)")
    first = arrays[0]
    if first.ndim != 3 or first.shape[1] != first.shape[2] or first.shape[0] < 2:
        raise ScoreInputError(
            f"{what}: level 0 must be (N ≥ 2, L, L) configurations, got {first.shape}"
        )
    L = first.shape[1]
    for k, x in enumerate(arrays):
        if x.ndim != 3 or x.shape[0] != first.shape[0] or x.shape[1] != x.shape[2]:
            raise ScoreInputError(
                f"{what}: level {k} has shape {x.shape}, level 0 "
                f"{first.shape}: the levels must hold the same samples"
            )
        expected = L if mode == "rbm-flow" else L // block**k
        if x.shape[1] != expected or (mode != "rbm-flow" and L % block**k):
            raise ScoreInputError(
                f"{what}: level {k} has size {x.shape[1]}, expected "
                f"{expected} (L = {L}, b = {block})"
            )
        if not np.all(np.abs(x) == 1):
            raise ScoreInputError(f"{what}: level {k} holds values other than ±1")
    return arrays


def levels_plan(
    mode: str,
    groups: Sequence[tuple[str, float, Sequence[np.ndarray]]],
    block: int = 1,
    rbms: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    source_id: str = "",
    source_kind: str = "",
    rule: str = "",
    rbm_ids: Sequence[str] = (),
    data_ids: Sequence[str] = (),
    inputs: Sequence[str] = (),
) -> LevelsPlan:
    """A :class:`LevelsPlan` from arrays: ``groups`` = [(label, temperature, levels)]."""
    if mode not in LEVEL_MODES:
        raise ScoreInputError(f"unknown mode '{mode}' ({', '.join(LEVEL_MODES)})")
    if not groups:
        raise ScoreInputError("nothing to score: no levels")
    checked = [
        LevelGroup(
            label,
            float(T),
            source_id or label,
            _check_levels(levels, mode, block, label or "levels"),
        )
        for label, T, levels in groups
    ]
    counts = {len(g.levels) for g in checked}
    sizes = {tuple(g.sizes) for g in checked}
    if len(counts) != 1 or len(sizes) != 1:
        raise ScoreInputError(
            f"every temperature must have the same levels (sizes {sorted(sizes)})"
        )
    stack = [(np.asarray(W, dtype=np.float64), np.asarray(a, dtype=np.float64)) for W, a in rbms]
    if mode == "stack":
        L = checked[0].sizes[0]
        if len(stack) != len(checked[0].levels) - 1:
            raise ScoreInputError(
                f"a stack of {len(checked[0].levels) - 1} levels needs as "
                f"many RBMs, got {len(stack)}"
            )
        for k, (W, a) in enumerate(stack, start=1):
            n, m = (L // block ** (k - 1)) ** 2, (L // block**k) ** 2
            if W.shape != (n, m) or a.shape != (n,):
                raise ScoreInputError(
                    f"the RBM of level {k} has W {W.shape} and a {a.shape}, "
                    f"level {k} needs ({n}, {m}) and ({n},)"
                )
    return LevelsPlan(
        mode,
        source_id,
        source_kind,
        checked,
        rule,
        int(block),
        stack,
        list(rbm_ids),
        list(data_ids),
        list(inputs) or [source_id],
    )


def training_plan(
    checkpoints: Sequence[Checkpoint],
    data: np.ndarray,
    size: int,
    source_id: str = "",
    data_ids: Sequence[str] = (),
    inputs: Sequence[str] = (),
) -> TrainingPlan:
    """A :class:`TrainingPlan` from checkpoints (epoch, W, a, b) and (M, L, L) or (M, L²) data."""
    what = f"run '{source_id}'" if source_id else "the training"
    if len(checkpoints) < 2:
        raise ScoreInputError(
            f"{what} has {len(checkpoints)} checkpoint(s): a line shape "
            "needs at least two (train with --checkpoint-every)"
        )
    v = np.asarray(data)
    if v.ndim < 2 or v.shape[0] < 2 or int(np.prod(v.shape[1:])) != size * size:
        raise ScoreInputError(
            f"{what}: the data must hold at least 2 configurations of "
            f"{size}×{size} spins, got shape {v.shape}"
        )
    v = v.reshape(v.shape[0], size, size)
    if not np.all(np.abs(v) == 1):
        raise ScoreInputError(f"{what}: the data hold values other than ±1")
    n = size * size
    epochs = []
    for epoch, W, a, b in checkpoints:
        if (
            a is None
            or b is None
            or np.shape(W)[0] != n
            or np.shape(a) != (n,)
            or np.shape(b) != (np.shape(W)[1],)
        ):
            raise ScoreInputError(
                f"{what}: the checkpoint of epoch {epoch} has W "
                f"{np.shape(W)} and no matching biases for L = {size}"
            )
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise ScoreInputError(f"{what}: the checkpoint of epoch {epoch} is not finite")
        epochs.append(int(epoch))
    if any(e2 <= e1 for e1, e2 in zip(epochs, epochs[1:], strict=False)):
        raise ScoreInputError(f"{what}: the checkpoints' epochs must increase, got {epochs}")
    return TrainingPlan(
        source_id,
        list(checkpoints),
        v.astype(np.int8),
        int(size),
        list(data_ids),
        list(inputs) or [source_id, *data_ids],
    )


# ---------------------------------------------------------------------------- from runs
def _get(runs: Mapping[str, RunRecord], run_id: str, what: str) -> RunRecord:
    run = runs.get(run_id)
    if run is None:
        raise ScoreInputError(f"{what} '{run_id}' is not in the session")
    return run


def _samples(run: RunRecord) -> np.ndarray:
    samples = run.datasets.get("samples")
    if samples is None or samples.ndim != 3 or samples.shape[0] < 2:
        raise ScoreInputError(f"run '{run.id}' has no recorded configurations")
    return samples


def _rg_mode(view: RGRunView) -> str:
    if view.mode == "rbm-flow":
        return "rbm-flow"
    if view.rule in ("majority", "decimation"):
        return "block-spin"
    if view.rule == "rbm":
        return "stack"
    raise ScoreInputError(f"run '{view.id}' has the unknown rule '{view.rule}'")


def _rg_levels(view: RGRunView, runs: Mapping[str, RunRecord]) -> list[np.ndarray]:
    data = _samples(_get(runs, view.data_id, f"the data of run '{view.id}',"))
    levels = [data]
    for level in view.levels:
        if level.samples is None:
            raise ScoreInputError(f"run '{view.id}' has no configurations at level {level.index}")
        if level.samples.shape[0] != data.shape[0]:
            raise ScoreInputError(
                f"run '{view.id}' has {level.samples.shape[0]} samples at "
                f"level {level.index}, its data '{view.data_id}' "
                f"{data.shape[0]}"
            )
        levels.append(level.samples)
    if len(levels) < 2:
        raise ScoreInputError(f"run '{view.id}' has no levels")
    return levels


def _stack(view: RGRunView, runs: Mapping[str, RunRecord]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for rbm_id in view.rbm_ids:
        rbm = RBMRunView(_get(runs, rbm_id, f"the RBM of run '{view.id}',"))
        if rbm.weights is None or rbm.visible_bias is None:
            raise ScoreInputError(f"run '{rbm_id}' has no parameters W, a")
        out.append((rbm.weights, rbm.visible_bias))
    return out


def _rg_group(view: RGRunView, runs: Mapping[str, RunRecord]) -> tuple[str, float, list]:
    T = view.temperature
    label = f"T = {T:.4g}" if math.isfinite(T) else view.id
    return label, T, _rg_levels(view, runs)


def plan_from_run(run_id: str, runs: Mapping[str, RunRecord]) -> Plan:
    """The plan scoring the run ``run_id`` (kind rg-flow, rg or rbm) of ``runs``."""
    run = runs.get(run_id)
    if run is None:
        known = ", ".join(r.id for r in runs.values() if r.kind in SOURCE_KINDS) or "none"
        raise ScoreInputError(
            f"no run '{run_id}' in the session (runs that can be scored: {known})"
        )
    if run.kind == "rbm":
        return _training_from_run(run, runs)
    if run.kind == "rg":
        view = RGRunView(run)
        mode = _rg_mode(view)
        rg_views = [view]
    elif run.kind == "rg-flow":
        flow = RGFlowRunView(run)
        rg_views = [RGRunView(_get(runs, i, f"the rg run of '{run_id}',")) for i in flow.rg_ids]
        if not rg_views:
            raise ScoreInputError(f"run '{run_id}' has no temperature done")
        modes = {_rg_mode(v) for v in rg_views}
        if len(modes) != 1:
            raise ScoreInputError(f"run '{run_id}' mixes rules ({', '.join(sorted(modes))})")
        mode = modes.pop()
    else:
        raise ScoreInputError(
            f"run '{run_id}' is of kind '{run.kind}': score an rg-flow, rg or rbm run"
        )
    first = rg_views[0]
    rbms = _stack(first, runs) if mode == "stack" else []
    for v in rg_views[1:]:
        if v.rbm_ids != first.rbm_ids and mode == "stack":
            raise ScoreInputError(f"the rg runs of '{run_id}' use different stacks")
    groups = [_rg_group(v, runs) for v in rg_views]
    data_ids = [v.data_id for v in rg_views]
    rbm_ids = list(first.rbm_ids)
    inputs = (
        [run_id] + ([v.id for v in rg_views] if run.kind == "rg-flow" else []) + data_ids + rbm_ids
    )
    return levels_plan(
        mode,
        groups,
        block=1 if mode == "rbm-flow" else first.block,
        rbms=rbms,
        source_id=run_id,
        source_kind=run.kind,
        rule=first.rule,
        rbm_ids=rbm_ids,
        data_ids=data_ids,
        inputs=list(dict.fromkeys(inputs)),
    )


def _training_from_run(run: RunRecord, runs: Mapping[str, RunRecord]) -> TrainingPlan:
    view = RBMRunView(run)
    if not view.data_ids:
        raise ScoreInputError(f"run '{run.id}' records no training data")
    data = [_samples(_get(runs, i, f"the data of run '{run.id}',")) for i in view.data_ids]
    if len({d.shape[1:] for d in data}) != 1:
        raise ScoreInputError(f"the data of run '{run.id}' mix lattice sizes")
    pooled = np.concatenate(data)
    if pooled.shape[1] != view.size:
        raise ScoreInputError(
            f"the data have L = {pooled.shape[1]}, the RBM '{run.id}' L = {view.size}"
        )
    return training_plan(
        view.checkpoints, pooled, view.size, run.id, list(view.data_ids), [run.id, *view.data_ids]
    )


def scorable(run: RunRecord) -> bool:
    """True for a run of a kind that can be scored (whether its inputs fit is told by
    :func:`plan_from_run`)."""
    if run.kind == "rbm":
        return "checkpoints/epoch" in run.datasets and len(run.datasets["checkpoints/epoch"]) > 1
    return run.kind in ("rg", "rg-flow")
