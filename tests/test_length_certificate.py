"""The fast length search on samples: fused loss kernels, IncreasingSigns, the certified Newton interval.

The length search of a sample (lib.solvers.length_search) answers bisection's sign questions from
one Newton step when it can prove them; these tests check that every answer it gives without
evaluating is the sign of the derivative (so that the bisection's halvings and result are those
of lemma lem-bisection), and that the one-exponential kernels compute what the separate loss
functions compute.
"""

import sys

import numpy as np
import pytest

import lib
from lib.instances import random_halfspace
from lib.maths.losses import LOSSES, slope_curvature, slope_sum, third_bound, value_first_second
from lib.solvers.length_search import newton_probe, newton_root_interval, start_bracket

IncreasingSigns = sys.modules["lib.maths.bisection"].IncreasingSigns
FUSED = ("logistic", "squared_sigmoid")
EPS = np.finfo(float).eps


def sample_problem(loss, n=2000, dim=8, seed=0):
    population = random_halfspace(dim, 20.0, loss=loss, seed=seed)
    X, y = population.sample(n, seed=seed + 1)
    return lib.Halfspace.from_data(X, y, loss=loss)


@pytest.mark.parametrize("name", FUSED)
def test_fused_evaluation_equals_the_three_functions(name):
    loss = LOSSES[name]
    t = np.concatenate([np.linspace(-40.0, 40.0, 2001), [-1e4, -745.0, -700.0, 0.0, 700.0, 1e4]])
    value, first, second = value_first_second(loss, t, np.empty_like(t))
    # each entry is a few roundings from its value (products and sums of positive numbers, as in the
    # separate kernels); a mean of n such entries differs by at most n ulps of the mean of |entries|
    tolerance = 8 * EPS
    assert np.all(np.abs(first - loss.first(t)) <= tolerance * np.abs(loss.first(t)) + 1e-303)
    assert abs(value - np.mean(loss.value(t))) <= t.size * EPS * np.mean(np.abs(loss.value(t)))
    assert abs(second - np.mean(loss.second(t))) <= t.size * EPS * np.mean(np.abs(loss.second(t)))
    inner = t[np.abs(t) <= 40.0]  # every |t| <= 700: the kernels skip the clipping, with the same results
    unclipped = value_first_second(loss, inner, np.empty_like(inner), 40.0)
    clipped = value_first_second(loss, inner, np.empty_like(inner))
    assert unclipped[0] == pytest.approx(clipped[0], rel=4 * EPS) and unclipped[2] == pytest.approx(clipped[2], rel=4 * EPS)
    np.testing.assert_allclose(unclipped[1], clipped[1], rtol=4 * EPS)


@pytest.mark.parametrize("name", [*FUSED, "sigmoid"])
@pytest.mark.parametrize("g", [-3.0, 0.0, 0.7, 25.0, 900.0])
def test_ray_sums_equal_the_loss_functions(name, g):
    loss = LOSSES[name]
    q = np.random.default_rng(3).standard_normal(3000) * 2.0
    first, second = loss.first(g * q) * q, loss.second(g * q) * q * q
    # n terms each within a few ulps: the sums agree to n ulps of the sum of |terms|
    bound = lambda terms: q.size * EPS * np.sum(np.abs(terms)) + 1e-300
    for largest in (None, float(np.max(np.abs(q)))):
        assert abs(slope_sum(loss, q, g, np.empty_like(q), largest) - first.sum()) <= bound(first)
    pair = slope_curvature(loss, q, g, np.empty_like(q), float(np.max(np.abs(q))))
    if name == "sigmoid":
        assert pair is None
        return
    assert abs(pair[0] - first.sum()) <= bound(first)
    assert abs(pair[1] - second.sum()) <= bound(second)


@pytest.mark.parametrize("name", FUSED)
def test_third_bound_is_the_supremum_of_the_third_derivative(name):
    loss = LOSSES[name]
    t = np.linspace(-40.0, 40.0, 800001)
    step = 1e-4  # central differences of phi'': error about step^2 |phi^(5)| / 6 < 1e-8
    third = (loss.second(t + step) - loss.second(t - step)) / (2 * step)
    measured = float(np.max(np.abs(third)))
    assert measured <= third_bound(loss) <= measured * (1 + 1e-6)
    assert third_bound(LOSSES["sigmoid"]) is None


def test_evaluation_at_zero_needs_no_pass_and_agrees():
    for loss in ("logistic", "squared_sigmoid", "sigmoid"):
        problem = sample_problem(loss)
        ours = problem.evaluate(np.zeros(problem.dim))
        full = problem._evaluate_projections(np.zeros(problem.n), np.zeros(problem.dim))
        # phi'(0) u against Z^T phi'(0) 1 / n: the same mean summed in another order (n ulps at most)
        assert abs(ours.loss - full.loss) <= problem.n * EPS * abs(full.loss)
        assert np.max(np.abs(ours.grad - full.grad)) <= problem.n * EPS * np.max(np.abs(problem.Z))
        assert abs(ours.c2 - full.c2) <= problem.n * EPS * abs(full.c2)


def increasing(g):
    return np.tanh(g - 0.3) + 0.01 * (g - 0.3)


def test_increasing_signs_leave_bisection_unchanged_and_save_evaluations():
    rng = np.random.default_rng(5)
    for _ in range(200):
        centre, radius = rng.normal(0.0, 3.0), 10 ** rng.uniform(-4, 1)
        bracket = (centre - radius, centre + radius)
        plain = lib.bisection(increasing, bracket, 12)
        signs = IncreasingSigns(increasing)
        signs.certify(0.3 - 1e-9, 0.3 + 1e-9)  # the root is 0.3
        fast = lib.bisection(signs, bracket, 12)
        assert fast.root == plain.root  # exact: the same halvings of the same bracket
        assert fast.final_bracket == plain.final_bracket  # exact: as above
        assert signs.evaluations <= 2  # only midpoints within 1e-9 of the root are evaluated


def test_increasing_signs_decide_only_inside_their_window():
    calls = []

    def bumpy(g):  # increasing on [-1, 1] only
        calls.append(g)
        return np.sin(g)

    signs = IncreasingSigns(bumpy, (-1.0, 1.0))
    signs.certify(-0.1, 0.1)
    assert signs(-0.5) < 0 < signs(0.5) and not calls
    # exact: calls records the arguments passed in, the literal 4.0, not a computed number
    assert signs(4.0) == pytest.approx(np.sin(4.0)) and calls == [4.0]  # outside: evaluated (sin 4 < 0)
    assert signs(0.9) > 0 and calls == [4.0]


@pytest.mark.parametrize("name", FUSED)
def test_certified_intervals_hold_the_root(name):
    problem = sample_problem(name)
    rng = np.random.default_rng(11)
    issued = 0
    for _ in range(60):
        ray = problem.ray(problem.optimal_direction() + 0.3 * rng.standard_normal(problem.dim))
        root = lib.bisection(ray.derivative, (-1.0, 1.0), 80, max_widenings=60).root
        for offset in (1e-6, 1e-3, 0.05, 0.5, 2.0):
            centre = root + offset * rng.choice([-1.0, 1.0])
            value, slope = ray.derivative_and_slope(centre)
            certified = newton_root_interval(value, slope, centre, ray.slope_bounds(centre), 0.25)
            if certified is None:
                continue
            issued += 1
            (left, right), (low, high) = certified
            assert left <= low < root < high <= right
            assert ray.derivative(low) < 0.0 < ray.derivative(high)
            grid = np.linspace(left, right, 41)
            assert all(ray.derivative_and_slope(g)[1] > 0 for g in grid)  # k increases on the window
    assert issued >= 100  # a third of the 300 probes certify (those near the root): the test is not vacuous


@pytest.mark.parametrize("name", FUSED)
def test_probed_search_returns_the_plain_bisection_midpoint(name):
    problem = sample_problem(name)
    rng = np.random.default_rng(13)
    for _ in range(40):
        ray = problem.ray(problem.optimal_direction() + 0.3 * rng.standard_normal(problem.dim))
        g_previous, change = rng.uniform(0.5, 3.0), 10 ** rng.uniform(-8, 0)
        bracket = start_bracket(g_previous, change, None)
        plain = lib.bisection(ray.derivative, bracket, 5)
        signs = newton_probe(ray, g_previous, 0.5 * (bracket[1] - bracket[0])) or ray.derivative
        fast = lib.bisection(signs, bracket, 5)
        # the same halvings, unless a midpoint lies within rounding of the root (its sign is then rounding)
        assert abs(fast.root - plain.root) <= 1e-12 * abs(plain.root)


@pytest.mark.parametrize("name", FUSED)
def test_solvers_take_the_same_lengths_as_with_plain_bisection(name, monkeypatch):
    problem = sample_problem(name, n=3000, dim=10)
    w0 = np.ones(problem.dim)
    fast = lib.locally_optimal(problem, w0, iterations=25).trace["length"]
    monkeypatch.setattr(type(problem.ray(w0)), "has_slope", property(lambda self: False))
    plain = lib.locally_optimal(problem, w0, iterations=25).trace["length"]
    # the lengths are bisection midpoints: equal unless a sign at rounding level differs
    np.testing.assert_allclose(fast, plain, rtol=1e-12)
