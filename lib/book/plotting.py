"""One figure style for the whole book, and the convergence plot with its bound.

The palette is Okabe and Ito's colour-blind-safe set, ordered so that the first six curves of a
figure have six different hues; figures have an opaque white background so that they stay
readable in the dark mode of the book's theme. A figure is as wide as the book's column
(:data:`BOOK_WIDTH` inches at :data:`DPI` dots per inch are the column's 688 pixels), puts at most
two panels side by side, and its text is at least 8 points, that is 12 pixels in the column.

In a notebook, :func:`use_book_style` also makes every figure record in its PNG the size of its
smallest text and how many panels it puts side by side (``tests/test_published_pages.py`` reads
them to check that the rendered figure is legible).
"""

from __future__ import annotations

import io
import math
import struct
import zlib

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = ["PALETTE", "BOOK_WIDTH", "DPI", "PHONE_FONT_SIZE", "use_book_style", "convergence_plot", "new_figure", "text_metadata"]

#: Okabe-Ito colours, in the order the book uses them: one hue family each for the first six
#: (sky blue, a second blue, and yellow, a light second orange, come last).
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
}

#: The width of the book's column in inches at :data:`DPI`: 688 pixels, as at a 1280-pixel window.
BOOK_WIDTH = 6.25
#: Dots per inch of the figures on the page.
DPI = 110
#: Text size in points that stays legible (9 CSS pixels) when a figure as wide as the column is
#: shown on a phone 390 pixels wide: the 688-pixel figure is then scaled to about 358 pixels, so
#: 9 px on the phone are 17.3 px in the PNG, 11.3 points at :data:`DPI` (the legends, half a
#: point smaller than the rest, are 11.5).
PHONE_FONT_SIZE = 12.0
#: Panels side by side at most; more panels go on further rows.
MOST_PANELS_A_ROW = 2

#: Which colour stands for which method, the same in every chapter.
METHOD_COLOURS = {
    "gdnp": PALETTE["blue"],
    "gd": PALETTE["orange"],
    "adam": PALETTE["green"],
    "bn-sgd": PALETTE["purple"],
    "bound": PALETTE["black"],
}


def use_book_style(font_size: float = 9.0) -> None:
    """Set matplotlib's defaults to the book's style (call once at the top of a chapter).

    ``font_size`` in points (legends half a point smaller); :data:`PHONE_FONT_SIZE` keeps a
    figure as wide as the column legible on a phone.
    """
    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "figure.dpi": DPI,
            "figure.figsize": (BOOK_WIDTH, 3.4),
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE.values())),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": font_size,
            "legend.fontsize": font_size - 0.5,
            "lines.linewidth": 1.8,
        }
    )
    _record_text_sizes_in_png()


def new_figure(panels: int = 1, width: float = BOOK_WIDTH, height: float | None = None, font_size: float = 9.0,
               **kwargs):
    """A figure with ``panels`` axes in the book's style, at most two side by side.

    One or two panels make one row; three or four a grid of two rows, and so on. ``height`` is the
    height of the whole figure (by default 3.4 inches a row). Returns the figure and its axes: one
    Axes for one panel, else an array of ``panels`` Axes in reading order. ``font_size`` as for
    :func:`use_book_style` (:data:`PHONE_FONT_SIZE` for figures of several panels).
    """
    if int(panels) != panels or panels < 1:
        raise ValueError(f"panels must be a positive integer, got {panels!r}")
    use_book_style(font_size)
    rows, columns = math.ceil(panels / MOST_PANELS_A_ROW), min(panels, MOST_PANELS_A_ROW)
    height = 3.4 * rows if height is None else height
    fig, axes = plt.subplots(rows, columns, figsize=(width, height), constrained_layout=True, squeeze=False, **kwargs)
    axes = axes.ravel()
    for spare in axes[panels:]:
        spare.remove()
    return fig, (axes[0] if panels == 1 else axes[:panels])


def text_metadata(fig: Figure, drawn: bool = False) -> dict:
    """What a reader needs to read ``fig``: its smallest text in points and its panels a row.

    Every visible, non-empty text of the figure counts (tick labels, legends, labels, titles,
    annotations). The panels of a row are the axes laid out on a grid (an inset is not a panel).
    ``drawn=True`` says that the figure has just been drawn (saved), so that its tick labels
    have their text and a second draw can be spared.
    """
    if not drawn:
        fig.draw_without_rendering()  # tick labels get their text only when the figure is drawn
    texts = [text for text in fig.findobj(Text) if text.get_visible() and text.get_text().strip()]
    smallest = min(texts, key=lambda text: text.get_fontsize(), default=None)
    rows: dict = {}
    for ax in fig.axes:
        spec = ax.get_subplotspec() if ax.get_visible() else None
        if spec is not None:
            for row in spec.rowspan:
                rows[row] = rows.get(row, 0) + 1
    return {
        "smallest text (pt)": f"{smallest.get_fontsize():.2f}" if smallest else "0",
        "smallest text is": repr(smallest.get_text()[:40]) if smallest else "",
        "panels a row": str(max(rows.values(), default=1)),
    }


def _png(fig: Figure) -> bytes:
    """The PNG the notebook shows, saved as the inline backend saves it, with :func:`text_metadata`.

    The metadata are read from the figure as the save drew it and added to the PNG as text chunks
    afterwards: drawing a figure a second time, only to read its tick labels, took about a third
    of the time of showing it.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return _with_text_chunks(buffer.getvalue(), text_metadata(fig, drawn=True))


def _with_text_chunks(png: bytes, texts: dict) -> bytes:
    """``png`` with a text chunk for every key and value of ``texts``, before its first IDAT chunk.

    Before the image data, as matplotlib puts its own, so that a reader of the header (Pillow's
    ``Image.open(...).info``) finds them. A latin-1 text is a ``tEXt`` chunk, any other an
    uncompressed ``iTXt`` (UTF-8), as Pillow writes them; each chunk is its length, type, data
    and the CRC-32 of type and data.
    """
    end = png.find(b"IDAT") - 4  # the first IDAT chunk: 4 bytes of length before its type
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or end < 8:
        raise ValueError("not a PNG with image data")
    chunks = []
    for key, value in texts.items():
        try:
            kind, data = b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")
        except UnicodeEncodeError:
            kind, data = b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
        chunks.append(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data)))
    return png[:end] + b"".join(chunks) + png[end:]


def _record_text_sizes_in_png() -> None:
    """In IPython, show figures through :func:`_png` (outside IPython there is nothing to do)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "display_formatter"):
        # load the backend now: the inline backend registers its own PNG formatter when it is first
        # loaded, and would replace this one before the notebook's first figure
        plt.switch_backend(mpl.rcParams["backend"])
        shell.display_formatter.formatters["image/png"].for_type(Figure, _png)


def convergence_plot(ax, curves: dict, bound=None, ylabel: str = "", bound_label: str = "bound",
                     x=None, xlabel: str = "iteration $t$"):
    """Plot positive sequences on a log scale, with an optional theoretical bound beside them.

    Parameters
    ----------
    ax : matplotlib Axes
    curves : dict of str to array_like
        Label to sequence; the label's lower-case form picks the colour when it names a method.
    bound : array_like, optional
        The bound, drawn dashed in black.
    x : array_like or dict, optional
        The horizontal values (iterations by default); a dict gives one per curve (e.g. time).
    """
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        xs = np.arange(values.size) if x is None else np.asarray(x[label] if isinstance(x, dict) else x)
        colour = METHOD_COLOURS.get(label.split(" ")[0].lower())
        ax.semilogy(xs, values, label=label, color=colour)
    if bound is not None:
        bound = np.asarray(bound, dtype=float)
        xs = np.arange(bound.size) if x is None or isinstance(x, dict) else np.asarray(x)
        ax.semilogy(xs, bound, "--", color=METHOD_COLOURS["bound"], label=bound_label, linewidth=1.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
