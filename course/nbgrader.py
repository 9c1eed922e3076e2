r"""nbgrader for this book: its own environment, a kernel that runs in the project's, and a course folder.

``make nbgrader`` (``python -m course.nbgrader``) prepares what `nbgrader
<https://nbgrader.readthedocs.io>`_ 0.9.6 needs to run an assignment of the book:

1. an environment of its own for nbgrader (default ``.cache/nbgrader-env``), from the pinned
   ``course/nbgrader-requirements.txt``: nbgrader pins other versions of Jupyter's packages
   than the book, so it never goes into ``.venv``;
2. in that environment, the kernel spec ``python3`` replaced by one whose interpreter is the
   project's (``.venv/bin/python``, with numpy and ``lib``). Without it, ``nbgrader autograde``
   runs the notebooks in nbgrader's own interpreter, where ``import lib`` fails, and every
   student scores 0;
3. a course folder with ``nbgrader_config.py`` and the instructor edition of the assignment in
   ``source/<assignment>/`` (:mod:`course.student`): the chapters, or a problem set.

It then prints the nbgrader commands that follow (``generate_assignment``, ``autograde``,
``generate_feedback``, ``export``), which the lecturers' page explains.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import student

__all__ = ["CONFIG", "REQUIREMENTS", "ensure_environment", "install_kernel", "main", "nbgrader_command"]

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = Path(__file__).resolve().parent / "nbgrader-requirements.txt"
#: The course folder's configuration: the course, and the time limit of a cell when autograding.
CONFIG = '''# nbgrader's configuration for a course of "Length and direction" (written by make nbgrader).
c = get_config()
c.CourseDirectory.course_id = "length-and-direction"
# seconds a cell may run when autograding (the theorem checks of a whole chapter take a while)
c.Execute.timeout = 600
'''


def nbgrader_command(environment: Path) -> Path:
    """The ``nbgrader`` program of an environment made by :func:`ensure_environment`."""
    return environment / "bin" / "nbgrader"


def ensure_environment(environment: Path, say=print) -> Path:
    """Create nbgrader's environment from the pinned requirements, unless it is there and up to date.

    Returns
    -------
    Path
        The environment's ``nbgrader`` program.

    Raises
    ------
    subprocess.CalledProcessError
        If ``venv`` or ``pip`` fails (pip says why).
    """
    stamp = environment / ".installed"
    if not stamp.exists() or stamp.read_text(encoding="utf-8") != REQUIREMENTS.read_text(encoding="utf-8"):
        say(f"installing nbgrader into {environment} (its own environment) ...")
        # the environment gets no pip of its own: this interpreter's pip installs into it (pip --python);
        # no bytecode is compiled ahead (--no-compile): a module's is written when it is first imported
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(environment)], check=True)
        subprocess.run([sys.executable, "-m", "pip", "--python", str(environment / "bin" / "python"), "install",
                        "--quiet", "--no-compile", "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(REQUIREMENTS.read_text(encoding="utf-8"), encoding="utf-8")
    return nbgrader_command(environment)


def install_kernel(environment: Path) -> Path:
    """Make the kernel spec ``python3`` of nbgrader's environment run this project's interpreter.

    ``python -m ipykernel install --prefix <environment> --name python3``, run by the
    project's interpreter, writes ``<environment>/share/jupyter/kernels/python3/kernel.json``
    with that interpreter's path; Jupyter looks there before the generic spec of nbgrader's
    own interpreter (a kernel spec ``python3`` in the user's Jupyter folder would still come
    first: the lecturers' page says so).

    Returns
    -------
    Path
        The kernel spec's folder.
    """
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(environment), "--name", "python3",
                    "--display-name", "Python 3 (length and direction)"], check=True, capture_output=True)
    return environment / "share" / "jupyter" / "kernels" / "python3"


def main(argv: list[str] | None = None) -> int:
    """The command ``python -m course.nbgrader`` (``make nbgrader``); the exit status is 0 when all was written."""
    parser = argparse.ArgumentParser(prog="python -m course.nbgrader", description=(
        "Prepare nbgrader for an assignment of the book: its environment, the kernel of this project, a course "
        "folder with the instructor edition in source/<assignment>/."))
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter notebooks (default: every chapter)")
    parser.add_argument("--course", type=Path, default=Path("nbgrader-course"), help="the course folder (default: nbgrader-course)")
    parser.add_argument("--assignment", default="chapters", help="the assignment's name (default: chapters)")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--exercises", help="a problem set of these exercises, labels separated by commas")
    selection.add_argument("--problem-set", type=Path, help="a problem-set file (YAML; see course/catalogue.py)")
    parser.add_argument("--seed", type=int, help="the seed of the hidden cases (use the same with make grade)")
    parser.add_argument("--env", type=Path, default=ROOT / ".cache" / "nbgrader-env", help="nbgrader's environment")
    parser.add_argument("--force", action="store_true", help="overwrite the assignment's source notebooks")
    args = parser.parse_args(argv)
    source = args.course / "source" / args.assignment
    edition = [*map(str, args.notebooks), "--edition", "instructor", "--out", str(source)]
    if args.exercises:
        edition += ["--exercises", args.exercises, "--name", args.assignment]
    if args.problem_set:
        edition += ["--problem-set", str(args.problem_set)]
    if args.seed is not None:
        edition += ["--seed", str(args.seed)]
    if student.main(edition + (["--force"] if args.force else [])) != 0:
        return 1
    config = args.course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG, encoding="utf-8")
    program = ensure_environment(args.env)
    kernel = install_kernel(args.env)
    print(f"nbgrader: {program}\nkernel python3 of nbgrader's environment: {kernel} (runs {sys.executable})\n"
          f"next, in {args.course}:\n"
          f"  {program} generate_assignment {args.assignment} --force   # release/{args.assignment}/: hand this out\n"
          f"  # collect into submitted/<student>/{args.assignment}/, then\n"
          f"  {program} autograde {args.assignment}\n"
          f"  {program} generate_feedback {args.assignment}\n"
          f"  {program} export   # grades.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
