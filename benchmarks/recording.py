"""Live recording speed and size: frames per second and bytes per spin for 64×64 lattices.

Run: ``python -m benchmarks.recording [--quick] [--frames N] [--repeats R]``; prints one JSON
object on stdout (not a test).

The configurations are generated first (so the simulation is not timed): consecutive frames of
a 64×64 lattice at T_c, one every ``interval`` sweeps after 2000 thermalization sweeps, with
Metropolis (interval 1 and 10) and Wolff (interval 1). Then, in the same run, interleaved, each
the best of ``repeats`` (:mod:`benchmarks.timing`):

- ``run_recorder_one_frame_per_append`` and ``run_recorder_blocks_of_256``:
  :class:`data.recording.RunRecorder` with the Ising streams (samples int8 in the spin layout:
  scale-offset + deflate + Fletcher-32, each whole chunk encoded with zlib's run-length strategy
  and written directly by the recorder's writer thread; energy, magnetization, sweep), flushed
  every 2 s (the default) and at close, one frame per ``append`` call (as the live CLI and GUI
  do) or 256 per call;
- ``plain_int8``: the reference, an h5py SWMR file with one chunked, uncompressed int8 dataset
  of the same frames, written in blocks of 256 and flushed on the same schedule;
- ``session``: the samples saved in a session (``save_session``: each chunk deflated with
  the run-length and the Huffman-only strategy, the smaller kept), with the time to save them;
- ``read``: frames per second reading the samples back with plain h5py, from the recording
  and from the session, and with ``read_recording`` (the committed rows of every stream);
- ``filters``: the filter combinations plain h5py offers without plugins, each written a whole
  chunk (64 frames) at a time without a thread, by HDF5's pipeline, and scale-offset + deflate
  with zlib strategies HDF5 does not use itself (``_direct``: encoded by
  :func:`data.spin_codec.write_spin_chunks`, read by HDF5 like the others): what the spin
  layout was chosen from.

Frames per second = frames / wall time from creating the file to closing it. Bytes per spin =
the stored size of the samples dataset (``get_storage_size``: compressed chunks with their
checksums) / (frames × 4096); ``file_bytes_per_spin`` uses the whole file instead. Targets:
≥ 20 000 frames/s with one frame per append and ≤ 0.1 byte/spin. The machine's load average is
recorded before and after: on a shared machine the figures move with it.
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
from h5py import h5p, h5z

from benchmarks.timing import best_time
from data import RunRecord, SessionRecord, read_recording, save_session
from data.recording import FLUSH_SECONDS, RunRecorder
from data.spin_codec import HUFFMAN, RLE, SPIN_CHUNK_BYTES, spin_layout, write_spin_chunks
from engines.exact import critical_temperature
from engines.ising import IsingParams, IsingSimulation
from lab.ising.runs import ising_streams

L = 64
T_C = critical_temperature()
BLOCK = 256
FILTER_CHUNK = SPIN_CHUNK_BYTES // (L * L)
FILTERS = {  # name: (scale-offset, deflate level or None, bit-packed first)
    "uncompressed": (False, None, False),
    "deflate_4": (False, 4, False),
    "scaleoffset": (True, None, False),
    "scaleoffset_deflate_1": (True, 1, False),
    "scaleoffset_deflate_4": (True, 4, False),
    "scaleoffset_deflate_6": (True, 6, False),
    "packbits_deflate_4 (schema 2, needs a decoder)": (False, 4, True),
}
DIRECT = {
    "scaleoffset_deflate_rle_direct (recordings)": (RLE,),
    "scaleoffset_deflate_huffman_direct": (HUFFMAN,),
    "scaleoffset_deflate_min_rle_huffman_direct (sessions)": (RLE, HUFFMAN),
}


def frames_at_tc(algorithm: str, interval: int, n: int, seed: int = 1) -> np.ndarray:
    """``n`` consecutive configurations, one every ``interval`` sweeps, after thermalization."""
    sim = IsingSimulation(IsingParams(size=L, temperature=T_C, algorithm=algorithm, seed=seed))
    sim.thermalize(2000)
    out = np.empty((n, L, L), dtype=np.int8)
    for k in range(n):
        sim.sweep(interval)
        out[k] = sim.spins
    return out


def header() -> RunRecord:
    return RunRecord(
        id="ising-001",
        kind="ising",
        status="running",
        seed=1,
        params={"size": L, "temperature": T_C},
    )


def record(path: Path, frames: np.ndarray, block: int) -> None:
    """Record ``frames`` with a RunRecorder, ``block`` frames per append."""
    n = len(frames)
    energy = np.linspace(-1.5, -1.3, n)
    sweeps = np.arange(n, dtype=np.int64)
    recorder = RunRecorder(path, header(), ising_streams(L, True))
    if block == 1:
        for k in range(n):
            recorder.append(
                {
                    "samples": frames[k : k + 1],
                    "energy": energy[k : k + 1],
                    "magnetization": energy[k : k + 1],
                    "sweep": sweeps[k : k + 1],
                }
            )
    else:
        for start in range(0, n, block):
            stop = min(n, start + block)
            recorder.append(
                {
                    "samples": frames[start:stop],
                    "energy": energy[start:stop],
                    "magnetization": energy[start:stop],
                    "sweep": sweeps[start:stop],
                }
            )
    recorder.close("finished")


def record_plain(path: Path, frames: np.ndarray) -> None:
    """The reference: uncompressed int8 frames in a SWMR file, same blocks and flush period."""
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset(
            "samples", shape=(0, L, L), maxshape=(None, L, L), dtype=np.int8, chunks=(16, L, L)
        )
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


def write_filtered(
    path: Path, frames: np.ndarray, scaleoffset: bool, level: int | None, packed: bool
) -> None:
    """``frames`` written whole chunk by whole chunk with one filter combination (plus the
    Fletcher-32 checksum every session dataset has)."""
    data = np.packbits(frames.reshape(len(frames), -1) > 0, axis=1) if packed else frames
    options: dict = {"fletcher32": True}
    if scaleoffset:
        dcpl = h5p.create(h5p.DATASET_CREATE)
        dcpl.set_scaleoffset(h5z.SO_INT, h5z.SO_INT_MINBITS_DEFAULT)
        options["dcpl"] = dcpl
    if level is not None:
        options.update(compression="gzip", compression_opts=level)
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset(
            "samples",
            shape=(0, *data.shape[1:]),
            dtype=data.dtype,
            maxshape=(None, *data.shape[1:]),
            chunks=(FILTER_CHUNK, *data.shape[1:]),
            **options,
        )
        for start in range(0, len(data), FILTER_CHUNK):
            block = data[start : start + FILTER_CHUNK]
            d.resize(start + len(block), axis=0)
            d[start:] = block


def write_direct(path: Path, frames: np.ndarray, strategies: tuple[int, ...]) -> None:
    """``frames`` in the spin layout, each whole chunk encoded here and written directly."""
    with h5py.File(path, "w", libver="latest") as f:
        d = f.create_dataset("samples", shape=(0, L, L), dtype=np.int8, **spin_layout((L, L), 4))
        for start in range(0, len(frames), FILTER_CHUNK):
            block = frames[start : start + FILTER_CHUNK]
            d.resize(start + len(block), axis=0)
            write_spin_chunks(d, start, block, strategies)


def stored_bytes(path: Path, name: str) -> int:
    with h5py.File(path, "r") as f:
        return f[name].id.get_storage_size()


def figures(n: int, spins: int, seconds: float, path: Path, name: str) -> dict:
    return {
        "frames_per_s": round(n / seconds),
        "seconds": round(seconds, 3),
        "bytes_per_spin": round(stored_bytes(path, name) / spins, 4),
        "file_bytes_per_spin": round(os.path.getsize(path) / spins, 4),
    }


def measure(frames: np.ndarray, directory: Path, repeats: int) -> dict:
    n, spins = len(frames), frames.size
    paths = {
        "one": directory / "one.rec.h5",
        "block": directory / "block.rec.h5",
        "plain": directory / "plain.h5",
        "session": directory / "S.h5",
    }
    session = SessionRecord(
        runs={
            "ising-001": RunRecord(
                id="ising-001",
                kind="ising",
                status="finished",
                seed=1,
                params={"size": L},
                datasets={"samples": frames},
            )
        }
    )
    actions = {
        "one": lambda: record(paths["one"], frames, 1),
        "block": lambda: record(paths["block"], frames, BLOCK),
        "plain": lambda: record_plain(paths["plain"], frames),
        "session": lambda: save_session(session, paths["session"]),
    }
    best = dict.fromkeys(actions, float("inf"))
    for _ in range(repeats):  # interleaved, so that a busy moment hits every variant alike
        for key, action in actions.items():
            paths[key].unlink(missing_ok=True)
            best[key] = min(best[key], best_time(action, 1))
    samples = "runs/ising-001/samples"
    out = {
        "run_recorder_one_frame_per_append": figures(n, spins, best["one"], paths["one"], samples),
        "run_recorder_blocks_of_256": figures(n, spins, best["block"], paths["block"], samples),
        "plain_int8": figures(n, spins, best["plain"], paths["plain"], "samples"),
        "session": figures(n, spins, best["session"], paths["session"], samples),
    }

    def plain_read(path: Path, name: str, swmr: bool = False) -> None:
        with h5py.File(path, "r", swmr=swmr) as f:
            back = f[name][()]
        assert back.dtype == np.int8 and np.array_equal(back, frames)

    reads = {
        "recording_plain_h5py_swmr": lambda: plain_read(paths["one"], samples, swmr=True),
        "session_plain_h5py": lambda: plain_read(paths["session"], samples),
        "read_recording": lambda: read_recording(paths["one"]),
        "plain_int8_uncompressed": lambda: plain_read(paths["plain"], "samples"),
    }
    out["read"] = {
        key: {"frames_per_s": round(n / best_time(action, repeats))}
        for key, action in reads.items()
    }
    filters = {}
    for name, (scaleoffset, level, packed) in FILTERS.items():
        path = directory / "filters.h5"

        def write(scaleoffset=scaleoffset, level=level, packed=packed, path=path) -> None:
            path.unlink(missing_ok=True)
            write_filtered(path, frames, scaleoffset, level, packed)

        seconds = best_time(write, repeats)
        filters[name] = {
            "frames_per_s": round(n / seconds),
            "bytes_per_spin": round(stored_bytes(path, "samples") / spins, 4),
        }
    for name, strategies in DIRECT.items():
        path = directory / "filters.h5"

        def write(strategies=strategies, path=path) -> None:
            path.unlink(missing_ok=True)
            write_direct(path, frames, strategies)

        seconds = best_time(write, repeats)
        with h5py.File(path, "r") as f:
            assert np.array_equal(f["samples"][()], frames)
        filters[name] = {
            "frames_per_s": round(n / seconds),
            "bytes_per_spin": round(stored_bytes(path, "samples") / spins, 4),
        }
    out["filters_whole_chunks_no_thread"] = filters
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 frames (smoke run)")
    parser.add_argument("--frames", type=int, default=None, help="frames per case")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions (best is kept)")
    args = parser.parse_args()
    n = args.frames or (2000 if args.quick else 40000)
    cases = (("metropolis", 1), ("metropolis", 10), ("wolff", 1))
    report: dict = {
        "what": "live recording of 64x64 Ising configurations at T_c",
        "how": {
            "lattice": L,
            "temperature": T_C,
            "frames": n,
            "thermalize_sweeps": 2000,
            "flush_seconds": FLUSH_SECONDS,
            "repeats": args.repeats,
            "timing": "best of repeats, variants interleaved",
            "bytes_per_spin": "stored size of the samples dataset / spins",
            "spin_layout": "int8 (N, 64, 64), chunks of 64 frames, scale-offset + deflate "
            "+ Fletcher-32; deflate by zlib's run-length strategy in "
            "recordings, the smaller of run-length and Huffman-only per "
            "chunk in sessions (written directly, decoded by HDF5)",
        },
        "targets": {"frames_per_s_one_frame_per_append": 20000, "bytes_per_spin": 0.1},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_before": os.getloadavg(),
        },
        "cases": {},
    }
    with tempfile.TemporaryDirectory() as directory:
        for algorithm, interval in cases:
            frames = frames_at_tc(algorithm, interval, n)
            report["cases"][f"{algorithm}_interval_{interval}"] = measure(
                frames, Path(directory), args.repeats
            )
    report["machine"]["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
