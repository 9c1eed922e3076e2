"""The grading command stops what must be stopped: processes left behind, notebooks past their limits, itself.

Without the sandbox, a process a notebook left behind is still stopped; a notebook that ignores
interrupts is stopped at the notebook's limit with everything it started; a grader stopped by a
signal, or killed, leaves no process, no temporary folder and no table behind; cells that raise,
loop or exit, and a kernel that dies, are recorded and the rest graded. (Split from
tests/test_grade.py, whose tests share one grading run: these wait on wall-clock limits, and in
their own file pytest-xdist runs them beside that run instead of after it.)
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from course import grade
from course.gradebook import NOTEBOOK_ROW
from grading_submissions import (LS, ROOT, attack_cell, filled_edition, grade_one, process_ended, read_gradebook,
                                 same_points, save_submission)


# --------------------------------------------------------------------------- without the sandbox
@pytest.mark.slow
def test_without_the_sandbox_a_process_left_behind_is_still_stopped(tmp_path, capsys):
    """--sandbox none: the grader reaps the orphans of a run before the next one starts."""
    folder, marker, started = tmp_path / "submitted", f"course-attack-{uuid.uuid4().hex}", tmp_path / "started"
    save_submission(folder, "mallory", filled_edition(LS, extra=[attack_cell(marker, started)]))
    save_submission(folder, "zed", filled_edition(LS))
    assert grade.main([str(folder), "--sandbox", "none", "--timeout", "300"]) == 0
    book = read_gradebook(tmp_path / "submitted-grades" / "gradebook.csv")
    assert started.exists()  # the attack ran: without a sandbox it could write there
    assert process_ended(int(started.read_text()), within=5)
    assert same_points(book["zed"]["autograded"], book["zed"]["autograded_max"])
    assert book["zed"]["sandbox"] == "none: switched off (--sandbox none)"
    assert "grading WITHOUT a sandbox" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "none"])
def test_a_notebook_that_ignores_interrupts_is_stopped_with_everything_it_started(tmp_path, mode, monkeypatch):
    import tempfile

    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("TMPDIR", str(runs))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    name = f"k{uuid.uuid4().hex[:12]}"  # the kernel's process name, seen from outside any namespace
    path = save_submission(tmp_path, "stubborn", filled_edition(LS, extra=[
        f"import ctypes, subprocess, sys\nctypes.CDLL(None).prctl(15, {name.encode()!r}, 0, 0, 0)\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {name!r}])",
        # it waits instead of spinning: the grader's limit is on wall-clock time, and a spinning loop burnt a core
        # for the 40 s of the limit, twice, while the rest of `make test` ran
        "import time\nwhile True:\n    try:\n        while True:\n            time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n        pass"]))
    rows = grade_one(path, mode, timeout=40.0, cell_timeout=60.0)
    assert rows[0].status == "stopped" and "did not finish within the notebook's time limit" in rows[0].message
    assert {r.status for r in rows[1:] if r.points is not None} == {"not graded"}  # the grader's cell never ran
    assert not [p for p in psutil.process_iter(["name", "cmdline"])
                if p.info["name"] == name or name in " ".join(p.info["cmdline"] or [])]
    assert list(runs.iterdir()) == []  # the stopped run's folder, with the kernel's connection file, is gone


def _processes(text: str) -> list:
    """The processes whose command line holds ``text``."""
    return [p for p in psutil.process_iter(["cmdline"]) if text in " ".join(p.info["cmdline"] or [])]


@contextlib.contextmanager
def _grading_a_loop(tmp_path: Path, mode: str):
    """A grading command (its own process) busy on a notebook that started a process, named ``name``, and loops.

    Yields the grader, its temporary folder ``runs`` and ``name``; kills what is left when done.
    """
    runs, folder, name = tmp_path / "runs", tmp_path / "submitted", f"k{uuid.uuid4().hex[:12]}"
    runs.mkdir()
    save_submission(folder, "ann", filled_edition(LS, extra=[
        f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {name!r}])",
        "while True:\n    pass"]))
    save_submission(folder, "ben", filled_edition(LS))
    grader = subprocess.Popen([sys.executable, "-m", "course.grade", str(folder), "--sandbox", mode],
                              cwd=ROOT, env={**os.environ, "TMPDIR": str(runs)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # the first notebook's kernel starts the process within a minute, also on a busy machine
            if _processes(name) or grader.poll() is not None:
                break
            time.sleep(0.1)
        assert _processes(name), grader.stderr.read() if grader.poll() is not None else "the notebook never started"
        yield grader, runs, name
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.communicate()
        for process in _processes(name):  # without the sandbox, what a notebook started can outlive a killed grader
            process.kill()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "none"])
def test_a_grader_stopped_midway_leaves_no_process_no_temporary_file_and_no_table(tmp_path, mode):
    """SIGTERM (or Ctrl-C) while a notebook runs: its processes are stopped, its folder removed, nothing written."""
    with _grading_a_loop(tmp_path, mode) as (grader, runs, name):
        grader.send_signal(signal.SIGTERM)
        out, err = grader.communicate(timeout=120)
        assert grader.returncode == 130 and "stopped by signal 15: nothing written" in err, err
        assert not _processes(name)
        assert list(runs.iterdir()) == []  # the run's folder, with the kernel's connection file, is gone
        assert not (tmp_path / "submitted-grades").exists()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["auto", "none"])
def test_a_killed_grader_takes_its_runs_with_it_and_the_next_one_removes_their_folders(tmp_path, mode):
    """SIGKILL, which nothing can catch: the runner and its kernel end with the grader (in the sandbox, everything
    the notebook started too), and the folder left in the temporary folder is removed by the next grading."""
    with _grading_a_loop(tmp_path, mode) as (grader, runs, name):
        run_processes = _processes(str(runs))  # the runner (its box in argv) and the kernel (its connection file)
        assert run_processes
        grader.kill()
        grader.communicate(timeout=60)
        assert all(process_ended(p.pid, within=30) for p in run_processes)
        if mode == "auto":  # the PID namespace ends with its first process
            assert all(process_ended(p.pid, within=30) for p in _processes(name))
        [left] = list(runs.iterdir())  # nothing could remove it
        assert grade.remove_stale_runs(runs) == [left]
        assert list(runs.iterdir()) == []


@pytest.mark.slow
def test_cells_that_raise_loop_or_exit_are_recorded_and_the_rest_graded(tmp_path):
    path = save_submission(tmp_path, "mixed", filled_edition(LS, {"ex-ls-gdnp-step": 'def gdnp_step(w, S, u):\n    raise NotImplementedError("x")'},
                                            extra=["raise RuntimeError('a cell that fails')", "import time\nwhile True:\n    time.sleep(0.05)",
                                                   "import sys\ndef optimal_length(w, S, u):\n    sys.exit('done')"]))
    rows = {row.exercise: row for row in grade_one(path, timeout=200.0, cell_timeout=20.0)}
    notebook = rows[NOTEBOOK_ROW]
    assert notebook.status == "ran" and "(RuntimeError)" in notebook.message and "(CellTimeout)" in notebook.message
    assert "it raised SystemExit: done" in rows["ex-ls-optimal-length"].message
    assert same_points(rows["ex-ls-optimal-length"].points, 0) and rows["ex-ls-rayleigh-gradient"].status == "correct"
    assert rows["ex-ls-gdnp-step"].status == "not written"


@pytest.mark.slow
def test_a_kernel_that_dies_is_recorded(tmp_path):
    path = save_submission(tmp_path, "dies", filled_edition(LS, extra=["import os\nos._exit(3)"]))
    rows = grade_one(path, timeout=120.0, cell_timeout=30.0)
    assert rows[0].status == "failed" and "kernel died" in rows[0].message
    assert {r.status for r in rows if r.points is not None} == {"not graded"}
