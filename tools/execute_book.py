"""Run every notebook of the book once, two at a time, into the build's cache of executed notebooks.

``make book`` runs this before ``jupyter-book build``; ``make test`` runs the same execution from
``make test-notebooks`` (the pytest plugin :mod:`tools.notebook_cells`, which reports every code
cell as a test). The build (``execute_notebooks: cache`` in ``_config.yml``) then takes every
notebook's outputs from ``_build/.jupyter_cache`` instead of running it again, and so does the
single-page build that ``make pdf`` prints: each chapter runs once per ``make book`` or
``make test``.

* The cache is emptied first, so every run executes every notebook afresh: jupyter-cache matches
  a notebook by its code cells (and kernelspec) only, and would serve the outputs of an older
  ``lib`` otherwise. What it stores is the run of exactly the notebook file as it is on disk.
* A notebook runs as myst-nb's own cache mode runs it (jupyter_cache's ``single_nb_execution``,
  in the notebook's folder, with ``_config.yml``'s ``timeout``), and its record is stored as
  myst-nb stores it. One difference, after a failing cell only: the run goes on with the next
  cells (as nbval does), so that every cell's failure is reported, not only the first one's.
* A notebook with a failing cell (an error not allowed by ``_config.yml``'s ``allow_errors`` or
  the cell's ``raises-exception`` tag, a timeout, a dead kernel) is not stored: its tracebacks
  are printed and the script exits with 1 (``make`` stops before the build), and a build run
  without this script executes it itself and fails under ``-W`` as before.

Usage: ``python tools/execute_book.py [--jobs 2] [--root .]``. Every kernel gets one BLAS and
OpenMP thread (the Makefile exports them), so two notebooks at once share 2 cores without
oversubscribing them.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course import layout  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def execution_settings(root: Path) -> dict:
    """``_config.yml``'s execute section as myst-nb reads it (timeout, allow_errors, run_in_temp)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute") or {}
    if execute.get("run_in_temp"):
        raise SystemExit("_config.yml runs notebooks in a temporary folder; tools/execute_book.py runs them in "
                         "their own folder, as run_in_temp: false does")
    return {"timeout": execute.get("timeout", 30), "allow_errors": bool(execute.get("allow_errors", False))}


def notebooks(root: Path) -> list[Path]:
    """The notebooks of the table of contents, in its order."""
    return [source.resolve() for source in layout.pages(root) if source.suffix == ".ipynb"]


@dataclass
class Execution:
    """One run of one notebook: the executed notebook and what became of each code cell.

    ``replies`` maps the index of every code cell that ran (in ``notebook.cells``) to its reply:
    ``("ok", "")`` or ``("error", traceback)``; a code cell missing from it did not run (empty,
    tagged ``skip-execution``, or after a timeout or a dead kernel, which ``error`` describes).
    """

    path: Path
    text: str  # the executed notebook (nbformat JSON)
    seconds: float
    replies: dict[int, tuple[str, str]] = field(default_factory=dict)
    error: str | None = None  # the run stopped: a timeout, a dead kernel, a kernel that did not start

    @property
    def notebook(self) -> nbformat.NotebookNode:
        return nbformat.reads(self.text, as_version=4)

    def failures(self, allow_errors: bool = False) -> dict[int, str]:
        """The code cells that failed, by index, with the reason (a traceback).

        A cell fails when its reply is an error (unless ``allow_errors`` or its ``raises-exception``
        tag allow it, as for the build), or when it has code but did not run because the run
        stopped before it (then ``error``, the run's own traceback, is the reason of the first one).
        """
        failed, stopped = {}, False
        for index, cell in enumerate(self.notebook.cells):
            if cell.cell_type != "code":
                continue
            status, detail = self.replies.get(index, (None, ""))
            if status == "error" and not (allow_errors or "raises-exception" in cell.metadata.get("tags", [])):
                failed[index] = detail
            elif status is None and cell.source.strip() and "skip-execution" not in cell.metadata.get("tags", []):
                failed[index] = ("the run stopped before this cell" if stopped else
                                 self.error or "the cell did not run")
                stopped = True
            elif status not in (None, "ok", "error"):
                failed[index] = f"the kernel's reply was {status!r}"
        return failed


def execute(path: Path, settings: dict) -> Execution:
    """Run one notebook in its own folder, every code cell even after a failing one."""
    from jupyter_cache.executors.utils import single_nb_execution

    replies: dict[int, tuple[str, str]] = {}

    def record(cell, cell_index, execute_reply):
        content = execute_reply["content"]
        if content.get("status") == "error":
            traceback = "\n".join(content.get("traceback") or [f"{content.get('ename')}: {content.get('evalue')}"])
            replies[cell_index] = ("error", ANSI.sub("", traceback))
        else:
            replies[cell_index] = (content.get("status", "ok"), "")

    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    try:
        result = single_nb_execution(notebook, cwd=str(path.parent), meta_override=True, timeout=settings["timeout"],
                                     allow_errors=True, on_cell_executed=record)
        seconds, error = result.time, result.exc_string
    except Exception as exception:  # a dead kernel or one that does not start: not caught by jupyter-cache
        import traceback

        seconds, error = time.monotonic() - started, "".join(traceback.format_exception(exception))
    return Execution(path, nbformat.writes(notebook), seconds, replies, error)


class BookRun:
    """Every given notebook executed, ``jobs`` at a time, each one stored in the build's cache when it passed.

    ``result(path)`` waits for one notebook's run; the runs go on in the background meanwhile.
    """

    def __init__(self, root: Path, paths: list[Path], jobs: int = 2):
        from jupyter_cache import get_cache

        self.root, self.settings = root, execution_settings(root)
        cache_path = str(root / "_build" / ".jupyter_cache")
        get_cache(cache_path).clear_cache()
        self.cache = get_cache(cache_path)
        self.pool = ProcessPoolExecutor(max_workers=max(1, jobs))
        self.futures: dict[Path, Future] = {path: self.pool.submit(execute, path, self.settings) for path in paths}
        self.results: dict[Path, Execution] = {}

    def result(self, path: Path) -> Execution:
        if path not in self.results:
            execution = self.futures[path].result()
            if not execution.failures(self.settings["allow_errors"]):
                self._store(execution)
            self.results[path] = execution
        return self.results[path]

    def _store(self, execution: Execution) -> None:
        from jupyter_cache.base import CacheBundleIn

        record = self.cache.add_nb_to_project(str(execution.path))
        self.cache.cache_notebook_bundle(CacheBundleIn(execution.notebook, record.uri,
                                                       data={"execution_seconds": execution.seconds}),
                                         check_validity=False, overwrite=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root folder (default: this repository)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    paths = notebooks(root)
    started, failed = time.monotonic(), []
    run = BookRun(root, paths, args.jobs)
    try:
        for path in paths:
            execution, name = run.result(path), path.relative_to(root)
            failures = execution.failures(run.settings["allow_errors"])
            if failures:
                failed.append(name)
                print(f"{name}: FAILED after {execution.seconds:.1f} s", flush=True)
                for index, reason in failures.items():
                    print(f"--- {name}, cell {index}:\n{reason}", flush=True)
                continue
            print(f"{name}: executed in {execution.seconds:.1f} s", flush=True)
    finally:
        run.close()
    print(f"{len(paths) - len(failed)} of {len(paths)} notebooks executed in {time.monotonic() - started:.1f} s "
          f"({args.jobs} at once)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
