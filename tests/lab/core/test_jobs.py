"""The worker-thread job: life cycle, pause/step/resume, commands, failures, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from lab.core.jobs import Job, JobManager, JobState


class CountingTask:
    """Counts its steps; finishes after ``limit`` steps (None: never). Records its threads."""

    def __init__(self, limit: int | None = None, delay: float = 0.001) -> None:
        self.limit = limit
        self.delay = delay
        self.count = 0
        self.finished = False
        self.threads: set[int] = set()

    def step(self) -> int:
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        self.count += 1
        if self.limit is not None and self.count >= self.limit:
            self.finished = True
        return self.count

    def snapshot(self) -> int:
        return self.count


class FailingTask(CountingTask):
    def step(self) -> int:
        if self.count == 3:
            raise ValueError("boom at step 3")
        return super().step()


def test_job_runs_task_to_completion_in_a_worker_thread(qtbot):
    task = CountingTask(limit=20)
    job = Job(task)
    with qtbot.waitSignal(job.ended, timeout=5000) as blocker:
        job.start()
    assert blocker.args == ["finished"]
    assert job.state is JobState.FINISHED
    assert task.count == 20 and job.snapshot() == 20
    assert threading.get_ident() not in task.threads
    assert job.join(1.0)


def test_pause_holds_step_advances_exactly_one_and_resume_continues(qtbot):
    task = CountingTask()
    job = Job(task)
    job.start(paused=True)
    time.sleep(0.05)
    assert task.count == 0 and job.state is JobState.PAUSED
    job.step_once()
    qtbot.waitUntil(lambda: task.count == 1, timeout=2000)
    time.sleep(0.05)
    assert task.count == 1
    job.resume()
    qtbot.waitUntil(lambda: task.count > 5, timeout=2000)
    job.pause()
    time.sleep(0.02)
    frozen = task.count
    time.sleep(0.05)
    assert task.count == frozen
    assert job.stop(5.0)
    assert job.state is JobState.STOPPED


def test_commands_run_in_the_worker_and_report_back_in_the_gui_thread(qtbot):
    task = CountingTask()
    job = Job(task)
    job.start(paused=True)
    seen: dict[str, int] = {}

    def command(t: CountingTask) -> int:
        seen["worker"] = threading.get_ident()
        t.count = 100
        return 7

    def done(result: int) -> None:
        seen["done_thread"] = threading.get_ident()
        seen["result"] = result

    job.submit(command, on_done=done)
    qtbot.waitUntil(lambda: "result" in seen, timeout=2000)
    assert seen["worker"] != threading.get_ident()
    assert seen["done_thread"] == threading.get_ident()
    assert seen["result"] == 7
    assert job.snapshot() == 100  # refreshed after commands, although paused
    job.stop()


def test_failure_is_reported_with_its_message(qtbot):
    job = Job(FailingTask())
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        job.start()
    job.join(5.0)
    assert job.state is JobState.FAILED
    assert "boom at step 3" in blocker.args[0] and "ValueError" in job.error
    with pytest.raises(RuntimeError):
        job.submit(lambda t: None)


def test_manager_shutdown_stops_and_joins_every_job():
    manager = JobManager()
    jobs = [manager.add(Job(CountingTask(), name=f"j{i}")) for i in range(3)]
    jobs[0].start()
    jobs[1].start(paused=True)
    assert len(manager.active()) == 2
    assert manager.shutdown(5.0)
    assert manager.active() == []
    assert jobs[0].state is JobState.STOPPED and jobs[1].state is JobState.STOPPED
    assert jobs[2].state is JobState.IDLE


def test_starting_twice_is_refused():
    job = Job(CountingTask(limit=1))
    job.start()
    with pytest.raises(RuntimeError):
        job.start()
    job.join(5.0)


class EmittingTask(CountingTask):
    """A task with an ``emit`` slot: the job fills it in."""

    emit = None

    def step(self) -> int:
        count = super().step()
        self.emit(count)
        return count


def test_an_ended_job_is_freed_by_reference_counting_not_by_the_cyclic_collector(qtbot):
    """A job in a reference cycle would be freed by gc, possibly in a worker thread, where
    destroying its Qt timer crashes the process; so dropping the last reference must free it."""
    import gc
    import weakref

    job = Job(EmittingTask(limit=3))
    with qtbot.waitSignal(job.ended, timeout=5000):
        job.start()
    assert job.join(1.0)
    ref = weakref.ref(job)
    gc.disable()
    try:
        del job
        assert ref() is None
    finally:
        gc.enable()
