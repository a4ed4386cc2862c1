"""A lattice larger than its view (issue 14): the dock draws the worker's block image, in lattice
coordinates, and painting a pixel paints its whole block."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engines.ising.frames import spins_block_image
from widgets.common.lattice_view import BLOCK_LUT, SPIN_LUT, LatticeView
from widgets.shell.main_window import MainWindow


def test_a_block_image_is_placed_in_lattice_cells_and_paints_whole_blocks(qtbot):
    view = LatticeView()
    qtbot.addWidget(view)
    spins = np.where(np.random.default_rng(0).random((10, 10)) < 0.5, 1, -1).astype(np.int8)
    view.set_image(spins_block_image(spins, 4), block=4, size=10)
    assert (view.block, view.lattice_size) == (4, 10)
    assert view.image.lut is BLOCK_LUT and view.image.image.shape == (3, 3)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (rect.width(), rect.height()) == (12, 12)  # three pixels of four cells
    cells = view.image._cells(QPointF(2.5, 0.5))  # image pixel (row 0, column 2)
    assert cells == [(r, c) for r in range(4) for c in (8, 9)]  # clipped at L = 10
    assert view.image._cells(QPointF(3.5, 0.5)) == []
    view.set_spins(spins)  # back to one pixel a site
    assert view.block == 1 and view.image.lut is SPIN_LUT
    assert view.image._cells(QPointF(2.5, 0.5)) == [(0, 2)]
    assert BLOCK_LUT[0].tolist() == SPIN_LUT[0].tolist()
    assert BLOCK_LUT[255].tolist() == SPIN_LUT[1].tolist()


@pytest.fixture
def window(qtbot, answers):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(900, 700)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_a_large_live_lattice_is_drawn_from_the_workers_block_images(window, qtbot):
    dock = window.ising_dock
    assert dock.algorithm_box.currentText() == "metropolis-msc"  # the GUI's default
    dock.size_box.setValue(2048)
    dock.thermalize_box.setValue(0)
    dock.samples_box.setValue(0)
    dock.record_box.setChecked(False)
    pixels = dock.lattice.pixels()
    assert pixels < 2048
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    live = window.live
    qtbot.waitUntil(lambda: dock.lattice.frames_drawn > 3, timeout=20000)
    snapshot = live.snapshot()
    assert snapshot.spins is None and snapshot.image is not None
    assert snapshot.block == -(-2048 // pixels) and dock.lattice.block == snapshot.block
    assert snapshot.image.shape[0] <= pixels
    qtbot.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    assert live.state == "stopped" and not live.job.is_alive()


def test_live_frames_redraw_one_plot_in_turn_and_everything_once_stopped(window, qtbot):
    """Each live frame redraws the lattice and one of FRAME_PARTS (a frame that laid out all
    three plots stalled the event loop at L = 2048); once stopped, every plot shows the last
    snapshot."""
    from widgets.ising import dock as dock_module

    dock = window.ising_dock
    dock.size_box.setValue(64)
    dock.thermalize_box.setValue(0)
    dock.samples_box.setValue(0)
    dock.record_box.setChecked(False)
    drawn: list[tuple[str, ...]] = []
    plots = dock.plots
    original = plots.show_series

    def spy(energy, magnetization, exact, parts=plots.PARTS):
        drawn.append(tuple(parts))
        original(energy, magnetization, exact, parts)

    plots.show_series = spy
    qtbot.mouseClick(dock.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(drawn) >= 12, timeout=20000)
    live_frames = [parts for parts in drawn[2:] if len(parts) == 1]
    assert {parts[0] for parts in live_frames} == set(plots.PARTS)
    assert len(live_frames) >= 8 and len(dock_module.FRAME_PARTS) == 4
    qtbot.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    assert drawn[-1] == plots.PARTS  # the stopped state draws every plot once
    n = window.live.snapshot().energy.size
    for curve in (plots.energy_curve, plots.magnet_curve):
        assert curve.getData()[0][-1] == n - 1  # the last measurement of the stopped run
