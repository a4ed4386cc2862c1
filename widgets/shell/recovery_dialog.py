"""The recovery dialog: recordings left by a killed Monge Lab, to recover, discard or keep.

It lists each recording (run id, kind, rows recorded, when the run started, the session it
belongs to, the status it reads back with) with a check box, all checked; the choice is
Recover, Discard (delete the checked recordings) or Later (keep everything for next time).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lab.session.session import Recoverable

COLUMNS = ("run", "kind", "rows", "started", "session", "reads back as")


class RecoveryDialog(QDialog):
    """Lists ``items``; after ``exec()``, ``choice`` is 'recover', 'discard' or 'later' and
    ``selected()`` the checked items."""

    def __init__(self, items: list[Recoverable], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        self.setWindowTitle("Recover recorded runs")
        self.items = list(items)
        self.choice = "later"
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Monge Lab was closed without saving these runs (it was killed or crashed).\n"
                "Everything recorded up to the last flush can be put back into the session."
            )
        )
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        for item in self.items:
            row = QTreeWidgetItem(
                [
                    item.run_id,
                    item.kind,
                    str(item.rows),
                    item.created,
                    item.session or "(never saved)",
                    item.error or item.status,
                ]
            )
            row.setCheckState(0, Qt.CheckState.Unchecked if item.error else Qt.CheckState.Checked)
            row.setToolTip(0, str(item.path))
            self.tree.addTopLevelItem(row)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        layout.addWidget(self.tree)
        buttons = QDialogButtonBox(self)
        for text, choice, role in (
            ("Recover", "recover", QDialogButtonBox.ButtonRole.AcceptRole),
            ("Discard", "discard", QDialogButtonBox.ButtonRole.DestructiveRole),
            ("Later", "later", QDialogButtonBox.ButtonRole.RejectRole),
        ):
            button = QPushButton(text, self)
            button.setObjectName(f"{choice}Button")
            button.clicked.connect(lambda _=False, c=choice: self.choose(c))
            buttons.addButton(button, role)
        layout.addWidget(buttons)
        self.resize(760, 320)

    def selected(self) -> list[Recoverable]:
        """The checked recordings, in the listed order."""
        return [
            item
            for i, item in enumerate(self.items)
            if self.tree.topLevelItem(i).checkState(0) == Qt.CheckState.Checked
        ]

    def choose(self, choice: str) -> None:
        self.choice = choice
        self.accept() if choice != "later" else self.reject()
