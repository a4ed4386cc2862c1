"""The main window driven as a user would: run, pause, step, paint, stop, scan, save, reopen."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from widgets.shell.main_window import MainWindow


@pytest.fixture
def window(qtbot, answers):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def configure(dock, size=16, algorithm="metropolis", record=False, samples=0, interval=1):
    dock.size_box.setValue(size)
    dock.algorithm_box.setCurrentText(algorithm)
    dock.thermalize_box.setValue(10)
    dock.interval_box.setValue(interval)
    dock.samples_box.setValue(samples)
    dock.record_box.setChecked(record)


def test_window_opens_with_uniquely_named_docks_and_menus(window):
    from PySide6.QtWidgets import QDockWidget

    docks = window.findChildren(QDockWidget)
    names = [d.objectName() for d in docks]
    assert {"isingDock", "scanDock", "sessionBrowserDock", "logDock"} <= set(names)
    assert len(names) == len(set(names)) and all(names)
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "View", "Help"]  # Help: the first-hour issue


def test_simulation_runs_pauses_steps_and_stops(window, qtbot):
    dock = window.ising_dock
    configure(dock)
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    live = window.live
    qtbot.waitUntil(
        lambda: live.snapshot() is not None and live.snapshot().sweeps > 20, timeout=10000
    )
    qtbot.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: live.state == "paused", timeout=5000)
    qtbot.waitUntil(lambda: dock.pause_button.text() == "Resume", timeout=2000)
    assert dock.step_button.isEnabled()
    paused_at = live.snapshot().sweeps
    QTest.qWait(100)
    assert live.snapshot().sweeps == paused_at
    qtbot.mouseClick(dock.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: live.snapshot().sweeps > paused_at, timeout=5000)
    qtbot.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)  # resume
    qtbot.waitUntil(lambda: live.snapshot().sweeps > paused_at + 20, timeout=10000)
    qtbot.waitUntil(lambda: dock.lattice.frames_drawn > 3, timeout=5000)
    qtbot.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    assert live.state == "stopped"
    assert not live.job.is_alive()
    qtbot.waitUntil(dock.start_button.isEnabled, timeout=2000)
    assert not dock.stop_button.isEnabled()


def test_painting_while_paused_changes_the_spins(window, qtbot):
    dock = window.ising_dock
    configure(dock, size=8)
    dock.temperature.setValue(0.5)
    dock.start()
    live = window.live
    qtbot.waitUntil(lambda: live.snapshot() is not None, timeout=10000)
    live.pause()
    qtbot.waitUntil(lambda: dock.lattice.paint_enabled, timeout=5000)  # follows the state event

    def click_cell(row: int, col: int, button) -> None:
        image = dock.lattice.image
        scene_pos = image.mapToScene(QPointF(col + 0.5, row + 0.5))
        view_pos = dock.lattice.mapFromScene(scene_pos)
        QTest.mouseClick(
            dock.lattice.viewport(),
            button,
            Qt.KeyboardModifier.NoModifier,
            QPoint(view_pos.x(), view_pos.y()),
        )

    for target, button in ((1, Qt.MouseButton.LeftButton), (-1, Qt.MouseButton.RightButton)):
        click_cell(3, 5, button)
        qtbot.waitUntil(lambda t=target: live.snapshot().spins[3, 5] == t, timeout=5000)
    assert live.snapshot().energy.size == 0  # statistics restart after painting
    live.stop()


def test_temperature_change_while_recording_starts_a_linked_run(window, qtbot):
    dock = window.ising_dock
    configure(dock, size=8, record=True)
    dock.temperature.setValue(3.0)
    dock.start()
    live = window.live
    first = live.recording_run_id
    qtbot.waitUntil(
        lambda: live.snapshot() is not None and live.snapshot().recorded > 5, timeout=10000
    )
    dock.temperature.setValue(2.0)
    qtbot.waitUntil(lambda: live.recording_run_id not in ("", first), timeout=5000)
    second = live.recording_run_id
    qtbot.waitUntil(lambda: window.session.run(first).status == "finished", timeout=5000)
    qtbot.waitUntil(lambda: live.snapshot().recorded > 5, timeout=10000)
    live.stop()
    qtbot.waitUntil(lambda: window.session.run(second).status == "stopped", timeout=5000)
    assert [r.id for r in window.session.runs()] == [first, second]
    run1, run2 = window.session.run(first), window.session.run(second)
    assert run1.params["temperature"] == pytest.approx(3.0)
    assert run2.params["temperature"] == pytest.approx(2.0)
    assert run2.inputs == [first]
    assert run1.datasets["samples"].shape[0] == run1.datasets["energy"].shape[0] > 5


def test_stop_then_start_at_once_closes_the_right_run(window, qtbot):
    dock = window.ising_dock
    configure(dock, size=8, record=True)
    live = window.live
    dock.start()
    first = live.recording_run_id
    qtbot.waitUntil(lambda: live.snapshot() is not None, timeout=10000)
    live.stop()  # returns with the first run closed, no event loop turn needed
    assert window.session.run(first).status == "stopped"
    dock.start()
    second = live.recording_run_id
    assert second != first
    qtbot.waitUntil(
        lambda: live.snapshot() is not None and live.snapshot().recorded > 0, timeout=10000
    )
    assert window.session.run(first).status == "stopped"
    assert window.session.run(second).status == "running"
    live.stop()
    assert window.session.run(second).status == "stopped"


def test_unchanged_values_do_not_cut_the_recorded_run(window, qtbot):
    dock = window.ising_dock
    configure(dock, size=8, record=True)
    dock.start()
    live = window.live
    first = live.recording_run_id
    live.set_field(dock.field_box.value())
    live.set_temperature(float(dock.temperature.value()))
    QTest.qWait(50)
    assert live.recording_run_id == first
    live.stop()


def test_save_and_reopen_restore_runs_and_layout(window, qtbot, tmp_path, answers):
    dock = window.ising_dock
    configure(dock, size=8, record=True, samples=30, algorithm="wolff")
    dock.start()
    live = window.live
    run_id = live.recording_run_id
    qtbot.waitUntil(lambda: window.session.run(run_id).status == "finished", timeout=20000)
    window.log_dock.hide()
    path = tmp_path / "session.h5"
    assert window._save_to(path)
    saved = window.session.run(run_id)
    window.session.close()  # gives up the file's lock, as closing the window does

    other = MainWindow()
    qtbot.addWidget(other)
    other.show()
    assert other.log_dock.isVisible()
    assert other.open_path(path)
    assert not other.log_dock.isVisible()
    reopened = other.session.run(run_id)
    assert reopened.params == saved.params
    np.testing.assert_array_equal(reopened.datasets["samples"], saved.datasets["samples"])
    assert other.browser_dock.tree.topLevelItemCount() == 1
    other.browser_dock.select(run_id)
    assert other.ising_dock.replay_row.isVisible()
    other.ising_dock.frame_slider.setValue(0)
    assert "frame 1/30" in other.ising_dock.frame_label.text()
    other.close()


def test_opening_a_damaged_file_shows_one_clear_error(window, tmp_path, answers):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    assert not window.open_path(bad)
    assert len(answers["errors"]) == 1 and "bad.h5" in answers["errors"][0]


def test_scan_validates_its_input_and_records_every_temperature(window, qtbot):
    scan = window.scan_dock
    scan.temperatures_edit.setText("2.0:abc")
    assert scan.error_label.text() != ""
    scan.start()
    assert window.scan.job is None
    scan.temperatures_edit.setText("2.0, 3.0")
    assert scan.error_label.text() == ""
    scan.size_box.setValue(4)
    scan.samples_box.setValue(50)
    scan.thermalize_box.setValue(20)
    scan.start()
    qtbot.waitUntil(lambda: window.scan.job.state.is_terminal, timeout=30000)
    qtbot.waitUntil(lambda: window.scan.scan_run.status == "finished", timeout=5000)
    run = window.scan.scan_run
    assert len(run.inputs) == 2
    np.testing.assert_allclose(run.datasets["temperature"], [2.0, 3.0])
    assert np.all(np.isfinite(run.datasets["e"])) and np.all(run.datasets["e_error"] > 0)
    kinds = [r.kind for r in window.session.runs()]
    assert kinds.count("ising") == 2 and kinds.count("ising-scan") == 1


def test_closing_mid_run_stops_every_thread_and_keeps_the_samples(qtbot, answers):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    configure(win.ising_dock, size=32, record=True)
    win.ising_dock.start()
    run_id = win.live.recording_run_id
    qtbot.waitUntil(
        lambda: win.live.snapshot() is not None and win.live.snapshot().recorded > 3, timeout=10000
    )
    assert win.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("monge-lab:")]
    run = win.session.run(run_id)
    assert run.status == "stopped" and run.datasets["samples"].shape[0] > 3


def test_help_menu_shows_the_guide_the_file_reference_and_about(window, qtbot):
    """Help: the README by section, docs/session-format.md, and About with the version, the
    session's file and the data directory."""
    from lab.core.version import APP_VERSION
    from widgets.shell import guide

    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Help" in titles
    dialog = guide.user_guide_dialog(window)
    qtbot.addWidget(dialog)
    sections = [dialog.index.item(i).text() for i in range(dialog.index.count())]
    assert "Install and run" in sections and "Run the tests" in sections
    dialog.index.setCurrentRow(sections.index("Run the tests"))
    assert "pytest" in dialog.text.toPlainText()
    reference = guide.session_format_dialog(window)
    qtbot.addWidget(reference)
    assert "schema_version" in reference.text.toPlainText()
    box = guide.about_box(window.session.path, window)
    assert APP_VERSION in box.text() and "not saved yet" in box.text()
    assert "monge-lab" in box.text()


def test_the_lattice_shows_the_first_configuration_before_start(window):
    """Before Start the lattice shows the configuration the run will start from (not a black
    square), and follows the size and seed."""
    from lab.ising.task import initial_configuration
    from widgets.common.lattice_view import spins_to_index_image

    dock = window.ising_dock
    shown = dock.lattice.image.image
    first = initial_configuration(dock.params())
    np.testing.assert_array_equal(shown, spins_to_index_image(first))
    assert 0 < first.mean() + 1 < 2  # a random start: both signs present
    dock.size_box.setValue(16)
    dock.show_initial_configuration()
    np.testing.assert_array_equal(
        dock.lattice.image.image, spins_to_index_image(initial_configuration(dock.params()))
    )
    assert dock.lattice.image.image.shape == (16, 16)
