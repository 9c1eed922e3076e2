r"""How a chapter notebook writes its exercises, and how the course kit reads them.

An exercise is written in cells of the chapter notebook, in this order::

    [markdown]  ```{exercise} The Rayleigh gradient
                :label: ex-ls-rayleigh-gradient
                :class: coding
                <the task>
                ```
    [markdown]  ```{solution-start} ex-ls-rayleigh-gradient
                :class: dropdown
                ```
                <the solution's text>
    [code]      def rayleigh_gradient(w, S, u):
                    '''<docstring: kept in the student edition>'''
                    ### BEGIN SOLUTION
                    <the solution's code>
                    ### END SOLUTION
    [markdown]  ```{solution-end}
                ```
    [code]      lib.exercises.check_rayleigh_gradient(rayleigh_gradient)

* The directives are written exactly so: three backticks, one exercise per cell, and the
  solution between ``{solution-start}`` and ``{solution-end}``. Any other way of opening an
  exercise or a solution (a ``:::`` colon fence, four backticks, sphinx-exercise's own
  ``{solution}``) is an error: the course kit would not see it, and its solution would reach
  the student edition.
* The label is ``ex-`` followed by lowercase words joined by ``-`` (Sphinx lowercases labels, so
  a capital would break the references to it).
* ``:class:`` names the kind: ``pencil`` (a derivation or a step of a proof), ``coding`` (a
  function that a self-check tests) or ``experiment`` (vary a hypothesis, explain what
  breaks).
* Everything between ``{solution-start}`` and ``{solution-end}`` is the solution. In the book it
  is folded (``:class: dropdown``) and its code cells run in the build. The cell that opens it
  starts with the directive; the cell that closes it holds only the directive.
* Inside a solution, code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
  markers) is what the student writes: the student edition keeps the rest of the cell (the
  signature and the docstring) and the markers, and puts a stub that raises
  :class:`NotImplementedError` between them. Code cells of a solution without markers (a numerical confirmation, a figure) are
  solution only and are dropped. Markers outside a solution are an error: the book would show
  the code unfolded.
* A coding exercise is followed, after its solution, by a self-check cell that calls
  ``lib.exercises.check_<function name>``; the exercise is registered in :mod:`lib.exercises`
  under the same label.
* A code cell that the exercises do not need (a theorem check, a figure, an experiment of
  the chapter's text) carries the tag ``skip-grading`` (:data:`SKIP_TAG`): grading does not
  run it, and a problem set does not copy it. The cells without the tag outside the
  exercises (the chapter's set-up cell with its imports, the imports of the exercises
  section) are the *context* of the exercises: a problem set copies them.

:func:`read_exercises` checks these rules and returns what the student edition and the
grading command need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "BEGIN",
    "END",
    "KINDS",
    "SKIP_TAG",
    "STUB",
    "Exercise",
    "ExerciseStructureError",
    "Solution",
    "check_calls",
    "context_cells",
    "has_markers",
    "read_exercises",
    "stub_solution_code",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: What stands between the markers in the student edition (nbgrader's stub, with a message).
STUB = ("# YOUR CODE HERE", 'raise NotImplementedError("{label}: replace this line by your code")')
KINDS = ("pencil", "coding", "experiment")
#: The tag of a code cell that grading does not run and a problem set does not copy.
SKIP_TAG = "skip-grading"

_EXERCISE = re.compile(r"^```\{exercise\}[ \t]*(?P<title>[^\n]*)\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)", re.M)
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>[^\n]*)$", re.M)
_SOLUTION_START = re.compile(r"^```\{solution-start\}[ \t]*(?P<label>[\w-]*)[ \t]*$", re.M)
_SOLUTION_END = re.compile(r"^```\{solution-end\}[ \t]*\n```[ \t]*$", re.M)
#: Any line that opens an exercise or solution directive, in any fence (backticks or colons).
_ANY_DIRECTIVE = re.compile(r"^(?:`{3,}|:{3,})\{(?:exercise|solution[\w-]*)\}.*$", re.M)
_LABEL = re.compile(r"ex-[a-z0-9]+(?:-[a-z0-9]+)*")
_CHECK_CALL = re.compile(r"\bexercises\.(check_\w+)\(")


class ExerciseStructureError(ValueError):
    """The exercise cells of a notebook break a rule of :mod:`course.exercise_cells`."""


@dataclass
class Solution:
    """The cells ``start`` to ``end`` (inclusive) of a gated solution."""

    label: str
    start: int
    end: int


@dataclass
class Exercise:
    """One exercise of a notebook: its label, kind and title, where it stands, and its solution."""

    label: str
    kind: str
    title: str
    solution: Solution | None = None
    #: Indices of the solution's code cells with BEGIN/END SOLUTION markers.
    marked_cells: list[int] = field(default_factory=list)
    #: Index of the self-check cell that follows the solution, if any.
    check_cell: int | None = None
    #: The name of the check function that cell calls (``check_rayleigh_gradient``).
    check_name: str | None = None


def _source(cell) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def has_markers(source: str) -> bool:
    """Whether a code cell's source contains nbgrader's solution markers."""
    return BEGIN in source or END in source


def check_calls(source: str) -> list[str]:
    """The names of the ``lib.exercises`` check functions a code cell calls."""
    return _CHECK_CALL.findall(source)


def stub_solution_code(source: str, label: str) -> str:
    """Replace the code of every BEGIN/END SOLUTION region of ``source`` by a stub raising NotImplementedError.

    The markers stay around the stub, which has the indentation of the BEGIN marker: a function
    keeps its signature and docstring, the name stays defined, and nbgrader, given the result
    as its source, replaces only the stub. Stubbing a stub changes nothing.

    Raises
    ------
    ExerciseStructureError
        If the markers are unbalanced or nested.
    """
    lines = source.split("\n")
    output, inside = [], False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ExerciseStructureError(f"{label}: a second {BEGIN!r} before {END!r} (line {number})")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            output += [line, *(indent + stub_line.format(label=label) for stub_line in STUB)]
        elif stripped == END:
            if not inside:
                raise ExerciseStructureError(f"{label}: {END!r} without {BEGIN!r} (line {number})")
            inside = False
            output.append(line)
        elif BEGIN in line or END in line:
            raise ExerciseStructureError(f"{label}: a solution marker must stand alone on its line (line {number})")
        elif not inside:
            output.append(line)
    if inside:
        raise ExerciseStructureError(f"{label}: {BEGIN!r} is never closed by {END!r}")
    return "\n".join(output)


def _parse_exercise(found: re.Match | None, index: int, name: str) -> Exercise | None:
    if found is None:
        return None
    options = {m["key"]: m["value"].strip() for m in _OPTION.finditer(found["options"])}
    label = options.get("label")
    if not label or not _LABEL.fullmatch(label):
        raise ExerciseStructureError(f"{name}, cell {index}: an exercise needs a :label: of the form ex-<lowercase "
                                     f"words joined by ->, got {label!r} (Sphinx lowercases labels, and ex- marks them)")
    kinds = [k for k in options.get("class", "").split() if k in KINDS]
    if len(kinds) != 1:
        raise ExerciseStructureError(
            f"{name}, cell {index}: exercise {label} needs exactly one kind among {KINDS} in its :class: "
            f"option, got {options.get('class', '(none)')!r}")
    return Exercise(label, kinds[0], found["title"].strip())


def _unread_directive(source: str, read: list[re.Match | None]) -> str | None:
    """The first line of ``source`` that opens an exercise or a solution but is not one of the ``read`` matches.

    Such a line (a colon fence, four backticks, a ``{solution}`` directive, a second exercise
    in one cell) would be invisible to the course kit, and its solution would reach the student
    edition.
    """
    taken = {match.start() for match in read if match is not None}
    return next((m.group(0) for m in _ANY_DIRECTIVE.finditer(source) if m.start() not in taken), None)


def read_exercises(notebook, name: str = "the notebook") -> list[Exercise]:
    """Find the exercises of a notebook, their solutions, marked cells and self-checks.

    Parameters
    ----------
    notebook : nbformat.NotebookNode or dict
    name : str
        How error messages call the notebook.

    Returns
    -------
    list of Exercise
        In the order of the notebook.

    Raises
    ------
    ExerciseStructureError
        If a rule of this module is broken: an exercise or solution directive written in
        another form (a colon fence, four backticks, ``{solution}``, two exercises in one
        cell), a solution that is not closed or that opens inside another, a solution of an
        unknown exercise or before its exercise, an opening cell with text before the
        directive, a closing cell with anything but the directive, solution markers outside a
        solution, or a check cell before its exercise's solution.
    """
    exercises: dict[str, Exercise] = {}
    open_solution: Solution | None = None
    last_closed: Exercise | None = None
    for index, cell in enumerate(notebook["cells"]):
        source = _source(cell)
        where = f"{name}, cell {index}"
        if cell["cell_type"] == "markdown":
            start = _SOLUTION_START.search(source)
            end = _SOLUTION_END.search(source)
            opening = _EXERCISE.search(source)
            exercise = _parse_exercise(opening, index, name)
            unread = _unread_directive(source, [opening, start, end])
            if unread is not None:
                raise ExerciseStructureError(
                    f"{where}: the course kit cannot read the line {unread!r}. Write an exercise as ```{{exercise}} "
                    "<title> (three backticks, not a colon fence or four backticks), one per cell, and its "
                    "solution between ```{solution-start} <label> and ```{solution-end} in cells of their own "
                    "(not ```{solution})")
            if exercise is not None:
                if open_solution is not None:
                    raise ExerciseStructureError(f"{where}: exercise {exercise.label} inside the solution of {open_solution.label}")
                if exercise.label in exercises:
                    raise ExerciseStructureError(f"{where}: a second exercise labelled {exercise.label}")
                exercises[exercise.label] = exercise
            if start is not None:
                if open_solution is not None:
                    raise ExerciseStructureError(f"{where}: a solution opens inside the solution of {open_solution.label}")
                if source[: start.start()].strip():
                    raise ExerciseStructureError(f"{where}: the cell that opens a solution must start with the directive")
                if start["label"] not in exercises:
                    raise ExerciseStructureError(f"{where}: solution of {start['label'] or '(no label)'}, which no exercise "
                                                 "before it has as its :label:")
                open_solution = Solution(start["label"], index, index)
                exercises[start["label"]].solution = open_solution
            if end is not None:
                if open_solution is None or start is not None:
                    raise ExerciseStructureError(f"{where}: a solution closes that was not opened in an earlier cell")
                if source.strip() != end.group(0).strip():
                    raise ExerciseStructureError(f"{where}: the cell that closes a solution must hold only the directive")
                open_solution.end = index
                last_closed = exercises[open_solution.label]
                open_solution = None
        elif cell["cell_type"] == "code":
            source_has_markers = has_markers(source)
            if source_has_markers:
                if open_solution is None:
                    raise ExerciseStructureError(f"{where}: solution markers outside a solution (the book would show them unfolded)")
                exercises[open_solution.label].marked_cells.append(index)
            for check in check_calls(source):
                if open_solution is not None:
                    raise ExerciseStructureError(f"{where}: a self-check inside a solution; put it after the solution's end")
                if last_closed is None or last_closed.check_cell is not None:
                    raise ExerciseStructureError(f"{where}: the self-check {check} does not follow a solution")
                last_closed.check_cell, last_closed.check_name = index, check
    if open_solution is not None:
        raise ExerciseStructureError(f"{name}: the solution of {open_solution.label} is never closed")
    return list(exercises.values())


def context_cells(notebook, exercises: list[Exercise]) -> list[int]:
    """The indices of the code cells the exercises may need: not tagged :data:`SKIP_TAG`, not part of an exercise.

    Parameters
    ----------
    notebook : nbformat.NotebookNode or dict
    exercises : list of Exercise
        What :func:`read_exercises` found in ``notebook``.
    """
    taken = {e.check_cell for e in exercises if e.check_cell is not None}
    taken |= {i for e in exercises if e.solution is not None for i in range(e.solution.start, e.solution.end + 1)}
    return [index for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code" and index not in taken
            and SKIP_TAG not in (cell.get("metadata", {}).get("tags") or [])]
