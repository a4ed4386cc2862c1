"""Make the README's screenshots from the real window (run under Xvfb or on a desktop).

    xvfb-run -s "-screen 0 1600x1000x24" python docs/screenshots.py

Writes docs/images/lattice.png (a live simulation at T_c), docs/images/scan.png (a finished
temperature scan over the exact curves), docs/images/rbm.png (an RBM training live on
configurations recorded at T_c), docs/images/rg.png (the RG comparator: block spins and a
block-local RBM side by side on 8×8 configurations at T_c, and the flows T → T′ of 16×16 runs)
and docs/images/geometry.png (the geometry dock on an RBM with m = 64 trained for 20 epochs on
16×16 configurations at T_c).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from data import load_session  # noqa: E402
from lab.cli.shell import run_cli  # noqa: E402
from widgets.shell.app import create_application  # noqa: E402
from widgets.shell.main_window import MainWindow  # noqa: E402

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

    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "rg.h5")
        compare_rg(app, window, path, make_rg_session(path))
        window.grab().save(str(OUT / "rg.png"))
    window.session._set_dirty(False)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "geometry.h5")
        show_geometry(app, window, path, make_geometry_session(path))
        window.grab().save(str(OUT / "geometry.png"))
    window.session._set_dirty(False)
    window.close()
    print(
        f"wrote {OUT / 'lattice.png'}, {OUT / 'scan.png'}, {OUT / 'rbm.png'}, "
        f"{OUT / 'rg.png'} and {OUT / 'geometry.png'}"
    )


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


def make_rg_session(path: str) -> str:
    """The command line (in-process) makes the flows T → T′ of 16×16 runs at 7 temperatures for
    majority, decimation and a block-local RBM, and an 8×8 run at T_c with a block-local RBM of
    m = 16 (train-stack); returns the 8×8 run's id."""
    flow = ["--temperatures", "1.8:2.8:7", "--size", "16", "--samples", "1000", "--quiet"]
    for rule in ("majority", "decimation"):
        assert run_cli(["rg-flow", path, "--rule", rule, *flow]) == 0
    assert (
        run_cli(["rg-flow", path, "--rule", "rbm", "--levels", "1", "--epochs", "10", *flow]) == 0
    )
    assert (
        run_cli(
            [
                "simulate",
                "--out",
                path,
                "--size",
                "8",
                "--temperature",
                "2.269185",
                "--algorithm",
                "wolff",
                "--samples",
                "2000",
                "--thermalize",
                "200",
                "--interval",
                "2",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    data_id = [i for i, r in load_session(path).runs.items() if r.kind == "ising"][-1]
    assert (
        run_cli(
            ["train-stack", path, "--data", data_id, "--hidden", "16", "--epochs", "30", "--quiet"]
        )
        == 0
    )
    return data_id


def compare_rg(app: QApplication, window: MainWindow, path: str, data_id: str) -> None:
    """Open the session at ``path``; the RG dock coarse-grains run ``data_id`` by majority,
    decimation and the RBM, and shows one configuration."""
    window.open_path(path)
    dock = window.rg_dock
    dock.raise_()
    window.resizeDocks([window.browser_dock], [260], Qt.Orientation.Horizontal)
    dock.select_data(data_id)
    dock.block_field.edit.setText("2")
    dock.levels_field.edit.setText("2")
    dock.rbm_box.setChecked(True)
    dock.coarse_grain()
    wait(app, 120, lambda: not window.rg.running)
    rbm_rg = next(r.id for r in dock.compared if r.rule == "rbm")
    wait(app, 30, lambda: f"{rbm_rg}/reconstruction" in dock.strip.views)
    samples = window.session.run(data_id).datasets["samples"]
    m = np.abs(samples.reshape(samples.shape[0], -1).mean(axis=1))
    dock.sample_box.setValue(int(np.argmin(np.abs(m - 0.4))))  # one with domains to compare
    wait(app, 1.0)


def make_geometry_session(path: str) -> str:
    """The command line (in-process) records 16×16 configurations at T_c and trains an RBM with
    m = 64 on them for 20 epochs, a checkpoint per epoch; returns the RBM run's id."""
    assert (
        run_cli(
            [
                "simulate",
                "--out",
                path,
                "--size",
                "16",
                "--temperature",
                "2.269185",
                "--algorithm",
                "wolff",
                "--samples",
                "3000",
                "--thermalize",
                "200",
                "--interval",
                "2",
                "--seed",
                "4",
                "--quiet",
            ]
        )
        == 0
    )
    data_id = [i for i, r in load_session(path).runs.items() if r.kind == "ising"][-1]
    assert (
        run_cli(
            [
                "train",
                path,
                "--data",
                data_id,
                "--hidden",
                "64",
                "--epochs",
                "20",
                "--optimizer",
                "adam",
                "--lr",
                "0.001",
                "--method",
                "pcd",
                "--checkpoint-every",
                "1",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    return [i for i, r in load_session(path).runs.items() if r.kind == "rbm"][-1]


def show_geometry(app: QApplication, window: MainWindow, path: str, rbm_id: str) -> None:
    """Open the session at ``path``; the geometry dock computes the RBM's geometry and shows
    its spectrum over the Marchenko–Pastur band."""
    window.open_path(path)
    dock = window.geometry_dock
    dock.raise_()
    window.resizeDocks([window.browser_dock], [300], Qt.Orientation.Horizontal)
    dock.select_source("rbm", rbm_id)
    dock.compute()
    wait(app, 600, lambda: not window.geometry.running)
    dock.tabs.setCurrentIndex(0)
    wait(app, 1.0)


if __name__ == "__main__":
    main()
