"""The settings of an Ising run: one row each, shared by ``simulate``'s options and the docks'
forms (:mod:`lab.core.settings`), over the engine's constraint table (``engines.ising.params``)
and the plan's (how many sweeps, how often to measure).

Light on purpose: nothing here loads a kernel, so ``--help`` and the parser cost nothing.
"""

from __future__ import annotations

from engines.constraints import Interval
from engines.ising.params import ALGORITHMS, ALL_ALGORITHMS, CONSTRAINTS, NAMES, TORCH_ALGORITHMS
from lab.core.settings import Setting

MAX_SAMPLES = 10**9
MAX_SWEEPS = 10**12
PLAN_CONSTRAINTS = {
    "thermalize": Interval(integer=True, low=0, high=MAX_SWEEPS),
    "interval": Interval(integer=True, low=1, high=MAX_SWEEPS),
    "samples": Interval(integer=True, low=1, high=MAX_SAMPLES),
}
"""The plan of a run (:class:`lab.ising.task.IsingPlan`): sweeps before the first sample, sweeps
between samples, and samples (None there: until stopped)."""
PLAN_NAMES = {
    "thermalize": "thermalize (sweeps)",
    "interval": "interval (sweeps)",
    "samples": "samples",
}

PHYSICS = (
    Setting("size", "size L", CONSTRAINTS["size"], None, help="linear size L of the L×L torus"),
    Setting(
        "temperature", "temperature T", CONSTRAINTS["temperature"], None, help="T in units of J/k_B"
    ),
    Setting("coupling", "coupling J", CONSTRAINTS["coupling"], 1.0, help="the coupling J"),
    Setting("field", "field h", CONSTRAINTS["field"], 0.0, help="the field h"),
    Setting(
        "algorithm",
        "algorithm",
        CONSTRAINTS["algorithm"],
        "metropolis",
        help="Monte Carlo update (metropolis-msc: multi-spin coded, fastest at large L; "
        "metropolis-torch runs on --device)",
    ),
    Setting("seed", "seed", CONSTRAINTS["seed"], 0, help="random seed"),
)
"""The parameters of :class:`engines.ising.params.IsingParams` as settings."""

PLAN = (
    Setting(
        "samples", "samples", PLAN_CONSTRAINTS["samples"], 1000, help="number of recorded samples"
    ),
    Setting(
        "thermalize",
        "thermalize (sweeps)",
        PLAN_CONSTRAINTS["thermalize"],
        1000,
        help="sweeps before the first sample",
    ),
    Setting(
        "interval",
        "measure every (sweeps)",
        PLAN_CONSTRAINTS["interval"],
        10,
        help="sweeps between samples",
    ),
)

SPIN_BYTES_ON_DISK = 0.125
"""Stored bytes per spin at worst: scale-offset keeps one bit of a ±1 spin before deflate."""


def simulation_footprint(size: int, plan) -> dict[str, int]:
    """Upper bounds of what a recorded run needs: ``memory`` (the lattice and its buffers, and
    the recorded configurations read back once when the recording is folded, with blocks of
    16 MiB checked and encoded at a time) and ``disk`` (the recording, the session's copy and
    the temporary file of its atomic rewrite)."""
    spins = size * size
    recorded = (plan.samples or 0) * spins if plan.record_spins else 0
    return {
        "memory": 16 * spins + recorded + (64 << 20) * bool(recorded),
        "disk": int(3 * SPIN_BYTES_ON_DISK * recorded) + (1 << 20),
    }


GUI_ALGORITHM = "metropolis-msc"
"""The live viewer's default algorithm: multi-spin-coded Metropolis, the fastest at every size
(3–6·10⁹ flips/s on two cores at L ≥ 1024, about 20× the scalar kernel) with the single-spin
physics and, for even L, the checkerboard order of ``metropolis``. ``simulate`` keeps
``metropolis`` as its default, so that a command line gives the run it always gave (the two
draw different random streams)."""


__all__ = [
    "ALGORITHMS",
    "ALL_ALGORITHMS",
    "GUI_ALGORITHM",
    "NAMES",
    "PHYSICS",
    "PLAN",
    "PLAN_CONSTRAINTS",
    "PLAN_NAMES",
    "TORCH_ALGORITHMS",
    "simulation_footprint",
]
