"""The lean loop of gd and gdnp records the traces it recorded before, to rounding.

The reference below is the arithmetic of ``lib.gd`` and ``lib.gdnp`` as they were on main at
commit ce68f0e, before the lean loop (issue 15, item 3), vendored here in a few lines each (run
against that commit's lib on the problems of these tests it gave its least-squares traces to the
bit, and its sample traces to one unit in the last place of a mean, which numpy sums in an order
that depends on where the array lies in memory): every
product and every S^-1-norm computed as that code computed it (``w @ S @ w``, ``S @ w_hat``,
``grad @ S_inv @ grad``, the Rayleigh residual from the direction iterate, ``S @ w_tilde`` for
the loss gap, a fresh ray per direction). The lean loop computes the same quantities from one
product S w per iterate and a blocked product with S^-1, so the two differ only in the order of
rounding. The tolerances are argued where they are used.
"""

import numpy as np
import pytest

import lib
from lib.maths.bisection import bisection
from lib.problems.instances import random_halfspace, random_least_squares

EPS = np.finfo(float).eps


# ------------------------------------------------------------------ the reference (main at ce68f0e)
def _unit(w, S):
    k = int(np.frexp(np.max(np.abs(w)))[1])
    v = np.ldexp(w, -k)
    return v / np.sqrt(v @ S @ v)


def _record(trace, problem, grad, loss, w_hat, S_w_hat, g, w, c1, known_minimum, w_tilde=None):
    S, S_inv, u = problem.S, problem.S_inv, problem.u
    k = int(np.frexp(np.max(np.abs(w)))[1])
    v = np.ldexp(w, -k)
    Sv = S @ v
    residual = u - (float(u @ v) / float(v @ Sv)) * Sv
    along = float(grad @ w_hat)
    across = grad - along * S_w_hat
    values = dict(loss=loss, grad_norm_sq=grad @ S_inv @ grad, rho_gap=max(float(residual @ S_inv @ residual), 0.0),
                  length=g, grad_norm_sq_length=along * along, grad_norm_sq_direction=across @ S_inv @ across, c1=c1)
    if known_minimum:
        gap = u + S @ (g * w_hat if w_tilde is None else w_tilde)
        values["loss_gap"] = float(gap @ S_inv @ gap)
    for key, value in values.items():
        trace.setdefault(key, []).append(float(value))


def reference_gd(problem, w0, iterations):
    S, u, step = problem.S, problem.u, 1.0 / problem.smoothness
    w_tilde, trace = np.array(w0, dtype=float), {}
    for t in range(iterations + 1):
        evaluation = problem.evaluate(w_tilde)
        norm = float(np.sqrt(w_tilde @ S @ w_tilde))
        w_hat = w_tilde / norm
        _record(trace, problem, evaluation.grad, evaluation.loss, w_hat, S @ w_hat, norm, w_tilde, evaluation.c1, True,
                w_tilde)
        if t == iterations:
            break
        trace.setdefault("step", []).append(step)
        w_tilde = w_tilde - step * evaluation.grad
    return {key: np.array(value) for key, value in trace.items()}


def _sample_evaluation(problem, q, g, w_hat):
    """The evaluation at g w^ from the ray's projections q = Z w^ (HalfspaceSample._evaluate_projections)."""
    phi, p = problem.loss_function, q * g
    loss, second_mean, first = float(np.mean(phi.value(p))), float(np.mean(phi.second(p))), phi.first(p)
    c1 = float(np.mean(first)) - second_mean * float(problem.u @ (g * w_hat))
    return loss, problem.Z.T @ first / problem.n, c1


def reference_gdnp(problem, w0, iterations, bisection_steps=None):
    S, u, L = problem.S, problem.u, problem.L
    known_minimum = bisection_steps is None
    trace = {}
    if bisection_steps is None:
        def length(w_hat, g, change):
            return -float(u @ w_hat)
    else:
        def length(w_hat, g, change):  # Bisection(T_s, f, w) from lib.solvers.length_search.start_bracket
            scale = max(abs(g), 1.0)
            radius = 0.25 * scale if change is None else max(2.0 * abs(change), 1e-12 * scale)
            q = problem.Z @ w_hat
            derivative = lambda h: float(problem.loss_function.first(q * h) @ q) / problem.n
            found = bisection(derivative, (g - radius, g + radius), bisection_steps)
            width = found.bracket[1] - found.bracket[0]
            trace.setdefault("bracket_width", []).append(width)
            trace.setdefault("length_bound", []).append(
                problem.length_curvature_bound**2 * 4.0 ** (-bisection_steps - 1) * width**2)
            return found.root
    w = np.array(w0, dtype=float)
    w_hat = _unit(w, S)
    g, change = length(w_hat, 0.0, None), None
    for t in range(iterations + 1):
        if known_minimum:
            evaluation = problem.evaluate(g * w_hat)
            loss, grad, c1 = evaluation.loss, evaluation.grad, evaluation.c1
        else:
            loss, grad, c1 = _sample_evaluation(problem, problem.Z @ w_hat, g, w_hat)
        S_w_hat = S @ w_hat
        _record(trace, problem, grad, loss, w_hat, S_w_hat, g, w, c1, known_minimum)
        if t == iterations:
            break
        norm, uw = float(np.sqrt(w @ S @ w)), float(u @ w)
        trace.setdefault("eta", []).append(norm**4 / (2.0 * L * uw**2))
        s = -(norm**3) / (L * g * c1 * uw)
        trace.setdefault("step", []).append(s)
        w = w - s * ((g / norm) * (grad - float(grad @ w_hat) * S_w_hat))
        w_hat = _unit(w, S)
        g_next = length(w_hat, g, change)
        change, g = g_next - g, g_next
    return {key: np.array(value) for key, value in trace.items()}


# ------------------------------------------------------------------ the comparison
# Relative tolerance for every column above the rounding floor. The lean loop reorders rounding
# in four places: ||w||_S as sqrt(w.(Sw)) instead of sqrt((wS).w); S w~ as g (S w^) instead of
# S (g w^); the S^-1-norms as row sums of a blocked product and, for grad_norm_sq, as the two
# parts of lemma lem-norm-split; the Rayleigh residual from S w^ instead of from S w. Each
# changes a computed quantity by at most a few d eps relative, and an S^-1-norm by at most
# kappa d eps relative to the norm of the vector (its error is amplified by ||S^-1|| ||S||). The
# iterates of a contraction carry such a change forward, not amplified beyond 1/(1 - rate) <=
# kappa (here kappa = 100, d = 20): at most 20 * 100 * 100 * 2.2e-16 = 4.4e-11 in all. 1e-9
# leaves a factor 20 for the constants c.
RELATIVE = 1e-9


def _compare(new, old, skip=()):
    assert set(old) - set(skip) <= set(new), f"columns lost: {set(old) - set(new)}"
    for key in set(old) - set(skip):
        assert new[key].shape == old[key].shape, key
        np.testing.assert_allclose(new[key], old[key], rtol=RELATIVE, atol=0.0, err_msg=key)


def _length_part_bound(problem, trace_lengths, w_hats):
    r"""A bound on grad_norm_sq_length where it is rounding: the closed-form length makes
    :math:`\nabla f^\top\hat w = 2(m + g\,\hat w^\top S\hat w)` vanish (:math:`g = -m`), and what
    is left is the rounding of the two dot products and of :math:`\hat w^\top S\hat w = 1`, at most
    :math:`4 d\,\varepsilon\,(\|u\|\|\hat w\| + |g|\|S\hat w\|\|\hat w\|)` (sums of d products,
    bounded by Cauchy-Schwarz; 4 for the factor 2 and the two sums)."""
    d = problem.dim
    return np.array([(4 * d * EPS * (np.linalg.norm(problem.u) * np.linalg.norm(w_hat)
                      + abs(g) * np.linalg.norm(problem.S @ w_hat) * np.linalg.norm(w_hat))) ** 2
                     for g, w_hat in zip(trace_lengths, w_hats)])


def test_gdnp_on_least_squares_records_today_s_trace():
    problem = random_least_squares(20, 100.0, seed=1)
    w0 = np.ones(20)
    new, old = lib.gdnp(problem, w0, iterations=60).trace, reference_gdnp(problem, w0, 60)
    _compare(new, old, skip=("grad_norm_sq_length",))
    # the length part is rounding in both (the closed-form length zeroes it): both within the rounding bound
    w_hats = []
    result = lib.gdnp(problem, w0, iterations=60, callback=lambda intermediate_result: w_hats.append(intermediate_result.w_tilde / intermediate_result.g))
    bound = _length_part_bound(problem, result.trace["length"], w_hats)
    assert np.all(new["grad_norm_sq_length"] <= bound) and np.all(old["grad_norm_sq_length"] <= bound)


def test_gd_on_least_squares_records_today_s_trace():
    problem = random_least_squares(20, 100.0, seed=1)
    w0 = np.ones(20)
    _compare(lib.gd(problem, w0, iterations=60).trace, reference_gd(problem, w0, 60))


@pytest.mark.parametrize("loss", ["logistic", "squared_sigmoid"])
def test_gdnp_on_a_sample_records_today_s_trace(loss):
    population = random_halfspace(10, 20.0, loss=loss, seed=0)
    X, y = population.sample(2000, seed=1)
    problem = lib.Halfspace.from_data(X, y, loss=loss)
    new = lib.gdnp(problem, np.ones(10), iterations=30, bisection_steps=5).trace
    old = reference_gdnp(problem, np.ones(10), 30, bisection_steps=5)
    # grad_norm_sq_length is the square of the residual derivative after 5 halvings: above rounding here
    _compare(new, old)


def test_a_long_run_reaches_today_s_rounding_floor():
    """Run into the rounding floor (kappa = 10, 400 steps): the lean trace's floor of rho_gap is today's.

    Deep down both traces are rounding: their floor is set by the error of the residual
    u - m S w^, a few eps ||u|| per entry, whose S^-1-norm squared is at most about
    d (eps ||u||)^2 / mu in both computations. The check: both runs get below that bound, and
    the smallest gap each reaches, and the median of its last 100, are within a factor 100 of
    the other's (the constants of two roundings of that size).
    """
    problem = random_least_squares(20, 10.0, seed=1)
    w0 = np.ones(20)
    new = lib.gdnp(problem, w0, iterations=400).trace["rho_gap"]
    old = reference_gdnp(problem, w0, 400)["rho_gap"]
    floor = 20 * (EPS * np.linalg.norm(problem.u)) ** 2 / problem.mu
    assert old.min() < floor and new.min() < floor  # the runs do reach the floor
    for a, b in ((new.min(), old.min()), (np.median(new[-100:]), np.median(old[-100:]))):
        assert a < 100 * b and b < 100 * a


# ------------------------------------------------------------------ the hand-over to the general loop
# The lean loop hands over to the general loop where ||v||_S^2 or, for GDNP, g^2 leaves
# (2^-600, 2^600). A callback that never stops makes gd and gdnp take the general loop from the
# start, so the two runs below differ only in the rounding of the iterates the lean loop made:
# the same tolerance RELATIVE as against the reference (same reorderings, same argument).
def _general(intermediate_result):
    return False


def _compare_runs(new, old, skip=()):
    assert list(new) == list(old), "the columns, in order"
    _compare(new, old, ("time", *skip))  # time is the clock's


def test_gd_hands_over_to_the_general_loop_and_diverges_alike():
    """A step of 50/zeta: the iterates grow until ||w~||_S^2 > 2^600, where the general loop takes over and reports the overflow."""
    problem = random_least_squares(20, 100.0, seed=1)
    errors = []
    for callback in (None, _general):
        with pytest.raises(lib.DivergenceError) as caught:
            lib.gd(problem, np.ones(20), iterations=3000, step=0.5, callback=callback)
        errors.append(caught.value)
    lean, general = errors
    assert str(lean) == str(general)  # the message names the iteration and the step: the same text
    new, old = lean.result.trace, general.result.trace
    assert new["length"][-1] ** 2 > 2.0**500  # the lean loop ran far before handing over
    # The direction part a = grad f - (grad f.w^) S w^ is 2R exactly (R the Rayleigh residual). The
    # general loop subtracts two vectors of size |grad f| ~ 2||w~||_S, so its a carries an error of
    # a few d eps |grad f| per entry: as ||w~|| grows, its ||a||^2_{S^-1} is that error (up to
    # 1e15 times the true value here), while the lean loop's 4 ||R||^2_{S^-1} stays right. The two
    # agree to rounding relative to ||grad f||^2_{S^-1}, the size of the quantities subtracted.
    _compare_runs(new, old, skip=("grad_norm_sq_direction",))
    assert np.all(np.abs(new["grad_norm_sq_direction"] - old["grad_norm_sq_direction"])
                  <= RELATIVE * old["grad_norm_sq"])
    np.testing.assert_allclose(lean.result.w_tilde, general.result.w_tilde, rtol=RELATIVE)


@pytest.mark.parametrize("scale", [1e95, 1e-160])
def test_gd_from_a_start_outside_the_lean_range(scale):
    """||w~_0||_S^2 beyond 2^600 or below 2^-600: the general loop from the start, as before."""
    problem = random_least_squares(20, 100.0, seed=1)
    w0 = np.full(20, scale)
    lean, general = (lib.gd(problem, w0, iterations=40, callback=callback) for callback in (None, _general))
    _compare_runs(lean.trace, general.trace)


def test_gdnp_hands_over_to_the_general_loop_mid_run():
    """u scaled so that g_0^2 = m_0^2 < 2^600 < rho*: g_t^2 = -rho(w_t) crosses 2^600 as the direction converges.

    The lean loop cannot record an iterate with g^2 >= 2^600, so the last iterates are the general
    loop's (after the hand-over); the traces agree with the general loop's from the start.
    """
    base = random_least_squares(20, 100.0, seed=1)
    w0 = np.ones(20)
    cos_sq = (base.u @ w0) ** 2 / (w0 @ base.S @ w0) / abs(base.rho_star)  # rho(w0)/rho*
    problem = lib.LeastSquares(base.S, np.sqrt(2.0**600 / (abs(base.rho_star) * np.sqrt(cos_sq))) * base.u)
    lean, general = (lib.gdnp(problem, w0, iterations=60, callback=callback) for callback in (None, _general))
    lengths = lean.trace["length"]
    assert lengths[0] ** 2 < 2.0**600 < lengths[-1] ** 2  # the hand-over happened
    _compare_runs(lean.trace, general.trace, skip=("grad_norm_sq_length",))
    np.testing.assert_allclose(lean.w, general.w, rtol=RELATIVE)
    # the length part is rounding in both (the closed-form length zeroes it): 2(m + g w^.S w^) with g = -m
    # is at most a few eps |m| in both computations (sums of d products: 4 d eps, as in _length_part_bound)
    bound = (4 * 20 * EPS * 2 * np.abs(lengths)) ** 2
    assert np.all(lean.trace["grad_norm_sq_length"] <= bound) and np.all(general.trace["grad_norm_sq_length"] <= bound)


def test_gdnp_from_a_start_outside_the_lean_range():
    problem = random_least_squares(20, 100.0, seed=1)
    w0 = np.full(20, 1e-160)
    lean, general = (lib.gdnp(problem, w0, iterations=40, callback=callback) for callback in (None, _general))
    _compare_runs(lean.trace, general.trace, skip=("grad_norm_sq_length",))
