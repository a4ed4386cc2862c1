"""The report's figures as PNG and SVG files, drawn headless with matplotlib (Agg backend).

The command line never loads Qt, so the report cannot use the docks' pyqtgraph views; matplotlib
is imported only here, when a report is written. Every file carries the experiment, the session
and the reproduction run's id in its metadata (PNG text chunks, SVG ``<title>``/``<desc>``), as the
docks' exports do, so a figure found later in a paper's folder leads back to its data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lab.reproduce.outcome import Figure, Panel

STYLES = {
    "points": {"marker": "o", "linestyle": "none", "markersize": 4},
    "line": {"linestyle": "-"},
    "dashed": {"linestyle": "--"},
}


def _mosaic(ax, panel: Panel) -> None:
    images = np.asarray(panel.images, dtype=float)
    k, h, w = images.shape
    cols = panel.columns or int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    canvas = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
    for i in range(k):
        r, c = divmod(i, cols)
        scale = np.max(np.abs(images[i])) or 1.0
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[i] / scale
    ax.imshow(canvas, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if panel.image_titles:
        shown = panel.image_titles[:6]
        more = " …" if len(panel.image_titles) > len(shown) else ""
        ax.set_xlabel("; ".join(shown) + more, fontsize=7)


def _curves(ax, panel: Panel) -> None:
    for s in panel.series:
        style = STYLES.get(s.style, STYLES["points"])
        if s.error is not None and s.style == "points":
            ax.errorbar(s.x, s.y, yerr=s.error, label=s.name, capsize=2, **style)
        else:
            ax.plot(s.x, s.y, label=s.name, **style)
    for value, label in panel.hlines:
        ax.axhline(value, color="gray", linestyle=":", linewidth=1)
        ax.annotate(
            label,
            (1.0, value),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            ha="right",
            va="bottom",
            color="gray",
        )
    for value, label in panel.vlines:
        ax.axvline(value, color="gray", linestyle=":", linewidth=1)
        ax.annotate(
            label,
            (value, 1.0),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            ha="left",
            va="top",
            color="gray",
        )
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if panel.series:
        ax.legend(fontsize=7)


def _draw(figure: Figure):
    """The matplotlib figure of ``figure`` (Agg canvas: no window, no Qt)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    n = len(figure.panels)
    fig = MplFigure(figsize=(4.2 * n, 3.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)
    for ax, panel in zip(axes[0], figure.panels, strict=True):
        ax.set_title(panel.title, fontsize=9)
        if panel.images is not None:
            _mosaic(ax, panel)
        else:
            _curves(ax, panel)
    fig.suptitle(figure.title, fontsize=10)
    fig.tight_layout()
    return fig


def render_png(figure: Figure, dpi: int = 100) -> bytes:
    """``figure`` as PNG bytes (what the dock shows; the report writes the same drawing)."""
    import io

    buffer = io.BytesIO()
    _draw(figure).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def write_figure(figure: Figure, folder: Path, metadata: dict[str, str]) -> list[Path]:
    """Draw ``figure`` into ``folder`` as ``<name>.png`` and ``<name>.svg``; returns the files."""
    fig = _draw(figure)
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{figure.name}.png", folder / f"{figure.name}.svg"
    description = "; ".join(f"{k}: {v}" for k, v in metadata.items())
    fig.savefig(
        png,
        dpi=150,
        metadata={
            "Title": figure.title,
            "Description": description,
            "Software": metadata.get("Software", "Monge Lab"),
        },
    )
    fig.savefig(svg, metadata={"Title": figure.title, "Description": description})
    return [png, svg]
