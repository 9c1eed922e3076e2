"""Hygiene of the book's sources: clean notebooks, a complete table of contents, checked statements."""

import json
import re
from pathlib import Path

import pytest
import yaml

from lib import checks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
STATEMENT = re.compile(r"```\{prf:(theorem|lemma|proposition|corollary)\}[^\n]*\n:label: ([\w-]+)")


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.add(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def _cells(path: Path):
    return json.loads(path.read_text())["cells"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    dirty = [i for i, cell in enumerate(_cells(path))
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    assert f"book/{path.stem}" in _toc_files(), f"{path.name} is missing from _toc.yml"


def test_every_toc_entry_exists():
    for entry in _toc_files():
        matches = list(ROOT.glob(entry + ".*"))
        assert matches, f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_randomness_is_seeded(path):
    """Notebooks draw from seeded Generators, never from numpy's or torch's global state."""
    source = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")
    global_draws = re.findall(r"np\.random\.(?!default_rng|Generator)\w+", source)
    assert not global_draws, f"{path.name} uses numpy's global random state: {global_draws}"
    if re.search(r"^\s*(import torch|from torch)", source, re.MULTILINE):
        assert "torch.manual_seed" in source, f"{path.name} imports torch but never calls torch.manual_seed"


def _statements():
    found = []
    for path in NOTEBOOKS:
        for cell in _cells(path):
            if cell["cell_type"] == "markdown":
                found += [(path, kind, label) for kind, label in STATEMENT.findall("".join(cell["source"]))]
    return found


def test_every_statement_has_a_check_called_in_its_chapter():
    """Each theorem, lemma and proposition is followed, in its own chapter, by a cell running its check."""
    statements = _statements()
    assert statements, "no prf:theorem or prf:lemma found in the book"
    for path, kind, label in statements:
        assert label in checks.REGISTRY, f"{kind} {label} ({path.name}) has no check in lib.checks"
        check = checks.REGISTRY[label]
        assert check.chapter == path.stem, f"{label} is checked for chapter {check.chapter}, but stated in {path.stem}"
        call = check.function.__name__ + "("
        code = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")
        assert call in code, f"{path.name} states {label} but no cell calls {check.name}"


def test_every_check_belongs_to_a_statement():
    labels = {label for _, _, label in _statements()}
    orphans = sorted(set(checks.REGISTRY) - labels)
    assert not orphans, f"checks without a statement in the book: {orphans}"
