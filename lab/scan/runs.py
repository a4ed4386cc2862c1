"""A temperature scan as a session run, and its view.

A scan is a run of kind ``ising-scan`` whose ``inputs`` are the ids of its per-temperature
``ising`` runs and whose datasets are the curves ``temperature``, ``e``, ``abs_m``, ``c``,
``chi``, ``binder`` and their ``*_error`` (:func:`lab.scan.task.scan_datasets`); its attributes
are the common Ising parameters (``size``, ``algorithm``, ``coupling``, ``field``, …) and the
planned ``temperatures``.
"""

from __future__ import annotations

import numpy as np

from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.scan.task import SCAN_OBSERVABLES, scan_datasets


class ScanRunView(RunView):
    """An ``ising-scan`` run: its lattice, the planned temperatures and the measured curves."""

    kind = "ising-scan"

    @property
    def size(self) -> int:
        return int(self._param("size"))

    @property
    def coupling(self) -> float:
        return float(self._param("coupling", 1.0))

    @property
    def field(self) -> float:
        return float(self._param("field", 0.0))

    @property
    def planned_temperatures(self) -> np.ndarray:
        """The temperatures the scan was asked for (those measured so far if not recorded)."""
        planned = self._param("temperatures")
        if planned is not None:
            return np.asarray(planned, dtype=float)
        return self.curves()["temperature"]

    @property
    def has_curves(self) -> bool:
        return self._dataset("temperature") is not None

    def curves(self) -> dict[str, np.ndarray]:
        """``temperature`` and each observable with its ``*_error`` (NaN where missing)."""
        out = scan_datasets([])
        for name in ("temperature", *SCAN_OBSERVABLES, *(f"{n}_error" for n in SCAN_OBSERVABLES)):
            values = self._dataset(name)
            if values is not None:
                out[name] = values
        return out


def _scan_summary(view: RunView) -> str:
    assert isinstance(view, ScanRunView)
    t = view.curves()["temperature"]
    return f"{t.size} temperatures" if t.size else ""


register(RunKind("ising-scan", ScanRunView, _scan_summary, dock="scanDock"))
