"""The multi-spin algorithms in the lab (issue 14): the task measures and records from the packed
words and hands the viewer a block image made from them; all of it must be exactly what the
unpacked path (the simulation's own accessors) gives, and a resumed run must continue the
uninterrupted one bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from engines.exact import energy_per_spin as exact_energy
from engines.ising import IsingParams, IsingSimulation
from engines.ising.frames import spins_block_image
from lab.ising.runs import (
    correlation_stride,
    finish_ising_run,
    ising_resume_state,
    new_ising_run,
    resume_ising_task,
    run_params,
)
from lab.ising.task import (
    SNAPSHOT_SPINS_MAX,
    IsingPlan,
    IsingRecording,
    IsingTask,
    display_block,
)

PACKED = ["metropolis-msc", "heatbath-msc"]


def run_to_end(task: IsingTask) -> None:
    while not task.finished:
        task.step()


def direct(params: IsingParams, plan: IsingPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples, e and m of the same run driven on the simulation's own accessors."""
    sim = IsingSimulation(params)
    sim.thermalize(plan.thermalize)
    spins, energy, magnetization = [], [], []
    for _ in range(plan.samples or 0):
        sim.sweep(plan.interval)
        spins.append(sim.spins_copy())
        energy.append(sim.energy_per_spin())
        magnetization.append(sim.magnetization_per_spin())
    return np.stack(spins), np.array(energy), np.array(magnetization)


@pytest.mark.parametrize("algorithm", PACKED)
@pytest.mark.parametrize("size", [6, 9, 70])  # words of 3, 3 and 35 sites (choose_width)
def test_the_packed_recording_holds_the_configurations_of_the_unpacked_path(algorithm, size):
    params = IsingParams(size=size, temperature=2.4, field=0.1, algorithm=algorithm, seed=7)
    plan = IsingPlan(thermalize=13, interval=3, samples=9)
    recording = IsingRecording()
    run_to_end(IsingTask(params, plan, recording))
    assert all(frame.dtype == np.uint64 for frame in recording._spins)  # kept packed
    arrays = recording.arrays(size)
    samples, energy, magnetization = direct(params, plan)
    np.testing.assert_array_equal(arrays["samples"], samples)
    np.testing.assert_array_equal(arrays["energy"], energy)  # the same floats, bit for bit
    np.testing.assert_array_equal(arrays["magnetization"], magnetization)
    np.testing.assert_array_equal(arrays["sweep"], 13 + 3 * np.arange(1, 10))


class _Rows:
    """Stands in for a RunRecorder: keeps the rows the live recording hands it."""

    def __init__(self) -> None:
        self.rows: list[dict[str, np.ndarray]] = []

    def append(self, rows: dict[str, np.ndarray]) -> None:
        self.rows.append({name: np.array(value, copy=True) for name, value in rows.items()})


def test_the_live_recorder_gets_the_same_configurations_though_the_buffer_is_reused():
    """The CLI's path (LiveRecording): the task unpacks into one buffer it reuses, so what the
    recorder receives must be read at once; compared with the unpacked path frame by frame."""
    from lab.ising.runs import LiveRecording

    params = IsingParams(size=12, temperature=2.2, algorithm="metropolis-msc", seed=3)
    plan = IsingPlan(thermalize=5, interval=2, samples=6)
    rows = _Rows()
    live = LiveRecording(rows, record_spins=True)  # type: ignore[arg-type]
    run_to_end(IsingTask(params, plan, live))
    assert len(live) == 6
    samples, energy, _ = direct(params, plan)
    np.testing.assert_array_equal(np.concatenate([r["samples"] for r in rows.rows]), samples)
    np.testing.assert_array_equal(np.concatenate([r["energy"] for r in rows.rows]), energy)


@pytest.mark.parametrize("algorithm", [*PACKED, "metropolis"])
def test_the_viewers_block_image_is_that_of_the_recorded_configuration(algorithm):
    """The snapshot of a lattice larger than SNAPSHOT_SPINS_MAX carries no spins, only the
    viewer's block image, made from the packed words; it is the block average of exactly the
    configuration the recorder gets at the same sweep."""
    size = 260
    assert size * size > SNAPSHOT_SPINS_MAX
    params = IsingParams(size=size, temperature=2.3, algorithm=algorithm, seed=5)
    plan = IsingPlan(thermalize=0, interval=1, samples=3)
    recording = IsingRecording()
    task = IsingTask(params, plan, recording)
    task.display_pixels = 100
    block = display_block(size, 100)
    assert block == 3
    run_to_end(task)
    snapshot = task.snapshot()
    assert snapshot.spins is None and snapshot.block == block and snapshot.size == size
    last = recording.arrays(size)["samples"][-1]
    np.testing.assert_array_equal(snapshot.image, spins_block_image(last, block))
    assert not snapshot.image.flags.writeable
    assert task.snapshot().image is snapshot.image  # nothing changed: the same frame


def test_small_lattices_still_carry_their_spins_and_no_viewer_means_no_image():
    task = IsingTask(
        IsingParams(size=16, temperature=2.3, algorithm="metropolis-msc", seed=1),
        IsingPlan(thermalize=0, interval=1, samples=2),
    )
    run_to_end(task)
    snapshot = task.snapshot()
    np.testing.assert_array_equal(snapshot.spins, task.simulation.spins_copy())
    assert snapshot.image is None


def test_painting_makes_a_new_image_at_once():
    size = 64
    task = IsingTask(
        IsingParams(size=size, temperature=1.0, algorithm="metropolis-msc", seed=1),
        IsingPlan(thermalize=0, interval=1, samples=None),
    )
    task.display_pixels = 16  # blocks of 4 × 4
    before = task.snapshot().image
    task.paint([(r, c) for r in range(4) for c in range(4)], 1)
    after = task.snapshot().image
    assert after is not before and after[0, 0] == 255
    task.paint([(r, c) for r in range(4) for c in range(4)], -1)
    assert task.snapshot().image[0, 0] == 0


@pytest.mark.parametrize(
    ("size", "pixels", "block"),
    [(2048, 800, 3), (2048, 2048, 1), (2048, 4000, 1), (100, 33, 4), (7, 0, 7)],
)
def test_display_block_is_the_smallest_that_fits(size, pixels, block):
    assert display_block(size, pixels) == block


@pytest.mark.parametrize("algorithm", PACKED)
def test_a_resumed_packed_run_continues_the_uninterrupted_one(algorithm, monkeypatch):
    """The resume state taken mid-run (what the recorder stores) continues bit for bit."""
    import lab.ising.task as ising_task

    monkeypatch.setattr(ising_task, "STEP_SECONDS", 1e-6)  # a step: about one sweep
    params = IsingParams(size=10, temperature=2.269, algorithm=algorithm, seed=21)
    plan = IsingPlan(thermalize=7, interval=2, samples=12)
    straight = IsingRecording()
    run_to_end(IsingTask(params, plan, straight))

    first = IsingRecording()
    task = IsingTask(params, plan, first)
    while len(first) < 5:
        task.step()
    run = new_ising_run("ising-001", params, plan)
    run.datasets.update(first.arrays(10))
    run.datasets.update({f"resume/{k}": v for k, v in ising_resume_state(task).items()})
    rest = IsingRecording()
    resumed, kept = resume_ising_task(run, rest)
    run_to_end(resumed)
    measured = len(kept["energy"])
    whole = straight.arrays(10)
    np.testing.assert_array_equal(kept["samples"], whole["samples"][:measured])
    np.testing.assert_array_equal(rest.arrays(10)["samples"], whole["samples"][measured:])
    np.testing.assert_array_equal(rest.arrays(10)["energy"], whole["energy"][measured:])


def test_a_packed_run_finishes_with_the_exact_energy_within_its_error_bar():
    """A recorded metropolis-msc run at L = 8: its e within 4 σ of Kaufman's exact value (the
    engine's own tests do the three temperatures and the χ² test; this is the lab's run)."""
    params = IsingParams(size=8, temperature=2.5, algorithm="metropolis-msc", seed=2)
    plan = IsingPlan(thermalize=500, interval=2, samples=4000)
    recording = IsingRecording()
    run_to_end(IsingTask(params, plan, recording))
    run = finish_ising_run(
        new_ising_run("ising-001", params, plan), recording, params, "finished", "now"
    )
    e, err = run.results["e"], run.results["e_error"]
    assert run.results["exact_e"] == pytest.approx(exact_energy(8, 2.5))
    assert abs(e - exact_energy(8, 2.5)) < 4 * err
    assert run.results["correlation_stride"] == 1


def test_the_correlation_stride_keeps_c_of_r_within_its_budget():
    from lab.ising.runs import CORRELATION_MAX_SPINS

    assert correlation_stride(1000, 64) == 1
    assert correlation_stride(200, 2048) == 7
    for n, size in ((200, 2048), (10**6, 64), (33, 2048)):
        stride = correlation_stride(n, size)
        assert -(-n // stride) * size * size <= CORRELATION_MAX_SPINS
        assert stride == 1 or -(-n // (stride - 1)) * size * size > CORRELATION_MAX_SPINS


def test_device_is_kept_and_old_runs_without_it_ran_on_the_cpu():
    params = IsingParams(size=8, temperature=2.0, algorithm="metropolis-torch", seed=1)
    plan = IsingPlan(thermalize=1, interval=1, samples=1)
    run = new_ising_run("ising-001", params, plan)
    assert run.params["device"] == "cpu" and run_params(run)[0] == params
    del run.params["device"]
    assert run_params(run)[0].device == "cpu"
    run.params["device"] = "tpu"
    with pytest.raises(ValueError, match="ising-001"):
        run_params(run)
