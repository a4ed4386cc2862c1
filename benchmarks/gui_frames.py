"""GUI responsiveness while the engine runs: lattice frames per second and event-loop stalls.

The real main window is opened (offscreen unless a display is set), a live simulation is started
at L = 512, and for ``seconds`` seconds we count (a) lattice images handed to the viewer,
(b) paint events of the lattice view, and (c) the longest gap between the firings of a 1 ms
timer, which is the longest time the GUI thread could not react to input.

Run alone: ``python -m benchmarks.gui_frames`` (prints JSON).
"""

from __future__ import annotations

import json
import os
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
    window.live.start(IsingParams(size=size, temperature=2.269185, algorithm=algorithm, seed=1),
                      IsingPlan(thermalize=0, interval=1, samples=None), record=False)
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
    sweeps = window.live.snapshot().sweeps - sweeps0
    frames = dock.lattice.frames_drawn - frames0
    paints = PaintCounter.count - paints0
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
        "targets": {"frames_per_second": ">= 30 (capped by the 30 Hz pull timer)",
                    "longest_event_loop_stall_ms": "<= 50"},
    }


if __name__ == "__main__":
    print(json.dumps(measure_gui(), indent=2))
