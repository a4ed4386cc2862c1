"""Read-only views of session runs: what the docks read instead of a run's storage keys.

A :class:`data.RunRecord` is storage: attributes, datasets and groups by name. Each feature's
``runs`` module offers a view class per run kind (``IsingRunView``, ``RBMRunView``, …) whose
typed properties say what a run *is* (its lattice size, its recorded configurations, its
checkpoints) and hide where that is stored. Views never change the run; they copy nothing that
is large (arrays are the record's own, marked read-only where numpy allows it).

:class:`RunView` is the base and the fallback for kinds without a view of their own: identity,
status, provenance, and the parameters and results as text for the session browser.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from data import RunRecord


class RunView:
    """What every run has: id, kind, status, seed, times, message, inputs, and its parameters
    and results as display text. Subclasses add the typed accessors of their kind."""

    kind: ClassVar[str] = ""
    """The run kind this view is for ('' for the generic view)."""

    def __init__(self, run: RunRecord) -> None:
        if self.kind and run.kind != self.kind:
            raise ValueError(f"run '{run.id}' is of kind '{run.kind}', not '{self.kind}'")
        self._run = run

    # ------------------------------------------------------------------ identity
    @property
    def record(self) -> RunRecord:
        """The run itself, for lab functions that take a record (views never modify it)."""
        return self._run

    @property
    def id(self) -> str:
        return self._run.id

    @property
    def run_kind(self) -> str:
        return self._run.kind

    @property
    def status(self) -> str:
        return self._run.status

    @property
    def seed(self) -> int | None:
        return self._run.seed

    @property
    def created(self) -> str:
        return self._run.created or ""

    @property
    def finished(self) -> str:
        return self._run.finished or ""

    @property
    def message(self) -> str:
        return self._run.message or ""

    @property
    def inputs(self) -> tuple[str, ...]:
        """The ids of the runs this one was made from."""
        return tuple(self._run.inputs)

    # ------------------------------------------------------------------ display
    def describe_parameters(self) -> str:
        """A short text of the parameters that identify a run (L, T or its range, h,
        algorithm, seed), for the session browser."""
        p = self._run.params
        parts = []
        if "size" in p:
            parts.append(f"L={p['size']}")
        if "temperature" in p:
            parts.append(f"T={float(p['temperature']):.4g}")
        if "temperatures" in p:
            ts = p["temperatures"]
            parts.append(f"T={min(ts):.3g}…{max(ts):.3g} ({len(ts)})")
        if p.get("field"):
            parts.append(f"h={float(p['field']):.3g}")
        if "algorithm" in p:
            parts.append(str(p["algorithm"]))
        if self._run.seed is not None:
            parts.append(f"seed={self._run.seed}")
        return ", ".join(parts)

    def parameter_items(self) -> Iterator[tuple[str, str]]:
        """(name, value as text) of every parameter, for a generic listing."""
        for name, value in self._run.params.items():
            yield name, _text(value)

    def result_items(self) -> Iterator[tuple[str, str]]:
        """(name, 'value ± error' or 'value') of every scalar result (errors folded in)."""
        results = self._run.results
        for name, value in results.items():
            if name.endswith("_error") and name.removesuffix("_error") in results:
                continue
            error = results.get(f"{name}_error")
            if isinstance(value, int | float) and isinstance(error, int | float):
                yield name, f"{value:.6g} ± {error:.2g}"
            else:
                yield name, _text(value)

    # ------------------------------------------------------------------ for subclasses
    def _param(self, name: str, default: Any = None) -> Any:
        return self._run.params.get(name, default)

    def _result(self, name: str) -> float:
        """A scalar result, NaN when absent."""
        value = self._run.results.get(name)
        return float(value) if isinstance(value, int | float) else math.nan

    def _dataset(self, name: str) -> np.ndarray | None:
        """The run's dataset ``name`` (read-only where numpy allows it), or None."""
        array = self._run.datasets.get(name)
        if array is None:
            return None
        view = np.asarray(array).view()
        view.flags.writeable = False
        return view

    def _group(self, name: str) -> dict[str, Any]:
        return dict(self._run.groups.get(name, {}))


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)
