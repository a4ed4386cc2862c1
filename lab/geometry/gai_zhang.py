"""The ``gai-zhang`` reproduction: Gai & Zhang's line-shape and optimal-transport scores of the
lab's three coarse-grainings of the 2D Ising model, at T_c and off it.

K. Gai and S. Zhang (arXiv:2102.09235) state that "the data tracks of a ResNet tend to be
line-shaped in terms of the line-shape score, and the map learned by a ResNet is closer to the
optimal transport map in terms of the optimal transport score". This workflow asks the same of
the maps the lab learns or defines, every one scored at the same N samples per level
(:mod:`lab.geometry.score_task`, over the engine's :mod:`engines.geometry.wasserstein_scores`):

- **rbm-flow**: one RBM (L²/4 hidden units) trained on the configurations of every temperature
  pooled, then the flow v → v′ → v″ … of Iso, Shiba & Yokoo from fresh configurations of each
  temperature (LSS of each chain's track, OTS of each step);
- **majority** and **decimation**: block-spin RG with b = 2, each level's block spins repeated
  over their blocks on the original lattice (a majority level is the nearest block-constant
  configuration, so its OTS is exactly 1 by construction; decimation and the whole map
  x⁰ → x^K are not nearest-point maps);
- **stack**: two RBMs trained greedily (the lab's block-local start), read as a deep network's
  layers v → h₁ → h₂, each level embedded by the stack's mean-field reconstruction.

The data come from the engine's Wolff sampler (:func:`engines.rg.wolff_samples`), or are given
(``configurations``: {T: (M, L, L) ±1}); the RBMs are trained on the first half of each
temperature's configurations and the maps are scored on the second half. :func:`gai_zhang`
returns the table rows (one per family and temperature: LSS ± its standard error over tracks,
the OTS of each map and of the whole map ± their bootstrap standard deviation, the
distribution-level line shape ΣW/W), the settings, the times and a short statement of what the
numbers show (:func:`statement`, decided from the error bars). ``quick=True`` is a scaled-down
preset for tests (well under a minute).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from lab.geometry.score_options import ScoreOptions
from lab.geometry.score_sources import levels_plan

if TYPE_CHECKING:  # the task loads torch and POT: imported when a map is scored
    from lab.geometry.score_task import ScoreTask

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
FAMILIES = ("rbm-flow", "majority", "decimation", "stack")
PRESETS: dict[str, dict] = {
    "full": {
        "size": 16,
        "temperatures": (1.8, T_C, 3.0),
        "per_temperature": 2000,
        "samples": 1000,
        "bootstrap": 20,
        "flow_steps": 3,
        "levels": 2,
        "block": 2,
        "flow_epochs": 30,
        "stack_epochs": 30,
        "learning_rate": 0.01,
        "batch_size": 64,
    },
    "quick": {
        "size": 8,
        "temperatures": (T_C, 3.0),
        "per_temperature": 600,
        "samples": 300,
        "bootstrap": 10,
        "flow_steps": 3,
        "levels": 2,
        "block": 2,
        "flow_epochs": 5,
        "stack_epochs": 5,
        "learning_rate": 0.01,
        "batch_size": 64,
    },
}
"""Settings of :func:`gai_zhang` ("full", "quick"): lattice size L, temperatures (T_c and off
it), Wolff configurations per temperature (half to train, half to score), N scored per level,
bootstrap replicates, flow steps, block-spin and stack levels, block side, training epochs."""


def _data(
    preset: dict, seed: int, configurations: Mapping[float, np.ndarray] | None
) -> dict[float, np.ndarray]:
    if configurations is not None:
        out = {float(T): np.asarray(x) for T, x in configurations.items()}
        sizes = {x.shape[1:] for x in out.values()}
        if len(sizes) != 1 or any(x.ndim != 3 or x.shape[0] < 4 for x in out.values()):
            raise ValueError("configurations must be (M >= 4, L, L) arrays of one size")
        return out
    from engines.rg import wolff_samples

    seeds = np.random.SeedSequence([int(seed), 15]).generate_state(len(preset["temperatures"]))
    return {
        float(T): wolff_samples(preset["size"], T, preset["per_temperature"], int(s))
        for T, s in zip(preset["temperatures"], seeds, strict=True)
    }


def _train(data: np.ndarray, n_hidden: int, epochs: int, preset: dict, seed: int):
    from engines.rbm import RBMConfig, RBMTrainer
    from engines.rg import train_level

    config = RBMConfig(
        n_hidden=n_hidden,
        epochs=epochs,
        seed=seed,
        learning_rate=preset["learning_rate"],
        batch_size=preset["batch_size"],
    )
    trainer = RBMTrainer(config, data.reshape(data.shape[0], -1))
    return train_level(trainer).model.to_numpy()


def _score(
    mode: str,
    groups: list,
    options: ScoreOptions,
    block: int = 1,
    rbms: list | None = None,
    label: str = "",
) -> tuple[dict, ScoreTask]:
    from lab.geometry.score_task import ScoreTask

    plan = levels_plan(mode, groups, block=block, rbms=rbms or [], source_id=label)
    task = ScoreTask(plan, options)
    while not task.finished:
        task.step()
    return task.datasets(), task


def _rows(family: str, d: dict, task: ScoreTask) -> list[dict]:
    rows = []
    for g, T in enumerate(d["temperature"]):
        rows.append(
            {
                "family": family,
                "temperature": float(T),
                "maps": int(d["ots"].shape[1]),
                "sizes": [int(s) for s in d["sizes"]],
                "lss": float(d["lss"][g]),
                "lss_error": float(d["lss_error"][g]),
                "lss_valid": int(d["lss_valid"][g]),
                "lss_static": int(d["lss_static"][g]),
                "ots": [float(v) for v in d["ots"][g]],
                "ots_error": [float(v) for v in d["ots_error"][g]],
                "ots_total": float(d["ots_total"][g]),
                "ots_total_error": float(d["ots_total_error"][g]),
                "line_shape": float(d["line_shape"][g]),
                "agreement": [float(v) for v in d["agreement"][g]],
                "n_samples": int(task.n_samples),
                "solvers": list(task.solvers),
            }
        )
    return rows


def gai_zhang(
    quick: bool = False,
    seed: int = 0,
    configurations: Mapping[float, np.ndarray] | None = None,
    overrides: Mapping[str, object] | None = None,
    families: tuple[str, ...] = FAMILIES,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Score the RBM flow, block-spin RG and an RBM stack at T_c and off it (module doc).

    ``overrides`` replace entries of the preset (``PRESETS["quick" if quick else "full"]``);
    ``progress(text)`` is called as each part starts. Returns ``{"name": "gai-zhang",
    "quick", "seed", "settings", "rows": [...], "statement": [...], "seconds": {...},
    "scores": {family: the scores task's datasets}}``; each row holds ``family``,
    ``temperature``, ``maps``, ``sizes``, ``lss``, ``lss_error`` (standard error over
    tracks), ``lss_valid``, ``lss_static``, ``ots`` and ``ots_error`` (one per map; bootstrap
    std), ``ots_total``, ``ots_total_error``, ``line_shape``, ``agreement``, ``n_samples``,
    ``solvers``.
    """
    preset = dict(PRESETS["quick" if quick else "full"])
    unknown = set(overrides or {}) - set(preset)
    if unknown:
        raise ValueError(
            f"unknown settings {sorted(unknown)}; valid ones are {', '.join(sorted(preset))}"
        )
    preset.update(overrides or {})
    bad = set(families) - set(FAMILIES)
    if bad:
        raise ValueError(f"unknown families {sorted(bad)}; valid ones are {', '.join(FAMILIES)}")
    say = progress or (lambda text: None)
    t0 = time.perf_counter()
    say("data")
    data = _data(preset, seed, configurations)
    seconds = {"data": time.perf_counter() - t0}
    temps = sorted(data)
    L = int(next(iter(data.values())).shape[1])
    block, levels = int(preset["block"]), int(preset["levels"])
    if L % block**levels:
        raise ValueError(f"L = {L} is not divisible by b^levels = {block}^{levels}")
    halves = {T: (x[: x.shape[0] // 2], x[x.shape[0] // 2 :]) for T, x in data.items()}
    pooled = np.concatenate([halves[T][0] for T in temps])
    options = ScoreOptions(
        samples=int(preset["samples"]), bootstrap=int(preset["bootstrap"]), seed=int(seed)
    )
    rows: list[dict] = []
    scores: dict[str, dict] = {}
    n_scored = 0

    def run(family: str, mode: str, groups: list, **kw) -> None:
        nonlocal n_scored
        say(f"score {family}")
        start = time.perf_counter()
        d, task = _score(mode, groups, options, label=family, **kw)
        seconds[f"score_{family}"] = time.perf_counter() - start
        scores[family] = d
        rows.extend(_rows(family, d, task))
        n_scored = task.n_samples

    if "rbm-flow" in families:
        from engines.rg import rbm_flow

        say("train the flow's RBM")
        start = time.perf_counter()
        p = _train(pooled, (L // 2) ** 2, int(preset["flow_epochs"]), preset, seed)
        seconds["train_flow"] = time.perf_counter() - start
        groups = [
            (
                f"T = {T:.4g}",
                T,
                rbm_flow(
                    p["W"], p["a"], p["b"], halves[T][1], int(preset["flow_steps"]), int(seed)
                ),
            )
            for T in temps
        ]
        run("rbm-flow", "rbm-flow", groups)
    for rule in ("majority", "decimation"):
        if rule in families:
            from engines.rg import coarse_grain

            groups = [
                (f"T = {T:.4g}", T, coarse_grain(halves[T][1], rule, block, levels, int(seed)))
                for T in temps
            ]
            run(rule, "block-spin", groups, block=block)
    if "stack" in families:
        from engines.rbm import RBMConfig
        from engines.rg import coarse_grain_stack, train_stack

        say("train the stack")
        start = time.perf_counter()
        config = RBMConfig(
            epochs=int(preset["stack_epochs"]),
            seed=int(seed),
            learning_rate=preset["learning_rate"],
            batch_size=preset["batch_size"],
        )
        models, _ = train_stack(
            pooled, levels, block, config, block_init=1.0, seed=int(seed), min_share=0.0
        )
        seconds["train_stack"] = time.perf_counter() - start
        params = [m.to_numpy() for m in models]
        groups = []
        for T in temps:
            drawn, _ = coarse_grain_stack(
                halves[T][1], [(q["W"], q["b"]) for q in params], block, int(seed), min_share=0.0
            )
            groups.append((f"T = {T:.4g}", T, drawn))
        run("stack", "stack", groups, block=block, rbms=[(q["W"], q["a"]) for q in params])
    seconds["total"] = time.perf_counter() - t0
    settings = {
        **preset,
        "temperatures": [float(T) for T in temps],
        "size": L,
        "n_scored": n_scored,
        "cost": options.cost,
        "metric": options.metric,
        "embedding_stack": options.embedding,
        "data": "given" if configurations is not None else "Wolff (engines.rg.wolff_samples)",
    }
    return {
        "name": "gai-zhang",
        "quick": bool(quick),
        "seed": int(seed),
        "settings": settings,
        "rows": rows,
        "statement": statement(rows),
        "seconds": seconds,
        "scores": scores,
    }


# ---------------------------------------------------------------------------- reading it
def _differ(a: float, ea: float, b: float, eb: float, z: float = 3.0) -> bool:
    """a and b differ by more than z combined standard errors."""
    spread = math.hypot(ea if math.isfinite(ea) else 0.0, eb if math.isfinite(eb) else 0.0)
    return abs(a - b) > z * spread if spread > 0 else a != b


def statement(rows: list[dict]) -> list[str]:
    """What the table shows, one sentence per family, decided from the numbers and their error
    bars (differences counted at 3 standard errors)."""
    out = []
    by_family: dict[str, list[dict]] = {}
    for row in rows:
        by_family.setdefault(row["family"], []).append(row)
    for family, found in by_family.items():
        ots = np.array([row["ots"] for row in found])
        lss = [
            f"{r['lss']:.3f} ± {r['lss_error']:.3f} at T = {r['temperature']:.3g}" for r in found
        ]
        if np.allclose(ots, 1.0, atol=1e-12):
            maps = "every level's map scores OTS = 1 exactly (a nearest-point map)"
        else:
            maps = f"the maps score OTS {np.nanmin(ots):.4f} to {np.nanmax(ots):.4f}"
        totals = ", ".join(f"{r['ots_total']:.4f} ± {r['ots_total_error']:.4f}" for r in found)
        text = f"{family}: {maps}; the whole map x⁰ → x^K {totals}; LSS {'; '.join(lss)}"
        crit = [r for r in found if abs(r["temperature"] - T_C) < 1e-3]
        if crit:
            c = crit[0]
            relations = []
            for r in found:
                if r is c:
                    continue
                if _differ(c["lss"], c["lss_error"], r["lss"], r["lss_error"]):
                    word = "straighter" if c["lss"] < r["lss"] else "less straight"
                    relations.append(f"{word} than at T = {r['temperature']:.3g}")
                else:
                    relations.append(f"as straight as at T = {r['temperature']:.3g}")
            if relations:
                text += (
                    "; at T_c the tracks are " + " and ".join(relations) + " (3 standard errors)"
                )
        ordered = sorted(found, key=lambda r: r["temperature"])
        if len(ordered) > 2:
            signs = {
                np.sign(b["lss"] - a["lss"])
                for a, b in zip(ordered, ordered[1:], strict=False)
                if _differ(a["lss"], a["lss_error"], b["lss"], b["lss_error"])
            }
            if len(signs) == 1 and all(
                _differ(a["lss"], a["lss_error"], b["lss"], b["lss_error"])
                for a, b in zip(ordered, ordered[1:], strict=False)
            ):
                text += (
                    f"; the LSS {'rises' if signs.pop() > 0 else 'falls'} steadily with T "
                    "through T_c, which it does not single out"
                )
        out.append(text + ".")
    return out


def format_table(result: dict) -> str:
    """The rows as a plain-text table (what ``reproduce gai-zhang`` prints)."""
    lines = [
        f"{'family':>10} {'T':>6} {'LSS':>17} {'OTS per map':>36} {'OTS whole':>19} {'ΣW/W':>7}"
    ]
    for r in result["rows"]:
        maps = "  ".join(f"{v:.4f}±{e:.4f}" for v, e in zip(r["ots"], r["ots_error"], strict=True))
        lines.append(
            f"{r['family']:>10} {r['temperature']:>6.3f} "
            f"{r['lss']:>8.4f} ± {r['lss_error']:.4f} {maps:>36} "
            f"{r['ots_total']:>8.4f} ± {r['ots_total_error']:.4f} "
            f"{r['line_shape']:>7.4f}"
        )
    s = result["settings"]
    lines.append(
        f"L = {s['size']}, N = {s['n_scored']} per level, {s['bootstrap']} bootstrap "
        f"replicates, cost {s['cost']}; {result['seconds']['total']:.1f} s"
    )
    return "\n".join(lines)
