"""Replay of recorded runs (Ising frames, RBM checkpoints) and export from the GUI."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtGui import QImage

from data import RunRecord
from engines.ising import IsingParams, summarize
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.task import IsingPlan, IsingRecording, IsingTask
from lab.session.export import npz_key
from widgets.common.lattice_view import spins_to_index_image
from widgets.common.replay import ReplayBar
from widgets.shell import dialogs
from widgets.shell.main_window import MainWindow

L = 6
SAMPLES = 40


@pytest.fixture(scope="module")
def ising_run():
    params = IsingParams(size=L, temperature=2.4, algorithm="heatbath", seed=5)
    plan = IsingPlan(thermalize=20, interval=1, samples=SAMPLES, record_spins=True)
    recording = IsingRecording(record_spins=True)
    task = IsingTask(params, plan, recording)
    while not task.finished:
        task.step()
    run = new_ising_run("ising-001", params, plan)
    return finish_ising_run(run, recording, params, "finished", "2026-01-01T00:00:00Z")


@pytest.fixture
def window(qtbot, monkeypatch, ising_run):
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")
    win = MainWindow()
    qtbot.addWidget(win)
    win.session.add_run(ising_run)
    win.show()
    yield win
    win.close()


def rbm_run(window):
    """A small saved rbm run: 5 checkpoints with distinct W, a 9-epoch history."""
    n, m, c = L * L, 4, 5
    rng = np.random.default_rng(0)
    W = rng.normal(size=(c, n, m))
    epochs = np.arange(9, dtype=np.int64)
    run = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="finished",
        seed=0,
        params={"size": L, "n_hidden": m, "method": "cd", "epochs": 8, "data": ["ising-001"]},
        datasets={
            "W": W[-1],
            "a": np.zeros(n),
            "b": np.zeros(m),
            "checkpoints/epoch": np.array([0, 2, 4, 6, 8]),
            "checkpoints/W": W,
            "checkpoints/a": np.zeros((c, n)),
            "checkpoints/b": np.zeros((c, m)),
            "history/epoch": epochs,
            "history/reconstruction_mismatch": 0.5 / (1 + epochs),
        },
        dataset_attrs={
            "history/epoch": {"axes": "epoch"},
            "history/reconstruction_mismatch": {"axes": "epoch"},
        },
    )
    window.session.add_run(run)
    return run


def test_replay_shows_exactly_the_recorded_frame_and_series(window, ising_run):
    window.browser_dock.select("ising-001")
    dock = window.ising_dock
    assert dock.replay_row.isVisible() and dock.replay.count == SAMPLES
    samples, energy = ising_run.datasets["samples"], ising_run.datasets["energy"]
    for k in (0, 7, 23, SAMPLES - 1):
        dock.replay.set_index(k)
        assert np.array_equal(dock.lattice.image.image, spins_to_index_image(samples[k]))
        x, y = dock.plots.energy_curve.getData()
        assert x.size == k + 1 and np.array_equal(y, energy[: k + 1])
        _, m = dock.plots.magnet_curve.getData()
        assert np.array_equal(m, ising_run.datasets["magnetization"][: k + 1])
        assert f"frame {k + 1}/{SAMPLES}" in dock.frame_label.text()
    dock.replay.set_index(23)
    dock.update_replay_estimates()
    expected = summarize(energy[:24], ising_run.datasets["magnetization"][:24], 2.4, L * L)
    assert dock.plots.estimates["e"] == expected["e"]
    dock.replay.set_index(3)  # too few measurements for error bars
    dock.update_replay_estimates()
    assert dock.plots.estimates == {}
    dock.replay.set_index(SAMPLES - 1)  # all of them: the run's recorded results
    dock.update_replay_estimates()
    assert dock.plots.estimates["e"].value == ising_run.results["e"]


def test_play_advances_and_stops_at_the_end(qtbot, window):
    window.browser_dock.select("ising-001")
    bar = window.ising_dock.replay
    bar.set_index(0)
    bar.set_speed(60)
    bar.play_button.click()
    assert bar.playing and bar.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: bar.index > 2, timeout=5000)
    qtbot.waitUntil(lambda: not bar.playing, timeout=5000)  # no loop: stops at the last frame
    assert bar.index == SAMPLES - 1 and bar.play_button.text() == "Play"
    bar.play()  # from the end it starts over
    assert bar.index == 0 and bar.playing
    bar.pause()


def test_loop_wraps_around(qtbot):
    bar = ReplayBar()
    qtbot.addWidget(bar)
    seen: list[int] = []
    bar.indexChanged.connect(seen.append)
    bar.set_count(3, 0)
    bar.loop_box.setChecked(True)
    bar.set_speed(60)
    bar.play()
    qtbot.waitUntil(lambda: seen.count(0) >= 1 and len(seen) >= 5, timeout=5000)
    bar.pause()
    assert seen[:4] == [1, 2, 0, 1]
    bar.set_count(1)
    bar.play()
    assert not bar.playing and not bar.play_button.isEnabled()


def test_rbm_replay_shows_the_checkpoint_weights_and_curves_up_to_it(window):
    run = rbm_run(window)
    dock = window.rbm_dock
    window.browser_dock.select("rbm-001")
    assert dock.replay.count == 5
    for index, epoch in enumerate((0, 2, 4, 6, 8)):
        dock.replay.set_index(index)
        assert np.array_equal(dock.fields_view.W, run.datasets["checkpoints/W"][index])
        x, y = dock.curves.curves["reconstruction_mismatch"].getData()
        assert np.array_equal(x, np.arange(epoch + 1))
        assert np.array_equal(y, run.datasets["history/reconstruction_mismatch"][: epoch + 1])
        assert f"epoch {epoch}" in dock.checkpoint_label.text()


def test_plot_export_writes_png_and_svg_with_the_run(window, tmp_path):
    window.browser_dock.select("ising-001")
    window.ising_dock.replay.set_index(4)
    written = window.ising_dock.export_plots(tmp_path / "ising")
    assert len(written) == 8  # lattice and three plots, PNG and SVG each
    svg = (tmp_path / "ising" / "ising-001_energy_per_spin.svg").read_text(encoding="utf-8")
    assert "<dc:identifier>ising-001 (frame 5)</dc:identifier>" in svg
    png = QImage(str(tmp_path / "ising" / "ising-001_lattice.png"))
    assert png.text("Run") == "ising-001 (frame 5)"

    rbm_run(window)
    window.browser_dock.select("rbm-001")
    written = window.rbm_dock.export_plots(tmp_path / "rbm")
    assert len(written) == 2 * 8 and all(p.stat().st_size > 0 for p in written)
    assert "rbm-001 at epoch 8" in (tmp_path / "rbm" / "rbm-001_nll.svg").read_text("utf-8")

    written = window.scan_dock.export_plots(tmp_path / "scan")
    assert len(written) == 2 * len(window.scan_dock.plots)


def test_browser_exports_a_run_to_npz_and_csv(window, ising_run, tmp_path):
    browser = window.browser_dock
    menu = browser.run_menu("ising-001")
    assert [a.text() for a in menu.actions()] == [
        "Export arrays (.npz)…",
        "Export time series (.csv)…",
    ]
    assert all(a.isEnabled() for a in menu.actions())
    out = browser.export_run("ising-001", "npz", tmp_path / "r.npz")
    with np.load(out) as npz:
        for name, array in ising_run.datasets.items():
            assert np.array_equal(npz[npz_key(name)], array)
    out = browser.export_run("ising-001", "csv", tmp_path / "r.csv")
    with open(out, encoding="utf-8") as handle:
        assert handle.readline().startswith("# session=unsaved session, run=ising-001")
        rows = list(csv.reader(handle))
    assert rows[0][1] == "energy [J per spin]" and len(rows) == SAMPLES + 1
    rbm_run(window)
    window.session.run("rbm-001").datasets = {"W": np.zeros((L * L, 2))}
    assert not browser.run_menu("rbm-001").actions()[1].isEnabled()
    with pytest.raises(ValueError, match="no time series"):
        browser.export_run("rbm-001", "csv", tmp_path / "x.csv")
