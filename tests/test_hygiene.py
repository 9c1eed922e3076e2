"""Hygiene of the book's sources: clean notebooks, a complete table of contents, checked statements."""

import re
from pathlib import Path

import pytest

from course import layout
from lib import checks
from lib.checks.statements import find_statements, read_cells
from lib.checks.verification import locate_check

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    dirty = [i for i, cell in enumerate(read_cells(path))
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    assert f"book/{path.stem}" in layout.toc_entries(ROOT), f"{path.name} is missing from _toc.yml"


@pytest.mark.parametrize("entry", layout.toc_entries(ROOT))
def test_every_toc_entry_exists(entry):
    assert layout.source_of(entry, ROOT).is_file()


def test_the_book_has_chapters_and_appendices():
    """The numbered part holds the chapters; the unnumbered part, the appendices, among them this kit's page."""
    chapters, appendices = layout.chapters(ROOT), layout.appendices(ROOT)
    assert [p.name for p in chapters[:2]] == ["01-reparametrization.ipynb", "02-least-squares.ipynb"]
    assert ROOT / "book" / "lecturers.md" in appendices and not set(chapters) & set(appendices)
    assert layout.pages(ROOT) == [ROOT / "book" / "intro.md", *chapters, *appendices]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_randomness_is_seeded(path):
    """Notebooks draw from seeded Generators, never from numpy's or torch's global state."""
    source = "\n".join(c["source"] for c in read_cells(path) if c["cell_type"] == "code")
    global_draws = re.findall(r"np\.random\.(?!default_rng|Generator)\w+", source)
    assert not global_draws, f"{path.name} uses numpy's global random state: {global_draws}"
    if re.search(r"^\s*(import torch|from torch)", source, re.MULTILINE):
        # start_chapter seeds torch when torch is imported before it (tests/test_book_setup.py checks that it does)
        first = next(c["source"] for c in read_cells(path) if c["cell_type"] == "code")
        torch_first = re.search(r"^(import torch|from torch)", first, re.MULTILINE)
        seeded_at_start = torch_first and first.find("start_chapter(") > torch_first.start()
        assert "torch.manual_seed" in source or seeded_at_start, \
            f"{path.name} imports torch but never calls torch.manual_seed (nor start_chapter after importing it)"


def _statements():
    """Every theorem, lemma, proposition and corollary of the book's notebooks and pages."""
    return find_statements(ROOT / "book")


def test_every_statement_has_a_check_called_in_its_chapter():
    """Each theorem, lemma and proposition is followed, in its own chapter, by a cell running its check."""
    statements = _statements()
    assert statements, "no prf:theorem or prf:lemma found in the book"
    unchecked = [f"{s.kind} {s.label or s.title!r} ({s.source.name}): {'; '.join(problems)}"
                 for s in statements for problems in [locate_check(s)[2]] if problems]
    assert not unchecked, "statements without a check called in their chapter:\n" + "\n".join(unchecked)


def test_every_check_belongs_to_a_statement():
    labels = {statement.label for statement in _statements()}
    orphans = sorted(set(checks.REGISTRY) - labels)
    assert not orphans, f"checks without a statement in the book: {orphans}"
