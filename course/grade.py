r"""Grade a folder of submitted notebooks: points per coding exercise, a gradebook, and feedback for every student.

``make grade SUBMISSIONS=folder`` (``python -m course.grade folder``) grades every submitted
notebook of the folder (one folder per student, or one file per student: see
:mod:`course.submissions`) and writes the tables and feedback files of
:mod:`course.gradebook` into ``<folder>-grades/`` next to it (or ``--out``).

For every notebook the grading command, in its own process,

1. reads the file without trusting it (no symbolic links, FIFOs or devices, a size limit,
   UTF-8 JSON of nbformat 4: :func:`course.submissions.read_notebook`);
2. finds what it is graded on: the exercises of a problem-set file given with
   ``--problem-set`` (the one whose name the notebook recorded, or the only one given), or
   else the chapter (or problem set) the edition recorded in the notebook's metadata, or else
   the chapter whose self-checks it calls; points come from ``course/rubrics.yml`` or the
   problem-set file, never from the notebook (a notebook handed out as a problem set with other
   points, graded without its file, is flagged);
3. reads its code for what a lecturer should look at (:mod:`course.flags`: a function that
   delegates to the function of ``lib`` it should re-implement, a notebook that changes
   ``lib``);
4. runs it in a child process, in a sandbox when one works (:mod:`course.sandbox`), in a
   private folder that is removed afterwards: the child (:mod:`course.runner`) runs the
   notebook's cells, except those tagged ``skip-grading``, in a fresh kernel, then calls the
   student's functions on the visible and hidden cases and writes what they returned, as
   plain data;
5. judges those values against the reference, computed here, case by case
   (:meth:`lib.exercises.CodingExercise.judge`): an exercise earns its points times the share
   of cases passed. Nothing the submission does in its process can change this verdict; it
   can only return values, and right values take a right computation (with its own code, or
   with lib's, which step 3 flags).

``--jobs N`` grades N notebooks at once. A notebook is stopped, with everything it started,
after ``--timeout`` seconds; a cell is interrupted after ``--cell-timeout`` seconds; the
grader's own cell has a time limit of its own (every case at its time limit, and a margin).
The hidden cases are drawn from ``--seed`` (default :data:`lib.exercises.DEFAULT_SEED`, which
is public): a lecturer who wants cases nobody can rebuild uses a seed of their own, the same
for the instructor edition (nbgrader) and for this command.

Stopped by Ctrl-C or SIGTERM, the command stops every run with what it started, removes their
folders and writes nothing. Killed (SIGKILL), it cannot: its runs end with it (in the sandbox,
the whole PID namespace; without it, the runner and its kernel, see
:func:`course.runner.die_with_parent`), and the next grading command removes the folders they
left (:func:`remove_stale_runs`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import catalogue, flags
from .gradebook import BY_HAND, NOTEBOOK_ROW, Row, outputs, write
from .sandbox import MODES, Sandbox, SandboxUnavailable, detect, prepare_box
from .submissions import LAYOUTS, MAX_BYTES, Submission, find_submissions, read_notebook

__all__ = ["Plan", "grade_all", "grade_submission", "main", "plan_submission", "remove_stale_runs"]

ROOT = Path(__file__).resolve().parents[1]
#: Seconds the grader's own cell may take beyond the time limits of the cases it runs.
GRADING_MARGIN = 30.0
#: The largest file of outcomes or of the run's report read back from a child, in bytes.
OUTPUT_LIMIT = 64_000_000
#: The prefix of a run's folder in the temporary folder, and the lock file its grading command holds.
RUN_PREFIX, LOCK_NAME = "course-grade-", "grader.lock"


@dataclass
class Plan:
    """What one submission is graded on, found before it runs."""

    submission: Submission
    notebook: object = None
    labels: list[str] = field(default_factory=list)
    points: dict[str, float] = field(default_factory=dict)
    by_hand: dict[str, float] = field(default_factory=dict)
    where: str = ""
    flags: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


# --------------------------------------------------------------------------- planning (this process)
def _metadata_exercises(notebook) -> tuple[str, list[str]]:
    """The chapter or problem set recorded in the notebook's metadata, and its exercises' labels ("" and [] if none)."""
    course = notebook.metadata.get("course")
    if not isinstance(course, dict):
        return "", []
    listed = course.get("exercises") if isinstance(course.get("exercises"), list) else []
    labels = [e["label"] for e in listed if isinstance(e, dict) and isinstance(e.get("label"), str)]
    if isinstance(course.get("problem_set"), str) and labels:
        return f"problem set {course['problem_set']}", labels
    if isinstance(course.get("chapter"), str):
        return f"chapter {course['chapter']}", []
    return "", []


def _chapter_of(notebook) -> str | None:
    """The chapter of a notebook: from its metadata, or else from the self-checks it calls."""
    from lib import exercises

    from .exercise_cells import check_calls

    course = notebook.metadata.get("course")
    chapter = course.get("chapter") if isinstance(course, dict) else None
    if isinstance(chapter, str) and exercises.for_chapter(chapter):
        return chapter
    by_check = {f"check_{e.function_name}": e.chapter for e in exercises.EXERCISES.values()}
    called = [name for cell in notebook.cells if cell.cell_type == "code" for name in check_calls(cell.source)]
    return next((by_check[name] for name in called if name in by_check), None)


def _recorded_problem_set(notebook) -> tuple[str | None, dict[str, object]]:
    """The name of the problem set recorded in the notebook's metadata (None if none), and the points it lists."""
    course = notebook.metadata.get("course")
    if not isinstance(course, dict) or not isinstance(course.get("problem_set"), str):
        return None, {}
    listed = course.get("exercises") if isinstance(course.get("exercises"), list) else []
    return course["problem_set"], {e["label"]: e.get("points") for e in listed
                                   if isinstance(e, dict) and isinstance(e.get("label"), str)}


def _chosen_problem_set(notebook, problem_sets: list[catalogue.ProblemSet]) -> tuple[catalogue.ProblemSet | None, str | None]:
    """The problem set of ``problem_sets`` a notebook is graded on, or None and why none (None, None: none given).

    The one whose name the notebook recorded; with a single problem set given, that one whatever
    the notebook recorded (a notebook without metadata, say).
    """
    if not problem_sets:
        return None, None
    recorded, _ = _recorded_problem_set(notebook)
    by_name = {problem_set.name: problem_set for problem_set in problem_sets}
    if recorded in by_name:
        return by_name[recorded], None
    if len(problem_sets) == 1:
        return problem_sets[0], None
    return None, (f"no problem set of the files given ({', '.join(by_name)}) matches the notebook, which records "
                  f"{'problem set ' + repr(recorded) if recorded else 'none'}; give its file with --problem-set")


def _points_differ(notebook, points: dict[str, float]) -> str:
    """A flag when the problem set recorded in the notebook listed other points than those it is graded with."""
    recorded, listed = _recorded_problem_set(notebook)
    other = [f"{label}: {listed[label]:g} instead of {points[label]:g}" for label in points
             if isinstance(listed.get(label), (int, float)) and not isinstance(listed[label], bool)
             and abs(listed[label] - points[label]) > 1e-9]
    if not other:
        return ""
    return (f"the problem set {recorded} the notebook was handed out as lists other points ({'; '.join(other)}): "
            "graded with course/rubrics.yml's; give the problem set's file with --problem-set (make grade "
            "PROBLEM_SET=file.yml) to grade with its points")


def plan_submission(submission: Submission, problem_sets: list[catalogue.ProblemSet] = (),
                    max_bytes: int = MAX_BYTES, known: dict | None = None, book: dict | None = None) -> Plan:
    """Read a submission and find what it is graded on, with its points and flags (see the module's notes).

    ``problem_sets`` are those of ``--problem-set`` (see :func:`_chosen_problem_set`).
    ``known`` and ``book`` are :func:`course.catalogue.entries` and
    :func:`course.catalogue.book_exercises`, read here if not given. Never raises for a bad
    submission: :attr:`Plan.problem` says why it cannot be graded.
    """
    from lib import exercises

    plan = Plan(submission)
    if submission.refused:
        plan.problem = submission.refused
        return plan
    plan.notebook, plan.problem = read_notebook(submission.path, max_bytes)
    if plan.notebook is None:
        return plan
    known = catalogue.entries() if known is None else known
    book = catalogue.book_exercises() if book is None else book
    problem_set, plan.problem = _chosen_problem_set(plan.notebook, list(problem_sets))
    if plan.problem is not None:
        return plan
    notes = []
    if problem_set is not None:
        labels, points, plan.where = problem_set.labels, problem_set.points, f"problem set {problem_set.name}"
    else:
        plan.where, labels = _metadata_exercises(plan.notebook)
        chapter = None if labels else _chapter_of(plan.notebook)
        if chapter is not None:
            plan.where, labels = f"chapter {chapter}", [label for label, e in book.items() if e.chapter == chapter]
        labels = [label for label in labels if label in known]
        points = {label: known[label].points for label in labels}
        notes = [note for note in [_points_differ(plan.notebook, points)] if note]
    if not labels:
        plan.problem = ("no chapter found: the notebook has no course metadata (which the student edition writes) "
                        "and calls no self-check; hand in the student edition's notebook")
        return plan
    plan.labels = [label for label in labels if label in exercises.EXERCISES]
    plan.points = {label: points[label] for label in plan.labels}
    plan.by_hand = {label: points[label] for label in labels if label not in exercises.EXERCISES}
    trees = flags.parse_cells([cell.source for cell in plan.notebook.cells if cell.cell_type == "code"])
    for label in plan.labels:
        exercise = exercises.EXERCISES[label]
        found = flags.delegation(trees, exercise.function_name, exercise.delegates)
        if found:
            plan.flags[label] = "; ".join(found)
    tampering = flags.tampering(trees)
    if tampering:
        notes.append("the notebook " + "; ".join(tampering))
    if notes:
        plan.flags[NOTEBOOK_ROW] = "; ".join(notes)
    return plan


# --------------------------------------------------------------------------- running (a child process)
class _Children:
    """The grading children running now, and the cleaning up of anything they leave behind.

    While grading, this process is a *child subreaper* (Linux): a process a submission starts
    and orphans (a double fork, ``setsid``) is re-parented to it instead of to init, so that it
    can be found and killed even without a sandbox. :meth:`sweep` kills every child of this
    process that is neither a running grading child nor one it had before grading started.
    """

    def __init__(self):
        import psutil

        self._lock = threading.Lock()
        self._running: dict[int, subprocess.Popen] = {}
        self._before = {child.pid for child in psutil.Process().children()}
        self._subreaper = _set_subreaper(True)

    def start(self, *args, **kwargs) -> subprocess.Popen:
        with self._lock:  # a child is registered before a sweep can see it
            process = subprocess.Popen(*args, **kwargs)
            self._running[process.pid] = process
            return process

    def stop(self, process: subprocess.Popen) -> None:
        """Kill a grading child and its process group, reap it, and sweep what is left behind."""
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the child leads its own group (start_new_session)
        except (ProcessLookupError, PermissionError):
            pass
        process.kill()
        process.wait()
        with self._lock:
            self._running.pop(process.pid, None)
        self.sweep()

    def sweep(self) -> None:
        import psutil

        with self._lock:
            for _ in range(20):  # a process that forks while it is killed leaves new children: look again
                leftovers = [child for child in psutil.Process().children()
                             if child.pid not in self._running and child.pid not in self._before]
                if not leftovers:
                    return
                for leftover in leftovers:
                    for process in [leftover, *_descendants(leftover)]:
                        try:
                            process.kill()
                        except psutil.Error:
                            pass
                for leftover in leftovers:
                    try:
                        os.waitpid(leftover.pid, 0)  # reap it: it is our child now
                    except ChildProcessError:
                        pass

    def stop_all(self) -> None:
        for process in list(self._running.values()):
            self.stop(process)

    def close(self) -> None:
        self.sweep()
        if self._subreaper:
            _set_subreaper(False)


def _descendants(process) -> list:
    import psutil

    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _set_subreaper(on: bool) -> bool:
    """Make this process a child subreaper (Linux's prctl PR_SET_CHILD_SUBREAPER); whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _read_json(path: Path):
    """The JSON in ``path`` (None if it is missing, too large, not a regular file, or not JSON)."""
    try:
        status = os.lstat(path)
        if not stat.S_ISREG(status.st_mode) or status.st_size > OUTPUT_LIMIT:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _remove(folder: Path) -> None:
    """Remove a folder and everything in it, whatever permissions a submission gave its files."""
    def make_writable(function, path, error):
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
        function(path)

    shutil.rmtree(folder, onerror=make_writable)


@dataclass
class _Run:
    """What a child reported: its run (untrusted, for the messages) and the outcomes, by exercise."""

    finished: bool
    report: dict
    records: dict[str, dict]
    exit_code: int | None
    error_tail: str


def _grading_time_limit(labels: list[str], seed: int) -> float:
    """Seconds the grader's cell may take: every case of every exercise at its time limit, and a margin."""
    from lib import exercises

    return GRADING_MARGIN + sum(exercises.EXERCISES[label].time_limit * len(exercises.EXERCISES[label].graded_cases(seed))
                                for label in labels)


def _run_child(plan: Plan, sandbox: Sandbox, children: _Children, seed: int, timeout: float,
               cell_timeout: float) -> _Run:
    import nbformat

    folder = Path(tempfile.mkdtemp(prefix=RUN_PREFIX))
    lock = _hold_lock(folder)
    try:
        box = folder / "box"
        box.mkdir()
        prepare_box(box)
        nbformat.write(plan.notebook, box / "submission.ipynb")
        job = {"labels": plan.labels, "seed": seed, "cell_timeout": cell_timeout,
               "grading_timeout": _grading_time_limit(plan.labels, seed)}
        (box / "job.json").write_text(json.dumps(job), encoding="utf-8")
        parent = [] if sandbox.isolated else [str(os.getpid())]  # the runner dies with this process
        command, environment, cwd = sandbox.command(
            [sys.executable, "-m", "course.runner", str(sandbox.inside(box)), *parent], box)
        with (folder / "stdout").open("wb") as stdout, (folder / "stderr").open("wb") as stderr:
            process = children.start(command, env=environment, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                                     stderr=stderr, start_new_session=True)
            try:
                process.wait(timeout=timeout)
                finished = True
            except subprocess.TimeoutExpired:
                finished = False
            finally:
                children.stop(process)
        report = _read_json(box / "run.json")
        records = _read_json(box / "outcomes.json")
        tail = " | ".join((folder / "stderr").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:])
        by_label = {}
        for record in records if isinstance(records, list) else []:
            if (isinstance(record, dict) and record.get("exercise") in plan.labels and isinstance(record.get("defined"), bool)
                    and isinstance(record.get("outcomes"), list) and record["exercise"] not in by_label):
                by_label[record["exercise"]] = record
        return _Run(finished, report if isinstance(report, dict) else {}, by_label, process.returncode, tail[-500:])
    finally:
        _remove(folder)
        os.close(lock)


def _hold_lock(folder: Path) -> int:
    """Lock a run's folder for as long as this process holds the returned descriptor (see :func:`remove_stale_runs`).

    The lock file appears under its final name already locked, so that another grading
    command never takes a run that is starting for a stale one.
    """
    import fcntl

    descriptor = os.open(folder / ".locking", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    os.rename(folder / ".locking", folder / LOCK_NAME)
    return descriptor


def remove_stale_runs(folder: Path | None = None) -> list[Path]:
    """Remove the run folders a grading command left behind when it was killed; the folders removed.

    A grading command stopped by SIGTERM or Ctrl-C removes its runs' folders itself; one killed
    (SIGKILL, a crash of the machine) cannot, and leaves in the temporary folder ``folder``
    (default: the system's) a ``course-grade-*`` folder per run, with the submission and the
    kernel's connection file. Each run holds a lock on its folder (released by the system when
    its process ends, however it ends): a folder of this user whose lock is free is stale. A
    folder without the lock file, or whose lock is held by a grading running now, is left alone.
    """
    import fcntl

    removed = []
    for path in sorted(Path(folder or tempfile.gettempdir()).glob(f"{RUN_PREFIX}*")):
        try:
            status = os.lstat(path)
            if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
                continue
            descriptor = os.open(path / LOCK_NAME, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a grading running now
        finally:
            os.close(descriptor)
        _remove(path)
        removed.append(path)
    return removed


# --------------------------------------------------------------------------- judging (this process)
class _Expected:
    """The cases and the reference's outcomes of every exercise, computed once per grading."""

    def __init__(self, seed: int):
        self.seed = seed
        self._cache: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def __call__(self, label: str):
        from lib import exercises

        with self._lock:
            if label not in self._cache:
                exercise = exercises.EXERCISES[label]
                cases = exercise.graded_cases(self.seed)
                self._cache[label] = (cases, exercise.expected(cases))
            return self._cache[label]


def _decoded(outcomes: list) -> list:
    from lib.exercises import transport

    decoded = []
    for data in outcomes:
        try:
            decoded.append(transport.decode(data))
        except ValueError:
            decoded.append(None)  # judged as a case without a result
    return decoded


def _summary(plan: Plan, run: _Run, sandbox: Sandbox) -> tuple[str, str]:
    """The status and message of the ``(notebook)`` row."""
    report = run.report
    if not run.finished:
        return "stopped", "did not finish within the notebook's time limit and was stopped (an endless loop that " \
                          "ignores interrupts?); " + f"ran {'in a sandbox' if sandbox.isolated else 'without a sandbox'}"
    stopped = report.get("stopped") if isinstance(report.get("stopped"), str) else None
    if not report:
        return "failed", f"the grader failed on this file (exit code {run.exit_code}): {run.error_tail}"
    errors = report.get("errors") if isinstance(report.get("errors"), list) else []
    raised = [f"code cell {e[0]} ({e[1]})" for e in errors if isinstance(e, list) and len(e) == 2]
    parts = [f"{plan.where}; ran in {report.get('seconds', '?')} s {'in a sandbox' if sandbox.isolated else 'without a sandbox'}",
             f"{report.get('skipped', 0)} cells tagged skip-grading not run",
             f"errors in {', '.join(raised)} (code cells counted from the top)" if raised else "no cell raised"]
    grading_error = report.get("grading_error")
    if grading_error == "CellTimeout":
        parts.append("the grader's cell did not finish in its time limit")
    elif isinstance(grading_error, str):
        parts.append(f"the grader's cell raised {grading_error} (a function raised KeyboardInterrupt, or the notebook "
                     "changed lib.exercises)")
    missing = [label for label in plan.labels if label not in run.records]
    if missing:
        parts.append(f"no result for {', '.join(missing)}")
    if stopped:
        parts.insert(1, stopped)
    return ("failed" if stopped else "ran"), "; ".join(parts)


def _judged(plan: Plan, run: _Run, expected: _Expected) -> list[Row]:
    from lib import exercises

    rows = []
    student, notebook = plan.submission.student, plan.submission.notebook
    for label in plan.labels:
        exercise, maximum = exercises.EXERCISES[label], plan.points[label]
        record = run.records.get(label)
        common = dict(max_points=maximum, flags=plan.flags.get(label, ""))
        if record is None:
            rows.append(Row(student, notebook, label, "not graded", 0.0, **common,
                            message="no result: the grader's cell did not reach this exercise (see the (notebook) row)"))
        elif not record["defined"]:
            rows.append(Row(student, notebook, label, "missing", 0.0, **common, message=(
                f"{exercise.function_name} is not defined in the notebook: keep the name of the function the "
                "exercise asks for, and run the cell that defines it")))
        else:
            cases, reference = expected(label)
            result = exercise.judge(cases, reference, _decoded(record["outcomes"]))
            rows.append(Row(student, notebook, label, result.status, result.points(maximum), **common,
                            cases_passed=result.cases_passed, cases_total=result.cases_total, message=result.message))
    return rows


def grade_submission(plan: Plan, sandbox: Sandbox, children: _Children, expected: _Expected, timeout: float,
                     cell_timeout: float) -> list[Row]:
    """The rows of one planned submission: its ``(notebook)`` row, its exercises, and those graded by hand."""
    student, notebook = plan.submission.student, plan.submission.notebook
    by_hand = [Row(student, notebook, label, BY_HAND, None, points) for label, points in plan.by_hand.items()]
    if plan.problem is not None:
        status = "refused" if plan.problem.startswith(("refused", "not a notebook", "no ")) else "failed"
        return [Row(student, notebook, NOTEBOOK_ROW, status, message=plan.problem)]
    run = _run_child(plan, sandbox, children, expected.seed, timeout, cell_timeout)
    status, message = _summary(plan, run, sandbox)
    return [Row(student, notebook, NOTEBOOK_ROW, status, flags=plan.flags.get(NOTEBOOK_ROW, ""), message=message),
            *_judged(plan, run, expected), *by_hand]


def grade_all(submissions: list[Submission], sandbox: Sandbox, *, seed: int, jobs: int = 1, timeout: float = 600.0,
              cell_timeout: float = 120.0, problem_sets: list[catalogue.ProblemSet] = (),
              max_bytes: int = MAX_BYTES, say=print) -> list[Row]:
    """Grade ``submissions``, ``jobs`` at a time, and return their rows in the order of ``submissions``.

    Parameters are those of the command line (see :func:`main`); ``say`` gets one line per
    notebook graded.
    """
    known, book = catalogue.entries(), catalogue.book_exercises()
    plans = [plan_submission(submission, problem_sets, max_bytes, known, book) for submission in submissions]
    expected = _Expected(seed)
    for label in dict.fromkeys(label for plan in plans for label in plan.labels):
        expected(label)  # computed once, before the children start
    children = _Children()

    def grade(plan: Plan) -> list[Row]:
        rows = grade_submission(plan, sandbox, children, expected, timeout, cell_timeout)
        graded = [row for row in rows if row.points is not None]
        say(f"graded {plan.submission.student}/{plan.submission.notebook}: {rows[0].status}, "
            f"{sum(r.points for r in graded):g} of {sum(r.max_points for r in graded):g} points")
        return rows

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(grade, plan) for plan in plans]
            try:
                return [row for future in futures for row in future.result()]
            except BaseException:
                for future in futures:
                    future.cancel()
                children.stop_all()
                raise
    finally:
        children.close()


def _on_terminate(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """The command ``python -m course.grade`` (``make grade``).

    Parameters
    ----------
    argv : list of str, optional
        The command's arguments (default: ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    int
        The exit status: 0 when the tables were written, 1 when they were not (the reason is
        printed), 2 for a wrong command line, 130 when grading was stopped (Ctrl-C or SIGTERM:
        every run's processes are stopped and its folder removed, and nothing is written).
    """
    from lib.exercises import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m course.grade", description=(
        "Grade the submitted notebooks of a folder: points per coding exercise (visible and hidden cases), a "
        "gradebook, and a feedback file per student."))
    parser.add_argument("submissions", nargs="?", type=Path,
                        help="the folder of submissions: SUBMISSIONS/<student>/<notebook>.ipynb, or one file per student")
    parser.add_argument("--out", type=Path, help="where to write the tables and feedback (default: <submissions>-grades)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one notebook may take (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=120.0, help="seconds one cell may take (default 120)")
    parser.add_argument("--sandbox", choices=MODES, default="auto",
                        help="auto: bubblewrap if it works here, else none (said in the gradebook); default auto")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the seed of the hidden cases")
    parser.add_argument("--problem-set", type=Path, action="append", help=(
        "grade on this problem set (YAML) the notebooks handed out as it, or every notebook if it is the only one "
        "given; repeat for several"))
    parser.add_argument("--assignment", help="read SUBMISSIONS/<student>/<assignment>/ (nbgrader's submitted/ folder)")
    parser.add_argument("--max-size", type=float, default=MAX_BYTES / 1e6, help="the largest notebook, in MB (default 20)")
    parser.add_argument("--force", action="store_true", help="overwrite existing tables and feedback")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.cell_timeout <= 0 or args.max_size <= 0:
        parser.error("--timeout, --cell-timeout and --max-size must be positive numbers")
    if args.jobs < 1 or args.seed < 0:
        parser.error("--jobs must be at least 1 and --seed a non-negative integer")
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(f"expected a folder of submitted notebooks, got {args.submissions}")
    submissions_folder = args.submissions.resolve()
    out = (args.out or submissions_folder.parent / f"{submissions_folder.name}-grades").resolve()
    try:
        existing = [path for path in outputs(out) if path.exists() or path.is_symlink()]
        if existing and not args.force:
            raise FileExistsError(f"{', '.join(map(str, existing))} exist already; pass --force (make grade ... "
                                  "FORCE=1) to overwrite them, or choose another folder with --out")
        problem_sets = [catalogue.read_problem_set(path) for path in args.problem_set or []]
        names = [problem_set.name for problem_set in problem_sets]
        if len(set(names)) < len(names):
            raise ValueError(f"two problem-set files have the same name ({', '.join(names)}): a notebook is matched to "
                             "its problem set by the name it records")
        submissions, layout = find_submissions(args.submissions, args.assignment, skip=out)
        sandbox = detect(args.sandbox)
    except (FileExistsError, ValueError, SandboxUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"layout: {LAYOUTS[layout]}")
    print(f"sandbox: {sandbox.describe()}")
    stale = remove_stale_runs()
    if stale:
        print(f"removed {len(stale)} folders of runs whose grading was killed: {', '.join(map(str, stale))}")
    if not sandbox.isolated:
        print("warning: grading WITHOUT a sandbox: a submission can read and change your files and use the network "
              "(see book/lecturers.md)", file=sys.stderr)
    previous = signal.signal(signal.SIGTERM, _on_terminate) if threading.current_thread() is threading.main_thread() else None
    try:
        rows = grade_all(submissions, sandbox, seed=args.seed, jobs=args.jobs, timeout=args.timeout,
                         cell_timeout=args.cell_timeout, problem_sets=problem_sets, max_bytes=int(args.max_size * 1e6),
                         say=lambda line: print(line, flush=True))
    except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM (_on_terminate): the runs are stopped and removed
        print(f"{str(error) or 'interrupted'}: nothing written", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    from lib.exercises import EXERCISES

    order = list(catalogue.book_exercises()) or list(EXERCISES)
    notes = [f"Layout: {LAYOUTS[layout]}.", f"Hidden cases from seed {args.seed}"
             + (" (the public default)." if args.seed == DEFAULT_SEED else "."),
             f"Time limits: {args.timeout:g} s per notebook, {args.cell_timeout:g} s per cell; {args.jobs} at once."]
    written = write(rows, out, sandbox=sandbox.describe(), notes=notes, order=order, force=True)
    print((out / "grades.md").read_text(encoding="utf-8"))
    print(f"wrote {out / 'gradebook.csv'}, {out / 'grades.csv'}, {out / 'grades.md'} and "
          f"{len(written) - 3} feedback files in {out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
