"""The statement scanner and the verification appendix: a statement without a passing check fails them."""

import json
import shutil
from pathlib import Path

import nbclient
import nbformat
import pytest

from lib import checks
from lib.checks.statements import cells_calling, find_statements
from lib.checks.verification import (TEST_ID, VerificationError, locate_check, markdown_report, require_verified,
                                     verify)

ROOT = Path(__file__).resolve().parents[1]

LEMMA = """Some text.

```{prf:lemma} Norm split
:label: lem-norm-split

A statement.
```

::::{prf:theorem} A theorem with $x^2$ in its title
:class: important
:label: thm-not-checked-anywhere
Its statement.
::::

```{prf:definition} Not a statement that needs a check
:label: def-something
```

```{prf:proposition}
An unlabelled proposition.
```
"""


def _chapter(directory: Path, name: str, markdown: str, code: list[str]) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in code]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = directory / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def test_find_statements_reads_both_fences_titles_and_labels(tmp_path):
    _chapter(tmp_path, "01-reparametrization", LEMMA, ["x = 1", "checks.reparametrization.norm_split(seed=0)"])
    (tmp_path / "page.md").write_text("```{prf:corollary} In a page\n:label: cor-page\n```\n")
    found = find_statements(tmp_path)
    assert [(s.kind, s.label, s.title) for s in found] == [
        ("lemma", "lem-norm-split", "Norm split"),
        ("theorem", "thm-not-checked-anywhere", "A theorem with $x^2$ in its title"),
        ("proposition", None, ""),
        ("corollary", "cor-page", "In a page"),
    ]
    assert found[0].chapter == "01-reparametrization" and found[0].cell == 0
    assert found[3].cell is None


def test_find_statements_refuses_a_missing_directory(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        find_statements(tmp_path / "nowhere")


def test_cells_calling_counts_code_cells_from_one(tmp_path):
    path = _chapter(tmp_path, "ch", "# title", ["a = 1", "norm_split(seed=0)", "b = 2", "x.norm_split(seed=1)"])
    assert cells_calling(path, "norm_split") == [2]  # x.norm_split is another object's norm_split
    assert cells_calling(path, "split") == []  # whole names only


def test_verify_passes_checked_statements_and_flags_the_rest(tmp_path):
    _chapter(tmp_path, "01-reparametrization", LEMMA, ["checks.reparametrization.norm_split(seed=0)"])
    verifications = verify(find_statements(tmp_path), seed=0)
    by_label = {v.statement.label: v for v in verifications}
    checked = by_label["lem-norm-split"]
    assert checked.verified and checked.result.passed and checked.cells == (1,)
    assert checked.test_id == TEST_ID.format(label="lem-norm-split")
    assert "MISSING" in by_label["thm-not-checked-anywhere"].problems[0]
    assert "label" in by_label[None].problems[0]
    with pytest.raises(VerificationError, match="2 statement\\(s\\) not verified") as error:
        require_verified(verifications)
    assert "thm-not-checked-anywhere" in str(error.value)


def test_a_statement_whose_chapter_never_calls_its_check_is_not_verified(tmp_path):
    path = _chapter(tmp_path, "01-reparametrization", LEMMA, ["print('no check here')"])
    statement = find_statements([path])[0]
    check, cells, problems = locate_check(statement)
    assert check is checks.REGISTRY["lem-norm-split"] and cells == ()
    assert problems == ["no cell of 01-reparametrization calls checks.reparametrization.norm_split"]


@pytest.mark.parametrize("outcome", ["fails", "raises"])
def test_a_failing_or_crashing_check_is_reported_and_fails(tmp_path, monkeypatch, outcome):
    def broken(seed=0):
        if outcome == "raises":
            raise RuntimeError("the check crashed")
        return checks.CheckResult("lem-broken", "ratio 1.5 x bound", 1.5, 1.0, False)

    monkeypatch.setitem(checks.REGISTRY, "lem-broken", checks.Check("lem-broken", "ch", "broken", broken))
    _chapter(tmp_path, "ch", "```{prf:lemma} Broken\n:label: lem-broken\n```", ["broken(seed=0)"])
    [verification] = verify(find_statements(tmp_path))
    assert not verification.verified
    assert ("FAILS" if outcome == "fails" else "the check crashed") in "; ".join(verification.problems)
    with pytest.raises(VerificationError):
        require_verified([verification])


def test_require_verified_refuses_an_empty_book():
    with pytest.raises(VerificationError, match="no theorem"):
        require_verified([])


def test_markdown_report_links_each_statement_and_escapes_the_figures(tmp_path, monkeypatch):
    def piped(seed=0):
        return checks.CheckResult("lem-piped", "|w.grad f| * 2 <= bound_1.", 0.5, 1.0, True)

    piped.__module__ = "lib.checks.fake"  # chapters call checks as checks.<module>.<function>(...)
    monkeypatch.setitem(checks.REGISTRY, "lem-piped", checks.Check("lem-piped", "ch", "piped", piped))
    _chapter(tmp_path, "ch", "```{prf:lemma} Piped\n:label: lem-piped\n```\n```{prf:lemma} Lost\n:label: lem-lost\n```",
             ["checks.fake.piped(seed=0)", "lib.checks.fake.piped(seed=1)"])
    report = markdown_report(verify(find_statements(tmp_path)))
    assert report.startswith("- ")
    items = report[2:].split("\n- ")
    assert len(items) == 2
    assert items[0].startswith("{prf:ref}`lem-piped` (Piped): **holds**, measured 0.5 against the bound 1.")
    assert r"\|w.grad f\| \* 2 \<= bound\_1." in items[0] and "1..\\" not in items[0]
    assert "1st and 2nd code cells of its chapter" in items[0] and "`test_check_holds_on_unseen_seed[lem-piped]`" in items[0]
    assert items[1].startswith("{prf:ref}`lem-lost` (Lost): **MISSING: no check is registered in lib.checks**.")


def test_a_check_that_covers_a_special_case_says_so_in_the_report(tmp_path, monkeypatch):
    def narrow(seed=0):
        return checks.CheckResult("lem-narrow", "fine", 0.5, 1.0, True)

    narrow.__module__ = "lib.checks.fake"
    check = checks.Check("lem-narrow", "ch", "narrow", narrow, special_case="two units only, the logistic loss.")
    monkeypatch.setitem(checks.REGISTRY, "lem-narrow", check)
    _chapter(tmp_path, "ch", "```{prf:lemma} Narrow\n:label: lem-narrow\n```", ["checks.fake.narrow(seed=0)"])
    report = markdown_report(verify(find_statements(tmp_path)))
    assert report.endswith("*Covers only a special case:* two units only, the logistic loss.")
    registered = [c for c in checks.REGISTRY.values() if c.special_case]
    assert registered, "the chapters' checks that cover a special case say so (lib.checks.verifies(special_case=...))"


def test_the_appendix_notebook_fails_when_a_statement_has_no_check(tmp_path):
    """The verification page raises, so the build (-W) and the notebook tests fail."""
    book = tmp_path / "book"
    book.mkdir()
    shutil.copy(ROOT / "book" / "verification.ipynb", book)
    _chapter(book, "01-reparametrization", LEMMA, ["checks.reparametrization.norm_split(seed=0)"])
    notebook = nbformat.read(book / "verification.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(book)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="thm-not-checked-anywhere"):
        client.execute()


def test_the_calling_cell_is_found_by_the_qualified_name(tmp_path):
    """lib.rayleigh_gradient(...) in a cell is not a call of the check checks.least_squares.rayleigh_gradient."""
    path = tmp_path / "02-least-squares.ipynb"
    path.write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": "g = lib.rayleigh_gradient(w, S, u)"},
        {"cell_type": "code", "source": "checks.least_squares.rayleigh_gradient(seed=0).require()"},
    ]}))
    assert cells_calling(path, "checks.least_squares.rayleigh_gradient") == [2]
