r"""The grading command's output: the long table, the gradebook, a summary, and one feedback file per student.

From the rows of :mod:`course.grade` (one per student, notebook and exercise, and one
``(notebook)`` row per submission), :func:`write` writes into one folder:

``grades.csv``
    The long table, for detail: student, notebook, exercise, status, points, max_points,
    cases_passed, cases_total, flags, message (the message in full, with its line breaks,
    quoted as CSV quotes them).
``gradebook.csv``
    One row per student, one column per coding exercise with the points earned (the best of
    the student's notebooks; 0 where no notebook of theirs graded it), in book order, ``autograded`` (their
    sum) and ``autograded_max``, an empty column per pencil and experiment exercise for the
    points given by hand, then ``sandbox`` (how the notebooks ran) and ``flags`` (what the
    lecturer should look at, on one line). Plain UTF-8 CSV with a header row and numbers with
    a decimal point, importable as it is into a spreadsheet or a learning-management system.
``grades.md``
    The gradebook as a Markdown table, how grading ran, the flags, and the long table with the
    first line of each message.
``feedback/<student>.md``
    For each student: each notebook, each exercise's status and points, the report of the
    first failing case, and the exercises graded by hand; first, the coding exercises of the
    gradebook that no notebook of theirs was graded on. Flags are not in it.

Nothing is overwritten without ``force``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BY_HAND", "NOTEBOOK_ROW", "Row", "outputs", "write"]

NOTEBOOK_ROW = "(notebook)"
#: The status of a pencil or experiment exercise: graded by hand from the answer cells.
BY_HAND = "by hand"


@dataclass(frozen=True)
class Row:
    """One line of the long table.

    ``status`` is, for an exercise, ``correct``, ``partial``, ``wrong``, ``not written``,
    ``missing``, ``not graded`` or ``by hand`` (a pencil or experiment exercise); for the ``(notebook)`` row, ``ran``, ``stopped``,
    ``failed`` or ``refused``. ``points`` and ``max_points`` are None for the ``(notebook)``
    row and for exercises graded by hand.
    """

    student: str
    notebook: str
    exercise: str
    status: str
    points: float | None = None
    max_points: float | None = None
    cases_passed: int | None = None
    cases_total: int | None = None
    flags: str = ""
    message: str = ""


def outputs(out: Path) -> list[Path]:
    """The files and the folder :func:`write` writes into ``out``."""
    return [out / name for name in ("grades.csv", "gradebook.csv", "grades.md", "feedback")]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _markdown_cell(text: str) -> str:
    """``text`` as a cell of a Markdown table: its first line, with ``|`` escaped."""
    return text.splitlines()[0].replace("|", "\\|") if text else ""


@dataclass
class _Student:
    points: dict[str, float]
    flags: list[str]


def _by_student(rows: list[Row]) -> dict[str, _Student]:
    students: dict[str, _Student] = {}
    for row in rows:
        entry = students.setdefault(row.student, _Student({}, []))
        if row.points is not None:
            entry.points[row.exercise] = max(row.points, entry.points.get(row.exercise, 0.0))
        if row.flags:
            where = row.notebook if row.exercise == NOTEBOOK_ROW else row.exercise
            entry.flags.append(f"{where}: {row.flags}")
    return students


def _maxima(rows: list[Row]) -> dict[str, float]:
    maxima: dict[str, float] = {}
    for row in rows:
        if row.max_points is not None:
            maxima[row.exercise] = max(row.max_points, maxima.get(row.exercise, 0.0))
    return maxima


def _gradebook(rows: list[Row], coding: list[str], manual: list[str], sandbox: str) -> list[list[str]]:
    students, maxima = _by_student(rows), _maxima(rows)
    table = [["student", *coding, "autograded", "autograded_max", *manual, "sandbox", "flags"]]
    for student, entry in students.items():
        points = [entry.points.get(label, 0.0) for label in coding]
        table.append([student, *map(_number, points), _number(round(sum(points), 2)),
                      _number(sum(maxima.get(label, 0.0) for label in coding)), *([""] * len(manual)), sandbox,
                      _one_line("; ".join(entry.flags))])
    return table


def _feedback(student: str, rows: list[Row], coding: list[str]) -> str:
    lines = [f"# Feedback for {student}", ""]
    graded_here = {row.exercise for row in rows}
    absent = [label for label in coding if label not in graded_here]
    if absent:
        lines += [f"No notebook of yours was graded on {', '.join(absent)}: 0 points for "
                  f"{'it' if len(absent) == 1 else 'them'} in the gradebook (was a notebook not handed in?).", ""]
    for notebook in dict.fromkeys(row.notebook for row in rows):
        own = [row for row in rows if row.notebook == notebook]
        header = next((row for row in own if row.exercise == NOTEBOOK_ROW), None)
        graded = [row for row in own if row.exercise != NOTEBOOK_ROW and row.status != BY_HAND]
        by_hand = [row for row in own if row.status == BY_HAND]
        earned = sum(row.points or 0.0 for row in graded)
        possible = sum(row.max_points or 0.0 for row in graded)
        lines += [f"## {notebook}: {earned:g} of {possible:g} points for the coding exercises", ""]
        if header is not None:
            lines += [f"How it ran{'' if header.status == 'ran' else f' ({header.status})'}: {header.message}", ""]
        if graded:
            lines += ["| exercise | result | points | cases passed |", "|---|---|---|---|"]
            lines += [f"| {row.exercise} | {row.status} | {_number(row.points)} of {_number(row.max_points)} | "
                      f"{'' if row.cases_total is None else f'{row.cases_passed} of {row.cases_total}'} |"
                      for row in graded]
            lines.append("")
        for row in graded:
            if row.status != "correct" and row.message:
                lines += [f"### {row.exercise}: {row.status}", "", "```text", row.message, "```", ""]
        if by_hand:
            lines += ["Graded by hand, from your answer cells: "
                      + ", ".join(f"{row.exercise} ({_number(row.max_points)} points)" for row in by_hand) + ".", ""]
    return "\n".join(lines)


def _refuse_to_overwrite(out: Path, force: bool) -> None:
    existing = [path for path in outputs(out) if path.exists() or path.is_symlink()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(map(str, existing))} exist already; pass --force (make grade ... FORCE=1) "
                              "to overwrite them, or choose another folder with --out")


def write(rows: list[Row], out: Path, *, sandbox: str, notes: list[str], order: list[str] = (),
          force: bool = False) -> list[Path]:
    """Write the tables and the feedback files into ``out`` (created if missing), in UTF-8.

    Parameters
    ----------
    rows : list of Row
    out : Path
        The coding exercises' rows come in the order of the gradebook's columns; the rows of
        status ``by hand`` name the pencil and experiment exercises (their columns are empty).
    sandbox : str
        How the notebooks ran (:meth:`course.sandbox.Sandbox.describe`).
    notes : list of str
        Lines for the summary (the layout of the folder, the seed).
    order : list of str
        The exercises' labels in book order: the gradebook's columns follow it.
    force : bool, default False
        Overwrite what exists.

    Returns
    -------
    list of Path
        What was written: the three tables and the feedback files.

    Raises
    ------
    FileExistsError
        If a table or the feedback folder exists and ``force`` is false; nothing is written then.
    """
    _refuse_to_overwrite(out, force)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    long_path, book_path, md_path = outputs(out)[:3]
    with long_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "notebook", "exercise", "status", "points", "max_points", "cases_passed",
                         "cases_total", "flags", "message"])
        writer.writerows([row.student, row.notebook, row.exercise, row.status, _number(row.points),
                          _number(row.max_points), _number(row.cases_passed), _number(row.cases_total), row.flags,
                          row.message] for row in rows)
    def in_order(labels):
        return sorted(dict.fromkeys(labels), key=lambda label: order.index(label) if label in order else len(order))

    coding = in_order(r.exercise for r in rows if r.exercise != NOTEBOOK_ROW and r.status != BY_HAND)
    manual = in_order(r.exercise for r in rows if r.status == BY_HAND)
    table = _gradebook(rows, coding, manual, sandbox)
    with book_path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(table)
    lines = ["# Grades", "", f"Sandbox: {sandbox}", "", *[f"{note}" for note in notes], "",
             "| " + " | ".join(table[0][:-2]) + " |", "|" + "---|" * (len(table[0]) - 2)]
    lines += ["| " + " | ".join(_markdown_cell(cell) for cell in line[:-2]) + " |" for line in table[1:]]
    flagged = [(line[0], line[-1]) for line in table[1:] if line[-1]]
    if flagged:
        lines += ["", "## Flags (for the lecturer to look at)", ""]
        lines += [f"- **{_markdown_cell(student)}**: {_markdown_cell(text)}" for student, text in flagged]
    lines += ["", "## Every notebook and exercise", "", "| student | notebook | exercise | status | points | message |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {_markdown_cell(r.student)} | {_markdown_cell(r.notebook)} | {_markdown_cell(r.exercise)} | {r.status} | "
              f"{_number(r.points)} | {_markdown_cell(r.message)} |" for r in rows]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written += [long_path, book_path, md_path]
    feedback = out / "feedback"
    feedback.mkdir(exist_ok=True)
    for student in dict.fromkeys(row.student for row in rows):
        path = feedback / f"{student}.md"
        path.write_text(_feedback(student, [row for row in rows if row.student == student], coding), encoding="utf-8")
        written.append(path)
    return written
