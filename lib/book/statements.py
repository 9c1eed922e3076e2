"""Where the book states its results: the labelled theorems, lemmas and propositions of its sources.

One scanner serves everything that asks "which statements does the book make, and which cell
checks each one?": the hygiene tests (``tests/test_hygiene.py``) and the verification appendix
(``book/verification.ipynb``, through :mod:`lib.checks.verification`). The book writes a
statement as a MyST directive, fenced with backticks or colons,

.. code-block:: markdown

    ```{prf:lemma} Optimal length
    :label: lem-ls-length
    ...
    ```

in a markdown cell of a chapter notebook or in a markdown page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHECKED_KINDS", "Statement", "find_statements", "read_cells", "cells_calling"]

#: The kinds of statement that need a numerical check (``prf:`` directive names).
CHECKED_KINDS = ("theorem", "lemma", "proposition", "corollary")

_OPENING = re.compile(r"^(?P<fence>`{3,}|:{3,})\{prf:(?P<kind>\w+)\}[ \t]*(?P<title>[^\n]*)$")
_OPTION = re.compile(r"^:(?P<name>[\w-]+):[ \t]*(?P<value>[^\n]*)$")


@dataclass(frozen=True)
class Statement:
    """One labelled statement of the book.

    Attributes
    ----------
    kind : str
        ``theorem``, ``lemma``, ``proposition`` or ``corollary``.
    label : str or None
        Its ``:label:``; ``None`` when the directive has none (then nothing can refer to it).
    title : str
        The title after the directive name, as written (it may contain ``$...$`` math).
    source : pathlib.Path
        The notebook or page that states it.
    cell : int or None
        The index of the markdown cell that states it (``None`` in a markdown page).
    """

    kind: str
    label: str | None
    title: str
    source: Path
    cell: int | None = None

    @property
    def chapter(self) -> str:
        """The source's file name without extension, e.g. ``02-least-squares``."""
        return self.source.stem


def read_cells(path: Path) -> list[dict]:
    """The cells of a notebook, or a markdown page as one markdown cell; sources joined into strings."""
    path = Path(path)
    if path.suffix == ".md":
        return [{"cell_type": "markdown", "source": path.read_text(encoding="utf-8")}]
    if path.suffix != ".ipynb":
        raise ValueError(f"{path} is neither a notebook (.ipynb) nor a markdown page (.md)")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [{**cell, "source": "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]}
            for cell in cells]


def _statements_in(text: str, kinds) -> list[tuple[str, str | None, str]]:
    """(kind, label, title) of every ``prf:`` directive of one of ``kinds`` in ``text``."""
    found, lines = [], text.splitlines()
    for index, line in enumerate(lines):
        opening = _OPENING.match(line.strip())
        if not opening or opening["kind"] not in kinds:
            continue
        label = None
        for option_line in lines[index + 1:]:
            option = _OPTION.match(option_line.strip())
            if not option:
                break
            if option["name"] == "label":
                label = option["value"].strip() or None
        found.append((opening["kind"], label, opening["title"].strip()))
    return found


def find_statements(sources, kinds=CHECKED_KINDS) -> list[Statement]:
    """Every statement of one of ``kinds`` in ``sources``, in the order of the sources.

    Parameters
    ----------
    sources : path or iterable of paths
        Notebooks (``.ipynb``) and markdown pages (``.md``), or a directory: then every
        notebook and page in it, sorted by name.
    kinds : iterable of str
        The ``prf:`` directive names to collect.

    Returns
    -------
    list of Statement
    """
    if isinstance(sources, (str, Path)):
        directory = Path(sources)
        if not directory.is_dir():
            raise ValueError(f"{directory} is not a directory; pass a directory or a list of files")
        sources = sorted([*directory.glob("*.ipynb"), *directory.glob("*.md")])
    statements = []
    for path in map(Path, sources):
        for index, cell in enumerate(read_cells(path)):
            if cell["cell_type"] != "markdown":
                continue
            cell_index = index if path.suffix == ".ipynb" else None
            statements += [Statement(kind, label, title, path, cell_index)
                           for kind, label, title in _statements_in(cell["source"], tuple(kinds))]
    return statements


def cells_calling(path: Path, function_name: str) -> list[int]:
    """The 1-based numbers, among the code cells of a notebook, of the cells that call ``function_name``.

    ``function_name`` is matched whole, dotted names included (``checks.least_squares.ls_rate``,
    with or without a leading ``lib.``); ``x.ls_rate(`` is not a call of ``ls_rate``.

    The number counts code cells only (markdown cells are skipped), from the top of the notebook:
    the 3rd code cell is number 3. A markdown page has no code cells: the list is empty.
    """
    code_cells = [cell for cell in read_cells(path) if cell["cell_type"] == "code"]
    # the whole dotted name, optionally after "lib.", and not the tail of another name (x.name)
    call = re.compile(rf"(?<![\w.])(?:lib\.)?{re.escape(function_name)}\(")
    return [number for number, cell in enumerate(code_cells, start=1) if call.search(cell["source"])]
