"""The geometry dock's "Wasserstein scores" page: scoring an rg-flow (rbm-flow), an rg run and an
rbm run from the GUI in a job, the ``scores`` run stored, saved and reopened through the
registry, the views drawing its arrays, bad input shown in the page, stop mid-job, and export
to PNG and SVG with the session and run in the files."""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from data import load_session
from lab.core.kinds import run_kind, view_of
from lab.geometry.score_runs import ScoresRunView
from main import main
from widgets.shell import dialogs
from widgets.shell.main_window import MainWindow

L = 8


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scores-gui") / "base.h5"
    assert (
        main(
            [
                "rg-flow",
                str(path),
                "--rule",
                "rbm-flow",
                "--temperatures",
                "2.0,2.5",
                "--size",
                str(L),
                "--samples",
                "100",
                "--thermalize",
                "50",
                "--steps",
                "2",
                "--epochs",
                "2",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "coarse-grain",
                str(path),
                "--data",
                "ising-001",
                "--rule",
                "majority",
                "--levels",
                "2",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                str(path),
                "--data",
                "ising-002",
                "--hidden",
                "8",
                "--epochs",
                "2",
                "--checkpoint-every",
                "1",
                "--seed",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    return path


@pytest.fixture
def answers(monkeypatch):
    record = {"errors": []}
    monkeypatch.setattr(
        dialogs, "show_error", lambda parent, title, text: record["errors"].append(text)
    )
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")
    return record


@pytest.fixture
def window(qtbot, answers, base_session, tmp_path):
    path = tmp_path / "S.h5"
    shutil.copy(base_session, path)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    assert win.open_path(path)
    win.geometry_dock.raise_()
    yield win
    win.close()


def _panel(window):
    dock = window.geometry_dock
    dock.pages.setCurrentWidget(dock.scores_panel)
    return dock.scores_panel


def _score(qtbot, panel, run_id: str, **values) -> str:
    panel.select_source("run", run_id)
    panel.form.set_values({"samples": 40, "bootstrap": 3, "burn_in": 10, **values})
    assert panel.compute_button.isEnabled()
    panel.compute_button.click()
    assert panel.error_label.text() == ""
    qtbot.waitUntil(lambda: not panel.controller.running, timeout=300_000)
    source = panel.source()
    assert source is not None and source[0] == "scores"
    return source[1]


def _kind_ids(window, kind: str) -> list[str]:
    return [run.id for run in window.session.runs() if run.kind == kind]


@pytest.mark.parametrize(
    ("source", "mode"),
    [("rg-flow-001", "rbm-flow"), ("rg-003", "block-spin"), ("rbm-002", "training")],
)
def test_scoring_from_the_page_stores_a_run_drawn_and_reopened(
    window, qtbot, tmp_path, source, mode
):
    panel = _panel(window)
    run_id = _score(qtbot, panel, source)
    view = view_of(window.session.run(run_id))
    assert isinstance(view, ScoresRunView)
    assert (view.status, view.mode, view.source_id, view.n_samples) == (
        "finished",
        mode,
        source,
        40,
    )
    d = view.contract
    curves = panel.views["Scores"].drawn
    if mode == "training":
        np.testing.assert_array_equal(curves["to_data"], d["to_data"])
        tracks = panel.views["Tracks"].shown
        np.testing.assert_array_equal(tracks[0], d["sample_images"][0, 0])
        np.testing.assert_array_equal(tracks[-1], d["data_partner_images"][-1, 0])
    else:
        np.testing.assert_array_equal(curves["ots"], d["ots"][0])
        np.testing.assert_array_equal(curves["lss"], d["lss"])
        panel.track_box.setValue(2)
        tracks = panel.views["Tracks"].shown
        V = d["track_images"].shape[1]
        np.testing.assert_array_equal(tracks[1], d["track_images"][0, 1, 2])
        assert tracks[V] is None  # no partner under level 0
        np.testing.assert_array_equal(tracks[V + 1], d["partner_images"][0, 0, 2])
        if mode == "block-spin":
            np.testing.assert_allclose(d["ots"], 1.0, rtol=1e-12)
        else:
            assert panel.group_box.count() == 2
            panel.group_box.setCurrentIndex(1)
            np.testing.assert_array_equal(panel.views["Scores"].drawn["ots"], d["ots"][1])
    running = panel.views["Distribution"].drawn["running"]
    np.testing.assert_array_equal(running, d["running"][1 if mode == "rbm-flow" else 0])

    # saved, reopened, shown by the registry's dock like the session browser does
    saved = tmp_path / "saved.h5"
    assert window._save_to(saved)
    reopened = load_session(str(saved)).runs[run_id]
    for name, array in d.items():
        np.testing.assert_array_equal(reopened.datasets[name], array, err_msg=name)
    assert window.open_path(saved)
    window.geometry_dock.pages.setCurrentIndex(0)
    assert run_kind("scores").dock == "geometryDock"
    window.show_run(run_id)
    assert window.geometry_dock.pages.currentWidget() is panel
    assert panel.source() == ("scores", run_id) and panel.shown_id == run_id


def test_bad_input_is_shown_in_the_page(window, qtbot):
    panel = _panel(window)
    panel.select_source("run", "rg-003")
    seed = panel.form.widget("seed")
    seed.edit.setText("-1")
    assert not panel.compute_button.isEnabled() and panel.form.errors()
    assert seed.error_label.text().startswith("seed must be")
    seed.edit.setText("0")
    assert panel.compute_button.isEnabled()
    # a run whose data went missing: the plan's one sentence, nothing computed
    window.session.record.runs.pop("ising-001")
    panel.compute_button.click()
    assert "is not in the session" in panel.error_label.text()
    assert not panel.controller.running and not _kind_ids(window, "scores")


def test_stop_keeps_the_steps_done(window, qtbot):
    panel = _panel(window)
    panel.select_source("run", "rg-flow-001")
    panel.form.set_values({"samples": 100, "bootstrap": 1000})
    panel.compute_button.click()
    qtbot.waitUntil(
        lambda: (
            (panel.controller.latest() or None) is not None and panel.controller.latest().done >= 1
        ),
        timeout=300_000,
    )
    panel.stop_button.click()
    qtbot.waitUntil(lambda: not panel.controller.running, timeout=300_000)
    (run_id,) = _kind_ids(window, "scores")
    view = view_of(window.session.run(run_id))
    assert view.status == "stopped"
    done = int(view.record.results["steps_done"])
    assert 1 <= done < 6
    assert np.isfinite(view.contract["ots"][0, 0])
    group, item = divmod(done, 3)  # the next step's entry was never computed
    assert np.isnan(view.contract["ots"][group, item] if item < 2 else view.contract["lss"][group])
    for timer in (panel.controller.recorder,):
        assert not timer.isActive()


def test_export_writes_png_and_svg_with_the_run(window, qtbot, tmp_path):
    panel = _panel(window)
    run_id = _score(qtbot, panel, "rg-003")
    for title in ("Scores", "Distribution", "Tracks"):
        written = panel.export_tab(title, tmp_path / title)
        assert written and all(p.exists() and p.stat().st_size > 0 for p in written)
        assert {p.suffix for p in written} == {".png", ".svg"}
        svg = next(p for p in written if p.suffix == ".svg")
        root = ET.parse(svg).getroot()
        assert run_id in ET.tostring(root, encoding="unicode")
        png = next(p for p in written if p.suffix == ".png").read_bytes()
        assert png.startswith(b"\x89PNG") and run_id.encode() in png


def test_the_refresh_draws_the_live_scoring(window, qtbot):
    panel = _panel(window)
    panel.select_source("run", "rg-003")
    panel.form.set_values({"samples": 60, "bootstrap": 2})
    panel.compute_button.click()
    deadline = time.monotonic() + 300
    while panel.controller.running and time.monotonic() < deadline:
        qtbot.wait(20)
        window.geometry_dock.refresh()
    assert panel.contract is not None
