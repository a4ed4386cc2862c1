"""Live recording speed and size: frames per second and bytes per spin for 64×64 lattices.

Run: ``python -m benchmarks.recording [--quick]``; prints one JSON object on stdout (not a test).

The configurations are generated first (so the simulation is not timed): consecutive frames of
a 64×64 lattice at T_c, one every ``interval`` sweeps after 2000 thermalization sweeps, with
Metropolis (interval 1 and 10) and Wolff (interval 1). Then, in the same run, they are written
two ways, each the best of a few repetitions (:mod:`benchmarks.timing`):

- ``run_recorder``: :class:`data.recording.RunRecorder` with the Ising streams (samples
  bit-packed + gzip, energy, magnetization, sweep), flushed every 2 s (the default) and at
  close; appended one frame per call (as the live CLI does) and in blocks of 256 frames;
- ``plain_int8``: the reference, an h5py SWMR file with one chunked, uncompressed int8
  dataset of the same frames, written in blocks of 256 and flushed on the same schedule.

Frames per second = frames / wall time from creating the file to closing it. Bytes per spin =
the stored size of the samples dataset (``get_storage_size``: compressed chunks with their
checksums) / (frames × 4096); ``file_bytes_per_spin`` uses the whole file instead. Targets:
≥ 20 000 frames/s and ≤ 0.1 byte/spin.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from benchmarks.timing import best_time
from data import RunRecord
from data.recording import FLUSH_SECONDS, RunRecorder
from engines.exact import critical_temperature
from engines.ising import IsingParams, IsingSimulation
from lab.ising.runs import ising_streams

L = 64
T_C = critical_temperature()
BLOCK = 256
REPEATS = 3


def frames_at_tc(algorithm: str, interval: int, n: int, seed: int = 1) -> np.ndarray:
    """``n`` consecutive configurations, one every ``interval`` sweeps, after thermalization."""
    sim = IsingSimulation(IsingParams(size=L, temperature=T_C, algorithm=algorithm, seed=seed))
    sim.thermalize(2000)
    out = np.empty((n, L, L), dtype=np.int8)
    for k in range(n):
        sim.sweep(interval)
        out[k] = sim.spins
    return out


def record(path: Path, frames: np.ndarray, block: int) -> None:
    """Record ``frames`` with a RunRecorder, ``block`` frames per append."""
    header = RunRecord(id="ising-001", kind="ising", status="running", seed=1,
                       params={"size": L, "temperature": T_C})
    n = len(frames)
    energy = np.linspace(-1.5, -1.3, n)
    sweeps = np.arange(n, dtype=np.int64)
    recorder = RunRecorder(path, header, ising_streams(L, True))
    for start in range(0, n, block):
        stop = min(n, start + block)
        recorder.append({"samples": frames[start:stop], "energy": energy[start:stop],
                         "magnetization": energy[start:stop], "sweep": sweeps[start:stop]})
    recorder.close("finished")


def record_plain(path: Path, frames: np.ndarray) -> None:
    """The reference: uncompressed int8 frames in a SWMR file, same blocks and flush period."""
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset("samples", shape=(0, L, L), maxshape=(None, L, L), dtype=np.int8,
                             chunks=(16, L, L))
        f.swmr_mode = True
        last = time.monotonic()
        for start in range(0, len(frames), BLOCK):
            block = frames[start : start + BLOCK]
            d.resize(start + len(block), axis=0)
            d[start:] = block
            if time.monotonic() - last >= FLUSH_SECONDS:
                f.flush()
                last = time.monotonic()
        f.flush()


def measure(frames: np.ndarray, directory: Path) -> dict:
    n, spins = len(frames), frames.size
    out: dict = {}
    for label, block in (("run_recorder_one_frame_per_append", 1),
                         ("run_recorder_blocks_of_256", BLOCK)):
        path = directory / f"{label}.rec.h5"

        def action(path=path, block=block) -> None:
            path.unlink(missing_ok=True)
            record(path, frames, block)

        seconds = best_time(action, REPEATS)
        with h5py.File(path, "r") as f:
            stored = f["runs/ising-001/samples"].id.get_storage_size()
        out[label] = {"frames_per_s": round(n / seconds), "seconds": round(seconds, 3),
                      "bytes_per_spin": round(stored / spins, 4),
                      "file_bytes_per_spin": round(os.path.getsize(path) / spins, 4)}
    plain = directory / "plain.h5"

    def plain_action() -> None:
        plain.unlink(missing_ok=True)
        record_plain(plain, frames)

    seconds = best_time(plain_action, REPEATS)
    with h5py.File(plain, "r") as f:
        stored = f["samples"].id.get_storage_size()
    out["plain_int8"] = {"frames_per_s": round(n / seconds), "seconds": round(seconds, 3),
                         "bytes_per_spin": round(stored / spins, 4),
                         "file_bytes_per_spin": round(os.path.getsize(plain) / spins, 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (smoke run)")
    args = parser.parse_args()
    n = 2000 if args.quick else 40000
    cases = (("metropolis", 1), ("metropolis", 10), ("wolff", 1))
    report: dict = {
        "what": "live recording of 64x64 Ising configurations at T_c",
        "how": {"lattice": L, "temperature": T_C, "frames": n, "thermalize_sweeps": 2000,
                "flush_seconds": FLUSH_SECONDS, "repeats": REPEATS, "timing": "best of repeats",
                "bytes_per_spin": "stored size of the samples dataset / spins"},
        "targets": {"frames_per_s": 20000, "bytes_per_spin": 0.1},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg()},
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as directory:
        for algorithm, interval in cases:
            frames = frames_at_tc(algorithm, interval, n)
            report["cases"][f"{algorithm}_interval_{interval}"] = measure(frames, Path(directory))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
