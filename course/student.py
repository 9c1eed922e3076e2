r"""The student edition: the chapter notebooks without their solutions.

``make student`` (``python -m course.student``) writes, for every chapter notebook of the
book, a copy in ``student/`` in which

* each gated solution (``{solution-start}`` ... ``{solution-end}``) is removed: its text, and
  its code cells without solution markers;
* its code cells with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` stay, with the code between
  the markers replaced by ``raise NotImplementedError(...)``: a function keeps its signature
  and docstring, so the self-check after it runs and says "not written yet". The markers stay,
  to show where the answer goes and so that nbgrader, if the edition is its source, replaces
  only the stub;
* a pencil-and-paper or experiment exercise gets an answer cell ("YOUR ANSWER HERE");
* the self-check cells stay.

The cells carry nbgrader's metadata (answer cells and stubs are ``solution`` cells,
self-checks are autograded ``grade`` cells worth one point, locked) and a tag (``answer``,
``stub``, ``self-check``), so that a lecturer who uses nbgrader can collect and grade the
notebooks as they are. The notebook's metadata names its chapter (``course.chapter``), which
the grading command reads.

Nothing is overwritten unless ``--force`` is given; the command says what it wrote.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import nbformat
from nbformat.validator import get_validator

from . import layout
from .exercise_cells import KINDS, Exercise, read_exercises, stub_solution_code

__all__ = ["student_edition", "chapter_notebooks", "write_student_edition", "main"]

ROOT = layout.ROOT
ANSWER_TEXT = "**Your answer.** YOUR ANSWER HERE"


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: int | None = None) -> dict:
    metadata = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    return metadata


def _mark(cell, tag: str, nbgrader: dict) -> None:
    tags = [t for t in cell.metadata.get("tags", []) if t != tag]
    cell.metadata["tags"] = tags + [tag]
    cell.metadata["nbgrader"] = nbgrader


def _replacement(notebook, exercise: Exercise) -> list:
    """The cells that stand in the student edition where the solution of ``exercise`` stood."""
    cells = []
    for number, index in enumerate(exercise.marked_cells, start=1):
        stub = copy.deepcopy(notebook.cells[index])
        stub.source = stub_solution_code(stub.source, exercise.label)
        stub.outputs, stub.execution_count = [], None
        _mark(stub, "stub", _nbgrader(f"{exercise.label}-code-{number}", solution=True, grade=False))
        cells.append(stub)
    if exercise.kind in ("pencil", "experiment"):
        answer = nbformat.v4.new_markdown_cell(ANSWER_TEXT, id=f"{exercise.label}-answer")
        _mark(answer, "answer", _nbgrader(f"{exercise.label}-answer", solution=True, grade=True, points=1))
        cells.append(answer)
    return cells


def student_edition(notebook, chapter: str):
    """Return the student edition of a chapter notebook (a new notebook; the input is not changed).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A chapter notebook of the book, as :mod:`course.exercise_cells` describes.
    chapter : str
        Its name without suffix (``"02-least-squares"``), recorded in the metadata.

    Raises
    ------
    ExerciseStructureError
        If the notebook's exercise cells break a rule of :mod:`course.exercise_cells`.
    """
    exercises = read_exercises(notebook, chapter)
    by_start = {e.solution.start: e for e in exercises if e.solution is not None}
    inside = {i for e in exercises if e.solution is not None for i in range(e.solution.start, e.solution.end + 1)}
    checks = {e.check_cell: e for e in exercises if e.check_cell is not None}
    edition = copy.deepcopy(notebook)
    cells = []
    for index, cell in enumerate(edition.cells):  # a copy: the cells can be changed in place
        if index in by_start:
            cells += _replacement(notebook, by_start[index])
        if index in inside:
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if index in checks:
            label = checks[index].label
            _mark(cell, "self-check", _nbgrader(f"{label}-check", solution=False, grade=True, points=1))
        cells.append(cell)
    edition.cells = cells
    edition.metadata["course"] = {
        "chapter": chapter,
        "edition": "student",
        "exercises": [{"label": e.label, "kind": e.kind, "title": e.title} for e in exercises],
    }
    return edition


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks of the book's chapters, in the order of its table of contents.

    The chapters are the entries of the numbered parts of ``_toc.yml`` (see
    :mod:`course.layout`): the unnumbered appendices (the generated verification page, for
    instance) are not chapters.

    Parameters
    ----------
    root : Path
        The repository's root, which holds ``_toc.yml``.

    Returns
    -------
    list of Path
        The chapters' ``.ipynb`` files (a chapter written as a markdown page has no exercises
        to hand out and is left out). Errors are those of :func:`course.layout.chapters`.
    """
    return [path for path in layout.chapters(root) if path.suffix == ".ipynb"]


def _schema_problem(notebook: dict) -> str | None:
    """What makes ``notebook`` (plain JSON data) an invalid nbformat 4 notebook, or None."""
    validator = get_validator(version=4, version_minor=notebook.get("nbformat_minor"))
    error = next(iter(validator.iter_errors(notebook)), None)
    return None if error is None else error.message


def _read_chapter(path: Path):
    """Read a chapter notebook; a file that is not one is a ValueError that names it.

    Raises
    ------
    ValueError
        If ``path`` is not UTF-8 text, not JSON, or not a valid notebook of nbformat 4.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start} cannot be decoded); expected a "
                         "notebook, which is JSON in UTF-8") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error}); expected a Jupyter notebook") from error
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        raise ValueError(f"{path}: not a notebook of nbformat 4; expected a JSON object with \"nbformat\": 4, "
                         "\"cells\" and \"metadata\"")
    problem = _schema_problem(data)
    if problem is not None:
        raise ValueError(f"{path}: not a valid notebook of nbformat 4: {problem}")
    return nbformat.v4.to_notebook(data)  # parsed and validated above


def _edition_of(path: Path):
    """The student edition of the chapter notebook at ``path``, validated (ValueError otherwise)."""
    edition = student_edition(_read_chapter(path), path.stem)
    problem = _schema_problem(edition)
    if problem is not None:  # pragma: no cover - a bug of student_edition, not of the chapter
        raise ValueError(f"{path}: its student edition is not a valid notebook: {problem}")
    return edition


def write_student_edition(notebooks: list[Path], out: Path, force: bool = False, say=print) -> list[Path]:
    """Write the student edition of ``notebooks`` into the folder ``out``.

    Every notebook is read, converted and validated before anything is written: if one fails,
    or if a target exists and ``force`` is false, nothing is written.

    Parameters
    ----------
    notebooks : list of Path
        Chapter notebooks of the book.
    out : Path
        The folder to write to (created if missing); each edition keeps its notebook's name.
    force : bool, default False
        Overwrite files that exist.
    say : callable, default print
        Called with one line per file written.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        If a notebook cannot be read or converted (one line per such notebook, each starting
        with its path); :class:`~course.exercise_cells.ExerciseStructureError` is one.
    FileExistsError
        If a target exists and ``force`` is false.
    """
    editions, errors = [], []
    for path in notebooks:
        try:
            editions.append((path, _edition_of(path)))
        except ValueError as error:
            errors.append(str(error))
    if errors:
        raise ValueError("nothing was written:\n" + "\n".join(errors))
    targets = [out / path.name for path, _ in editions]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise FileExistsError(
            f"{len(existing)} of the files to write exist already ({', '.join(str(t) for t in existing)}); "
            "nothing was written. Pass --force (make student FORCE=1) to overwrite them, or choose "
            "another folder with --out")
    out.mkdir(parents=True, exist_ok=True)
    for (path, edition), target in zip(editions, targets):
        nbformat.write(edition, target)
        kinds = [e["kind"] for e in edition.metadata["course"]["exercises"]]
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in KINDS if k in kinds)
        say(f"wrote {target} ({len(kinds)} exercises{': ' + summary if kinds else ''}) from {path}")
    return targets


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """The command ``python -m course.student`` (``make student``).

    Parameters
    ----------
    argv : list of str, optional
        The command's arguments (default: ``sys.argv[1:]``); ``--help`` lists them.
    root : Path
        The repository whose table of contents names the chapters when no notebook is given.

    Returns
    -------
    int
        The exit status: 0 when the edition was written, 1 when nothing was (the reason is
        printed), 2 for a wrong command line.
    """
    parser = argparse.ArgumentParser(prog="python -m course.student", description=(
        "Write the student edition of the book's chapters: solutions removed, solution code replaced by "
        "stubs that raise NotImplementedError, self-checks kept."))
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: every notebook of the numbered parts of _toc.yml)")
    parser.add_argument("--out", type=Path, default=Path("student"), help="the folder to write to (default: student)")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    args = parser.parse_args(argv)
    notebooks = args.notebooks
    if not notebooks:
        try:
            notebooks = chapter_notebooks(root)
        except (ValueError, FileNotFoundError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        if not notebooks:
            print(f"error: {root / '_toc.yml'} names no chapter notebook: the chapters are the .ipynb entries of "
                  "its numbered parts (a part with 'numbered: true'); name the notebooks on the command line "
                  "or number the part of the chapters", file=sys.stderr)
            return 1
    missing = [p for p in notebooks if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        parser.error(f"not a notebook file: {', '.join(map(str, missing))} (expected existing .ipynb files)")
    try:
        write_student_edition(notebooks, args.out, force=args.force)
    except (FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
