"""Submissions for the grading tests (tests/test_grade.py, tests/test_grade_stopping.py), and reading their tables.

The student edition of a chapter filled with the book's answers or others, saved where the
grading command finds it; a cell that leaves a process behind (``attack_cell``); the grading
command's tables read back; whether a process has ended. Not a test module.
"""

import csv
import time
from pathlib import Path

import nbformat
import psutil

from course import grade, sandbox, student, submissions
from course.exercise_cells import read_exercises
from course.gradebook import Row
from lib import exercises

ROOT = Path(__file__).resolve().parents[1]
BOOKS = {name: nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4) for name in ("02-least-squares", "03-halfspaces")}
CODING = {name: [e.label for e in read_exercises(book, name) if e.kind == "coding"] for name, book in BOOKS.items()}
LS = "02-least-squares"


def filled_edition(chapter: str, replace: dict | None = None, solve: bool = True, extra: list[str] = ()) -> nbformat.NotebookNode:
    """The student edition of ``chapter`` with the book's solutions in its stubs (or ``replace[label]``), and ``extra`` cells."""
    answers = student.book_answers(BOOKS[chapter], chapter) if solve else {}
    answers.update({label: [source] for label, source in (replace or {}).items()})
    notebook = student.with_answers(student.chapter_edition(BOOKS[chapter], chapter), answers)
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    return notebook


def save_submission(folder: Path, student_name: str, notebook, name: str = f"{LS}.ipynb") -> Path:
    (folder / student_name).mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / student_name / name)
    return folder / student_name / name


def read_rows(path: Path) -> dict:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(row["student"], row["notebook"], row["exercise"]): row for row in csv.DictReader(handle)}


def read_gradebook(path: Path) -> dict:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


#: A process left behind: it double-forks, leaves the session, re-executes Python with an empty
#: environment (so that nothing marks it as the grader's) and, for a minute, rewrites the outcomes
#: of every other notebook it can find next to its own folder, so that they score nothing.
DAEMON = r'''
import glob, json, os, sys, time
marker, runs, started = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    open(started, "w").write(str(os.getpid()))
except OSError:
    pass
forged = [{"exercise": label, "defined": False, "outcomes": []} for label in sys.argv[4:]]
mine = os.path.dirname(os.path.dirname(os.getcwd()))
deadline = time.time() + 60
while time.time() < deadline:
    for path in glob.glob(os.path.join(runs, "course-grade-*", "box", "outcomes.json")):
        if not path.startswith(mine):
            try:
                open(path, "w").write(json.dumps(forged))
            except OSError:
                pass
    time.sleep(0.05)
'''


def attack_cell(marker: str, started: Path) -> str:
    labels = CODING[LS]
    return (f"import os, sys\nDAEMON = {DAEMON!r}\nruns = os.path.dirname(os.path.dirname(os.path.dirname(os.getcwd())))\n"
            "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        os.execve(sys.executable, [sys.executable, '-c', DAEMON, {marker!r}, runs, {str(started)!r}, "
            f"*{labels!r}], {{}})\n    os._exit(0)\nimport time\ntime.sleep(1)")


def same_points(a, b, within: float = 0.01) -> bool:
    """Whether two amounts of points agree: the tables write points rounded to hundredths, and a sum of
    rounded points may differ from the rounded sum by about a hundredth (no exercise is worth less than 1)."""
    return abs(float(a) - float(b)) <= within


def process_ended(pid: int, within: float) -> bool:
    """Whether the process ``pid`` ends within ``within`` seconds (a zombie has ended)."""
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


def grade_one(path: Path, mode: str = "auto", **limits) -> list[Row]:
    return grade.grade_all([submissions.Submission(path.parent.name, path.name, path)], sandbox.detect(mode),
                           seed=exercises.DEFAULT_SEED, say=lambda line: None, **limits)
