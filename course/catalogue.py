r"""What an assignment asks and what it is worth: the book's exercises, their points and rubrics, problem sets.

* :func:`book_exercises` reads every exercise of the book's chapters (label, kind, title,
  chapter), in book order.
* ``course/rubrics.yml`` gives every exercise its points and, for the pencil exercises and the
  experiments, a rubric for grading by hand; :func:`entries` reads it.
* A *problem set* is a selection of exercises, from one chapter or several, with their points
  (:class:`ProblemSet`). It is written in a YAML file ::

      name: week-3                  # the notebook's name: week-3.ipynb (lowercase words joined by -)
      title: Halfspaces, week 3     # optional, the notebook's title
      exercises:
        - ex-hs-stein-1d            # worth its points in course/rubrics.yml
        - ex-hs-bisection
        - label: ex-hs-step-size    # or worth other points
          points: 5

  or given as a list of labels on the command line (:func:`problem_set`). The student edition
  writes one notebook per problem set; the grading command grades a problem set's exercises
  with its points.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import layout
from .exercise_cells import Exercise, read_exercises

__all__ = ["BookExercise", "Criterion", "Entry", "ProblemSet", "book_exercises", "entries", "problem_set",
           "read_problem_set"]

ROOT = layout.ROOT
RUBRICS = Path(__file__).resolve().parent / "rubrics.yml"
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Criterion:
    """One line of a rubric: what earns ``points``."""

    points: float
    text: str


@dataclass(frozen=True)
class Entry:
    """An exercise's points, its rubric (pencil and experiment exercises) and what it needs from its chapter."""

    label: str
    points: float
    rubric: tuple[Criterion, ...] = ()
    context: str | None = None


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def entries(path: Path = RUBRICS) -> dict[str, Entry]:
    """The points and rubrics of ``course/rubrics.yml``, by label.

    Raises
    ------
    ValueError
        If the file cannot be read, an entry has no positive ``points``, or a rubric's
        criteria (pairs ``[points, text]``) do not add up to the exercise's points.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the points and rubrics ({error})") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping from exercise labels to their points and rubrics")
    found = {}
    for label, entry in data.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: {label}: expected a mapping with 'points' (and 'rubric', 'context')")
        points = _positive(entry.get("points"), f"{path}: {label}: points")
        rubric = []
        for item in entry.get("rubric") or []:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)):
                raise ValueError(f"{path}: {label}: a rubric line is [points, text], got {item!r}")
            rubric.append(Criterion(_positive(item[0], f"{path}: {label}: a rubric line's points"), item[1]))
        if rubric and abs(sum(c.points for c in rubric) - points) > 1e-9 * points:
            raise ValueError(f"{path}: {label}: the rubric's points add up to {sum(c.points for c in rubric):g}, "
                             f"not to the exercise's {points:g}")
        context = entry.get("context")
        found[label] = Entry(label, points, tuple(rubric), context if isinstance(context, str) else None)
    return found


@dataclass(frozen=True)
class BookExercise:
    """An exercise as the book has it: where it stands, and what :func:`read_exercises` found."""

    chapter: str
    path: Path
    exercise: Exercise


def book_exercises(root: Path = ROOT) -> dict[str, BookExercise]:
    """Every exercise of the book's chapter notebooks, by label, in book order.

    Errors are those of :func:`course.layout.chapters` and of
    :func:`course.exercise_cells.read_exercises` (which gets the notebook as JSON data).
    """
    found = {}
    for path in layout.chapters(root):
        if path.suffix != ".ipynb":
            continue
        for exercise in read_exercises(json.loads(path.read_text(encoding="utf-8")), path.stem):
            found[exercise.label] = BookExercise(path.stem, path, exercise)
    return found


@dataclass(frozen=True)
class ProblemSet:
    """A selection of exercises with their points, in the order they are set."""

    name: str
    title: str
    points: dict[str, float]

    @property
    def labels(self) -> list[str]:
        return list(self.points)


def _checked_name(name, where: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{where}: a problem set's name is lowercase words joined by - (it names the notebook), "
                         f"got {name!r}")
    return name


def problem_set(labels: list[str], name: str, title: str | None = None, known: dict[str, Entry] | None = None,
                points: dict[str, float] | None = None) -> ProblemSet:
    """A problem set of ``labels``, each worth its points in ``known`` unless ``points`` says otherwise.

    Raises
    ------
    ValueError
        If a label is not an exercise of ``known`` (default: :func:`entries`), is given twice,
        or the list is empty, or ``name`` is not lowercase words joined by ``-``.
    """
    known = entries() if known is None else known
    points = points or {}
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ValueError(f"no exercise of the book is labelled {', '.join(unknown)}; the labels are in "
                         "course/rubrics.yml and on the lecturers' page")
    if len(set(labels)) != len(labels) or not labels:
        raise ValueError(f"a problem set lists each exercise once, and at least one; got {labels}")
    name = _checked_name(name, "problem set")
    return ProblemSet(name, title or name, {label: points.get(label, known[label].points) for label in labels})


def read_problem_set(path: Path, known: dict[str, Entry] | None = None) -> ProblemSet:
    """The problem set of a YAML file (see the module's notes).

    Raises
    ------
    ValueError
        If the file cannot be read or breaks the format; the message names the file.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the problem set ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), list):
        raise ValueError(f"{path}: expected a mapping with 'name' and a list of 'exercises' (see course/catalogue.py)")
    labels, points = [], {}
    for item in data["exercises"]:
        if isinstance(item, str):
            labels.append(item)
        elif isinstance(item, dict) and isinstance(item.get("label"), str):
            labels.append(item["label"])
            if "points" in item:
                points[item["label"]] = _positive(item["points"], f"{path}: {item['label']}: points")
        else:
            raise ValueError(f"{path}: an exercise is a label or a mapping with 'label' (and 'points'), got {item!r}")
    try:
        return problem_set(labels, _checked_name(data.get("name"), str(path)), data.get("title"), known, points)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
