"""The Help menu's windows: the user guide (the README by section), the session-file reference,
and About (version, session file, data directory). Texts come from :mod:`lab.core.guide`."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lab.core.guide import Section, about, session_format_reference, user_guide


class DocumentDialog(QDialog):
    """A Markdown document by section: the sections listed on the left, the text on the right."""

    def __init__(
        self,
        title: str,
        sections: list[Section],
        parent: QWidget | None = None,
        name: str = "documentDialog",
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.sections = sections
        self.index = QListWidget(objectName=f"{name}Sections")
        self.index.addItems([s.title for s in sections])
        self.index.setMaximumWidth(240)
        self.text = QTextBrowser(objectName=f"{name}Text")
        self.text.setOpenExternalLinks(True)
        self.index.currentRowChanged.connect(self.show_section)
        body = QHBoxLayout()
        body.addWidget(self.index)
        body.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.resize(1000, 700)
        if sections:
            self.index.setCurrentRow(0)

    def show_section(self, row: int) -> None:
        if 0 <= row < len(self.sections):
            self.text.setMarkdown(self.sections[row].markdown)


def user_guide_dialog(parent: QWidget | None = None) -> DocumentDialog:
    return DocumentDialog("Monge Lab — user guide", user_guide(), parent, "userGuideDialog")


def session_format_dialog(parent: QWidget | None = None) -> DocumentDialog:
    reference = Section("Session file", session_format_reference())
    return DocumentDialog(
        "Monge Lab — the session file", [reference], parent, "sessionFormatDialog"
    )


def about_box(session_path, parent: QWidget | None = None) -> QMessageBox:
    rows = "".join(
        f"<tr><td><b>{escape(label)}</b></td><td>{escape(text)}</td></tr>"
        for label, text in about(session_path)
    )
    box = QMessageBox(parent)
    box.setObjectName("aboutBox")
    box.setWindowTitle("About Monge Lab")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        "<p>A laboratory for <i>Quantum Geometry insights in Deep Learning</i>: the Ising "
        "model, RBMs, renormalization and the geometry of learning.</p>"
        f"<table cellpadding=3>{rows}</table>"
    )
    return box
