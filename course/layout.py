"""Where the book's pages are: its chapters and appendices, read from ``_toc.yml``.

The table of contents is in jupyter-book's ``jb-book`` format: a ``root`` page (the
introduction), then ``parts``, each with a list of ``chapters`` whose entries have a ``file``
(a path from the repository's root without suffix) and possibly ``sections``. The *chapters*
of the book are the entries of its numbered parts; the entries of the unnumbered parts are its
*appendices* (the notation, the generated verification page, this kit's page for lecturers,
the references). A table of contents without parts counts as one part.

Every reader of the table of contents (the course kit and the tests) asks this module, so
that a part added or renamed is seen the same way everywhere.
"""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["ROOT", "SUFFIXES", "toc_entries", "source_of", "pages", "chapters", "appendices"]

ROOT = Path(__file__).resolve().parents[1]
#: The suffixes of the book's sources, in the order they are looked for.
SUFFIXES = (".ipynb", ".md")


def _toc(root: Path) -> tuple[str, list[tuple[bool, list]]]:
    """The root page and the parts of the table of contents, as (numbered, chapters) pairs.

    Raises
    ------
    ValueError
        If ``_toc.yml`` is missing or is not a ``jb-book`` table of contents.
    """
    path = root / "_toc.yml"
    try:
        toc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the table of contents ({error})") from error
    if not isinstance(toc, dict) or toc.get("format") != "jb-book" or not isinstance(toc.get("root"), str):
        raise ValueError(f"{path}: expected a table of contents in jupyter-book's jb-book format, a mapping "
                         "with 'format: jb-book', a 'root' file and 'parts' (or 'chapters')")
    defaults = toc.get("defaults") or toc.get("options") or {}
    numbered_by_default = bool(defaults.get("numbered", False)) if isinstance(defaults, dict) else False
    parts = toc["parts"] if "parts" in toc else [{"chapters": toc.get("chapters", [])}]
    if not isinstance(parts, list) or not all(isinstance(p, dict) and isinstance(p.get("chapters"), list)
                                              for p in parts):
        raise ValueError(f"{path}: every part must be a mapping with a list of 'chapters'")
    return toc["root"], [(bool(p.get("numbered", numbered_by_default)), p["chapters"]) for p in parts]


def _files(entries: list, path: Path) -> list[str]:
    """The ``file`` of every entry and of its ``sections``, at any depth, in order."""
    files = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ValueError(f"{path}: expected entries of the form 'file: book/<name>', got {entry!r}")
        files.append(entry["file"])
        files += _files(entry.get("sections") or [], path)
    return files


def toc_entries(root: Path = ROOT) -> list[str]:
    """Every file of the table of contents, without suffix, in the order of the book (the root first).

    Parameters
    ----------
    root : Path
        The repository's root, which holds ``_toc.yml``.

    Returns
    -------
    list of str
        Paths relative to ``root``, e.g. ``"book/01-reparametrization"``.

    Raises
    ------
    ValueError
        If ``_toc.yml`` is missing or not a ``jb-book`` table of contents.
    """
    first, parts = _toc(root)
    return [first] + [file for _, entries in parts for file in _files(entries, root / "_toc.yml")]


def source_of(entry: str, root: Path = ROOT) -> Path:
    """The source file of an entry of the table of contents (its notebook, or else its markdown page).

    Raises
    ------
    FileNotFoundError
        If neither ``<entry>.ipynb`` nor ``<entry>.md`` exists.
    """
    for suffix in SUFFIXES:
        if (root / f"{entry}{suffix}").is_file():
            return root / f"{entry}{suffix}"
    raise FileNotFoundError(f"_toc.yml lists {entry}, but neither {entry}.ipynb nor {entry}.md exists in {root}")


def pages(root: Path = ROOT) -> list[Path]:
    """The source of every page of the book, in its order (the root page first); see :func:`chapters`."""
    return [source_of(entry, root) for entry in toc_entries(root)]


def _parts(root: Path, numbered: bool) -> list[Path]:
    _, parts = _toc(root)
    return [source_of(file, root) for is_numbered, entries in parts if is_numbered == numbered
            for file in _files(entries, root / "_toc.yml")]


def chapters(root: Path = ROOT) -> list[Path]:
    """The sources of the book's chapters (the entries of its numbered parts), in order.

    Parameters and errors are those of :func:`toc_entries`, and :func:`source_of`'s
    FileNotFoundError for an entry without a source file.

    Returns
    -------
    list of Path
        ``<root>/book/01-reparametrization.ipynb``, ...
    """
    return _parts(root, numbered=True)


def appendices(root: Path = ROOT) -> list[Path]:
    """The sources of the book's appendices (the entries of its unnumbered parts), in order; see :func:`chapters`."""
    return _parts(root, numbered=False)
