"""nbgrader 0.9.6, for real: the instructor edition through generate_assignment, autograde and generate_feedback.

nbgrader is installed into an environment of its own (``.cache/nbgrader-env``, from
``course/nbgrader-requirements.txt``) by the test itself when it is missing; its kernel spec
``python3`` is the project's interpreter (:func:`course.nbgrader.install_kernel`). The test
grades three submissions of a problem set across two chapters (right, subtly wrong, untouched)
with nbgrader and with ``course.grade``, and the points of every coding exercise must agree.
``make test-nbgrader`` runs it (``make test`` includes it).
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course import nbgrader as course_nbgrader
from course import grade
from course.exercise_cells import read_exercises

pytestmark = pytest.mark.nbgrader

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1"
LABELS = ["ex-ls-rayleigh-gradient", "ex-hs-bisection", "ex-ls-critical-points"]
SEED = 4242
#: A bisection that misses the early return at an exact zero, and a gradient with |u.w| for u.w.
WRONG = {
    "ex-hs-bisection-code-1": "def bisect(derivative, a, b, steps):\n    if not a < b or steps < 0:\n"
                              "        raise ValueError('not a bracket')\n    if not derivative(a) < 0 < derivative(b):\n"
                              "        raise ValueError('no sign change')\n    for _ in range(steps):\n"
                              "        m = 0.5 * (a + b)\n        a, b = (m, b) if derivative(m) < 0 else (a, m)\n"
                              "    return 0.5 * (a + b)",
    "ex-ls-rayleigh-gradient-code-1": "def rayleigh_gradient(w, S, u):\n    uw, n2 = abs(u @ w), w @ S @ w\n"
                                      "    if not n2:\n        raise ValueError('w = 0')\n"
                                      "    return (-2 * uw / n2) * (u - (uw / n2) * (S @ w))",
}


def _book_solutions() -> dict[str, str]:
    """The book's code of each exercise's marked cells, by nbgrader's grade id."""
    found = {}
    for name in ("02-least-squares", "03-halfspaces"):
        book = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
        for exercise in read_exercises(book, name):
            for number, index in enumerate(exercise.marked_cells, start=1):
                found[f"{exercise.label}-code-{number}"] = book.cells[index].source
    return found


def _run(command: list[str], course: Path, environment: dict) -> str:
    done = subprocess.run(command, cwd=course, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def nbgrader_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("nbgrader")
    course, env_dir = work / "course", ROOT / ".cache" / "nbgrader-env"
    environment = {**os.environ, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
                   # nbgrader and Jupyter read nothing of the user's own folders
                   "JUPYTER_CONFIG_DIR": str(work / "jupyter-config"), "JUPYTER_DATA_DIR": str(work / "jupyter-data")}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
            patch.setenv(name, environment[name])
        assert course_nbgrader.main(["--course", str(course), "--assignment", ASSIGNMENT, "--exercises", ",".join(LABELS),
                                     "--seed", str(SEED), "--env", str(env_dir)]) == 0
    kernel = json.loads((env_dir / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
    _run(["nbgrader", "generate_assignment", ASSIGNMENT, "--force"], course, environment)
    release = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    solutions = {**_book_solutions(), "ex-ls-critical-points-answer": "The gradient vanishes where u.w = 0 or ..."}
    for student_name, code in (("right", solutions), ("subtle", {**solutions, **WRONG}), ("untouched", {})):
        notebook = nbformat.read(release, as_version=4)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in code:
                cell.source = code[grade_id]
        (course / "submitted" / student_name / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(notebook, course / "submitted" / student_name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    _run(["nbgrader", "autograde", ASSIGNMENT], course, environment)
    _run(["nbgrader", "generate_feedback", ASSIGNMENT], course, environment)
    _run(["nbgrader", "export"], course, environment)
    scores = subprocess.run([str(env_dir / "bin" / "python"), "-c", (
        "import json\nfrom nbgrader.api import Gradebook\nscores = {}\n"
        "with Gradebook('sqlite:///gradebook.db') as gb:\n"
        "    for student in ('right', 'subtle', 'untouched'):\n"
        f"        submission = gb.find_submission_notebook({ASSIGNMENT!r}, {ASSIGNMENT!r}, student)\n"
        "        scores[student] = {g.name: [g.score, g.max_score, g.needs_manual_grade] for g in submission.grades}\n"
        "print(json.dumps(scores))")], cwd=course, env=environment, capture_output=True, text=True, check=True)
    out = work / "course-grade"
    assert grade.main([str(course / "submitted"), "--assignment", ASSIGNMENT, "--seed", str(SEED), "--out", str(out)]) == 0
    return dict(course=course, release=release, kernel=kernel, nbgrader=json.loads(scores.stdout), out=out)


def test_the_kernel_of_nbgraders_environment_is_the_projects(nbgrader_run):
    assert nbgrader_run["kernel"]["argv"][0] == sys.executable


def test_the_release_has_no_solution_and_no_hidden_test(nbgrader_run):
    release = nbformat.read(nbgrader_run["release"], as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    assert "lib.exercises.points(" not in text and "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    for grade_id, code in _book_solutions().items():
        if grade_id.split("-code-")[0] in LABELS:
            body = code.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0].strip().splitlines()
            assert not [line for line in body if len(line.strip()) > 25 and line.strip() in text], grade_id
    assert "lib.exercises.check_bisect(bisect)" in text  # the self-checks stay


def test_nbgraders_points_equal_course_grades(nbgrader_run):
    with (nbgrader_run["out"] / "grades.csv").open(encoding="utf-8", newline="") as handle:
        ours = {(row["student"], row["exercise"]): row for row in csv.DictReader(handle)}
    compared = 0
    for student_name, grades in nbgrader_run["nbgrader"].items():
        for label in LABELS:
            if f"{label}-tests" not in grades:
                continue
            score, maximum, manual = grades[f"{label}-tests"]
            row = ours[student_name, label]
            assert not manual and maximum == pytest.approx(float(row["max_points"]))
            # both round the same count of cases to hundredths of a point
            assert score == pytest.approx(float(row["points"]), abs=1e-9), (student_name, label, row["message"])
            compared += 1
    assert compared == 6
    subtle = [grades for student_name, grades in nbgrader_run["nbgrader"].items() if student_name == "subtle"][0]
    assert all(0 < subtle[f"{label}-tests"][0] < subtle[f"{label}-tests"][1] for label in LABELS[:2])  # partial credit
    # a pencil answer is graded by hand; an answer cell left as it was handed out scores 0 at once
    assert nbgrader_run["nbgrader"]["right"]["ex-ls-critical-points-answer"][2]
    assert nbgrader_run["nbgrader"]["untouched"]["ex-ls-critical-points-answer"][:3] == [0.0, 4.0, False]


def test_nbgrader_writes_feedback_for_every_student(nbgrader_run):
    for student_name in ("right", "subtle", "untouched"):
        feedback = nbgrader_run["course"] / "feedback" / student_name / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert feedback.is_file() and "ex-hs-bisection" in feedback.read_text(encoding="utf-8")
    with (nbgrader_run["course"] / "grades.csv").open(encoding="utf-8", newline="") as handle:
        assert {row["student_id"] for row in csv.DictReader(handle)} == {"right", "subtle", "untouched"}


def test_every_chapter_goes_through_generate_assignment(nbgrader_run, tmp_path):
    course = tmp_path / "course"
    environment = {**os.environ, "PATH": f"{ROOT / '.cache' / 'nbgrader-env' / 'bin'}{os.pathsep}{os.environ['PATH']}",
                   "JUPYTER_CONFIG_DIR": str(tmp_path / "jc"), "JUPYTER_DATA_DIR": str(tmp_path / "jd")}
    with pytest.MonkeyPatch.context() as patch:
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
            patch.setenv(name, environment[name])
        assert course_nbgrader.main(["--course", str(course), "--env", str(ROOT / ".cache" / "nbgrader-env")]) == 0
    _run(["nbgrader", "generate_assignment", "chapters", "--force"], course, environment)
    released = sorted((course / "release" / "chapters").glob("*.ipynb"))
    assert [path.stem for path in released] == [path.stem for path in sorted((course / "source" / "chapters").glob("*.ipynb"))]
    assert len(released) == len(sorted((ROOT / "book").glob("0*.ipynb")))  # every chapter of the book
    for path in released:
        text = path.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text and "**Rubric**" not in text
