"""The registry of coding exercises: :data:`EXERCISES` by book label, :func:`register`, which a
chapter module calls for each of its exercises, and the lookups :func:`for_chapter` and
:func:`registered`.

The chapter modules import from here; the package :mod:`lib.exercises` imports them, so that
importing it registers every exercise.
"""

from __future__ import annotations

from typing import Iterable

from .checker import CodingExercise

__all__ = ["DEFAULT_SEED", "EXERCISES", "for_chapter", "register", "registered"]

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


def registered(labels: Iterable[str]) -> list[CodingExercise]:
    """The exercises registered under ``labels``, in that order.

    Raises
    ------
    KeyError
        If a label is not a registered exercise (the message lists the known ones).
    """
    labels = list(labels)
    unknown = [label for label in labels if label not in EXERCISES]
    if unknown:
        raise KeyError(f"no coding exercise is registered as {unknown}; known: {sorted(EXERCISES)}")
    return [EXERCISES[label] for label in labels]
