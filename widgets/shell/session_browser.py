"""The session browser dock: every run with its kind, status and key parameters.

Selecting a run emits ``runSelected(run_id)``; the main window routes it to the dock that can
show that kind of run. The list follows the session's signals, so live runs update in place.
A run's context menu exports it: "Export arrays (.npz)…" and "Export time series (.csv)…"
(``lab.session.export``; :meth:`SessionBrowserDock.export_run` does the work given a path).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMenu,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from lab.core.kinds import summary_of, view_of
from lab.session.export import export_csv, export_npz, time_series
from lab.session.session import Session

COLUMNS = ("run", "kind", "status", "parameters", "result")


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
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
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
        view = view_of(run)
        values = (view.id, view.run_kind, view.status, view.describe_parameters(), summary_of(run))
        for column, text in enumerate(values):
            item.setText(column, text)
        tip = view.message or ", ".join(f"{k}={v}" for k, v in view.parameter_items())
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

    # ------------------------------------------------------------------ export
    def run_menu(self, run_id: str) -> QMenu:
        """The context menu of run ``run_id`` (CSV disabled for a run without time series)."""
        menu = QMenu(self.tree)
        npz = menu.addAction("Export arrays (.npz)…")
        npz.triggered.connect(lambda: self._export_dialog(run_id, "npz"))
        csv = menu.addAction("Export time series (.csv)…")
        csv.setEnabled(bool(time_series(self.session.run(run_id))[0]))
        csv.triggered.connect(lambda: self._export_dialog(run_id, "csv"))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is not None:
            self.run_menu(item.data(0, Qt.ItemDataRole.UserRole)).exec(
                self.tree.viewport().mapToGlobal(pos)
            )

    def _export_dialog(self, run_id: str, fmt: str) -> None:
        what = "arrays (*.npz)" if fmt == "npz" else "time series (*.csv)"
        start = str(
            Path(self.session.path).parent / f"{run_id}.{fmt}"
            if self.session.path is not None
            else f"{run_id}.{fmt}"
        )
        path, _ = QFileDialog.getSaveFileName(self, f"Export {run_id}", start, what)
        if path:
            try:
                self.export_run(run_id, fmt, Path(path))
            except (OSError, ValueError) as exc:
                QMessageBox.warning(self, "Export failed", str(exc))

    def export_run(self, run_id: str, fmt: str, path: Path) -> Path:
        """Write run ``run_id`` to ``path`` as ``fmt`` ('npz' or 'csv'); log it in the session.

        Raises OSError (file) or ValueError (no time series, unknown format).
        """
        run = self.session.run(run_id)
        if fmt == "npz":
            written = export_npz(run, path, self.session.path)
        elif fmt == "csv":
            written = export_csv(run, path, self.session.path)
        else:
            raise ValueError(f"unknown export format '{fmt}'")
        self.session.log(f"exported {run_id} to {written}")
        return written
