"""The RBM trainer dock driven as a user would: choose data, validate, train, scrub, save, resume.

The data are real Ising configurations: short Wolff simulations of the 4×4 lattice at T_c and
at T = 3 (a few hundred samples each), added to the window's session as recorded runs.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDockWidget

from data import RunRecord
from engines.ising import IsingParams
from lab.core.kinds import complete_recorded, run_kind, summary_of, view_of
from lab.core.timers import active
from lab.core.views import RunView
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.task import IsingPlan, IsingRecording, IsingTask
from lab.rbm.runs import RBMRunView, RBMSamplesRunView, complete_rbm_recording
from widgets.common.weight_grid import SORT_KEYS, grid_shape, mosaic, tile_at, unit_order
from widgets.rbm.plots import ObservablesView, TrainingCurves, observables_from_evaluation
from widgets.shell.main_window import MainWindow

T_C = 2.269185
L = 4


def simulate(run_id: str, temperature: float, samples: int, seed: int):
    params = IsingParams(size=L, temperature=temperature, algorithm="wolff", seed=seed)
    plan = IsingPlan(thermalize=50, interval=1, samples=samples, record_spins=True)
    recording = IsingRecording(record_spins=True)
    task = IsingTask(params, plan, recording)
    while not task.finished:
        task.step()
    run = new_ising_run(run_id, params, plan)
    return finish_ising_run(run, recording, params, "finished", "2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def ising_runs():
    return [simulate("ising-001", 3.0, 300, 2), simulate("ising-002", T_C, 400, 1)]


def open_window(qtbot, ising_runs) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    for run in ising_runs:
        win.session.add_run(copy.deepcopy(run))
    win.show()
    win.rbm_dock.raise_()
    return win


@pytest.fixture
def window(qtbot, answers, ising_runs):
    win = open_window(qtbot, ising_runs)
    yield win
    win.close()


def configure(dock, epochs: int, hidden: int = 6, method: str = "pcd") -> None:
    dock.set_checked_data(["ising-002"])
    dock.hidden_box.setValue(hidden)
    dock.method_box.setCurrentText(method)
    dock.batch_box.setValue(32)
    dock.lr_field.edit.setText("0.05")
    dock.schedule_box.setCurrentText("constant")
    dock.epochs_box.setValue(epochs)
    dock.seed_box.setValue(3)


def tiles_of(image: np.ndarray, count: int) -> np.ndarray:
    """The (count, L, L) tiles of a receptive-field mosaic, in display order."""
    cols = grid_shape(count)[1]
    return np.stack(
        [
            image[r * (L + 1) : r * (L + 1) + L, c * (L + 1) : c * (L + 1) + L]
            for r, c in (divmod(t, cols) for t in range(count))
        ]
    )


def test_mosaic_places_every_tile_and_finds_it_back():
    tiles = np.arange(5 * 3 * 3, dtype=np.float32).reshape(5, 3, 3)
    image = mosaic(tiles, 3, np.nan)
    assert image.shape == (2 * 4 - 1, 3 * 4 - 1)
    for t in range(5):
        r, c = divmod(t, 3)
        np.testing.assert_array_equal(image[4 * r : 4 * r + 3, 4 * c : 4 * c + 3], tiles[t])
        assert tile_at(4 * r + 2, 4 * c + 1, 3, 3, 5) == t
    assert np.isnan(image[3, :]).all() and np.isnan(image[:, 3]).all()  # gaps
    assert np.isnan(image[4:, 8:]).all()  # the sixth cell is empty
    assert tile_at(3, 0, 3, 3, 5) is None and tile_at(5, 9, 3, 3, 5) is None


def test_unit_order_sorts_by_the_chosen_score():
    W = np.array([[1.0, -3.0, 0.5], [1.0, 3.0, 0.5]])
    b = np.array([0.1, -0.2, 5.0])
    np.testing.assert_array_equal(unit_order(W, b, SORT_KEYS[0]), [0, 1, 2])
    np.testing.assert_array_equal(unit_order(W, b, SORT_KEYS[1]), [1, 0, 2])
    np.testing.assert_array_equal(unit_order(W, b, SORT_KEYS[2]), [2, 1, 0])
    np.testing.assert_array_equal(unit_order(W, b, SORT_KEYS[3]), [0, 2, 1])


def test_dock_is_listed_and_lists_the_data_by_temperature(window, ising_runs):
    names = [d.objectName() for d in window.findChildren(QDockWidget)]
    assert names.count("rbmDock") == 1 and len(names) == len(set(names))
    view_menu = window.menuBar().actions()[1].menu()
    assert window.rbm_dock.toggleViewAction() in view_menu.actions()
    assert window.tabifiedDockWidgets(window.ising_dock).count(window.rbm_dock) == 1
    table = window.rbm_dock.data_table
    assert table.rowCount() == 2
    assert [table.item(r, 0).text() for r in range(2)] == ["ising-002", "ising-001"]  # by T
    assert table.item(0, 1).text() == f"{T_C:.4g}" and table.item(1, 4).text() == "300"
    window.session.add_run(simulate("ising-003", 2.0, 50, 5))
    assert table.rowCount() == 3 and table.item(0, 0).text() == "ising-003"


def test_fields_are_validated_as_typed_and_block_start(window):
    dock = window.rbm_dock
    assert not dock.start_button.isEnabled()  # no data chosen yet
    dock.set_checked_data(["ising-002"])
    assert dock.start_button.isEnabled()
    assert "400 configurations of L = 4" in dock.data_summary.text()
    dock.lr_field.edit.setText("-0.1")
    lr_rule = "learning rate must be a finite number > 0"
    assert dock.lr_field.error_label.text() == f"{lr_rule}, got -0.1."
    assert dock.lr_field.error_label.isVisible()
    assert not dock.start_button.isEnabled()
    dock.lr_field.edit.setText("abc")
    assert dock.lr_field.error_label.text() == f"{lr_rule}, got 'abc'."
    dock.lr_field.edit.setText("0.02")
    assert dock.lr_field.error_label.text() == "" and dock.start_button.isEnabled()
    dock.momentum_field.edit.setText("1")
    momentum_rule = "momentum must be a finite number ≥ 0 and < 1"
    assert dock.momentum_field.error_label.text() == f"{momentum_rule}, got 1.0."
    assert not dock.start_button.isEnabled()
    dock.momentum_field.edit.setText("0.5")
    dock.set_checked_data(["ising-001", "ising-002"])
    assert dock.start_button.isEnabled() and "2 temperatures" in dock.data_summary.text()
    assert dock.config().learning_rate == 0.02 and dock.config().momentum == 0.5


def test_mixed_sizes_are_refused_before_start(window):
    dock = window.rbm_dock
    other = simulate("ising-009", T_C, 30, 4)
    other.datasets["samples"] = np.ones((30, 6, 6), dtype=np.int8)
    window.session.add_run(other)
    dock.set_checked_data(["ising-002", "ising-009"])
    assert "mix sizes" in dock.data_summary.text()
    assert not dock.start_button.isEnabled()


def test_train_pause_resume_stop_and_the_run_in_the_session(window, qtbot):
    dock, rbm = window.rbm_dock, window.rbm
    configure(dock, epochs=100_000)
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    run_id = rbm.run_id
    assert run_id and rbm.running and not dock.start_button.isEnabled()
    qtbot.waitUntil(lambda: rbm.snapshot() is not None and rbm.snapshot().epoch >= 3, timeout=30000)
    qtbot.waitUntil(lambda: dock.curves.epochs_drawn >= 3, timeout=5000)
    qtbot.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rbm.state == "paused", timeout=5000)
    qtbot.waitUntil(lambda: dock.pause_button.text() == "Resume", timeout=2000)
    paused = rbm.snapshot()
    qtbot.wait(300)
    assert (rbm.snapshot().epoch, rbm.snapshot().batch) == (paused.epoch, paused.batch)
    slider = dock.checkpoint_slider
    qtbot.waitUntil(lambda: slider.maximum() == paused.n_checkpoints - 1, timeout=2000)
    assert slider.value() == slider.maximum()  # live, the slider follows the newest checkpoint
    slider.setValue(0)  # the user looks back: it stays there while training goes on
    qtbot.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rbm.snapshot().epoch >= paused.epoch + 2, timeout=30000)
    qtbot.waitUntil(lambda: slider.maximum() > paused.n_checkpoints, timeout=2000)
    assert slider.value() == 0 and "epoch 0 " in dock.checkpoint_label.text()
    slider.setValue(slider.maximum())  # back at the newest: follows again
    newest = slider.maximum()
    qtbot.waitUntil(lambda: slider.maximum() > newest, timeout=30000)
    qtbot.waitUntil(lambda: slider.value() == slider.maximum(), timeout=2000)
    assert dock.chains_view.image.image is not None  # PCD: the persistent chains are drawn
    qtbot.waitUntil(
        lambda: set(dock.observables.pairs) == {"e", "abs_m", "binder", "c", "chi"}, timeout=5000
    )  # one temperature: c and χ are compared too
    qtbot.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.run(run_id).status == "stopped", timeout=10000)
    qtbot.waitUntil(dock.start_button.isEnabled, timeout=2000)
    run = window.session.run(run_id)
    epochs = run.datasets["checkpoints/epoch"]
    assert epochs[0] == 0 and np.all(np.diff(epochs) == 1) and epochs[-1] >= paused.epoch + 2
    history = run.datasets["history/epoch"]
    np.testing.assert_array_equal(history, np.arange(history.size))
    assert run.datasets["history/nll_train"].size == history.size
    assert np.all(run.datasets["history/log_z_exact"] == 1)  # 2^4 visible states: exact log Z
    assert run.datasets["checkpoints/W"].shape == (epochs.size, L * L, 6)
    assert dock.resume_button.isEnabled()  # the stopped run is shown and can continue
    assert dock.checkpoint_slider.maximum() == epochs.size - 1


def test_slider_shows_the_weights_of_the_chosen_checkpoint(window, qtbot):
    dock, rbm = window.rbm_dock, window.rbm
    configure(dock, epochs=4, hidden=5)
    dock.start()
    run_id = rbm.run_id
    qtbot.waitUntil(lambda: window.session.run(run_id).status == "finished", timeout=30000)
    run = window.session.run(run_id)
    W = run.datasets["checkpoints/W"]
    assert W.shape[0] == 5 and dock.checkpoint_slider.value() == 4  # followed the newest
    for index in (0, 2, 4):
        dock.checkpoint_slider.setValue(index)
        shown = tiles_of(dock.fields_view.image.image, 5)
        expected = W[index].T.reshape(5, L, L)
        np.testing.assert_array_equal(shown, expected)
        assert f"epoch {run.datasets['checkpoints/epoch'][index]}" in dock.checkpoint_label.text()
        assert dock.curves.markers[0].value() == run.datasets["checkpoints/epoch"][index]
    assert not np.array_equal(W[0], W[4])
    cols = grid_shape(5)[1]
    for tile in range(5):  # the pointer over tile t names the unit drawn there
        r, c = divmod(tile, cols)
        at = QPointF(c * (L + 1) + 1.5, r * (L + 1) + 2.5)
        assert dock.fields_view.unit_at(at) == tile
    assert dock.fields_view.unit_at(QPointF(L + 0.5, 1.5)) is None  # the gap between tiles
    scene = dock.fields_view.scene()
    scene.sigMouseMoved.emit(dock.fields_view.image.mapToScene(QPointF(L + 1.5, 0.5)))
    assert dock.hover_label.text().startswith("unit 1: ‖W‖ = ")
    dock.sort_box.setCurrentText(SORT_KEYS[1])  # largest ‖W_j‖ first
    order = np.argsort(-np.linalg.norm(W[4], axis=0), kind="stable")
    np.testing.assert_array_equal(
        tiles_of(dock.fields_view.image.image, 5), W[4][:, order].T.reshape(5, L, L)
    )
    levels = dock.fields_view.image.getLevels()
    assert levels[0] == -levels[1] == pytest.approx(-np.abs(W[4]).max())  # symmetric scale


def test_cd_training_has_no_chains_and_ais_free_curves(window, qtbot):
    dock, rbm = window.rbm_dock, window.rbm
    configure(dock, epochs=2, method="cd")
    dock.start()
    run_id = rbm.run_id
    qtbot.waitUntil(lambda: window.session.run(run_id).status == "finished", timeout=30000)
    assert dock.chains_view.image.image is None
    assert "no persistent chains" in dock.chains_label.text()
    assert dock.curves.nll_errors["nll_train"].opts["x"].size == 0  # exact log Z: no bars


def test_saved_session_reopens_with_the_model_and_resumes(window, qtbot, tmp_path):
    dock, rbm = window.rbm_dock, window.rbm
    configure(dock, epochs=3)
    dock.start()
    run_id = rbm.run_id
    qtbot.waitUntil(lambda: window.session.run(run_id).status == "finished", timeout=30000)
    saved = window.session.run(run_id)
    path = tmp_path / "rbm.h5"
    assert window._save_to(path)
    window.session.close()  # gives up the file's lock, as closing the window does

    other = MainWindow()
    qtbot.addWidget(other)
    other.show()
    try:
        assert other.open_path(path)
        reopened = other.session.run(run_id)
        for name in ("W", "a", "b", "checkpoints/W", "history/nll_train"):
            np.testing.assert_array_equal(reopened.datasets[name], saved.datasets[name])
        other.browser_dock.select(run_id)
        odock = other.rbm_dock
        assert "rbm-001" in odock.shown_label.text() and "epoch 3 of 3" in odock.shown_label.text()
        np.testing.assert_array_equal(
            tiles_of(odock.fields_view.image.image, 6), saved.datasets["W"].T.reshape(6, L, L)
        )
        assert odock.resume_button.isEnabled()
        odock.resume_shown_run()  # all planned epochs done and no extra asked: refused
        assert "done all its 3 epochs" in odock.error_label.text()
        assert not other.rbm.running
        odock.extra_epochs_box.setValue(2)
        qtbot.mouseClick(odock.resume_button, Qt.MouseButton.LeftButton)
        assert other.rbm.running
        qtbot.waitUntil(lambda: other.session.run(run_id).status == "finished", timeout=30000)
        resumed = other.session.run(run_id)
        np.testing.assert_array_equal(resumed.datasets["checkpoints/epoch"], np.arange(6))
        np.testing.assert_array_equal(
            resumed.datasets["checkpoints/W"][:4], saved.datasets["checkpoints/W"]
        )
        assert resumed.params["epochs"] == 5 and odock.checkpoint_slider.maximum() == 5
    finally:
        other.close()


def test_curves_put_error_bars_only_where_log_z_came_from_ais(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    history = {
        "epoch": np.arange(4.0),
        "nll_train": np.array([11.0, 10.0, 9.5, 9.0]),
        "nll_train_error": np.array([0.0, 0.2, 0.3, 0.1]),
        "nll_valid": np.full(4, np.nan),
        "nll_valid_error": np.full(4, np.nan),
        "log_z_exact": np.array([1.0, 0.0, 0.0, 1.0]),
    }
    curves.show_history(history)
    bars = curves.nll_errors["nll_train"].opts
    np.testing.assert_array_equal(bars["x"], [1.0, 2.0])
    np.testing.assert_allclose(bars["height"], [0.4, 0.6])
    assert curves.nll_errors["nll_valid"].opts["x"].size == 0  # no held-out set: no bars
    x, y = curves.curves["nll_train"].getData()
    np.testing.assert_array_equal(y, history["nll_train"])
    assert "exact log Z" in curves.plots["nll"].getPlotItem().titleLabel.text


def test_observables_are_compared_relative_to_the_data(qtbot):
    group = {
        "model_e": -1.2,
        "model_e_error": 0.06,
        "data_e": -1.5,
        "data_e_error": 0.03,
        "model_abs_m": 0.5,
        "model_abs_m_error": 0.01,
        "data_abs_m": 0.6,
        "data_abs_m_error": 0.02,
        "model_chi": 3.0,
    }  # χ without its error: left out
    pairs = observables_from_evaluation(group)
    assert pairs == {"e": ((-1.5, 0.03), (-1.2, 0.06)), "abs_m": ((0.6, 0.02), (0.5, 0.01))}
    view = ObservablesView()
    qtbot.addWidget(view)
    view.show_pairs(pairs, "test")
    x, y = view.model_points.getData()
    np.testing.assert_allclose(x, [0.12, 1.12])
    np.testing.assert_allclose(y, [0.8, 0.5 / 0.6])
    np.testing.assert_allclose(view.model_bars.opts["height"], [2 * 0.06 / 1.5, 2 * 0.01 / 0.6])
    np.testing.assert_allclose(view.data_points.getData()[1], [1.0, 1.0])
    z = (-1.2 + 1.5) / np.hypot(0.03, 0.06)
    assert f"{z:+.1f}" in view.table.text()


def saved_rbm_run() -> RunRecord:
    """An rbm run as training leaves it: 3 checkpoints, a 5-epoch history, PCD chains, a
    resumable trainer state at epoch 4 of 6 planned."""
    n, m = L * L, 3
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, n, m)).astype(np.float32)
    epochs = np.arange(5)
    return RunRecord(
        id="rbm-001",
        kind="rbm",
        status="stopped",
        seed=3,
        params={
            "size": L,
            "n_visible": n,
            "n_hidden": m,
            "method": "pcd",
            "epochs": 6,
            "learning_rate": 0.05,
            "data": ["ising-002"],
            "trainer_meta": json.dumps({"epoch": 4, "config": {}}),
        },
        inputs=["ising-002"],
        datasets={
            "W": W[-1],
            "a": np.zeros(n, np.float32),
            "b": np.ones(m, np.float32),
            "checkpoints/epoch": np.array([0, 2, 4]),
            "checkpoints/W": W,
            "checkpoints/a": np.zeros((3, n), np.float32),
            "checkpoints/b": np.ones((3, m), np.float32),
            "history/epoch": epochs,
            "history/nll_valid": 5.0 - 0.1 * epochs,
            "history/nll_valid_error": np.full(5, 0.02),
            "trainer/chains": np.ones((8, n), np.int8),
        },
        results={
            "epochs_done": 4,
            "nll_valid": 4.6,
            "nll_valid_error": 0.02,
            "nll_train": 4.5,
            "nll_train_error": 0.0,
        },
    )


def test_the_rbm_kinds_are_registered_and_the_dock_shows_a_view(window):
    """The registry's entries (view, browser line, dock, recovery), the view's typed reading of
    the run, and the dock showing a run from its view as the main window hands it over."""
    kind, samples_kind = run_kind("rbm"), run_kind("rbm-samples")
    assert kind.view is RBMRunView and kind.dock == "rbmDock"
    assert kind.complete is complete_rbm_recording
    assert samples_kind.view is RBMSamplesRunView and samples_kind.dock == ""

    run = saved_rbm_run()
    assert summary_of(run) == "m = 3, 4 of 6 epochs, held-out NLL 4.6 ± 0.02"
    view = view_of(run)
    assert isinstance(view, RBMRunView)
    assert (view.size, view.n_visible, view.n_hidden, view.method) == (L, L * L, 3, "pcd")
    assert (view.planned_epochs, view.epochs_done, view.resumable_epoch) == (6, 4, 4)
    assert view.data_ids == ("ising-002",) and view.hyperparameters["learning_rate"] == 0.05
    assert [c[0] for c in view.checkpoints] == [0, 2, 4]
    np.testing.assert_array_equal(view.checkpoints[1][1], run.datasets["checkpoints/W"][1])
    assert not view.checkpoints[1][1].flags.writeable and not view.weights.flags.writeable
    assert view.history_up_to(2)["nll_valid"].size == 3 and view.history["epoch"].size == 5
    assert view.chains.shape == (8, L * L) and view.evaluation == {}

    recorded = RunRecord(
        id="rbm-002",
        kind="rbm",
        status="running",
        seed=0,
        params={"size": L, "n_hidden": 3},
        datasets={
            name: run.datasets[name]
            for name in run.datasets
            if name.startswith(("checkpoints/", "history/"))
        },
    )
    completed = complete_recorded(recorded)
    np.testing.assert_array_equal(completed.datasets["W"], run.datasets["checkpoints/W"][-1])
    assert completed.results["epochs_done"] == 4
    sampled = RunRecord(
        id="rbm-samples-001",
        kind="rbm-samples",
        status="finished",
        seed=1,
        params={"size": L},
        inputs=["rbm-001"],
        datasets={"samples": np.ones((7, L, L), np.int8)},
    )
    assert complete_recorded(sampled) is sampled
    samples_view = view_of(sampled)
    assert isinstance(samples_view, RBMSamplesRunView)
    assert (samples_view.rbm_id, samples_view.n_samples) == ("rbm-001", 7)

    dock = window.rbm_dock
    window.session.add_run(run)
    dock.show_run(RunView(window.session.run("ising-001")))  # not an rbm run: ignored
    assert dock.replay.count == 0
    dock.show_run(view_of(window.session.run("rbm-001")))
    assert "epoch 4 of 6" in dock.shown_label.text() and dock.replay.count == 3
    assert "pcd, m = 3, L = 4, data ising-002" in dock.status_label.text()
    assert dock.resume_button.isEnabled() and dock.progress.value() == 67
    assert dock.chains_view.image.image is not None


def test_the_dock_refresh_timer_is_registered(window):
    """The refresh timer comes from the dock skeleton: registered, so shutdown stops it."""
    dock = window.rbm_dock
    assert dock.timer in active() and dock.timer.interval() == 100
    assert dock.error_label.objectName() == "rbmErrorLabel"


def test_metrics_period_and_early_stop_from_the_dock(window, qtbot):
    dock, rbm = window.rbm_dock, window.rbm
    configure(dock, epochs=300)
    assert dock.metrics_box.text() == "auto" and dock.early_stop_box.text() == "off"
    dock.validation_field.edit.setText("0")
    dock.early_stop_box.setValue(2)
    assert not dock.start_button.isEnabled()  # early stopping needs a held-out set
    assert "held-out set" in dock.error_label.text()
    dock.validation_field.edit.setText("0.3")
    assert dock.start_button.isEnabled()
    dock.early_stop_box.setValue(1)
    dock.metrics_box.setValue(1)
    dock.start()
    run_id = rbm.run_id
    qtbot.waitUntil(lambda: window.session.run(run_id).status == "finished", timeout=60000)
    run = window.session.run(run_id)
    assert run.params["early_stop"] == 1 and run.params["metrics_every"] == 1
    assert "stopped early" in run.message
    best = int(run.results["best_epoch"])
    assert run.results["epochs_done"] == best + 1 < 300
    epochs = list(run.datasets["checkpoints/epoch"])
    np.testing.assert_array_equal(
        run.datasets["W"], run.datasets["checkpoints/W"][epochs.index(best)]
    )
