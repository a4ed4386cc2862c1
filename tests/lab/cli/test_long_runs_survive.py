"""SIGKILL during the long headless runs (``rg-flow``, ``geometry``): what was saved survives.

Each test runs the real command ``python main.py …`` in a child process, waits until the session
file holds the first save (polling ``data.read_run_ids``: every save is an atomic rename, so the
file is always a whole session), kills the child with SIGKILL and checks that the session loads
with the finished work intact and the interrupted run marked ``interrupted``. The last test
checks that the GUI's geometry computation puts its growing run into the session (status
``running``) so that a save during the computation keeps the checkpoints done.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from data import load_session, read_run_ids
from lab.core.jobs import JobManager
from lab.geometry.controller import GeometryController
from lab.geometry.options import GeometryOptions
from lab.rbm.controller import RBMTrainingController
from lab.session.session import Session
from main import main

ROOT = Path(__file__).resolve().parents[3]
WAIT_S = 60.0  # the child's start-up (torch import) takes several seconds on a busy machine
L, HIDDEN, EPOCHS = 6, 9, 4
GEOMETRY = ["--samples", "100", "--burn-in", "20", "--points", "50", "--k", "4", "--seed", "3"]
PER_CHECKPOINT = (  # one row per checkpoint, computed from that checkpoint (and the ones before)
    "epoch",
    "spectrum",
    "rank",
    "condition",
    "n_outliers",
    "mp_fit",
    "modular_spectrum",
    "monge_ampere_residual",
    "gaussian_ot_residual",
    "gaussian_w2",
    "wasserstein_to_data",
    "energy_w1",
    "magnetization_w1",
    "entropy",
    "relative_entropy_to_data",
)


def _run_until(argv: list[str], path: Path, wanted: str) -> subprocess.Popen:
    """Start ``python main.py argv``, SIGKILL it once ``wanted`` is a run of ``path``."""
    child = subprocess.Popen(
        [sys.executable, "main.py", *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + WAIT_S
    try:
        while time.monotonic() < deadline and child.poll() is None:
            if path.exists() and wanted in read_run_ids(path):
                break
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, (
        f"the child ended on its own ({child.returncode}) before the kill: "
        f"{child.stderr.read().decode()[-500:]}"
    )
    child.stderr.close()
    return child


def test_rg_flow_killed_keeps_the_finished_temperatures(tmp_path):
    path = tmp_path / "S.h5"
    temperatures = np.linspace(2.0, 2.6, 4)
    # ~1 s a temperature here: the kill lands long before the fourth
    _run_until(
        [
            "rg-flow",
            str(path),
            "--rule",
            "majority",
            "--temperatures",
            "2.0:2.6:4",
            "--size",
            "16",
            "--samples",
            "4000",
            "--interval",
            "10",
            "--quiet",
        ],
        path,
        "rg-001",
    )
    runs = load_session(path).runs
    flow = runs["rg-flow-001"]
    assert flow.status == "interrupted"
    rows = flow.datasets["temperature"].size
    assert 1 <= rows < temperatures.size
    np.testing.assert_array_equal(flow.datasets["temperature"], temperatures[:rows])
    assert flow.inputs == [f"rg-{i:03d}" for i in range(1, rows + 1)]
    rg_ids = sorted(r for r in runs if runs[r].kind == "rg")
    # the temperature's runs and the flow's new row are two atomic writes: a kill between them
    # leaves one temperature more saved than the flow lists
    assert rg_ids[:rows] == flow.inputs and len(rg_ids) - rows in (0, 1)
    for i, rg_id in enumerate(rg_ids):
        ising, rg = runs[f"ising-{i + 1:03d}"], runs[rg_id]
        assert ising.status == rg.status == "finished"
        assert ising.params["temperature"] == temperatures[i]
        assert ising.datasets["samples"].shape == (4000, 16, 16)
        assert rg.inputs == [ising.id]
        if i < rows:
            for name in ("effective_temperature", "binder_temperature"):
                np.testing.assert_array_equal(flow.datasets[name][i], rg.datasets[name])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A session with an RBM (L = 6, 9 hidden units) checkpointed at every epoch."""
    path = tmp_path_factory.mktemp("trained") / "T.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                str(L),
                "--temperature",
                "2.4",
                "--algorithm",
                "wolff",
                "--samples",
                "300",
                "--thermalize",
                "100",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                str(HIDDEN),
                "--epochs",
                str(EPOCHS),
                "--checkpoint-every",
                "1",
                "--batch",
                "32",
                "--seed",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    return path


def test_geometry_killed_keeps_the_checkpoints_saved(trained, tmp_path):
    full = tmp_path / "full.h5"
    shutil.copy(trained, full)
    assert main(["geometry", str(full), "--rbm", "rbm-001", *GEOMETRY, "--quiet"]) == 0
    reference = load_session(full).runs["geometry-001"]
    epochs = reference.datasets["epoch"]
    assert epochs.size > 2

    path = tmp_path / "S.h5"
    shutil.copy(trained, path)
    # the first save comes after the first checkpoint, the next not before 60 s: the kill
    # finds exactly one checkpoint in the file
    _run_until(
        ["geometry", str(path), "--rbm", "rbm-001", *GEOMETRY, "--save-seconds", "60", "--quiet"],
        path,
        "geometry-001",
    )
    runs = load_session(path).runs
    assert sorted(runs) == ["geometry-001", "ising-001", "rbm-001"]
    run = runs["geometry-001"]
    assert run.status == "interrupted"
    assert run.results["checkpoints"] == 1
    for name in PER_CHECKPOINT:
        # the same seeded computation of the first checkpoint in both processes; only the
        # order of BLAS reductions may differ (relative error ~1e-15 × small condition numbers)
        np.testing.assert_allclose(
            run.datasets[name], reference.datasets[name][:1], rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_the_gui_computation_records_its_run_as_it_grows(trained, tmp_path, qtbot):
    path = tmp_path / "S.h5"
    shutil.copy(trained, path)
    session, jobs = Session(), JobManager()
    session.load(path)
    controller = GeometryController(session, jobs, RBMTrainingController(session, jobs))
    options = GeometryOptions(samples=100, burn_in=20, n_points=50, k=4, seed=3)
    controller.compute("rbm-001", options)
    controller.pause()  # the worker may finish the step it is in: then 1 checkpoint is done
    qtbot.waitUntil(lambda: controller.state == "paused", timeout=30000)
    controller.step()
    qtbot.waitUntil(
        lambda: controller.snapshot() is not None and controller.snapshot().done >= 1, timeout=30000
    )
    controller.record_progress()
    done = controller.snapshot().done
    run = session.run(controller.run_id)
    assert run.status == "running" and run.results["checkpoints"] == done < EPOCHS + 1
    session.save(path)  # what a save or an autosave writes during the computation
    saved = load_session(path).runs[run.id]
    assert saved.status == "running" and saved.datasets["epoch"].tolist() == list(range(done))
    controller.resume()
    qtbot.waitUntil(lambda: not controller.running, timeout=30000)
    runs = [r for r in session.runs() if r.kind == "geometry"]
    assert [r.id for r in runs] == [run.id] and runs[0].status == "finished"
    assert runs[0].datasets["epoch"].tolist() == list(range(EPOCHS + 1))
    session.close()


def test_train_killed_keeps_its_checkpoints_and_resumes_to_the_uninterrupted_run(trained, tmp_path):
    """``train`` saves as it goes (checkpoint, trainer state, history): killed, the run is
    ``interrupted``; ``train --resume`` then ends exactly where an uninterrupted run ends."""
    path = tmp_path / "S.h5"
    shutil.copy(trained, path)
    args = [
        "--data",
        "ising-001",
        "--hidden",
        str(HIDDEN),
        "--epochs",
        "150",
        "--checkpoint-every",
        "1",
        "--batch",
        "32",
        "--seed",
        "5",
        "--quiet",
    ]
    _run_until(["train", str(path), *args, "--save-seconds", "0.05"], path, "rbm-002")
    killed = load_session(path).runs["rbm-002"]
    assert killed.status == "interrupted"
    done = killed.datasets["checkpoints/epoch"]
    assert 1 <= done[-1] < 150 and killed.datasets["history/epoch"][-1] >= done[-1]
    assert main(["train", str(path), "--resume", "rbm-002", "--quiet"]) == 0
    assert main(["train", str(path), *args]) == 0
    runs = load_session(path).runs
    resumed, straight = runs["rbm-002"], runs["rbm-003"]
    assert resumed.status == straight.status == "finished"
    for name in ("W", "a", "b", "checkpoints/W", "checkpoints/epoch", "history/nll_train"):
        np.testing.assert_array_equal(resumed.datasets[name], straight.datasets[name])
