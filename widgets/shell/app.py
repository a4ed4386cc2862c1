"""Starting the GUI: the QApplication, pyqtgraph's settings, the main window.

The main window is built without torch and POT (the docks import only what they show; a job
imports its task when it starts). Once the window is shown, :func:`warm_imports` loads those
heavy modules in a background thread, so that the first Start does not pay for them on the GUI
thread: an import the GUI thread asks for meanwhile waits on Python's per-module import lock
for the warm-up to finish it, and then finds it done.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from widgets.shell.main_window import MainWindow

WARM_MODULES = (
    "torch",
    "ot",
    "engines.rbm.training",  # the RBM trainer
    "engines.rbm.thermodynamics",  # its monitor
    "lab.geometry.task",  # the geometry dock's computation
    "lab.geometry.score_task",  # the Wasserstein scores
    "engines.rg.reproductions",  # the RBM stacks and the reproductions
)
"""What :func:`warm_imports` loads after the window is shown: what the first jobs import."""
WARM_JOIN_S = 120.0
"""How long :func:`run_gui` waits, after the event loop, for a warm-up still importing."""


def create_application() -> QApplication:
    """The application object (reused when one exists, e.g. under pytest-qt)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Monge Lab")
    app.setOrganizationName("MongeLab")
    pg.setConfigOptions(antialias=False, imageAxisOrder="row-major")
    return app


def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        # A module that fails to import here is left out of sys.modules and imported again,
        # with its error shown, where a job needs it.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def warm_imports(modules: Sequence[str] = WARM_MODULES) -> threading.Thread:
    """Import ``modules`` in a started daemon thread (module doc); join it before the
    interpreter exits (a daemon thread importing at shutdown can crash it)."""
    thread = threading.Thread(
        target=_import_all, args=(tuple(modules),), name="monge-lab-warm-imports", daemon=True
    )
    thread.start()
    return thread


def run_gui(path: str | None = None) -> int:
    """Open the main window (and the session at ``path``), warm the heavy imports in the
    background, offer to recover the runs killed programs left unsaved, and run the event loop."""
    app = create_application()
    window = MainWindow()
    window.show()
    warm = warm_imports()
    try:
        if path is None or not window.open_path(path):  # opening offers its own recordings
            window.offer_recovery(on_demand=False)
        return app.exec()
    finally:
        warm.join(WARM_JOIN_S)
