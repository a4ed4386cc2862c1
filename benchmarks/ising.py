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
3. ``multispin_throughput``: the multi-spin-coded Metropolis ("metropolis-msc") at T_c and
   L = 1024, 4096, with 1 and 2 numba threads, next to the NumPy reference and today's scalar
   kernel measured in the same run (ratios to both; target >= 1.5e9 flips/s on 2 cores and
   >= 50x NumPy), plus heat bath and a field (h = 0.1) for the multi-spin code, the CPU time per
   flip (``cpu_flips_per_s``: flips per second of process CPU time, which a loaded machine does
   not dilute) and the torch checkerboard ("metropolis-torch") on the CPU, and on CUDA at
   L = 16384 when a GPU is there.
4. ``gui_while_running``: the real main window with a live L = 512 Metropolis simulation:
   lattice frames drawn per second (target ≥ 30, the panels pull at 30 Hz) and the longest
   stall of the GUI event loop (target ≤ 50 ms), see ``benchmarks/gui_frames.py``; and the same
   at L = 2048 with metropolis-msc (the viewer's default) and the scalar metropolis.
5. ``simulate_at_scale``: the real ``simulate`` command (``main.py simulate``, in a child
   process, thermalize 0, a measurement every sweep) at L = 2048 and 1024 with metropolis-msc
   (and the scalar metropolis at 2048), with and without recorded configurations: seconds per
   sweep of the sampling phase (the progress loop: sweeps, measurements, recording, flushes)
   against the bare sweep of the engine measured here (``sampling_over_bare``: target ≥ 0.8
   with a measurement every sweep), the seconds of the fold at the end (reading the recording
   back, C(r), writing the session), the child's total wall time, and its peak resident memory
   (VmHWM) against the bytes of the recorded configurations (target ≤ 2×), next to the peak of
   the same command recording nothing but (e, m) (what the imports and the lattice take).

Timings are the best of a few repetitions, which is the fairest figure on a shared machine; the
JSON records the load average (at the start, and per size in the multi-spin section) so that
noisy runs can be recognized. ``--sections`` runs a subset.
"""

from __future__ import annotations

import argparse
import contextlib
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
SECTIONS = (
    "metropolis_throughput",
    "autocorrelation_at_tc",
    "multispin_throughput",
    "gui_while_running",
    "simulate_at_scale",
)


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


def _timed_flips(action: Callable[[], object], flips: int, repeats: int = REPEATS) -> dict:
    """Best-of-repeats wall rate and the CPU-time rate of the same best run."""
    best_wall, best_cpu = math.inf, math.inf
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    return {"flips_per_s": flips / best_wall, "cpu_flips_per_s": flips / max(best_cpu, 1e-9)}


def _simulation_rate(sim: IsingSimulation, n_sweeps: int, repeats: int = 5) -> dict:
    sim.sweep(max(1, n_sweeps // 4))  # compile / load the kernels, warm the thread pool
    return _timed_flips(lambda: sim.sweep(n_sweeps), n_sweeps * sim.n_spins, repeats)


def _numpy_rate(spins: np.ndarray, n_sweeps: int) -> float:
    spins = spins.copy()
    rng = np.random.default_rng(1)
    masks = checkerboard_masks(spins.shape[0])

    def run() -> None:
        for _ in range(n_sweeps):
            metropolis_sweep(spins, 1.0 / T_C, rng, masks)

    return n_sweeps * spins.size / best_time(run, REPEATS)


def multispin_throughput(quick: bool = False) -> dict:
    """Multi-spin Metropolis at T_c against NumPy and today's kernel, 1 and 2 threads; torch."""
    threads_before = numba.get_num_threads()
    thread_counts = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})
    out: dict = {
        "temperature": T_C,
        "unit": "spin-flip attempts per second (wall clock, best of repeats)",
        "target": ">= 1.5e9 flips/s on 2 cores and >= 50x NumPy",
        "numba_threading_layer": None,
        "sizes": {},
    }
    budget = 5e7 if quick else 5e8  # flips per timed multi-spin run
    for size in (1024, 4096):
        n_spins = size * size
        row: dict = {"load_average_before": os.getloadavg()}
        start = IsingSimulation(IsingParams(size, T_C, seed=1))
        start_spins = start.spins_copy()
        numpy_sweeps = 1 if size > 1024 or quick else 4
        row["numpy"] = _numpy_rate(start_spins, numpy_sweeps)
        scalar = IsingSimulation(IsingParams(size, T_C, algorithm="metropolis", seed=1))
        row["metropolis"] = _simulation_rate(scalar, max(1, int(budget / 10) // n_spins))[
            "flips_per_s"
        ]
        msc_sweeps = max(2, int(budget) // n_spins)
        for algorithm, field in (
            ("metropolis-msc", 0.0),
            ("heatbath-msc", 0.0),
            ("metropolis-msc", 0.1),
        ):
            label = algorithm if field == 0.0 else f"{algorithm} h={field}"
            per_threads = {}
            for n_threads in thread_counts:
                numba.set_num_threads(n_threads)
                sim = IsingSimulation(
                    IsingParams(size, T_C, field=field, algorithm=algorithm, seed=1)
                )
                per_threads[f"threads_{n_threads}"] = _simulation_rate(sim, msc_sweeps)
            numba.set_num_threads(threads_before)
            best = max(v["flips_per_s"] for v in per_threads.values())
            per_threads["ratio_to_numpy"] = best / row["numpy"]
            per_threads["ratio_to_metropolis"] = best / row["metropolis"]
            row[label] = per_threads
        torch_sweeps = max(1, int(budget / 20) // n_spins)
        sim = IsingSimulation(IsingParams(size, T_C, algorithm="metropolis-torch", seed=1))
        row["metropolis-torch cpu"] = _simulation_rate(sim, torch_sweeps, repeats=2)
        row["sweeps_timed"] = {
            "numpy": numpy_sweeps,
            "metropolis-msc": msc_sweeps,
            "metropolis-torch": torch_sweeps,
        }
        row["load_average_after"] = os.getloadavg()
        out["sizes"][str(size)] = row
    with contextlib.suppress(ValueError):  # no parallel kernel ran
        out["numba_threading_layer"] = numba.threading_layer()
    out["cuda"] = _torch_cuda_throughput(quick)
    return out


def _torch_cuda_throughput(quick: bool) -> dict | str:
    """metropolis-torch on CUDA at L = 16384 (and 4096), or why it was not measured."""
    import torch

    if not torch.cuda.is_available():
        return "not measured: no CUDA device"
    out: dict = {"device": torch.cuda.get_device_name(0)}
    for size in (4096, 16384):
        sim = IsingSimulation(
            IsingParams(size, T_C, algorithm="metropolis-torch", seed=1, device="cuda")
        )
        n_sweeps = 2 if quick else 10

        def run(sim=sim, n=n_sweeps) -> None:
            sim.sweep(n)
            torch.cuda.synchronize()

        run()
        out[str(size)] = _timed_flips(run, n_sweeps * sim.n_spins)["flips_per_s"]
    return out


def _autocorrelation_run(algorithm: str, size: int, quick: bool) -> dict:
    local = algorithm in ("metropolis", "heatbath", "metropolis-msc", "heatbath-msc")
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
    """Frames per second and event-loop stall of the lattice viewer at L = 512 and 2048."""
    from benchmarks.gui_frames import measure_gui_child

    seconds = 3.0 if quick else 10.0
    return {
        "load_average_before": os.getloadavg(),
        "L512 metropolis": measure_gui_child(512, "metropolis", seconds),
        "L2048 metropolis-msc": measure_gui_child(2048, "metropolis-msc", seconds),
        "L2048 metropolis": measure_gui_child(2048, "metropolis", seconds),
        "load_average_after": os.getloadavg(),
    }


_SIMULATE_CHILD = r"""
import json, sys, time
import lab.ising.commands as commands
import lab.ising.workflow as workflow
from main import main

seconds, cpu = {}, {}

def timed(name, function):
    def run(*args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - start_cpu
    return run

# The sampling loop (``drive``, called by the workflow) and the fold (called by the command).
# Each must be found, or the figures would silently be missing.
workflow.drive = timed("drive", workflow.drive)
commands.fold_recordings = timed("fold_recordings", commands.fold_recordings)
# Load the compiled kernels first (numba's cache: ~0.3 s, which a long run amortizes and a
# 200-sweep run would count as a third of its sampling time).
from engines.ising import IsingParams, IsingSimulation
from engines.ising.frames import configuration, energy_and_magnetization
algorithm = sys.argv[sys.argv.index("--algorithm") + 1]
warm = IsingSimulation(IsingParams(512, 2.27, algorithm=algorithm, seed=0))
warm.sweep(2)
energy_and_magnetization(warm)
configuration(warm)
start = time.perf_counter()
code = main(sys.argv[1:])
seconds["total"] = time.perf_counter() - start
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))
print(json.dumps({"exit": code, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_bytes": peak}),
      file=sys.stderr)
"""


def _simulate_child(folder: str, size: int, algorithm: str, samples: int, spins: bool) -> dict:
    """One ``main.py simulate`` in a child process: its phases' seconds and peak memory."""
    import subprocess
    import sys
    from pathlib import Path

    out = Path(folder) / f"L{size}-{algorithm}-{samples}-{int(spins)}.h5"
    argv = [
        "simulate",
        "--out",
        str(out),
        "--size",
        str(size),
        "--temperature",
        str(T_C),
        "--algorithm",
        algorithm,
        "--samples",
        str(samples),
        "--interval",
        "1",
        "--thermalize",
        "0",
        "--seed",
        "1",
        "--quiet",
    ] + ([] if spins else ["--no-spins"])
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _SIMULATE_CHILD, *argv],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    report = json.loads(lines[-1])
    report["session_bytes"] = out.stat().st_size if out.exists() else None
    return report


def _bare_sweeps(size: int, algorithm: str, sweeps: int) -> dict:
    """Seconds per sweep of the engine alone (best of repeats, wall and process CPU time), in
    ``sweep(1)`` calls (as the task calls it when a sample is due every sweep) and in one
    ``sweep(n)`` call (the kernel's best case)."""
    sim = IsingSimulation(IsingParams(size, T_C, algorithm=algorithm, seed=1))
    sim.sweep(5)

    def single() -> None:
        for _ in range(sweeps):
            sim.sweep(1)

    one = _timed_flips(single, sweeps)
    bulk = _timed_flips(lambda: sim.sweep(sweeps), sweeps)
    return {
        "seconds_per_sweep": 1 / one["flips_per_s"],
        "cpu_seconds_per_sweep": 1 / one["cpu_flips_per_s"],
        "seconds_per_sweep_one_call": 1 / bulk["flips_per_s"],
    }


def simulate_at_scale(quick: bool = False) -> dict:
    """``simulate`` with a measurement every sweep at L = 2048 and 1024 against the bare sweep."""
    import tempfile

    cases = [
        (2048, "metropolis-msc", 50 if quick else 200),
        (1024, "metropolis-msc", 200 if quick else 800),
        (2048, "metropolis", 20 if quick else 100),
    ]
    out: dict = {
        "temperature": T_C,
        "interval": 1,
        "thermalize": 0,
        "load_average_before": os.getloadavg(),
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        for size, algorithm, samples in cases:
            bare = _bare_sweeps(size, algorithm, min(samples, 100))
            row: dict = {"samples": samples, "bare": bare, "recorded_bytes": samples * size * size}
            for spins in (False, True):
                child = _simulate_child(folder, size, algorithm, samples, spins)
                label = "spins_recorded" if spins else "energy_and_magnetization_only"
                drive = child.get("seconds", {}).get("drive")
                drive_cpu = child.get("cpu_seconds", {}).get("drive")
                if drive is not None:
                    child["sampling_seconds_per_sweep"] = drive / samples
                    child["sampling_over_bare"] = bare["seconds_per_sweep"] / (drive / samples)
                if drive_cpu is not None:  # CPU time: what a loaded machine does not dilute
                    child["sampling_over_bare_cpu"] = bare["cpu_seconds_per_sweep"] / (
                        drive_cpu / samples
                    )
                if spins and "peak_rss_bytes" in child:
                    child["peak_rss_over_recorded"] = child["peak_rss_bytes"] / (
                        samples * size * size
                    )
                row[label] = child
            row["load_average_after"] = os.getloadavg()
            out["runs"][f"L{size} {algorithm}"] = row
    out["targets"] = {
        "sampling_over_bare": ">= 0.8 with a measurement every sweep (L = 2048)",
        "peak_rss_over_recorded": "<= 2",
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 10× fewer sweeps")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="numba threads for every kernel here and in the children",
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)  # the children's
        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    chosen = [name.strip() for name in args.sections.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    report: dict = {
        "benchmark": "ising",
        "quick": args.quick,
        "threads": args.threads,
        "environment": environment(),
    }
    functions: dict[str, Callable[[bool], dict]] = {
        "metropolis_throughput": metropolis_throughput,
        "autocorrelation_at_tc": autocorrelation_at_tc,
        "multispin_throughput": multispin_throughput,
        "gui_while_running": gui_while_running,
        "simulate_at_scale": simulate_at_scale,
    }
    sections = [(name, functions[name]) for name in SECTIONS if name in chosen]
    for name, section in sections:
        start = time.perf_counter()
        report[name] = section(args.quick)
        report[name]["seconds"] = time.perf_counter() - start
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
