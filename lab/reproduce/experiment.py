"""The reproductions the lab knows, and the interface each one offers.

An :class:`Experiment` runs one paper's headline experiment end to end (draw the data, train,
sample, measure) and returns an :class:`lab.reproduce.outcome.Outcome`. ``presets(quick)`` are
its settings, full or scaled down for tests (``--quick``); any of them can be overridden by name
(``reproduce NAME S.h5 --set key=value``), checked against the preset's type before any work.
``check(settings)`` refuses bad settings before any work; ``run(settings, quick, seed,
progress)`` reports with ``progress(fraction, text)`` at every
epoch or stage; ``progress`` may raise (:class:`Interrupted`) to stop the experiment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.reproduce.outcome import Outcome

Progress = Callable[[float, str], None]


class Interrupted(Exception):  # noqa: N818 — it is a request, not an error
    """Raised by a progress callback to stop an experiment (Stop in the dock, Ctrl-C)."""


@dataclass(frozen=True)
class Experiment:
    """One reproducible experiment (module doc)."""

    name: str
    title: str
    paper: str
    presets: Callable[[bool], dict[str, Any]]
    run: Callable[[dict[str, Any], bool, int, Progress], Outcome]
    check: Callable[[dict[str, Any]], None] = lambda settings: None
    """Raises ValueError for settings the experiment cannot run, before any work."""


_EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    _EXPERIMENTS[experiment.name] = experiment
    return experiment


def experiments() -> dict[str, Experiment]:
    """Every experiment, by name (importing the modules that define them)."""
    from lab.reproduce.catalogue import ORDER  # importing it registers the experiments

    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(_EXPERIMENTS.items(), key=lambda item: rank.get(item[0], len(rank))))


def experiment(name: str) -> Experiment:
    known = experiments()
    if name not in known:
        raise ValueError(f"unknown reproduction '{name}' (choose one of {', '.join(known)})")
    return known[name]


def parse_override(text: str, presets: dict[str, Any]) -> tuple[str, Any]:
    """``key=value`` → (key, value) with the value of the preset's type (JSON for lists, e.g.
    ``lr=[0.003,0.01]``); ValueError naming the valid keys or the expected type otherwise."""
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep:
        raise ValueError(f"--set takes key=value, got '{text}'")
    if key not in presets:
        raise ValueError(f"unknown setting '{key}' (settings: {', '.join(sorted(presets))})")
    current = presets[key]
    try:
        if isinstance(current, bool):
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            value: Any = raw.lower() in ("true", "1", "yes")
        elif isinstance(current, int):
            value = int(raw)
        elif isinstance(current, float):
            value = float(raw)
        elif isinstance(current, str):
            value = raw
        else:
            value = json.loads(raw)
    except ValueError:
        raise ValueError(
            f"setting '{key}' expects a value like {json.dumps(current)}, got '{raw}'"
        ) from None
    return key, value
