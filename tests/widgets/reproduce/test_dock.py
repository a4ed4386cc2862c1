"""The Reproductions dock driven as a user would: choose, check the settings, run a quick
reproduction, read its table and figures, reopen it from the session browser, stop one."""

from __future__ import annotations

import pytest

from lab.core.kinds import run_kind, view_of
from lab.reproduce.runs import ReproductionRunView
from widgets.shell.main_window import MainWindow


@pytest.fixture
def window(qtbot, answers):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.reproduce_dock.raise_()
    yield win
    win.close()


def choose(dock, name: str) -> None:
    dock.experiment_box.setCurrentIndex(dock.experiment_box.findData(name))


def test_the_kind_is_registered_with_the_dock():
    kind = run_kind("reproduction")
    assert kind.view is ReproductionRunView and kind.dock == "reproduceDock"


def test_bad_settings_are_said_next_to_the_field_and_block_start(window):
    dock = window.reproduce_dock
    choose(dock, "combe-4.1")
    dock.quick_box.setChecked(True)
    assert dock.start_button.isEnabled()
    dock.overrides_edit.setText("epochs=0")
    assert "epochs" in dock.error_label.text() and not dock.start_button.isEnabled()
    dock.overrides_edit.setText("nonsense=3")
    assert "unknown setting" in dock.error_label.text()
    dock.overrides_edit.setText("epochs=20; seeds=2")
    assert dock.error_label.text() == "" and dock.start_button.isEnabled()
    assert "epochs = 20" in dock.settings_label.text()


def test_a_quick_reproduction_runs_and_shows_its_table_and_figures(window, qtbot, tmp_path):
    dock = window.reproduce_dock
    choose(dock, "combe-4.1")
    dock.quick_box.setChecked(True)
    dock.overrides_edit.setText("epochs=30; seeds=2")
    dock.start()
    qtbot.waitUntil(lambda: not window.reproduce.running, timeout=120_000)
    runs = [r for r in window.session.runs() if r.kind == "reproduction"]
    assert len(runs) == 1
    view = view_of(runs[0])
    assert dock.shown_id == runs[0].id
    assert dock.table.rowCount() == len(view.rows) > 0
    assert dock.table.item(0, 1).text() == view.rows[0].measured
    assert dock.figure_tabs.count() == len(view.figures) > 0
    assert all(r.kind == "ising" for r in (window.session.run(i) for i in view.inputs))
    written = dock.write_report(tmp_path / "report")
    assert (tmp_path / "report" / "README.md") in written
    assert any(p.suffix == ".svg" for p in written)
    # shown again from the session browser, through the registry
    dock.table.setRowCount(0)
    window.browser_dock.select(runs[0].id)
    assert dock.table.rowCount() == len(view.rows)


def test_stop_ends_a_reproduction_and_adds_nothing(window, qtbot):
    dock = window.reproduce_dock
    choose(dock, "combe-4.1")
    dock.quick_box.setChecked(True)
    dock.overrides_edit.setText("epochs=2000")
    dock.start()
    qtbot.waitUntil(
        lambda: (s := window.reproduce.snapshot()) is not None and "epoch" in s.text, timeout=60_000
    )
    window.reproduce.stop()
    assert not window.reproduce.running
    assert not [r for r in window.session.runs() if r.kind == "reproduction"]
