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
