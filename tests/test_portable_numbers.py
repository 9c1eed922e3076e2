"""No assertion of the book depends on bit-exact floating point or on wall-clock time.

The guard (tests/exact_floats.py) reads every code cell of the notebooks and every module of
lib/checks, lib/exercises, lib/book, course/ and tests/; the second half of this file shows that it catches
what it must catch, and lets through what is exact by construction.
"""

from pathlib import Path

import pytest

from exact_floats import scan_source
from lib.checks.statements import read_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
MODULES = sorted(p for folder in ("lib/checks", "lib/exercises", "lib/book", "course", "tests")
                 for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_cells_compare_floats_with_a_tolerance(path):
    findings = [f"code cell {number}, {finding}"
                for number, cell in enumerate((c for c in read_cells(path) if c["cell_type"] == "code"), 1)
                for finding in scan_source(cell["source"])]
    assert not findings, f"{path.name}:\n" + "\n".join(findings)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_compare_floats_with_a_tolerance(path):
    findings = scan_source(path.read_text(encoding="utf-8"))
    assert not findings, f"{path.relative_to(ROOT)}:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("code", [
    "assert table[2.0][0] == 1.0",
    "assert x != -0.5",
    "assert total / 'n' == 0.5",  # a string on one side does not excuse a float literal on the other
    "assert best == 2 * L / (L + mu)",
    "assert value == x ** 2",
    "assert np.linalg.norm(v) == norm",
    "assert float(a) == b",
    "assert math.sqrt(2) == r",
    "assert result.trace['length'][0] == g0",
    "assert steps == list(run.trace['step'])",
    "np.testing.assert_array_equal(a, b)",
    "assert np.array_equal(a, b)",
    "assert 0.5 < x == 1e-3",
    "start = time.perf_counter()\nrun()\nelapsed = time.perf_counter() - start\nassert elapsed < 2",
    "assert result.trace['time'][-1] < 1",
    "assert x == 1.0  # exact:",
])
def test_the_guard_catches(code):
    assert scan_source(code), f"the guard let through: {code}"


@pytest.mark.parametrize("code", [
    "assert len(x) == 3",
    "assert name == 'logistic'",
    "assert abs(x - 1.0) <= 1e-12",
    "assert np.isclose(a, b, rtol=1e-12)",
    "assert count == n - 1",
    "assert result.passed == True",
    "assert x == 1.0  # exact: the value is copied, no arithmetic",
    "elapsed = time.perf_counter() - start\nprint(f'{elapsed:.2f} s')",
    "%matplotlib inline\nassert math.floor(x) == 3",
    "if h == 0.0:\n    keep = True",  # an algorithm's test for an exact zero is not an assertion
    "assert run.trace['loss'].shape == (21,)",
    "assert Path(config.root_dir) == copy / 'book' / 'chapters'",  # pathlib's /, not a division
])
def test_the_guard_lets_through(code):
    assert not scan_source(code), scan_source(code)
