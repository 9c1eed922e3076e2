"""What a reader of the published book expects from its sources: one figure style, numbered
figures, citations that resolve, and a static counterpart for every widget.

The rules, as enforced here:

* **Figure style.** A notebook that draws a figure calls ``use_book_style()`` before its first
  figure, or makes every figure with ``new_figure(...)`` (which applies the style); no figure
  is saved with a transparent background. The style itself draws opaque figures in the
  Okabe-Ito palette.
* **Numbered figures.** Every code cell that shows a figure on the page (``plt.show()``, output
  not removed) carries ``mystnb.figure`` metadata with a ``fig-`` name and a caption, so that
  the figure is numbered and can be cited with ``{numref}``.
* **Inline math.** No line of a formula written across lines starts like a list item (``+ ``,
  ``- ``, ``* ``, ``1. ``): markdown would end the paragraph there and leave the TeX raw.
* **Citations.** Every key cited with ``{cite}`` (any variant) in a page or notebook is in
  ``book/references.bib``.
* **Widgets.** A code cell that uses ipywidgets is tagged ``remove-output`` (a widget means
  nothing on a static page); it draws through a function defined in its notebook; an earlier
  cell calls the same function to draw a numbered static figure; and the markdown cell just
  before the widget points the web reader to that figure with ``{numref}``. When the notebook
  runs, every control of every explorer, at both ends of its range, draws a figure without error.
"""

import ast
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbclient  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course import layout  # noqa: E402
from lib.checks.statements import read_cells  # noqa: E402
from lib.plotting import PALETTE, new_figure, use_book_style  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
#: The sources of the book's pages, in the order of _toc.yml (tests/test_hygiene.py checks that
#: every notebook of book/ is in it), and the notebooks among them.
SOURCES = layout.pages(ROOT)
NOTEBOOKS = [path for path in SOURCES if path.suffix == ".ipynb"]

DRAWS = re.compile(r"\bplt\.(show|subplots|figure|plot|savefig)\(|\bnew_figure\(|\bconvergence_plot\(")
MAKES_A_FIGURE_WITHOUT_STYLE = re.compile(r"\bplt\.(subplots|figure)\(")
USES_WIDGETS = re.compile(r"\b(widgets|ipywidgets)\.\w+|\binteract(ive)?\(")
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
BIB_KEY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)


def _code_cells(path):
    return [cell for cell in read_cells(path) if cell["cell_type"] == "code"]


def _without_imports(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if not re.match(r"\s*(import|from)\s", line))


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def _figure_options(cell) -> dict:
    return cell.get("metadata", {}).get("mystnb", {}).get("figure", {})


def _is_widget_cell(cell) -> bool:
    return cell["cell_type"] == "code" and bool(USES_WIDGETS.search(_without_imports(cell["source"])))


def _names_called(source: str) -> set:
    return {node.func.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


def _names_used(source: str) -> set:
    """Every name a cell reads: called, or passed on (``figure_explorer(compare_on, ...)``)."""
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


def _functions_defined(cells) -> set:
    return {node.name for cell in cells if cell["cell_type"] == "code"
            for node in ast.walk(ast.parse(cell["source"])) if isinstance(node, ast.FunctionDef)}


# --- figure style --------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_that_draws_uses_the_book_style(path):
    sources = [cell["source"] for cell in _code_cells(path)]
    drawing = [i for i, source in enumerate(sources) if DRAWS.search(_without_imports(source))]
    if not drawing:
        return
    # lib.book.setup.start_chapter calls use_book_style() (tests/test_book_setup.py checks that it does)
    styled = [i for i, source in enumerate(sources) if "use_book_style()" in source or "start_chapter(" in source]
    every_figure_styled = not any(MAKES_A_FIGURE_WITHOUT_STYLE.search(sources[i]) for i in drawing)
    assert (styled and styled[0] <= drawing[0]) or every_figure_styled, (
        f"{path.name} draws in code cell {drawing[0] + 1} without the book's style: call "
        "lib.plotting.use_book_style() in a cell before it, or make each figure with new_figure(...)")
    transparent = [i + 1 for i, source in enumerate(sources) if re.search(r"transparent\s*=\s*True", source)]
    assert not transparent, f"{path.name}: code cells {transparent} save transparent figures (dark mode hides them)"


def test_the_book_style_draws_opaque_figures_in_the_okabe_ito_palette():
    use_book_style()
    assert [c.lower() for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]] == \
        [c.lower() for c in PALETTE.values()]
    fig, ax = new_figure(1)
    ax.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # saved the way the inline backend saves it
    plt.close(fig)
    buffer.seek(0)
    pixels = plt.imread(buffer)
    assert pixels.shape[2] == 4 and np.all(pixels[..., 3] == 1.0), "the figure has transparent pixels"  # exact: PNG alpha k/255 is 1.0 only for k = 255
    assert np.allclose(pixels[2, 2, :3], 1.0), "the figure's background is not white"


#: Colours of the palette that read as one hue family: two of them in one figure look alike.
HUE_FAMILIES = ({"blue", "sky"}, {"orange", "vermillion", "yellow"})
PALETTE_NAME = re.compile(r"PALETTE\[[\"'](\w+)[\"']\]")


def _shared_hue_families(source: str) -> list:
    named = set(PALETTE_NAME.findall(source))
    return [sorted(family & named) for family in HUE_FAMILIES if len(family & named) > 1]


def test_the_hue_rule_sees_orange_beside_vermillion():
    assert _shared_hue_families('zip(x, (PALETTE["blue"], PALETTE["orange"], PALETTE["vermillion"]))') == \
        [["orange", "vermillion"]]
    assert _shared_hue_families('(PALETTE["blue"], PALETTE["orange"], PALETTE["green"])') == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_figure_names_two_colours_of_one_hue_family(path):
    shared = {number + 1: families for number, cell in enumerate(_code_cells(path))
              if (families := _shared_hue_families(cell["source"]))}
    assert not shared, f"{path.name}: code cells draw with colours of one hue family: {shared}"


# --- numbered figures ----------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_on_a_page_is_numbered_and_captioned(path):
    unnamed = []
    for number, cell in enumerate(_code_cells(path), start=1):
        if "plt.show()" not in cell["source"] or "remove-output" in _tags(cell) or "remove-cell" in _tags(cell):
            continue
        options = _figure_options(cell)
        if not (str(options.get("name", "")).startswith("fig-") and options.get("caption")):
            unnamed.append(number)
    assert not unnamed, (f"{path.name}: code cells {unnamed} show a figure without a number; give each the "
                         'cell metadata {"mystnb": {"figure": {"name": "fig-...", "caption": "..."}}}')


def test_figure_names_are_unique_in_the_book():
    names = [_figure_options(cell).get("name") for path in NOTEBOOKS for cell in _code_cells(path)]
    names = [name for name in names if name]
    assert len(names) == len(set(names)), f"figure names used twice: {sorted(n for n in names if names.count(n) > 1)}"


# --- inline math ---------------------------------------------------------------------------

FENCE = re.compile(r"^\s*(`{3,}|:{3,})(.*)$")
LIST_ITEM = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s")


def _prose_lines(text: str):
    """The lines of markdown outside code blocks (directive bodies such as proofs are prose)."""
    open_fences = []  # (marker, is_code)
    for line in text.splitlines():
        fence = FENCE.match(line)
        in_code = bool(open_fences) and open_fences[-1][1]
        if fence:
            marker, rest = fence.groups()
            top = open_fences[-1][0] if open_fences else ""
            if open_fences and not rest.strip() and marker[0] == top[0] and len(marker) >= len(top):
                open_fences.pop()
                continue
            if not in_code:
                open_fences.append((marker, not rest.strip().startswith("{")))
                continue
        if not in_code:
            yield line


def _list_items_inside_inline_math(text: str) -> list[str]:
    prose = re.sub(r"\$\$.*?\$\$", "", "\n".join(_prose_lines(text)), flags=re.S)
    inside, found = False, []
    for line in prose.splitlines():
        if inside and LIST_ITEM.match(line):
            found.append(line.strip())
        inside ^= len(re.findall(r"(?<!\\)\$", line)) % 2 == 1
    return found


def test_the_inline_math_rule_sees_a_broken_formula():
    broken = "```{prf:lemma} L\nwith $a = b\n+ c$ and\n```\n```python\nx = '$'\n+ 1\n```"
    assert _list_items_inside_inline_math(broken) == ["+ c$ and"]
    assert not _list_items_inside_inline_math("with $a = b +\nc$ and\n\n- a list item, $x$")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_line_of_an_inline_formula_starts_a_list(path):
    broken = [line for cell in read_cells(path) if cell["cell_type"] == "markdown"
              for line in _list_items_inside_inline_math(cell["source"])]
    assert not broken, (f"{path.name}: these lines of an inline formula start like a list item, so the "
                        f"formula is shown raw; move the sign to the end of the line before: {broken}")


# --- citations -----------------------------------------------------------------------------

def _cited_keys() -> dict:
    cited = {}
    for path in SOURCES:
        for cell in read_cells(path):
            if cell["cell_type"] == "markdown":
                for keys in CITE.findall(cell["source"]):
                    for key in keys.split(","):
                        cited.setdefault(key.strip(), path.name)
    return cited


def test_the_book_cites_its_paper():
    assert "kohler2019exponential" in _cited_keys()


def test_every_cited_key_is_in_the_bibliography():
    known = set(BIB_KEY.findall((BOOK / "references.bib").read_text(encoding="utf-8")))
    unknown = {key: page for key, page in _cited_keys().items() if key not in known}
    assert not unknown, f"cited but not in book/references.bib: {unknown}"


def test_the_references_page_prints_the_bibliography():
    assert "```{bibliography}" in (BOOK / "references.md").read_text(encoding="utf-8")


# --- widgets -------------------------------------------------------------------------------

WIDGET_NOTEBOOKS = [path for path in NOTEBOOKS if any(_is_widget_cell(c) for c in read_cells(path))]


def test_the_rule_sees_the_widgets_of_the_book():
    assert WIDGET_NOTEBOOKS, "no notebook uses ipywidgets: the widget rules below test nothing"
    assert _is_widget_cell({"cell_type": "code", "source": "widgets.interact(f, x=1)"})
    assert not _is_widget_cell({"cell_type": "code", "source": "import ipywidgets as widgets\nx = 1"})


@pytest.mark.parametrize("path", WIDGET_NOTEBOOKS, ids=lambda p: p.name)
def test_every_widget_has_a_static_figure_on_the_page(path):
    cells = read_cells(path)
    defined = _functions_defined(cells)
    code_numbers = {id(cell): number for number, cell in enumerate((c for c in cells if c["cell_type"] == "code"), 1)}
    for index, cell in enumerate(cells):
        if not _is_widget_cell(cell):
            continue
        where = f"{path.name}, the widget of code cell {code_numbers[id(cell)]}"
        assert "remove-output" in _tags(cell), f"{where} must be tagged remove-output: a widget is dead on a web page"
        drawers = _names_used(cell["source"]) & defined
        assert drawers, f"{where} must draw through a function defined in the notebook, so a static cell can call it"
        statics = [c for c in cells[:index] if c["cell_type"] == "code" and not _is_widget_cell(c)
                   and _names_called(c["source"]) & drawers and _figure_options(c).get("name")]
        assert statics, f"{where}: no earlier numbered figure calls {sorted(drawers)} to show what the widget draws"
        names = {_figure_options(c)["name"] for c in statics}
        before = next((c for c in reversed(cells[:index]) if c["cell_type"] == "markdown"), {"source": ""})
        assert any(f"{{numref}}`{name}`" in before["source"] for name in names), \
            f"{where}: the text before it must point web readers to the static figure with {{numref}}`{sorted(names)[0]}`"


DRIVE_THE_WIDGETS = """
import gc
import ipywidgets
from lib.explorer import FigureExplorer

explorers = [o for o in gc.get_objects() if isinstance(o, FigureExplorer)]
assert explorers, "no explorer (lib.explorer.figure_explorer) is alive after the notebook ran"
drawn = 0
for explorer in explorers:
    for control in explorer.controls.values():
        if isinstance(control, ipywidgets.FloatLogSlider):  # its min and max are exponents
            ends = [control.base ** control.min, control.base ** control.max]
        elif hasattr(control, "options"):  # a selection: its first and last option, (label, value) or value
            ends = [option[1] if isinstance(option, tuple) else option for option in control.options[::len(control.options) - 1]]
        else:
            ends = [control.min, control.max] if hasattr(control, "min") else [control.value]
        for value in ends:
            control.value = value  # the widget's own update runs too
            explorer.redraw()  # called directly, so that an error raises here
            assert bytes(explorer.image.value).startswith(b"\\x89PNG"), \\
                f"{control.description} = {value}: the explorer drew no figure"
            drawn += 1
print(f"{len(explorers)} explorer(s), {drawn} figures drawn at the ends of every control")
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", WIDGET_NOTEBOOKS, ids=lambda p: p.name)
def test_every_widget_works_live_at_the_ends_of_its_controls(path):
    """Run the notebook as a reader does locally, then move every control to both ends of its range."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(DRIVE_THE_WIDGETS))
    client = nbclient.NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    last = notebook.cells[-1].outputs
    assert any("figures drawn" in output.get("text", "") for output in last), last
