"""The grading command: it grades good submissions and survives broken ones."""

import csv
import json
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
    """A submitted notebook: code cells, and markdown cells for sources that start with "md:"."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(s[3:]) if s.startswith("md:") else nbformat.v4.new_code_cell(s)
                      for s in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if chapter:
        notebook.metadata["course"] = {"chapter": chapter, "edition": "student"}
    nbformat.write(notebook, path)


def _solution_cells() -> dict[str, str]:
    """The book's solution code and self-check cell of each coding exercise of the chapter."""
    return {e.label: (BOOK.cells[e.marked_cells[0]].source, BOOK.cells[e.check_cell].source) for e in CODING}


def _rows(csv_path: Path) -> dict[tuple[str, str], dict]:
    with csv_path.open(encoding="utf-8", newline="") as handle:
        return {(row["student"], row["exercise"]): row for row in csv.DictReader(handle)}


#: A cell that makes every function of the chapter print without ending its line, as a student's
#: debugging output may, and writes bytes that are not UTF-8 to the kernel's output and error.
NOISY = """import os
def _printing(function):
    def printing(*args):
        print("\\rworking...", end="")
        return function(*args)
    return printing
optimal_length, rayleigh_gradient, gdnp_step = map(_printing, (optimal_length, rayleigh_gradient, gdnp_step))
os.write(1, b"\\xff\\xfe not utf-8 \\x80")
os.write(2, b"\\xff")"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    solutions = _solution_cells()
    setup = "import numpy as np\nimport lib\nimport lib.exercises"
    _submission(folder / "good.ipynb", [setup] + [cell for pair in solutions.values() for cell in pair])
    _submission(folder / "noisy.ipynb", [setup] + [code for code, _ in solutions.values()] + [NOISY])
    wrong_gradient = ("def rayleigh_gradient(w, S, u):\n    uw, n2 = u @ w, w @ S @ w\n"
                      "    return (-uw / n2) * (u - (uw / n2) * (S @ w))")
    stub = 'def gdnp_step(w, S, u):\n    raise NotImplementedError("ex-ls-gdnp-step")'
    _submission(folder / "mixed.ipynb", [
        "md:# My answers", "raise RuntimeError('a cell that fails')", setup, solutions["ex-ls-optimal-length"][0],
        "md:The optimal length.", solutions["ex-ls-optimal-length"][1], "while True:\n    pass", wrong_gradient, stub,
        solutions["ex-ls-rayleigh-gradient"][1]], chapter=None)  # the chapter comes from the self-check calls
    # right but slow: grading takes longer than the cell time limit (4 s), and exit() ends only its case
    _submission(folder / "slow.ipynb", [setup, solutions["ex-ls-rayleigh-gradient"][0], solutions["ex-ls-gdnp-step"][0],
                                        "import sys, time\nfast = rayleigh_gradient\n"
                                        "def rayleigh_gradient(w, S, u):\n    time.sleep(0.7)\n    return fast(w, S, u)\n"
                                        "def optimal_length(w, S, u):\n    sys.exit('done')"])
    _submission(folder / "interrupts.ipynb", [setup, "def rayleigh_gradient(w, S, u):\n    raise KeyboardInterrupt"])
    _submission(folder / "nochapter.ipynb", ["md:# Homework", "x = 1"], chapter=None)
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
def test_printing_and_bytes_that_are_not_utf8_change_nothing(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    assert rows["noisy", "(notebook)"]["result"] == "pass", rows["noisy", "(notebook)"]["message"]
    for exercise in CODING:
        assert rows["noisy", exercise.label]["result"] == "pass", rows["noisy", exercise.label]["message"]


@pytest.mark.slow
def test_a_submission_that_raises_and_loops_is_still_graded(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    notebook = rows["mixed", "(notebook)"]
    assert notebook["result"] == "pass"  # it could be graded
    # the cells are counted among the code cells: the two markdown cells do not count
    assert ("errors in code cell 1 (RuntimeError), code cell 5 (CellTimeout), code cell 8 (ExerciseFailure) "
            "(code cells counted") in notebook["message"]
    assert "chapter 02-least-squares" in notebook["message"]
    assert rows["mixed", "ex-ls-optimal-length"]["result"] == "pass"
    wrong = rows["mixed", "ex-ls-rayleigh-gradient"]
    assert wrong["result"] == "fail" and "wrong on case 1 of" in wrong["message"]
    assert "expected:" in wrong["message"] and "returned:" in wrong["message"]
    stub = rows["mixed", "ex-ls-gdnp-step"]
    assert stub["result"] == "fail" and "not written yet" in stub["message"]


@pytest.mark.slow
def test_grading_has_its_own_time_limit_and_survives_exit(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    assert rows["slow", "(notebook)"]["result"] == "pass", rows["slow", "(notebook)"]["message"]
    assert rows["slow", "ex-ls-rayleigh-gradient"]["result"] == "pass"  # 7 cases of 0.7 s: longer than a cell may take
    exits = rows["slow", "ex-ls-optimal-length"]
    assert exits["result"] == "fail" and "it raised SystemExit: done" in exits["message"]
    assert rows["slow", "ex-ls-gdnp-step"]["result"] == "pass"  # graded after the exit


@pytest.mark.slow
def test_exercises_without_a_result_fail_the_notebook_row_by_name(graded):
    _, out = graded
    rows = _rows(out / "grades.csv")
    notebook = rows["interrupts", "(notebook)"]
    assert notebook["result"] == "fail"
    assert "the grading cell raised KeyboardInterrupt" in notebook["message"]
    assert notebook["message"].endswith("no result for ex-ls-rayleigh-gradient, ex-ls-gdnp-step")
    assert "optimal_length is not defined" in rows["interrupts", "ex-ls-optimal-length"]["message"]
    for label in ("ex-ls-rayleigh-gradient", "ex-ls-gdnp-step"):
        assert rows["interrupts", label] == {"student": "interrupts", "exercise": label, "result": "fail",
                                             "message": "not graded: see the (notebook) row"}


@pytest.mark.slow
def test_a_notebook_without_a_chapter_fails(graded):
    _, out = graded
    row = _rows(out / "grades.csv")["nochapter", "(notebook)"]
    assert row["result"] == "fail" and row["message"].startswith("no chapter found")


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
    assert f"| noisy | {len(CODING)} of {len(CODING)} |" in table
    assert f"| mixed | 1 of {len(CODING)} |" in table
    assert f"| slow | 2 of {len(CODING)} |" in table
    assert f"| interrupts | 0 of {len(CODING)} |" in table
    assert "| garbage | 0 of 0 |" in table and "| nochapter | 0 of 0 |" in table


@pytest.mark.slow
def test_existing_tables_are_not_overwritten_without_force(graded, capsys):
    folder, out = graded
    before = (out / "grades.csv").read_text()
    assert grade.main([str(folder), "--out", str(out)]) == 1
    assert "exist already" in capsys.readouterr().err
    assert (out / "grades.csv").read_text() == before


def _ended(pid: int, within: float) -> bool:
    """Whether the process ``pid`` ends within ``within`` seconds (a zombie has ended: only its reaping is left)."""
    deadline = time.time() + within
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.time() > deadline:
            return False
        time.sleep(0.2)


@pytest.mark.slow
def test_a_notebook_that_ignores_interrupts_is_stopped_with_its_kernel(tmp_path):
    pid_file = tmp_path / "kernel.pid"
    path = tmp_path / "stubborn.ipynb"
    _submission(path, [
        f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))",
        "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass"])
    rows = grade._grade_in_child(path, timeout=12.0, cell_timeout=60.0)  # returns: the endless loop was stopped
    assert [(r.exercise, r.passed) for r in rows] == [("(notebook)", False)] + [(e.label, False) for e in CODING]
    assert "did not finish within 12 s" in rows[0].message
    assert all(r.message == "not graded: the notebook did not finish in time" for r in rows[1:])
    assert _ended(int(pid_file.read_text()), within=10)


#: A cell that leaves a process behind: it forks, leaves the session, forks again, records its
#: pid and environment, then, once the grading child has ended, prints rows for another student
#: to the output it inherited, and sleeps.
DAEMON = """import json, os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        open({environment!r}, "w").write(json.dumps(dict(os.environ)))
        open({pid_file!r}, "w").write(str(os.getpid()))
        time.sleep(8)
        forged = [dict(student="other", exercise="(notebook)", passed=True, message="forged")]
        os.write(1, ("course.grade rows:" + json.dumps(forged) + "\\n").encode())
        time.sleep(60)
        open({pid_file!r} + ".slept", "w").write("the daemon outlived its sleep")
    os._exit(0)
"""


@pytest.mark.slow
def test_a_process_left_behind_neither_holds_up_grading_nor_forges_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "a variable of the lecturer's")
    environment, pid_file, path = tmp_path / "environment.json", tmp_path / "daemon.pid", tmp_path / "daemon.ipynb"
    _submission(path, ["import os", DAEMON.format(environment=str(environment), pid_file=str(pid_file))])
    rows = grade._grade_in_child(path, timeout=50.0, cell_timeout=30.0)
    # not held up until the daemon's sleep ends: it is stopped before it can write this file
    assert not Path(str(pid_file) + ".slept").exists()
    assert {r.student for r in rows} == {"daemon"}
    assert rows[0].exercise == "(notebook)" and rows[0].passed, rows[0].message
    assert len(rows) == 1 + len(CODING)
    assert _ended(int(pid_file.read_text()), within=10), "the process the submission left behind is still running"
    seen = json.loads(environment.read_text())
    assert "GRADER_SECRET" not in seen and "PATH" in seen and "COURSE_GRADE_RUN" in seen


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
            grade.Row("ann", "ex-b", True, "f: correct (5 cases)"), grade.Row("zoë|x", "ex-a", True, "φ: correct")]
    csv_path, md_path = grade.write_tables(rows, tmp_path)
    assert _rows(csv_path)["ann", "ex-a"]["message"] == "wrong | here\n  details"
    assert _rows(csv_path)["zoë|x", "ex-a"]["message"] == "φ: correct"
    table = md_path.read_text(encoding="utf-8")
    assert "| ann | ex-a | fail | wrong \\| here |" in table and "details" not in table
    assert "| ann | 1 of 2 |" in table
    assert "| zoë\\|x | ex-a | pass | φ: correct |" in table and "| zoë\\|x | 1 of 1 |" in table
    with pytest.raises(FileExistsError):
        grade.write_tables(rows, tmp_path)


@pytest.mark.parametrize("files", [[], ["notes.txt"], [".hidden.ipynb"]])
def test_a_folder_without_notebooks_is_an_error(tmp_path, capsys, files):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in files:
        (folder / name).write_text("not a submission")
    assert grade.main([str(folder)]) == 1
    assert f"error: no .ipynb files in {folder}" in capsys.readouterr().err
    assert not (tmp_path / "submissions-grades").exists()


@pytest.mark.slow
def test_the_tables_of_the_current_folder_go_next_to_it(tmp_path, monkeypatch):
    folder = tmp_path / "week1"
    folder.mkdir()
    _submission(folder / "ann.ipynb", ["x = 1"], chapter=None)  # no chapter: graded without a kernel
    monkeypatch.chdir(folder)
    assert grade.main(["."]) == 0
    assert (tmp_path / "week1-grades" / "grades.csv").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["ann.ipynb"]


@pytest.mark.slow
def test_the_tables_folder_inside_the_submissions_is_not_graded(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    _submission(folder / "ann.ipynb", ["x = 1"], chapter=None)
    for force in ([], ["--force"]):
        assert grade.main([str(folder), "--out", str(folder / "grades")] + force) == 0
    assert {student for student, _ in _rows(folder / "grades" / "grades.csv")} == {"ann"}


def test_rows_for_another_student_or_malformed_are_dropped(tmp_path):
    path = tmp_path / "rows.json"
    mine = {"student": "ann", "exercise": "(notebook)", "passed": True, "message": "ran"}
    path.write_text(json.dumps([mine, {**mine, "student": "bob"}, {**mine, "exercise": "ex-a", "passed": "yes"},
                                {**mine, "exercise": "ex-b", "extra": 1}, "a string"]))
    assert grade._read_rows(path, "ann") == [grade.Row(**mine)]
    assert grade._read_rows(path, "bob") == [grade.Row(**{**mine, "student": "bob"})]
    assert grade._read_rows(path, "carol") is None  # no (notebook) row: the grader failed
    path.write_bytes(b"\xff not json")
    assert grade._read_rows(path, "ann") is None
    assert grade._read_rows(tmp_path / "missing.json", "ann") is None


def test_the_child_gets_a_minimal_environment(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("LANG", "C.UTF-8")
    environment = grade._child_environment("token")
    assert "AWS_SECRET_ACCESS_KEY" not in environment and environment["LANG"] == "C.UTF-8"
    assert environment["COURSE_GRADE_RUN"] == "token" and environment["PATH"]
    assert set(environment) <= set(grade.KEPT_ENVIRONMENT) | {"COURSE_GRADE_RUN"}


def test_when_the_grader_fails_every_exercise_of_the_chapter_has_a_row(tmp_path, monkeypatch):
    path = tmp_path / "ann.ipynb"
    _submission(path, ["x = 1"])
    monkeypatch.setattr(grade, "ROOT", tmp_path)  # the child runs where course.grade cannot be imported
    rows = grade._grade_in_child(path, timeout=60.0, cell_timeout=10.0)
    assert rows[0].exercise == "(notebook)" and not rows[0].passed
    assert rows[0].message.startswith("the grader failed on this file (exit code 1)") and "course.grade" in rows[0].message
    assert [(r.exercise, r.passed, r.message) for r in rows[1:]] == [
        (e.label, False, "not graded: the grader failed on this file") for e in CODING]
