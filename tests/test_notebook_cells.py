"""Every code cell of every notebook of the book ran without an error: `make test-notebooks`.

The notebooks are run once per ``make test``, by ``tools/execute_book.py`` (two at a time, as
myst-nb runs them, into ``_build/.jupyter_cache``); the build and the PDF take their outputs from
there. This module reads that run and makes one test per code cell, as ``pytest --nbval-lax``
did when it ran every notebook a second time: a cell passes when it was executed and left no error
output. A notebook whose run failed is not in the cache, so every one of its cells fails here
(and ``tools/execute_book.py`` has already failed ``make``).
"""

from pathlib import Path

import nbformat
import pytest

from course import layout

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"
NOTEBOOKS = [source for source in layout.pages(ROOT) if source.suffix == ".ipynb"]
#: (notebook, index of the cell, number of the code cell): the tests are named as nbval names them,
#: ``book/01-reparametrization.ipynb::Cell 0`` for the first code cell
CELLS = [(path, index, number) for path in NOTEBOOKS
         for number, index in enumerate(i for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
                                        if cell.cell_type == "code")]


def _executed(path: Path) -> nbformat.NotebookNode:
    """The notebook with the outputs of this run, or a failure that says how to make them."""
    from jupyter_cache import get_cache

    source = nbformat.read(path, as_version=4)
    try:
        _, executed = get_cache(str(CACHE)).merge_match_into_notebook(source)
    except KeyError:
        pytest.fail(f"{path.relative_to(ROOT)} has no run in {CACHE.relative_to(ROOT)}: it failed or was not run "
                    "(`make test-notebooks` runs tools/execute_book.py first)")
    return executed


@pytest.fixture(scope="module")
def executed() -> dict:
    return {}


@pytest.mark.parametrize("path, index, number", CELLS, ids=[f"{p.relative_to(ROOT)}::Cell {n}" for p, _, n in CELLS])
def test_the_cell_ran_without_an_error(executed, path, index, number):
    if path not in executed:
        executed[path] = _executed(path)
    cell = executed[path].cells[index]
    assert cell.execution_count is not None, f"{path.name}, code cell {number} was not executed"
    errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}, code cell {number} raised {errors}"
