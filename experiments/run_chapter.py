"""Run a chapter at a larger SCALE and print what its cells print: the full-scale numbers of the book.

The chapters run at ``SCALE = 1`` within their time budget; their heavier experiments grow with
``SCALE`` (more seeds, more steps, wider networks, as each chapter's first code cell says). This
script runs one chapter top to bottom with another SCALE, in this environment, and prints the
text output of every code cell (figures are left out) and the time each cell took. A cell that
fails stops the run with its error, as it would stop the build:

    .venv/bin/python experiments/run_chapter.py book/05-beyond.ipynb --scale 2

Nothing is written: the notebook on disk is not changed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

SCALE_LINE = re.compile(r"^SCALE = 1$", re.MULTILINE)


def with_scale(notebook, scale: int):
    """The notebook with its line ``SCALE = 1`` set to ``scale``; an error if it has no such line."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and SCALE_LINE.search(cell.source):
            cell.source = SCALE_LINE.sub(f"SCALE = {scale}", cell.source, count=1)
            return notebook
    raise ValueError("the notebook has no line 'SCALE = 1' in a code cell: it has no SCALE parameter to set")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--scale", type=int, default=2, help="the value of SCALE (default 2)")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error(f"--scale must be a positive integer, got {args.scale}")
    notebook = with_scale(nbformat.read(args.notebook, as_version=4), args.scale)
    client = NotebookClient(notebook, timeout=None, kernel_name="python3",
                            resources={"metadata": {"path": str(args.notebook.resolve().parent)}})
    print(f"{args.notebook} at SCALE = {args.scale}", flush=True)
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            started = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                print(f"--- cell {index} failed:\n{error}", flush=True)
                return 1
            text = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
            print(f"--- cell {index} ({time.perf_counter() - started:.1f} s)" + (f"\n{text.rstrip()}" if text.strip() else ""),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
