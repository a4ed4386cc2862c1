"""Stacked RBMs as an iterated coarse-graining (Mehta & Schwab 2014), trained greedily.

Every level is "an RBM with m = (L_k/b)² hidden units trained on L_k x L_k lattices": its hidden
units are matched one to one to the b x b blocks (:func:`engines.rg.match_units_to_blocks`) and
oriented (:func:`engines.rg.unit_orientations`), so a hidden sample is drawn as an
(L_k/b) x (L_k/b) lattice of ±1 block spins, and that lattice is the visible layer of level
k + 1. Coarse-graining with a stack is therefore the one-level procedure applied repeatedly
(1600 → 400 → 100 units for L = 40, b = 2, as in Mehta & Schwab).

Locality: a level is drawn as a lattice only when its units are local. The *matched share* of a
unit is the fraction of its squared weight Σ w² on the block it is matched to (1 for a unit that
sees only its block, b²/L² for weights spread evenly); a level whose mean matched share is below
``min_share`` (default :data:`MIN_BLOCK_SHARE`) is refused with a ValueError giving the numbers,
rather than drawing units that summarize the whole lattice as if they were block spins.

Initialization of the greedy trainer: hidden unit j starts with the weight ``block_init`` on the
b² spins of block j (plus the trainer's usual N(0, 0.01²) noise), visible biases
``atanh(⟨v_i⟩)`` as in :meth:`engines.rbm.RBM.random`, hidden biases 0; ``block_init = 0`` gives
the trainer's plain random initialization. Measured (L = 8, m = 16, 1500 Wolff samples pooled
from T = 1.8, 2.27, 2.8, 20 epochs of the default CD-1, no L1): from the random initialization
the mean matched share is 0.14 (chance: 1/16); from ``block_init = 1`` it is still 0.81 after
training. So with plain maximum likelihood locality is *kept* by training, not discovered by it.
It is discovered from a random start with L1 on the weights and a learning rate suited to the
number of visible units (lr ≈ 5 / n_visible): L = 40 at T_c, 1600-400-100, L1 = 0.01,
constant lr 0.003 then 0.01, 60 and 30 epochs: matched shares 0.62 and 0.62
(:mod:`engines.rg.reproductions`, where the measurements are listed).

Every setting of the trainer is per level: ``train_stack`` takes one :class:`engines.rbm.
RBMConfig` per level (:func:`per_level_configs` builds them from one base config and per-level
values), and ``block_init`` per level too.

Randomness: the hidden samples of level k are drawn with ``SeedSequence([seed, k])`` (as the
tie-breaks of :func:`engines.rg.coarse_grain`), and level k is trained with the configuration's
seed plus k - 1, so equal inputs and seeds give equal stacks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from engines.rbm import RBM, RBMConfig, RBMTrainer
from engines.rg.locality_rule import MIN_BLOCK_SHARE
from engines.rg.rbm_coarse import (
    hidden_lattice,
    hidden_samples,
    match_units_to_blocks,
    unit_orientations,
)

INIT_NOISE = 0.01  # std of the Gaussian noise on the block-local initial weights


def _lattice_size(samples: np.ndarray) -> int:
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Samples must have shape (N, L, L), got {samples.shape}.")
    return int(samples.shape[1])


def matched_shares(W, assignment, L: int, b: int) -> np.ndarray:
    """(m,) share of each unit's squared weight on the block it is assigned to (NaN if W_j = 0)."""
    k = L // b
    W = np.asarray(W, dtype=np.float64)
    squares = W.reshape(k, b, k, b, W.shape[1]) ** 2
    per_block = squares.sum(axis=(1, 3)).reshape(k * k, W.shape[1])
    total = per_block.sum(axis=0)
    on_block = per_block[np.asarray(assignment), np.arange(W.shape[1])]
    with np.errstate(invalid="ignore", divide="ignore"):
        return on_block / total


def rbm_level(
    W, b, samples: np.ndarray, block: int, seed=0, min_share: float = MIN_BLOCK_SHARE
) -> tuple[np.ndarray, np.ndarray]:
    """One RBM level: (N, L, L) ±1 -> ((N, L/b, L/b) int8 ±1 block spins, (m,) matched shares).

    Hidden units are matched to blocks, sampled given each configuration
    (:func:`engines.rg.hidden_samples` with ``seed``) and oriented, so that a unit with negative
    weights on its block stands for the block spin -1 when it fires. Raises ValueError when
    m != (L/b)² or when the mean matched share is below ``min_share`` (0 accepts any RBM).
    """
    L = _lattice_size(samples)
    W = np.asarray(W, dtype=np.float64)
    assignment = match_units_to_blocks(W, L, block)
    shares = matched_shares(W, assignment, L, block)
    mean = float(np.mean(shares)) if np.all(np.isfinite(shares)) else math.nan
    if not mean >= min_share:
        raise ValueError(
            f"The RBM's hidden units are not local enough to be drawn as the coarse lattice: "
            f"mean share of squared weight on the matched {block}x{block} block {mean:.3f} "
            f"(lowest unit {np.nanmin(shares):.3f}; 1 = block-local, {block**2 / L**2:.3f} = "
            f"spread evenly over L = {L}), below the required {min_share:g}."
        )
    k = L // block
    hidden = hidden_samples(W, b, samples, seed)
    orientation = np.empty(k * k, dtype=np.int8)
    orientation[assignment] = unit_orientations(W, assignment, L, block)
    lattice = hidden_lattice(hidden, assignment, L, block) * orientation.reshape(k, k)
    return lattice.astype(np.int8), shares


def coarse_grain_stack(
    samples: np.ndarray,
    rbms: Sequence[tuple[np.ndarray, np.ndarray]],
    block: int,
    seed: int = 0,
    min_share: float = MIN_BLOCK_SHARE,
) -> tuple[list[np.ndarray], list]:
    """Coarse-grain through a stack of RBMs ``[(W_1, b_1), (W_2, b_2), ...]``.

    Level k's RBM has (L/b^(k-1))² visible and (L/b^k)² hidden units. Returns
    ``([level 0 = input (int8), level 1, ...], [matched shares of level 1, ...])``; level k's
    hidden samples come from ``SeedSequence([seed, k])``. ValueError if a level does not fit
    or is not local enough (:func:`rbm_level`).
    """
    if not rbms:
        raise ValueError("The stack needs at least one RBM.")
    levels = [np.asarray(samples).astype(np.int8)]
    shares = []
    for k, (W, b) in enumerate(rbms, start=1):
        try:
            lattice, share = rbm_level(
                W, b, levels[-1], block, np.random.SeedSequence([int(seed), k]), min_share
            )
        except ValueError as exc:
            raise ValueError(f"Level {k}: {exc}") from None
        levels.append(lattice)
        shares.append(share)
    return levels, shares


def block_local_rbm(
    data: np.ndarray, L: int, block: int, weight: float, generator: torch.Generator
) -> RBM:
    """The initial RBM of a level: unit j on block j (row-major) with ``weight`` (module doc).

    ``data`` is (N, L²) ±1; the weights are ``weight`` on the block plus N(0, INIT_NOISE²)
    noise drawn from ``generator``.
    """
    if L % block:
        raise ValueError(f"The lattice size L = {L} is not divisible by the block size {block}.")
    k = L // block
    fields = np.zeros((k, block, k, block, k, k))
    for i in range(k):
        for j in range(k):
            fields[i, :, j, :, i, j] = weight
    noise = torch.randn(L * L, k * k, generator=generator, dtype=torch.float64).numpy()
    W = fields.reshape(L * L, k * k) + INIT_NOISE * noise
    mean = np.clip(np.asarray(data).mean(axis=0, dtype=np.float64), -1 + 1e-3, 1 - 1e-3)
    return RBM(W, np.arctanh(mean), np.zeros(k * k), dtype=torch.float32)


def level_trainer(
    lattices: np.ndarray, block: int, config: RBMConfig, level: int, block_init: float = 1.0
) -> RBMTrainer:
    """The trainer of stack level ``level`` (1, 2, ...) on (N, L, L) ±1 lattices.

    Its configuration is ``config`` with n_hidden = (L/b)² and seed ``config.seed + level - 1``;
    the model starts block-local (:func:`block_local_rbm`) unless ``block_init`` is 0, which
    leaves the trainer's random initialization. Every other setting of ``config`` (method, k,
    optimizer, learning rate and schedule, L1, L2, epochs, batch size, centering, ...) is the
    level's own.
    """
    L = _lattice_size(lattices)
    if L % block or L // block < 1:
        raise ValueError(f"Level {level}: L = {L} is not divisible by the block size {block}.")
    m = (L // block) ** 2
    config = replace(config, n_hidden=m, seed=config.seed + level - 1)
    data = np.asarray(lattices).reshape(len(lattices), L * L)
    if block_init == 0:
        return RBMTrainer(config, data)
    generator = torch.Generator().manual_seed(config.seed)
    return RBMTrainer(config, data, model=block_local_rbm(data, L, block, block_init, generator))


def per_level_configs(config: RBMConfig, levels: int, **options: Any) -> list[RBMConfig]:
    """One RBMConfig per stack level: ``config`` with each option set per level.

    Each keyword is an :class:`engines.rbm.RBMConfig` field; its value is either one value for
    every level or a sequence of ``levels`` values, level 1 first (a str counts as one value),
    e.g. ``per_level_configs(base, 2, l1=[0.01, 0.005], epochs=60)``. ValueError for an unknown
    field or a sequence of the wrong length; each config is validated.
    """
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}.")
    fields = RBMConfig.__dataclass_fields__
    out: list[dict[str, Any]] = [{} for _ in range(levels)]  # checked by validate() below
    for name, value in options.items():
        if name not in fields:
            raise ValueError(f"Unknown RBMConfig setting {name!r}.")
        if isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) != levels:
                raise ValueError(f"{name}: {len(value)} values for {levels} levels.")
            values = list(value)
        else:
            values = [value] * levels
        for k in range(levels):
            out[k][name] = values[k]
    configs = [replace(config, **o) for o in out]
    for c in configs:
        c.validate()
    return configs


def _per_level(value, levels: int, name: str) -> list:
    """``value`` repeated ``levels`` times, or the sequence itself if it has that length."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != levels:
            raise ValueError(f"{name}: {len(value)} values given for {levels} levels.")
        return list(value)
    return [value] * levels


LevelCallback = Callable[[int, RBMTrainer], None]
"""Called as ``callback(level, trainer)`` after every epoch of every level (progress, logging);
it must not change the trainer."""


def train_level(
    trainer: RBMTrainer, level: int = 1, callback: LevelCallback | None = None
) -> RBMTrainer:
    """Drive ``trainer`` to its last epoch, calling ``callback(level, trainer)`` per epoch."""
    while not trainer.finished:
        trainer.step_batch()
        if callback is not None and trainer.batch_in_epoch == 0:
            callback(level, trainer)
    return trainer


def train_with_l1_warmup(
    trainer: RBMTrainer, warmup_epochs: int, level: int = 1, callback: LevelCallback | None = None
) -> RBMTrainer:
    """Train with L1 switched off for the first ``warmup_epochs`` epochs, then as configured.

    ``trainer`` is a fresh trainer (its config says the L1 and the epochs of the second phase).
    The warm-up is a trainer with the same config but ``l1 = 0`` and ``epochs = warmup_epochs``
    on the same data and initial model; the second phase is a new trainer of ``trainer``'s
    config starting from the warmed-up parameters (its optimizer and learning-rate schedule
    start afresh, and its validation split is the same, being drawn from the same seed).
    Returns the trainer of the last phase, finished; ``warmup_epochs = 0`` just trains
    ``trainer``. The idea: with L1 from the start some units might localize on the same block
    before the likelihood has spread them over the lattice. Measured (Combe §4.1, module doc of
    :mod:`engines.rg.reproductions`), it does not reliably help; it is here to be tried.
    """
    if (
        isinstance(warmup_epochs, bool)
        or not isinstance(warmup_epochs, (int, np.integer))
        or warmup_epochs < 0
    ):
        raise ValueError(f"warmup_epochs must be an integer >= 0, got {warmup_epochs!r}.")
    if warmup_epochs == 0:
        return train_level(trainer, level, callback)
    config = trainer.config
    data = trainer.train_data
    validation = trainer.validation_data
    warm = RBMTrainer(
        replace(config, l1=0.0, epochs=int(warmup_epochs)), data, validation, model=trainer.model
    )
    train_level(warm, level, callback)
    final = RBMTrainer(config, data, validation, model=warm.model)
    return train_level(final, level, callback)


def train_stack(
    samples: np.ndarray,
    levels: int,
    block: int,
    config: RBMConfig | Sequence[RBMConfig],
    block_init: float | Sequence[float] = 1.0,
    seed: int = 0,
    min_share: float = MIN_BLOCK_SHARE,
    callback: LevelCallback | None = None,
    l1_warmup: int | Sequence[int] = 0,
) -> tuple[list[RBM], list[np.ndarray]]:
    """Train ``levels`` RBMs greedily, each on the hidden lattices of the one below.

    ``config`` is one RBMConfig for every level or a sequence of one per level (level 1 first;
    :func:`per_level_configs` builds it), and so is ``block_init`` (0 = the trainer's random
    initialization), and ``l1_warmup`` (epochs without L1 before the configured training,
    :func:`train_with_l1_warmup`). Level k uses its config with n_hidden = (L/b^k)² and seed
    ``config.seed + k - 1`` (:func:`level_trainer`). Returns ``(models, [level 0 = samples,
    level 1, ..., level levels])`` where level k is drawn by model k with
    ``SeedSequence([seed, k])``, exactly as :func:`coarse_grain_stack` draws it. ValueError if
    L is not divisible by b^levels or a trained level's mean matched share is below
    ``min_share`` (then nothing above it can be trained; 0 accepts any level).
    """
    L = _lattice_size(samples)
    if levels < 1 or L % block**levels:
        raise ValueError(
            f"{levels} levels of blocks b = {block} need L divisible by b^{levels}, got L = {L}."
        )
    configs = _per_level(config, levels, "config")
    inits = _per_level(block_init, levels, "block_init")
    warmups = _per_level(l1_warmup, levels, "l1_warmup")
    for c in configs:
        if not isinstance(c, RBMConfig):
            raise ValueError(f"config must be an RBMConfig or a sequence of them, got {c!r}.")
    models: list[RBM] = []
    lattices = [np.asarray(samples).astype(np.int8)]
    for k in range(1, levels + 1):
        trainer = level_trainer(lattices[-1], block, configs[k - 1], k, inits[k - 1])
        trainer = train_with_l1_warmup(trainer, warmups[k - 1], k, callback)
        params = trainer.model.to_numpy()
        try:
            lattice, _ = rbm_level(
                params["W"],
                params["b"],
                lattices[-1],
                block,
                np.random.SeedSequence([int(seed), k]),
                min_share,
            )
        except ValueError as exc:
            raise ValueError(f"Level {k}: {exc}") from None
        models.append(trainer.model)
        lattices.append(lattice)
    return models, lattices
