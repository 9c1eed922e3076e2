"""The figure explorer of the notebooks (lib/book/explorer.py), without a browser.

The browser side (JupyterLab, a slider moved by keyboard) is tests/test_jupyterlab.py.
"""

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import pytest

from lib.explorer import figure_explorer

matplotlib.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _recording_draw(calls):
    def draw(ax, slope, label):
        calls.append((slope, label))
        ax.plot([0, 1], [0, slope])
        ax.set_title(label)
    return draw


def _controls():
    return {"slope": widgets.SelectionSlider(options=[("1", 1.0), ("20", 20.0)], value=20.0),
            "label": widgets.Dropdown(options=["a", "b"], value="a")}


def test_the_figure_is_drawn_when_the_explorer_is_built():
    calls = []
    explorer = figure_explorer(_recording_draw(calls), _controls())
    assert calls == [(20.0, "a")]
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE)
    assert explorer.children[-2] is explorer.image  # the controls, then the figure, then the messages


def test_a_moved_control_redraws_with_its_exact_value():
    calls = []
    explorer = figure_explorer(_recording_draw(calls), _controls())
    first = explorer.image.value
    explorer.controls["slope"].value = 1.0
    assert calls[-1] == (1.0, "a")
    assert calls[-1][0] is explorer.controls["slope"].options[0][1]  # the option itself, not a rounded copy
    assert bytes(explorer.image.value).startswith(PNG_SIGNATURE) and bytes(explorer.image.value) != bytes(first)
    explorer.controls["label"].value = "b"
    assert calls[-1] == (1.0, "b")


def test_no_figure_is_left_open():
    before = set(plt.get_fignums())
    explorer = figure_explorer(_recording_draw([]), _controls())
    explorer.controls["slope"].value = 1.0
    assert set(plt.get_fignums()) == before


def test_the_first_drawing_raises_its_error():
    def broken(ax, slope, label):
        raise ArithmeticError("broken on purpose")
    before = set(plt.get_fignums())
    with pytest.raises(ArithmeticError, match="broken on purpose"):
        figure_explorer(broken, _controls())
    assert set(plt.get_fignums()) == before


def test_a_failed_redraw_keeps_the_explorer_alive():
    calls = []

    def draw(ax, slope, label):
        calls.append(slope)
        if slope == 1.0:
            raise ArithmeticError("no slope 1")
        ax.plot([0, 1], [0, slope])

    explorer = figure_explorer(draw, _controls())
    image = explorer.image.value
    with pytest.raises(ArithmeticError, match="no slope 1"):  # in a kernel, the Output widget shows it instead
        explorer.controls["slope"].value = 1.0
    assert calls == [20.0, 1.0]
    assert bytes(explorer.image.value) == bytes(image)


@pytest.mark.parametrize("arguments, error, message", [
    (("not callable", {"x": widgets.IntSlider()}), TypeError, "draw must be callable"),
    ((lambda ax, x: None, {}), ValueError, "at least one control"),
    ((lambda ax, x: None, {"x": widgets.Button()}), TypeError, "value widget"),
    ((lambda ax, x: None, {"x": widgets.IntSlider()}, 3), TypeError, "new_figure must be callable"),
])
def test_bad_arguments_are_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        figure_explorer(*arguments)
