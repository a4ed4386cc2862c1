"""A spin lattice drawn as an image, with optional painting by mouse.

Spins (int8 ±1) are turned into a uint8 index image (0 for −1, 1 for +1) and coloured by a
two-entry lookup table, which is the cheapest path through pyqtgraph (no per-frame level scans).
When painting is enabled, the left button paints +1 and the right button paints −1; each press or
drag emits ``painted(cells, value)`` with the lattice (row, col) cells touched.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

SPIN_LUT = np.array([[24, 38, 92], [244, 208, 63]], dtype=np.uint8)  # −1 deep blue, +1 gold


def spins_to_index_image(spins: np.ndarray) -> np.ndarray:
    """0/1 uint8 image of an int8 ±1 lattice: (s + 1) / 2 without a float round trip."""
    return ((spins.astype(np.int16) + 1) >> 1).astype(np.uint8)


class _PaintableImage(pg.ImageItem):
    """ImageItem that turns clicks and drags into painted cells when painting is on."""

    def __init__(self, view: LatticeView) -> None:
        super().__init__(axisOrder="row-major")
        self._view = view

    def _cell(self, pos: QPointF) -> tuple[int, int] | None:
        if self.image is None:
            return None
        rows, cols = self.image.shape[:2]
        row, col = int(np.floor(pos.y())), int(np.floor(pos.x()))
        if 0 <= row < rows and 0 <= col < cols:
            return row, col
        return None

    @staticmethod
    def _value(button) -> int | None:
        if button == Qt.MouseButton.LeftButton:
            return 1
        if button == Qt.MouseButton.RightButton:
            return -1
        return None

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 — Qt naming
        value = self._value(ev.button())
        if not self._view.paint_enabled or value is None:
            super().mouseClickEvent(ev)
            return
        cell = self._cell(ev.pos())
        if cell is not None:
            ev.accept()
            self._view.painted.emit([cell], value)

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 — Qt naming
        value = self._value(ev.button())
        if not self._view.paint_enabled or value is None:
            ev.ignore()
            return
        ev.accept()
        cell = self._cell(ev.pos())
        if cell is not None:
            self._view.painted.emit([cell], value)


class LatticeView(pg.GraphicsLayoutWidget):
    """Square, aspect-locked lattice image; ``set_spins`` redraws it."""

    painted = Signal(list, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("latticeView")
        self.paint_enabled = False
        self.viewbox = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image = _PaintableImage(self)
        self.image.setLookupTable(SPIN_LUT)
        self.image.setLevels([0, 1])
        self.viewbox.addItem(self.image)
        self.frames_drawn = 0
        self._shape: tuple[int, int] | None = None

    def set_spins(self, spins: np.ndarray) -> None:
        """Draw a (L, L) int8 ±1 lattice."""
        self.image.setImage(spins_to_index_image(spins), autoLevels=False, levels=(0, 1))
        if spins.shape != self._shape:
            self._shape = spins.shape
            self.viewbox.autoRange(padding=0.0)
        self.frames_drawn += 1

    def set_paint_enabled(self, enabled: bool) -> None:
        self.paint_enabled = enabled
        self.viewbox.setMouseEnabled(not enabled, not enabled)
        self.setCursor(Qt.CursorShape.CrossCursor if enabled else Qt.CursorShape.ArrowCursor)
