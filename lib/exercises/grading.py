"""The two hooks of grading: :func:`record_outcomes`, which runs in the kernel of a submitted
notebook and writes what the student's functions returned (the grading command judges them in
its own process), and :func:`points`, which the test cells of the instructor edition call for
nbgrader's partial credit.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Iterable

from . import transport
from .registry import DEFAULT_SEED, registered

__all__ = ["points", "record_outcomes"]


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
    exercises = registered(labels)
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
    [exercise] = registered([label])
    with contextlib.redirect_stderr(io.StringIO()):
        result = exercise.evaluate(function, seed=seed)
    print(result.message.splitlines()[0])
    return result.points(maximum)
