"""Ising engine speed: Metropolis throughput against NumPy, and independent samples per second.

Run: ``python -m benchmarks.ising [--quick]``; prints one JSON object on stdout (not a test).

1. ``metropolis_throughput``: spin-flip attempts per second of our numba checkerboard Metropolis
   and of the textbook NumPy version (``benchmarks/numpy_reference.py``), at T_c, L = 256 and
   1024, measured in the same run; the ratio is the figure to compare (target ≥ 5× at L = 1024).
2. ``autocorrelation_at_tc``: for every algorithm at T_c and L = 32, 64, the integrated
   autocorrelation time of |m| (in sweeps, one sample per sweep, Sokal windowing with c = 5, with
   its error ``τ sqrt(2(2W+1)/n)``), sweeps per second of the engine (one ``sweep(n)`` call), and
   independent samples per second ``= sweeps/s / (2 τ_int)``; plus the Wolff/Metropolis ratio of
   the latter at L = 64 (target ≥ 20×).
3. ``gui_while_running``: the real main window with a live L = 512 Metropolis simulation:
   lattice frames drawn per second (target ≥ 30, the panels pull at 30 Hz) and the longest
   stall of the GUI event loop (target ≤ 50 ms), see ``benchmarks/gui_frames.py``.

Timings are the best of a few repetitions, which is the fairest figure on a shared machine; the
JSON records the load average so that noisy runs can be recognized.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable

import numba
import numpy as np

from benchmarks.numpy_reference import checkerboard_masks, metropolis_sweep
from benchmarks.timing import best_time
from engines.exact import critical_temperature
from engines.ising import ALGORITHMS, IsingParams, IsingSimulation, integrated_autocorrelation_time

T_C = critical_temperature()
REPEATS = 3



def metropolis_throughput(quick: bool = False) -> dict:
    """Spin-flip attempts per second, ours vs NumPy, at T_c for L = 256 and 1024."""
    out = {"temperature": T_C, "unit": "spin-flip attempts per second", "sizes": {}}
    for size in (256, 1024):
        n_spins = size * size
        ours_sweeps = max(2, (4_000_000 if quick else 40_000_000) // n_spins)
        numpy_sweeps = max(1, (400_000 if quick else 4_000_000) // n_spins)

        sim = IsingSimulation(IsingParams(size, T_C, algorithm="metropolis", seed=1))
        sim.thermalize(ours_sweeps)  # also loads the compiled kernel
        ours = ours_sweeps * n_spins / best_time(lambda s=sim, n=ours_sweeps: s.sweep(n), REPEATS)

        spins = sim.spins.copy()
        rng = np.random.default_rng(1)
        masks = checkerboard_masks(size)

        def numpy_run(n=numpy_sweeps, spins=spins, rng=rng, masks=masks) -> None:
            for _ in range(n):
                metropolis_sweep(spins, 1.0 / T_C, rng, masks)

        reference = numpy_sweeps * n_spins / best_time(numpy_run, REPEATS)
        out["sizes"][str(size)] = {
            "numba": ours,
            "numpy": reference,
            "ratio": ours / reference,
            "sweeps_timed": {"numba": ours_sweeps, "numpy": numpy_sweeps},
        }
    return out


def _autocorrelation_run(algorithm: str, size: int, quick: bool) -> dict:
    local = algorithm in ("metropolis", "heatbath")
    scale = 0.1 if quick else 1.0
    if local:
        n_samples = int(scale * (200_000 if size <= 32 else 500_000))
        n_thermal = int(scale * 20_000)
    else:
        n_samples = int(scale * 50_000)
        n_thermal = int(scale * 2_000)
    sim = IsingSimulation(IsingParams(size, T_C, algorithm=algorithm, seed=2024))
    sim.thermalize(n_thermal)
    _, m = sim.measure(n_samples)
    tau, window = integrated_autocorrelation_time(np.abs(m))
    block = max(10, n_samples // 20)
    sweeps_per_s = block / best_time(lambda: sim.sweep(block), REPEATS)
    return {
        "tau_int_abs_m": tau,
        "tau_error": tau * math.sqrt(2 * (2 * window + 1) / n_samples),
        "window": window,
        "samples": n_samples,
        "sweeps_per_s": sweeps_per_s,
        "independent_samples_per_s": sweeps_per_s / (2 * tau),
        "cluster_updates_per_sweep": sim.cluster_updates_per_sweep,
        "mean_cluster_size": sim.mean_cluster_size,
    }


def autocorrelation_at_tc(quick: bool = False) -> dict:
    """τ_int(|m|), sweeps/s and independent samples/s for every algorithm at T_c, L = 32 and 64."""
    sizes = {}
    for size in (32, 64):
        sizes[str(size)] = {a: _autocorrelation_run(a, size, quick) for a in ALGORITHMS}
    at_64 = sizes["64"]
    ratio = (
        at_64["wolff"]["independent_samples_per_s"]
        / at_64["metropolis"]["independent_samples_per_s"]
    )
    return {
        "temperature": T_C,
        "observable": "|m|, one sample per sweep",
        "sizes": sizes,
        "wolff_over_metropolis_independent_samples_L64": ratio,
    }


def environment() -> dict:
    """Where the figures were measured."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }


def gui_while_running(quick: bool = False) -> dict:
    """Frames per second and event-loop stall of the lattice viewer at L = 512."""
    from benchmarks.gui_frames import measure_gui

    return measure_gui(size=512, algorithm="metropolis", seconds=3.0 if quick else 10.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 10× fewer sweeps")
    args = parser.parse_args(argv)
    report: dict = {"benchmark": "ising", "quick": args.quick, "environment": environment()}
    sections: list[tuple[str, Callable[[bool], dict]]] = [
        ("metropolis_throughput", metropolis_throughput),
        ("autocorrelation_at_tc", autocorrelation_at_tc),
        ("gui_while_running", gui_while_running),
    ]
    for name, section in sections:
        start = time.perf_counter()
        report[name] = section(args.quick)
        report[name]["seconds"] = time.perf_counter() - start
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
