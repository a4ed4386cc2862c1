"""The Ising task, its recording, the run record it becomes, and the scan's helpers."""

from __future__ import annotations

import numpy as np
import pytest

from engines.exact import energy_per_spin
from engines.ising import IsingParams, IsingSimulation
from lab.core.ids import next_run_id
from lab.ising.runs import finish_ising_run, new_ising_run
from lab.ising.task import IsingPlan, IsingRecording, IsingTask
from lab.scan.task import parse_temperatures, scan_datasets, scan_seeds


def run_to_end(task: IsingTask) -> None:
    while not task.finished:
        task.step()


def test_samples_are_taken_every_interval_sweeps_after_thermalization():
    params = IsingParams(size=8, temperature=2.5, algorithm="heatbath", seed=3)
    plan = IsingPlan(thermalize=30, interval=7, samples=25)
    recording = IsingRecording()
    task = IsingTask(params, plan, recording)
    run_to_end(task)
    arrays = recording.arrays(8)
    assert arrays["samples"].shape == (25, 8, 8)
    np.testing.assert_array_equal(arrays["sweep"], 30 + 7 * np.arange(1, 26))
    assert task.snapshot().phase == "done" and task.snapshot().progress == 1.0


def test_task_reproduces_the_engine_driven_directly():
    """Chunking the work into steps must not change the trajectory."""
    params = IsingParams(size=8, temperature=2.3, algorithm="metropolis", seed=11)
    recording = IsingRecording()
    run_to_end(IsingTask(params, IsingPlan(thermalize=20, interval=3, samples=10), recording))
    sim = IsingSimulation(params)
    sim.thermalize(20)
    expected = []
    for _ in range(10):
        sim.sweep(3)
        expected.append(sim.spins.copy())
    np.testing.assert_array_equal(recording.arrays(8)["samples"], np.stack(expected))


def test_changing_temperature_restarts_statistics_after_rethermalizing():
    params = IsingParams(size=8, temperature=2.0, algorithm="wolff", seed=1)
    task = IsingTask(params, IsingPlan(thermalize=10, interval=1, samples=None))
    for _ in range(5):
        snapshot = task.step()
    assert snapshot.energy.size > 0
    task.set_temperature(3.0)
    snapshot = task.snapshot()
    assert snapshot.energy.size == 0 and snapshot.phase == "thermalizing"
    assert snapshot.temperature == 3.0


def test_running_estimates_arrive_in_the_snapshot():
    params = IsingParams(size=8, temperature=3.0, algorithm="wolff", seed=2)
    task = IsingTask(params, IsingPlan(thermalize=10, interval=1, samples=400))
    run_to_end(task)
    task._next_stats = 0.0
    task._update_estimates()
    snapshot = task.snapshot()
    assert snapshot.estimates_count == 400
    e = snapshot.estimates["e"]
    assert abs(e.value - energy_per_spin(8, 3.0)) < 5 * e.error


def test_finished_run_has_units_results_and_the_exact_reference():
    params = IsingParams(size=8, temperature=2.5, algorithm="swendsen-wang", seed=4)
    plan = IsingPlan(thermalize=50, interval=1, samples=200)
    recording = IsingRecording()
    run_to_end(IsingTask(params, plan, recording))
    run = finish_ising_run(
        new_ising_run("ising-001", params, plan),
        recording,
        params,
        "finished",
        "2026-01-01T00:00:00Z",
    )
    assert run.status == "finished" and run.seed == 4
    assert run.params["algorithm"] == "swendsen-wang" and run.params["interval"] == 1
    for name in ("samples", "energy", "magnetization", "sweep", "correlation/C"):
        assert name in run.datasets and "units" in run.dataset_attrs[name]
    assert run.results["n_samples"] == 200
    assert run.results["exact_e"] == pytest.approx(energy_per_spin(8, 2.5))
    assert abs(run.results["e"] - run.results["exact_e"]) < 5 * run.results["e_error"]


def test_bad_plans_are_refused_with_a_clear_message():
    cases = (
        (IsingPlan(thermalize=-1), "thermalize"),
        (IsingPlan(interval=0), "interval"),
        (IsingPlan(samples=0), "samples"),
    )
    for plan, word in cases:
        with pytest.raises(ValueError, match=word):
            plan.validate()


def test_run_ids_count_per_kind_and_are_never_reused():
    assert next_run_id([], "ising") == "ising-001"
    assert next_run_id(["ising-001", "ising-007", "ising-scan-002"], "ising") == "ising-008"
    assert next_run_id(["ising-001", "ising-scan-002"], "ising-scan") == "ising-scan-003"


def test_temperature_lists_and_ranges_parse_and_bad_ones_explain():
    np.testing.assert_allclose(parse_temperatures("1:2:3"), [1.0, 1.5, 2.0])
    np.testing.assert_allclose(parse_temperatures("2.0, 2.5;3"), [2.0, 2.5, 3.0])
    for text in ("", "1:2", "a,b", "1:2:0", "0, 1", "-1:2:3", "nan"):
        with pytest.raises(ValueError):
            parse_temperatures(text)


def test_scan_seeds_are_reproducible_and_distinct():
    assert scan_seeds(5, 4) == scan_seeds(5, 4)
    assert len(set(scan_seeds(5, 20))) == 20
    assert scan_seeds(5, 4) != scan_seeds(6, 4)


def test_scan_datasets_mark_missing_values_as_nan():
    curves = scan_datasets([{"temperature": 2.0, "e": -1.7, "e_error": 0.01}])
    assert curves["e"][0] == -1.7 and np.isnan(curves["c"][0])


def test_wolff_calibrates_over_all_chunks_of_a_chunked_thermalization(monkeypatch):
    """The task thermalizes in short calls; the sweep length must not hinge on the last one."""
    import lab.ising.task as ising_task

    monkeypatch.setattr(ising_task, "THERMALIZE_CHUNK_SPINS", 32 * 32)  # one sweep per call
    params = IsingParams(size=32, temperature=3.0, algorithm="wolff", seed=5)
    task = IsingTask(params, IsingPlan(thermalize=400, interval=1, samples=1))
    run_to_end(task)
    chunked = task.simulation
    assert chunked._cluster_count > 100 * chunked.cluster_updates_per_sweep
    reference = IsingSimulation(IsingParams(size=32, temperature=3.0, algorithm="wolff", seed=6))
    reference.thermalize(4000)
    ratio = chunked.cluster_updates_per_sweep / reference.cluster_updates_per_sweep
    assert 0.9 < ratio < 1.1


@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang", "metropolis", "heatbath"])
def test_same_seed_same_samples_whatever_the_machine_speed(monkeypatch, algorithm):
    """How much work a step does depends on measured time; the samples must not."""
    import lab.ising.task as ising_task

    def samples_with_step(seconds: float) -> np.ndarray:
        monkeypatch.setattr(ising_task, "STEP_SECONDS", seconds)
        params = IsingParams(size=16, temperature=2.269, algorithm=algorithm, seed=9)
        recording = IsingRecording()
        run_to_end(IsingTask(params, IsingPlan(thermalize=300, interval=3, samples=20), recording))
        return recording.arrays(16)["samples"]

    np.testing.assert_array_equal(samples_with_step(1e-6), samples_with_step(0.5))
