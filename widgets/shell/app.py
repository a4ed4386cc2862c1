"""Starting the GUI: the QApplication, pyqtgraph's settings, the main window."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from widgets.shell.main_window import MainWindow


def create_application() -> QApplication:
    """The application object (reused when one exists, e.g. under pytest-qt)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Monge Lab")
    app.setOrganizationName("MongeLab")
    pg.setConfigOptions(antialias=False, imageAxisOrder="row-major")
    return app


def run_gui(path: str | None = None) -> int:
    """Open the main window (and the session at ``path``), offer to recover the runs killed
    programs left unsaved, and run the event loop."""
    app = create_application()
    window = MainWindow()
    window.show()
    if path is None or not window.open_path(path):  # opening offers its own recordings
        window.offer_recovery(on_demand=False)
    return app.exec()
