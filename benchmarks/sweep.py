"""Sweeps on Dask: speed-up with local workers, the Dask path's overhead, bytes per point.

Run: ``python -m benchmarks.sweep [--quick]``; prints one JSON object on stdout (not a test).

- ``scaling``: wall time of a 16-point Ising sweep (L = 32, Metropolis, no configurations
  recorded, about 2.5 s a point; ``--quick``: 0.5 s) on a local cluster of 1 and of 2 worker
  processes (one thread each), from the submission of the points to the last result, the
  workers warmed up first (numba compiles once per process: reported apart, as
  ``warm_up_s``), and the time to start each cluster. Target: ``speedup`` ≥ 1.7 on 2 cores.
- ``overhead``: one point of about 11 s (L = 64; ``--quick``: under 1 s) run directly in this
  process (:func:`lab.ising.workflow.simulate_run`, the reference) and as a Dask task on a warm
  one-worker cluster (submit → result in hand, its transfer included), interleaved, the best of
  3 each (``overhead_fraction``); and the Dask path alone, the task's wall time less its
  compute time on the worker (``dask_path_s``, the median), which the machine's load does not
  blur. Target: ≤ 5 % for tasks of ≥ 10 s.
- ``bytes_per_point``: what one point's result weighs on the wire (its pickle, protocol 5, and
  its arrays' buffers: :func:`lab.sweep.work.wire_bytes`) for an Ising point with and without
  its configurations, and for an RBM training with its checkpoints; and the bytes of the
  shared-folder mode's reply instead (only the path crosses the network, the file goes
  through the shared file system).

This process runs its numba kernels on one thread (``NUMBA_NUM_THREADS=1``, set before any
import), as each worker does, so that the direct reference and the tasks compare like with
like. The load average is recorded before and after: on a shared machine the figures move
with it.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from lab.sweep.cluster import open_cluster  # noqa: E402
from lab.sweep.plan import SweepPlan  # noqa: E402
from lab.sweep.runs import SweepState  # noqa: E402
from lab.sweep.task import SweepTask  # noqa: E402
from lab.sweep.work import Outcome, assign_run_ids, prepare, run_point, wire_bytes  # noqa: E402


def _prepared(command: str, fixed: dict, grid: list, runs: dict | None = None):
    plan = SweepPlan.build(command, fixed, grid)
    points = plan.points()
    namespaces = [plan.namespace(p, "bench.h5") for p in points]
    ids = assign_run_ids(plan, namespaces, list(runs or {}))
    state = SweepState.new("sweep-001", plan, ids)
    return state, prepare(plan, points, namespaces, ids, runs or {}, tempfile.gettempdir())


def _warm(cluster) -> float:
    """Run a tiny point on every worker (numba compiles its kernels once per process)."""
    state, prepared = _prepared(
        "simulate",
        {"samples": "10", "thermalize": "10", "temperature": "2.3", "no_spins": True},
        [("size", "8,8")],
    )
    job = prepared.jobs[0]
    start = time.perf_counter()
    cluster.client.run(run_point, "simulate", job.index, job.payload)
    return time.perf_counter() - start


def scaling(point_interval: int) -> dict:
    fixed = {
        "size": "32",
        "samples": "500",
        "interval": str(point_interval),
        "thermalize": "100",
        "no_spins": True,
    }
    state, prepared = _prepared("simulate", fixed, [("temperature", "2.0:2.6:16")])
    out: dict = {
        "points": len(prepared.jobs),
        "size": 32,
        "samples": 500,
        "interval_sweeps": point_interval,
    }
    for workers in (1, 2):
        start = time.perf_counter()
        cluster = open_cluster(workers)
        started = time.perf_counter() - start
        try:
            warm = _warm(cluster)
            outcomes: list[Outcome] = []
            task = SweepTask(state, prepared, lambda c=cluster: c, on_outcome=outcomes.append)
            task.close = lambda: None  # the benchmark closes the cluster itself
            start = time.perf_counter()
            while not task.finished:
                task.step()
            wall = time.perf_counter() - start
        finally:
            cluster.close()
        assert all(o.status == "finished" for o in outcomes)
        out[f"workers_{workers}"] = {
            "wall_s": round(wall, 3),
            "cluster_start_s": round(started, 3),
            "warm_up_s": round(warm, 3),
            "compute_s": round(sum(o.seconds for o in outcomes), 3),
        }
    out["speedup"] = round(out["workers_1"]["wall_s"] / out["workers_2"]["wall_s"], 3)
    out["target_speedup"] = 1.7
    return out


def overhead(size: int, samples: int, interval: int, repeats: int = 3) -> dict:
    fixed = {
        "size": str(size),
        "samples": str(samples),
        "interval": str(interval),
        "thermalize": "100",
        "no_spins": True,
        "temperature": "2.3",
    }
    _, prepared = _prepared("simulate", fixed, [("seed", "1,2")])
    job = prepared.jobs[0]
    from lab.ising.workflow import simulate_run

    run_point("simulate", job.index, job.payload)  # compile here too
    cluster = open_cluster(1)
    direct, dask, path = [], [], []
    try:
        _warm(cluster)
        client = cluster.client
        for _ in range(repeats):  # interleaved, so that a change of load hits both
            start = time.perf_counter()
            simulate_run(job.payload)
            direct.append(time.perf_counter() - start)
            start = time.perf_counter()
            future = client.submit(run_point, "simulate", job.index, job.payload, pure=False)
            outcome = future.result()
            dask.append(time.perf_counter() - start)
            path.append(dask[-1] - outcome.seconds)  # submit, schedule, transfer: no compute
            future.release()
    finally:
        cluster.close()
    best_direct, best_dask = min(direct), min(dask)
    return {
        "size": size,
        "samples": samples,
        "interval_sweeps": interval,
        "repeats": repeats,
        "direct_s": round(best_direct, 3),
        "dask_s": round(best_dask, 3),
        "overhead_fraction": round((best_dask - best_direct) / best_direct, 4),
        "dask_path_s": round(sorted(path)[len(path) // 2], 4),
        "dask_path_fraction": round(sorted(path)[len(path) // 2] / best_direct, 4),
        "target_fraction": 0.05,
    }


def bytes_per_point() -> dict:
    out = {}
    for label, fixed in (
        (
            "ising_L32_500_configurations",
            {"size": "32", "samples": "500", "interval": "2", "thermalize": "50"},
        ),
        (
            "ising_L32_no_configurations",
            {"size": "32", "samples": "500", "interval": "2", "thermalize": "50", "no_spins": True},
        ),
    ):
        _, prepared = _prepared("simulate", fixed, [("temperature", "2.2,2.4")])
        job = prepared.jobs[0]
        outcome = run_point("simulate", job.index, job.payload)
        out[label] = outcome.bytes
        with tempfile.TemporaryDirectory() as shared:
            reply = run_point("simulate", job.index, job.payload, shared_dir=shared, tag="b")
            out[label + "_shared_dir_reply"] = wire_bytes(reply)
    from data import load_session
    from main import main

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "S.h5")
        main(
            [
                "simulate",
                "--out",
                path,
                "--quiet",
                "--size",
                "16",
                "--temperature",
                "2.3",
                "--samples",
                "1000",
                "--interval",
                "2",
                "--thermalize",
                "100",
            ]
        )
        runs = load_session(path).runs
        _, prepared = _prepared(
            "train", {"data": "ising-001", "epochs": "20"}, [("hidden", "64,32")], runs
        )
        job = prepared.jobs[0]
        outcome = run_point("train", job.index, job.payload, prepared.inputs[job.input_key])
        out["rbm_L16_m64_20_epochs_with_checkpoints"] = outcome.bytes
        out["rbm_training_data_sent_once_per_worker"] = wire_bytes(prepared.inputs[job.input_key])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter points (a smoke run)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = {
        "benchmark": "sweep",
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "scaling": scaling(100 if args.quick else 800),
        "overhead": overhead(*((64, 300, 100) if args.quick else (64, 1000, 600))),
        "bytes_per_point": bytes_per_point(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
