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
