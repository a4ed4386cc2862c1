"""Gai & Zhang (arXiv:2102.09235): "the data tracks of a ResNet tend to be line-shaped in terms of
the line-shape score, and the map learned by a ResNet is closer to the optimal transport map in
terms of the optimal transport score" — asked of the maps the lab learns or defines (the RBM
flow, majority and decimation block spins, an RBM stack), at T_c and off it
(:mod:`lab.geometry.gai_zhang`, every map scored at the same number of samples).

Verdicts: the tracks count as line-shaped when LSS ≤ 1.1 (within 10 % of a straight line), a map
as close to optimal transport when its OTS ≤ 1.05; both are ≥ 1 by construction.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from lab.geometry.gai_zhang import FAMILIES, PRESETS, T_C, gai_zhang, statement
from lab.reproduce.experiment import Experiment, Progress, register
from lab.reproduce.outcome import Figure, Outcome, Panel, Row, Series, pm

NAME = "gai-zhang"
LINE_SHAPED = 1.1
NEAR_OPTIMAL = 1.05
THERMALIZE, INTERVAL = 500, 2
"""Wolff sweeps before the first configuration and between two (engines.rg.wolff_samples)."""


def _presets(quick: bool) -> dict[str, Any]:
    out = dict(PRESETS["quick" if quick else "full"])
    out["temperatures"] = [float(T) for T in out["temperatures"]]
    out["families"] = list(FAMILIES)
    return out


def _check(settings: dict[str, Any]) -> None:
    import math

    from lab.reproduce.setting_checks import integer_setting, temperature_list
    from lab.rg.settings import MAX_LEVELS, coarsest_size

    families = settings["families"]
    if not isinstance(families, list) or not families:
        raise ValueError(f"setting 'families' is a non-empty list of {', '.join(FAMILIES)}")
    bad = set(map(str, families)) - set(FAMILIES)
    if bad:
        raise ValueError(f"unknown families {sorted(bad)} (choose among {', '.join(FAMILIES)})")
    for key, low, high in (
        ("size", 2, None),
        ("block", 2, None),
        ("levels", 1, MAX_LEVELS),
        ("samples", 1, None),
        ("per_temperature", 4, None),  # the scores need at least 4 configurations
        ("bootstrap", 1, None),
        ("flow_steps", 1, None),
        ("flow_epochs", 1, None),
        ("stack_epochs", 1, None),
        ("batch_size", 1, None),
    ):
        integer_setting(settings, key, low, high)
    if coarsest_size(settings["size"], settings["block"], settings["levels"]) < 1:
        raise ValueError(
            f"size L = {settings['size']} is not divisible by block^levels = "
            f"{settings['block']}^{settings['levels']}"
        )
    rate = settings["learning_rate"]
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"setting 'learning_rate' must be a finite number > 0, got {rate!r}")
    temperature_list(settings, settings["size"], "[2.0, 2.269, 3.0]")


def _run(settings: dict[str, Any], quick: bool, seed: int, progress: Progress) -> Outcome:
    t0 = time.perf_counter()
    families = tuple(settings["families"])
    overrides = {k: v for k, v in settings.items() if k != "families"}
    overrides["temperatures"] = tuple(overrides["temperatures"])
    parts = max(1, len(families))
    seen: list[str] = []

    def say(text: str) -> None:
        if text not in seen:
            seen.append(text)
        progress(min(0.99, len(seen) / (parts + 1)), text)

    # The configurations are drawn here (with the seeds the workflow would use) so that they
    # are recorded as the reproduction's Ising runs, like every other experiment's data.
    from engines.rg import wolff_samples  # torch: loaded when the experiment runs

    say("drawing the Wolff configurations")
    temperatures = [float(T) for T in settings["temperatures"]]
    seeds = np.random.SeedSequence([int(seed), 15]).generate_state(len(temperatures))
    configurations = {
        T: wolff_samples(
            int(settings["size"]),
            T,
            int(settings["per_temperature"]),
            int(s),
            thermalize=THERMALIZE,
            interval=INTERVAL,
        )
        for T, s in zip(temperatures, seeds, strict=True)
    }
    data_sets = [
        {
            "role": "scored",
            "temperature": T,
            "seed": int(s),
            "samples": x,
            "thermalize": THERMALIZE,
            "interval": INTERVAL,
        }
        for (T, x), s in zip(configurations.items(), seeds, strict=True)
    ]
    result = gai_zhang(
        quick,
        seed,
        overrides=overrides,
        families=families,
        progress=say,
        configurations=configurations,
    )
    rows_in = result["rows"]
    rows, flat = [], {}
    setting = (
        f"L = {settings['size']}, b = {settings['block']}, {settings['levels']} levels, "
        f"{settings['samples']} samples per level, {settings['bootstrap']} bootstrap "
        f"replicates"
    )
    total = float(sum(result["seconds"].values())) if isinstance(result["seconds"], dict) else 0
    for family in families:
        found = [r for r in rows_in if r["family"] == family]
        if not found:
            continue
        lss = np.array([r["lss"] for r in found])
        ots = np.array([max(r["ots"]) for r in found])
        for r in found:
            key = f"{family}_T{r['temperature']:.4g}"
            flat[f"{key}_lss"], flat[f"{key}_lss_error"] = r["lss"], r["lss_error"]
            flat[f"{key}_ots_total"] = r["ots_total"]
            flat[f"{key}_ots_total_error"] = r["ots_total_error"]
        lss_text = ", ".join(
            f"T = {r['temperature']:.3g}: {pm(r['lss'], r['lss_error'])}" for r in found
        )
        rows.append(
            Row(
                f"{family}: the tracks of the data through the levels are line-shaped "
                f"(LSS ≤ {LINE_SHAPED})",
                f"LSS {lss_text}",
                "reproduced"
                if np.all(lss <= LINE_SHAPED)
                else "partly"
                if np.any(lss <= LINE_SHAPED)
                else "not reproduced",
                setting,
                total / parts,
            )
        )
        ots_text = ", ".join(
            f"T = {r['temperature']:.3g}: largest map OTS {max(r['ots']):.4f}, "
            f"whole {pm(r['ots_total'], r['ots_total_error'], 4)}"
            for r in found
        )
        rows.append(
            Row(
                f"{family}: each map is close to the optimal transport map (OTS ≤ {NEAR_OPTIMAL})",
                ots_text,
                "reproduced"
                if np.all(ots <= NEAR_OPTIMAL)
                else "partly"
                if np.any(ots <= NEAR_OPTIMAL)
                else "not reproduced",
                setting,
                total / parts,
            )
        )
    lss_panel = Panel(
        "line-shape score of the tracks",
        "T",
        "LSS (1: straight)",
        vlines=[(T_C, "T_c")],
        hlines=[(1.0, "straight")],
    )
    ots_panel = Panel(
        "OTS of the whole map x⁰ → x^K",
        "T",
        "OTS (1: optimal)",
        vlines=[(T_C, "T_c")],
        hlines=[(1.0, "optimal")],
    )
    for family in families:
        found = sorted(
            (r for r in rows_in if r["family"] == family), key=lambda r: r["temperature"]
        )
        if not found:
            continue
        T = np.array([r["temperature"] for r in found])
        lss_panel.series.append(
            Series(
                family,
                T,
                np.array([r["lss"] for r in found]),
                np.array([r["lss_error"] for r in found]),
            )
        )
        ots_panel.series.append(
            Series(
                family,
                T,
                np.array([r["ots_total"] for r in found]),
                np.array([r["ots_total_error"] for r in found]),
            )
        )
    notes = [
        *statement(rows_in),
        "A majority-rule level repeated over its blocks is the nearest block-constant "
        "configuration, so each majority map has OTS = 1 by construction; only the "
        "composition of levels departs from 1.",
        "OTS of a map that is not optimal grows slowly with the number of samples N "
        "(x → decimation: 1.00014 at 500, 1.0015 at 2000, 1.0056 at 10 000): scores are "
        "compared at equal N.",
    ]
    return Outcome(
        NAME,
        "Gai & Zhang 2021: line-shaped tracks and optimal-transport maps",
        quick,
        seed,
        rows,
        [Figure("scores", "LSS and OTS against T", [lss_panel, ots_panel])],
        notes,
        settings,
        flat,
        time.perf_counter() - t0,
        data=data_sets,
    )


register(
    Experiment(
        NAME,
        "Gai & Zhang 2021: line-shaped tracks and optimal-transport maps",
        "Gai & Zhang, arXiv:2102.09235",
        _presets,
        _run,
        _check,
    )
)
