"""The window comes up before the heavy imports: building the main window (what ``run_gui``
does before ``show()``) loads neither torch nor POT, and the warm-up that loads them after the
window is shown is joined when the event loop ends. Each check runs in a fresh interpreter
(offscreen), since this test process has imported torch long ago."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("torch", "ot")
BUILD = """
import json, sys
from widgets.shell.app import create_application
from widgets.shell.main_window import MainWindow
app = create_application()
window = MainWindow()
window.show()
app.processEvents()
built = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'ot'})
"""
WINDOW_PROBE = (
    BUILD
    + """
window.close()
print(json.dumps({"heavy": built}))
"""
)
WARM_PROBE = (
    BUILD
    + """
from widgets.shell.app import WARM_MODULES, warm_imports
thread = warm_imports()
thread.join(300)
print(json.dumps({"heavy": built, "alive": thread.is_alive(), "daemon": thread.daemon,
    "missing": [m for m in WARM_MODULES if m not in sys.modules]}))
window.close()
"""
)
RUN_GUI_PROBE = """
import json, sys, threading
from PySide6.QtCore import QTimer
from widgets.shell import app as shell_app
application = shell_app.create_application()
seen = {}

def close_soon():
    seen["heavy_when_shown"] = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'ot'})
    for widget in application.topLevelWidgets():
        if widget.objectName() == "mainWindow":
            widget.close()

QTimer.singleShot(0, close_soon)
code = shell_app.run_gui()
print(json.dumps({"code": code, "seen": seen,
    "threads": [t.name for t in threading.enumerate() if t is not threading.main_thread()],
    "missing": [m for m in shell_app.WARM_MODULES if m not in sys.modules]}))
"""


def probe(code: str) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, text=True, capture_output=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_building_the_main_window_imports_neither_torch_nor_pot():
    assert probe(WINDOW_PROBE)["heavy"] == []


def test_the_warm_up_imports_what_the_first_jobs_need_in_a_daemon_thread():
    out = probe(WARM_PROBE)
    assert out["heavy"] == []  # before the warm-up
    assert not out["alive"] and out["daemon"]
    assert out["missing"] == []


def test_run_gui_warms_after_show_and_joins_the_warm_up():
    out = probe(RUN_GUI_PROBE)
    assert out["code"] == 0
    assert "monge-lab-warm-imports" not in out["threads"]
    assert out["missing"] == []  # joined: every warm module was imported
    assert "heavy_when_shown" in out["seen"]  # the event loop ran with the window shown
