"""Safety in the window: the lock dialog, autosave, and recovery through the dialog."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from data import RunRecord, load_session
from data.recording import RunRecorder, recording_path, recordings_dir
from lab.core.ids import utc_now
from lab.ising.runs import ising_streams
from widgets.shell import dialogs
from widgets.shell.main_window import MainWindow
from widgets.shell.recovery_dialog import RecoveryDialog


@pytest.fixture(autouse=True)
def own_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))


@pytest.fixture
def answers(monkeypatch):
    record = {"locked": [], "errors": [], "recovery": ("later", None), "offered": []}
    monkeypatch.setattr(
        dialogs, "show_locked", lambda parent, title, text: record["locked"].append(text)
    )
    monkeypatch.setattr(
        dialogs, "show_error", lambda parent, title, text: record["errors"].append(text)
    )
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")

    def ask_recovery(parent, items):
        record["offered"].append(items)
        choice, chosen = record["recovery"]
        return choice, items if chosen is None else chosen

    monkeypatch.setattr(dialogs, "ask_recovery", ask_recovery)
    return record


def new_window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def leftover_recording(rows: int) -> RunRecord:
    """What a killed program leaves: an unsaved session's recording, flushed, never closed."""
    header = RunRecord(
        id="ising-001",
        kind="ising",
        status="running",
        seed=3,
        created=utc_now(),
        params={
            "size": 4,
            "temperature": 2.0,
            "coupling": 1.0,
            "field": 0.0,
            "algorithm": "wolff",
            "thermalize": 1,
            "interval": 1,
            "record_spins": True,
        },
    )
    path = recording_path(recordings_dir(None, "0123abcd"), header.id)
    recorder = RunRecorder(path, header, ising_streams(4, True))
    spins = np.ones((rows, 4, 4), dtype=np.int8)
    recorder.append(
        {
            "energy": np.full(rows, -2.0),
            "magnetization": np.ones(rows),
            "sweep": np.arange(rows),
            "samples": spins,
        }
    )
    recorder.flush()
    recorder.abandon()
    return header


def test_a_locked_file_is_neither_opened_nor_saved_onto(qtbot, tmp_path, answers):
    path = tmp_path / "s.h5"
    first, second = new_window(qtbot), new_window(qtbot)
    assert first._save_to(path)
    assert not second.open_path(path)
    assert not second._save_to(path)
    assert len(answers["locked"]) == 2
    assert all("another Monge Lab" in text and "s.h5" in text for text in answers["locked"])
    assert second.session.path is None and answers["errors"] == []
    first.close()  # releases the lock
    assert second.open_path(path)
    second.close()


def test_autosave_writes_a_dirty_session_and_says_so(qtbot, tmp_path, answers):
    win = new_window(qtbot)
    path = tmp_path / "s.h5"
    assert win._save_to(path)
    win.session.add_run(RunRecord(id="", kind="note", status="finished", seed=None, params={}))
    win.autosaver.set_interval_ms(20)
    qtbot.waitUntil(lambda: not win.session.dirty, timeout=5000)
    assert [r.kind for r in load_session(path).runs.values()] == ["note"]
    assert win.statusBar().currentMessage().startswith("autosaved at ")
    win.close()


def test_recovery_dialog_lists_and_returns_the_choice(qtbot):
    header = leftover_recording(rows=5)
    win = new_window(qtbot)
    items = win.session.recoverable()
    dialog = RecoveryDialog(items)
    qtbot.addWidget(dialog)
    row = dialog.tree.topLevelItem(0)
    assert [row.text(i) for i in range(4)] == [header.id, "ising", "5", header.created]
    assert row.text(5) == "interrupted"
    qtbot.mouseClick(dialog.findChild(QPushButton, "recoverButton"), Qt.MouseButton.LeftButton)
    assert dialog.choice == "recover" and dialog.selected() == items
    win.close()


def test_file_recover_puts_the_leftover_run_back_interrupted(qtbot, tmp_path, answers):
    header = leftover_recording(rows=7)
    win = new_window(qtbot)
    answers["recovery"] = ("recover", None)
    assert win.offer_recovery(on_demand=True) == [header.id]
    run = win.session.run(header.id)
    assert run.status == "interrupted" and run.datasets["samples"].shape == (7, 4, 4)
    assert run.results["n_samples"] == 7
    assert win._save_to(tmp_path / "recovered.h5")
    assert win.session.recoverable() == []  # the recording went into the file
    assert load_session(tmp_path / "recovered.h5").runs[header.id].status == "interrupted"
    win.close()


def test_discard_deletes_and_later_keeps(qtbot, answers):
    leftover_recording(rows=2)
    win = new_window(qtbot)
    answers["recovery"] = ("later", None)
    assert win.offer_recovery(on_demand=False) == []
    assert len(win.session.recoverable()) == 1
    answers["recovery"] = ("discard", None)
    win.offer_recovery(on_demand=False)
    assert win.session.recoverable() == []
    assert not recordings_dir(None, "0123abcd").exists()
    win.close()


def test_a_recording_that_cannot_be_recovered_is_named_in_an_error_and_kept(qtbot, answers):
    header = leftover_recording(rows=3)
    broken = recording_path(recordings_dir(None, "0123abcd"), "ising-002")
    broken.write_bytes(b"not hdf5")
    win = new_window(qtbot)
    answers["recovery"] = ("recover", None)
    assert win.offer_recovery(on_demand=True) == [header.id]
    assert [(item.path, "not an HDF5 file" in why) for item, why in win.session.unrecovered] == [
        (broken, True)
    ]
    assert len(answers["errors"]) == 1 and "ising-002.rec.h5: " in answers["errors"][0]
    assert broken.read_bytes() == b"not hdf5"
    win.close()
