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
kernel, calls :func:`grade`, which evaluates the functions the notebook defined and prints
one JSON line per exercise behind a marker chosen by the grader.
"""

from __future__ import annotations

import json
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
    "RESULT_MARKER",
    "for_chapter",
    "grade",
    "register",
]

#: Every coding exercise, by its book label.
EXERCISES: dict[str, CodingExercise] = {}

#: What :func:`grade` prints before each JSON result unless the grader chooses another marker.
RESULT_MARKER = "lib.exercises result:"


def register(exercise: CodingExercise) -> CodingExercise:
    """Add ``exercise`` to :data:`EXERCISES`; a label may be registered once."""
    if exercise.label in EXERCISES:
        raise ValueError(f"the exercise {exercise.label!r} is already registered: {EXERCISES[exercise.label]!r}")
    if not exercise.label.startswith("ex-"):
        raise ValueError(f"exercise labels start with 'ex-', got {exercise.label!r}")
    EXERCISES[exercise.label] = exercise
    return exercise


def for_chapter(chapter: str) -> list[CodingExercise]:
    """The coding exercises of a chapter (its notebook name, e.g. ``"02-least-squares"``), in book order."""
    return [exercise for exercise in EXERCISES.values() if exercise.chapter == chapter]


def grade(namespace: dict, labels: Iterable[str], marker: str = RESULT_MARKER) -> list[ExerciseResult]:
    """Evaluate the functions a notebook defined, for the given exercises, and print the results.

    Parameters
    ----------
    namespace : dict
        The notebook's global names (``globals()`` in its kernel).
    labels : iterable of str
        The exercises to grade.
    marker : str
        Printed before each result, which is one line of JSON (see
        :meth:`ExerciseResult.as_dict`).

    Returns
    -------
    list of ExerciseResult
    """
    results = []
    for label in labels:
        if label not in EXERCISES:
            raise KeyError(f"no coding exercise is registered as {label!r}; known: {sorted(EXERCISES)}")
        exercise = EXERCISES[label]
        function = namespace.get(exercise.function_name)
        if function is None:
            result = ExerciseResult(label, exercise.function_name, "missing", 0, len(exercise.cases),
                                    f"{exercise.function_name} is not defined in the notebook: keep the name "
                                    "of the function the exercise asks for, and run the cell that defines it")
        else:
            result = exercise.evaluate(function)
        print(marker, json.dumps(result.as_dict()), flush=True)
        results.append(result)
    return results


# The chapters' exercise modules register their exercises on import; their check functions
# are the public names a notebook calls.
from .reparametrization import check_length_and_direction_gradients, check_norm_split_parts  # noqa: E402
from .least_squares import check_gdnp_step, check_optimal_length, check_rayleigh_gradient  # noqa: E402
from .halfspaces import check_bisect, check_gdnp_step_size, check_squared_sigmoid_derivatives  # noqa: E402
from .networks import check_coupling_matrix, check_unit_gradients  # noqa: E402
from .beyond import check_bngd_step  # noqa: E402

__all__ += [
    "check_bisect",
    "check_gdnp_step",
    "check_gdnp_step_size",
    "check_length_and_direction_gradients",
    "check_norm_split_parts",
    "check_optimal_length",
    "check_rayleigh_gradient",
    "check_squared_sigmoid_derivatives",
]
