r"""Self-checks for the coding exercises of the book, and the hook the grading command uses.

Every coding exercise asks for one function (``rayleigh_gradient(w, S, u)``, say) that
:mod:`lib` already implements. The chapter's notebook has, after the exercise, a self-check
cell such as ::

    lib.exercises.check_rayleigh_gradient(rayleigh_gradient)

which runs the student's function and the reference on several seeded cases, edge cases
included, and prints ``rayleigh_gradient: correct (7 cases)`` or the first failing case with
its inputs, the expected and the returned value (see :mod:`lib.exercises.checker`).

Each exercise is a :class:`CodingExercise` registered here under its book label; one module
per chapter defines its exercises and their ``check_*`` functions. Adding an exercise to a
chapter takes the notebook cells and one registered exercise with its check function.

The grading command (``course/grade.py``) runs a submitted notebook and then, in the same
kernel, calls :func:`grade`, which evaluates the functions the notebook defined and writes the
results to a JSON file the grader names (not to the output, which the student's code shares).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from .checker import Case, CaseTimeout, CodingExercise, Described, ExerciseFailure, ExerciseResult

__all__ = [
    "Case",
    "CaseTimeout",
    "CodingExercise",
    "Described",
    "EXERCISES",
    "ExerciseFailure",
    "ExerciseResult",
    "for_chapter",
    "grade",
    "register",
]

#: Every coding exercise, by its book label.
EXERCISES: dict[str, CodingExercise] = {}

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


def grade(namespace: dict, labels: Iterable[str], path: str | os.PathLike) -> list[ExerciseResult]:
    """Evaluate the functions a notebook defined, for the given exercises, and write the results to a file.

    The file is rewritten after every exercise, so that it holds the results so far if a later
    exercise stops the grading.

    Parameters
    ----------
    namespace : dict
        The notebook's global names (``globals()`` in its kernel).
    labels : iterable of str
        The exercises to grade.
    path : str or path-like
        The file to write: a JSON list with one object per exercise graded, in the order of
        ``labels`` (see :meth:`ExerciseResult.as_dict`), in UTF-8.

    Returns
    -------
    list of ExerciseResult

    Raises
    ------
    KeyError
        If a label is not a registered exercise (before anything is evaluated).
    """
    labels = list(labels)
    unknown = [label for label in labels if label not in EXERCISES]
    if unknown:
        raise KeyError(f"no coding exercise is registered as {unknown}; known: {sorted(EXERCISES)}")
    path = Path(path)
    results = []
    for label in labels:
        exercise = EXERCISES[label]
        function = namespace.get(exercise.function_name)
        if function is None:
            result = ExerciseResult(label, exercise.function_name, "missing", 0, len(exercise.cases),
                                    f"{exercise.function_name} is not defined in the notebook: keep the name "
                                    "of the function the exercise asks for, and run the cell that defines it")
        else:
            result = exercise.evaluate(function)
        results.append(result)
        partial = path.with_name(path.name + ".partial")  # replaced at once: the file is never half written
        partial.write_text(json.dumps([r.as_dict() for r in results]), encoding="utf-8")
        os.replace(partial, path)
    return results


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
