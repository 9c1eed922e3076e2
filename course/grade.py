r"""Grade a folder of submitted notebooks: one table row per student and coding exercise.

``make grade SUBMISSIONS=folder`` (``python -m course.grade folder``) runs every ``.ipynb`` file
of the folder, in name order, each in a fresh kernel of this environment and in a scratch
working directory:

* cells run to the end whatever they raise (an error is recorded, the next cell runs); a cell
  that runs longer than the cell time limit is interrupted and recorded as an error;
* after the student's last cell, the grader runs one cell of its own in the same kernel: it
  calls :func:`lib.exercises.grade`, which evaluates, for every coding exercise of the
  chapter, the function of the exercise's name that the notebook defined, whatever the
  student's own self-check cells printed;
* each notebook runs in a child process with a time limit of its own: a notebook that loops
  where an interrupt cannot stop it is killed, with its kernel, and recorded as a failure.

A file that is not a notebook (not JSON, not nbformat, another suffix) is recorded as a failure
too, and the remaining submissions are graded. The student's name is the file's stem. The
chapter comes from the metadata the student edition writes (``course.chapter``); without it,
from the self-check calls in the notebook.

The table is written as ``grades.csv`` (student, exercise, result, message; the message in
full) and ``grades.md`` (one line per row, and each student's count of passed exercises), in
``<folder>-grades/`` unless ``--out`` says otherwise. Existing tables are not overwritten
without ``--force``. Each notebook also has a row ``(notebook)`` that says whether it could be
run and which cells raised.

This runs the submitted code with your permissions: grade untrusted submissions inside a
container or a virtual machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Row", "grade_folder", "grade_notebook", "write_tables", "main"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_ROW = "(notebook)"
#: The last line the child process prints: this marker, then the rows as JSON.
_ROWS_MARKER = "course.grade rows:"


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


# --------------------------------------------------------------------------- one notebook (child process)
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


def grade_notebook(path: Path, cell_timeout: float) -> list[Row]:
    """Run one submitted notebook and grade its coding exercises (in this process).

    Parameters
    ----------
    path : Path
        The submitted file.
    cell_timeout : float
        Seconds after which a cell is interrupted.

    Returns
    -------
    list of Row
        The ``(notebook)`` row, then one row per coding exercise of the chapter.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    student = path.stem
    try:
        notebook = nbformat.read(path, as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as error:  # noqa: BLE001 - whatever the file is, it is not a notebook we can run
        return [Row(student, NOTEBOOK_ROW, False, f"not a notebook: {type(error).__name__}: {str(error)[:300]}")]
    chapter, labels = _exercises_of(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    student_cells = len(notebook.cells)
    marker = f"grading-{secrets.token_hex(8)}:"
    notebook.cells.append(nbformat.v4.new_code_cell(
        f"import lib.exercises as _grading\n_grading.grade(globals(), {labels!r}, marker={marker!r})"))
    errors: dict[int, str] = {}  # cell index -> the name of the error it raised (or CellTimeout)

    def record_error(cell, cell_index, execute_reply):
        errors[cell_index] = execute_reply["content"].get("ename") or "an error"

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        client = NotebookClient(
            notebook, timeout=cell_timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeout", "evalue": f"interrupted after {cell_timeout:g} s", "traceback": []},
            on_cell_error=record_error, resources={"metadata": {"path": scratch}})
        try:
            client.execute()
        except DeadKernelError as error:
            return [Row(student, NOTEBOOK_ROW, False, f"the kernel died ({error}): does a cell exit Python or crash it?")] + [
                Row(student, label, False, "not graded: the notebook's kernel died") for label in labels]
        except Exception as error:  # noqa: BLE001 - nbclient failed to run the notebook at all
            return [Row(student, NOTEBOOK_ROW, False, f"could not be run: {type(error).__name__}: {str(error)[:300]}")] + [
                Row(student, label, False, "not graded: the notebook could not be run") for label in labels]
    seconds = time.perf_counter() - started
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].get("outputs", [])
                      if output.get("output_type") == "stream" and output.get("name") == "stdout")
    results = {}
    for line in printed.splitlines():
        if line.startswith(marker):
            result = json.loads(line[len(marker):])
            results[result["exercise"]] = result
    raised = [f"cell {index + 1} ({name})" for index, name in sorted(errors.items()) if index < student_cells]
    where = f"chapter {chapter}" if chapter else "no chapter found (no course metadata, no self-check calls)"
    summary = f"ran in {seconds:.1f} s; {where}; " + (f"errors in {', '.join(raised)}" if raised else "no cell raised")
    grading_error = errors.get(student_cells)
    if grading_error == "CellTimeout":
        summary += "; could not be graded: a cell kept running after its time limit and its interrupt"
    elif grading_error is not None:
        summary += f"; could not be graded: the grading cell raised {grading_error} (was lib.exercises replaced?)"
    rows = [Row(student, NOTEBOOK_ROW, grading_error is None, summary)]
    for label in labels:
        if label in results:
            rows.append(Row(student, label, results[label]["passed"], results[label]["message"]))
        else:
            rows.append(Row(student, label, False, "not graded: see the (notebook) row"))
    return rows


# --------------------------------------------------------------------------- a folder (parent process)
def _kill_tree(pid: int) -> None:
    """Kill a child process and everything it started (the kernel runs in a session of its own)."""
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    for process in parent.children(recursive=True) + [parent]:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def _grade_in_child(path: Path, timeout: float, cell_timeout: float) -> list[Row]:
    command = [sys.executable, "-m", "course.grade", "--one", str(path.resolve()), "--cell-timeout", str(cell_timeout)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        process.communicate()
        return [Row(path.stem, NOTEBOOK_ROW, False,
                    f"did not finish within {timeout:g} s and was stopped (an endless loop that ignores interrupts?)")]
    for line in reversed(stdout.splitlines()):
        if line.startswith(_ROWS_MARKER):
            return [Row(**row) for row in json.loads(line[len(_ROWS_MARKER):])]
    tail = " | ".join(stderr.strip().splitlines()[-3:])
    return [Row(path.stem, NOTEBOOK_ROW, False, f"the grader failed on this file (exit code {process.returncode}): {tail}")]


def grade_folder(folder: Path, timeout: float = 600.0, cell_timeout: float = 120.0, say=print) -> list[Row]:
    """Grade every submission in ``folder`` (not its subfolders); hidden files are skipped.

    A file that is not an ``.ipynb`` and a subfolder each get a failing ``(notebook)`` row.
    """
    rows = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            rows.append(Row(path.name, NOTEBOOK_ROW, False, "a folder, not a notebook: submit the .ipynb file itself"))
        elif path.suffix != ".ipynb":
            rows.append(Row(path.stem, NOTEBOOK_ROW, False, f"not a notebook: {path.name} is not an .ipynb file"))
        else:
            say(f"grading {path.name} ...", flush=True)
            rows += _grade_in_child(path, timeout, cell_timeout)
    return rows


def _one_line(message: str) -> str:
    return message.splitlines()[0].replace("|", "\\|") if message else ""


def write_tables(rows: list[Row], out: Path, force: bool = False) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``grades.md`` into ``out``; refuse to overwrite without ``force``."""
    csv_path, md_path = out / "grades.csv", out / "grades.md"
    _refuse_to_overwrite([csv_path, md_path], force)
    out.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "exercise", "result", "message"])
        writer.writerows([row.student, row.exercise, row.result, row.message] for row in rows)
    passed = Counter(row.student for row in rows if row.passed and row.exercise != NOTEBOOK_ROW)
    total = Counter(row.student for row in rows if row.exercise != NOTEBOOK_ROW)
    lines = ["# Grades", "", "| student | exercise | result | message |", "|---|---|---|---|"]
    lines += [f"| {r.student} | {r.exercise} | {r.result} | {_one_line(r.message)} |" for r in rows]
    lines += ["", "| student | coding exercises passed |", "|---|---|"]
    students = dict.fromkeys(row.student for row in rows)
    lines += [f"| {student} | {passed[student]} of {total[student]} |" for student in students]
    md_path.write_text("\n".join(lines) + "\n")
    return csv_path, md_path


def _refuse_to_overwrite(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(map(str, existing))} exist already; pass --force (make grade ... FORCE=1) "
                              "to overwrite them, or choose another folder with --out")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.grade", description=(
        "Run every submitted notebook of a folder and write a table of the coding exercises passed."))
    parser.add_argument("submissions", nargs="?", type=Path, help="the folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, help="where to write grades.csv and grades.md (default: <submissions>-grades)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one notebook may take (default 600)")
    parser.add_argument("--cell-timeout", type=float, default=120.0, help="seconds one cell may take (default 120)")
    parser.add_argument("--force", action="store_true", help="overwrite existing tables")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # internal: grade one file, print its rows
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.cell_timeout <= 0:
        parser.error("--timeout and --cell-timeout must be positive numbers of seconds")
    if args.one is not None:
        rows = grade_notebook(args.one, args.cell_timeout)
        print(_ROWS_MARKER + json.dumps([row.__dict__ for row in rows]))
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(f"expected a folder of submitted notebooks, got {args.submissions}")
    out = args.out or args.submissions.parent / f"{args.submissions.resolve().name}-grades"
    try:
        _refuse_to_overwrite([out / "grades.csv", out / "grades.md"], args.force)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    rows = grade_folder(args.submissions, args.timeout, args.cell_timeout)
    csv_path, md_path = write_tables(rows, out, force=True)
    print(md_path.read_text())
    print(f"wrote {csv_path} and {md_path} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
