"""One figure style for the whole book, and the convergence plot with its bound.

The palette is Okabe and Ito's colour-blind-safe set; figures have an opaque white background
so that they stay readable in the dark mode of the book's theme.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["PALETTE", "use_book_style", "convergence_plot", "new_figure"]

#: Okabe-Ito colours, in the order the book uses them.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: Which colour stands for which method, the same in every chapter.
METHOD_COLOURS = {
    "gdnp": PALETTE["blue"],
    "gd": PALETTE["orange"],
    "adam": PALETTE["green"],
    "bn-sgd": PALETTE["purple"],
    "bound": PALETTE["black"],
}


def use_book_style() -> None:
    """Set matplotlib's defaults to the book's style (call once at the top of a chapter)."""
    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "figure.dpi": 110,
            "figure.figsize": (6.4, 3.8),
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE.values())),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 10,
            "lines.linewidth": 1.8,
        }
    )


def new_figure(ncols: int = 1, width: float = 6.4, height: float = 3.8, **kwargs):
    """A figure with ``ncols`` axes side by side, in the book's style."""
    use_book_style()
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), constrained_layout=True, **kwargs)
    return fig, axes


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
