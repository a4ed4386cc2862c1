"""Make the README's screenshots from the real window (run under Xvfb or on a desktop).

    xvfb-run -s "-screen 0 1600x1000x24" python docs/screenshots.py

Writes docs/images/lattice.png (a live simulation at T_c) and docs/images/scan.png (a finished
temperature scan over the exact curves).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.app import create_application  # noqa: E402
from widgets.main_window import MainWindow  # noqa: E402

OUT = ROOT / "docs" / "images"


def wait(app: QApplication, seconds: float, until=lambda: False) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.005)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app = create_application()
    window = MainWindow()
    window.resize(1560, 960)
    window.show()
    wait(app, 0.5)

    scan = window.scan_dock
    scan.temperatures_edit.setText("1.6:3.4:13")
    scan.size_box.setValue(6)
    scan.samples_box.setValue(3000)
    scan.thermalize_box.setValue(300)
    scan.interval_box.setValue(2)
    scan.start()
    wait(app, 600, lambda: window.scan.job.state.is_terminal)
    wait(app, 1.0)
    scan.raise_()
    wait(app, 0.5)
    window.grab().save(str(OUT / "scan.png"))

    dock = window.ising_dock
    dock.raise_()
    dock.size_box.setValue(256)
    dock.algorithm_box.setCurrentText("wolff")
    dock.temperature.setValue(2.269185)
    dock.thermalize_box.setValue(50)
    dock.interval_box.setValue(1)
    dock.record_box.setChecked(True)
    dock.start()
    wait(app, 12.0)
    window.grab().save(str(OUT / "lattice.png"))
    window.live.stop()
    window.session._set_dirty(False)
    window.close()
    print(f"wrote {OUT / 'lattice.png'} and {OUT / 'scan.png'}")


if __name__ == "__main__":
    main()
