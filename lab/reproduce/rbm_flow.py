"""Iso, Shiba & Yokoo (2018): the RBM flow v → h → v′ "approaches T_c", reproduced in the setting
of Veiga & Vicente (2020): L = 10, one RBM trained on 25 temperatures 1e-6, 0.25, …, 6 pooled
(2000 configurations each), flows started from fresh configurations at T = 1 … 5.

What each thermometer measures (engines/rg/thermometry.py): **T_E** matches the energy per spin
to Kaufman's exact e(L, T), the short-range order (it is the maximum-likelihood temperature of an
Ising ensemble); **T_M** matches ⟨|m|⟩ and **T_U** the Binder cumulant U₄ (transfer matrix,
L ≤ 10), the scale and the shape of the long-range order. For configurations drawn from one Ising
temperature the three agree; where they do not, the configurations are not an Ising ensemble at
any single temperature, and the z-scores at T_E say by how much.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from engines.rg.reproduction_presets import T_C
from lab.reproduce.experiment import Experiment, Progress, register
from lab.reproduce.locality import check_training, engine_overrides, epoch_progress, flat_presets
from lab.reproduce.outcome import Figure, Outcome, Panel, Row, Series, pm
from lab.reproduce.setting_checks import check_data_fits, integer_setting, temperature_list

NAME = "iso-shiba-yokoo"
ENGINE = "rbm-flow"
MAX_TEMPERATURES = 32
"""The most training (and flow) temperatures: ``engines.rg.reproductions.run_reproduction``
draws the data's seeds as 32 for the training sets, then 32 for the flow starts."""
MIN_THERMOMETRY = 20
"""Configurations a thermometer needs at least (``engines.rg.thermometry``)."""


def _presets(quick: bool) -> dict[str, Any]:
    out = flat_presets(ENGINE, quick)
    out["train_temperatures"] = list(out["train_temperatures"])
    out["flow_temperatures"] = list(out["flow_temperatures"])
    if out.get("read_steps") is not None:
        out["read_steps"] = list(out["read_steps"])
    return out


def _check(settings: dict[str, Any]) -> None:
    """ValueError for settings that would fail after the data are drawn (module doc)."""
    size = integer_setting(settings, "size", 2)
    example, most = "[1.5, 2.269, 3.5]", MAX_TEMPERATURES
    train = temperature_list(settings, size, example, "train_temperatures", most)
    temperature_list(settings, size, example, "flow_temperatures", most)
    check_training(settings, ("n_hidden", "epochs"))
    per_temperature = integer_setting(settings, "per_temperature", 1)
    if per_temperature * len(train) < MIN_THERMOMETRY:
        raise ValueError(
            f"{len(train)} training temperatures × {per_temperature} samples: the pooled data "
            f"need at least {MIN_THERMOMETRY} configurations"
        )
    flow_samples = integer_setting(settings, "flow_samples", MIN_THERMOMETRY)
    integer_setting(settings, "n_equilibrium", MIN_THERMOMETRY)
    steps = integer_setting(settings, "steps", 1)
    read = settings.get("read_steps")
    if read is not None and (
        not isinstance(read, list)
        or not read
        or not all(isinstance(k, int) and not isinstance(k, bool) for k in read)
        or any(not 0 <= k <= steps for k in read)
        or any(b <= a for a, b in zip(read, read[1:], strict=False))
    ):
        raise ValueError(
            f"setting 'read_steps' is null or a list of increasing steps from 0 to {steps}, "
            f"got {read!r}"
        )
    n_configurations = per_temperature * len(train) + flow_samples * len(
        settings["flow_temperatures"]
    )
    check_data_fits(
        f"{NAME} ({n_configurations} samples of L = {size})",
        n_configurations,
        size,
        int(settings["n_hidden"]),
    )


def _run(settings: dict[str, Any], quick: bool, seed: int, progress: Progress) -> Outcome:
    t0 = time.perf_counter()
    out = _engine(settings, quick, seed, progress)
    flow, eq, pooled = out["flow"], out["equilibrium"], out["pooled"]
    starts, steps = np.asarray(flow["temperature"]), np.asarray(flow["steps"])
    L = out["size"]
    tE, tU = np.asarray(flow["t_energy"]), np.asarray(flow["t_binder"])
    tE_err, tU_err = np.asarray(flow["t_energy_error"]), np.asarray(flow["t_binder_error"])
    last = -1
    spread_end = float(np.nanmax(tE[:, last]) - np.nanmin(tE[:, last]))
    away = np.abs(starts - T_C) > 0.1  # a flow started at T_c can only move away from it
    toward_tc = bool(np.all(np.abs(tE[away, last] - T_C) < np.abs(starts[away] - T_C)))
    end_tc = float(np.nanmean(np.abs(tE[:, last] - T_C)))
    setting = (
        f"L = {L}, {len(settings['train_temperatures'])} training temperatures × "
        f"{settings['per_temperature']} Wolff samples, {settings['n_hidden']} hidden units, "
        f"{settings['epochs']} epochs; flows of {settings['flow_samples']} configurations, "
        f"{int(steps[-1])} steps"
    )
    seconds = out["seconds"]["total"]
    i_tc = int(np.argmin(np.abs(starts - T_C)))
    step1 = int(np.searchsorted(steps, 1)) if steps.size > 1 else 0
    rows = [
        Row(
            "The flow v → h → v′ of an RBM trained on many temperatures approaches T_c from "
            "both sides (Iso, Shiba & Yokoo 2018, energy-like thermometer)",
            f"from every start away from T_c, T_E moves toward it: "
            f"{'yes' if toward_tc else 'no'}; after "
            f"{int(steps[-1])} steps T_E = {np.nanmin(tE[:, last]):.3f} … "
            f"{np.nanmax(tE[:, last]):.3f} (T_c = {T_C:.3f}), mean |T_E − T_c| = {end_tc:.3f}",
            "reproduced"
            if toward_tc and end_tc < 0.1
            else "partly"
            if toward_tc
            else "not reproduced",
            setting,
            seconds,
        ),
        Row(
            "…and the point it approaches is T_c (a fixed point of the flow)",
            f"the flow is a Markov chain converging to the RBM's own equilibrium: its thermometry "
            f"T_E = {pm(eq['t_energy'], eq['t_energy_error'])}, T_U = "
            f"{pm(eq['t_binder'], eq['t_binder_error'])}; T_c itself goes to T_E = "
            f"{pm(tE[i_tc, step1], tE_err[i_tc, step1])} after one step",
            "reproduced"
            if abs(eq["t_energy"] - T_C) < 2 * eq["t_energy_error"] + 0.02
            else "not reproduced",
            setting,
            seconds,
        ),
        Row(
            "The flowed configurations are Ising configurations at the temperature read "
            "(the thermometers agree)",
            f"energy vs Binder thermometer after one step from T_c: T_E = "
            f"{pm(tE[i_tc, step1], tE_err[i_tc, step1])}, T_U = "
            f"{pm(tU[i_tc, step1], tU_err[i_tc, step1])}; at the end they differ by "
            f"{np.nanmean(np.abs(tU[:, last] - tE[:, last])):.3f} on average, largest |z| of "
            f"the other observables at T_E {np.nanmax(np.asarray(flow['max_abs_z'])[:, last]):.1f}",
            "reproduced"
            if np.nanmax(np.abs(tU[:, last] - tE[:, last])) < 0.05
            else "not reproduced",
            setting,
            seconds,
        ),
    ]
    results = {
        "end_t_energy_min": float(np.nanmin(tE[:, last])),
        "end_t_energy_max": float(np.nanmax(tE[:, last])),
        "end_mean_distance_to_tc": end_tc,
        "end_spread": spread_end,
        "equilibrium_t_energy": float(eq["t_energy"]),
        "equilibrium_t_binder": float(eq["t_binder"]),
        "pooled_t_energy": float(pooled["t_energy"]),
        "pooled_t_binder": float(pooled["t_binder"]),
    }
    flows = Panel("T′ along the flow", "step", "temperature", series=[])
    for i, T in enumerate(starts):
        flows.series.append(
            Series(f"T_E from {T:.2f}", steps.astype(float), tE[i], tE_err[i], style="line")
        )
        flows.series.append(
            Series(f"T_U from {T:.2f}", steps.astype(float), tU[i], tU_err[i], style="dashed")
        )
    flows.hlines = [(T_C, "T_c"), (float(eq["t_energy"]), "RBM equilibrium (T_E)")]
    one_step = Panel(
        "one step: T′ against T",
        "T (start)",
        "T′ after one step",
        series=[
            Series("energy thermometer T_E", starts, tE[:, step1], tE_err[:, step1]),
            Series("Binder thermometer T_U", starts, tU[:, step1], tU_err[:, step1]),
            Series("T′ = T", starts, starts, style="dashed"),
        ],
        vlines=[(T_C, "T_c")],
    )
    notes = [
        "Each step of the flow is one block-Gibbs sweep of the RBM, so the flow is a Markov chain "
        "that converges to the RBM's own distribution p(v) from any start; 'approaching T_c' is "
        "the transient on the way, and where it ends depends on the trained RBM.",
        "The end state is not an Ising ensemble: an ordered state with a few per cent of "
        "independent spin flips per step, which heat the nearest-neighbour energy but keep the "
        "two-peaked P(m); so T_E > T_M > T_U there, and ⟨|m|⟩, U₄, χ miss their exact values at "
        "T_E by many standard errors.",
        f"The pooled training data read T_E = {pooled['t_energy']:.3f}, T_U = "
        f"{pooled['t_binder']:.3f}: the mixture the RBM approximates is itself not one Ising "
        "temperature.",
        "Veiga & Vicente (2020) show the same flow towards T_c on data without lattice "
        "topology: the flow is not evidence of learned scale invariance.",
    ]
    return Outcome(
        NAME,
        "Iso, Shiba & Yokoo 2018: the RBM flow and T_c",
        quick,
        seed,
        rows,
        [Figure("flow", "The RBM flow read by two thermometers", [flows, one_step])],
        notes,
        settings,
        results,
        time.perf_counter() - t0,
        data=[{**item, "thermalize": 500, "interval": 2} for item in out["data"]],
        models=[{"name": "flow_rbm", **out["model"]}],
    )


def _engine(settings: dict[str, Any], quick: bool, seed: int, progress: Progress) -> dict:
    from engines.rg.reproductions import run_reproduction

    overrides = engine_overrides(ENGINE, settings, quick)
    for key in ("train_temperatures", "flow_temperatures", "read_steps"):
        if overrides.get(key) is not None:
            overrides[key] = tuple(overrides[key])
    return run_reproduction(
        ENGINE,
        quick,
        seed,
        epoch_progress(progress, int(settings["epochs"]), "training the RBM"),
        overrides,
    )


register(
    Experiment(
        NAME,
        "Iso, Shiba & Yokoo 2018: the RBM flow and T_c",
        "Iso, Shiba & Yokoo, PRE 97, 053304 (arXiv:1801.07172); Veiga & Vicente, arXiv:2006.10176",
        _presets,
        _run,
        _check,
    )
)
