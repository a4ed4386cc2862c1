"""The session browser dock: every run with its kind, status and key parameters.

Selecting a run emits ``runSelected(run_id)``; the main window routes it to the dock that can
show that kind of run. The list follows the session's signals, so live runs update in place.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QTreeWidget, QTreeWidgetItem, QWidget

from data import RunRecord
from lab.ising_runs import format_estimate
from lab.session import Session

COLUMNS = ("run", "kind", "status", "parameters", "result")


def describe_params(run: RunRecord) -> str:
    """A short text of the parameters that identify a run."""
    p = run.params
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
    if run.seed is not None:
        parts.append(f"seed={run.seed}")
    return ", ".join(parts)


def describe_result(run: RunRecord) -> str:
    if "e" in run.results:
        return f"e = {format_estimate(run.results, 'e')}"
    if "n_samples" in run.results:
        return f"{run.results['n_samples']} samples"
    return ""


class SessionBrowserDock(QDockWidget):
    """Runs of the session in creation order."""

    runSelected = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__("Session", parent)
        self.setObjectName("sessionBrowserDock")
        self.session = session
        self.tree = QTreeWidget(objectName="runTree")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setMinimumWidth(320)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.setWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        session.runAdded.connect(self._add)
        session.runChanged.connect(self._update)
        session.reloaded.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.tree.clear()
        self._items.clear()
        for run in self.session.runs():
            self._add(run.id)

    def _add(self, run_id: str) -> None:
        item = QTreeWidgetItem()
        item.setData(0, Qt.ItemDataRole.UserRole, run_id)
        self._items[run_id] = item
        self.tree.addTopLevelItem(item)
        self._update(run_id)

    def _update(self, run_id: str) -> None:
        item = self._items.get(run_id)
        if item is None:
            return
        run = self.session.run(run_id)
        values = (run.id, run.kind, run.status, describe_params(run), describe_result(run))
        for column, text in enumerate(values):
            item.setText(column, text)
        tip = run.message or ", ".join(f"{k}={v}" for k, v in run.params.items())
        item.setToolTip(3, tip)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)

    def _on_selection(self) -> None:
        items = self.tree.selectedItems()
        if items:
            self.runSelected.emit(items[0].data(0, Qt.ItemDataRole.UserRole))

    def select(self, run_id: str) -> None:
        item = self._items.get(run_id)
        if item is not None:
            self.tree.setCurrentItem(item)
