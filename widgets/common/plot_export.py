"""Export any pyqtgraph plot or image view to PNG and SVG, with the session and run in the file.

:func:`export_plot` writes ``<stem>.png`` and ``<stem>.svg`` of what a ``pg.PlotWidget`` or a
``pg.GraphicsLayoutWidget`` shows. Both are painted by Qt from the view's scene (a raster
``QImage`` and a vector ``QSvgGenerator``): pyqtgraph's own SVG exporter cannot parse the paths
that Qt ≥ 6.9 writes (pyqtgraph issue #3485), and one painter for both files keeps them alike.

Both files say where the figure came from (issue 6), so a figure found later in
a paper's folder leads back to its data:

- PNG: text chunks (``QImage.setText``; Qt writes ``tEXt``, or ``zTXt`` for values over 40
  bytes) with the keys of :func:`figure_metadata`: ``Title``,
  ``Session``, ``Session created``, ``Run``, ``Software`` and, when given, ``Description``;
- SVG: the ``<title>`` and ``<desc>`` ("Session: …; Run: …") Qt writes, and a ``<metadata>``
  element holding the same keys as Dublin Core terms in RDF (``dc:source`` the session,
  ``dc:identifier`` the run), inserted right after the opening ``<svg>`` tag.

The PNG is rendered at ``scale`` × the on-screen size (default 2, for print); the SVG keeps
curves, axes and text as vectors and images as embedded bitmaps.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QIODevice, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPaintDevice, QPainter
from PySide6.QtSvg import QSvgGenerator

from lab.core.version import APP_VERSION
from lab.session.session import Session

PNG_SCALE = 2.0
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(text: str) -> str:
    """``text`` as a file-name part: runs of other characters than letters, digits, ``_.-``
    become one ``_``."""
    return _UNSAFE.sub("_", text).strip("_") or "plot"


def session_label(session: Session) -> tuple[str, str]:
    """(the session's file, or 'unsaved session', and its creation time, ISO 8601 UTC)."""
    name = str(session.path) if session.path is not None else "unsaved session"
    return name, session.record.created


def figure_metadata(
    title: str, session: str, created: str, run: str, description: str = ""
) -> dict[str, str]:
    """The key → text pairs written into both files."""
    meta = {
        "Title": title,
        "Session": session,
        "Session created": created,
        "Run": run,
        "Software": f"Monge Lab {APP_VERSION}",
    }
    if description:
        meta["Description"] = description
    return meta


def description_line(meta: dict[str, str]) -> str:
    """'Session: …; Run: …' (and the description), the SVG's ``<desc>``."""
    line = f"Session: {meta['Session']} (created {meta['Session created']}); Run: {meta['Run']}"
    return f"{line}. {meta['Description']}" if "Description" in meta else line


def _render(view: pg.GraphicsView, device: QPaintDevice, size: QSize) -> None:
    """Paint what ``view`` shows (its background, then its scene) onto ``device`` at ``size``."""
    source = view.mapToScene(view.viewport().rect()).boundingRect()
    target = QRectF(0.0, 0.0, float(size.width()), float(size.height()))
    painter = QPainter(device)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(target, view.backgroundBrush())
        view.scene().render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)
    finally:
        painter.end()


def svg_with_metadata(svg: str, meta: dict[str, str]) -> str:
    """``svg`` with an RDF ``<metadata>`` element right after its ``<svg>`` tag."""
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ValueError("not an SVG document: no <svg> element")
    rdf = "".join(
        f"<dc:{tag}>{escape(meta[key])}</dc:{tag}>"
        for key, tag in (
            ("Title", "title"),
            ("Session", "source"),
            ("Run", "identifier"),
            ("Session created", "date"),
            ("Software", "creator"),
            ("Description", "description"),
        )
        if key in meta
    )
    block = (
        '\n<metadata id="monge-lab">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<rdf:Description rdf:about={quoteattr(meta['Run'])}>{rdf}</rdf:Description>"
        "</rdf:RDF></metadata>"
    )
    return svg[: match.end()] + block + svg[match.end() :]


def export_plot(
    view: pg.GraphicsView,
    stem: str | Path,
    title: str,
    session: Session,
    run: str,
    description: str = "",
    scale: float = PNG_SCALE,
) -> tuple[Path, Path]:
    """Write ``<stem>.png`` and ``<stem>.svg`` of what ``view`` shows, with the session and run.

    ``view`` is a PlotWidget or a GraphicsLayoutWidget (exported whole, as on screen); ``run`` is
    the id of the run drawn (or a short description of a live computation). Returns the two
    paths. Raises OSError when a file cannot be written.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    name, created = session_label(session)
    meta = figure_metadata(title, name, created, run, description)
    size = view.viewport().size()

    png_size = QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
    image = QImage(png_size, QImage.Format.Format_ARGB32)
    _render(view, image, png_size)
    for key, value in meta.items():
        image.setText(key, value)
    png = stem.with_suffix(".png")
    if not image.save(str(png), "PNG"):
        raise OSError(f"could not write {png}")

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription(description_line(meta))
    _render(view, generator, size)
    svg = stem.with_suffix(".svg")
    text = bytes(buffer.data().data()).decode("utf-8")
    svg.write_text(svg_with_metadata(text, meta), encoding="utf-8")
    return png, svg


def export_views(
    views: dict[str, pg.GraphicsView],
    folder: Path,
    stem: str,
    session: Session,
    run: str,
    description: str,
    titles: dict[str, str] | None = None,
) -> list[Path]:
    """:func:`export_plot` of every view of ``views`` (name → view) into ``folder``, as
    ``<stem>_<name>.png`` / ``.svg`` (names made safe), titled by ``titles`` or by the name;
    returns the files written. Raises OSError when a file cannot be written."""
    written: list[Path] = []
    for name, view in views.items():
        title = (titles or {}).get(name, name)
        written.extend(
            export_plot(
                view,
                Path(folder) / f"{safe_name(stem)}_{safe_name(name)}",
                title,
                session,
                run,
                description=description,
            )
        )
    return written
