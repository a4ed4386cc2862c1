"""Mosaics of L×L lattices drawn as ONE image: an RBM's receptive fields and its chains.

Hidden unit j's weights ``W[:, j]`` (n = L² visible spins, row-major like the lattice) form an
L×L image. The m images are laid out row by row in a near-square grid with one-pixel gaps and
drawn into a single ``ImageItem`` (gaps are NaN, hence transparent), so that a thousand hidden
units still cost one texture upload per redraw. The receptive fields use a diverging colormap
symmetric around 0 (blue negative, white 0, red positive), with ±max|W| as the scale; the chains
use the lattice viewer's two spin colours.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal

from widgets.common.lattice_view import SPIN_LUT

# ColorBrewer RdBu reversed: blue (negative) → white (0) → red (positive).
DIVERGING = pg.ColorMap(
    np.linspace(0.0, 1.0, 11),
    [
        (5, 48, 97),
        (33, 102, 172),
        (67, 147, 195),
        (146, 197, 222),
        (209, 229, 240),
        (247, 247, 247),
        (253, 219, 199),
        (244, 165, 130),
        (214, 96, 77),
        (178, 24, 43),
        (103, 0, 31),
    ],
)
GAP_COLOUR = (60, 60, 60)
CHAIN_LUT = np.vstack([SPIN_LUT, np.array(GAP_COLOUR, dtype=np.uint8)])  # 0: −1, 1: +1, 2: gap
CHAIN_GAP = 2

SORT_KEYS = ("unit index", "weight norm ‖W_j‖", "|hidden bias b_j|", "|total weight Σ_i W_ij|")


def grid_shape(count: int) -> tuple[int, int]:
    """(rows, cols) of a near-square grid holding ``count`` tiles (cols ≥ rows)."""
    cols = max(1, math.ceil(math.sqrt(count)))
    return max(1, math.ceil(count / cols)), cols


def mosaic(tiles: np.ndarray, cols: int, fill: float | int) -> np.ndarray:
    """Lay (k, h, w) tiles row by row, ``cols`` per row, one ``fill`` pixel between them.

    The result has shape (rows·(h+1) − 1, cols·(w+1) − 1); the cells after the k-th are ``fill``.
    Tile t sits at rows ``r·(h+1) … r·(h+1)+h−1`` and columns ``c·(w+1) … c·(w+1)+w−1`` with
    ``r, c = divmod(t, cols)``.
    """
    k, h, w = tiles.shape
    rows = max(1, math.ceil(k / cols))
    out = np.full((rows, cols, h + 1, w + 1), fill, dtype=tiles.dtype)
    out.reshape(rows * cols, h + 1, w + 1)[:k, :h, :w] = tiles
    return out.transpose(0, 2, 1, 3).reshape(rows * (h + 1), cols * (w + 1))[:-1, :-1]


def tile_at(row: int, col: int, tile_size: int, cols: int, count: int) -> int | None:
    """The index of the tile under pixel (row, col) of a mosaic, or None on a gap or outside."""
    step = tile_size + 1
    if row < 0 or col < 0 or row % step == tile_size or col % step == tile_size:
        return None
    if col // step >= cols:
        return None
    index = (row // step) * cols + col // step
    return index if index < count else None


def unit_order(W: np.ndarray, b: np.ndarray | None, key: str) -> np.ndarray:
    """The hidden units in display order for one of ``SORT_KEYS``: the unit index, or the largest
    score first (ties keep index order).

    The total weight ``|Σᵢ Wᵢⱼ|`` is the unit's coupling to the total magnetization: large for
    units that read the sign of the whole lattice, small for units that detect domain walls.
    """
    m = W.shape[1]
    if key == SORT_KEYS[0]:
        return np.arange(m)
    if key == SORT_KEYS[1]:
        score = np.linalg.norm(W, axis=0)
    elif key == SORT_KEYS[2]:
        score = np.abs(b) if b is not None else np.zeros(m)
    elif key == SORT_KEYS[3]:
        score = np.abs(W.sum(axis=0))
    else:
        raise ValueError(f"unknown sort key {key!r}; use one of {SORT_KEYS}")
    return np.argsort(-score, kind="stable")


def receptive_field_mosaic(W: np.ndarray, size: int, order: np.ndarray) -> tuple[np.ndarray, int]:
    """The float32 mosaic of the columns of ``W`` (n = size²) in ``order``: (image, cols)."""
    n, m = W.shape
    if n != size * size:
        raise ValueError(f"W has {n} visible units, not L² = {size * size}")
    tiles = np.ascontiguousarray(W[:, order].T, dtype=np.float32).reshape(m, size, size)
    cols = grid_shape(m)[1]
    return mosaic(tiles, cols, np.nan), cols


def chain_mosaic(chains: np.ndarray, size: int, count: int) -> np.ndarray:
    """uint8 index mosaic (0: −1, 1: +1, 2: gap) of the first ``count`` chains (k, size²) ±1."""
    shown = chains[:count].reshape(-1, size, size)
    indices = ((shown.astype(np.int16) + 1) >> 1).astype(np.uint8)
    return mosaic(indices, grid_shape(shown.shape[0])[1], CHAIN_GAP)


class _MosaicWidget(pg.GraphicsLayoutWidget):
    """An aspect-locked, y-down view holding one row-major ImageItem."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(120, 100)
        self.viewbox = self.addViewBox(
            row=0, col=0, lockAspect=True, invertY=True, enableMenu=False
        )
        self.image = pg.ImageItem(axisOrder="row-major")
        self.viewbox.addItem(self.image)
        self._shape: tuple[int, int] | None = None

    def _fit(self, shape: tuple[int, int]) -> None:
        if shape != self._shape:
            self._shape = shape
            self.viewbox.autoRange(padding=0.02)

    def clear_image(self) -> None:
        self.image.clear()
        self._shape = None


class ReceptiveFieldsView(_MosaicWidget):
    """Every hidden unit's weights as an L×L tile, on a diverging scale symmetric around 0.

    Hovering a tile emits ``hovered(text)`` describing the unit (index, ‖Wⱼ‖, bⱼ); an empty text
    when the pointer leaves the tiles.
    """

    hovered = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("rbmFieldsView")
        self.colorbar = pg.ColorBarItem(
            values=(-1.0, 1.0), colorMap=DIVERGING, width=14, interactive=False, colorMapMenu=False
        )
        self.colorbar.setImageItem(self.image)
        self.addItem(self.colorbar, row=0, col=1)
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.order = np.zeros(0, dtype=np.int64)
        self.tile_size = 0
        self.cols = 1
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def set_fields(self, W: np.ndarray, b: np.ndarray | None, size: int, sort_key: str) -> None:
        """Draw the columns of ``W`` (n, m) as L×L tiles in the order of ``sort_key``."""
        self.order = unit_order(W, b, sort_key)
        image, self.cols = receptive_field_mosaic(W, size, self.order)
        self.W, self.b, self.tile_size = W, b, size
        scale = float(np.max(np.abs(W))) if W.size else 0.0
        scale = scale if scale > 0 else 1.0
        self.image.setImage(image, autoLevels=False, levels=(-scale, scale))
        self.colorbar.setLevels(values=(-scale, scale))
        self._fit(image.shape)

    def clear_fields(self) -> None:
        self.clear_image()
        self.W = self.b = None
        self.order = np.zeros(0, dtype=np.int64)

    def unit_at(self, pos: QPointF) -> int | None:
        """The hidden unit drawn at ``pos`` (image pixel coordinates), or None."""
        if self.W is None:
            return None
        tile = tile_at(
            int(math.floor(pos.y())),
            int(math.floor(pos.x())),
            self.tile_size,
            self.cols,
            self.order.size,
        )
        return None if tile is None else int(self.order[tile])

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        unit = self.unit_at(self.image.mapFromScene(scene_pos))
        if unit is None:
            self.hovered.emit("")
            return
        column = self.W[:, unit]
        bias = f", b = {self.b[unit]:+.3f}" if self.b is not None else ""
        self.hovered.emit(
            f"unit {unit}: ‖W‖ = {np.linalg.norm(column):.3f}, "
            f"ΣW = {column.sum():+.3f}, max|W| = {np.abs(column).max():.3f}{bias}"
        )


class ChainsView(_MosaicWidget):
    """The first few persistent chains (or β = 1 replicas) as spin lattices."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("rbmChainsView")
        self.image.setLookupTable(CHAIN_LUT)

    def set_chains(self, chains: np.ndarray, size: int, count: int) -> None:
        """Draw the first ``count`` rows of ``chains`` (k, size²) int8 ±1."""
        image = chain_mosaic(chains, size, count)
        self.image.setImage(image, autoLevels=False, levels=(0, CHAIN_LUT.shape[0]))
        self._fit(image.shape)
