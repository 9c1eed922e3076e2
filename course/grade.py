r"""Grade a folder of submitted notebooks: one table row per student and coding exercise.

``make grade SUBMISSIONS=folder`` (``python -m course.grade folder``) runs every ``.ipynb`` file
of the folder, in name order, each in a fresh kernel of this environment and in a scratch
working directory:

* cells run to the end whatever they raise (an error is recorded, the next cell runs); a cell
  that runs longer than the cell time limit is interrupted and recorded as an error;
* after the student's last cell, the grader runs one cell of its own in the same kernel, with
  a time limit of its own (every case of every exercise at its time limit, and a margin): it
  calls :func:`lib.exercises.grade`, which evaluates, for every coding exercise of the
  chapter, the function of the exercise's name that the notebook defined, whatever the
  student's own self-check cells printed, and writes the results to a file the grader names
  (what the student's code prints cannot be taken for a result);
* each notebook runs in a child process with a time limit of its own, in a session of its
  own and with a minimal environment (``PATH``, ``HOME``, the locale, Python's and Jupyter's
  folders: no other variable of yours). The child's output goes to files, its rows come back
  in a file whose path the parent gives it, and rows for any other student are dropped. When
  the child ends or is stopped, its process group, its kernel and every process the
  submission started (found by a token in their environment) are killed: a notebook that
  loops where an interrupt cannot stop it, or that leaves a process behind, cannot hold up
  the grading.

A file that is not a notebook (not JSON, not nbformat, another suffix) is recorded as a failure
too, and so is a notebook whose chapter cannot be found; the remaining submissions are graded.
The student's name is the file's stem. The chapter comes from the metadata the student
edition writes (``course.chapter``); without it, from the self-check calls in the notebook.

The table is written as ``grades.csv`` (student, exercise, result, message; the message in
full) and ``grades.md`` (one line per row, and each student's count of passed exercises), in
``<folder>-grades/`` next to the folder unless ``--out`` says otherwise. Existing tables are
not overwritten without ``--force``. Each notebook also has a row ``(notebook)`` that says
whether it could be run and graded, and which code cells raised.

This runs the submitted code with your permissions, and does not protect against a submission
written to cheat or to do harm (see ``book/lecturers.md``): grade untrusted submissions
inside a container, a virtual machine or as a user of their own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Row", "grade_folder", "grade_notebook", "write_tables", "main"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_ROW = "(notebook)"
#: The environment variables the grading child keeps (to find Python, Jupyter's files, a
#: temporary folder and the locale); every other variable of the lecturer's is left out.
KEPT_ENVIRONMENT = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "VIRTUAL_ENV",
                    "PYTHONPATH", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                    "JUPYTER_PLATFORM_DIRS", "IPYTHONDIR", "MPLCONFIGDIR", "MPLBACKEND")
#: The variable that marks every process of one grading run (the child, its kernel, what the
#: submission starts), so that all of them can be stopped.
_RUN_TOKEN = "COURSE_GRADE_RUN"
#: Seconds the grading cell may take beyond the time limits of the cases it runs.
GRADING_MARGIN = 30.0


@dataclass(frozen=True)
class Row:
    """One line of the grade table."""

    student: str
    exercise: str
    passed: bool
    message: str

    @property
    def result(self) -> str:
        return "pass" if self.passed else "fail"


def _not_graded(student: str, labels: list[str], why: str) -> list[Row]:
    """A failing row for each of ``labels``, saying why it was not graded."""
    return [Row(student, label, False, f"not graded: {why}") for label in labels]


# --------------------------------------------------------------------------- one notebook (child process)
def _read_submission(path: Path):
    """The submitted notebook and None, or None and why it is not a notebook that can be run."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as error:  # noqa: BLE001 - whatever the file is, it is not a notebook we can run
        return None, f"not a notebook: {type(error).__name__}: {str(error)[:300]}"
    return notebook, None


def _exercises_of(notebook) -> tuple[str | None, list[str]]:
    """The chapter of a submitted notebook and the labels of all its coding exercises.

    The chapter is the one the student edition recorded in the metadata or, if the metadata
    are gone, the one whose self-checks the notebook calls.
    """
    from lib import exercises
    from .exercise_cells import check_calls

    course = notebook.metadata.get("course")
    chapter = course.get("chapter") if isinstance(course, dict) else None
    if not isinstance(chapter, str) or not exercises.for_chapter(chapter):
        by_check = {f"check_{e.function_name}": e.chapter for e in exercises.EXERCISES.values()}
        called = [name for cell in notebook.cells if cell.cell_type == "code" for name in check_calls(cell.source)]
        chapter = next((by_check[name] for name in called if name in by_check), None)
    return chapter, [e.label for e in exercises.for_chapter(chapter)] if chapter else []


def _expected_labels(path: Path) -> list[str]:
    """The coding exercises a submission is graded on ([] if it is not a notebook or has no chapter)."""
    notebook, _ = _read_submission(path)
    return _exercises_of(notebook)[1] if notebook is not None else []


def _grading_time_limit(labels: list[str]) -> float:
    """Seconds the grading cell may take: every case of every exercise at its time limit, and a margin."""
    from lib import exercises

    return GRADING_MARGIN + sum(exercises.EXERCISES[label].time_limit * len(exercises.EXERCISES[label].cases)
                                for label in labels)


def _records(path: Path, fields: dict[str, type], exact: bool) -> list[dict]:
    """The objects of a JSON list in ``path`` whose ``fields`` have their types ([] if the file is unreadable).

    With ``exact``, an object with any other key is dropped too.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, list):
        return []
    return [record for record in data if isinstance(record, dict)
            and (record.keys() == fields.keys() if exact else fields.keys() <= record.keys())
            and all(isinstance(record[key], kind) for key, kind in fields.items())]


def _read_results(path: Path) -> dict[str, dict]:
    """The results :func:`lib.exercises.grade` wrote, by exercise ({} if there is no readable file)."""
    return {r["exercise"]: r for r in _records(path, {"exercise": str, "passed": bool, "message": str}, exact=False)}


def grade_notebook(path: Path, cell_timeout: float) -> list[Row]:
    """Run one submitted notebook and grade its coding exercises (in this process).

    Parameters
    ----------
    path : Path
        The submitted file.
    cell_timeout : float
        Seconds after which a cell of the student's is interrupted (the grading cell has its
        own limit, :func:`_grading_time_limit`).

    Returns
    -------
    list of Row
        The ``(notebook)`` row, then one row per coding exercise of the chapter. The
        ``(notebook)`` row fails if the file is not a notebook, its chapter cannot be found,
        its kernel died, or an exercise has no result.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    student = path.stem
    notebook, problem = _read_submission(path)
    if notebook is None:
        return [Row(student, NOTEBOOK_ROW, False, problem)]
    chapter, labels = _exercises_of(notebook)
    if chapter is None:
        return [Row(student, NOTEBOOK_ROW, False, "no chapter found: the notebook has no course metadata "
                    "(course.chapter, which the student edition writes) and calls no self-check; hand in "
                    "the student edition's notebook")]
    code_cells = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    for index in code_cells:
        notebook.cells[index].outputs, notebook.cells[index].execution_count = [], None
    student_cells = len(notebook.cells)
    grading_limit = _grading_time_limit(labels)
    errors: dict[int, str] = {}  # cell index -> the name of the error it raised (or CellTimeout)

    def record_error(cell, cell_index, execute_reply):
        errors[cell_index] = execute_reply["content"].get("ename") or "an error"

    grading_id = f"grading-{secrets.token_hex(8)}"

    def time_limit(cell) -> float:
        return grading_limit if cell.get("id") == grading_id else cell_timeout

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch, \
            tempfile.TemporaryDirectory(prefix="grade-results-") as private:
        results_path = Path(private) / f"{secrets.token_hex(8)}.json"
        notebook.cells.append(nbformat.v4.new_code_cell(
            f"import lib.exercises as _grading\n_grading.grade(globals(), {labels!r}, {str(results_path)!r})",
            id=grading_id))
        client = NotebookClient(
            notebook, timeout_func=time_limit, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeout", "evalue": "interrupted at its time limit", "traceback": []},
            on_cell_error=record_error, resources={"metadata": {"path": scratch}})
        try:
            client.execute()
        except DeadKernelError as error:
            return [Row(student, NOTEBOOK_ROW, False, f"the kernel died ({error}): does a cell exit Python or crash it?"),
                    *_not_graded(student, labels, "the notebook's kernel died")]
        except Exception as error:  # noqa: BLE001 - nbclient failed to run the notebook at all
            return [Row(student, NOTEBOOK_ROW, False, f"could not be run: {type(error).__name__}: {str(error)[:300]}"),
                    *_not_graded(student, labels, "the notebook could not be run")]
        results = _read_results(results_path)
    seconds = time.perf_counter() - started
    code_number = {index: number for number, index in enumerate(code_cells, start=1)}
    raised = [f"code cell {code_number[index]} ({name})" for index, name in sorted(errors.items()) if index < student_cells]
    summary = f"ran in {seconds:.1f} s; chapter {chapter}; " + (
        f"errors in {', '.join(raised)} (code cells counted from the top, markdown cells not counted)"
        if raised else "no cell raised")
    grading_error = errors.get(student_cells)
    if grading_error == "CellTimeout":
        summary += (f"; the grading cell did not finish within its {grading_limit:g} s (is a cell of the notebook "
                    "still running after its interrupt?)")
    elif grading_error is not None:
        summary += (f"; the grading cell raised {grading_error} (a function raised an exception that is not an "
                    "error, such as KeyboardInterrupt, or the notebook changed lib.exercises)")
    missing = [label for label in labels if label not in results]
    if missing:
        summary += f"; no result for {', '.join(missing)}"
    rows = [Row(student, NOTEBOOK_ROW, grading_error is None and not missing, summary)]
    for label in labels:
        if label in results:
            rows.append(Row(student, label, results[label]["passed"], results[label]["message"]))
        else:
            rows += _not_graded(student, [label], "see the (notebook) row")
    return rows


# --------------------------------------------------------------------------- a folder (parent process)
def _child_environment(token: str) -> dict[str, str]:
    """The environment of the grading child: the variables of :data:`KEPT_ENVIRONMENT`, and the run's token."""
    environment = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
    environment.setdefault("PATH", os.defpath)
    environment[_RUN_TOKEN] = token
    return environment


def _stop_everything(process: subprocess.Popen, token: str) -> None:
    """Kill a grading child, its process group, its descendants and every process that carries its token.

    The kernel runs in a session of its own, and a process the submission started may have
    left both (``setsid``, a double fork): the token in the environment they inherited finds
    them.
    """
    import psutil

    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the child is the leader of its own group (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    marked = [p for p in psutil.process_iter(["environ"]) if (p.info["environ"] or {}).get(_RUN_TOKEN) == token]
    for leftover in descendants + marked:
        try:
            leftover.kill()
        except psutil.NoSuchProcess:
            pass
    process.kill()
    process.wait()


def _read_rows(path: Path, student: str) -> list[Row] | None:
    """The rows the child wrote for ``student`` (rows for anyone else are dropped), or None if there are none."""
    fields = {"student": str, "exercise": str, "passed": bool, "message": str}
    rows = [Row(**row) for row in _records(path, fields, exact=True) if row["student"] == student]
    return rows if any(row.exercise == NOTEBOOK_ROW for row in rows) else None


def _tail(path: Path, lines: int = 3) -> str:
    """The last lines of a file of the child's output, whatever bytes it holds."""
    return " | ".join(path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:])


def _grade_in_child(path: Path, timeout: float, cell_timeout: float) -> list[Row]:
    """Grade one submission in a child process (see the module's notes); never raises for a bad submission."""
    student, labels = path.stem, _expected_labels(path)
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="grade-run-") as private:
        rows_path, stdout_path, stderr_path = (Path(private) / name for name in ("rows.json", "stdout", "stderr"))
        command = [sys.executable, "-m", "course.grade", "--one", str(path.resolve()), "--rows", str(rows_path),
                   "--cell-timeout", str(cell_timeout)]
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                       env=_child_environment(token), start_new_session=True)
            try:
                process.wait(timeout=timeout)
                finished = True
            except subprocess.TimeoutExpired:
                finished = False
            finally:
                _stop_everything(process, token)
        if not finished:
            return [Row(student, NOTEBOOK_ROW, False,
                        f"did not finish within {timeout:g} s and was stopped (an endless loop that ignores interrupts?)"),
                    *_not_graded(student, labels, "the notebook did not finish in time")]
        rows = _read_rows(rows_path, student)
        if rows is None:
            return [Row(student, NOTEBOOK_ROW, False, f"the grader failed on this file (exit code "
                        f"{process.returncode}): {_tail(stderr_path)}"),
                    *_not_graded(student, labels, "the grader failed on this file")]
        return rows


def _say_now(message: str) -> None:
    print(message, flush=True)


def grade_folder(folder: Path, timeout: float = 600.0, cell_timeout: float = 120.0, say=_say_now,
                 skip: Path | None = None) -> list[Row]:
    """Grade every submission in ``folder`` (not its subfolders); hidden files are skipped.

    Parameters
    ----------
    folder : Path
        The folder of submitted notebooks, one per student (the file's stem is the name).
    timeout : float, default 600
        Seconds one notebook may take; it is then stopped, with everything it started.
    cell_timeout : float, default 120
        Seconds one cell of a notebook may take; it is then interrupted.
    say : callable, default: print at once
        Called with one line of progress per notebook.
    skip : Path, optional
        A subfolder not to list (the folder of the tables, when it is inside ``folder``).

    Returns
    -------
    list of Row
        For each entry in name order, its ``(notebook)`` row and its exercises' rows. A file
        that is not an ``.ipynb`` and a subfolder each get a failing ``(notebook)`` row.

    Raises
    ------
    ValueError
        If ``folder`` holds no ``.ipynb`` file.
    """
    entries = [path for path in sorted(folder.iterdir()) if not path.name.startswith(".")
               and (skip is None or path.resolve() != skip.resolve())]
    if not any(path.suffix == ".ipynb" and path.is_file() for path in entries):
        raise ValueError(f"no .ipynb files in {folder}: put the submitted notebooks there, one per student")
    rows = []
    for path in entries:
        if path.is_dir():
            rows.append(Row(path.name, NOTEBOOK_ROW, False, "a folder, not a notebook: submit the .ipynb file itself"))
        elif path.suffix != ".ipynb":
            rows.append(Row(path.stem, NOTEBOOK_ROW, False, f"not a notebook: {path.name} is not an .ipynb file"))
        else:
            say(f"grading {path.name} ...")
            rows += _grade_in_child(path, timeout, cell_timeout)
    return rows


def _markdown_cell(text: str) -> str:
    """``text`` as a cell of a markdown table: its first line, with ``|`` escaped."""
    return text.splitlines()[0].replace("|", "\\|") if text else ""


def write_tables(rows: list[Row], out: Path, force: bool = False) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``grades.md`` into ``out`` (created if missing), in UTF-8.

    Parameters
    ----------
    rows : list of Row
        The rows of :func:`grade_folder`.
    out : Path
        The folder of the tables.
    force : bool, default False
        Overwrite tables that exist.

    Returns
    -------
    csv_path, md_path : Path
        The two files written.

    Raises
    ------
    FileExistsError
        If a table exists and ``force`` is false; nothing is written then.
    """
    csv_path, md_path = out / "grades.csv", out / "grades.md"
    _refuse_to_overwrite([csv_path, md_path], force)
    out.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "exercise", "result", "message"])
        writer.writerows([row.student, row.exercise, row.result, row.message] for row in rows)
    passed = Counter(row.student for row in rows if row.passed and row.exercise != NOTEBOOK_ROW)
    total = Counter(row.student for row in rows if row.exercise != NOTEBOOK_ROW)
    lines = ["# Grades", "", "| student | exercise | result | message |", "|---|---|---|---|"]
    lines += [f"| {_markdown_cell(r.student)} | {_markdown_cell(r.exercise)} | {r.result} | {_markdown_cell(r.message)} |"
              for r in rows]
    lines += ["", "| student | coding exercises passed |", "|---|---|"]
    students = dict.fromkeys(row.student for row in rows)
    lines += [f"| {_markdown_cell(student)} | {passed[student]} of {total[student]} |" for student in students]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv_path, md_path


def _refuse_to_overwrite(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(map(str, existing))} exist already; pass --force (make grade ... FORCE=1) "
                              "to overwrite them, or choose another folder with --out")


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
        printed), 2 for a wrong command line.
    """
    parser = argparse.ArgumentParser(prog="python -m course.grade", description=(
        "Run every submitted notebook of a folder and write a table of the coding exercises passed."))
    parser.add_argument("submissions", nargs="?", type=Path, help="the folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, help="where to write grades.csv and grades.md "
                                                 "(default: <submissions>-grades, next to the folder)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one notebook may take (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=120.0, help="seconds one cell may take (default 120)")
    parser.add_argument("--force", action="store_true", help="overwrite existing tables")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: grade one file...
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)  # ...and write its rows to this file
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.cell_timeout <= 0:
        parser.error("--timeout and --cell-timeout must be positive numbers of seconds")
    if args.one is not None:
        if args.rows is None:
            parser.error("--one needs --rows, the file to write the rows to")
        rows = grade_notebook(args.one, args.cell_timeout)
        args.rows.write_text(json.dumps([asdict(row) for row in rows]), encoding="utf-8")
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(f"expected a folder of submitted notebooks, got {args.submissions}")
    submissions = args.submissions.resolve()
    out = (args.out or submissions.parent / f"{submissions.name}-grades").resolve()
    try:
        _refuse_to_overwrite([out / "grades.csv", out / "grades.md"], args.force)
        rows = grade_folder(args.submissions, args.timeout, args.cell_timeout, skip=out)
    except (FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    csv_path, md_path = write_tables(rows, out, force=True)
    print(md_path.read_text(encoding="utf-8"))
    print(f"wrote {csv_path} and {md_path} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
