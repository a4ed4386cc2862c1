"""An Ising run from its options to its :class:`data.RunRecord`: the one path that ``simulate``
and a sweep's workers (:mod:`lab.sweep`) share, so that a sweep's point is the run ``simulate``
would have made with the same options, bit for bit, by construction.

- :func:`simulation_settings` reads ``simulate``'s parsed options (the rows of
  :mod:`lab.ising.settings`) into validated :class:`IsingParams` and :class:`IsingPlan`;
- :func:`new_simulation` makes the run's header (status ``running``) and checks that it fits
  memory and disk;
- :func:`record_simulation` steps an :class:`IsingTask` to its end while recording it live into
  a :class:`data.recording.RunRecorder` (the command's recording beside the session; a worker's
  private temporary recording);
- :func:`simulate_run` does all of that without a session: the task recorded into a temporary
  recording that is read back and completed exactly as folding it into a session would
  (:func:`data.recording.read_recording` + :func:`lab.ising.runs.complete_ising_run`), then
  deleted. Nothing here touches a session file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from data import RunRecord
from data.recording import (
    FLUSH_SECONDS,
    RecordingError,
    RunRecorder,
    read_recording,
    recording_path,
)
from engines.ising import IsingParams
from lab.core.ids import utc_now
from lab.core.progress import drive
from lab.core.resources import check_fits
from lab.core.settings import option_values
from lab.ising.runs import (
    LiveRecording,
    complete_ising_run,
    ising_resume_state,
    ising_streams,
    new_ising_run,
    run_params,
)
from lab.ising.settings import PHYSICS, PLAN, simulation_footprint
from lab.ising.task import IsingPlan, IsingTask


def simulation_settings(args: argparse.Namespace) -> tuple[IsingParams, IsingPlan]:
    """The parameters and plan that ``simulate``'s options ``args`` ask for, validated
    (ValueError with one sentence otherwise, e.g. a missing ``--size``)."""
    if args.size is None or args.temperature is None:
        raise ValueError("--size and --temperature are required (unless --resume RUN)")
    params = IsingParams(**option_values(args, PHYSICS), device=args.device)
    plan = IsingPlan(**option_values(args, PLAN), record_spins=not args.no_spins)
    params.validate()
    plan.validate()
    return params, plan


def check_simulation_fits(params: IsingParams, plan: IsingPlan, folder: str | os.PathLike) -> None:
    """ValueError when the recorded run would not fit this machine's memory or the disk under
    ``folder`` (:func:`lab.core.resources.check_fits`)."""
    check_fits(
        f"simulate (L = {params.size}, {plan.samples} samples)",
        **simulation_footprint(params.size, plan),
        folder=folder,
        advice="record fewer samples, a smaller lattice, or --no-spins",
    )


def new_simulation(args: argparse.Namespace, run_id: str, folder: str | os.PathLike) -> RunRecord:
    """The header (status ``running``, ``created`` now) of the run ``simulate`` makes from its
    options ``args``, checked to fit memory and the disk under ``folder`` (ValueError)."""
    params, plan = simulation_settings(args)
    check_simulation_fits(params, plan, folder)
    header = new_ising_run(run_id, params, plan)
    header.created = utc_now()
    return header


def record_simulation(
    header: RunRecord,
    task: IsingTask,
    kept: dict[str, np.ndarray],
    path: str | os.PathLike,
    *,
    session: str = "",
    flush_seconds: float = FLUSH_SECONDS,
    on_flush: Callable[[dict[str, int]], None] | None = None,
    quiet: bool = True,
) -> tuple[str, str]:
    """Step ``task`` to its end recording it live into the recording ``path`` (the run
    ``header``, continuing the series ``kept``), and close the recording.

    Returns ``(status, message)``: 'finished', or 'stopped' after Ctrl-C (:func:`drive`).
    RecordingError if the recording fails (what was flushed stays readable); any other
    exception abandons the recording (it reads back as interrupted) and goes to the caller.
    """
    plan = task.plan
    recorder = RunRecorder(
        path,
        header,
        ising_streams(task.simulation.params.size, plan.record_spins),
        state_source=lambda: ising_resume_state(task),
        flush_seconds=flush_seconds,
        session=session,
        on_flush=on_flush,
    )
    task.set_recording(
        LiveRecording(recorder, plan.record_spins, already=len(kept.get("energy", [])))
    )
    try:
        if kept:
            recorder.append(kept)
            recorder.flush()

        def describe(snapshot):
            recorder.flush_if_due()  # also while thermalizing, when nothing is appended
            return snapshot.progress or 0.0, snapshot.phase

        status, message = drive(task, header.id, quiet, describe)
        recorder.close(status, message)
    except RecordingError:
        raise  # the recorder stopped itself, keeping what was flushed
    except BaseException:
        recorder.abandon()
        raise
    return status, message


def simulate_run(header: RunRecord, folder: str | os.PathLike | None = None) -> RunRecord:
    """The run ``simulate`` folds into its session for the header ``header`` (from
    :func:`new_simulation`), made without any session: the task is recorded into a temporary
    recording under ``folder`` (default: the system's temporary folder), which is read back and
    completed as a fold completes it, then deleted. Raises what the simulation raises."""
    params, plan = run_params(header)
    task = IsingTask(params, plan)
    scratch = Path(tempfile.mkdtemp(prefix="monge-lab-simulate-", dir=folder))
    try:
        path = recording_path(scratch, header.id)
        record_simulation(header, task, {}, path)
        return complete_ising_run(read_recording(path))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
