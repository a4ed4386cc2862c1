"""A spin lattice drawn as an image, with optional painting by mouse.

Spins (int8 ±1) are turned into a uint8 index image (0 for −1, 1 for +1) and coloured by a
two-entry lookup table, which is the cheapest path through pyqtgraph (no per-frame level scans).
A lattice larger than the view is drawn from a *block image* (:meth:`LatticeView.set_image`): each
pixel is a block of ``block × block`` sites, its value 0 … 255 the share of +1 spins, coloured on
a 256-step ramp between the two spin colours (``BLOCK_LUT``); the image is placed so that the
view's coordinates stay lattice cells. Such images are made by the simulation's worker, so the
GUI thread never touches the 4 M spins of an L = 2048 lattice.

When painting is enabled, the left button paints +1 and the right button paints −1; each press or
drag emits ``painted(cells, value)`` with the lattice (row, col) cells touched: the cell under
the cursor, or every cell of the block under it when a pixel is a block.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal

SPIN_LUT = np.array([[24, 38, 92], [244, 208, 63]], dtype=np.uint8)  # −1 deep blue, +1 gold
BLOCK_LUT = np.round(
    SPIN_LUT[0] + np.linspace(0.0, 1.0, 256)[:, None] * (SPIN_LUT[1].astype(float) - SPIN_LUT[0])
).astype(np.uint8)
"""256 colours from −1's (0: a block of −1) to +1's (255: a block of +1)."""
MIN_PIXELS = 64


def spins_to_index_image(spins: np.ndarray) -> np.ndarray:
    """0/1 uint8 image of an int8 ±1 lattice: (s + 1) / 2 without a float round trip."""
    return ((spins.astype(np.int16) + 1) >> 1).astype(np.uint8)


class _PaintableImage(pg.ImageItem):
    """ImageItem that turns clicks and drags into painted cells when painting is on."""

    def __init__(self, view: LatticeView) -> None:
        super().__init__(axisOrder="row-major")
        self._view = view

    def _cells(self, pos: QPointF) -> list[tuple[int, int]]:
        """The lattice cells under ``pos`` (image pixel coordinates): one, or a whole block."""
        if self.image is None:
            return []
        rows, cols = self.image.shape[:2]
        row, col = int(np.floor(pos.y())), int(np.floor(pos.x()))
        if not (0 <= row < rows and 0 <= col < cols):
            return []
        block = self._view.block
        if block == 1:
            return [(row, col)]
        size = self._view.lattice_size or rows * block
        return [
            (r, c)
            for r in range(row * block, min((row + 1) * block, size))
            for c in range(col * block, min((col + 1) * block, size))
        ]

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
        cells = self._cells(ev.pos())
        if cells:
            ev.accept()
            self._view.painted.emit(cells, value)

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 — Qt naming
        value = self._value(ev.button())
        if not self._view.paint_enabled or value is None:
            ev.ignore()
            return
        ev.accept()
        cells = self._cells(ev.pos())
        if cells:
            self._view.painted.emit(cells, value)


class LatticeView(pg.GraphicsLayoutWidget):
    """Square, aspect-locked lattice image; ``set_spins`` or ``set_image`` redraws it."""

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
        self.block = 1  # lattice sites per image pixel along each axis
        self.lattice_size: int | None = None
        self._shape: tuple[int, int] | None = None
        self._placed: tuple[int, int, int] | None = None

    def pixels(self) -> int:
        """Device pixels the lattice gets along each axis (the shorter side of the view)."""
        size = self.viewport().size()
        side = min(size.width(), size.height()) * self.devicePixelRatioF()
        return max(MIN_PIXELS, int(side))

    def set_spins(self, spins: np.ndarray) -> None:
        """Draw a (L, L) int8 ±1 lattice, one pixel a site."""
        self._draw(spins_to_index_image(spins), SPIN_LUT, (0, 1), 1, spins.shape[0])

    def set_image(self, image: np.ndarray, block: int, size: int) -> None:
        """Draw a block image (uint8, 0 … 255 the share of +1 in each ``block`` × ``block``
        block) of an L = ``size`` lattice; ``block = 1`` is the lattice itself (0 or 255)."""
        if block == 1:
            self._draw(image >> 7, SPIN_LUT, (0, 1), 1, size)
        else:
            self._draw(image, BLOCK_LUT, (0, 255), block, size)

    def _draw(
        self, index: np.ndarray, lut: np.ndarray, levels: tuple[int, int], block: int, size: int
    ) -> None:
        if self.image.lut is not lut:
            self.image.setLookupTable(lut)
        self.image.setImage(index, autoLevels=False, levels=levels)
        self.block, self.lattice_size = block, size
        placed = (index.shape[0], index.shape[1], block)
        if placed != self._placed:  # view coordinates are lattice cells, whatever the block
            self._placed = placed
            self.image.setRect(QRectF(0, 0, index.shape[1] * block, index.shape[0] * block))
        if (size, size) != self._shape:
            self._shape = (size, size)
            self.viewbox.autoRange(padding=0.0)
        self.frames_drawn += 1

    def set_paint_enabled(self, enabled: bool) -> None:
        self.paint_enabled = enabled
        self.viewbox.setMouseEnabled(not enabled, not enabled)
        self.setCursor(Qt.CursorShape.CrossCursor if enabled else Qt.CursorShape.ArrowCursor)
