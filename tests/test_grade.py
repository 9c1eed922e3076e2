"""The grading command: points and feedback for honest submissions, and no way around them for the others.

The module fixture grades one folder of submissions the way a lecturer would (one folder per
student, two chapters for one of them), in the sandbox when bubblewrap works here: correct,
subtly wrong and unwritten notebooks, and the attacks the grading command must survive (a
process left behind that rewrites later results, a notebook that replaces the grading
functions, files that are not notebooks, a FIFO). Further tests grade problem sets and folders
laid out in other ways, and the pieces on their own; tests/test_grade_stopping.py grades without
the sandbox and stops what must be stopped.
"""

import csv
import json
import os
import re
import stat
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

from course import catalogue, flags, grade, sandbox, student, submissions
from course.gradebook import NOTEBOOK_ROW, Row, write
from lib import exercises

from grading_submissions import (BOOKS, CODING, LS, ROOT, attack_cell, filled_edition, read_gradebook, read_rows,
                                 same_points, save_submission)



#: Two subtle bugs: the gradient is wrong where u.w < 0 (a sign lost in |u.w|), and the optimal length
#: returns NaN for w = 0 instead of raising.
SUBTLE = {
    "ex-ls-rayleigh-gradient": "def rayleigh_gradient(w, S, u):\n    uw, n2 = abs(u @ w), w @ S @ w\n"
                               "    if not n2:\n        raise ValueError('w = 0')\n"
                               "    return (-2 * uw / n2) * (u - (uw / n2) * (S @ w))",
    "ex-ls-optimal-length": "def optimal_length(w, S, u):\n    with np.errstate(invalid='ignore'):\n"
                            "        return -float(u @ w) / float(np.sqrt(w @ S @ w))",
}


#: A notebook that replaces the grading functions: its forged outcomes claim values it never computed.
FORGER = """import json, lib.exercises
def forged(namespace, labels, seed, path):
    json.dump([{"exercise": label, "defined": True, "passed": True,
                "outcomes": [{"timed_out": False, "warning": None, "value": {"t": "str", "v": "forged"}}] * 30}
               for label in labels], open(path, "w"))
lib.exercises.record_outcomes = forged
lib.exercises.CodingExercise.judge = lambda *args, **kwargs: None"""

#: A notebook that computes the expected values with lib's reference: it gets the points, and is flagged.
REFERENCE_COPIER = """import json, lib.exercises
def copied(namespace, labels, seed, path):
    records = []
    for label in labels:
        exercise = lib.exercises.EXERCISES[label]
        outcomes = exercise.expected(exercise.graded_cases(seed))
        records.append({"exercise": label, "defined": True,
                        "outcomes": [lib.exercises.transport.encode(o) for o in outcomes]})
    json.dump(records, open(path, "w"))
lib.exercises.record_outcomes = copied"""

#: Every function prints without ending its line, and the kernel writes bytes that are not UTF-8.
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
def runs_folder(tmp_path_factory):
    """The temporary folder the grader's runs go to (TMPDIR), to check that nothing is left in it."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, runs_folder):
    folder = tmp_path_factory.mktemp("course") / "submitted"
    marker, started = f"course-attack-{uuid.uuid4().hex}", runs_folder.parent / "daemon-started"
    save_submission(folder, "alice", filled_edition(LS))
    save_submission(folder, "alice", filled_edition("03-halfspaces"), "03-halfspaces.ipynb")
    save_submission(folder, "bob", filled_edition(LS, SUBTLE))
    save_submission(folder, "carol", filled_edition(LS, solve=False))
    save_submission(folder, "dave", filled_edition(LS, {"ex-ls-rayleigh-gradient": "rayleigh_gradient = lib.rayleigh_gradient"}))
    save_submission(folder, "eve", filled_edition(LS, solve=False, extra=[FORGER]))
    save_submission(folder, "frank", filled_edition(LS, solve=False, extra=[REFERENCE_COPIER]))
    save_submission(folder, "mallory", filled_edition(LS, extra=[attack_cell(marker, started)]))
    save_submission(folder, "noisy", filled_edition(LS, extra=[NOISY]))
    save_submission(folder, "zed", filled_edition(LS))  # graded after mallory
    save_submission(folder, "key", student.chapter_edition(BOOKS[LS], LS, "instructor"))  # the answer key: a dry run
    (folder / "garbage").mkdir()
    (folder / "garbage" / f"{LS}.ipynb").write_text("{ this is not json")
    (folder / "garbage" / "notes.txt").write_text("not a notebook: left out")
    (folder / "pipe").mkdir()
    os.mkfifo(folder / "pipe" / "a.ipynb")  # reading it would block for ever
    (folder / "linked").mkdir()
    (folder / "linked" / f"{LS}.ipynb").symlink_to(folder / "alice" / f"{LS}.ipynb")
    (folder / ".hidden").mkdir()
    out = folder.parent / "grades"
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(runs_folder)
    import tempfile

    tempfile.tempdir = None  # read TMPDIR again
    try:
        # two at once in the sandbox; without one, a process left behind could reach a notebook graded at the same time
        jobs = "2" if sandbox.detect("auto").isolated else "1"
        status = grade.main([str(folder), "--out", str(out), "--jobs", jobs, "--timeout", "300", "--cell-timeout", "60"])
    finally:
        if previous is None:
            os.environ.pop("TMPDIR")
        else:
            os.environ["TMPDIR"] = previous
        tempfile.tempdir = None
    assert status == 0
    return dict(folder=folder, out=out, marker=marker, started=started,
                rows=read_rows(out / "grades.csv"), book=read_gradebook(out / "gradebook.csv"))


def _full_marks(graded, student_name: str, chapter: str = LS) -> bool:
    """Whether every coding exercise of ``chapter`` earned ``student_name`` its points."""
    rows = [graded["rows"][student_name, f"{chapter}.ipynb", label] for label in CODING[chapter]]
    return all(same_points(row["points"], row["max_points"]) for row in rows)


@pytest.mark.slow
def test_correct_submissions_get_every_point_in_two_chapters(graded):
    book = graded["book"]
    for label in CODING[LS] + CODING["03-halfspaces"]:
        notebook = f"{exercises.EXERCISES[label].chapter}.ipynb"
        row = graded["rows"]["alice", notebook, label]
        assert row["status"] == "correct", row["message"]
        assert same_points(book["alice"][label], row["max_points"])
        assert int(row["cases_passed"]) == int(row["cases_total"]) > len(exercises.EXERCISES[label].cases)
    assert same_points(book["alice"]["autograded"], book["alice"]["autograded_max"])
    assert _full_marks(graded, "key")  # the instructor edition, graded as a submission
    assert graded["rows"]["alice", f"{LS}.ipynb", NOTEBOOK_ROW]["status"] == "ran"
    # the chapters' cells that the exercises do not need were not run
    assert re.search(r"1[0-9] cells tagged skip-grading not run", graded["rows"]["alice", f"{LS}.ipynb", NOTEBOOK_ROW]["message"])


@pytest.mark.slow
def test_subtle_bugs_get_partial_credit_and_feedback_names_the_case(graded):
    rows = graded["rows"]
    for label in SUBTLE:
        row = rows["bob", f"{LS}.ipynb", label]
        assert row["status"] == "partial" and 0 < float(row["points"]) < float(row["max_points"]), row["message"]
        share = int(row["cases_passed"]) / int(row["cases_total"])
        assert same_points(row["points"], share * float(row["max_points"]), within=0.005)  # one rounding
    assert rows["bob", f"{LS}.ipynb", "ex-ls-gdnp-step"]["status"] == "correct"
    feedback = (graded["out"] / "feedback" / "bob.md").read_text(encoding="utf-8")
    assert "### ex-ls-optimal-length: partial" in feedback and "must raise ValueError" in feedback
    assert "expected:" in feedback and "returned:" in feedback


@pytest.mark.slow
def test_stubs_score_nothing_and_say_not_written(graded):
    for label in CODING[LS]:
        row = graded["rows"]["carol", f"{LS}.ipynb", label]
        assert row["status"] == "not written" and same_points(row["points"], 0)
    assert same_points(graded["book"]["carol"]["autograded"], 0)


@pytest.mark.slow
def test_delegating_to_lib_is_flagged_for_the_lecturer_not_for_the_student(graded):
    row = graded["rows"]["dave", f"{LS}.ipynb", "ex-ls-rayleigh-gradient"]
    assert row["status"] == "correct" and "rayleigh_gradient uses rayleigh_gradient" in row["flags"]
    assert "ex-ls-rayleigh-gradient: rayleigh_gradient uses" in graded["book"]["dave"]["flags"]
    assert "uses" not in (graded["out"] / "feedback" / "dave.md").read_text(encoding="utf-8")
    assert not graded["book"]["alice"]["flags"]


@pytest.mark.slow
def test_replacing_the_grading_functions_forges_nothing(graded):
    for label in CODING[LS]:
        assert same_points(graded["rows"]["eve", f"{LS}.ipynb", label]["points"], 0)
    flagged = graded["rows"]["eve", f"{LS}.ipynb", NOTEBOOK_ROW]["flags"]
    assert "changes lib.exercises.record_outcomes" in flagged and "changes lib.exercises.CodingExercise.judge" in flagged


@pytest.mark.slow
def test_copying_the_references_values_gets_points_and_is_flagged(graded):
    """The limit of grading by values: the notebook computed the right values with lib's reference. Flagged."""
    assert _full_marks(graded, "frank")
    assert "changes lib.exercises.record_outcomes" in graded["book"]["frank"]["flags"]


@pytest.mark.slow
def test_a_process_left_behind_dies_with_its_grading_and_changes_no_later_result(graded):
    assert not [p for p in psutil.process_iter(["cmdline"]) if graded["marker"] in " ".join(p.info["cmdline"] or [])]
    assert _full_marks(graded, "zed") and _full_marks(graded, "mallory")
    if graded["book"]["zed"]["sandbox"].startswith("bubblewrap"):
        assert not graded["started"].exists()  # the sandbox let it write nothing outside its folder


@pytest.mark.slow
def test_printing_and_bytes_that_are_not_utf8_change_nothing(graded):
    assert _full_marks(graded, "noisy")


@pytest.mark.slow
def test_files_that_are_not_notebooks_are_refused_with_a_row(graded):
    rows = graded["rows"]
    assert rows["garbage", f"{LS}.ipynb", NOTEBOOK_ROW]["message"].startswith("not a notebook: JSONDecodeError")
    assert rows["pipe", "a.ipynb", NOTEBOOK_ROW]["message"] == "refused: a.ipynb is a FIFO (named pipe), not a notebook file"
    assert rows["linked", f"{LS}.ipynb", NOTEBOOK_ROW]["message"].startswith("refused: 02-least-squares.ipynb is a symbolic link")
    for student_name in ("garbage", "pipe", "linked"):
        assert same_points(graded["book"][student_name]["autograded"], 0)
    assert not [key for key in rows if key[0].startswith(".") or key[1] == "notes.txt"]


@pytest.mark.slow
def test_the_gradebook_has_a_row_per_student_and_a_column_per_exercise(graded):
    with (graded["out"] / "gradebook.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    header = table[0]
    coding = CODING[LS] + CODING["03-halfspaces"]
    assert header[:len(coding) + 3] == ["student", *coding, "autograded", "autograded_max"]
    assert header[-2:] == ["sandbox", "flags"] and "ex-ls-critical-points" in header  # a column to fill in by hand
    assert [line[0] for line in table[1:]] == ["alice", "bob", "carol", "dave", "eve", "frank", "garbage", "key",
                                               "linked", "mallory", "noisy", "pipe", "zed"]
    for line in table[1:]:
        values = dict(zip(header, line))
        points = [float(values[label]) for label in coding]
        assert same_points(values["autograded"], sum(points))
        assert all("\n" not in cell for cell in line)
    # the assignment is both chapters: a student without the second one has its points to earn still
    assert same_points(graded["book"]["bob"]["autograded_max"],
                        sum(float(graded["rows"]["alice", f"{exercises.EXERCISES[l].chapter}.ipynb", l]["max_points"]) for l in coding))
    assert same_points(graded["book"]["alice"]["autograded"], graded["book"]["bob"]["autograded_max"])


@pytest.mark.slow
def test_the_sandbox_is_said_in_the_gradebook_and_summary(graded):
    used = {row["sandbox"] for row in graded["book"].values()}
    assert len(used) == 1 and used.pop().split(":")[0] in ("bubblewrap", "none")
    assert "Sandbox: " in (graded["out"] / "grades.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_temporary_file_is_removed(graded, runs_folder):
    assert list(runs_folder.iterdir()) == []


@pytest.mark.slow
def test_existing_tables_are_not_overwritten_without_force(graded, capsys):
    before = (graded["out"] / "gradebook.csv").read_text()
    assert grade.main([str(graded["folder"]), "--out", str(graded["out"])]) == 1
    assert "exist already" in capsys.readouterr().err
    assert (graded["out"] / "gradebook.csv").read_text() == before


def _locked(folder: Path) -> int:
    """A descriptor that holds the lock of a run's folder, as its grading command holds it."""
    import fcntl

    descriptor = os.open(folder / grade.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def test_only_the_folders_of_killed_gradings_are_removed(tmp_path):
    """A run's folder is stale when nothing holds its lock; a running grading's, and what is not a run's, stay."""
    stale, running, foreign = (tmp_path / f"{grade.RUN_PREFIX}{name}" for name in ("stale", "running", "foreign"))
    for path in (stale, running, foreign):
        (path / "box").mkdir(parents=True)
        (path / "box" / "kernel-1.json").write_text('{"key": "secret"}')
    os.close(_locked(stale))  # its grading ended without removing it
    held = _locked(running)
    (tmp_path / f"{grade.RUN_PREFIX}link").symlink_to(stale)
    try:
        assert grade.remove_stale_runs(tmp_path) == [stale]
        assert running.exists() and foreign.exists() and not stale.exists()
    finally:
        os.close(held)
    assert grade.remove_stale_runs(tmp_path) == [running]  # its lock is free now


@pytest.mark.slow
def test_a_flat_folder_makes_every_file_a_student(tmp_path, capsys):
    folder = tmp_path / "flat"
    folder.mkdir()
    nbformat.write(filled_edition(LS), folder / "alice-02.ipynb")
    nbformat.write(filled_edition(LS, solve=False), folder / "alice-03.ipynb")
    assert grade.main([str(folder)]) == 0
    assert "flat (SUBMISSIONS/<name>.ipynb: every file is a student of its own" in capsys.readouterr().out
    assert set(read_gradebook(tmp_path / "flat-grades" / "gradebook.csv")) == {"alice-02", "alice-03"}


@pytest.mark.slow
def test_nbgraders_submitted_folder_is_read_with_the_assignment(tmp_path):
    folder = tmp_path / "submitted"
    (folder / "ann" / "week-1").mkdir(parents=True)
    nbformat.write(filled_edition(LS), folder / "ann" / "week-1" / f"{LS}.ipynb")
    (folder / "ben").mkdir()
    assert grade.main([str(folder), "--assignment", "week-1", "--out", str(tmp_path / "grades")]) == 0
    rows = read_rows(tmp_path / "grades" / "grades.csv")
    assert rows["ann", f"{LS}.ipynb", NOTEBOOK_ROW]["status"] == "ran"
    assert rows["ben", "(none)", NOTEBOOK_ROW]["message"] == "no folder week-1 in ben/ (the assignment)"


@pytest.mark.slow
def test_a_problem_set_file_sets_the_exercises_and_their_points(tmp_path):
    set_file = tmp_path / "set.yml"
    set_file.write_text("name: quiz\nexercises:\n  - label: ex-ls-rayleigh-gradient\n    points: 10\n  - ex-hs-bisection\n"
                        "  - ex-ls-critical-points\n")
    chosen = catalogue.read_problem_set(set_file)
    chapters = {name: BOOKS[name] for name in BOOKS}
    answers = {**student.book_answers(BOOKS[LS], LS), **student.book_answers(BOOKS["03-halfspaces"], "03-halfspaces")}
    notebook = student.with_answers(student.problem_set_edition(chosen, chapters), answers)
    notebook.metadata["course"]["exercises"][0]["points"] = 1000  # a student's edit of the metadata changes nothing
    save_submission(tmp_path / "submitted", "ann", notebook, "quiz.ipynb")
    assert grade.main([str(tmp_path / "submitted"), "--problem-set", str(set_file)]) == 0
    book = read_gradebook(tmp_path / "submitted-grades" / "gradebook.csv")
    assert same_points(book["ann"]["ex-ls-rayleigh-gradient"], 10)
    assert same_points(book["ann"]["autograded_max"], 14) and book["ann"]["ex-ls-critical-points"] == ""


@pytest.mark.slow
def test_several_problem_sets_go_into_one_gradebook_each_with_its_points(tmp_path):
    """Two weeks' problem sets with points of their own: each notebook is graded on the set whose name it records."""
    files, notebooks = [], {}
    answers = {**student.book_answers(BOOKS[LS], LS), **student.book_answers(BOOKS["03-halfspaces"], "03-halfspaces")}
    for name, text in (("week-1", "  - label: ex-ls-rayleigh-gradient\n    points: 10\n"),
                       ("week-2", "  - ex-ls-gdnp-step\n  - label: ex-hs-step-size\n    points: 7\n")):
        files.append(tmp_path / f"{name}.yml")
        files[-1].write_text(f"name: {name}\nexercises:\n{text}")
        edition = student.problem_set_edition(catalogue.read_problem_set(files[-1]), BOOKS)
        notebooks[name] = student.with_answers(edition, answers)
        save_submission(tmp_path / "submitted", "ann", notebooks[name], f"{name}.ipynb")
    arguments = [str(tmp_path / "submitted")] + [a for path in files for a in ("--problem-set", str(path))]
    assert grade.main(arguments) == 0
    book = read_gradebook(tmp_path / "submitted-grades" / "gradebook.csv")
    expected = {"ex-ls-rayleigh-gradient": 10, "ex-ls-gdnp-step": exercises_points("ex-ls-gdnp-step"), "ex-hs-step-size": 7}
    assert all(same_points(book["ann"][label], points) for label, points in expected.items())
    assert same_points(book["ann"]["autograded_max"], sum(expected.values()))
    # without the files: graded with course/rubrics.yml's points, and flagged; with the other file only: refused
    path = tmp_path / "submitted" / "ann" / "week-2.ipynb"
    plan = grade.plan_submission(submissions.Submission("ann", path.name, path))
    assert plan.points["ex-hs-step-size"] == exercises_points("ex-hs-step-size") != 7
    assert "ex-hs-step-size: 7 instead of" in plan.flags[NOTEBOOK_ROW]
    week_3 = catalogue.problem_set(["ex-hs-bisection"], "week-3")
    plan = grade.plan_submission(submissions.Submission("ann", path.name, path),
                                 [catalogue.read_problem_set(files[0]), week_3])
    assert plan.problem.startswith("no problem set of the files given") and "'week-2'" in plan.problem


def exercises_points(label: str) -> float:
    """The points of ``label`` in course/rubrics.yml."""
    return catalogue.entries()[label].points


# --------------------------------------------------------------------------- the pieces
def test_submissions_are_found_in_student_folders_and_special_files_refused(tmp_path):
    folder = tmp_path / "submitted"
    (folder / "ann").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "ann" / "b.ipynb")
    nbformat.write(nbformat.v4.new_notebook(), folder / "ann" / "a.ipynb")
    (folder / "ann" / "data.csv").write_text("1,2")
    (folder / "ann" / "link.ipynb").symlink_to(folder / "ann" / "a.ipynb")
    os.mkfifo(folder / "ann" / "pipe.ipynb")
    (folder / "bea").mkdir()
    (folder / "loose.ipynb").write_text("{}")
    found, layout = submissions.find_submissions(folder)
    assert layout == "folders"
    assert [(s.student, s.notebook, s.refused is None) for s in found] == [
        ("ann", "a.ipynb", True), ("ann", "b.ipynb", True), ("ann", "link.ipynb", False), ("ann", "pipe.ipynb", False),
        ("bea", "(none)", False), ("loose", "loose.ipynb", False)]
    assert "not in a student's folder" in found[-1].refused and "symbolic link" in found[2].refused


def test_a_device_and_an_oversized_notebook_get_rows_that_say_so(tmp_path, capsys):
    """Refused before anything runs: a character device named like a notebook, and a notebook over --max-size."""
    folder = tmp_path / "submitted"
    save_submission(folder, "big", filled_edition(LS))  # the student edition with answers: some 50 kB
    (folder / "device").mkdir()
    try:
        os.mknod(folder / "device" / f"{LS}.ipynb", 0o644 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device file needs root")
    assert grade.main([str(folder), "--max-size", "0.01", "--sandbox", "none"]) == 0  # 10 kB
    rows = read_rows(tmp_path / "submitted-grades" / "grades.csv")
    big, device = rows["big", f"{LS}.ipynb", NOTEBOOK_ROW], rows["device", f"{LS}.ipynb", NOTEBOOK_ROW]
    assert big["status"] == "refused" and re.fullmatch(rf"refused: {LS}.ipynb has \d+ bytes, more than the limit of 10000",
                                                       big["message"])
    assert device["status"] == "refused" and device["message"] == f"refused: {LS}.ipynb is a character device, not a notebook file"
    book = read_gradebook(tmp_path / "submitted-grades" / "gradebook.csv")
    assert same_points(book["big"]["autograded"], 0) and same_points(book["device"]["autograded"], 0)
    assert "graded big/" in capsys.readouterr().out


def test_reading_refuses_what_is_not_a_regular_small_notebook(tmp_path):
    good = tmp_path / "good.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), good)
    assert submissions.read_notebook(good)[1] is None
    assert "more than the limit of 10" in submissions.read_notebook(good, max_bytes=10)[1]
    os.mkfifo(tmp_path / "pipe.ipynb")
    found = []
    # opened without blocking and refused; a reader that blocked would never return (nobody writes to the pipe),
    # so the read runs in a thread that must have ended, rather than hang the test suite
    reader = threading.Thread(target=lambda: found.append(submissions.read_notebook(tmp_path / "pipe.ipynb")), daemon=True)
    reader.start()
    reader.join(60)
    assert not reader.is_alive() and found[0][1].endswith("is a FIFO (named pipe), not a notebook file")
    (tmp_path / "link.ipynb").symlink_to(good)
    assert "is a symbolic link" in submissions.read_notebook(tmp_path / "link.ipynb")[1]
    for content, complaint in ((b"\xff\xfe", "UnicodeDecodeError"), (b"[]", "expected a JSON object"),
                               (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "metadata": {}}]}',
                                "without its source")):
        (tmp_path / "bad.ipynb").write_bytes(content)
        assert complaint in submissions.read_notebook(tmp_path / "bad.ipynb")[1]


def test_a_folder_without_notebooks_is_an_error(tmp_path, capsys):
    folder = tmp_path / "submissions"
    (folder / "ann").mkdir(parents=True)
    (folder / "notes.txt").write_text("not a submission")
    assert grade.main([str(folder)]) == 1
    assert f"error: no .ipynb files in {folder}" in capsys.readouterr().err
    assert not (tmp_path / "submissions-grades").exists()


@pytest.mark.parametrize("source, found", [
    ("rayleigh_gradient = lib.rayleigh_gradient", "uses rayleigh_gradient"),
    ("from lib.rayleigh import rayleigh_gradient as rg\ndef rayleigh_gradient(w, S, u):\n    return rg(w, S, u)", "uses rg"),
    ("g = lib.rayleigh\nh = g.rayleigh_gradient\ndef rayleigh_gradient(w, S, u):\n    return h(w, S, u)", "uses h"),
    ("def rayleigh_gradient(w, S, u):\n    return lib.LeastSquares(S, u).rho_grad(w)", "uses rho_grad"),
    ("%matplotlib inline\ndef rayleigh_gradient(w, S, u):\n    return lib.rayleigh_gradient(w, S, u) * 1", "uses rayleigh_gradient"),
    ("def rayleigh_gradient(w, S, u):\n    return getattr(lib, 'rayleigh_gradient')(w, S, u)", "uses rayleigh_gradient"),
    ("f = vars(lib)['rayleigh_gradient']\ndef rayleigh_gradient(w, S, u):\n    return f(w, S, u)", "uses f"),
    ("def rayleigh_gradient(w, S, u):\n    return -2 * (u @ w) * u", None),
    ("def rayleigh_gradient(w, S, u):\n    raise ValueError('rayleigh_gradient: w = 0')", None),
    ("gradient = lib.rayleigh_gradient(w0, S, u)  # used elsewhere, not in the function", None),
])
def test_delegation_is_found_in_the_functions_definition(source, found):
    exercise = exercises.EXERCISES["ex-ls-rayleigh-gradient"]
    flagged = flags.delegation(flags.parse_cells(["import lib", source]), exercise.function_name, exercise.delegates)
    assert (found in flagged[0]) if found else flagged == []


@pytest.mark.parametrize("source, found", [
    ("import lib.exercises as ex\nex.record_outcomes = print", "changes ex.record_outcomes"),
    ("setattr(lib.exercises, 'record_outcomes', print)", "calls setattr on lib.exercises"),
    ("del lib.exercises.EXERCISES['ex-a']", "changes lib.exercises.EXERCISES['ex-a']"),
    ("import sys\nsys.modules['lib.exercises'] = None", "touches sys.modules"),
    ("exec('x = 1')", "runs code built at run time (exec)"),
    ("f = getattr(lib, 'rayleigh' + '_gradient')", "reads an attribute by a computed name"),
    ("n = len(lib.exercises.EXERCISES)", "reads lib.exercises.EXERCISES"),
    ("f = vars(lib)['rayleigh_gradient']", "reads the namespace of lib (vars)"),
    ("import lib.rayleigh as r\nf = r.__dict__['rayleigh_gradient']", "reads r.__dict__"),
])
def test_tampering_is_flagged(source, found):
    assert any(found in flag for flag in flags.tampering(flags.parse_cells(["import lib", source])))


def test_the_child_gets_a_minimal_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    environment = sandbox.child_environment(tmp_path)
    assert "AWS_SECRET_ACCESS_KEY" not in environment and environment["HOME"].startswith(str(tmp_path))
    assert environment["JUPYTER_RUNTIME_DIR"].startswith(str(tmp_path)) and environment["TMPDIR"] == str(tmp_path)


def test_without_bubblewrap_grading_falls_back_visibly_or_refuses(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    fallback = sandbox.detect("auto")
    assert not fallback.isolated and fallback.describe() == "none: bubblewrap is not installed (apt-get install bubblewrap)"
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.detect("bubblewrap")
    with pytest.raises(ValueError):
        sandbox.detect("docker")


def _bubblewrap():
    found = sandbox.detect("auto")
    if not found.isolated:
        pytest.skip(f"bubblewrap does not work on this machine ({found.note}); the fallback is tested without it")
    return found


@pytest.mark.slow
def test_the_sandbox_hides_the_lecturers_files_and_the_network(tmp_path):
    box = _bubblewrap()
    secret = tmp_path / "secret.txt"
    secret.write_text("the lecturer's")
    probe = ("import json, os, socket, lib.exercises\nseen = {'secret': os.path.exists(%r), 'project': os.path.exists(%r)}\n"
             "try:\n    open(%r, 'w').write('x'); seen['wrote'] = True\nexcept OSError:\n    seen['wrote'] = False\n"
             "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=2); seen['net'] = True\n"
             "except OSError:\n    seen['net'] = False\nseen['pid'] = os.getpid()\nprint(json.dumps(seen))") % (
                 str(secret), str(ROOT / "README.md"), str(tmp_path / "written"))
    folder = tmp_path / "box"
    sandbox.prepare_box(folder)
    command, environment, cwd = box.command([sys.executable, "-c", probe], folder)
    seen = json.loads(subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True, check=True).stdout)
    # lib imports, but the rest of the project (where a lecturer may keep the submissions) is out of sight
    assert seen == {"secret": False, "project": False, "wrote": False, "net": False, "pid": seen["pid"]}
    assert seen["pid"] < 10  # in a PID namespace of its own
    assert not (tmp_path / "written").exists()


def test_the_tables_keep_full_messages_in_the_long_table_and_one_line_elsewhere(tmp_path):
    rows = [Row("ann", "a.ipynb", NOTEBOOK_ROW, "ran", message="ran"),
            Row("ann", "a.ipynb", "ex-ls-rayleigh-gradient", "partial", 1.5, 4.0, 3, 8, "", "wrong | here\n  details"),
            Row("zoë|x", "a.ipynb", "ex-ls-rayleigh-gradient", "correct", 4.0, 4.0, 8, 8, "x uses y\nz", "φ: correct"),
            Row("zoë|x", "a.ipynb", "ex-ls-critical-points", "by hand", None, 4.0),
            Row("cy", "b.ipynb", "ex-hs-bisection", "correct", 4.0, 4.0, 8, 8)]
    written = write(rows, tmp_path, sandbox="none: test", notes=["a note"])
    long = read_rows(tmp_path / "grades.csv")
    assert long["ann", "a.ipynb", "ex-ls-rayleigh-gradient"]["message"] == "wrong | here\n  details"
    book = read_gradebook(tmp_path / "gradebook.csv")
    assert book["ann"]["ex-ls-rayleigh-gradient"] == "1.5" and book["ann"]["autograded_max"] == "8"
    assert book["zoë|x"]["flags"] == "ex-ls-rayleigh-gradient: x uses y z" and book["zoë|x"]["ex-ls-critical-points"] == ""
    table = (tmp_path / "grades.md").read_text(encoding="utf-8")
    assert "| ann | a.ipynb | ex-ls-rayleigh-gradient | partial | 1.5 | wrong \\| here |" in table and "details" not in table
    assert "| zoë\\|x | 4 | 0 | 4 | 8 |" in table
    feedback = (tmp_path / "feedback" / "ann.md").read_text(encoding="utf-8")
    assert "1.5 of 4" in feedback and "wrong | here\n  details" in feedback
    assert "x uses y" not in (tmp_path / "feedback" / "zoë|x.md").read_text(encoding="utf-8")
    # a column of the gradebook no notebook of the student's was graded on is 0 there, and said in the feedback
    assert book["cy"]["ex-ls-rayleigh-gradient"] == "0" and book["cy"]["autograded_max"] == "8"
    assert "No notebook of yours was graded on ex-ls-rayleigh-gradient: 0 points" in (
        tmp_path / "feedback" / "cy.md").read_text(encoding="utf-8")
    assert "No notebook of yours was graded on ex-hs-bisection:" in feedback
    assert len(written) == 6
    with pytest.raises(FileExistsError):
        write(rows, tmp_path, sandbox="none", notes=[])
