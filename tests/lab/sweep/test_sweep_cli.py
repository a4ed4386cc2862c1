"""``sweep`` on a real local Dask cluster (processes, 2 workers): the same runs, bit for bit, as
the commands run one point at a time; bad plans refused before any work; a killed client
resumed to the session an uninterrupted sweep gives."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time

import pytest

from data import read_run, read_run_ids
from main import main
from tests.lab.sweep.conftest import (
    FIXED,
    GRID,
    digest,
    same_run,
    sweep_here,
    sweep_process,
    sweep_view,
)


def test_an_ising_sweep_gives_the_runs_simulate_gives_bit_for_bit(tmp_path, serial_grid, capsys):
    path = tmp_path / "S.h5"
    done = sweep_here(capsys, str(path), "simulate", *GRID, *FIXED, "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert (
        "sweep-001 runs 8 of 8 point(s) of simulate on the local cluster, 2 worker" in done.stdout
    )
    view = sweep_view(path)
    assert view.status == "finished" and view.counts()["finished"] == 8
    points = view.points()
    assert [(p.values["size"], p.values["temperature"]) for p in points] == [
        (size, t) for size in ("8", "16") for t in ("2", "2.2", "2.4", "2.6")
    ]
    assert list(view.inputs) == [f"ising-00{i}" for i in range(1, 9)]
    assert len({p.worker for p in points}) == 2  # both worker processes took points
    assert all(p.worker.startswith("tcp://127.0.0.1") for p in points)
    for point, alone in zip(points, serial_grid, strict=True):
        swept = read_run(path, point.run_id)
        assert swept.seed == point.seed == alone.seed
        assert same_run(alone, swept), point


def test_an_rbm_sweep_gives_the_runs_train_gives_and_keeps_a_diverging_point(
    ising_session, tmp_path, capsys
):
    serial = tmp_path / "serial.h5"
    shutil.copy(ising_session, serial)
    done = sweep_here(
        capsys,
        str(ising_session),
        "train",
        "--data",
        "ising-001",
        "--hidden",
        "4,6,4",
        "--lr",
        "0.01,0.01,1e8",
        "--zip",
        "hidden,lr",
        "--epochs",
        "3",
        "--batch",
        "32",
        "--workers",
        "2",
        "--quiet",
    )
    assert done.returncode == 1, done.stderr  # a point failed, the others went on
    view = sweep_view(ising_session)
    assert view.status == "failed"
    assert [p.run_id for p in view.points()] == ["rbm-001", "rbm-002", "rbm-003"]
    assert [p.status for p in view.points()] == ["finished"] * 2 + ["failed"]
    assert "diverged" in view.points()[2].message
    for point in view.points():
        code = main(
            [
                "train",
                str(serial),
                "--data",
                "ising-001",
                "--hidden",
                point.values["hidden"],
                "--lr",
                point.values["lr"],
                "--epochs",
                "3",
                "--batch",
                "32",
                "--seed",
                str(point.seed),
                "--quiet",
            ]
        )
        assert code == (0 if point.status == "finished" else 1)
        swept, alone = read_run(ising_session, point.run_id), read_run(serial, point.run_id)
        assert swept.status == point.status and swept.inputs == ["ising-001"]
        assert same_run(alone, swept), point


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--size", "8", "--temperature", "2.2"],  # nothing swept
        ["simulate", "--size", "8,-3", "--temperature", "2.2"],  # a bad value
        ["simulate", "--size", "8,16", "--temperature", "2:3:0"],  # an empty range
        ["simulate", "--size", "8,16"],  # no temperature: the command's own check
        ["train", "--data", "ising-001,ising-009", "--hidden", "4"],  # a missing run
        ["train", "--data", "ising-001", "--hidden", "4,0"],  # the trainer's own check
        ["evaluate", "--rbm", "rbm-001", "--seed", "1,2"],  # no such rbm run
        ["rg-flow", "--rule", "majority,nope", "--temperatures", "2.0:2.5:2", "--size", "8"],
        ["rg-flow", "--rule", "majority,decimation", "--temperatures", "2.0", "--size", "6"],
        ["--resume", "sweep-007"],
        ["--plan", "no-such-plan.toml"],
        ["simulate", "--size", "8,16", "--temperature", "2.2", "--scheduler", "PORT"],
        ["simulate", "--size", "8,16", "--temperature", "2.2", "--workers", "0"],
    ],
)
def test_bad_plans_exit_2_with_one_line_and_the_session_unchanged(ising_session, capsys, args):
    before = digest(ising_session)
    args = [f"tcp://127.0.0.1:{_free_port()}" if a == "PORT" else a for a in args]
    start = time.monotonic()
    assert main(["sweep", str(ising_session), *args]) == 2
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err.strip()
    assert err.startswith("monge-lab: error: ") and "\n" not in err, err
    assert "Traceback" not in err
    assert digest(ising_session) == before


def test_unknown_kinds_and_empty_grids_in_a_plan_file_exit_2(ising_session, tmp_path, capsys):
    before = digest(ising_session)
    for text, message in (
        ('kind = "anneal"\n[grid]\nsize = [8, 16]', "unknown kind"),
        ('kind = "simulate"\n[grid]\nsize = []', "empty"),
    ):
        plan = tmp_path / "plan.toml"
        plan.write_text(text)
        assert main(["sweep", str(ising_session), "--plan", str(plan)]) == 2
        assert message in capsys.readouterr().err
    assert digest(ising_session) == before


def _wait_for_points(path, count: int, process) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if path.exists() and sum(i.startswith("ising-") for i in read_run_ids(path)) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    pytest.fail(f"{count} point(s) did not finish in 90 s")


def test_a_killed_client_resumes_only_unfinished_points_to_the_uninterrupted_session(
    tmp_path, serial_grid, capsys
):
    path = tmp_path / "S.h5"
    # one worker: the points end one at a time, and the kill lands with most of them to run
    process = sweep_process(str(path), "simulate", *GRID, *FIXED, "--workers", "1", "--quiet")
    try:
        _wait_for_points(path, 2, process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    killed = sweep_view(path)
    assert killed.status == "interrupted"
    finished_before = {i: read_run(path, i) for i in read_run_ids(path) if i.startswith("ising-")}
    unfinished = 8 - len(finished_before)
    assert unfinished >= 1, "the sweep ended before the kill"
    done = sweep_here(capsys, str(path), "--resume", "sweep-001", "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert f"sweep-001 resumes {unfinished} of 8 point(s)" in done.stdout
    view = sweep_view(path)
    assert view.status == "finished" and view.counts()["finished"] == 8
    ids = [i for i in read_run_ids(path) if i.startswith("ising-")]
    assert sorted(ids) == [f"ising-00{i}" for i in range(1, 9)]  # each point once
    for run_id, run in finished_before.items():  # the points done before the kill: untouched
        assert read_run(path, run_id) == run
    # the session an uninterrupted sweep gives (the test above): the serial runs, bit for bit
    for point, alone in zip(view.points(), serial_grid, strict=True):
        assert same_run(alone, read_run(path, point.run_id)), point


def test_ctrl_c_cancels_cleanly_keeping_what_finished_through_a_shared_folder(tmp_path):
    path, shared = tmp_path / "S.h5", tmp_path / "shared"
    shared.mkdir()
    process = sweep_process(
        str(path),
        "simulate",
        *GRID,
        *FIXED,
        "--workers",
        "1",
        "--shared-dir",
        str(shared),
        "--quiet",
        new_session=True,
    )
    try:
        _wait_for_points(path, 1, process)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "stopped (Ctrl-C)" in err
    view = sweep_view(path)
    assert view.status == "stopped"
    finished = [p for p in view.points() if p.status == "finished"]
    assert finished and len(finished) < 8
    assert all(p.status in ("finished", "pending") for p in view.points())
    for point in finished:  # each finished point's run, folded in from the shared folder
        assert read_run(path, point.run_id).status == "finished"
    assert not list(shared.iterdir())  # the files the workers left there were folded and removed


def _flow_content(path, flow_id: str) -> tuple[dict, list[dict]]:
    """An rg-flow run's params and datasets, and per temperature its ising and rg runs'
    datasets and params: everything but the run ids, which depend on the other points."""
    flow = read_run(path, flow_id)
    params = {k: v for k, v in flow.params.items() if k != "rbm"}
    rows = []
    for rg_id in flow.inputs:
        rg = read_run(path, rg_id)
        (ising_id,) = [i for i in rg.inputs if i.startswith("ising-")]
        ising = read_run(path, ising_id)
        rows.append(
            {
                "rg": {k: v.tolist() for k, v in rg.datasets.items()},
                "ising": {
                    k: v.tolist() for k, v in ising.datasets.items() if not k.endswith("seconds")
                },
                "params": (rg.params, ising.params, rg.seed, ising.seed),
            }
        )
    datasets = {k: v.tolist() for k, v in flow.datasets.items()}
    return {"params": params, "seed": flow.seed, "datasets": datasets}, rows


def test_an_rg_flow_sweep_gives_the_flows_rg_flow_gives_each_run_once(tmp_path, capsys):
    path, serial = tmp_path / "S.h5", tmp_path / "serial.h5"
    fixed = ["--temperatures", "2.0, 2.6", "--size", "8", "--samples", "60"]
    fixed += ["--thermalize", "20", "--epochs", "2", "--steps", "2", "--hidden", "8"]
    done = sweep_here(
        capsys,
        str(path),
        "rg-flow",
        "--rule",
        "majority,rbm-flow,decimation",
        *fixed,
        "--workers",
        "2",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    view = sweep_view(path)
    assert view.status == "finished"
    assert [p.run_id for p in view.points()] == ["rg-flow-001", "rg-flow-002", "rg-flow-003"]
    ids = read_run_ids(path)
    # per point: 2 ising and 2 rg runs (and the one RBM rbm-flow trains), no id twice
    assert len(ids) == len(set(ids)) == 1 + 3 + 3 * 2 * 2 + 1
    assert read_run(path, "rg-flow-002").params["rbm"] == ["rbm-001"]
    for point in view.points():
        before = set(read_run_ids(serial)) if serial.exists() else set()
        code = main(
            ["rg-flow", str(serial), "--rule", point.values["rule"], *fixed]
            + ["--seed", str(point.seed), "--quiet"]
        )
        assert code == 0
        capsys.readouterr()
        (alone,) = [i for i in set(read_run_ids(serial)) - before if i.startswith("rg-flow")]
        swept, serial_flow = (
            json.dumps(_flow_content(p, i), sort_keys=True, default=str)  # nan == nan as text
            for p, i in ((path, point.run_id), (serial, alone))
        )
        assert swept == serial_flow, point
