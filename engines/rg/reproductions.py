"""The RG reproductions as engine functions: plain arrays in, plain dicts of numbers and arrays out.

Three experiments (the papers, their claims and the lab's earlier numbers are in the project's
REPRODUCTIONS notes):

* :func:`mehta_schwab`: Mehta & Schwab (2014), a stack of RBMs trained greedily on critical
  configurations *from a random start* with L1 on the weights; does each level's hidden layer
  tile the lattice with block-like receptive fields? Reported by the matched share
  (:func:`engines.rg.matched_locality`) of every level, and for levels >= 2 also of the
  *composite* receptive fields on the original lattice (the level's weights pulled back through
  the levels below, as Mehta & Schwab draw them) against blocks of side b^k.
* :func:`combe_example`: Combe §4.1, L = 4 at T_c with four hidden units, over many seeds: is
  each unit a 2 x 2 block, and are all four blocks covered?
* :func:`rbm_flow_experiment`: Iso, Shiba & Yokoo (2018) in the setting of Veiga & Vicente
  (2020): one RBM trained on 25 temperatures pooled, then the flow v -> h -> v' from several
  starting temperatures, read by the energy, magnetization and Binder thermometers
  (:mod:`engines.rg.thermometry`), next to the readings of the RBM's own equilibrium (where the
  flow must end) and of the pooled training data (what that equilibrium approximates).

:func:`run_reproduction` draws the data (Wolff, :func:`wolff_samples`) and runs one of them with
the settings of :data:`PRESETS` (``quick=True``: a scaled-down version for tests, well under a
minute). Each preset records the settings found by measurement; the figures quoted below were
measured on the project's shared 2-core machine (load average 2-7) with ``torch`` on one thread.

What makes locality emerge (measured; one level, random start, CD-1, momentum 0.9, L1 on W):

* **L1 is necessary**: without it the units stay spread (L = 8 at T_c, lr 0.03, 100 epochs:
  matched share 0.27-0.32 over 3 seeds; with L1 = 0.01: 0.65-0.72). 0.01 is the sweet spot at
  every size tried (L = 8, lr 0.03, 30 epochs: 0.43-0.56 at L1 = 0.003, 0.60-0.66 at 0.01,
  0.57-0.60 at 0.03, where some units die: all their weights driven to 0).
* **the learning rate must shrink with the number of visible units**, roughly lr ≈ 5 / n_visible
  for momentum SGD with μ = 0.9: the change of a hidden input per update grows with n. With too
  large a step the hidden biases run away negative and the units die (L = 40, lr 0.03: mean
  hidden bias -9.6 and matched share 0.08 after 20 epochs; lr 0.01: bias -3.4, share 0.27;
  lr 0.003: bias -0.57, share 0.57 after 40 epochs). Too small a step only slows it down
  (L = 8, lr 0.003, 30 epochs: 0.17-0.20). Constant rates reach a given share in fewer epochs
  than the linear decay to 0 (L = 8, lr 0.01, 30 epochs: 0.53-0.61 against 0.48-0.51).
* **training long enough**: the share rises for tens of epochs (L = 40, lr 0.003: 0.22 at epoch
  4, 0.46 at 16, 0.57 at 40).
* what did not help: a sparsity target on the hidden activations (a bias update towards a mean
  activation q: q = 0.1 gives 0.13-0.17, q = 0.3 gives 0.31-0.35, against 0.48-0.51 without, L = 8,
  30 epochs), negative initial hidden biases (b = -2: 0.34-0.43; b = -4: 0.18-0.20), weight decay
  L2 = 0.001 (no change), centering (no gain), Adam (0.26-0.32 at lr 0.003), PCD instead of CD
  (no gain), a proximal (soft-threshold) L1 instead of the subgradient one (the same within the
  seed spread at equal strength, worse at twice it), an L1 strength decaying to 0 (no gain).
  The J = 0.408 of Mehta & Schwab (T = 2.451, slightly above T_c, shorter correlation length)
  makes units a little more local than T_c (L = 8, lr 0.01, 100 epochs, 3 seeds: 0.68-0.73
  against 0.63-0.69; L = 40 level 1 after 10 epochs: 0.54 against 0.40).

Why the matched share saturates near 0.7, and why some units share a block. An RBM whose units
are *exactly* block-local factorizes over the blocks: F(v) = -a·v - Σ_j softplus(b_j + W_jᵀv)
is then a sum of one term per block, so p(v) is a product over blocks and carries no correlation
at all between blocks. Critical configurations are strongly correlated from block to block, so
maximum likelihood pulls every unit's field over the neighbouring blocks and L1 pulls it in; the
compromise is a compact field of about 3 x 3 sites centred on one site (the effective number of
sites falls to 4-5), whose share on its own aligned 2 x 2 block is about 0.7. At L = 4 with four
units the inter-block correlation is the whole lattice, and in some seeds two units end up on
one block while a block is left to a weak or dead unit.

Measured with the presets (:data:`PRESETS`, ``run_reproduction``; shared 2-core machine, load
average 2-5 with two runs at a time, torch on one thread):

* Mehta–Schwab, L = 40 at T_c, random start, 20 000 Wolff samples, seeds 0, 1, 2: level 1
  (1600 -> 400) matched share 0.625, 0.615, 0.616 (chance 0.0025; 84-86 % of the units >= 0.5;
  354-360 of 400 distinct best blocks), level 2 (400 -> 100) 0.616, 0.589, 0.577 (chance 0.01),
  composite fields of level 2 against the 4 x 4 blocks of the original lattice 0.549, 0.548,
  0.517. Training wall time 111-219 s for both levels (level 1 about 96 %). At J = 0.408
  (T = 2.451, Mehta & Schwab's own coupling), seed 0: 0.643 and 0.572.
* L = 16 (256 -> 64 -> 16) at T_c, the quick preset (5000 samples, lr 0.03 constant, 30 and 60
  epochs): 0.551 and 0.626 (composite 0.55), in about 7 s with the data.
* Combe §4.1, L = 4 at T_c, 10 seeds of the full preset (the trainer's defaults with L1 = 0.01
  and 300 epochs), on two data sets (``run_reproduction`` seeds 0 and 1): mean matched share
  0.63 ± 0.11 and 0.71 ± 0.06 on the aligned grid, all four blocks covered in 6 and 9 of 10 seeds,
  matched share >= 0.5 in 8 and 10 of 10; on the best of the four grid offsets 0.72 ± 0.08 and
  0.72 ± 0.06, covered in 7 and 9 of 10, >= 0.5 in 10 and 10. Without L1: 0.42 ± 0.06, covered
  in 1 of 10 after 100 epochs; with 400 epochs the best-block share reaches 0.72 on average but
  no seed covers all four blocks (the units pile onto the same blocks). On the first data set
  most seeds tile the torus on the grid shifted by one row (offset (1, 0)), a preference of the
  finite sample shared by every seed trained on it. L1 switched off for the first 100 epochs
  (then 200 with it, :func:`engines.rg.train_with_l1_warmup`) covered all blocks on the best
  offset in 10 of 10 seeds on the first data set but 7 of 10 on the second: no better than the
  plain preset within the seed-to-seed spread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import torch

from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBMConfig, RBMTrainer, sample_model
from engines.rg.rbm_coarse import match_units_to_blocks, matched_locality, unit_orientations
from engines.rg.rbm_flow import flow_thermometry
from engines.rg.reproduction_presets import (  # noqa: F401 (re-exported)
    LOCAL_SHARE,
    PRESETS,
    REPRODUCTIONS,
    T_C,
    VEIGA_TEMPERATURES,
)
from engines.rg.stack import per_level_configs, train_level, train_stack, train_with_l1_warmup
from engines.rg.thermometry import thermometry


def wolff_samples(
    size: int,
    temperature: float,
    n_samples: int,
    seed: int = 0,
    J: float = 1.0,
    thermalize: int = 500,
    interval: int = 2,
) -> np.ndarray:
    """(n_samples, size, size) int8 Wolff configurations of the Ising torus, in time order.

    ``thermalize`` sweeps first (which also calibrate the sweep length, see
    :mod:`engines.ising.simulation`), then one configuration every ``interval`` sweeps.
    """
    sim = IsingSimulation(
        IsingParams(size, float(temperature), coupling=float(J), algorithm="wolff", seed=int(seed))
    )
    sim.thermalize(int(thermalize))
    out = np.empty((int(n_samples), size, size), dtype=np.int8)
    for i in range(int(n_samples)):
        sim.sweep(int(interval))
        out[i] = sim.spins
    return out


def _locality_summary(W: np.ndarray, L: int, b: int) -> dict:
    """matched_locality on the aligned grid, its fraction of local units, and under
    ``"any_offset"`` the same on the best of the b² shifted grids."""
    loc = matched_locality(W, L, b)
    loc["fraction_local"] = float(np.mean(loc["matched_share"] >= LOCAL_SHARE))
    shifted = matched_locality(W, L, b, "best")
    shifted["fraction_local"] = float(np.mean(shifted["matched_share"] >= LOCAL_SHARE))
    loc["any_offset"] = shifted
    return loc


def composite_fields(weights: Sequence[np.ndarray], size: int, block: int) -> list[np.ndarray]:
    """The receptive fields of every level of a stack on the original size x size lattice.

    ``weights[k]`` is level k+1's W. Level 1's fields are its W. Level k's unit j is pulled back
    through the level below: ``F_k[:, j] = Σ_s W_k[s, j] · o(s) · F_{k-1}[:, u(s)]``, where u(s)
    is the unit of level k-1 matched to coarse site s and o(s) its orientation
    (:func:`engines.rg.unit_orientations`), exactly the way the stack draws the coarse lattice.
    This is the linear response of the level to the original spins, the picture of Mehta &
    Schwab's Fig. 4. Returns one (size², m_k) array per level.
    """
    fields = [np.asarray(weights[0], dtype=np.float64)]
    L = size
    for W in weights[1:]:
        below = np.asarray(fields[-1])
        W_prev = np.asarray(weights[len(fields) - 1], dtype=np.float64)
        assignment = match_units_to_blocks(W_prev, L, block)
        orientation = unit_orientations(W_prev, assignment, L, block).astype(np.float64)
        unit_at = np.empty_like(assignment)
        unit_at[assignment] = np.arange(assignment.size)  # coarse site -> unit of the level below
        pulled = below[:, unit_at] * orientation[unit_at]  # column s: the unit drawn at site s
        fields.append(pulled @ np.asarray(W, dtype=np.float64))
        L //= block
    return fields


def mehta_schwab(
    samples: np.ndarray,
    configs: Sequence[RBMConfig],
    block: int = 2,
    seed: int = 0,
    callback: Callable | None = None,
    l1_warmup: int | Sequence[int] = 0,
) -> dict:
    """Greedy stack from a random start on (N, L, L) ±1 ``samples``; locality of every level.

    ``configs`` holds one :class:`engines.rbm.RBMConfig` per level (n_hidden is set per level;
    :func:`engines.rg.per_level_configs` builds them). Every level starts from the trainer's
    random initialization (no block-local start) and is kept whatever its locality, so that it
    can be measured. Returns ``{"size", "block", "n_samples", "levels": [...], "all_levels_local",
    "seconds"}`` where each level's dict is :func:`engines.rg.matched_locality`'s plus
    ``"level"``, ``"n_visible"``, ``"fraction_local"`` (units with matched share >= 0.5),
    ``"seconds"`` (training wall time), ``"config"`` (dict), ``"any_offset"`` (the same on the
    best shifted block grid) and, for levels >= 2, ``"composite"``: the matched locality of the
    composite fields (:func:`composite_fields`) against blocks of side b^k on the original
    lattice. ``callback(level, trainer)`` is called after every epoch.
    """
    samples = np.asarray(samples)
    L = int(samples.shape[1])
    levels = len(configs)
    t0 = time.perf_counter()
    finished = {0: t0}  # level -> when its last training phase finished

    def timed(level: int, trainer: RBMTrainer) -> None:
        if trainer.finished:
            finished[level] = time.perf_counter()
        if callback is not None:
            callback(level, trainer)

    models, _ = train_stack(
        samples,
        levels,
        block,
        list(configs),
        block_init=0.0,
        seed=seed,
        min_share=0.0,
        callback=timed,
        l1_warmup=l1_warmup,
    )
    stamps = [finished[k] - finished[k - 1] for k in range(1, levels + 1)]
    weights = [m.to_numpy()["W"].astype(np.float64) for m in models]
    composite = composite_fields(weights, L, block)
    out_levels = []
    Lk = L
    for k, W in enumerate(weights, start=1):
        summary = _locality_summary(W, Lk, block)
        used = replace(configs[k - 1], n_hidden=int(W.shape[1]), seed=configs[k - 1].seed + k - 1)
        summary.update(
            level=k, n_visible=int(W.shape[0]), seconds=float(stamps[k - 1]), config=used.to_dict()
        )
        if k >= 2:
            summary["composite"] = _locality_summary(composite[k - 1], L, block**k)
        out_levels.append(summary)
        Lk //= block
    return {
        "size": L,
        "block": int(block),
        "n_samples": int(samples.shape[0]),
        "levels": out_levels,
        "weights": weights,
        "composite_fields": composite,
        "all_levels_local": all(lv["mean_matched_share"] >= LOCAL_SHARE for lv in out_levels),
        "seconds": float(time.perf_counter() - t0),
    }


def combe_example(
    samples: np.ndarray,
    config: RBMConfig,
    seeds: Sequence[int],
    block: int = 2,
    l1_warmup: int = 0,
    callback: Callable | None = None,
) -> dict:
    """Combe §4.1: one RBM with (L/b)² hidden units per seed on (N, L, L) ±1 ``samples``.

    Each seed trains ``config`` (n_hidden and seed set), after ``l1_warmup`` epochs without L1
    when that is > 0 (:func:`engines.rg.train_with_l1_warmup`).

    Returns ``{"per_seed": [...], "mean_matched_share", "std_matched_share",
    "seeds_all_blocks_covered", "seeds_local", "n_seeds", "seconds", "any_offset"}``; each
    seed's dict is :func:`engines.rg.matched_locality`'s on the aligned grid plus ``"seed"``,
    ``"fraction_local"``, the held-out NLL when the trainer reports one (``"nll_valid"``, exact
    for L = 4) and ``"any_offset"``: the same on the best of the b² shifted block grids (units
    that tile the torus on a shifted grid are as block-like) and ``"weights"`` (W, to draw).
    The top-level ``"any_offset"`` holds the same summary numbers for the shifted grids.
    ``callback(level, trainer)`` is called after every epoch of every seed.
    """
    samples = np.asarray(samples)
    L = int(samples.shape[1])
    data = samples.reshape(len(samples), L * L)
    m = (L // block) ** 2
    t0 = time.perf_counter()
    per_seed = []
    for s in seeds:
        trainer = train_with_l1_warmup(
            RBMTrainer(replace(config, n_hidden=m, seed=int(s)), data),
            int(l1_warmup),
            callback=callback,
        )
        W = trainer.model.to_numpy()["W"].astype(np.float64)
        summary = _locality_summary(W, L, block)
        summary["seed"] = int(s)
        summary["weights"] = W
        if trainer.validation_data is not None:
            summary["nll_valid"] = float(trainer.metrics()["nll_valid"])
        per_seed.append(summary)

    def counts(rows: list[dict]) -> dict:
        shares = np.array([p["mean_matched_share"] for p in rows])
        return {
            "mean_matched_share": float(shares.mean()),
            "std_matched_share": float(shares.std(ddof=1)) if shares.size > 1 else float("nan"),
            "seeds_all_blocks_covered": int(sum(p["blocks_covered"] for p in rows)),
            "seeds_local": int(np.count_nonzero(shares >= LOCAL_SHARE)),
        }

    return {
        "per_seed": per_seed,
        **counts(per_seed),
        "any_offset": counts([p["any_offset"] for p in per_seed]),
        "n_seeds": len(per_seed),
        "seconds": float(time.perf_counter() - t0),
    }


def rbm_flow_experiment(
    train_samples: Sequence[np.ndarray],
    flow_samples: Sequence[np.ndarray],
    flow_temperatures: Sequence[float],
    config: RBMConfig,
    steps: int = 10,
    seed: int = 0,
    n_equilibrium: int = 5000,
    J: float = 1.0,
    read_steps: Sequence[int] | None = None,
    callback: Callable | None = None,
) -> dict:
    """Iso–Shiba–Yokoo flow with three thermometers, where it ends, and what it approximates.

    One RBM (``config``) is trained on all of ``train_samples`` pooled (one (N_i, L, L) array
    per training temperature); ``flow_samples[i]``, fresh configurations at
    ``flow_temperatures[i]``, are flowed ``steps`` steps and read at ``read_steps`` (default
    every step; :func:`engines.rg.rbm_flow.flow_thermometry`). Returns ``{"flow", "equilibrium",
    "equilibrium_gibbs", "pooled", "summary", "config", "seconds"}``: the flow's readings per
    start and step read; the thermometry of ``n_equilibrium`` samples of the RBM's own p(v) (50
    Gibbs chains with the global flip move v -> -v, 2000 burn-in sweeps, every 10th sweep); the
    same without the flip move (``"equilibrium_gibbs"``: plain Gibbs sweeps, the flow's own
    moves, which do not cross between the two ordered sectors on these time scales, so the
    sectors keep the weights the chains fell into rather than p(v)'s; the long flows end there);
    the thermometry of the pooled training data (shuffled with ``seed``), the mixture the RBM was
    trained on; ``"model"`` (W, a, b of the trained RBM); and per start a summary of the
    readings at step 0, 1 and the last step read (T_E, T_U, their gap, the largest z-score and
    the specific-heat ratio at step 1).
    """
    t0 = time.perf_counter()
    pooled = np.concatenate([np.asarray(s) for s in train_samples])
    L = int(pooled.shape[1])
    trainer = train_level(RBMTrainer(config, pooled.reshape(len(pooled), L * L)), callback=callback)
    t_train = time.perf_counter() - t0
    generator = torch.Generator().manual_seed(int(seed))
    equilibrium, diagnostics = sample_model(
        trainer.model,
        int(n_equilibrium),
        burn_in=2000,
        thin=10,
        n_chains=50,
        generator=generator,
        flip_moves=True,
    )
    gibbs, _ = sample_model(
        trainer.model,
        int(n_equilibrium),
        burn_in=2000,
        thin=10,
        n_chains=50,
        generator=generator,
        flip_moves=False,
    )
    p = trainer.model.to_numpy()
    flow = flow_thermometry(
        p["W"],
        p["a"],
        p["b"],
        flow_samples,
        flow_temperatures,
        steps,
        seed=seed,
        J=J,
        equilibrium=equilibrium.reshape(-1, L, L),
        read_steps=read_steps,
    )
    shuffled = pooled[np.random.default_rng(seed).permutation(len(pooled))]
    mixture = thermometry(shuffled, J)
    step1 = int(np.searchsorted(flow["steps"], 1))
    has_step1 = step1 < flow["steps"].size and flow["steps"][step1] == 1
    summary = []
    for i, T in enumerate(flow["temperature"]):
        row = {"temperature": float(T), "last_step": int(flow["steps"][-1])}
        for key in ("t_energy", "t_binder", "gap"):
            row[key] = float(flow[key][i, 0])
            row[f"{key}_last"] = float(flow[key][i, -1])
            row[f"{key}_last_error"] = float(flow[f"{key}_error"][i, -1])
            if has_step1:
                row[f"{key}_step1"] = float(flow[key][i, step1])
                row[f"{key}_step1_error"] = float(flow[f"{key}_error"][i, step1])
        if has_step1:
            row["max_abs_z_step1"] = float(flow["max_abs_z"][i, step1])
            row["c_ratio_step1"] = float(flow["c_ratio"][i, step1])
        summary.append(row)
    equilibrium_reading = flow.pop("equilibrium")
    equilibrium_reading["tau_int_energy"] = float(diagnostics["tau_int_energy"])
    return {
        "size": L,
        "flow": flow,
        "equilibrium": equilibrium_reading,
        "equilibrium_gibbs": thermometry(gibbs.reshape(-1, L, L), J),
        "pooled": mixture,
        "summary": summary,
        "model": {k: np.asarray(v) for k, v in p.items()},
        "config": config.to_dict(),
        "seconds": {"train": float(t_train), "total": float(time.perf_counter() - t0)},
    }


def run_reproduction(
    name: str,
    quick: bool = False,
    seed: int = 0,
    callback: Callable | None = None,
    overrides: dict | None = None,
) -> dict:
    """Draw the data of experiment ``name`` (one of :data:`REPRODUCTIONS`) and run it.

    The settings are ``PRESETS[name]["quick" if quick else "full"]`` with the entries of
    ``overrides`` replaced (e.g. ``{"temperature": 1 / 0.408}`` for Mehta & Schwab's own
    coupling, ``{"options": {...}}`` for other training settings); the data come from
    :func:`wolff_samples` with seeds derived from ``seed``. ``callback(level, trainer)`` is called
    after every epoch of every training (it may raise to stop the experiment). Returns the
    experiment's dict plus ``"name"``, ``"quick"``, ``"preset"`` (the settings used),
    ``"seconds_data"`` and ``"data"``: every configuration set drawn, as dicts of ``"role"``,
    ``"temperature"``, ``"seed"`` (of :func:`wolff_samples`, thermalize 500, interval 2) and
    ``"samples"``.
    """
    if name not in PRESETS:
        raise ValueError(
            f"Unknown reproduction {name!r}; valid ones are {', '.join(REPRODUCTIONS)}."
        )
    preset = dict(PRESETS[name]["quick" if quick else "full"])
    unknown = set(overrides or {}) - set(preset)
    if unknown:
        raise ValueError(
            f"Unknown settings {sorted(unknown)} for {name!r}; valid ones are "
            f"{', '.join(sorted(preset))}."
        )
    preset.update(overrides or {})
    seeds = np.random.SeedSequence([int(seed), 7]).generate_state(64) % (2**31)
    t0 = time.perf_counter()
    if name == "rbm-flow":
        L = preset["size"]
        train = [
            wolff_samples(L, T, preset["per_temperature"], int(seeds[i]))
            for i, T in enumerate(preset["train_temperatures"])
        ]
        fresh = [
            wolff_samples(L, T, preset["flow_samples"], int(seeds[32 + i]))
            for i, T in enumerate(preset["flow_temperatures"])
        ]
        data = [
            {
                "role": "training",
                "temperature": float(T),
                "seed": int(seeds[i]),
                "samples": train[i],
            }
            for i, T in enumerate(preset["train_temperatures"])
        ]
        data += [
            {
                "role": "flow start",
                "temperature": float(T),
                "seed": int(seeds[32 + i]),
                "samples": fresh[i],
            }
            for i, T in enumerate(preset["flow_temperatures"])
        ]
        t_data = time.perf_counter() - t0
        config = RBMConfig(seed=int(seed), **preset["options"])
        out = rbm_flow_experiment(
            train,
            fresh,
            preset["flow_temperatures"],
            config,
            preset["steps"],
            seed=int(seed),
            n_equilibrium=preset["n_equilibrium"],
            read_steps=preset["read_steps"],
            callback=callback,
        )
    else:
        samples = wolff_samples(
            preset["size"], preset["temperature"], preset["n_samples"], int(seeds[0]), J=preset["J"]
        )
        data = [
            {
                "role": "training",
                "temperature": float(preset["temperature"]),
                "seed": int(seeds[0]),
                "samples": samples,
            }
        ]
        t_data = time.perf_counter() - t0
        if name == "mehta-schwab":
            configs = per_level_configs(
                RBMConfig(seed=int(seed)), preset["levels"], **preset["options"]
            )
            out = mehta_schwab(samples, configs, preset["block"], seed=int(seed), callback=callback)
        else:
            config = RBMConfig(**preset["options"])
            out = combe_example(
                samples,
                config,
                range(int(seed), int(seed) + preset["seeds"]),
                preset["block"],
                l1_warmup=preset["l1_warmup"],
                callback=callback,
            )
    out.update(name=name, quick=bool(quick), preset=preset, seconds_data=float(t_data), data=data)
    return out
