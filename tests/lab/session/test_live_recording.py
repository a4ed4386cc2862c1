"""Live recording from the GUI's controllers: the Ising live run, a crash and its recovery, RBM
training, and the session lock (lab level, Qt core, offscreen)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data import RunRecord, load_session
from data.lock import SessionLockedError
from data.recording import read_recording, recording_path
from engines.ising import IsingParams
from engines.rbm import RBMConfig, RBMTrainer
from lab.core.jobs import JobManager
from lab.ising.controller import LiveIsingController
from lab.ising.runs import complete_ising_run
from lab.ising.task import IsingPlan
from lab.rbm.controller import RBMTrainingController
from lab.rbm.runs import (
    complete_rbm_recording,
    pack_trainer_state,
    resumable_epoch,
    trainer_state_from_run,
    unpack_trainer_state,
)
from lab.session.session import Session


@pytest.fixture(autouse=True)
def own_data_home(tmp_path, monkeypatch):
    """Recordings of unsaved sessions go to this test's own folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))


def start_live(qtbot, session: Session) -> LiveIsingController:
    live = LiveIsingController(session, JobManager())
    params = IsingParams(size=8, temperature=2.5, algorithm="metropolis", seed=5)
    live.start(
        params, IsingPlan(thermalize=10, interval=1, samples=None, record_spins=True), record=True
    )
    return live


def test_a_second_session_cannot_open_or_save_onto_a_locked_file(tmp_path):
    path = tmp_path / "s.h5"
    first, second = Session(), Session()
    first.save(path)
    with pytest.raises(SessionLockedError, match="open for writing in another Monge Lab"):
        second.load(path)
    with pytest.raises(SessionLockedError):
        second.save(path)
    assert second.path is None
    first.close()
    second.load(path)
    assert second.path == path
    second.close()


def test_live_ising_run_is_recorded_while_running_and_folded_on_save(qtbot, tmp_path):
    session = Session()
    live = start_live(qtbot, session)
    run_id = live.recording_run_id
    path = recording_path(session.recordings_directory(), run_id)
    qtbot.waitUntil(
        lambda: path.exists() and read_recording(path).datasets["energy"].size > 0, timeout=15000
    )  # the first flush comes within FLUSH_SECONDS
    partial = read_recording(path)
    assert partial.status == "interrupted"  # not closed yet: what a crash would leave
    live.stop()
    memory = session.run(run_id)
    n = memory.datasets["energy"].size
    assert partial.datasets["energy"].size <= n
    np.testing.assert_array_equal(
        partial.datasets["energy"], memory.datasets["energy"][: partial.datasets["energy"].size]
    )
    closed = read_recording(path)
    assert closed.status == "stopped"
    np.testing.assert_array_equal(closed.datasets["samples"], memory.datasets["samples"])
    np.testing.assert_array_equal(closed.datasets["sweep"], memory.datasets["sweep"])
    session.save(tmp_path / "s.h5")
    assert not path.exists()  # folded: the run is in the file
    saved = load_session(tmp_path / "s.h5").runs[run_id]
    assert saved.status == "stopped"
    np.testing.assert_array_equal(saved.datasets["samples"], memory.datasets["samples"])
    session.close()


def test_a_crashed_live_run_is_recovered_interrupted_with_its_frames(qtbot, tmp_path):
    session = Session()
    live = start_live(qtbot, session)
    run_id = live.recording_run_id
    tee = live._segment.recording
    qtbot.waitUntil(lambda: tee.recorder.committed["energy"] > 3, timeout=15000)
    live.pause()
    qtbot.waitUntil(lambda: live.state == "paused", timeout=5000)
    flushed = tee.recorder.committed["energy"]
    tee.recorder.abandon()  # the process dies: nothing more is flushed, nothing is closed
    tee.recorder = None
    session._unsaved_lock.release()  # ... and the OS releases its locks
    live.stop()
    frames = session.run(run_id).datasets["samples"][:flushed]

    fresh = Session()  # the next start of the program
    items = [i for i in fresh.recoverable() if i.run_id == run_id]
    assert len(items) == 1 and items[0].kind == "ising" and items[0].rows == flushed
    assert fresh.recover(items, finish=complete_ising_run) == [run_id]
    run = fresh.run(run_id)
    assert run.status == "interrupted" and fresh.dirty
    np.testing.assert_array_equal(run.datasets["samples"], frames)
    assert run.results["n_samples"] == flushed
    fresh.save(tmp_path / "recovered.h5")
    assert fresh.recoverable() == []
    assert load_session(tmp_path / "recovered.h5").runs[run_id].status == "interrupted"
    fresh.close()


def test_rbm_training_records_history_and_checkpoints_live(qtbot):
    session = Session()
    rng = np.random.default_rng(0)
    data = RunRecord(
        id="", kind="ising", status="finished", seed=0, params={"size": 3, "temperature": 3.0}
    )
    data.datasets["samples"] = rng.choice(np.array([-1, 1], dtype=np.int8), size=(64, 3, 3))
    session.add_run(data)
    controller = RBMTrainingController(session, JobManager())
    epochs = 3
    run_id = controller.start(
        [data.id], RBMConfig(n_hidden=2, batch_size=16, epochs=epochs, seed=1)
    )
    qtbot.waitUntil(lambda: session.run(run_id).status == "finished", timeout=30000)
    recorded = read_recording(recording_path(session.recordings_directory(), run_id))
    memory = session.run(run_id)
    assert recorded.status == "finished"
    np.testing.assert_array_equal(recorded.datasets["history/epoch"], np.arange(epochs + 1))
    for name in ("epoch", "W", "a", "b"):
        np.testing.assert_array_equal(
            recorded.datasets[f"checkpoints/{name}"], memory.datasets[f"checkpoints/{name}"]
        )
    np.testing.assert_array_equal(
        recorded.datasets["history/nll_train"], memory.datasets["history/nll_train"]
    )
    # the resume slot holds the trainer state of the last checkpoint: a recovered run resumes
    recovered = complete_rbm_recording(recorded)
    assert "resume/trainer" not in recovered.datasets
    state, saved = trainer_state_from_run(recovered), trainer_state_from_run(memory)
    assert state.keys() == saved.keys() and state["epoch"] == saved["epoch"] == epochs
    for name, value in saved.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(state[name], value)
    assert resumable_epoch(recovered) == epochs
    session.close()


def test_trainer_state_blob_round_trip_and_damage():
    trainer = RBMTrainer(
        RBMConfig(n_hidden=3, batch_size=8, epochs=2, seed=4),
        np.where(np.random.default_rng(1).random((40, 9)) < 0.5, 1, -1),
    )
    trainer.step_batch()
    state = trainer.state_dict()
    arrays, meta = unpack_trainer_state(pack_trainer_state(state))
    assert json.loads(meta)["updates"] == 1
    for name, value in state.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(arrays[f"trainer/{name}"], value)
    assert unpack_trainer_state(pack_trainer_state(None)) is None
    blob = pack_trainer_state(state)
    with pytest.raises(ValueError, match="truncated"):
        unpack_trainer_state(blob[: blob.size // 2])
    damaged = blob.copy()
    damaged[8:40] = 0
    with pytest.raises(ValueError, match="damaged"):
        unpack_trainer_state(damaged)
