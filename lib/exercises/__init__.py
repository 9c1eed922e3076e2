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

from . import transport  # noqa: F401 (a public submodule: lib.exercises.transport)
from .checker import (Case, CaseTimeout, CodingExercise, Described, ExerciseFailure, ExerciseResult, Outcome,
                      RaisedError, call, earned_points)
from .grading import points, record_outcomes
from .registry import DEFAULT_SEED, EXERCISES, for_chapter, register, registered

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
    "registered",
]


# The chapters' exercise modules register their exercises on import (they import from .registry,
# never from this package, so that there is no import cycle); their check_* functions
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
