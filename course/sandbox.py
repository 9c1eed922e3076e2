r"""Where a submitted notebook runs: in a bubblewrap sandbox when one works here, visibly without one otherwise.

The grading command runs every submission in a child process (:mod:`course.runner`), in a
private folder of its own, the *box*, which holds the submitted notebook, the job and, in
the end, what the child writes back. With `bubblewrap <https://github.com/containers/bubblewrap>`_
(Debian's ``bubblewrap``, the command ``bwrap``) the child runs

* in PID, network, IPC and UTS namespaces of its own (``--unshare-all``): it sees only its own
  processes, and when it ends, or is stopped, every process it started ends with it
  (``--die-with-parent``; the kernel kills a PID namespace whose first process is gone);
* without network (only a loopback interface, which the kernel and its client use);
* without capabilities (``--cap-drop ALL``), in a session of its own (``--new-session``: no
  terminal to type into);
* on a file system that is read-only (the system's ``/usr``, the Python installation, the
  virtual environment and the project's ``lib`` and ``course``, bound read-only; nothing else
  of the project, nothing of the lecturer's home, the other submissions or the gradebook is
  visible) except the box, mounted as ``/tmp``.

Whether bubblewrap works is found out at run time (:func:`detect`): it may be missing, or a
container may forbid the namespaces it needs. Without it the child runs as a plain process
with the same private folders and environment (:data:`Sandbox.kind` is ``"none"``), and the
grading command says so in the gradebook and in its output; the lecturers' page says what that
costs (a submission can then read and write the lecturer's files, and reach the network).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MODES", "Sandbox", "SandboxUnavailable", "box_paths", "child_environment", "detect", "prepare_box"]

ROOT = Path(__file__).resolve().parents[1]
#: The choices of ``--sandbox``: use bubblewrap if it works, demand it, or do without.
MODES = ("auto", "bubblewrap", "none")
#: Where the box is seen inside the sandbox.
INSIDE = Path("/tmp")
#: The top-level folders of the system that are bound read-only, or re-created as the same symbolic links.
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Files of /etc a Python process may read: the dynamic linker's cache, the time zone, user and group names.
_ETC = ("/etc/ld.so.cache", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf")


class SandboxUnavailable(RuntimeError):
    """``--sandbox bubblewrap`` was asked for, and bubblewrap does not work here."""


def box_paths(box: Path) -> dict[str, Path]:
    """The folders of a box the child writes to: its working folder, home, the kernel's runtime folder, ..."""
    return {name: box / name for name in ("work", "home", "runtime", "ipython", "matplotlib")}


def child_environment(box: Path) -> dict[str, str]:
    """The whole environment of a grading child whose box is at ``box`` (as the child sees it).

    No variable of the lecturer's is passed on (no token or password kept there reaches a
    submission). Every folder a kernel writes to (Jupyter's runtime folder with the kernel's
    connection file, IPython's and matplotlib's folders, the temporary folder) is in the box,
    so that nothing is left behind when the box is removed. Numerical libraries run one
    thread each, so that ``--jobs N`` runs N kernels on N cores.
    """
    folders = box_paths(box)
    return {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(folders["home"]),
        "TMPDIR": str(box),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(folders["ipython"]),
        "MPLCONFIGDIR": str(folders["matplotlib"]),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _readable_roots() -> list[Path]:
    """The folders the child must read: the project's ``lib`` and ``course``, the environments, sys.path.

    Nothing else of the project is bound: a submissions folder inside it, or the lecturer's
    other files there, stay out of sight.
    """
    project = ROOT.resolve()
    needed = [project / "lib", project / "course", Path(sys.prefix).resolve()]
    roots: list[Path] = []
    candidates = needed + [Path(sys.base_prefix), Path(sys.executable).parent] + [Path(e) for e in sys.path if e]
    for candidate in candidates:
        path = candidate.resolve()
        inside_project = path == project or project in path.parents
        if inside_project and not any(path == allowed or allowed in path.parents for allowed in needed):
            continue
        if not path.exists() or any(path == root or root in path.parents for root in roots):
            continue
        if any(str(path) == top or str(path).startswith(top + "/") for top in _SYSTEM):
            continue  # bound with the system
        roots = [root for root in roots if path not in root.parents] + [path]
    return roots


def _bwrap_arguments(box: Path, executable: str) -> list[str]:
    arguments = [executable, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for top in _SYSTEM:
        if os.path.islink(top):
            arguments += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            arguments += ["--ro-bind", top, top]
    for name in _ETC:
        arguments += ["--ro-bind-try", name, name]
    arguments += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu",
                  "--proc", "/proc", "--dev", "/dev", "--bind", str(box), str(INSIDE)]
    # after the box: a project or environment under /tmp is mounted over it, not hidden by it
    for root in _readable_roots():
        arguments += ["--ro-bind", str(root), str(root)]
    arguments += ["--remount-ro", "/", "--clearenv"]
    for name, value in child_environment(INSIDE).items():
        arguments += ["--setenv", name, value]
    return arguments + ["--chdir", str(box_paths(INSIDE)["work"])]


@dataclass(frozen=True)
class Sandbox:
    """How grading children run: ``kind`` is ``"bubblewrap"`` or ``"none"``; ``note`` says which, or why not."""

    kind: str
    note: str
    executable: str | None = None

    @property
    def isolated(self) -> bool:
        return self.kind == "bubblewrap"

    def describe(self) -> str:
        """One line for the gradebook and the output: ``bubblewrap (...)`` or ``none: <why>``."""
        return f"{self.kind}: {self.note}"

    def inside(self, box: Path) -> Path:
        """Where the child sees the box."""
        return INSIDE if self.isolated else box

    def command(self, argv: list[str], box: Path) -> tuple[list[str], dict[str, str] | None, Path]:
        """The command that runs ``argv`` for the box ``box``, its environment and its working folder.

        ``argv`` names paths as the child sees them (see :meth:`inside`).
        """
        if self.isolated:
            return _bwrap_arguments(box, self.executable) + ["--"] + argv, {}, box
        return argv, child_environment(box), box_paths(box)["work"]


def prepare_box(box: Path) -> None:
    """Create the folders of a box (see :func:`box_paths`)."""
    for folder in box_paths(box).values():
        folder.mkdir(parents=True, exist_ok=True)


def _try(sandbox: Sandbox) -> str | None:
    """Run ``import lib`` in the sandbox; None if it works, else why not (bwrap's last line of error)."""
    with tempfile.TemporaryDirectory(prefix="course-sandbox-test-") as folder:
        box = Path(folder)
        prepare_box(box)
        command, environment, cwd = sandbox.command([sys.executable, "-c", "import lib.exercises"], box)
        try:
            done = subprocess.run(command, env=environment, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{type(error).__name__}: {error}"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
    return None


def detect(mode: str = "auto") -> Sandbox:
    """The sandbox grading uses, found by trying it.

    Parameters
    ----------
    mode : {"auto", "bubblewrap", "none"}
        ``auto`` uses bubblewrap when it works and runs without a sandbox otherwise;
        ``bubblewrap`` demands it; ``none`` does without.

    Returns
    -------
    Sandbox

    Raises
    ------
    SandboxUnavailable
        If ``mode`` is ``"bubblewrap"`` and bubblewrap is missing or does not work here.
    ValueError
        If ``mode`` is not one of :data:`MODES`.
    """
    if mode not in MODES:
        raise ValueError(f"the sandbox must be one of {MODES}, got {mode!r}")
    if mode == "none":
        return Sandbox("none", "switched off (--sandbox none)")
    executable = shutil.which("bwrap")
    if executable is None:
        why = "bubblewrap is not installed (apt-get install bubblewrap)"
    else:
        version = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout.strip()
        sandbox = Sandbox("bubblewrap", f"{version or 'bwrap'}: own PID and network namespaces, no capabilities, "
                                        "read-only files but its box", executable)
        failure = _try(sandbox)
        if failure is None:
            return sandbox
        why = f"bubblewrap does not work here ({failure})"
    if mode == "bubblewrap":
        raise SandboxUnavailable(why)
    return Sandbox("none", why)
