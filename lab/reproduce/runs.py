"""A reproduction as session runs: one ``ising`` run per configuration set drawn, and one
``reproduction`` run holding the table, the notes, the figures' arrays and the trained models.

The ``reproduction`` run (its layout is in docs/session-format.md):

- attributes: ``experiment``, ``title``, ``quick``, ``settings`` (JSON text of the settings
  used), ``data`` (ids of its Ising runs, also its ``inputs``); results: the headline numbers
  and ``seconds``;
- groups ``table/row-<k>`` (``claim``, ``measured``, ``verdict``, ``settings``, ``seconds``),
  ``notes`` (``note-<k>``), ``figure/<name>`` (``title``, ``panels``) and
  ``figure/<name>/panel-<i>`` (``title``, ``xlabel``, ``ylabel``, ``series``,
  ``styles``, ``image_titles``, ``hlines``, ``hline_labels``, ``vlines``, ``vline_labels``,
  ``columns``);
- datasets ``figures/<name>/panel-<i>/<j>/x``, ``…/y``, ``…/error`` (series j) and
  ``figures/<name>/panel-<i>/images``; ``models/<name>/W`` (and ``a``, ``b`` when known).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from data import RunRecord
from engines.ising import energies_per_spin, magnetizations_per_spin
from lab.core.ids import short_message
from lab.core.kinds import RunKind, register
from lab.core.views import RunView
from lab.ising.runs import DATASET_ATTRS, ising_results
from lab.ising.task import IsingParams
from lab.reproduce.outcome import Figure, Outcome, Panel, Row, Series


def data_runs(outcome: Outcome, ids: list[str], created: str) -> list[RunRecord]:
    """An ``ising`` run per configuration set of ``outcome.data`` (ids given, in order)."""
    runs = []
    for run_id, item in zip(ids, outcome.data, strict=True):
        samples = np.asarray(item["samples"], dtype=np.int8)
        L = int(samples.shape[1])
        params = IsingParams(
            size=L,
            temperature=float(item["temperature"]),
            coupling=float(item.get("coupling", 1.0)),
            algorithm="wolff",
            seed=int(item["seed"]),
        )
        arrays = {
            "samples": samples,
            "energy": energies_per_spin(samples),
            "magnetization": magnetizations_per_spin(samples),
        }
        results, extra = ising_results(arrays, params)
        run = RunRecord(
            id=run_id,
            kind="ising",
            status="finished",
            seed=params.seed,
            params={
                "size": L,
                "temperature": params.temperature,
                "coupling": params.coupling,
                "field": 0.0,
                "algorithm": "wolff",
                "thermalize": int(item.get("thermalize", 500)),
                "interval": int(item.get("interval", 2)),
                "record_spins": True,
                "samples": int(samples.shape[0]),
                "source": f"reproduce {outcome.experiment}: {item['role']}",
            },
            created=created,
            finished=created,
        )
        run.datasets = {**arrays, **extra}
        run.dataset_attrs = {
            name: dict(DATASET_ATTRS[name]) for name in run.datasets if name in DATASET_ATTRS
        }
        run.results = results
        runs.append(run)
    return runs


def reproduction_run(
    outcome: Outcome,
    run_id: str,
    data_ids: list[str],
    created: str,
    finished: str,
    status: str = "finished",
    message: str = "",
) -> RunRecord:
    """The ``reproduction`` run of ``outcome`` (module doc)."""
    run = RunRecord(
        id=run_id,
        kind="reproduction",
        status=status,
        seed=int(outcome.seed),
        params={
            "experiment": outcome.experiment,
            "title": outcome.title,
            "quick": bool(outcome.quick),
            "settings": json.dumps(outcome.settings, default=_plain, sort_keys=True),
            "data": list(data_ids),
        },
        inputs=list(data_ids),
        created=created,
        finished=finished,
        message=short_message(message),
    )
    run.results = {k: float(v) for k, v in outcome.results.items()}
    run.results["seconds"] = float(outcome.seconds)
    for k, row in enumerate(outcome.rows):
        run.groups[f"table/row-{k:03d}"] = {
            "claim": row.claim,
            "measured": row.measured,
            "verdict": row.verdict,
            "settings": row.settings,
            "seconds": float(row.seconds),
        }
    if outcome.notes:
        run.groups["notes"] = {f"note-{k:03d}": note for k, note in enumerate(outcome.notes)}
    for figure in outcome.figures:
        base = f"figures/{figure.name}"
        run.groups[f"figure/{figure.name}"] = {"title": figure.title, "panels": len(figure.panels)}
        for i, panel in enumerate(figure.panels):
            where = f"{base}/panel-{i}"
            run.groups[f"figure/{figure.name}/panel-{i}"] = {
                "title": panel.title,
                "xlabel": panel.xlabel,
                "ylabel": panel.ylabel,
                "series": [s.name for s in panel.series],
                "styles": [s.style for s in panel.series],
                "image_titles": list(panel.image_titles),
                "hlines": [float(v) for v, _ in panel.hlines],
                "hline_labels": [t for _, t in panel.hlines],
                "vlines": [float(v) for v, _ in panel.vlines],
                "vline_labels": [t for _, t in panel.vlines],
                "columns": int(panel.columns),
            }
            for j, s in enumerate(panel.series):
                run.datasets[f"{where}/{j}/x"] = np.asarray(s.x, dtype=float)
                run.datasets[f"{where}/{j}/y"] = np.asarray(s.y, dtype=float)
                if s.error is not None:
                    run.datasets[f"{where}/{j}/error"] = np.asarray(s.error, dtype=float)
            if panel.images is not None:
                run.datasets[f"{where}/images"] = np.asarray(panel.images, dtype=float)
    for model in outcome.models:
        for key in ("W", "a", "b"):
            if model.get(key) is not None:
                run.datasets[f"models/{model['name']}/{key}"] = np.asarray(model[key], float)
    return run


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


class ReproductionRunView(RunView):
    """A ``reproduction`` run: its experiment, table, notes and figures."""

    kind = "reproduction"

    @property
    def experiment(self) -> str:
        return str(self._param("experiment", ""))

    @property
    def title(self) -> str:
        return str(self._param("title", self.experiment))

    @property
    def quick(self) -> bool:
        return bool(self._param("quick", False))

    @property
    def settings(self) -> dict[str, Any]:
        try:
            return dict(json.loads(str(self._param("settings", "{}"))))
        except ValueError:
            return {}

    @property
    def rows(self) -> list[Row]:
        groups = self.record.groups
        out = []
        for key in sorted(k for k in groups if k.startswith("table/row-")):
            g = groups[key]
            out.append(
                Row(
                    str(g.get("claim", "")),
                    str(g.get("measured", "")),
                    str(g.get("verdict", "partly")),
                    str(g.get("settings", "")),
                    float(g.get("seconds", float("nan"))),
                )
            )
        return out

    @property
    def notes(self) -> list[str]:
        notes = self._group("notes")
        return [str(notes[k]) for k in sorted(notes)]

    @property
    def figures(self) -> list[Figure]:
        groups = self.record.groups
        out = []
        for key in sorted(k for k in groups if k.startswith("figure/") and k.count("/") == 1):
            name = key.split("/", 1)[1]
            meta = groups[key]
            panels = []
            for i in range(int(meta.get("panels", 0))):
                where = f"figures/{name}/panel-{i}"
                g = groups.get(f"{key}/panel-{i}", {})
                series = []
                for j, (sname, style) in enumerate(
                    zip(g.get("series", []), g.get("styles", []), strict=False)
                ):
                    x, y = self._dataset(f"{where}/{j}/x"), self._dataset(f"{where}/{j}/y")
                    if x is not None and y is not None:
                        series.append(
                            Series(
                                str(sname), x, y, self._dataset(f"{where}/{j}/error"), str(style)
                            )
                        )
                panels.append(
                    Panel(
                        str(g.get("title", "")),
                        str(g.get("xlabel", "")),
                        str(g.get("ylabel", "")),
                        series,
                        self._dataset(f"{where}/images"),
                        [str(t) for t in g.get("image_titles", [])],
                        list(zip(g.get("hlines", []), g.get("hline_labels", []), strict=False)),
                        list(zip(g.get("vlines", []), g.get("vline_labels", []), strict=False)),
                        int(g.get("columns", 0)),
                    )
                )
            out.append(Figure(name, str(meta.get("title", name)), panels))
        return out


def _summary(view: RunView) -> str:
    assert isinstance(view, ReproductionRunView)
    verdicts = [row.verdict for row in view.rows]
    done = sum(v == "reproduced" for v in verdicts)
    scale = ", quick" if view.quick else ""
    return f"{view.experiment}{scale}: {done} of {len(verdicts)} claims reproduced"


register(RunKind("reproduction", ReproductionRunView, _summary, dock="reproduceDock"))
