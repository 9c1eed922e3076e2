"""An explorer: controls that redraw one figure, for the notebooks run in Jupyter.

The figure is rendered to a PNG and shown in an image widget, so that the explorer

* shows its figure as soon as it is displayed (it is drawn when the explorer is built, not
  when a control first moves);
* shows nothing but the figure and its controls (no return value of a callback is printed);
* does not depend on the notebook's matplotlib backend: every redraw replaces the image.

Controls with a fixed set of values (``SelectionSlider``, ``IntSlider``) keep those values
exact, unlike a ``FloatLogSlider``, whose browser side rounds 20 to 10**1.3 = 19.9526.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import ipywidgets as widgets
import matplotlib.pyplot as plt

__all__ = ["FigureExplorer", "figure_explorer"]


def _png(figure) -> bytes:
    """The figure as PNG bytes, at its own resolution; the figure is closed afterwards."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=figure.dpi)
    finally:
        plt.close(figure)
    return buffer.getvalue()


class FigureExplorer(widgets.VBox):
    """The controls, the figure they draw, and a place for the error of a failed redraw.

    Build it with :func:`figure_explorer`. ``image`` is the ``ipywidgets.Image`` that holds the
    PNG, ``controls`` the mapping from keyword to control, ``messages`` an ``Output`` that shows
    the traceback of a redraw that failed after a control moved (the first drawing raises).
    """

    def __init__(self, draw: Callable, controls: Mapping[str, widgets.ValueWidget], new_figure: Callable):
        self.draw = draw
        self.controls = dict(controls)
        self.new_figure = new_figure
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.messages = widgets.Output()
        self.redraw()  # the first drawing: an error here is raised in the cell that builds the explorer
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        super().__init__([*self.controls.values(), self.image, self.messages])

    def values(self) -> dict:
        """The value of every control, by keyword."""
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        """Draw the figure for the current values and show it."""
        figure, ax = self.new_figure()
        try:
            self.draw(ax, **self.values())
        except BaseException:
            plt.close(figure)
            raise
        self.image.value = _png(figure)

    def _on_change(self, change) -> None:
        # a callback's exception would only reach the kernel's log: show it under the figure
        self.messages.clear_output()
        with self.messages:
            self.redraw()


def figure_explorer(draw: Callable, controls: Mapping[str, widgets.ValueWidget],
                    new_figure: Callable | None = None) -> FigureExplorer:
    """An explorer that calls ``draw(ax, **values)`` on a new figure whenever a control moves.

    Parameters
    ----------
    draw : callable
        ``draw(ax, **values)`` draws on the matplotlib axes ``ax``; its return value is ignored.
    controls : mapping of str to ipywidgets value widgets
        Keyword of ``draw`` to the control that sets it (for example an ``IntSlider``, or a
        ``SelectionSlider`` over exact values).
    new_figure : callable, optional
        Returns ``(figure, ax)`` for one drawing (for example ``lambda: lib.plotting.new_figure(1)``);
        by default ``matplotlib.pyplot.subplots()``.

    Returns
    -------
    FigureExplorer
        The widget to display (the last expression of a cell): the controls above the figure,
        drawn once already.

    Raises
    ------
    TypeError
        When ``draw`` or ``new_figure`` is not callable, or a control is not a value widget.
    ValueError
        When there are no controls.
    """
    if not callable(draw):
        raise TypeError(f"draw must be callable, got {draw!r}")
    if new_figure is None:
        new_figure = plt.subplots
    if not callable(new_figure):
        raise TypeError(f"new_figure must be callable, got {new_figure!r}")
    if not controls:
        raise ValueError("an explorer needs at least one control")
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise TypeError(f"the control for {name!r} must be an ipywidgets value widget, got {control!r}")
    return FigureExplorer(draw, controls, new_figure)
