"""The geometry dock: views drawn from the contract's dict, ε validation, export with metadata,
Compute on a trained RBM, following a live training, and closing mid-job.

The contract dict comes from :class:`lab.geometry.task.GeometryTask` on a small RBM whose
checkpoints are an iid N(0, 0.01²) initialization plus a growing rank-one signal, compared with
random ±1 data; the views must show exactly those arrays.
"""

from __future__ import annotations

import math
import struct
import time
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QDockWidget

from data import RunRecord
from engines.geometry import MarchenkoPastur, modular_flow
from engines.rbm import RBMConfig
from lab.cli.shell import run_cli
from lab.core.kinds import complete_recorded, run_kind, summary_of, view_of
from lab.core.timers import active, stop_all
from lab.geometry.options import GeometryOptions
from lab.geometry.runs import GeometryRunView, geometry_run
from lab.geometry.task import GeometryTask
from widgets.geometry.plots import (
    ALL_METRICS,
    TrajectoryView,
    flow_period,
    modular_frame,
    state_value,
)
from widgets.shell.main_window import MainWindow

L, M = 4, 6
N = L * L
FAST = GeometryOptions(
    epsilon=1e-3, samples=40, seed=1, n_points=40, k=4, burn_in=20, thin=1, chains=8
)


def checkpoints() -> list:
    rng = np.random.default_rng(5)
    W0 = 0.01 * rng.standard_normal((N, M))
    u = np.ones(N) / math.sqrt(N)
    h = np.eye(M)[0]
    a, b = np.zeros(N), np.zeros(M)
    return [(e, W0 + 0.05 * e * np.outer(u, h), a, b) for e in (0, 1, 2, 4)]


@pytest.fixture(scope="module")
def contract() -> dict:
    data = np.random.default_rng(2).choice([-1, 1], size=(60, N)).astype(np.int8)
    task = GeometryTask(checkpoints(), data, L, FAST)
    while not task.finished:
        task.step()
    return task.datasets()


@pytest.fixture
def window(qtbot, answers):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.geometry_dock.raise_()
    yield win
    win.close()


def test_dock_is_registered(window):
    names = [d.objectName() for d in window.findChildren(QDockWidget)]
    assert names.count("geometryDock") == 1 and len(names) == len(set(names))
    view_menu = window.menuBar().actions()[1].menu()
    assert window.geometry_dock.toggleViewAction() in view_menu.actions()
    assert window.geometry_dock in window.tabifiedDockWidgets(window.ising_dock)


def test_the_geometry_kind_is_registered(window, contract):
    """The registry's entry: the view, the browser's one line, the dock, recover unchanged; and
    the dock shows a run from its view, as the main window hands it over."""
    rbm = RunRecord(id="rbm-001", kind="rbm", status="finished", seed=0, params={})
    runs = [
        geometry_run(f"geometry-00{i}", rbm, ["ising-001"], FAST, contract, "finished")
        for i in (1, 2)
    ]
    kind = run_kind("geometry")
    assert kind.view is GeometryRunView and kind.dock == "geometryDock"
    assert complete_recorded(runs[0]) is runs[0]
    assert summary_of(runs[0]) == "rbm-001, 4 checkpoints, ε = 0.001"
    view = view_of(runs[1])
    assert isinstance(view, GeometryRunView)
    assert (view.rbm_id, view.data_ids, view.epsilon, view.samples, view.seed) == (
        "rbm-001",
        ("ising-001",),
        1e-3,
        FAST.samples,
        FAST.seed,
    )
    assert (view.size, view.n_hidden, view.n_checkpoints) == (L, M, 4)
    np.testing.assert_array_equal(view.epochs, [0, 1, 2, 4])
    assert sorted(view.contract) == sorted(contract)
    assert not view.contract["spectrum"].flags.writeable  # read-only, not a copy
    np.testing.assert_array_equal(view.contract["spectrum"], contract["spectrum"])

    for run in runs:
        window.session.add_run(run)
    dock = window.geometry_dock
    dock.show_run(view)
    assert dock.source() == ("geometry", "geometry-002") and dock.shown_id == "geometry-002"
    assert "ε = 0.001" in dock.source_hint.text()
    np.testing.assert_array_equal(dock.views["Bloch disk"].points, contract["bloch"])


def test_every_timer_of_the_feature_is_registered(window):
    """The dock's refresh timer, the modular flow's animation and the controller's timers stop
    with lab.core.timers.stop_all (the main window's shutdown)."""
    dock, controller = window.geometry_dock, window.geometry
    dock.flow.timer.start()
    controller.poll.start()
    controller.recorder.start()
    for timer in (dock.timer, dock.flow.timer, controller.poll, controller.recorder):
        assert timer in active()
    stop_all()
    for timer in (dock.timer, dock.flow.timer, controller.poll, controller.recorder):
        assert not timer.isActive()


def test_views_draw_the_contract(window, contract):
    dock = window.geometry_dock
    dock.show_datasets(contract)
    last = contract["epoch"].size - 1
    assert dock.checkpoint_slider.value() == last  # follows the newest

    spectrum = dock.views["Spectrum"]
    assert len(spectrum.curves) == M
    for j, curve in enumerate(spectrum.curves):
        # the raw data (getData() is in the log10 coordinates of the axis)
        np.testing.assert_array_equal(curve.xData, contract["epoch"])
        np.testing.assert_array_equal(curve.yData, contract["spectrum"][:, j])  # all > 0 here
    law = MarchenkoPastur(N, M, float(contract["mp_law"][2]))
    assert contract["mp_law"][2] == pytest.approx(np.sum(checkpoints()[0][1] ** 2) / (N * M))
    assert spectrum.band_edges == law.edges
    shown = 10.0 ** np.asarray(spectrum.band.getRegion())
    np.testing.assert_allclose(shown, law.edges, rtol=1e-12)  # log10 round trip

    # the histogram is a density of the p = min(n, m) eigenvalues: its area is the share shown
    edges, density = spectrum.bars.getData()
    values = contract["spectrum"][last]
    inside = np.count_nonzero(values <= edges[-1]) / values.size
    assert np.sum(density * np.diff(edges)) == pytest.approx(inside, rel=1e-12)

    bloch = dock.views["Bloch disk"]
    np.testing.assert_array_equal(bloch.points, contract["bloch"])
    x, y = bloch.scatter.getData()
    np.testing.assert_array_equal(np.column_stack([x, y]), contract["bloch"])
    assert np.all(np.hypot(x, y) <= 1 + 1e-12)

    dock.checkpoint_slider.setValue(1)
    np.testing.assert_array_equal(dock.views["Eigenvectors"].tiles, contract["eigenvectors"][1])
    trajectory = dock.views["Trajectory"]
    for metric in ALL_METRICS:
        _, y = trajectory.curves[TrajectoryView.DISTANCE][metric].getData()
        np.testing.assert_array_equal(y, contract[f"distance/{metric}"])
        _, y = trajectory.curves[TrajectoryView.SHAPE][metric].getData()
        np.testing.assert_array_equal(y, contract[f"line_shape/{metric}"])
    assert trajectory.markers[0].value() == contract["epoch"][1]
    plan = dock.views["Transport"].plan.images[0].image
    np.testing.assert_array_equal(plan, contract["ot_plan"].astype(np.float32))


def test_modular_flow_matches_the_dense_flow():
    """On the full eigenbasis (k = n), the frame is Vᵀ σ_t(X) V with σ_t of engines.geometry."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    rho = A @ A.T + 0.1 * np.eye(5)
    rho /= np.trace(rho)
    X = rng.standard_normal((5, 5))
    X = X + X.T
    p, V = np.linalg.eigh(rho)
    for t in (0.0, 0.37, 2.5):
        frame = modular_frame(V.T @ X @ V, np.log(p), t)
        np.testing.assert_allclose(frame, V.T @ modular_flow(rho, X, t) @ V, atol=1e-12)
        # ω(σ_t(X)) = ω(X): only the diagonal (phase 1) enters
        assert state_value(frame, p) == pytest.approx(np.trace(rho @ X), abs=1e-12)
    gaps = np.abs(np.log(p)[:, None] - np.log(p)[None, :])
    assert flow_period(np.log(p)) == pytest.approx(2 * math.pi / gaps[gaps > 0].mean())


def test_modular_flow_view_animates_and_keeps_the_state(window, contract):
    dock = window.geometry_dock
    dock.show_datasets(contract)
    flow = dock.flow
    k = flow.X.shape[0]
    p = np.exp(-contract["modular_spectrum"][-1][:k])
    before = state_value(flow.X, p)
    flow.time_slider.setValue(37)
    assert flow.time() > 0
    np.testing.assert_allclose(np.diagonal(flow.frame), np.diagonal(flow.X), atol=1e-15)
    assert state_value(flow.frame, p) == pytest.approx(before, abs=1e-14)
    flow.observable_box.setCurrentText(flow.SITE_PROJECTOR)
    flow.site_box.setValue(3)
    B = contract["eigenvectors"][-1].reshape(-1, N).T[:, :k]  # no W known: the K images
    np.testing.assert_allclose(flow.X, np.outer(B[3], B[3]), atol=1e-6)
    flow.play_button.setChecked(True)
    start = flow.time_slider.value()
    deadline = time.monotonic() + 2
    while flow.time_slider.value() == start and time.monotonic() < deadline:
        QApplication.processEvents()
    assert flow.time_slider.value() != start
    flow.play_button.setChecked(False)


@pytest.mark.parametrize("text", ["0", "nan", "-1e-3", "abc"])
def test_epsilon_is_checked_as_typed(window, text):
    dock = window.geometry_dock
    dock.epsilon_field.edit.setText(text)
    assert not dock.compute_button.isEnabled()
    assert dock.epsilon_field.error_label.isVisible()
    assert dock.epsilon_field.error_label.text().startswith("ε must be")
    dock.epsilon_field.edit.setText("1e-3")
    assert not dock.epsilon_field.error_label.isVisible()


def png_text_chunks(path) -> dict[str, str]:
    """The text chunks of a PNG file, read with the PNG chunk layout (not with Qt): tEXt, and
    zTXt (zlib), which Qt writes for values longer than 40 bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, value = body.split(b"\0", 1)
            chunks[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, rest = body.split(b"\0", 1)
            assert rest[0] == 0  # compression method: deflate
            chunks[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        pos += 12 + length
    return chunks


def test_export_writes_png_and_svg_with_session_and_run(window, contract, tmp_path):
    session_file = tmp_path / "s.h5"
    window.session.save(session_file)
    dock = window.geometry_dock
    dock.shown_id = "geometry-007"
    dock.show_datasets(contract)
    files = dock.export_tab("Spectrum", tmp_path / "out")
    assert sorted(f.suffix for f in files) == [".png", ".png", ".svg", ".svg"]
    for path in files:
        if path.suffix == ".png":
            text = png_text_chunks(path)
            assert text["Session"] == str(session_file)
            assert text["Run"] == "geometry-007"
            assert text["Session created"] == window.session.record.created
        else:
            root = ET.parse(path).getroot()
            dc = "{http://purl.org/dc/elements/1.1/}"
            assert root.find(f".//{dc}source").text == str(session_file)
            assert root.find(f".//{dc}identifier").text == "geometry-007"
            assert "Run: geometry-007" in root.find("{http://www.w3.org/2000/svg}desc").text
            assert root.find(".//{http://www.w3.org/2000/svg}path") is not None  # vector curves


def make_rbm_session(path) -> tuple[str, str]:
    """A 6×6 Ising run and an RBM (m = 9) trained on it for 3 epochs, by the command line."""
    assert (
        run_cli(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "6",
                "--temperature",
                "2.5",
                "--algorithm",
                "wolff",
                "--samples",
                "150",
                "--thermalize",
                "50",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        run_cli(
            [
                "train",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                "9",
                "--epochs",
                "3",
                "--checkpoint-every",
                "1",
                "--batch",
                "32",
                "--quiet",
            ]
        )
        == 0
    )
    return "ising-001", "rbm-001"


def set_fast_options(dock) -> None:
    dock.epsilon_field.edit.setText("0.001")
    dock.samples_box.setValue(FAST.samples)
    dock.points_box.setValue(FAST.n_points)
    dock.k_box.setValue(FAST.k)


def test_compute_on_a_trained_rbm_adds_a_geometry_run(window, qtbot, tmp_path):
    path = tmp_path / "rbm.h5"
    _, rbm_id = make_rbm_session(path)
    assert window.open_path(path)
    dock = window.geometry_dock
    dock.select_source("rbm", rbm_id)
    set_fast_options(dock)
    dock.compute()
    assert dock.error_label.text() == ""
    qtbot.waitUntil(
        lambda: not window.geometry.running and not window.geometry.following, timeout=30000
    )
    runs = [r for r in window.session.runs() if r.kind == "geometry"]
    assert len(runs) == 1 and runs[0].status == "finished"
    run = runs[0]
    assert run.inputs[0] == rbm_id and run.params["epsilon"] == 1e-3
    np.testing.assert_array_equal(run.datasets["epoch"], [0, 1, 2, 3])
    qtbot.waitUntil(lambda: dock.contract is not None and dock.contract["epoch"].size == 4)
    dock.select_source("geometry", run.id)
    assert dock.shown_id == run.id
    np.testing.assert_array_equal(dock.views["Bloch disk"].points, run.datasets["bloch"])


def test_follows_a_live_training(window, qtbot, tmp_path):
    path = tmp_path / "rbm.h5"
    data_id, _ = make_rbm_session(path)
    assert window.open_path(path)
    config = RBMConfig(n_hidden=9, epochs=400, batch_size=32, checkpoint_every=1, seed=2)
    live_id = window.rbm.start([data_id], config)
    dock = window.geometry_dock
    dock.select_source("rbm", live_id)
    assert "training" in dock.source_box.currentText()
    set_fast_options(dock)
    dock.compute()
    assert dock.error_label.text() == ""
    assert window.geometry.following
    qtbot.waitUntil(lambda: window.geometry.task.done >= 3 and window.rbm.running, timeout=30000)
    assert window.geometry.task.done >= 2 and window.rbm.running
    qtbot.waitUntil(
        lambda: dock.contract is not None and dock.contract["epoch"].size >= 2, timeout=5000
    )
    window.rbm.stop()
    window.geometry.stop()
    assert not window.geometry.following and not window.geometry.running
    runs = [r for r in window.session.runs() if r.kind == "geometry"]
    assert len(runs) == 1 and runs[0].datasets["epoch"].size >= 2


def test_closing_mid_job_leaves_no_thread(window, qtbot, tmp_path):
    path = tmp_path / "rbm.h5"
    _, rbm_id = make_rbm_session(path)
    assert window.open_path(path)
    dock = window.geometry_dock
    dock.select_source("rbm", rbm_id)
    dock.k_box.setValue(10)
    dock.compute()
    assert "at most the 9 hidden units" in dock.error_label.text()  # k ≤ m, said at once
    dock.k_box.setValue(4)
    dock.compute()  # 500 samples per checkpoint: still mid-job when the window closes
    assert dock.error_label.text() == "" and window.geometry.running
    window.close()
    assert not window.jobs.active()
