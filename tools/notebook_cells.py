"""pytest plugin: every code cell of the book's notebooks as a test, from the run that fills the build's cache.

``make test-notebooks`` runs ``python -m pytest -p tools.notebook_cells --notebook-cells book``.
Each notebook collected (``book/*.ipynb``) is executed top to bottom once, ``--notebook-jobs`` at a
time, by :class:`tools.execute_book.BookRun`: the same run that ``make execute`` makes for
``make book``, which empties ``_build/.jupyter_cache`` first and stores every notebook that passed
into it. The ``-W`` build that follows takes the outputs from there instead of running the
notebooks again, so ``make test`` executes each chapter once for its tests and both builds.

What nbval (``pytest --nbval-lax``) checks, checked alike: one test per code cell ("Cell 0",
"Cell 1", ... in the order of the notebook), each notebook in a kernel of its own started in the
notebook's folder, every cell run even after a failing one; a cell fails when it raises (unless
tagged ``raises-exception``) with its traceback as the report, or when it did not run because the
kernel timed out (``_config.yml``'s ``timeout`` per cell) or died before it. ``--nbval-lax``
compares no outputs, and neither does this plugin. The kernel is the notebook's kernelspec in
this environment (``python3`` of ``.venv``, as ``--nbval-current-env`` ran).

Not with ``-n`` (pytest-xdist): the plugin runs the notebooks on its own pool of processes.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools.execute_book import BookRun

RUN = pytest.StashKey[BookRun]()


def pytest_addoption(parser):
    group = parser.getgroup("notebook-cells", "the book's notebooks, each executed once into the build's cache")
    group.addoption("--notebook-cells", action="store_true", default=False,
                    help="collect every .ipynb given as one test per code cell, from one run of each notebook "
                         "that also fills _build/.jupyter_cache (tools/execute_book.py)")
    group.addoption("--notebook-jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    group.addoption("--book-root", default=None,
                    help="the book's root folder: its _config.yml and _build/ (default: pytest's rootdir)")


def pytest_configure(config):
    if config.getoption("notebook_cells") and (getattr(config.option, "numprocesses", None)
                                               or hasattr(config, "workerinput")):
        raise pytest.UsageError("--notebook-cells runs the notebooks --notebook-jobs at a time itself; "
                                "leave out -n (pytest-xdist)")


def pytest_collect_file(file_path, parent):
    if parent.config.getoption("notebook_cells") and file_path.suffix == ".ipynb":
        return Notebook.from_parent(parent, path=file_path)
    return None


def pytest_collection_finish(session):
    """Start the run of every notebook with a selected cell, in the order collected."""
    config = session.config
    if not config.getoption("notebook_cells") or config.option.collectonly:
        return
    paths = list(dict.fromkeys(item.path.resolve() for item in session.items if isinstance(item, Cell)))
    if paths:
        root = Path(config.getoption("book_root") or config.rootpath).resolve()
        config.stash[RUN] = BookRun(root, paths, config.getoption("notebook_jobs"))


def pytest_unconfigure(config):
    run = config.stash.get(RUN, None)
    if run is not None:
        run.close()


class Notebook(pytest.File):
    """A notebook: one :class:`Cell` per code cell."""

    def collect(self):
        notebook = nbformat.read(self.path, as_version=4)
        number = 0
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                yield Cell.from_parent(self, name=f"Cell {number}", index=index, number=number, cell=cell)
                number += 1


class CellFailure(Exception):
    """The cell raised, or did not run; the message is its traceback or the reason."""


class Cell(pytest.Item):
    """A code cell of a notebook: passes when the notebook's run executed it without an error."""

    def __init__(self, *, index: int, number: int, cell, **kwargs):
        super().__init__(**kwargs)
        self.index, self.number, self.cell = index, number, cell

    def runtest(self):
        run = self.config.stash[RUN]
        reason = run.result(self.path.resolve()).failures(run.settings["allow_errors"]).get(self.index)
        if reason is not None:
            raise CellFailure(reason)
        if "skip-execution" in self.cell.metadata.get("tags", []):
            pytest.skip("tagged skip-execution: the build does not run it either")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CellFailure):
            return f"Notebook cell execution failed\nCell {self.number}:\n\nInput:\n{self.cell.source}\n\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"
