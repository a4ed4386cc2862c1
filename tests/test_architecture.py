"""The house's rules that import-linter cannot express (pyproject.toml has the import contracts).

- ``lab`` uses Qt *core* only: no module of it imports ``PySide6.QtWidgets`` or ``QtGui``;
- widgets read runs through typed views (``lab/<feature>/runs.py``): no widget module indexes a
  run's storage (``.datasets``, ``.params``, ``.results``, ``.groups``, ``attrs[``);
- every module of ``lab/`` and ``widgets/`` lives in a feature or core package.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAB_PACKAGES = {
    "core",
    "session",
    "cli",
    "ising",
    "scan",
    "rbm",
    "rg",
    "geometry",
    "reproduce",
    "sweep",
}
WIDGET_PACKAGES = {
    "shell",
    "common",
    "ising",
    "scan",
    "rbm",
    "rg",
    "geometry",
    "reproduce",
    "sweep",
}
STORAGE = re.compile(
    r"\.datasets\b|\.results\b|\.groups\b|\.params(\[|\.get|\.items|\.keys)|attrs\["
)


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", modules("lab"), ids=lambda p: str(p.relative_to(ROOT)))
def test_lab_uses_qt_core_only(path):
    gui = {n for n in imported(path) if n.startswith(("PySide6.QtWidgets", "PySide6.QtGui"))}
    assert not gui, f"{path.relative_to(ROOT)} imports {sorted(gui)}"


@pytest.mark.parametrize("path", modules("widgets"), ids=lambda p: str(p.relative_to(ROOT)))
def test_widgets_read_runs_through_views(path):
    hits = [
        f"{i}: {line.strip()}"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if STORAGE.search(line.split("#")[0])
    ]
    assert not hits, f"{path.relative_to(ROOT)} reads storage keys:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    ("package", "allowed"), [("lab", LAB_PACKAGES), ("widgets", WIDGET_PACKAGES)]
)
def test_every_module_lives_in_a_feature_or_core_package(package, allowed):
    stray = [
        str(p.relative_to(ROOT))
        for p in modules(package)
        if p.parent == ROOT / package and p.name != "__init__.py"
    ]
    assert not stray, f"modules outside a package: {stray}"
    unknown = sorted(
        {p.parent.name for p in modules(package) if p.parent.parent == ROOT / package} - allowed
    )
    assert not unknown, f"packages not in the layout: {unknown}"
