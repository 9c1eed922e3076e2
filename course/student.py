r"""The editions of the exercises: the student edition to hand out, and the instructor edition for nbgrader.

``make student`` (``python -m course.student``) writes, for every chapter notebook of the book
(or for a problem set, see below), an edition into a folder of its own.

The **student edition** (``--edition student``, the default) is the chapter without its
solutions:

* each gated solution (``{solution-start}`` ... ``{solution-end}``) is removed: its text, and
  its code cells without solution markers;
* its code cells with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` stay, with the code between
  the markers replaced by ``raise NotImplementedError(...)``: a function keeps its signature
  and docstring, so the self-check after it runs and says "not written yet";
* a pencil-and-paper or experiment exercise gets an answer cell ("YOUR ANSWER HERE");
* the self-check cells stay.

The cells carry tags (``stub``, ``answer``, ``self-check``; the experiments' code cells also
``skip-grading``, since they are graded by hand) and no nbgrader metadata: this edition is
what students get when the course does not use nbgrader.

The **instructor edition** (``--edition instructor``) is nbgrader's *source*: the lecturer puts
it in nbgrader's ``source/<assignment>/`` folder, and ``nbgrader generate_assignment`` makes the
edition students get (``release/``). Its cells carry nbgrader's metadata:

* the code cells with solution markers are *autograded answer* cells, with the book's solution
  between the markers (nbgrader replaces it by its stub);
* a pencil exercise or an experiment has a *manually graded answer* cell whose text is the
  book's solution and the rubric of ``course/rubrics.yml`` (nbgrader replaces it by "YOUR
  ANSWER HERE"), worth the exercise's points;
* the self-check cells are *read-only* cells;
* after each self-check an *autograder tests* cell, worth the exercise's points, whose hidden
  tests (between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, which nbgrader removes
  from the release) return :func:`lib.exercises.points` on the visible and hidden cases of the
  lecturer's seed: the partial credit nbgrader records is the grading command's.

**Problem sets.** With ``--exercises ex-a,ex-b`` or ``--problem-set FILE`` (see
:mod:`course.catalogue`; repeated, one notebook per file) the command writes one notebook for
each selection instead, in either edition: a title with the exercises and their points, the set-up cells of their chapters (the
code cells without the ``skip-grading`` tag outside the exercises), then each exercise with its
answer cells and self-check, in the order of the selection.

Every edition records in its metadata (``course``) its chapter or problem set, its edition and
its exercises with their points, which the grading command reads. Nothing is overwritten
unless ``--force`` is given, nothing is written into the folder of the book's chapters, and a
symbolic link in the way is replaced, never written through; the command says what it wrote.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.validator import get_validator

from . import catalogue, layout
from .exercise_cells import BEGIN, END, KINDS, SKIP_TAG, Exercise, context_cells, read_exercises, stub_solution_code

__all__ = ["EDITIONS", "book_answers", "chapter_edition", "chapter_notebooks", "main", "problem_set_edition",
           "with_answers", "write_editions"]

ROOT = layout.ROOT
EDITIONS = ("student", "instructor")
ANSWER_TEXT = "**Your answer.** YOUR ANSWER HERE"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict:
    """nbgrader's cell metadata (schema version 3)."""
    metadata = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    return metadata


def _tag(cell, label: str, *tags: str) -> None:
    """Tag a cell of ``label``'s answer or check, and record the label in its ``course`` metadata."""
    cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t not in tags] + list(tags)
    cell.metadata["course"] = {"exercise": label}


def _clean(cell):
    """A deep copy of ``cell`` without outputs."""
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _model_answer(notebook, exercise: Exercise) -> str:
    """The book's solution of ``exercise`` as markdown: its text, and its illustrating code cells as code blocks.

    The code cells with solution markers are answer cells of their own; no line of the answer
    holds a marker, so that nbgrader replaces the whole cell, not a marked region of it.
    """
    parts = []
    for index in range(exercise.solution.start, exercise.solution.end):
        cell = notebook.cells[index]
        if cell.cell_type == "markdown":
            text = cell.source.split("```", 2)[-1] if "{solution-start}" in cell.source else cell.source
            parts.append(text.strip())
        elif cell.source.strip() and index not in exercise.marked_cells:
            parts.append(f"```python\n{cell.source.strip()}\n```")
    lines = "\n\n".join(part for part in parts if part).split("\n")
    return "\n".join(line for line in lines if BEGIN not in line and END not in line)


def _rubric_text(entry: catalogue.Entry, points: float) -> str:
    lines = [f"**Rubric** ({points:g} points)", ""]
    lines += [f"- ({criterion.points:g}) {criterion.text}" for criterion in entry.rubric]
    return "\n".join(lines)


def _replacement(notebook, exercise: Exercise, kind: str, points: float, entry: catalogue.Entry) -> list:
    """The cells that stand in the edition where the solution of ``exercise`` stood."""
    cells = []
    for number, index in enumerate(exercise.marked_cells, start=1):
        cell = _clean(notebook.cells[index])
        grade_id = f"{exercise.label}-code-{number}"
        if kind == "student":
            cell.source = stub_solution_code(cell.source, exercise.label)
            cell.metadata.pop("nbgrader", None)
            _tag(cell, exercise.label, "stub")
        else:
            cell.metadata["nbgrader"] = _nbgrader(grade_id, solution=True, grade=False, locked=False)
            _tag(cell, exercise.label, "solution")
        if exercise.kind == "experiment":
            _tag(cell, exercise.label, SKIP_TAG)  # graded by hand from its outputs; the coding exercises do not need it
        cells.append(cell)
    if exercise.kind in ("pencil", "experiment"):
        if kind == "student":
            answer = nbformat.v4.new_markdown_cell(ANSWER_TEXT, id=f"{exercise.label}-answer")
        else:
            text = _model_answer(notebook, exercise) + "\n\n" + _rubric_text(entry, points)
            answer = nbformat.v4.new_markdown_cell(text, id=f"{exercise.label}-answer")
            answer.metadata["nbgrader"] = _nbgrader(f"{exercise.label}-answer", solution=True, grade=True,
                                                    locked=False, points=points)
        _tag(answer, exercise.label, "answer")
        cells.append(answer)
    return cells


def _tests_source(label: str, function: str, points: float, seed: int) -> str:
    return "\n".join([
        f"# The autograder's test of {label}: {points:g} points, shared equally among its cases, visible and hidden.",
        BEGIN_HIDDEN,
        f"lib.exercises.points({label!r}, {function}, {points!r}, seed={seed!r})",
        END_HIDDEN])


def _check_cells(notebook, exercise: Exercise, kind: str, points: float, seed: int) -> list:
    """The self-check cell of ``exercise`` and, in the instructor edition, its autograder tests cell."""
    from lib import exercises

    check = _clean(notebook.cells[exercise.check_cell])
    _tag(check, exercise.label, "self-check")
    check.metadata.pop("nbgrader", None)
    if kind == "student":
        return [check]
    check.metadata["nbgrader"] = _nbgrader(f"{exercise.label}-check", solution=False, grade=False, locked=True)
    function = exercises.EXERCISES[exercise.label].function_name
    tests = nbformat.v4.new_code_cell(_tests_source(exercise.label, function, points, seed), id=f"{exercise.label}-tests")
    tests.metadata["nbgrader"] = _nbgrader(f"{exercise.label}-tests", solution=False, grade=True, locked=True,
                                           points=points)
    _tag(tests, exercise.label, "tests")
    return [check, tests]


def _course_metadata(kind: str, exercises: list[tuple[str, Exercise]], points: dict[str, float], **where) -> dict:
    return {**where, "edition": kind, "exercises": [
        {"label": e.label, "kind": e.kind, "title": e.title, "chapter": chapter, "points": points[e.label]}
        for chapter, e in exercises]}


def _check_kind(kind: str) -> None:
    if kind not in EDITIONS:
        raise ValueError(f"the edition is one of {EDITIONS}, got {kind!r}")


def chapter_edition(notebook, chapter: str, kind: str = "student", points: dict[str, float] | None = None,
                    seed: int | None = None):
    """The student or instructor edition of a chapter notebook (a new notebook; the input is not changed).

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A chapter notebook of the book, as :mod:`course.exercise_cells` describes.
    chapter : str
        Its name without suffix (``"02-least-squares"``), recorded in the metadata.
    kind : {"student", "instructor"}
    points : dict, optional
        Points by label (default: ``course/rubrics.yml``).
    seed : int, optional
        The seed of the hidden cases in the instructor edition's tests (default:
        :data:`lib.exercises.DEFAULT_SEED`).

    Raises
    ------
    ExerciseStructureError
        If the notebook's exercise cells break a rule of :mod:`course.exercise_cells`.
    ValueError
        If ``kind`` is not an edition, or an exercise has no points.
    """
    from lib.exercises import DEFAULT_SEED

    _check_kind(kind)
    known = catalogue.entries()
    exercises = read_exercises(notebook, chapter)
    points = _points_of([e.label for e in exercises], points, known)
    seed = DEFAULT_SEED if seed is None else seed
    by_start = {e.solution.start: e for e in exercises if e.solution is not None}
    inside = {i for e in exercises if e.solution is not None for i in range(e.solution.start, e.solution.end + 1)}
    checks = {e.check_cell: e for e in exercises if e.check_cell is not None}
    cells = []
    for index, cell in enumerate(notebook.cells):
        if index in by_start:
            exercise = by_start[index]
            cells += _replacement(notebook, exercise, kind, points[exercise.label], known[exercise.label])
        if index in checks:
            cells += _check_cells(notebook, checks[index], kind, points[checks[index].label], seed)
        elif index not in inside:
            cells.append(_clean(cell))
    edition = copy.deepcopy(notebook)
    edition.cells = cells
    edition.metadata["course"] = _course_metadata(kind, [(chapter, e) for e in exercises], points, chapter=chapter)
    return edition


def _points_of(labels: list[str], points: dict[str, float] | None, known: dict[str, catalogue.Entry]) -> dict:
    missing = [label for label in labels if label not in (points or {}) and label not in known]
    if missing:
        raise ValueError(f"no points for {', '.join(missing)}: add them to course/rubrics.yml")
    return {label: (points or {}).get(label, known[label].points if label in known else 0.0) for label in labels}


def problem_set_edition(problem_set: catalogue.ProblemSet, chapters: dict[str, object], kind: str = "student",
                        seed: int | None = None):
    """The notebook of a problem set: a title, the set-up cells of its chapters, then each exercise.

    Parameters
    ----------
    problem_set : catalogue.ProblemSet
    chapters : dict
        The chapter notebooks (``nbformat.NotebookNode``) by name, in book order; those of the
        problem set's exercises are used.
    kind : {"student", "instructor"}
    seed : int, optional
        As in :func:`chapter_edition`.

    Raises
    ------
    ValueError
        If an exercise of the set is in none of ``chapters``, or ``kind`` is not an edition.
    """
    from lib.exercises import DEFAULT_SEED

    _check_kind(kind)
    known = catalogue.entries()
    seed = DEFAULT_SEED if seed is None else seed
    found = {e.label: (name, notebook, e) for name, notebook in chapters.items()
             for e in read_exercises(notebook, name)}
    missing = [label for label in problem_set.labels if label not in found]
    if missing:
        raise ValueError(f"problem set {problem_set.name}: {', '.join(missing)} is in none of the chapters")
    used = [name for name in chapters if any(found[label][0] == name for label in problem_set.labels)]
    rows = [f"| {number} | {label} | {found[label][2].kind} | {found[label][0]} | {problem_set.points[label]:g} |"
            for number, label in enumerate(problem_set.labels, start=1)]
    total = sum(problem_set.points.values())
    title = "\n".join([f"# {problem_set.title}", "",
                       f"Exercises from the chapters of *Length and direction*, {total:g} points in all. Run the "
                       "set-up cells first; each coding exercise has a self-check after it.", "",
                       "| | exercise | kind | chapter | points |", "|---|---|---|---|---|", *rows])
    cells = [nbformat.v4.new_markdown_cell(title, id="problem-set-title")]
    for name in used:
        notebook = chapters[name]
        context = context_cells(notebook, read_exercises(notebook, name))
        cells.append(nbformat.v4.new_markdown_cell(f"Set-up of chapter `{name}`.", id=f"setup-{name}"))
        cells += [_clean(notebook.cells[index]) for index in context]
    for number, label in enumerate(problem_set.labels, start=1):
        name, notebook, exercise = found[label]
        points = problem_set.points[label]
        heading = f"## {number}. {exercise.title} ({points:g} points, chapter `{name}`)"
        if known.get(label) and known[label].context:
            heading += f"\n\n*Context:* {known[label].context}"
        cells.append(nbformat.v4.new_markdown_cell(heading, id=f"{label}-heading"))
        cells.append(_clean(notebook.cells[_statement_cell(notebook, exercise)]))
        cells += _replacement(notebook, exercise, kind, points, known.get(label) or catalogue.Entry(label, points))
        if exercise.check_cell is not None:
            cells += _check_cells(notebook, exercise, kind, points, seed)
    seen: dict[str, int] = {}
    for cell in cells:  # cells of several chapters: the same id may come twice
        seen[cell.id] = seen.get(cell.id, 0) + 1
        if seen[cell.id] > 1:
            cell.id = f"{cell.id[:56]}-{seen[cell.id]}"
    edition = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(chapters[used[0]].metadata))
    exercises = [(found[label][0], found[label][2]) for label in problem_set.labels]
    edition.metadata["course"] = _course_metadata(kind, exercises, problem_set.points, problem_set=problem_set.name)
    return edition


def _statement_cell(notebook, exercise: Exercise) -> int:
    """The index of the cell that states ``exercise`` (the last markdown cell before its solution with its label)."""
    end = exercise.solution.start if exercise.solution is not None else len(notebook.cells)
    return next(index for index in range(end - 1, -1, -1) if notebook.cells[index].cell_type == "markdown"
                and f":label: {exercise.label}" in notebook.cells[index].source)


def book_answers(notebook, chapter: str) -> dict[str, list[str]]:
    """The book's code for the answer cells of each exercise (its marked cells), by label."""
    return {e.label: [notebook.cells[i].source for i in e.marked_cells] for e in read_exercises(notebook, chapter)}


def with_answers(edition, answers: dict[str, list[str]]):
    """A copy of a student edition whose stubs hold ``answers`` (by label, one source per stub, in order).

    With :func:`book_answers` it is the book's own answer to every coding exercise: a
    submission that must get every point, to try grading on before the students' work.
    """
    edition, given = copy.deepcopy(edition), {label: list(sources) for label, sources in answers.items()}
    for cell in edition.cells:
        label = cell.metadata.get("course", {}).get("exercise")
        if "stub" in cell.metadata.get("tags", []) and given.get(label):
            cell.source = given[label].pop(0)
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


def read_chapter(path: Path):
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


def _validated(edition, source: str):
    problem = _schema_problem(edition)
    if problem is not None:  # pragma: no cover - a bug of this module, not of the chapter
        raise ValueError(f"{source}: its edition is not a valid notebook: {problem}")
    return edition


def _refuse_book_folder(out: Path, sources: list[Path]) -> None:
    """Refuse to write into a folder that holds a source notebook (the book's chapters)."""
    folders = {path.resolve().parent for path in sources} | {(ROOT / "book").resolve()}
    if out.resolve() in folders:
        raise ValueError(f"{out} is the folder of the book's chapters: an edition written there would replace "
                         "a chapter. Choose another folder with --out")


def write_editions(editions: list[tuple[str, object]], out: Path, sources: list[Path], force: bool = False,
                   say=print) -> list[Path]:
    """Write notebooks into the folder ``out``: all of them, or none.

    Parameters
    ----------
    editions : list of (file name, notebook)
    out : Path
        The folder to write to (created if missing).
    sources : list of Path
        The notebooks the editions come from: their folder is never written to.
    force : bool, default False
        Replace files that exist (a symbolic link is replaced by the file, never written through).
    say : callable, default print
        Called with one line per file written.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileExistsError
        If a target exists (a dangling symbolic link counts) and ``force`` is false.
    ValueError
        If ``out`` is the folder of a source notebook, or a target is a folder.
    """
    _refuse_book_folder(out, sources)
    targets = [out / name for name, _ in editions]
    folders = [t for t in targets if t.is_dir() and not t.is_symlink()]
    if folders:
        raise ValueError(f"{', '.join(map(str, folders))} is a folder; nothing was written")
    existing = [t for t in targets if os.path.lexists(t)]
    if existing and not force:
        raise FileExistsError(
            f"{len(existing)} of the files to write exist already ({', '.join(str(t) for t in existing)}); "
            "nothing was written. Pass --force (make student FORCE=1) to overwrite them, or choose "
            "another folder with --out")
    out.mkdir(parents=True, exist_ok=True)
    for (name, notebook), target in zip(editions, targets):
        handle, temporary = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".tmp")
        os.chmod(temporary, 0o666 & ~_umask())  # as a plain write would make it (mkstemp's file is private)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            nbformat.write(notebook, file)
        os.replace(temporary, target)  # replaces a symbolic link itself, never what it points to
        listed = notebook.metadata["course"]["exercises"]
        kinds = [e["kind"] for e in listed]
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in KINDS if k in kinds)
        say(f"wrote {target} ({notebook.metadata['course']['edition']} edition, {len(kinds)} exercises"
            f"{': ' + summary if kinds else ''}, {sum(e['points'] for e in listed):g} points)")
    return targets


def _umask() -> int:
    """The process's umask (read by setting it, and set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _build(args, root: Path) -> tuple[list[tuple[str, object]], list[Path]]:
    """The editions the command line asks for, and the notebooks they come from; ValueError if one fails."""
    notebooks = args.notebooks or chapter_notebooks(root)
    if not notebooks:
        raise ValueError(f"{root / '_toc.yml'} names no chapter notebook: the chapters are the .ipynb entries of "
                         "its numbered parts (a part with 'numbered: true'); name the notebooks on the command line "
                         "or number the part of the chapters")
    chapters, errors = {}, []
    for path in notebooks:
        try:
            chapters[path.stem] = read_chapter(path)
        except ValueError as error:
            errors.append(str(error))
    if errors:
        raise ValueError("nothing was written:\n" + "\n".join(errors))
    if args.problem_set or args.exercises:
        problem_sets = ([catalogue.read_problem_set(path) for path in args.problem_set] if args.problem_set else
                        [catalogue.problem_set([s.strip() for s in args.exercises.split(",") if s.strip()],
                                               args.name, args.title)])
        names = [problem_set.name for problem_set in problem_sets]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"two problem-set files have the name {', '.join(twice)}: each is written to <name>.ipynb")
        return [(f"{problem_set.name}.ipynb",
                 _validated(problem_set_edition(problem_set, chapters, args.edition, args.seed), problem_set.name))
                for problem_set in problem_sets], notebooks
    editions = []
    for path in notebooks:
        try:
            edition = chapter_edition(chapters[path.stem], path.stem, args.edition, seed=args.seed)
            editions.append((path.name, _validated(edition, str(path))))
        except ValueError as error:
            errors.append(f"{path}: {error}" if not str(error).startswith(str(path)) else str(error))
    if errors:
        raise ValueError("nothing was written:\n" + "\n".join(errors))
    return editions, notebooks


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
        The exit status: 0 when the editions were written, 1 when nothing was (the reason is
        printed), 2 for a wrong command line.
    """
    parser = argparse.ArgumentParser(prog="python -m course.student", description=(
        "Write the student edition of the book's chapters (solutions replaced by stubs, self-checks kept), or the "
        "instructor edition for nbgrader, for every chapter or for a problem set."))
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: every notebook of the numbered parts of _toc.yml)")
    parser.add_argument("--edition", choices=EDITIONS, default="student",
                        help="student (to hand out) or instructor (nbgrader's source); default student")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--exercises", help="a problem set of these exercises, labels separated by commas")
    selection.add_argument("--problem-set", type=Path, action="append",
                           help="a problem-set file (YAML; see course/catalogue.py); give several for one notebook each")
    parser.add_argument("--name", default="problem-set", help="the notebook's name for --exercises (default problem-set)")
    parser.add_argument("--title", help="the notebook's title for --exercises")
    parser.add_argument("--seed", type=int, help="the seed of the hidden cases in the instructor edition "
                                                 "(default lib.exercises.DEFAULT_SEED; use the same with make grade)")
    parser.add_argument("--out", type=Path, default=Path("student"), help="the folder to write to (default: student)")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    args = parser.parse_args(argv)
    if args.seed is not None and args.seed < 0:
        parser.error("--seed must be a non-negative integer")
    missing = [p for p in args.notebooks if not p.is_file() or p.suffix != ".ipynb"]
    if missing:
        parser.error(f"not a notebook file: {', '.join(map(str, missing))} (expected existing .ipynb files)")
    try:
        editions, sources = _build(args, root)
        write_editions(editions, args.out, sources, force=args.force)
    except (FileExistsError, ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
