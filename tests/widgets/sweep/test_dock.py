"""The Sweep dock driven as a user would: build a small Ising grid, run it on a local Dask
cluster of 2 processes, watch the points finish, plot U₄ against T for each L, reopen it from
the session; the window closes with no thread, timer, process or cluster left behind (the
conftest guard checks)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from lab.core.kinds import view_of
from lab.sweep.runs import SweepRunView
from widgets.shell import dialogs
from widgets.shell.main_window import MainWindow


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: None)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.sweep_dock.raise_()
    yield win
    win.close()


def type_grid(dock, **values: str) -> None:
    dock.kind_box.setCurrentText("simulate")
    for dest, text in values.items():
        dock.field(dest).setText(text)


def test_the_dock_is_a_tab_and_in_the_view_menu(window):
    names = [d.objectName() for d in window.findChildren(QDockWidget)]
    assert "sweepDock" in names
    assert window.tabifiedDockWidgets(window.ising_dock).count(window.sweep_dock) == 1
    view_menu = window.menuBar().actions()[1].menu()
    assert window.sweep_dock.toggleViewAction() in view_menu.actions()


def test_bad_grids_are_refused_as_typed(window):
    dock = window.sweep_dock
    type_grid(dock, size="8,-3", temperature="2.2")
    assert "size L must be an integer" in dock.error_label.text()
    assert not dock.start_button.isEnabled()
    dock.field("size").setText("8,12")
    dock.field("temperature").setText("2:3:0")
    assert "count must be ≥ 1" in dock.error_label.text()
    dock.field("temperature").setText("2.0:2.6:3")
    assert dock.error_label.text() == ""
    assert dock.points_label.text() == "6 points"
    assert dock.start_button.isEnabled()


def test_a_local_sweep_runs_cancels_resumes_plots_and_reopens(window, qtbot):
    dock = window.sweep_dock
    type_grid(
        dock, size="8,16", temperature="2.0:2.6:3", samples="400", thermalize="100", interval="1000"
    )
    dock.field("no_spins").setChecked(True)
    dock.workers_box.setValue(2)
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    assert dock.shown_id == "sweep-001"
    assert window.sweep.running and dock.cancel_button.isEnabled()
    # the table shows the points live; Cancel once one has finished keeps it
    qtbot.waitUntil(lambda: any(r.kind == "ising" for r in window.session.runs()), timeout=60_000)
    qtbot.waitUntil(
        lambda: "finished" in [dock.table.item(r, 4).text() for r in range(6)], timeout=10_000
    )
    qtbot.mouseClick(dock.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.sweep.running
    view = SweepRunView(window.session.run("sweep-001"))
    assert view.status == "stopped"
    done = view.counts()["finished"]
    assert done >= 1
    if done < 6:  # (on a slow machine every point may have finished before the click)
        assert dock.resume_button.isEnabled()
        qtbot.mouseClick(dock.resume_button, Qt.MouseButton.LeftButton)
        assert window.sweep.running
        qtbot.waitUntil(lambda: not window.sweep.running, timeout=60_000)
    view = SweepRunView(window.session.run("sweep-001"))
    assert view.status == "finished" and view.counts()["finished"] == 6
    assert sorted(r.id for r in window.session.runs() if r.kind == "ising") == [
        f"ising-00{i}" for i in range(1, 7)
    ]
    assert dock.table.rowCount() == 6
    assert [dock.table.item(r, 4).text() for r in range(6)] == ["finished"] * 6
    assert [dock.table.item(r, 3).text() for r in range(6)] == [f"ising-00{i}" for i in range(1, 7)]
    assert not dock.resume_button.isEnabled()  # nothing left to run
    # the plot: U₄ against T, one curve per L, each point the run's own estimate
    dock.plot.x_box.setCurrentText("temperature")
    dock.plot.y_box.setCurrentText("binder")
    curves = dock.plot.curves
    assert [c.label for c in curves] == ["size=8", "size=16"]
    assert all(list(c.x) == [2.0, 2.3, 2.6] for c in curves)
    for curve, size in zip(curves, (8, 16), strict=True):
        for t, y, error in zip(curve.x, curve.y, curve.error, strict=True):
            point = next(
                p for p in view.points() if p.values == {"size": str(size), "temperature": f"{t:g}"}
            )
            estimate = view_of(window.session.run(point.run_id)).estimates()["binder"]
            assert (y, error) == (estimate.value, estimate.error)
    # reopened from the session browser's "show this run"
    dock.shown_id = ""
    dock.table.setRowCount(0)
    window.show_run("sweep-001")
    assert dock.shown_id == "sweep-001" and dock.table.rowCount() == 6
    assert dock.plot.curves


def test_an_rg_flow_grid_keeps_the_flows_temperatures_as_one_value(window):
    dock = window.sweep_dock
    dock.kind_box.setCurrentText("rg-flow")
    dock.field("rule").setText("majority,decimation")
    dock.field("temperatures").setText("1.5:3.5:11")
    dock.field("size").setText("16")
    assert dock.error_label.text() == ""
    assert dock.points_label.text() == "2 points"  # the rule swept; one flow of 11 T each
    dock.field("size").setText("sixteen")
    assert "size" in dock.error_label.text() and not dock.start_button.isEnabled()
