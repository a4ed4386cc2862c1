"""The RG comparator dock driven as a user would: choose data and methods, coarse-grain, look.

The session is made by the command line in-process: a short Wolff run of the 8×8 lattice at T_c,
an ``rg-flow`` (majority, three temperatures, two levels), an RBM with m = (8/2)² = 16 hidden
units trained for two epochs (rbm-001: not block-local, so the RBM rule refuses it) and an
imported block-local RBM (rbm-002: unit j sees 2×2 block j). The truths the views are checked
against are the engine functions applied to the recorded configurations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from data import load_session
from engines.rg import coarse_grain, hidden_samples, locality, matched_locality
from lab.core.kinds import complete_recorded, run_kind, summary_of, view_of
from lab.rbm.runs import rbm_from_run
from lab.rg.controller import hidden_units
from lab.rg.runs import RGFlowRunView, RGRunView
from main import main as cli_main
from widgets.common.lattice_view import spins_to_index_image
from widgets.rg.plots import T_C, magnetization_histogram, mean_to_index
from widgets.shell import dialogs
from widgets.shell.main_window import MainWindow

L = 8
FLOW_TEMPERATURES = (2.0, 2.3, 2.6)


@pytest.fixture(scope="module")
def session_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("rg") / "rg.h5")
    common = ["--thermalize", "50", "--quiet"]
    assert (
        cli_main(
            [
                "simulate",
                "--out",
                path,
                "--size",
                str(L),
                "--temperature",
                "2.269185",
                "--algorithm",
                "wolff",
                "--samples",
                "60",
                "--interval",
                "1",
                "--seed",
                "1",
                *common,
            ]
        )
        == 0
    )
    assert (
        cli_main(
            [
                "rg-flow",
                path,
                "--temperatures",
                "2.0:2.6:3",
                "--size",
                str(L),
                "--samples",
                "40",
                *common,
            ]
        )
        == 0
    )
    assert (
        cli_main(
            [
                "train",
                path,
                "--data",
                "ising-001",
                "--hidden",
                "16",
                "--epochs",
                "2",
                "--batch",
                "20",
                "--quiet",
            ]
        )
        == 0
    )
    npz = str(tmp_path_factory.mktemp("rbm") / "local.npz")
    np.savez(npz, convention="pm1", **local_rbm())
    assert cli_main(["import-rbm", path, npz, "--size", str(L)]) == 0
    return path


def local_rbm() -> dict[str, np.ndarray]:
    """W (L², 16): unit j has weight 0.8 on the spins of 2×2 block j (row-major) and ±0.01
    elsewhere; visible biases ±0.05, hidden biases −0.1 · (j mod 3)."""
    rows, cols = np.divmod(np.arange(L * L), L)
    block = (rows // 2) * (L // 2) + cols // 2
    W = np.where(
        block[:, None] == np.arange(16)[None, :], 0.8, 0.01 * (-1.0) ** np.arange(L * L)[:, None]
    )
    a = 0.05 * (-1.0) ** (rows + cols)
    return {"W": W, "a": a, "b": -0.1 * (np.arange(16) % 3)}


@pytest.fixture
def window(qtbot, monkeypatch, session_path):
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: None)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent: "discard")
    win = MainWindow()
    qtbot.addWidget(win)
    win.session.load(session_path)
    win.show()
    win.rg_dock.raise_()
    yield win
    win.close()


def choose(
    dock,
    data_id="ising-001",
    majority=True,
    decimation=True,
    rbm=None,
    block="2",
    levels="2",
    seed=0,
) -> None:
    dock.select_data(data_id)
    dock.block_field.edit.setText(block)
    dock.levels_field.edit.setText(levels)
    dock.seed_box.setValue(seed)
    dock.majority_box.setChecked(majority)
    dock.decimation_box.setChecked(decimation)
    dock.rbm_box.setChecked(rbm is not None)
    if rbm is not None:
        dock.rbm_run_box.setCurrentIndex(dock.rbm_run_box.findData(rbm))


def coarse_grain_and_wait(window, qtbot) -> list[str]:
    before = {r.id for r in window.session.runs()}
    qtbot.mouseClick(window.rg_dock.coarse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.rg.running, timeout=30000)
    return [r.id for r in window.session.runs() if r.id not in before]


def test_magnetization_histogram_gives_each_value_of_m_its_own_bin():
    samples = np.ones((4, 2, 2), dtype=np.int8)  # m = 1, 1, 0, -0.5
    samples[2, 0] = -1
    samples[3, :, 0] = -1
    samples[3, 0, 1] = -1
    edges, density = magnetization_histogram(samples)
    width = 0.5  # 2 / L² for L = 2: the five values -1, -0.5, 0, 0.5, 1
    np.testing.assert_allclose(np.diff(edges), width, rtol=1e-12)
    np.testing.assert_allclose(0.5 * (edges[1:] + edges[:-1]), [-1, -0.5, 0, 0.5, 1], atol=1e-12)
    np.testing.assert_allclose(density * width, [0, 0.25, 0.25, 0, 0.5], atol=1e-12)
    assert mean_to_index(np.array([-1.0, 0.0, 1.0])).tolist() == [0, 128, 255]


def test_dock_is_registered_and_lists_the_runs(window):
    names = [d.objectName() for d in window.findChildren(QDockWidget)]
    assert names.count("rgDock") == 1 and len(names) == len(set(names))
    assert window.rg_dock.toggleViewAction() in window.menuBar().actions()[1].menu().actions()
    assert window.tabifiedDockWidgets(window.ising_dock).count(window.rg_dock) == 1
    dock = window.rg_dock
    labels = [dock.data_box.itemText(i) for i in range(dock.data_box.count())]
    assert len(labels) == 4 and all(f"L = {L}" in text for text in labels)
    temperatures = [float(t.split("T = ")[1].split()[0]) for t in labels]
    assert temperatures == sorted(temperatures)


def test_rbm_is_offered_only_when_its_sizes_fit(window):
    dock = window.rg_dock
    choose(dock, block="2", levels="1")
    assert dock.rbm_box.isEnabled()
    assert [dock.rbm_run_box.itemData(i) for i in range(2)] == ["rbm-001", "rbm-002"]
    dock.block_field.edit.setText("4")  # (8/4)² = 4 blocks, the RBM has 16 hidden units
    assert not dock.rbm_box.isEnabled() and "m = 4 hidden" in dock.rbm_hint.text()
    assert dock.rules() == ["majority", "decimation"]


def test_invalid_block_size_shows_the_error_and_disables_the_button(window):
    dock = window.rg_dock
    choose(dock)
    assert dock.coarse_button.isEnabled()
    dock.block_field.edit.setText("3")
    assert (
        dock.block_field.error_label.text()
        == "block b must be an integer ≥ 2 with b^2 dividing L = 8, got 3."
    )
    assert dock.block_field.error_label.isVisible() and not dock.coarse_button.isEnabled()
    dock.block_field.edit.setText("2.5")
    assert not dock.coarse_button.isEnabled()
    dock.block_field.edit.setText("4")
    assert not dock.coarse_button.isEnabled()  # 4² = 16 does not divide 8
    dock.levels_field.edit.setText("1")
    assert dock.block_field.error_label.text() == "" and dock.coarse_button.isEnabled()
    dock.levels_field.edit.setText("x")
    assert dock.levels_field.error_label.text() == "levels must be an integer in [1, 10], got 'x'."
    assert not dock.coarse_button.isEnabled()
    dock.levels_field.edit.setText("2")
    dock.block_field.edit.setText("2")
    dock.majority_box.setChecked(False)
    dock.decimation_box.setChecked(False)
    assert not dock.coarse_button.isEnabled() and "method" in dock.error_label.text()


def test_coarse_grain_adds_the_runs_and_shows_their_levels(window, qtbot):
    dock = window.rg_dock
    choose(dock, seed=3)
    made = coarse_grain_and_wait(window, qtbot)
    assert len(made) == 2
    runs = {window.session.run(i).params["rule"]: window.session.run(i) for i in made}
    assert set(runs) == {"majority", "decimation"}
    for run in runs.values():
        assert run.kind == "rg" and run.params["levels"] == 2 and run.params["data"] == "ising-001"
        assert [int(s) for s in run.datasets["size"]] == [4, 2]
    samples = window.session.run("ising-001").datasets["samples"]
    truth = {rule: coarse_grain(samples, rule, 2, 2, 3) for rule in runs}
    for index in (0, 17, samples.shape[0] - 1):
        dock.sample_slider.setValue(index)
        assert dock.sample_box.value() == index
        np.testing.assert_array_equal(
            dock.strip.views["original"].image.image, spins_to_index_image(samples[index])
        )
        for rule, run in runs.items():
            for k in (1, 2):
                np.testing.assert_array_equal(
                    dock.strip.views[f"{run.id}/{k}"].image.image,
                    spins_to_index_image(truth[rule][k][index]),
                )
    assert dock.table.rowCount() == 1 + 4
    assert len(dock.histograms.curves) == 1 + 4
    assert len(dock.correlations.curves) == 1 + 4
    level_2 = dock.correlations.curves[2]  # majority, level 2: r in original spacings
    np.testing.assert_array_equal(level_2.xData, runs["majority"].datasets["level_2/r"])
    assert set(np.asarray(level_2.xData) % 4) == {0}
    assert "added" in dock.status_label.text()


def test_export_writes_every_view_as_png_and_svg_with_the_run_ids(window, qtbot, tmp_path):
    dock = window.rg_dock
    choose(dock, seed=3)
    made = coarse_grain_and_wait(window, qtbot)
    written = dock.export_plots(tmp_path)
    assert {p.suffix for p in written} == {".png", ".svg"}
    assert len(written) == 2 * (len(dock.strip.views) + 4)  # + fields, P(m), C(r), flow
    svg = next(p for p in written if p.suffix == ".svg").read_text()
    assert all(run_id in svg for run_id in made)


def test_rbm_hidden_layer_reconstruction_and_receptive_fields(window, qtbot):
    dock = window.rg_dock
    choose(dock, majority=False, decimation=False, rbm="rbm-002", levels="1", seed=5)
    made = coarse_grain_and_wait(window, qtbot)
    assert len(made) == 1
    rg = window.session.run(made[0])
    rbm = window.session.run("rbm-002")
    samples = window.session.run("ising-001").datasets["samples"]
    params = rbm_from_run(rbm).to_numpy()
    # level k's hidden draws come from SeedSequence([seed, k]) (engines.rg.coarse_grain_stack)
    h = hidden_samples(params["W"], params["b"], samples, np.random.SeedSequence([5, 1]))
    np.testing.assert_array_equal(hidden_units(rg, rbm), h)
    W, a = (np.asarray(params[k], dtype=np.float64) for k in ("W", "a"))
    expected = np.tanh(a + h @ W.T).reshape(-1, L, L)
    # float32 storage of W, a and the result: a relative error of a few ulp of float32
    np.testing.assert_allclose(window.rg.reconstruction(rg.id), expected, atol=1e-5)
    index = 7
    dock.sample_box.setValue(index)
    shown = dock.strip.views[f"{rg.id}/reconstruction"].image.image.astype(int)
    assert np.abs(shown - mean_to_index(expected[index]).astype(int)).max() <= 1
    np.testing.assert_array_equal(
        dock.strip.views[f"{rg.id}/1"].image.image,
        spins_to_index_image(rg.datasets["level_1/samples"][index]),
    )
    centres = locality(W, L, 2)["centre"]
    fields = dock.fields_view
    assert fields.W is not None and fields.W.shape == (L * L, 16)
    points = fields.centres_item.getData()
    tile_row, tile_col = np.divmod(np.arange(16), fields.cols)
    np.testing.assert_allclose(points[0], tile_col * (L + 1) + centres[:, 1] + 0.5, atol=1e-5)
    np.testing.assert_allclose(points[1], tile_row * (L + 1) + centres[:, 0] + 0.5, atol=1e-5)
    assert "block share mean" in dock.fields_label.text()
    matched = matched_locality(W, L, 2, offset="best")["mean_matched_share"]
    assert f"matched share mean {matched:.2f}" in dock.fields_label.text()


def test_an_rbm_that_is_not_block_local_is_refused_with_a_message(window, qtbot):
    dock = window.rg_dock
    choose(dock, majority=False, decimation=False, rbm="rbm-001", levels="1")
    assert coarse_grain_and_wait(window, qtbot) == []
    assert window.rg.state == "failed" and "not local enough" in dock.status_label.text()
    assert dock.coarse_button.isEnabled()


def test_reconstruction_of_a_saved_run_is_computed_in_a_worker(window, qtbot, tmp_path):
    dock = window.rg_dock
    choose(dock, majority=False, decimation=False, rbm="rbm-002", levels="1")
    made = coarse_grain_and_wait(window, qtbot)
    path = tmp_path / "saved.h5"
    window.session.save(path)
    window.session.load(path)  # a fresh session: no reconstruction is cached
    assert window.rg.reconstruction(made[0]) is None
    qtbot.waitUntil(lambda: window.rg.reconstruction(made[0]) is not None, timeout=10000)
    qtbot.waitUntil(lambda: f"{made[0]}/reconstruction" in dock.strip.views, timeout=5000)


def test_flow_diagram_has_one_curve_per_level_and_the_fixed_point(window):
    flow = window.rg_dock.flow
    run = window.session.run("rg-flow-001")
    for k in (1, 2):
        for kind, name in (("energy", "effective_temperature"), ("Binder", "binder_temperature")):
            curve = flow.curves[("rg-flow-001", k, kind)]
            values = run.datasets[name][:, k - 1]
            keep = np.isfinite(values)
            np.testing.assert_allclose(curve.xData, np.array(FLOW_TEMPERATURES)[keep])
            np.testing.assert_array_equal(curve.yData, values[keep])
    assert len(flow.curves) == 2 * 2
    assert math.isclose(T_C, 2.269185314213022, rel_tol=1e-15)
    vertical, horizontal = flow.tc_lines
    assert vertical.angle == 90 and horizontal.angle == 0
    assert vertical.value() == T_C and horizontal.value() == T_C
    items = flow.plot.getPlotItem().items
    assert vertical in items and horizontal in items


def test_picking_an_rg_run_in_the_browser_shows_it(window, qtbot):
    window.browser_dock.select("rg-002")  # the flow's run at T = 2.3
    dock = window.rg_dock
    run = window.session.run("rg-002")
    assert dock.data_id() == run.params["data"]
    assert [r.id for r in dock.compared] == ["rg-002"]
    assert "rg-002/2" in dock.strip.views


def test_closing_the_window_mid_job_leaves_no_thread(window, qtbot):
    choose(window.rg_dock, rbm="rbm-002", levels="1")
    window.rg_dock.coarse_grain()
    assert window.rg.running
    window.close()
    assert not window.rg.job.is_alive()


def test_rg_kinds_are_registered_with_their_view_summary_and_dock(session_path):
    runs = load_session(session_path).runs
    for name, view_class in (("rg", RGRunView), ("rg-flow", RGFlowRunView)):
        kind = run_kind(name)
        assert kind.view is view_class and kind.dock == "rgDock"
    rg, flow = runs["rg-002"], runs["rg-flow-001"]
    assert complete_recorded(rg) is rg and complete_recorded(flow) is flow
    view = view_of(rg)
    assert isinstance(view, RGRunView) and view.id == "rg-002"
    assert (view.rule, view.block, view.n_levels, view.data_id) == (
        "majority",
        2,
        2,
        rg.params["data"],
    )
    assert [level.size for level in view.levels] == [int(s) for s in rg.datasets["size"]]
    np.testing.assert_array_equal(view.level(2).samples, rg.datasets["level_2/samples"])
    assert not view.level(2).samples.flags.writeable
    found = [level.effective_temperature.value for level in view.levels]
    np.testing.assert_array_equal(found, rg.datasets["effective_temperature"])
    assert summary_of(rg) == (
        "majority, b = 2, 2 levels, T′ " + " / ".join(f"{t:.3g}" for t in found)
    )
    flow_view = view_of(flow)
    assert isinstance(flow_view, RGFlowRunView)
    np.testing.assert_allclose(flow_view.temperatures, FLOW_TEMPERATURES)
    assert flow_view.rg_ids == ("rg-001", "rg-002", "rg-003")
    np.testing.assert_array_equal(
        flow_view.levels[1].binder.values, flow.datasets["binder_temperature"][:, 1]
    )
    assert summary_of(flow) == "majority, b = 2, 2 levels, 3 temperatures"
