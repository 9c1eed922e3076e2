r"""Self-checks for the coding exercises of the book, and the hooks of grading.

Every coding exercise asks for one function (``rayleigh_gradient(w, S, u)``, say) that
:mod:`lib` already implements. The chapter's notebook has, after the exercise, a self-check
cell such as ::

    lib.exercises.check_rayleigh_gradient(rayleigh_gradient)

which runs the student's function and the reference on several seeded cases, edge cases
included, and prints ``rayleigh_gradient: correct (7 cases)`` or the first failing case with
its inputs, the expected and the returned value (see :mod:`lib.exercises.checker`).

Each exercise is a :class:`CodingExercise` registered here under its book label; one module
per chapter defines its exercises, their visible and hidden cases and their ``check_*``
functions. Adding an exercise to a chapter takes the notebook cells and one registered
exercise with its check function.

Grading uses two more functions:

* :func:`record_outcomes`, which the grading command (``course/grade.py``) runs in the kernel
  of a submitted notebook after the student's cells: it calls the student's functions on the
  visible and hidden cases and writes what they returned, as plain data
  (:mod:`lib.exercises.transport`), to a file. The verdict is not made there: the grading
  command compares the outcomes with the reference in its own process;
* :func:`points`, which the test cells of the instructor edition (for nbgrader) call: it
  judges in the kernel and returns the points earned, which nbgrader reads as partial credit.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Iterable

from . import transport
from .checker import (Case, CaseTimeout, CodingExercise, Described, ExerciseFailure, ExerciseResult, Outcome,
                      RaisedError, call, earned_points)

__all__ = [
    "Case",
    "CaseTimeout",
    "CodingExercise",
    "DEFAULT_SEED",
    "Described",
    "EXERCISES",
    "ExerciseFailure",
    "ExerciseResult",
    "Outcome",
    "RaisedError",
    "call",
    "earned_points",
    "for_chapter",
    "points",
    "record_outcomes",
    "register",
]

#: Every coding exercise, by its book label.
EXERCISES: dict[str, CodingExercise] = {}
#: The seed of the hidden cases when the lecturer gives none. It is public (it is here): a
#: lecturer who wants hidden cases nobody can rebuild passes a seed of their own.
DEFAULT_SEED = 20261201


def register(exercise: CodingExercise) -> CodingExercise:
    """Add ``exercise`` to :data:`EXERCISES`; a label may be registered once.

    Parameters
    ----------
    exercise : CodingExercise
        Its label starts with ``ex-`` and is not registered yet.

    Returns
    -------
    CodingExercise
        ``exercise`` itself, so that a chapter module can write ``NAME = register(CodingExercise(...))``.

    Raises
    ------
    ValueError
        If the label is registered already or does not start with ``ex-``.
    """
    if exercise.label in EXERCISES:
        raise ValueError(f"the exercise {exercise.label!r} is already registered: {EXERCISES[exercise.label]!r}")
    if not exercise.label.startswith("ex-"):
        raise ValueError(f"exercise labels start with 'ex-', got {exercise.label!r}")
    EXERCISES[exercise.label] = exercise
    return exercise


def for_chapter(chapter: str) -> list[CodingExercise]:
    """The coding exercises of a chapter, in book order.

    Parameters
    ----------
    chapter : str
        The chapter's notebook name, e.g. ``"02-least-squares"``.

    Returns
    -------
    list of CodingExercise
        Empty for a chapter without coding exercises, or a name that is no chapter.
    """
    return [exercise for exercise in EXERCISES.values() if exercise.chapter == chapter]


def _registered(labels: Iterable[str]) -> list[CodingExercise]:
    labels = list(labels)
    unknown = [label for label in labels if label not in EXERCISES]
    if unknown:
        raise KeyError(f"no coding exercise is registered as {unknown}; known: {sorted(EXERCISES)}")
    return [EXERCISES[label] for label in labels]


def record_outcomes(namespace: dict, labels: Iterable[str], seed: int, path: str | os.PathLike) -> None:
    """Call the functions a notebook defined on the visible and hidden cases, and write what they did to a file.

    This runs in the kernel of a submitted notebook; it judges nothing. The file is rewritten
    after every exercise, so that it holds the outcomes so far if a later exercise stops the
    grading.

    Parameters
    ----------
    namespace : dict
        The notebook's global names (``globals()`` in its kernel).
    labels : iterable of str
        The exercises to run.
    seed : int
        The seed of the hidden cases.
    path : str or path-like
        The file to write: a JSON list with one object per exercise, ``{"exercise": label,
        "defined": bool, "outcomes": [...]}``, the outcomes encoded by
        :func:`lib.exercises.transport.encode` in the order of
        :meth:`CodingExercise.graded_cases`.

    Raises
    ------
    KeyError
        If a label is not a registered exercise (before anything runs).
    """
    exercises = _registered(labels)
    path = Path(path)
    records = []
    for exercise in exercises:
        function = namespace.get(exercise.function_name)
        record = {"exercise": exercise.label, "defined": callable(function), "outcomes": []}
        if callable(function):
            outcomes = exercise.run(function, exercise.graded_cases(seed))
            record["outcomes"] = [transport.encode(outcome) for outcome in outcomes]
        records.append(record)
        partial = path.with_name(path.name + ".partial")  # replaced at once: the file is never half written
        partial.write_text(json.dumps(records), encoding="utf-8")
        os.replace(partial, path)


def points(label: str, function, maximum: float, seed: int = DEFAULT_SEED) -> float:
    """The points ``function`` earns on exercise ``label``: ``maximum`` times the share of cases passed.

    What the test cell of an exercise in the instructor edition returns, so that nbgrader
    (which reads a number as the last output of a test cell as partial credit) gives the same
    points as the grading command: the visible and the hidden cases of ``seed`` count alike.
    It prints the result's first line; what the function writes to the error stream is
    swallowed (nbgrader gives 0 to a test cell that writes there).

    Parameters
    ----------
    label : str
        A registered exercise.
    function : callable
        The student's function.
    maximum : float
        The exercise's points.
    seed : int, default DEFAULT_SEED
        The seed of the hidden cases.

    Returns
    -------
    float
        See :func:`earned_points`.
    """
    [exercise] = _registered([label])
    with contextlib.redirect_stderr(io.StringIO()):
        result = exercise.evaluate(function, seed=seed)
    print(result.message.splitlines()[0])
    return result.points(maximum)


# The chapters' exercise modules register their exercises on import; their check_* functions
# are the public names a notebook calls (``lib.exercises.check_rayleigh_gradient``).
from . import beyond, faster, halfspaces, least_squares, networks, reparametrization  # noqa: E402

_CHAPTER_MODULES = (reparametrization, least_squares, halfspaces, networks, beyond, faster)


def _check_functions() -> dict:
    """The ``check_*`` functions the chapter modules define, by name; a name may be defined once."""
    found = {}
    for module in _CHAPTER_MODULES:
        for name, value in vars(module).items():
            if name.startswith("check_") and callable(value) and value.__module__ == module.__name__:
                if name in found:
                    raise ImportError(f"{name} is defined in {found[name].__module__} and in {module.__name__}")
                found[name] = value
    return found


_CHECKS = _check_functions()
globals().update(_CHECKS)
__all__ += sorted(_CHECKS)
