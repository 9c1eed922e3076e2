"""The grading command: it grades good submissions and survives broken ones."""

import csv
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from course import grade
from course.exercise_cells import read_exercises

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "02-least-squares"
BOOK = nbformat.read(ROOT / "book" / f"{CHAPTER}.ipynb", as_version=4)
CODING = [e for e in read_exercises(BOOK, CHAPTER) if e.kind == "coding"]



def _submission(path: Path, sources: list[str], chapter: str | None = CHAPTER) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if chapter:
        notebook.metadata["course"] = {"chapter": chapter, "edition": "student"}
    nbformat.write(notebook, path)


def _solution_cells() -> dict[str, str]:
    """The book's solution code and self-check cell of each coding exercise of the chapter."""
    return {e.label: (BOOK.cells[e.marked_cells[0]].source, BOOK.cells[e.check_cell].source) for e in CODING}


def _rows(csv_path: Path) -> dict[tuple[str, str], dict]:
    with csv_path.open() as handle:
        return {(row["student"], row["exercise"]): row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    solutions = _solution_cells()
    setup = "import numpy as np\nimport lib\nimport lib.exercises"
    _submission(folder / "good.ipynb", [setup] + [cell for pair in solutions.values() for cell in pair])
    wrong_gradient = ("def rayleigh_gradient(w, S, u):\n    uw, n2 = u @ w, w @ S @ w\n"
                      "    return (-uw / n2) * (u - (uw / n2) * (S @ w))")
    stub = 'def gdnp_step(w, S, u):\n    raise NotImplementedError("ex-ls-gdnp-step")'
    _submission(folder / "mixed.ipynb", [
        "raise RuntimeError('a cell that fails')", setup, solutions["ex-ls-optimal-length"][0],
        solutions["ex-ls-optimal-length"][1], "while True:\n    pass", wrong_gradient, stub,
        solutions["ex-ls-rayleigh-gradient"][1]], chapter=None)  # the chapter comes from the self-check calls
    (folder / "garbage.ipynb").write_text("{ this is not json")
    (folder / "notes.txt").write_text("not a notebook")
    (folder / ".hidden.ipynb").write_text("skipped")
    out = folder.parent / "grades"
    assert grade.main([str(folder), "--out", str(out), "--timeout", "120", "--cell-timeout", "4"]) == 0
    return folder, out


@pytest.mark.slow
def test_a_correct_submission_passes_every_exercise(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    assert rows["good", "(notebook)"]["result"] == "pass"
    for exercise in CODING:
        row = rows["good", exercise.label]
        assert row["result"] == "pass", row["message"]
        assert row["message"].endswith("cases)") and ": correct (" in row["message"]


@pytest.mark.slow
def test_a_submission_that_raises_and_loops_is_still_graded(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    notebook = rows["mixed", "(notebook)"]
    assert notebook["result"] == "pass"  # it could be graded
    assert "cell 1 (RuntimeError)" in notebook["message"] and "cell 5 (CellTimeout)" in notebook["message"]
    assert "chapter 02-least-squares" in notebook["message"]
    assert rows["mixed", "ex-ls-optimal-length"]["result"] == "pass"
    wrong = rows["mixed", "ex-ls-rayleigh-gradient"]
    assert wrong["result"] == "fail" and "wrong on case 1 of" in wrong["message"]
    assert "expected:" in wrong["message"] and "returned:" in wrong["message"]
    stub = rows["mixed", "ex-ls-gdnp-step"]
    assert stub["result"] == "fail" and "not written yet" in stub["message"]


@pytest.mark.slow
def test_files_that_are_not_notebooks_are_recorded_as_failures(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    assert rows["garbage", "(notebook)"]["result"] == "fail"
    assert rows["garbage", "(notebook)"]["message"].startswith("not a notebook")
    assert rows["notes", "(notebook)"]["result"] == "fail"
    assert not any(student.startswith(".") for student, _ in rows)


@pytest.mark.slow
def test_the_markdown_table_counts_each_students_passes(graded):
    _, out = graded
    table = (out / "grades.md").read_text()
    assert f"| good | {len(CODING)} of {len(CODING)} |" in table
    assert f"| mixed | 1 of {len(CODING)} |" in table
    assert "| garbage | 0 of 0 |" in table


@pytest.mark.slow
def test_existing_tables_are_not_overwritten_without_force(graded, capsys):
    folder, out = graded
    before = (out / "grades.csv").read_text()
    assert grade.main([str(folder), "--out", str(out)]) == 1
    assert "exist already" in capsys.readouterr().err
    assert (out / "grades.csv").read_text() == before


@pytest.mark.slow
def test_a_notebook_that_ignores_interrupts_is_stopped_with_its_kernel(tmp_path):
    pid_file = tmp_path / "kernel.pid"
    path = tmp_path / "stubborn.ipynb"
    _submission(path, [
        f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))",
        "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass"])
    started = time.perf_counter()
    rows = grade._grade_in_child(path, timeout=12.0, cell_timeout=60.0)
    assert time.perf_counter() - started < 40
    assert [(r.exercise, r.passed) for r in rows] == [("(notebook)", False)]
    assert "did not finish within 12 s" in rows[0].message
    kernel = int(pid_file.read_text())
    deadline = time.time() + 10
    while psutil.pid_exists(kernel) and psutil.Process(kernel).status() != psutil.STATUS_ZOMBIE and time.time() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(kernel) or psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_a_kernel_that_dies_is_recorded(tmp_path):
    path = tmp_path / "dies.ipynb"
    _submission(path, ["import os\nos._exit(3)"])
    rows = grade._grade_in_child(path, timeout=60.0, cell_timeout=30.0)
    assert rows[0].exercise == "(notebook)" and not rows[0].passed and "kernel died" in rows[0].message
    assert {r.exercise for r in rows[1:]} == {e.label for e in CODING}
    assert not any(r.passed for r in rows)


def _notebook_with(metadata: dict, sources: list[str]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata.update(metadata)
    return notebook


def test_the_chapter_comes_from_the_metadata_or_else_from_the_self_checks():
    labels = [e.label for e in CODING]
    assert grade._exercises_of(_notebook_with({"course": {"chapter": CHAPTER}}, [])) == (CHAPTER, labels)
    by_checks = _notebook_with({}, ["x = 1", "lib.exercises.check_gdnp_step(gdnp_step)"])
    assert grade._exercises_of(by_checks) == (CHAPTER, labels)  # every exercise of the chapter, not only those called
    for broken in ({"course": "02"}, {"course": {"chapter": 2}}, {"course": {"chapter": "99-unknown"}}):
        assert grade._exercises_of(_notebook_with(broken, ["lib.exercises.check_gdnp_step(gdnp_step)"])) == (CHAPTER, labels)
    assert grade._exercises_of(_notebook_with({}, ["print('no checks')"])) == (None, [])


def test_the_tables_have_full_messages_in_csv_and_one_line_in_markdown(tmp_path):
    rows = [grade.Row("ann", "(notebook)", True, "ran"), grade.Row("ann", "ex-a", False, "wrong | here\n  details"),
            grade.Row("ann", "ex-b", True, "f: correct (5 cases)")]
    csv_path, md_path = grade.write_tables(rows, tmp_path)
    assert _rows(csv_path)["ann", "ex-a"]["message"] == "wrong | here\n  details"
    table = md_path.read_text()
    assert "| ann | ex-a | fail | wrong \\| here |" in table and "details" not in table
    assert "| ann | 1 of 2 |" in table
    with pytest.raises(FileExistsError):
        grade.write_tables(rows, tmp_path)
