"""Shared fixtures: seeds the book never uses, and small random problems."""

import numpy as np
import pytest

import lib
from lib.instances import random_least_squares

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


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup``), keep a module's fixture to one worker.

    The tests that use a fixture of module scope (a grading run, a JupyterLab session, the
    browser's report) go to one worker together, so that the fixture runs once; every other test
    goes to whichever worker is free, so that the slow tests of one file (a grader that is stopped,
    a notebook that ignores interrupts) do not wait for each other.
    """
    if not config.pluginmanager.hasplugin("xdist") or config.getoption("dist", "no") == "no":
        return
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = any(definition.scope != "function"
                     for name in info.names_closure for definition in info.name2fixturedefs.get(name, ()))
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
