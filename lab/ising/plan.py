"""How an Ising run proceeds (thermalization, interval, samples, whether spins are kept), apart
from the task that runs it, so that reading a run's parameters (``inspect``, the session
browser) loads no numba kernel."""

from __future__ import annotations

from dataclasses import dataclass

from engines.constraints import check_all
from lab.ising.settings import PLAN_CONSTRAINTS, PLAN_NAMES


@dataclass(frozen=True)
class IsingPlan:
    """How a run proceeds. ``samples=None`` runs until stopped (the live viewer)."""

    thermalize: int = 1000
    interval: int = 10
    samples: int | None = 1000
    record_spins: bool = True

    def validate(self) -> None:
        """ValueError naming the first setting out of its range (``PLAN_CONSTRAINTS``)."""
        values = {"thermalize": self.thermalize, "interval": self.interval}
        if self.samples is not None:
            values["samples"] = self.samples
        check_all(PLAN_CONSTRAINTS, values, PLAN_NAMES)


__all__ = ["IsingPlan"]
