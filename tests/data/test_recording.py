"""Live recordings (data.recording): what a reader finds at any moment, folding, write errors."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import zlib
from unittest import mock

import h5py
import numpy as np
import pytest

from data import RunRecord, SessionFileError, add_runs, load_session, read_run
from data.lock import SessionLock, is_locked
from data.recording import (
    INTERRUPTED_MESSAGE,
    MIN_FREE_BYTES,
    RecordingError,
    RunRecorder,
    Stream,
    find_recordings,
    fold_recordings,
    read_recording,
    recording_path,
    recordings_dir,
    unsaved_recordings_dirs,
)

STREAMS = {
    "energy": Stream((), np.float64, attrs={"units": "J per spin", "axes": "sample"}),
    "samples": Stream((5, 5), np.int8, spins=True, attrs={"units": "spin (±1)"}),
    "checkpoints/W": Stream((2, 3), np.float32),
}


class Clock:
    """A hand-driven clock, so tests decide when a flush falls due."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def header(run_id: str = "ising-001", created: str = "2026-11-22T14:00:00Z") -> RunRecord:
    return RunRecord(
        id=run_id,
        kind="ising",
        status="running",
        seed=3,
        params={"size": 5, "temperature": 2.5},
        inputs=["x-1"],
        created=created,
        groups={"notes": {"who": "test"}},
    )


def rows(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "energy": rng.normal(size=n),
        "samples": rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, 5, 5)),
        "checkpoints/W": rng.normal(size=(n, 2, 3)).astype(np.float32),
    }


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([p[name] for p in parts]) for name in STREAMS}


def test_reader_sees_exactly_the_flushed_rows_then_the_closed_run(tmp_path):
    rng, clock = np.random.default_rng(1), Clock()
    state = {"n": 0}
    path = tmp_path / "ising-001.rec.h5"
    recorder = RunRecorder(
        path,
        header(),
        STREAMS,
        clock=clock,
        state_source=lambda: {"count": np.array([state["n"]]), "spins": np.ones((5, 5), np.int8)},
    )
    parts = []
    for i in range(6):
        parts.append(rows(rng, i + 1))
        state["n"] += i + 1
        recorder.append(parts[-1])
        if i == 2:
            clock.now += 2.0  # the next append is due for a flush
    # appends 0-2 were not due; append 3 flushed parts 0-3; 4 and 5 are pending
    run = read_recording(path)
    assert run.status == "interrupted" and run.message == INTERRUPTED_MESSAGE
    assert run.finished is None
    flushed = concat(parts[:4])
    for name in STREAMS:
        np.testing.assert_array_equal(run.datasets[name], flushed[name])
    assert run.datasets["resume/count"].tolist() == [1 + 2 + 3 + 4]
    assert recorder.committed == {name: 10 for name in STREAMS}
    recorder.close("stopped", "stopped by the user", finished="2026-11-22T14:05:00Z")
    run = read_recording(path)
    everything = concat(parts)
    assert run == RunRecord(
        id="ising-001",
        kind="ising",
        status="stopped",
        seed=3,
        params={"size": 5, "temperature": 2.5},
        inputs=["x-1"],
        created="2026-11-22T14:00:00Z",
        finished="2026-11-22T14:05:00Z",
        message="stopped by the user",
        datasets={
            **everything,
            "resume/count": np.array([21]),
            "resume/spins": np.ones((5, 5), np.int8),
        },
        dataset_attrs={
            "energy": {"units": "J per spin", "axes": "sample"},
            "samples": {"units": "spin (±1)"},
        },
        groups={"notes": {"who": "test"}},
    )


def test_a_reader_keeps_only_committed_rows_of_every_stream(tmp_path):
    """Rows written after the last commit (a kill in the middle of a flush) are not read."""
    path = tmp_path / "r.rec.h5"
    recorder = RunRecorder(path, header(), STREAMS)
    recorder.append(rows(np.random.default_rng(2), 4))
    recorder.flush()
    recorder.abandon()
    with h5py.File(path, "r+") as f:  # what a kill after writing energy rows would leave
        energy = f["runs/ising-001/energy"]
        energy.resize((9,))
        energy[4:] = 7.0
    run = read_recording(path)
    assert {name: len(run.datasets[name]) for name in STREAMS} == dict.fromkeys(STREAMS, 4)
    assert not np.any(run.datasets["energy"] == 7.0)


def test_resume_state_switches_slots_only_on_commit(tmp_path):
    path = tmp_path / "r.rec.h5"
    value = {"x": 1.0}
    recorder = RunRecorder(
        path, header(), STREAMS, state_source=lambda: {"x": np.array([value["x"]])}
    )
    value["x"] = 2.0
    recorder.flush()
    recorder.abandon()
    assert read_recording(path).datasets["resume/x"].tolist() == [2.0]
    with h5py.File(path, "r+") as f:  # a kill after writing the other slot, before the commit
        slot = "ab"[1 - int(f["resume/commit"][1])]
        f[f"resume/{slot}/x"][...] = 3.0
    assert read_recording(path).datasets["resume/x"].tolist() == [2.0]


def test_bad_rows_and_headers_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="has no datasets"):
        RunRecorder(
            tmp_path / "a.rec.h5",
            RunRecord(
                id="a", kind="k", status="running", seed=1, params={}, datasets={"x": np.zeros(2)}
            ),
            STREAMS,
        )
    with pytest.raises(ValueError, match="must be int8"):
        RunRecorder(tmp_path / "b.rec.h5", header(), {"s": Stream((3,), np.int16, spins=True)})
    with pytest.raises(ValueError, match="not a valid name"):
        RunRecorder(tmp_path / "c.rec.h5", header(), {"a b": Stream((), float)})
    assert not list(tmp_path.iterdir())  # nothing created by refused recorders
    recorder = RunRecorder(tmp_path / "d.rec.h5", header(), STREAMS)
    with pytest.raises(ValueError, match="no stream 'nope'"):
        recorder.append({"nope": np.zeros(1)})
    with pytest.raises(ValueError, match=r"must have shape \(n, 5, 5\)"):
        recorder.append({"samples": np.ones((1, 5, 4), np.int8)})
    with pytest.raises(ValueError, match="±1"):
        recorder.append({"samples": np.zeros((1, 5, 5), np.int8)})
    with pytest.raises(ValueError, match="±1"):  # nothing of a refused append is kept
        recorder.append({"energy": np.zeros(1), "samples": np.zeros((1, 5, 5), np.int8)})
    assert recorder.rows == dict.fromkeys(STREAMS, 0)
    with pytest.raises(RecordingError, match=f"is open for writing.*pid {os.getpid()}"):
        RunRecorder(tmp_path / "d.rec.h5", header(), STREAMS)
    recorder.close("finished")
    with pytest.raises(RecordingError, match="already exists"):
        RunRecorder(tmp_path / "d.rec.h5", header(), STREAMS)
    with pytest.raises(RecordingError, match="is closed"):
        recorder.append(rows(np.random.default_rng(0), 1))


def test_a_write_error_stops_the_recording_and_keeps_what_was_flushed(tmp_path):
    path = tmp_path / "r.rec.h5"
    rng = np.random.default_rng(3)
    first = rows(rng, 3)
    recorder = RunRecorder(path, header(), STREAMS)
    recorder.append(first)
    recorder.flush()
    recorder.append(rows(rng, 2))
    full = OSError(28, "No space left on device")
    with (
        mock.patch.object(h5py.Dataset, "resize", side_effect=full),
        pytest.raises(RecordingError, match="disk is full.*flushed before is kept") as error,
    ):
        recorder.flush()
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)
    assert not is_locked(path)  # the recorder let go of the file
    with pytest.raises(RecordingError, match="is closed"):
        recorder.append(first)
    run = read_recording(path)
    assert run.status == "interrupted"
    for name in STREAMS:
        np.testing.assert_array_equal(run.datasets[name], first[name])


def test_live_recordings_are_not_found_for_folding(tmp_path):
    session = tmp_path / "S.h5"
    directory = recordings_dir(session)
    assert directory == tmp_path / ".S.h5.recordings"
    live = RunRecorder(recording_path(directory, "a-1"), header("a-1"), STREAMS)
    done = RunRecorder(recording_path(directory, "a-2"), header("a-2"), STREAMS)
    done.close("finished")
    assert is_locked(live.path) and not is_locked(done.path)
    assert find_recordings(session) == [done.path]
    live.close("stopped")
    assert find_recordings(session) == [live.path, done.path]


def test_fold_adds_replaces_renames_and_is_idempotent(tmp_path):
    session = tmp_path / "S.h5"
    directory = recordings_dir(session)
    rng = np.random.default_rng(4)
    add_runs(
        session, [RunRecord(id="other-1", kind="rbm", status="finished", seed=None, params={})]
    )
    for run_id in ("ising-001", "ising-002", "other-1"):
        recorder = RunRecorder(recording_path(directory, run_id), header(run_id), STREAMS)
        recorder.append(rows(rng, 2))
        recorder.close("finished") if run_id != "ising-002" else recorder.abandon()
    recorded = {p.name: read_recording(p) for p in find_recordings(session)}
    with SessionLock(session):
        result = fold_recordings(session, log=["folded"])
    assert result.folded == ["ising-001", "ising-002", "other-1.recovered"]
    assert not directory.exists()  # recordings, their lock files and the folder are gone
    loaded = load_session(session)
    assert list(loaded.runs) == ["other-1", "ising-001", "ising-002", "other-1.recovered"]
    assert loaded.runs["ising-002"].status == "interrupted"
    renamed = recorded["other-1.rec.h5"]
    renamed.id = "other-1.recovered"
    assert loaded.runs["other-1.recovered"] == renamed
    assert loaded.log == ["folded"]
    # folding the same recording again (a kill between the session write and the deletion)
    recorder = RunRecorder(recording_path(directory, "ising-002"), header("ising-002"), STREAMS)
    again = rows(rng, 5)
    recorder.append(again)
    recorder.close("finished")
    assert fold_recordings(session).folded == ["ising-002"]
    loaded = load_session(session)
    assert list(loaded.runs) == ["other-1", "ising-001", "ising-002", "other-1.recovered"]
    np.testing.assert_array_equal(loaded.runs["ising-002"].datasets["energy"], again["energy"])
    assert read_run(session, "ising-002").status == "finished"


def test_fold_keeps_unreadable_recordings_and_creates_a_missing_session(tmp_path):
    session = tmp_path / "new.h5"
    directory = recordings_dir(session)
    recorder = RunRecorder(recording_path(directory, "a-1"), header("a-1"), STREAMS)
    recorder.close("failed", "boom")
    broken = directory / "b-1.rec.h5"
    broken.write_bytes(b"not hdf5")
    result = fold_recordings(session, finish=lambda run: (run.results.update(n=1), run)[1])
    assert result.folded == ["a-1"]
    assert [(p, "not an HDF5 file" in str(e)) for p, e in result.failed] == [(broken, True)]
    assert broken.exists()
    run = read_run(session, "a-1")
    assert run.status == "failed" and run.message == "boom" and run.results == {"n": 1}


def test_a_recording_that_cannot_be_completed_does_not_stop_the_others(tmp_path):
    """recover folds every recording it can and reports the rest (one line each), even when
    completing one raises (an exact reference out of range, say)."""
    session = tmp_path / "S.h5"
    directory = recordings_dir(session)
    for run_id in ("a-1", "b-1"):
        RunRecorder(recording_path(directory, run_id), header(run_id), STREAMS).close("finished")

    def finish(run: RunRecord) -> RunRecord:
        if run.id == "a-1":
            raise ValueError("no exact reference here")
        return run

    result = fold_recordings(session, finish=finish)
    assert result.folded == ["b-1"]
    assert [
        (p.name, "could not be completed: no exact reference here" in str(e))
        for p, e in result.failed
    ] == [("a-1.rec.h5", True)]
    assert recording_path(directory, "a-1").exists()


def test_unsaved_sessions_record_under_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    directory = recordings_dir(None, "0f3c9a")
    assert directory == tmp_path / "data" / "monge-lab" / "recordings" / "0f3c9a"
    assert unsaved_recordings_dirs() == []
    RunRecorder(recording_path(directory, "a-1"), header("a-1"), STREAMS).close("finished")
    assert unsaved_recordings_dirs() == [directory]
    with pytest.raises(ValueError, match="session uuid"):
        recordings_dir(None, "../x")


def test_files_that_are_not_recordings_are_refused_clearly(tmp_path):
    cases = {"missing.rec.h5": None, "empty.rec.h5": b"", "text.rec.h5": b"hello"}
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    with h5py.File(tmp_path / "plain.rec.h5", "w", libver="latest") as f:
        f.attrs["format"] = "something"
    messages = {}
    for name in [*cases, "plain.rec.h5"]:
        with pytest.raises(RecordingError) as error:
            read_recording(tmp_path / name)
        messages[name] = str(error.value)
        assert isinstance(error.value, SessionFileError)
    assert "does not exist" in messages["missing.rec.h5"]
    assert "is empty" in messages["empty.rec.h5"]
    assert "not an HDF5 file" in messages["text.rec.h5"]
    assert "not a Monge Lab recording" in messages["plain.rec.h5"]


def test_end_record_is_plain_json(tmp_path):
    """A plain h5py user reads the final status without Monge Lab."""
    path = tmp_path / "r.rec.h5"
    RunRecorder(path, header(), STREAMS).close("finished", "ok", "2026-11-22T15:00:00Z")
    with h5py.File(path, "r", swmr=True) as f:
        assert json.loads(f["end"][()].tobytes()) == {
            "status": "finished",
            "message": "ok",
            "finished": "2026-11-22T15:00:00Z",
        }
    assert os.path.getsize(path) > 0


def test_a_nearly_full_disk_stops_the_recording_cleanly(tmp_path, monkeypatch):
    """Below its reserve (sized by the run, at most MIN_FREE_BYTES) the recorder stops before
    HDF5 meets a full disk (HDF5 2.0 cannot close a file after a failed write; the process
    would crash at exit)."""
    path = tmp_path / "r.rec.h5"
    rng = np.random.default_rng(6)
    first = rows(rng, 2)
    recorder = RunRecorder(path, header(), STREAMS)
    recorder.append(first)
    recorder.flush()
    recorder.append(rows(rng, 2))
    real = os.statvfs(tmp_path)
    assert recorder.reserve_bytes <= MIN_FREE_BYTES
    almost_full = os.statvfs_result(
        (*real[:4], (recorder.reserve_bytes // real.f_frsize) - 1, *real[5:])
    )
    monkeypatch.setattr(os, "statvfs", lambda _: almost_full)
    with pytest.raises(RecordingError, match=r"disk is nearly full: \d+ MiB left.*is kept"):
        recorder.flush()
    monkeypatch.undo()
    assert not is_locked(path)
    run = read_recording(path)
    for name in STREAMS:
        np.testing.assert_array_equal(run.datasets[name], first[name])


def test_a_small_run_records_on_a_small_disk(tmp_path, monkeypatch):
    """The reserve is sized by the run: a 16×16 recording goes on with 8 MiB free (a fixed
    16 MiB reserve refused it), while a 1024×1024 one keeps the full MIN_FREE_BYTES."""
    small = {"samples": Stream((16, 16), np.int8, spins=True)}

    def sized(L: int) -> RunRecord:
        run = header()
        run.params["size"] = L
        return run

    recorder = RunRecorder(tmp_path / "small.rec.h5", sized(16), small)
    assert recorder.reserve_bytes < 8 << 20
    real = os.statvfs(tmp_path)
    eight_mib = os.statvfs_result((*real[:4], (8 << 20) // real.f_frsize, *real[5:]))
    monkeypatch.setattr(os, "statvfs", lambda _: eight_mib)
    recorder.append({"samples": frames(0, 10)})
    recorder.flush()
    monkeypatch.undo()
    recorder.close("finished")
    assert read_recording(tmp_path / "small.rec.h5").datasets["samples"].shape == (10, 16, 16)
    large = RunRecorder(
        tmp_path / "large.rec.h5",
        sized(2048),
        {"samples": Stream((2048, 2048), np.int8, spins=True)},
    )
    assert large.reserve_bytes == MIN_FREE_BYTES
    large.close("finished")


# ---------------------------------------------------------------------------- spins, threads


def frames(start: int, n: int, L: int = 16) -> np.ndarray:
    """Frames ``start … start + n - 1`` of a deterministic ±1 sequence (L×L)."""
    k = np.arange(start, start + n)[:, None, None]
    i, j = np.indices((L, L))
    return np.where((i * 7 + j * 3 + k * 5) % 11 < 6, 1, -1).astype(np.int8)


def spin_header(L: int = 16) -> RunRecord:
    return RunRecord(
        id="ising-001",
        kind="ising",
        status="running",
        seed=1,
        params={"size": L, "temperature": 2.269},
    )


SPIN_STREAMS = {
    "energy": Stream((), np.float64),
    "samples": Stream((16, 16), np.int8, spins=True, attrs={"units": "spin (±1)"}),
}
CHUNK = 1024  # frames of 16×16 per chunk of SPIN_CHUNK_BYTES


@pytest.mark.parametrize("direct", [True, False])
def test_spin_streams_are_int8_and_a_swmr_reader_sees_the_flushed_frames(
    tmp_path, monkeypatch, direct
):
    """One frame per append: whole chunks go through the writer thread (encoded and written
    directly, or, where the encoding did not match HDF5's, compressed by HDF5), the partly
    filled one is written at each flush and again once full; a plain h5py SWMR reader, kept
    open, sees every flushed frame."""
    if not direct:
        monkeypatch.setattr("data.recording.writer.direct_chunks_match", lambda s: False)
    path, clock = tmp_path / "r.rec.h5", Clock()
    recorder = RunRecorder(path, spin_header(), SPIN_STREAMS, clock=clock)
    assert recorder._buffers["samples"].strategies == ((zlib.Z_RLE,) if direct else None)
    with h5py.File(path, "r", swmr=True) as f:  # plain h5py from here on, except the recorder
        d = f["runs/ising-001/samples"]
        assert d.dtype == np.int8 and d.shape == (0, 16, 16) and d.chunks == (CHUNK, 16, 16)
        assert d.scaleoffset == 0 and d.compression == "gzip" and d.fletcher32
        appended = 0
        for total in (10, 2 * CHUNK + 300, 2 * CHUNK + 301, 4 * CHUNK):
            for k in range(appended, total):
                recorder.append({"energy": np.array([float(k)]), "samples": frames(k, 1)})
            appended = total
            recorder.flush()
            commit = f["resume/commit"]
            commit.refresh()
            d.refresh()
            assert commit[2:].tolist() == [total, total]
            np.testing.assert_array_equal(d[:total], frames(0, total))
        for k in range(appended, appended + CHUNK + 5):  # not flushed: not committed
            recorder.append({"energy": np.array([float(k)]), "samples": frames(k, 1)})
        assert read_recording(path).datasets["samples"].shape == (4 * CHUNK, 16, 16)
    recorder.close("finished")
    run = read_recording(path)
    np.testing.assert_array_equal(run.datasets["samples"], frames(0, 5 * CHUNK + 5))
    session = tmp_path / "S.h5"
    with SessionLock(session):
        fold_recordings(session, [path])
    with h5py.File(session, "r") as f:
        d = f["runs/ising-001/samples"]
        assert d.dtype == np.int8 and d.scaleoffset == 0 and d.compression_opts == 4
        np.testing.assert_array_equal(d[()], frames(0, 5 * CHUNK + 5))
        assert d.attrs["units"].decode() == "spin (±1)"


def test_a_write_error_in_the_writer_thread_stops_the_recording(tmp_path):
    path = tmp_path / "r.rec.h5"
    recorder = RunRecorder(path, spin_header(), SPIN_STREAMS)
    recorder.append({"energy": np.zeros(3), "samples": frames(0, 3)})
    recorder.flush()
    full = OSError(28, "No space left on device")
    with mock.patch.object(h5py.Dataset, "resize", side_effect=full):
        recorder.append({"energy": np.zeros(CHUNK), "samples": frames(3, CHUNK)})  # one chunk
        with pytest.raises(RecordingError, match="disk is full.*flushed before is kept"):
            recorder.flush()
    assert not is_locked(path)
    np.testing.assert_array_equal(read_recording(path).datasets["samples"], frames(0, 3))


def _record_until_killed(path: str, report: int) -> None:
    """Child: append one frame per call for ever, flushing every 20 ms; after each flush,
    write the committed count to the pipe ``report``."""
    done = [0]
    recorder = RunRecorder(
        path,
        spin_header(),
        SPIN_STREAMS,
        flush_seconds=0.02,
        state_source=lambda: {"next": np.array(done)},
        on_flush=lambda rows: os.write(report, b"%d\n" % rows["energy"]),
    )
    while True:
        k = done[0]
        done[0] = k + 1  # the state as of the rows appended, this frame included
        recorder.append({"energy": np.array([float(k)]), "samples": frames(k, 1)})


@pytest.mark.parametrize("delay", [0.15, 0.4, 0.75, 1.3])
def test_a_kill_at_any_moment_leaves_a_consistent_recording(tmp_path, delay):
    """SIGKILL while the writer thread may be writing a chunk, or the caller flushing: the
    reader finds every stream as of the same flush, with the state of exactly those rows, and
    at least what the child reported committed."""
    path = str(tmp_path / "r.rec.h5")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _record_until_killed(path, write_end)
        finally:
            os._exit(1)
    os.close(write_end)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL  # not a crash
    with os.fdopen(read_end) as reports:
        reported = [int(line) for line in reports.read().split()]
    run = read_recording(path)
    n = len(run.datasets["energy"])
    assert run.status == "interrupted" and n >= max(reported, default=0)
    np.testing.assert_array_equal(run.datasets["energy"], np.arange(n, dtype=float))
    np.testing.assert_array_equal(run.datasets["samples"], frames(0, n))
    assert run.datasets["resume/next"].tolist() == [n]


def test_the_writer_thread_runs_only_while_there_is_work(tmp_path):
    """A recorder left open (never closed) holds no thread once its chunks are written."""
    from data.recording.writer import WRITER_IDLE_S

    def writers() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name == "recording ising-001"]

    recorder = RunRecorder(tmp_path / "r.rec.h5", spin_header(), SPIN_STREAMS)
    assert writers() == []
    recorder.append({"energy": np.zeros(2 * CHUNK), "samples": frames(0, 2 * CHUNK)})
    recorder.flush()
    deadline = time.monotonic() + WRITER_IDLE_S + 5
    while writers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writers() == []
    recorder.append({"energy": np.zeros(CHUNK), "samples": frames(2 * CHUNK, CHUNK)})  # again
    recorder.close("finished")
    assert writers() == []
    np.testing.assert_array_equal(
        read_recording(tmp_path / "r.rec.h5").datasets["samples"], frames(0, 3 * CHUNK)
    )
