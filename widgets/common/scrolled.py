"""A dock's control column in a vertical scroll area, so the dock stays usable when short."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget

SCROLLBAR_ALLOWANCE = 18
"""Pixels added to the column's width for the vertical scroll bar (px)."""


def scrolled_controls(box: QWidget) -> QScrollArea:
    """``box`` in a scroll area that scrolls vertically only and is never narrower than it."""
    scroll = QScrollArea()
    scroll.setWidget(box)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(box.minimumSizeHint().width() + SCROLLBAR_ALLOWANCE)
    return scroll
