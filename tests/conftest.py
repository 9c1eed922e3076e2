"""Shared fixtures: seeds the book never uses, and small random problems."""

import functools
import re
from pathlib import Path

import numpy as np
import pytest

import lib
from lib.instances import random_halfspace, random_least_squares

#: The book's notebooks use seeds 0 and 1; the tests draw their instances from these instead.
UNSEEN_SEEDS = (20261124, 31337, 987654321)


@pytest.fixture(params=UNSEEN_SEEDS)
def seed(request):
    return request.param


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)


@pytest.fixture
def least_squares(rng) -> lib.LeastSquares:
    return random_least_squares(int(rng.integers(2, 25)), float(np.exp(rng.uniform(0.5, 4))), seed=rng)


#: The output weights of the small hidden layers of the network tests (chapter 4's three units).
HIDDEN_THETA = np.array([1.0, 0.6, -0.4])


@pytest.fixture
def hidden_layer(rng) -> lib.HiddenLayerNetwork:
    """Three tanh units on 3000 centred points of a logistic halfspace model in 5 dimensions."""
    model = random_halfspace(5, 8.0, 0.5, "logistic", seed=rng)
    X, y = model.sample(3000, seed=rng)
    return lib.HiddenLayerNetwork(X - X.mean(axis=0), y, HIDDEN_THETA)


# --------------------------------------------------------------------------- mpmath's precision, per test
# mpmath's working precision (mp.dps) is one global of the process: set at a module's import, the
# module imported last would decide it for every test of the run. A module asks for its digits
# with `pytestmark = pytest.mark.mp_digits(n)` instead, and each of its tests runs inside
# mp.workdps(n), which restores the precision afterwards.
def pytest_configure(config):
    config.addinivalue_line("markers", "mp_digits(n): the test runs with mpmath's working precision set to n "
                                       "decimal digits (mp.workdps(n), tests/conftest.py)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("mp_digits")
    if marker is None:
        return (yield)
    import mpmath

    with mpmath.workdps(marker.args[0]):
        return (yield)


# --------------------------------------------------------------------------- how `make test` spreads the tests
# pytest-xdist's --dist loadfile sends a whole file to one worker, which a module-scoped fixture (one
# grading run, one JupyterLab session) needs; but a file of independent tests that wait on wall-clock
# limits (tests/test_grade_stopping.py) then keeps one worker for minutes while the other has run out
# of work. With --dist-fixture-files, a file that defines a module-, package- or session-scoped
# fixture still goes to one worker whole, every other test goes to whichever worker is free, and the
# tests marked slow come first (the longest units start first, so that no worker is left with one at
# the end). Every test still runs once; only the order and the worker change.
SHARED_FIXTURE = re.compile(r"""@pytest\.fixture\([^)]*scope\s*=\s*["'](module|package|session)["']""")


def pytest_addoption(parser):
    parser.addoption("--dist-fixture-files", action="store_true", default=False,
                     help="with -n: a test file with a module-scoped (or wider) fixture goes to one worker whole, "
                          "every other test to any worker, the tests marked slow first")


def pytest_collection_modifyitems(config, items):
    if config.getoption("dist_fixture_files"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: the order is otherwise kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if not config.getoption("dist_fixture_files"):
        return None  # xdist's own scheduler for the --dist given
    from xdist.scheduler import LoadScopeScheduling

    class FixtureFileScheduling(LoadScopeScheduling):
        """One work unit per file with a shared fixture, one per test otherwise."""

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if _shares_a_fixture(config.rootpath / path) else nodeid

    return FixtureFileScheduling(config, log)


@functools.cache
def _shares_a_fixture(path: Path) -> bool:
    return path.suffix == ".py" and bool(SHARED_FIXTURE.search(path.read_text(encoding="utf-8")))
