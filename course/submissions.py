r"""Finding the submitted notebooks in a folder, and reading them without trusting them.

Two layouts of the submissions folder are understood:

* **one folder per student** (nbgrader's layout): ``SUBMISSIONS/<student>/<notebook>.ipynb``.
  The folder's name is the student's name, and every notebook in it is graded (several
  chapters, or a problem set, of one student). With ``assignment`` given, the notebooks are
  read from ``SUBMISSIONS/<student>/<assignment>/`` instead, which is nbgrader's
  ``submitted/`` folder as it is;
* **flat**: ``SUBMISSIONS/<name>.ipynb``, when the folder has no subfolder. Each file is then
  a student of its own, named by the file's stem: ``alice-02.ipynb`` and ``alice-03.ipynb``
  are two students. The grading command says so when it finds this layout.

Names starting with ``.`` are skipped. A notebook file is read only if it is a regular file:
a symbolic link, a FIFO, a device or a socket is refused (a FIFO would block the reader), and
so is a file over the size limit, a file that is not UTF-8 JSON, and JSON that is not a
notebook of nbformat 4. A refused entry is a :class:`Submission` with the reason, so that the
gradebook has a row that says it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LAYOUTS", "MAX_BYTES", "Submission", "find_submissions", "read_notebook"]

#: The largest notebook file read, in bytes (a chapter with outputs is a few megabytes).
MAX_BYTES = 20_000_000
LAYOUTS = {"folders": "one folder per student (SUBMISSIONS/<student>/<notebook>.ipynb)",
           "flat": "flat (SUBMISSIONS/<name>.ipynb: every file is a student of its own, named by the file)"}


@dataclass(frozen=True)
class Submission:
    """One entry of the submissions folder: a student's notebook, or something refused, with why."""

    student: str
    notebook: str
    path: Path
    refused: str | None = None


def _special(mode: int) -> str | None:
    """What a file that is not a regular file is ("a FIFO", ...), or None for a regular file."""
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def _entry(student: str, path: Path) -> Submission:
    """The submission at ``path``: a notebook, or refused if it is not a regular .ipynb file."""
    mode = path.lstat().st_mode
    special = _special(mode)
    if special is not None:
        return Submission(student, path.name, path, f"refused: {path.name} is {special}, not a notebook file")
    if path.suffix != ".ipynb":
        return Submission(student, path.name, path, f"not a notebook: {path.name} is not an .ipynb file")
    return Submission(student, path.name, path)


def _visible(folder: Path, skip: Path | None) -> list[Path]:
    return [path for path in sorted(folder.iterdir()) if not path.name.startswith(".")
            and (skip is None or os.path.abspath(path) != os.path.abspath(skip))]


def _student_folder(folder: Path, assignment: str | None) -> list[Submission]:
    student = folder.name
    inner = folder / assignment if assignment else folder
    if assignment and not (inner.is_dir() and not inner.is_symlink()):
        return [Submission(student, "(none)", inner, f"no folder {assignment} in {folder.name}/ (the assignment)")]
    found = [_entry(student, path) for path in _visible(inner, None)
             if not (path.is_dir() and not path.is_symlink())]
    notebooks = [s for s in found if s.refused is None or s.notebook.endswith(".ipynb")]
    if not notebooks:
        return [Submission(student, "(none)", inner, f"no notebook in {inner.name}/")]
    return notebooks


def find_submissions(folder: Path, assignment: str | None = None, skip: Path | None = None) -> tuple[list[Submission], str]:
    """The submissions of ``folder`` and its layout (a key of :data:`LAYOUTS`).

    Parameters
    ----------
    folder : Path
    assignment : str, optional
        Read ``<student>/<assignment>/`` (nbgrader's ``submitted/`` folder) instead of ``<student>/``.
    skip : Path, optional
        An entry not to list (the folder of the gradebook, when it is inside ``folder``).

    Returns
    -------
    submissions : list of Submission
        In name order. In the folder layout, an entry at the top that is not a folder is
        refused, a student folder without a notebook is one refused entry, and files that
        are not notebooks in a student's folder are left out.
    layout : str

    Raises
    ------
    ValueError
        If ``folder`` holds no .ipynb file where the layout looks for them.
    """
    entries = _visible(folder, skip)
    folders = [path for path in entries if path.is_dir() and not path.is_symlink()]
    if folders:
        submissions = []
        for path in entries:
            if path in folders:
                submissions += _student_folder(path, assignment)
            else:
                submissions.append(Submission(path.stem, path.name, path, (
                    f"refused: {path.name} is not in a student's folder; with student folders, put each student's "
                    "notebooks in SUBMISSIONS/<student>/")))
        layout = "folders"
    else:
        submissions, layout = [_entry(path.stem, path) for path in entries], "flat"
    if not any(s.notebook.endswith(".ipynb") for s in submissions):
        raise ValueError(f"no .ipynb files in {folder}: put the submitted notebooks there, one folder per student "
                         "(SUBMISSIONS/<student>/<notebook>.ipynb) or one file per student")
    return submissions, layout


def read_notebook(path: Path, max_bytes: int = MAX_BYTES):
    """The notebook at ``path`` and None, or None and why it is refused.

    The file is opened without following a symbolic link and without blocking (a FIFO opens
    at once and is then refused), checked to be a regular file no larger than ``max_bytes``,
    and read to at most ``max_bytes`` bytes.

    Returns
    -------
    notebook : nbformat.NotebookNode or None
    why : str or None
    """
    import nbformat

    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return None, f"refused: {path.name} is a symbolic link, not a notebook file"
        return None, f"refused: {path.name} cannot be opened ({error.strerror})"
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(handle.fileno())
        special = _special(status.st_mode)
        if special is not None:
            return None, f"refused: {path.name} is {special}, not a notebook file"
        if status.st_size > max_bytes:
            return None, f"refused: {path.name} has {status.st_size} bytes, more than the limit of {max_bytes}"
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        return None, f"refused: {path.name} has more than {max_bytes} bytes"
    try:
        content = json.loads(data.decode("utf-8"))
        if not isinstance(content, dict) or content.get("nbformat") != 4 or not isinstance(content.get("cells"), list):
            raise ValueError('expected a JSON object with "nbformat": 4 and a list of "cells"')
        # upgraded to the current minor version; a schema error (a missing cell id, say) is not fatal,
        # but every cell must have a kind and a source
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns of a missing cell id, and adds one
            notebook = nbformat.reads(json.dumps(content), as_version=4, capture_validation_error={})
        for cell in notebook.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
                raise ValueError("a cell without a cell_type of code, markdown or raw, or without its source")
    except Exception as error:  # noqa: BLE001 - whatever the file holds, it is not a notebook we can run
        return None, f"not a notebook: {type(error).__name__}: {str(error)[:300]}"
    return notebook, None
