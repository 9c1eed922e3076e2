"""Run every notebook of the book once, two at a time, into the build's cache of executed notebooks.

``make book`` and ``make test`` run this before ``jupyter-book build``. The build
(``execute_notebooks: cache`` in ``_config.yml``) then takes every notebook's outputs from
``_build/.jupyter_cache`` instead of running it again, and so do the single-page build that
``make pdf`` prints and the per-cell test of ``make test-notebooks`` (tests/test_notebook_cells.py):
each chapter runs once per ``make test``, not three times.

* The cache is emptied first, so every run executes every notebook afresh: jupyter-cache matches
  a notebook by its code cells only, and would serve the outputs of an older ``lib`` otherwise.
* A notebook runs exactly as myst-nb's own cache mode runs it (jupyter_cache's
  ``single_nb_execution``, in the notebook's folder, with ``_config.yml``'s ``timeout`` and
  ``allow_errors``), and its record is stored as myst-nb stores it.
* A notebook that fails is not stored: its traceback is printed and the script exits with 1
  (``make`` stops before the build), and a build run without this script executes it itself and
  fails under ``-W`` as before.

Usage: ``python tools/execute_book.py [--jobs 2] [--root .]``. Every kernel gets one BLAS and
OpenMP thread (the Makefile exports them), so two notebooks at once share 2 cores without
oversubscribing them.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course import layout  # noqa: E402


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


def _execute(path: Path, settings: dict) -> tuple[Path, str, float, str | None]:
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(notebook, cwd=str(path.parent), meta_override=True, **settings)
    return path, nbformat.writes(result.nb), result.time, result.exc_string


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's root folder (default: this repository)")
    args = parser.parse_args(argv)
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = args.root.resolve()
    settings = execution_settings(root)
    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    cache.clear_cache()
    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    paths = notebooks(root)
    started, failed = time.monotonic(), []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for path, text, seconds, error in pool.map(_execute, paths, [settings] * len(paths)):
            name = path.relative_to(root)
            if error is not None:
                failed.append(name)
                print(f"{name}: FAILED after {seconds:.1f} s\n{error}", flush=True)
                continue
            record = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                                                      data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"{name}: executed in {seconds:.1f} s", flush=True)
    print(f"{len(paths) - len(failed)} of {len(paths)} notebooks executed in {time.monotonic() - started:.1f} s "
          f"({args.jobs} at once)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
