r"""The grading child: run one submitted notebook in a fresh kernel, then record what its functions return.

``python -m course.runner BOX [PARENT]`` is what the grading command (:mod:`course.grade`)
starts for each submission, in a sandbox when there is one (:mod:`course.sandbox`). ``BOX`` is
the submission's private folder (``PARENT``, given without a sandbox, is the grading command's
pid); it holds

* ``submission.ipynb``, the notebook, already checked by the grading command;
* ``job.json``, written by the grading command: the exercises to record, the seed of the
  hidden cases and the time limits.

The runner executes the notebook in a kernel of this environment, in ``BOX/work``:

* code cells tagged ``skip-grading`` (:data:`course.exercise_cells.SKIP_TAG`: the chapter's
  theorem checks, figures and experiments) are not run: the exercises do not need them;
* the other cells run to the end whatever they raise; a cell that runs longer than the cell
  time limit is interrupted;
* then one cell of the grader's calls :func:`lib.exercises.record_outcomes`, which calls the
  student's functions on every visible and hidden case and writes what they returned to
  ``BOX/outcomes.json``, with a time limit of its own.

It writes ``BOX/run.json``: how long the notebook ran, which code cells raised, how many
were skipped, and whether the kernel died. On Linux the runner is killed when the grading
command ends, even by ``SIGKILL`` (:func:`die_with_parent`), and its kernel then ends too
(ipykernel watches the process that started it). Nothing here judges: the grading command
compares the outcomes with the reference in its own process, and reads both files as untrusted
data.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

__all__ = ["GRADING_CELL_ID", "die_with_parent", "run"]

#: The id of the cell the runner appends.
GRADING_CELL_ID = "course-grading-cell"


def die_with_parent(parent: int | None = None) -> bool:
    """Have the kernel kill this process when its parent, the grading command, ends (Linux); whether it worked.

    Uses ``prctl(PR_SET_PDEATHSIG, SIGKILL)``. ``parent`` is the grading command's pid when it
    started this process directly (no sandbox): if it ended before the call, this process
    exits at once.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import os
    import signal

    try:
        if ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            return False
    except (OSError, AttributeError):
        return False
    if parent is not None and os.getppid() != parent:
        os._exit(1)
    return True


def _grading_source(labels: list[str], seed: int, outcomes: Path) -> str:
    return (f"import lib.exercises as _grading\n"
            f"_grading.record_outcomes(globals(), {labels!r}, {seed!r}, {str(outcomes)!r})")


def run(box: Path) -> dict:
    """Run the submission of ``box`` and write ``run.json`` (see the module's notes); returns its content."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    from .exercise_cells import SKIP_TAG

    job = json.loads((box / "job.json").read_text(encoding="utf-8"))
    notebook = nbformat.read(box / "submission.ipynb", as_version=4)
    code_cells = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    skipped = 0
    for index in code_cells:
        cell = notebook.cells[index]
        cell.outputs, cell.execution_count = [], None
        if SKIP_TAG in (cell.metadata.get("tags") or []):
            cell.source, skipped = "", skipped + 1  # nbclient does not run an empty cell
    student_cells = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(
        _grading_source(job["labels"], job["seed"], box / "outcomes.json"), id=GRADING_CELL_ID))
    errors: dict[int, str] = {}

    def record_error(cell, cell_index, execute_reply):
        errors[cell_index] = str(execute_reply["content"].get("ename") or "an error")

    def time_limit(cell) -> float:
        return job["grading_timeout"] if cell.get("id") == GRADING_CELL_ID else job["cell_timeout"]

    client = NotebookClient(
        notebook, timeout_func=time_limit, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        shutdown_kernel="immediate",  # nothing of the kernel is needed once the outcomes are written
        error_on_timeout={"ename": "CellTimeout", "evalue": "interrupted at its time limit", "traceback": []},
        on_cell_error=record_error, resources={"metadata": {"path": str(box / "work")}})
    started, stopped = time.perf_counter(), None
    try:
        client.execute()
    except DeadKernelError as error:
        stopped = f"the kernel died ({error}): does a cell exit Python or crash it?"
    except Exception as error:  # noqa: BLE001 - nbclient failed to run the notebook at all
        stopped = f"could not be run: {type(error).__name__}: {str(error)[:300]}"
    code_number = {index: number for number, index in enumerate(code_cells, start=1)}
    report = {
        "seconds": round(time.perf_counter() - started, 2),
        "skipped": skipped,
        "errors": [[code_number[index], name] for index, name in sorted(errors.items()) if index < student_cells],
        "grading_error": errors.get(student_cells),
        "stopped": stopped,
    }
    (box / "run.json").write_text(json.dumps(report), encoding="utf-8")
    return report


if __name__ == "__main__":
    die_with_parent(int(sys.argv[2]) if len(sys.argv) > 2 else None)
    run(Path(sys.argv[1]))
