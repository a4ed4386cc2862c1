"""GUI responsiveness while the engine runs: lattice frames per second and event-loop stalls.

The real main window is opened (offscreen unless a display is set, e.g. under ``xvfb-run``), a
live simulation is started (L = 512 by default; the targets are meant for L = 2048 too), and for
``seconds`` seconds we count (a) lattice images handed to the viewer, (b) paint events of the
lattice view, and (c) the longest gap between the firings of a 1 ms timer, which is the longest
time the GUI thread could not react to input. The JSON also gives the engine's sweeps per second
meanwhile, the view's pixels and the block of sites per pixel the worker drew, and the load
average before and after (two shared cores: the figures move with it).

Run alone: ``python -m benchmarks.gui_frames [--size L] [--algorithm A] [--seconds S]``
(prints JSON); :func:`measure_gui_child` runs that in a child process (optionally under
``xvfb-run``), so that each measurement has a fresh application.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def measure_gui(size: int = 512, algorithm: str = "metropolis", seconds: float = 5.0) -> dict:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from engines.ising import IsingParams
    from lab.ising.task import IsingPlan
    from widgets.shell.app import create_application
    from widgets.shell.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    dock = window.ising_dock

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802 — Qt naming
            if event.type() == QEvent.Type.Paint:
                PaintCounter.count += 1
            return False

    counter = PaintCounter()
    dock.lattice.viewport().installEventFilter(counter)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer(interval=1)
    probe.timeout.connect(tick)
    load_before = os.getloadavg()
    for _ in range(5):
        app.processEvents()
    window.live.set_display_pixels(dock.lattice.pixels())
    window.live.start(
        IsingParams(size=size, temperature=2.269185, algorithm=algorithm, seed=1),
        IsingPlan(thermalize=0, interval=1, samples=None),
        record=False,
    )
    # warm up: numba compilation and the first frames are not part of the measurement
    deadline = time.perf_counter() + 3.0
    while window.live.snapshot() is None and time.perf_counter() < deadline:
        app.processEvents()
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)
    frames0, paints0 = dock.lattice.frames_drawn, PaintCounter.count
    sweeps0 = window.live.snapshot().sweeps
    gaps.clear()
    last[0] = time.perf_counter()
    probe.start()
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        app.processEvents()
        time.sleep(0.0005)
    probe.stop()
    gaps.append(time.perf_counter() - last[0])  # a block at the very end counts too
    elapsed = time.perf_counter() - start
    last = window.live.snapshot()
    sweeps = last.sweeps - sweeps0
    frames = dock.lattice.frames_drawn - frames0
    paints = PaintCounter.count - paints0
    pixels, block = dock.lattice.pixels(), last.block
    window.live.stop()
    window.session._set_dirty(False)
    window.close()
    QApplication.processEvents()
    return {
        "lattice_size": size,
        "algorithm": algorithm,
        "measured_seconds": round(elapsed, 2),
        "platform": QApplication.platformName(),
        "frames_per_second": round(frames / elapsed, 1),
        "paints_per_second": round(paints / elapsed, 1),
        "engine_sweeps_per_second": round(sweeps / elapsed, 1),
        "longest_event_loop_stall_ms": round(1000 * max(gaps), 1) if gaps else None,
        "lattice_view_pixels": pixels,
        "sites_per_pixel_block": block,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "targets": {
            "frames_per_second": ">= 30 (capped by the 30 Hz pull timer)",
            "longest_event_loop_stall_ms": "<= 50",
        },
    }


def measure_gui_child(
    size: int = 2048, algorithm: str = "metropolis-msc", seconds: float = 5.0, xvfb: bool = False
) -> dict:
    """:func:`measure_gui` in a child process (under ``xvfb-run`` if ``xvfb`` and it exists)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.gui_frames",
        "--size",
        str(size),
        "--algorithm",
        algorithm,
        "--seconds",
        str(seconds),
    ]
    env = dict(os.environ)
    if xvfb and shutil.which("xvfb-run"):
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *command]
        env.pop("QT_QPA_PLATFORM", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        command,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 300,
    )
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--algorithm", default="metropolis")
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    print(json.dumps(measure_gui(options.size, options.algorithm, options.seconds), indent=2))
