"""Grading speed: 20 submissions of chapter 3, one or two at a time, in the sandbox and without it.

Run with ``.venv/bin/python benchmarks/grading.py [--submissions 20] [--repeats 3]``. The
submissions are the student edition of chapter 3 with the book's answers (half of them), with
a bisection that misses its early return (a quarter) or untouched (a quarter), one folder per
student, graded by :func:`course.grade.grade_all` as ``make grade`` does. Each configuration
runs ``--repeats`` times, alternating; the table gives medians (and the spread, min-max):

* floor: one notebook's child alone (Python, nbclient and a kernel that runs one empty cell),
  per notebook, in the sandbox: what no grading of a notebook can go below;
* jobs 1 / jobs 2, in bubblewrap and without a sandbox: the whole folder;
* whole chapter: the same notebooks with every cell run (the tags ``skip-grading`` removed), as
  grading did before they existed, on two notebooks only (it takes a minute each) and given per
  notebook.

The target of the course kit: 20 submissions in under 3 minutes on 2 cores. The children run
numerical libraries on one thread each (course.sandbox.child_environment); this process's BLAS
is held to one thread too (it computes the references once).
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course import grade, sandbox, student  # noqa: E402
from course.exercise_cells import SKIP_TAG  # noqa: E402
from course.submissions import find_submissions  # noqa: E402
from lib.exercises import DEFAULT_SEED  # noqa: E402

CHAPTER = "03-halfspaces"
#: A bisection without the early return at an exact zero: wrong on two cases of the sixteen.
BUGGY_BISECT = ("def bisect(derivative, a, b, steps):\n    if not a < b or steps < 0:\n        raise ValueError('bracket')\n"
                "    if not derivative(a) < 0 < derivative(b):\n        raise ValueError('no sign change')\n"
                "    for _ in range(steps):\n        m = 0.5 * (a + b)\n"
                "        a, b = (m, b) if derivative(m) < 0 else (a, m)\n    return 0.5 * (a + b)")


def make_submissions(folder: Path, count: int, whole_chapter: bool = False) -> None:
    """``count`` students' notebooks of chapter 3 in ``folder/<student>/``: right, buggy and untouched."""
    book = nbformat.read(ROOT / "book" / f"{CHAPTER}.ipynb", as_version=4)
    edition = student.chapter_edition(book, CHAPTER)
    answers = student.book_answers(book, CHAPTER)
    kinds = {"right": student.with_answers(edition, answers),
             "buggy": student.with_answers(edition, {**answers, "ex-hs-bisection": [BUGGY_BISECT]}),
             "untouched": edition}
    for number in range(count):
        kind = "right" if number % 2 == 0 else ("buggy" if number % 4 == 1 else "untouched")
        notebook = kinds[kind]
        if whole_chapter:
            notebook = copy.deepcopy(notebook)
            for cell in notebook.cells:
                cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != SKIP_TAG]
        (folder / f"student-{number:02d}").mkdir(parents=True)
        nbformat.write(notebook, folder / f"student-{number:02d}" / f"{CHAPTER}.ipynb")


def grade_folder(folder: Path, box: sandbox.Sandbox, jobs: int) -> tuple[float, list]:
    """Seconds to grade the folder, and its rows."""
    found, _ = find_submissions(folder)
    started = time.perf_counter()
    rows = grade.grade_all(found, box, seed=DEFAULT_SEED, jobs=jobs, say=lambda line: None)
    return time.perf_counter() - started, rows


def floor(box: sandbox.Sandbox, repeats: int) -> list[float]:
    """Seconds of one child that runs a notebook of one empty cell, ``repeats`` times."""
    import json

    seconds = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="course-benchmark-") as folder:
            root = Path(folder)
            sandbox.prepare_box(root)
            nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]), root / "submission.ipynb")
            (root / "job.json").write_text(json.dumps({"labels": [], "seed": 0, "cell_timeout": 60,
                                                       "grading_timeout": 60}))
            command, environment, cwd = box.command([sys.executable, "-m", "course.runner", str(box.inside(root))], root)
            started = time.perf_counter()
            subprocess.run(command, env=environment, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=True)
            seconds.append(time.perf_counter() - started)
    return seconds


def _load(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in averages)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f}   ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bubblewrap, none = sandbox.detect("auto"), sandbox.detect("none")
    configurations = [(f"jobs 1, {bubblewrap.kind}", bubblewrap, 1), (f"jobs 2, {bubblewrap.kind}", bubblewrap, 2),
                      ("jobs 2, no sandbox", none, 2)]
    load_before = os.getloadavg()
    with threadpool_limits(1), tempfile.TemporaryDirectory(prefix="course-benchmark-") as folder:
        root = Path(folder)
        make_submissions(root / "chapter", args.submissions)
        make_submissions(root / "whole", 2, whole_chapter=True)
        floors = floor(bubblewrap, args.repeats)
        totals: dict[str, list[float]] = {name: [] for name, _, _ in configurations}
        points = None
        for _ in range(args.repeats):
            for name, box, jobs in configurations:
                seconds, rows = grade_folder(root / "chapter", box, jobs)
                totals[name].append(seconds)
                earned = sorted(round(sum(r.points for r in rows if r.student == s and r.points is not None), 2)
                                for s in {r.student for r in rows})
                assert points in (None, earned), "the grades changed between runs"
                points = earned
        whole = [grade_folder(root / "whole", bubblewrap, 1)[0] / 2 for _ in range(max(1, args.repeats // 3))]
    per_floor = statistics.median(floors)
    print(f"grading {args.submissions} submissions of chapter {CHAPTER} on this machine; sandbox: {bubblewrap.describe()}")
    print(f"medians of {args.repeats} runs (min-max); points per student: {points}")
    print(f"load average (1, 5, 15 min) on {os.cpu_count()} cores: {_load(load_before)} before, "
          f"{_load(os.getloadavg())} after\n")
    print(f"{'configuration':32s} {'seconds, all':>22s} {'s per notebook':>15s} {'x floor':>8s}")
    print(f"{'floor: one child, empty cell':32s} {'':>22s} {per_floor:15.2f} {1.0:8.1f}")
    for name, _, jobs in configurations:
        median = statistics.median(totals[name])
        per_notebook = median / args.submissions
        print(f"{name:32s} {_spread(totals[name]):>22s} {per_notebook:15.2f} {per_notebook / per_floor:8.1f}")
    print(f"{'whole chapter, jobs 1 (2 nb)':32s} {'':>22s} {statistics.median(whole):15.2f} "
          f"{statistics.median(whole) / per_floor:8.1f}")
    print(f"\ntarget: {args.submissions} submissions in under 180 s on 2 cores "
          f"(jobs 2, {bubblewrap.kind}: {statistics.median(totals[configurations[1][0]]):.0f} s)")


if __name__ == "__main__":
    main()
