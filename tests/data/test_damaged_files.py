"""Damaged session files: load_session returns a valid record or raises SessionFileError.

The same holds for live recordings (read_recording: a valid run or a RecordingError).

Hypothesis truncates files, overwrites byte ranges with random bytes, and splices the start of one
session onto the end of another. Whatever comes out must either load as a record that can be
saved again, or raise SessionFileError with a one-line message; never another exception, a crash
or a hang. (A hang is turned into a failure by faulthandler's watchdog, which ends the process.)
"""

from __future__ import annotations

import faulthandler
import functools
import os
import signal
import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from data import (
    RunRecord,
    SessionFileError,
    SessionRecord,
    add_runs,
    load_session,
    read_run,
    replace_runs,
    save_session,
)
from data.recording import RecordingError, RunRecorder, Stream, read_recording
from data.schema import validate_run

HANG_LIMIT_S = 60
"""One load of a file of a few tens of kilobytes takes milliseconds; this long means a hang."""


@functools.cache
def session_files() -> tuple[bytes, bytes]:
    """Two different small session files: one written whole, one built by add_runs and
    replace_runs. Both have runs with attribute groups, nested and empty ones included."""
    rng = np.random.default_rng(7)
    ising = RunRecord(
        id="ising-001",
        kind="ising",
        status="finished",
        seed=3,
        params={
            "size": 8,
            "temperature": 2.5,
            "algorithm": "metropolis",
            "record_spins": True,
            "sizes": [4, 8],
            "names": ["a", "β"],
        },
        created="2026-11-22T14:00:00Z",
        finished="2026-11-22T14:01:00Z",
        datasets={
            "samples": rng.choice(np.array([-1, 1], dtype=np.int8), size=(12, 8, 8)),
            "energy": rng.normal(size=12),
            "correlation/C": rng.normal(size=4).astype(np.float32),
            "empty": np.zeros((0, 3)),
        },
        dataset_attrs={"energy": {"units": "J per spin", "axes": "sample"}},
        results={"e": -1.2, "e_error": 0.01, "n_samples": 12},
        groups={"correlation/fit": {"xi": 1.5, "model": "exp"}, "marker": {}},
    )
    rbm = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="stopped",
        seed=None,
        params={f"p{i}": float(i) for i in range(12)},
        inputs=["ising-001"],
        datasets={"checkpoints/W": rng.normal(size=(2, 16, 4))},
        message="stopped by the user",
        groups={
            "evaluation": {"log_z": 12.3, "log_z_error": 0.01, "log_z_method": "ais"},
            "evaluation/data-ising-001": {"nll": 0.71, "epochs": [0, 10]},
        },
    )
    whole = SessionRecord(
        runs={"ising-001": ising, "rbm-001": rbm},
        ui={"window_state": bytes(range(64)), "panels": '{"k": "v"}'},
        log=["created", "ünïcode 🙂"],
        created="2026-11-22T13:59:00Z",
        app_version="0.1.0",
    )
    with tempfile.TemporaryDirectory() as directory:
        first = os.path.join(directory, "first.h5")
        save_session(whole, first)
        second = os.path.join(directory, "second.h5")
        add_runs(second, [rbm], log=["one"])
        add_runs(second, [ising], log=["two"])
        replace_runs(second, [rbm], log=["three"])
        with open(first, "rb") as a, open(second, "rb") as b:
            return a.read(), b.read()


@st.composite
def damaged_bytes(draw) -> bytes:
    first, second = session_files()
    base = draw(st.sampled_from([first, second]))
    how = draw(st.sampled_from(["truncate", "overwrite", "splice"]))
    if how == "truncate":
        return base[: draw(st.integers(0, len(base) - 1))]
    if how == "overwrite":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 4))):
            start = draw(st.integers(0, len(data) - 1))
            patch = draw(st.binary(min_size=1, max_size=256))
            data[start : start + len(patch)] = patch[: len(data) - start]
        return bytes(data)
    other = second if base is first else first
    cut = draw(st.integers(0, len(base)))
    resume = draw(st.integers(0, len(other)))
    return base[:cut] + other[resume:]


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(data=damaged_bytes())
def test_damaged_file_loads_or_raises_session_file_error(data):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "damaged.h5")
        with open(path, "wb") as handle:
            handle.write(data)
        faulthandler.dump_traceback_later(HANG_LIMIT_S, exit=True)
        try:
            _check_read_run(path)
            record = load_session(path)
        except SessionFileError as exc:
            message = str(exc)
            assert message.startswith(path) and "\n" not in message
            return
        finally:
            faulthandler.cancel_dump_traceback_later()
        assert isinstance(record, SessionRecord)
        resaved = os.path.join(directory, "resaved.h5")
        save_session(record, resaved)  # raises ValueError if the record were not valid
        assert load_session(resaved) == record


def _check_read_run(path: str) -> None:
    """read_run of each base run: a valid run, a SessionFileError, or "no run" if it is gone."""
    for run_id in ("ising-001", "rbm-001"):
        try:
            run = read_run(path, run_id)
        except SessionFileError as exc:
            message = str(exc)
            assert message.startswith(path) and "\n" not in message
            continue
        except ValueError as exc:
            assert str(exc) == f"no run {run_id!r} in {path}"
            continue
        assert run.id == run_id
        validate_run(run)  # raises ValueError if the run could not be saved again


def test_undamaged_files_load():
    """The bases of the property test are themselves valid sessions."""
    for data in session_files():
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "S.h5")
            with open(path, "wb") as handle:
                handle.write(data)
            record = load_session(path)
            assert sorted(record.runs) == ["ising-001", "rbm-001"]
            assert record.runs["rbm-001"].groups["evaluation"]["log_z_method"] == "ais"
            assert record.runs["ising-001"].groups["marker"] == {}
            assert read_run(path, "rbm-001") == record.runs["rbm-001"]


# ---------------------------------------------------------------------------- recordings


def _record(path: str, end: str) -> None:
    """A small recording with packed spins, float series and a resume state; ``end`` is
    "close" (finished), "abandon" (closed file, run not closed) or "kill" (SIGKILL of the
    process writing it, after three flushes)."""
    rng = np.random.default_rng(8)
    streams = {
        "energy": Stream((), np.float64, attrs={"units": "J per spin"}),
        "samples": Stream((6, 6), np.int8, spins=True),
    }
    header = RunRecord(id="ising-001", kind="ising", status="running", seed=1, params={"size": 6})
    recorder = RunRecorder(
        path, header, streams, state_source=lambda: {"rng": rng.integers(0, 9, 4)}
    )
    for _ in range(3):
        recorder.append(
            {
                "energy": rng.normal(size=5),
                "samples": rng.choice(np.array([-1, 1], np.int8), (5, 6, 6)),
            }
        )
        recorder.flush()
    if end == "close":
        recorder.close("finished")
    elif end == "abandon":
        recorder.abandon()
    else:
        os.kill(os.getpid(), signal.SIGKILL)


@functools.cache
def recording_files() -> tuple[bytes, ...]:
    """Three small recordings: closed, abandoned, and killed while open (in a forked child)."""
    out = []
    with tempfile.TemporaryDirectory() as directory:
        for end in ("close", "abandon", "kill"):
            path = os.path.join(directory, f"{end}.rec.h5")
            if end != "kill":
                _record(path, end)
            else:
                pid = os.fork()
                if pid == 0:
                    try:
                        _record(path, end)
                    finally:
                        os._exit(1)  # only if the kill did not happen
                _, status = os.waitpid(pid, 0)
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            with open(path, "rb") as handle:
                out.append(handle.read())
    return tuple(out)


@st.composite
def damaged_recording(draw) -> bytes:
    files = recording_files()
    base = draw(st.sampled_from(files))
    how = draw(st.sampled_from(["truncate", "overwrite", "splice"]))
    if how == "truncate":
        return base[: draw(st.integers(0, len(base) - 1))]
    if how == "overwrite":
        data = bytearray(base)
        for _ in range(draw(st.integers(1, 4))):
            start = draw(st.integers(0, len(data) - 1))
            patch = draw(st.binary(min_size=1, max_size=256))
            data[start : start + len(patch)] = patch[: len(data) - start]
        return bytes(data)
    other = draw(st.sampled_from([f for f in files if f is not base]))
    return base[: draw(st.integers(0, len(base)))] + other[draw(st.integers(0, len(other))) :]


@settings(max_examples=90, deadline=None, derandomize=True, database=None)
@given(data=damaged_recording())
def test_damaged_recording_reads_or_raises_recording_error(data):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "damaged.rec.h5")
        with open(path, "wb") as handle:
            handle.write(data)
        faulthandler.dump_traceback_later(HANG_LIMIT_S, exit=True)
        try:
            run = read_recording(path)
        except RecordingError as exc:
            message = str(exc)
            assert message.startswith(path) and "\n" not in message
            return
        finally:
            faulthandler.cancel_dump_traceback_later()
        validate_run(run)  # a valid run: it can go into a session
        assert run.status in ("finished", "interrupted")


def test_undamaged_recordings_read():
    statuses = ("finished", "interrupted", "interrupted")
    for data, status in zip(recording_files(), statuses, strict=True):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "r.rec.h5")
            with open(path, "wb") as handle:
                handle.write(data)
            run = read_recording(path)
            assert run.status == status and run.datasets["samples"].shape == (15, 6, 6)
