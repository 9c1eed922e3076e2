"""Mutation testing of the book's checks: do they fail when ``lib`` is wrong?

Applies the mutations of ``tools/mutations.toml`` to a copy of ``lib`` one at a time and runs,
against each mutant, the two things that stand behind the book's claims:

* every chapter check as its chapter calls it (``lib.checks``, the book's seed 0), and
* ``tests/test_theorems.py`` (the checks on seeds the book never uses, and the negative controls),
* and, for a mutant of an implementation detail that no statement sees directly (a fused kernel, a
  certified shortcut), the test files its entry names under ``tests``: the unit tests that hold the
  fast path to the plain formulas. A mutant that only such a file kills is reported as killed by it.

A mutant is *killed* when a check fails or raises, or a test fails; it *survives* when everything
passes. The report lists every mutant with what killed it, and the score (killed / all).

Why a list of our own and not mutmut or cosmic-ray: those generate thousands of mechanical
mutants (swapped operators, changed constants) and run the whole test suite on each; here one
run of the checks takes about 25 s, and most mechanical mutants of numerical code are either
killed by a crash or are equivalent. A curated list of mistakes that make a statement of the
book false (a wrong exponent, a dropped term, a constant too small) measures what matters:
whether the checks catch a wrong claim. Each entry says what it breaks.

Usage::

    python tools/mutate.py                 # all mutations, 2 at a time
    python tools/mutate.py --only ID,ID    # some of them
    python tools/mutate.py --exhaustive    # every check and test on every mutant (slower)
    python tools/mutate.py --list          # the list, without running anything
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTATIONS = ROOT / "tools" / "mutations.toml"
#: What a mutant's copy of the project needs: the library, the tests and pytest's configuration.
COPIED = ("lib", "tests", "pyproject.toml")

#: A test about the test file itself (every check has a negative control): it says nothing of lib, so it
#: must never count as catching a mutant.
META_TEST = "tests/test_theorems.py::test_every_check_has_a_negative_control"

#: Runs every registered check with the book's seed and prints a JSON verdict per label; with the
#: argument ``first`` it stops at the first check that does not pass.
CHAPTER_CHECKS = """
import json, sys, traceback
from lib import checks
verdicts = {}
for label in sorted(checks.REGISTRY):
    try:
        result = checks.run(label, seed=0)
        verdicts[label] = "pass" if result.passed else "FAILS: " + result.figure
    except Exception as error:  # a check that raises has caught the mutant too
        verdicts[label] = "RAISES: " + type(error).__name__ + ": " + str(error)[:200]
    if sys.argv[1:] == ["first"] and verdicts[label] != "pass":
        break
print("VERDICTS " + json.dumps(verdicts))
"""


@dataclass(frozen=True)
class Mutation:
    """One change to a file of ``lib``: ``find`` (occurring exactly once) becomes ``replace``."""

    id: str
    file: str
    find: str
    replace: str
    what: str
    tests: tuple[str, ...] = ()

    def apply(self, root: Path) -> None:
        """Apply the mutation to the copy of the project at ``root``."""
        path = root / self.file
        text = path.read_text(encoding="utf-8")
        if text.count(self.find) != 1:
            raise ValueError(f"mutation {self.id}: the text to replace occurs {text.count(self.find)} times "
                             f"in {self.file}, expected once; update tools/mutations.toml")
        path.write_text(text.replace(self.find, self.replace), encoding="utf-8")


@dataclass
class Outcome:
    """What the checks and the theorem tests did with one mutant."""

    id: str
    file: str
    what: str
    killed: bool
    failing_checks: list[str] = field(default_factory=list)
    failing_tests: list[str] = field(default_factory=list)
    note: str = ""
    seconds: float = 0.0


def load_mutations(path: Path = MUTATIONS) -> list[Mutation]:
    """The mutations of ``path``, validated: unique ids, every field a non-empty string."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["mutation"]
    mutations = []
    for entry in entries:
        missing = [key for key in ("id", "file", "find", "replace", "what") if not isinstance(entry.get(key), str)]
        if missing or not entry["id"] or not entry["find"]:
            raise ValueError(f"mutation {entry.get('id')!r} in {path.name} lacks {missing or 'a find text'}")
        tests = entry.get("tests", [])
        if not isinstance(tests, list) or not all(isinstance(t, str) and t.startswith("tests/test_") for t in tests):
            raise ValueError(f"mutation {entry['id']!r} in {path.name}: tests must be a list of tests/test_*.py files")
        mutations.append(Mutation(**{key: entry[key] for key in ("id", "file", "find", "replace", "what")},
                                  tests=tuple(tests)))
    ids = [m.id for m in mutations]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate mutation ids in {path.name}: {sorted({i for i in ids if ids.count(i) > 1})}")
    return mutations


def _copy_project(destination: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, destination / name)


#: Process groups of the runs under way, stopped whole when the tool is interrupted or a run times out.
_RUNNING: set[int] = set()
#: Set when the tool is interrupted: no new run starts after that.
_STOPPING = threading.Event()


def _run(command: list[str], root: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run ``command`` in the project copy ``root``, in a process group of its own."""
    if _STOPPING.is_set():
        raise RuntimeError("the tool was interrupted")
    environment = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    with subprocess.Popen(command, cwd=root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as process:
        _RUNNING.add(process.pid)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process.pid)
            process.communicate()
            raise
        finally:
            _RUNNING.discard(process.pid)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _stop(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop_all(*_) -> None:
    """Stop every run under way (on Ctrl-C or SIGTERM), so that no mutant outlives the tool."""
    _STOPPING.set()
    for group in list(_RUNNING):
        _stop(group)
    raise KeyboardInterrupt


def judge(root: Path, timeout: float, exhaustive: bool = True,
          tests: tuple[str, ...] = ()) -> tuple[list[str], list[str], str]:
    """Run the chapter checks, the theorem tests and ``tests`` on the project copy at ``root``.

    Returns the failing check labels, the failing test ids, and a note (crash, timeout). With
    ``exhaustive=False`` it stops at the first failure (a failing check skips the tests, pytest runs
    with ``-x``): the verdict is the same, only the list of what caught the mutant is shorter.
    """
    note = ""
    try:
        checks_run = _run([sys.executable, "-c", CHAPTER_CHECKS] + ([] if exhaustive else ["first"]), root, timeout)
        lines = [line for line in checks_run.stdout.splitlines() if line.startswith("VERDICTS ")]
        if lines:
            verdicts = json.loads(lines[-1].removeprefix("VERDICTS "))
            failing_checks = [f"{label} ({verdict.split(':')[0].lower()})" for label, verdict in verdicts.items()
                              if verdict != "pass"]
        else:
            failing_checks = ["(the checks did not run: " + (checks_run.stderr.strip().splitlines() or ["?"])[-1] + ")"]
    except subprocess.TimeoutExpired:
        failing_checks, note = ["(timeout)"], f"the chapter checks ran over {timeout:.0f} s"
    if failing_checks and not exhaustive:
        return failing_checks, [], note
    try:
        tests_run = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                          "tests/test_theorems.py", *tests, "--deselect", META_TEST] + ([] if exhaustive else ["-x"]),
                         root, timeout)
        failing_tests = [line.split(" ")[1].removeprefix("tests/test_theorems.py::").removeprefix("tests/")
                         for line in tests_run.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
        if tests_run.returncode not in (0, 1) and not failing_tests:
            failing_tests = [f"(pytest exited with {tests_run.returncode})"]
    except subprocess.TimeoutExpired:
        failing_tests, note = ["(timeout)"], note + f" the theorem tests ran over {timeout:.0f} s"
    return failing_checks, failing_tests, note.strip()


def run_mutation(mutation: Mutation, timeout: float, exhaustive: bool = True) -> Outcome:
    """Apply ``mutation`` to a fresh copy of the project and judge it."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutation.id}-") as folder:
        root = Path(folder)
        _copy_project(root)
        mutation.apply(root)
        failing_checks, failing_tests, note = judge(root, timeout, exhaustive, mutation.tests)
    killed = bool(failing_checks or failing_tests)
    return Outcome(mutation.id, mutation.file, mutation.what, killed, failing_checks, failing_tests, note,
                   time.perf_counter() - started)


def stale_check(mutations: list[Mutation]) -> None:
    """Raise ``ValueError`` before anything runs if a mutation's text no longer occurs exactly once."""
    for m in mutations:
        count = (ROOT / m.file).read_text(encoding="utf-8").count(m.find) if (ROOT / m.file).is_file() else 0
        if count != 1:
            raise ValueError(f"mutation {m.id}: its text occurs {count} times in {m.file}, expected once; "
                             "update tools/mutations.toml")


def baseline(timeout: float, tests: tuple[str, ...] = ()) -> None:
    """Refuse to start when the unmutated project already fails: every mutant would look killed."""
    with tempfile.TemporaryDirectory(prefix="mutant-baseline-") as folder:
        root = Path(folder)
        _copy_project(root)
        failing_checks, failing_tests, note = judge(root, timeout, tests=tests)
    if failing_checks or failing_tests:
        raise SystemExit(f"the unmutated library already fails: checks {failing_checks}, tests {failing_tests} {note}")


def report(outcomes: list[Outcome], exhaustive: bool = True) -> str:
    """The Markdown table of the run, survivors first, with the score."""
    killed = sum(o.killed for o in outcomes)
    lines = [f"Mutation score: {killed} of {len(outcomes)} mutants killed ({100 * killed / max(len(outcomes), 1):.1f}%)",
             "" if exhaustive else "\nEach mutant was judged up to its first failure: 'caught by' names that one "
             "(`--exhaustive` lists every check and test that catches it).\n", "| mutant | file | what it breaks | verdict | caught by |", "|---|---|---|---|---|"]
    for o in sorted(outcomes, key=lambda o: (o.killed, o.file, o.id)):
        caught = "; ".join(o.failing_checks[:3] + o.failing_tests[:2]) or "-"
        if len(o.failing_checks) > 3 or len(o.failing_tests) > 2:
            caught += f" (+{max(len(o.failing_checks) - 3, 0) + max(len(o.failing_tests) - 2, 0)} more)"
        verdict = "killed" if o.killed else "**SURVIVED**"
        lines.append(f"| {o.id} | {o.file.removeprefix('lib/')} | {o.what} | {verdict} | {caught} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated mutation ids")
    parser.add_argument("--jobs", type=int, default=2, help="mutants judged at once (default 2)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run of the checks or the tests")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "mutation",
                        help="folder for report.md and report.json (default artifacts/mutation)")
    parser.add_argument("--list", action="store_true", help="print the mutations and stop")
    parser.add_argument("--exhaustive", action="store_true",
                        help="judge every mutant with every check and test (default: stop at its first failure)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the unmutated library")
    options = parser.parse_args(argv)
    if options.jobs < 1:
        parser.error("--jobs must be at least 1")
    mutations = load_mutations()
    if options.only:
        wanted = options.only.split(",")
        unknown = sorted(set(wanted) - {m.id for m in mutations})
        if unknown:
            parser.error(f"unknown mutation ids: {unknown}")
        mutations = [m for m in mutations if m.id in wanted]
    if options.list:
        for m in mutations:
            print(f"{m.id:38s} {m.file:32s} {m.what}")
        return 0
    stale_check(mutations)
    if not options.no_baseline:
        print("running the unmutated library first ...", flush=True)
        baseline(options.timeout, tuple(sorted({t for m in mutations for t in m.tests})))
    outcomes = []
    signal.signal(signal.SIGTERM, _stop_all)
    signal.signal(signal.SIGINT, _stop_all)
    pool = concurrent.futures.ThreadPoolExecutor(options.jobs)
    try:
        futures = {pool.submit(run_mutation, m, options.timeout, options.exhaustive): m for m in mutations}
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            print(f"[{len(outcomes):3d}/{len(mutations)}] {'killed  ' if outcome.killed else 'SURVIVED'} "
                  f"{outcome.id} ({outcome.seconds:.0f} s)", flush=True)
    except KeyboardInterrupt:
        pool.shutdown(wait=True, cancel_futures=True)  # the workers clean up their copies
        print("interrupted: the runs under way were stopped, nothing was reported", file=sys.stderr)
        return 130
    pool.shutdown()
    text = report(outcomes, options.exhaustive)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "report.md").write_text(text + "\n", encoding="utf-8")
    (options.out / "report.json").write_text(json.dumps([asdict(o) for o in outcomes], indent=1), encoding="utf-8")
    print("\n" + text + f"\n\n(report in {options.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
