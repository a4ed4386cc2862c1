"""What an Ising run is: its parameters (:class:`IsingParams`), the algorithms, and the one
constraint per setting that the engine, the CLI and the GUI's forms all check.

This module imports no kernel (no numba), so the command line can declare its options and
``--help`` can show the choices without compiling or loading anything.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engines.constraints import SEED, Constraint, Interval, Options, check_all

#: The CPU (numba) algorithms: what the CLI and the GUI offer.
ALGORITHMS: tuple[str, ...] = (
    "metropolis",
    "heatbath",
    "wolff",
    "swendsen-wang",
    "metropolis-msc",
    "heatbath-msc",
)
#: Algorithms written with torch, which run on ``IsingParams.device``.
TORCH_ALGORITHMS: tuple[str, ...] = ("metropolis-torch",)
#: Every valid algorithm name.
ALL_ALGORITHMS: tuple[str, ...] = ALGORITHMS + TORCH_ALGORITHMS
#: Multi-spin-coded algorithms, whose state is the packed words (``packed_spins``).
PACKED_ALGORITHMS: tuple[str, ...] = ("metropolis-msc", "heatbath-msc")


MIN_TEMPERATURE, MAX_TEMPERATURE = 1e-6, 1e12
"""T in units of J/k_B. Below 1e-6 the lattice is frozen to double precision (every excited
weight underflows); from about 1e6 on it is free to double precision; beyond 1e154 T² (in c)
would overflow, so the range stops well before."""
MAX_COUPLING = 1e6
"""Largest |J| (in the units of T; any sign, and 0, allowed below it). Ordinary runs use
|J| ~ 1; 1e6 is generous and, with T ≥ 1e-6, keeps K = |J|/T ≤ 1e12. There the kernels'
tables exp(-2K n) and 1 - exp(-2K) hold a weight or an exact 0 or 1 (a frozen bond: the
T → 0 limit, still meaningful), never an overflow, and the energies stay far inside float64:
|e| ≤ 2|J| + |h| per spin (about 1e16 in all at the largest L), its square in the specific
heat (about 1e13) and N times that over T² (about 1e35) too. Without a bound, J = 1e308 made
the energy series infinite and the run end in a traceback."""
MAX_FIELD = 1e6
"""Largest |h|, for the reasons of :data:`MAX_COUPLING`: |h|/T ≤ 1e12, |h|·L² and its square
finite."""
MAX_SIZE = 65_536
"""Largest L: 2³² spins, 4 GiB as int8 (whether a run fits the machine is the caller's check)."""


_RANGE_REASON = "|{0}|/T ≤ 1e12 at T ≥ 1e-6 keeps the Boltzmann weights and energies finite"
CONSTRAINTS: dict[str, Constraint] = {
    "size": Interval(integer=True, low=2, high=MAX_SIZE),
    "temperature": Interval(low=MIN_TEMPERATURE, high=MAX_TEMPERATURE),
    "coupling": Interval(low=-MAX_COUPLING, high=MAX_COUPLING, reason=_RANGE_REASON.format("J")),
    "field": Interval(low=-MAX_FIELD, high=MAX_FIELD, reason=_RANGE_REASON.format("h")),
    "algorithm": Options(ALL_ALGORITHMS),
    "seed": SEED,
}
"""One constraint per setting of :class:`IsingParams` (engines.constraints): the engine, the CLI
options and the GUI's forms all check these objects."""
NAMES = {
    "size": "The lattice size",
    "temperature": "The temperature",
    "coupling": "The coupling J",
    "field": "The field h",
    "algorithm": "The algorithm",
    "seed": "The seed",
}
COUNT = Interval(integer=True, low=0)


def _check_temperature(T: object) -> None:
    CONSTRAINTS["temperature"].check(NAMES["temperature"], T)


def _check_field(h: object) -> None:
    CONSTRAINTS["field"].check(NAMES["field"], h)


def _check_count(name: str, n: object) -> None:
    COUNT.check(name, n)


@dataclass(frozen=True)
class IsingParams:
    """Parameters of one run: size L, temperature T, coupling J, field h, algorithm, seed, device.

    ``device`` is where a torch algorithm runs ("cpu" or "cuda[:k]", the rule of the RBM trainer);
    the numba algorithms run on the CPU and accept only "cpu".
    """

    size: int
    temperature: float
    coupling: float = 1.0
    field: float = 0.0
    algorithm: str = "metropolis"
    seed: int = 0
    device: str = "cpu"

    def validate(self) -> None:
        """Raise ValueError with one clear sentence if any parameter is out of its domain."""
        check_all(CONSTRAINTS, dataclasses.asdict(self), NAMES)
        if not isinstance(self.device, str):
            raise ValueError(f"The device must be a string such as 'cpu', got {self.device!r}.")
        if self.algorithm in TORCH_ALGORITHMS:
            from engines.ising.torch_checkerboard import check_device

            check_device(self.device)
        elif self.device != "cpu":
            raise ValueError(
                f"The {self.algorithm} algorithm runs on the CPU only (device 'cpu'); device "
                f"{self.device!r} needs a torch algorithm ({', '.join(TORCH_ALGORITHMS)})."
            )
