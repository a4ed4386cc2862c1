"""Make the README's screenshots from the real window (run under Xvfb or on a desktop).

    xvfb-run -s "-screen 0 1600x1000x24" python docs/screenshots.py

Writes docs/images/lattice.png (a live simulation at T_c), docs/images/scan.png (a finished
temperature scan over the exact curves) and docs/images/rbm.png (an RBM training live on
configurations recorded at T_c).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
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

    train_rbm(app, window)
    window.grab().save(str(OUT / "rbm.png"))
    window.rbm.stop()
    window.session._set_dirty(False)
    window.close()
    print(f"wrote {OUT / 'lattice.png'}, {OUT / 'scan.png'} and {OUT / 'rbm.png'}")


def train_rbm(app: QApplication, window: MainWindow) -> None:
    """Record 16×16 configurations at T_c, then train an RBM on them for 40 s (the caller
    grabs the window mid-training and stops it)."""
    wait(app, 0.5)  # let the simulation stopped before close its recorded run
    dock = window.ising_dock
    dock.size_box.setValue(16)
    dock.algorithm_box.setCurrentText("wolff")
    dock.temperature.setValue(2.269185)
    dock.thermalize_box.setValue(200)
    dock.interval_box.setValue(2)
    dock.samples_box.setValue(4000)
    dock.record_box.setChecked(True)
    dock.start()
    data_id = window.live.recording_run_id
    wait(app, 300, lambda: window.session.run(data_id).status == "finished")

    rbm = window.rbm_dock
    rbm.raise_()
    window.resizeDocks([window.browser_dock], [380], Qt.Orientation.Horizontal)
    rbm.set_checked_data([data_id])
    rbm.hidden_box.setValue(64)
    rbm.optimizer_box.setCurrentText("adam")
    rbm.lr_field.edit.setText("0.001")
    rbm.epochs_box.setValue(300)
    rbm.seed_box.setValue(1)
    rbm.start()
    wait(app, 40.0)


if __name__ == "__main__":
    main()
