"""The text the book prints for each of its labels, for the notebooks opened in JupyterLab.

jupyterlab-myst renders the MyST of one notebook at a time: a reference to another chapter
(``{prf:ref}`lem-scale-invariance```), to a figure that the book numbers from a cell's metadata,
and every citation (it does not read ``book/references.bib``) come out as a warning mark and the
bare label. The labextension ``length-direction-labels`` (jupyter/labextensions/) replaces each
of them by what the book prints there, which this module computes from the book's sources:

==================================  =====================================  ======================
label                               defined by                             the book prints
==================================  =====================================  ======================
chapter or page (``(ch-...)=``)     the target before a ``#`` title        the title
statement (``:label: lem-...``)     a ``prf:`` directive                   ``Lemma 1.2``
equation (``$$ ... $$ (eq-...)``)   a labelled display                     ``(1.2)``
exercise (``:label: ex-...``)       an ``exercise`` directive              ``Exercise 1.2``
figure (``fig-...``)                a code cell's ``mystnb.figure.name``   ``Fig. 2.2``
citation key                        an entry of ``book/references.bib``    ``[Kohler et al., 2019]``
==================================  =====================================  ======================

Numbers count per chapter (the chapters of the numbered part of ``_toc.yml``), in the order of
the notebook; the statements that ``prf_realtyp_to_countertyp`` of ``_config.yml`` maps to one
counter share it, as in the book. ``tests/test_jupyterlab.py`` compares every text with the built
book's HTML.

``jupyter/jupyter_lab_config.py`` calls :func:`write_quietly` at every start of JupyterLab, so
the labels follow the sources; this module reads files only and needs nothing outside the
standard library, PyYAML and pybtex (which the book's build installs).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import sys
from pathlib import Path

import yaml

__all__ = ["EXTENSION", "NUMBERED_KINDS", "book_labels", "write", "write_quietly"]

#: The name of the labextension that shows the labels (jupyter/labextensions/<EXTENSION>).
EXTENSION = "length-direction-labels"

#: The ``prf:`` directives that sphinx-proof numbers (``proof`` is not numbered).
NUMBERED_KINDS = ("axiom", "theorem", "lemma", "algorithm", "definition", "remark", "conjecture", "corollary",
                  "criterion", "example", "property", "observation", "proposition", "assumption", "notation")

_TARGET = re.compile(r"^\((?P<label>[\w-]+)\)=[ \t]*\n#[ \t]+(?P<title>[^\n]+)$", re.MULTILINE)
_EQUATION = re.compile(r"\$\$[ \t]*\((?P<label>[\w-]+)\)")
_EXERCISE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{exercise\}[^\n]*\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)", re.MULTILINE)
_LABEL_OPTION = re.compile(r"^[ \t]*:label:[ \t]*(?P<label>[\w-]+)", re.MULTILINE)
_LATEX_BRACES = re.compile(r"[{}]")


def _module(path: Path):
    """A module of the repository loaded from its file, without importing its package.

    ``course.layout`` and ``lib.book.statements`` need only the standard library and PyYAML;
    importing them through their packages would import numpy and torch into JupyterLab's server.
    """
    name = f"_book_labels_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_statements = _module(Path(__file__).resolve().parents[1] / "lib" / "book" / "statements.py")


def _entry(text: str, tooltip: str, path: str | None = None) -> dict:
    return {"text": text, "tooltip": tooltip, "path": path}


def _counter_types(root: Path) -> dict:
    """``prf_realtyp_to_countertyp`` of ``_config.yml``: the kinds that count with another kind."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return ((config.get("sphinx") or {}).get("config") or {}).get("prf_realtyp_to_countertyp") or {}


def _page_labels(source: Path, where: str, path: str) -> dict:
    """Chapter and page targets: ``(label)=`` right before a ``#`` heading read as its title."""
    text = "\n".join(cell["source"] for cell in _statements.read_cells(source) if cell["cell_type"] == "markdown")
    return {m["label"]: _entry(m["title"].strip(), f"{m['title'].strip()}: {where}", path) for m in _TARGET.finditer(text)}


def _chapter_labels(number: int, source: Path, root: Path, counter_types: dict) -> dict:
    """Every numbered label of one chapter, as the book prints it."""
    path = source.relative_to(root / "book").as_posix()
    where = f"chapter {number}, {path}"
    labels = _page_labels(source, where, path)

    counts: dict = {}
    for statement in _statements.find_statements([source], kinds=NUMBERED_KINDS):
        counter = counter_types.get(statement.kind, statement.kind)
        counts[counter] = counts.get(counter, 0) + 1
        if statement.label:
            text = f"{statement.kind.title()} {number}.{counts[counter]}"
            title = f" ({statement.title})" if statement.title else ""
            labels[statement.label] = _entry(text, f"{text}{title}: {where}", path)

    cells = _statements.read_cells(source)
    markdown = "\n".join(cell["source"] for cell in cells if cell["cell_type"] == "markdown")
    for index, match in enumerate(_EQUATION.finditer(markdown), start=1):
        labels[match["label"]] = _entry(f"({number}.{index})", f"equation ({number}.{index}): {where}", path)
    for index, match in enumerate(_EXERCISE.finditer(markdown), start=1):
        option = _LABEL_OPTION.search(match["options"])
        if option:
            labels[option["label"]] = _entry(f"Exercise {number}.{index}", f"Exercise {number}.{index}: {where}", path)
    figures = [cell["metadata"]["mystnb"]["figure"] for cell in cells
               if cell["cell_type"] == "code" and "figure" in cell.get("metadata", {}).get("mystnb", {})]
    for index, figure in enumerate((f for f in figures if f.get("caption")), start=1):
        if figure.get("name"):
            labels[figure["name"]] = _entry(f"Fig. {number}.{index}", f"Fig. {number}.{index}: {where}", path)
    return labels


def _plain(latex: str) -> str:
    """A bibliography field without its LaTeX braces and accents commands (``Bj{\\"o}rck``)."""
    from pybtex.richtext import Text

    return Text.from_latex(latex).render_as("text") if "\\" in latex else _LATEX_BRACES.sub("", latex)


def _citations(bibliography: Path) -> dict:
    """``[Kohler et al., 2019]`` for every key of the bibliography (the book's author-year style)."""
    from pybtex.database import parse_file

    labels = {}
    for key, entry in parse_file(str(bibliography)).entries.items():
        surnames = [_plain(" ".join(person.prelast_names + person.last_names)) for person in entry.persons.get("author", [])]
        if len(surnames) > 2:
            authors = f"{surnames[0]} et al."
        else:
            authors = " and ".join(surnames)
        text = f"[{authors}, {entry.fields.get('year', 'n.d.')}]"
        title = _plain(entry.fields.get("title", ""))
        labels[key] = _entry(text, f"{', '.join(surnames)}: {title} ({entry.fields.get('year', 'n.d.')}); "
                                   f"the references of the book, book/{bibliography.name}")
    return labels


def book_labels(root: Path) -> dict:
    """Label to ``{"text", "tooltip", "path"}`` for every label of the book and every citation key.

    Parameters
    ----------
    root : Path
        The repository's root (``_toc.yml``, ``_config.yml``, ``book/``).

    Returns
    -------
    dict
        ``text`` is what the book prints, ``tooltip`` says where the target is, ``path`` is the
        notebook or page that defines it, relative to ``book/`` (``None`` for a citation).
    """
    root = Path(root)
    layout = _module(root / "course" / "layout.py")
    counter_types = _counter_types(root)
    chapters = layout.chapters(root)
    labels = {}
    for source in layout.pages(root):
        if source not in chapters:
            labels.update(_page_labels(source, source.relative_to(root / "book").as_posix(),
                                       source.relative_to(root / "book").as_posix()))
    for number, source in enumerate(chapters, start=1):
        labels.update(_chapter_labels(number, source, root, counter_types))
    labels.update(_citations(root / "book" / "references.bib"))
    return labels


def write(root: Path, out: Path) -> dict:
    """Write :func:`book_labels` as JSON to ``out`` (its folder is created); returns the labels."""
    labels = book_labels(root)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(labels, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return labels


def write_quietly(root: Path, out: Path) -> None:
    """:func:`write`, but a source that cannot be read only costs the labels, never JupyterLab's start."""
    try:
        write(root, out)
    except Exception as error:  # a notebook being edited may be invalid JSON for a moment
        logging.getLogger("book_labels").warning("no labels for other chapters and citations (%s): %s",
                                                 type(error).__name__, error)

