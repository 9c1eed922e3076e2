"""lib.gd, lib.gdnp and lib.bisection: interface, traces, errors, and convergence on unseen instances."""

import numpy as np
import pytest

import lib
from lib.instances import random_least_squares

STATE_KEYS = {"loss", "grad_norm_sq", "grad_norm_sq_length", "grad_norm_sq_direction", "rho_gap",
              "length", "time", "loss_gap", "c1"}


@pytest.mark.parametrize("solver", [lib.gd, lib.gdnp])
def test_result_and_trace_shape(solver, least_squares, rng):
    result = solver(least_squares, rng.standard_normal(least_squares.dim), iterations=7)
    assert isinstance(result, lib.OptimizationResult)
    assert result.iterations == 7
    assert STATE_KEYS <= set(result.trace)
    for key in STATE_KEYS:
        assert result.trace[key].shape == (8,), key
        assert np.all(np.isfinite(result.trace[key])), key
    assert result.trace["step"].shape == (7,)
    np.testing.assert_allclose(result.w_tilde, lib.to_w_tilde(result.g, result.w, least_squares.S), rtol=1e-12)
    # the two parts of the gradient norm add up to the whole (lemma lem-norm-split)
    parts = result.trace["grad_norm_sq_length"] + result.trace["grad_norm_sq_direction"]
    np.testing.assert_allclose(parts, result.trace["grad_norm_sq"], rtol=1e-9, atol=1e-300)
    # for least squares f - f* = ||grad f||^2_{S^-1} / 4
    np.testing.assert_allclose(result.trace["loss_gap"], result.trace["grad_norm_sq"] / 4, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("solver", [lib.gd, lib.gdnp])
def test_callback_sees_every_iterate(solver, least_squares, rng):
    """callback(t, w_tilde, g, w) once per iterate, t = 0..T, with w_tilde = g w/||w||_S and the final one returned."""
    seen = []
    result = solver(least_squares, rng.standard_normal(least_squares.dim), iterations=5,
                    callback=lambda t, w_tilde, g, w: seen.append((t, w_tilde.copy(), g, w.copy())))
    assert [t for t, *_ in seen] == list(range(6))
    for t, w_tilde, g, w in seen:
        # one product and one S-norm of d <= 25 entries apart: a few eps relative
        np.testing.assert_allclose(w_tilde, lib.to_w_tilde(g, w, least_squares.S), rtol=1e-12, atol=0)
    np.testing.assert_allclose(seen[-1][1], result.w_tilde, rtol=1e-12, atol=0)
    np.testing.assert_allclose(least_squares.loss_gap(seen[-1][1]), result.trace["loss_gap"][-1], rtol=1e-9, atol=1e-300)


def test_gd_default_step_is_one_over_2L(least_squares, rng):
    result = lib.gd(least_squares, rng.standard_normal(least_squares.dim), iterations=3)
    assert np.allclose(result.trace["step"], 1 / (2 * least_squares.L))


def test_gdnp_reaches_the_minimizer_on_unseen_instances(seed):
    """Done-when of issue 2: contraction never above (1 - mu/L)^2, and the minimiser is reached."""
    rng = np.random.default_rng(seed)
    for _ in range(30):
        dim = int(rng.integers(2, 40))
        problem = random_least_squares(dim, float(np.exp(rng.uniform(0.2, 4.5))), seed=rng)
        iterations = int(np.ceil(np.log(1e-18) / np.log(problem.rate)))
        result = lib.gdnp(problem, rng.standard_normal(dim), iterations=iterations)
        _, ratios = lib.one_step_ratios(result.trace["rho_gap"], 1e-12 * abs(problem.rho_star))
        assert np.max(ratios) <= problem.rate * (1 + 1e-7)
        error = result.w_tilde - problem.minimizer()
        assert np.sqrt(error @ problem.S @ error) <= 1e-7 * np.sqrt(-problem.rho_star)


def test_gdnp_with_bisection_agrees_with_closed_form(least_squares, rng):
    w0 = rng.standard_normal(least_squares.dim)
    closed = lib.gdnp(least_squares, w0, iterations=20)
    searched = lib.gdnp(least_squares, w0, iterations=20, bisection_steps=20)
    assert closed.info["length_search"] == "closed form" and searched.info["length_search"] == "bisection"
    widths = searched.trace["bracket_width"]
    assert np.all(np.abs(searched.trace["length"] - closed.trace["length"]) <= 2.0**-21 * widths)
    # The bisection lemma. The warm-started brackets shrink with the length's changes, so the
    # bound falls towards ~1e-30, the rounding level of the computed derivative (squared); the
    # comparison means something only where the bound is far above that level.
    meaningful = searched.trace["length_bound"] > 1e-20
    assert meaningful.sum() >= 3
    assert np.all(searched.trace["grad_norm_sq_length"][meaningful] <= searched.trace["length_bound"][meaningful])


def test_gdnp_uses_a_given_starting_length(least_squares, rng):
    result = lib.gdnp(least_squares, rng.standard_normal(least_squares.dim), iterations=2, g0=3.0)
    assert result.trace["length"][0] == 3.0  # exact: g0 is recorded as given, without arithmetic


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(w0="zero"), ValueError, "nonzero"),
        (dict(w0="orthogonal"), ValueError, "orthogonal to u"),
        (dict(w0="nan"), ValueError, "non-finite"),
        (dict(w0="short"), ValueError, "dimension"),
        (dict(iterations=0), ValueError, "positive integer"),
        (dict(iterations=2.5), TypeError, "positive integer"),
        (dict(iterations=True), TypeError, "positive integer"),
        (dict(bisection_steps=-1), ValueError, "non-negative"),
        (dict(bisection_steps=2), ValueError, "too few for the adaptive bracket"),
        (dict(bisection_steps=5, bracket_radius=0.0), ValueError, "positive"),
    ],
)
def test_gdnp_refuses_bad_input(kwargs, error, words):
    problem = lib.LeastSquares(np.diag([1.0, 2.0, 3.0]), [1.0, 0.0, 0.0])
    w0 = {"zero": np.zeros(3), "orthogonal": np.array([0.0, 1.0, 1.0]), "nan": np.array([1.0, np.nan, 0.0]),
          "short": np.ones(2)}.get(kwargs.pop("w0", None), np.ones(3))
    with pytest.raises(error, match=words):
        lib.gdnp(problem, w0, **{"iterations": 3, **kwargs})


def test_gdnp_refuses_u_zero():
    with pytest.raises(ValueError, match="u = E"):
        lib.gdnp(lib.LeastSquares(np.eye(2), [0.0, 0.0]), np.ones(2), iterations=3)


@pytest.mark.parametrize("solver", [lib.gd, lib.gdnp])
def test_solvers_refuse_things_that_are_not_problems(solver):
    with pytest.raises(TypeError, match="one of the book's problems"):
        solver({"S": np.eye(2)}, np.ones(2), iterations=3)


def test_gd_refuses_zero_start_and_bad_step(least_squares):
    with pytest.raises(ValueError, match="nonzero"):
        lib.gd(least_squares, np.zeros(least_squares.dim))
    with pytest.raises(ValueError, match="positive"):
        lib.gd(least_squares, np.ones(least_squares.dim), step=-1.0)


def test_gd_divergence_is_an_error_not_a_nan(least_squares, rng):
    with pytest.raises(lib.DivergenceError, match="diverged") as caught:
        lib.gd(least_squares, rng.standard_normal(least_squares.dim), iterations=5000, step=5.0 / least_squares.L)
    partial = caught.value.result
    assert np.all(np.isfinite(partial.trace["loss"])) and partial.iterations < 5000


# ----------------------------------------------------------------------------- bisection
def test_bisection_meets_its_bound(rng):
    root = rng.uniform(-5, 5)
    derivative = lambda g: np.tanh(g - root) * 3.0  # |h'| <= 3
    for steps in (0, 1, 5, 20, 40):
        found = lib.bisection(derivative, (root - 2.3, root + 7.1), steps)
        assert abs(found.root - root) <= 2.0 ** (-steps - 1) * found.width
        assert derivative(found.root) ** 2 <= 9.0 * 4.0 ** (-steps - 1) * found.width**2


def test_bisection_widens_towards_the_minimiser():
    found = lib.bisection(lambda g: g - 100.0, (0.0, 1.0), 30)
    assert abs(found.root - 100.0) < 1e-6 and found.widenings > 0
    assert found.bracket[0] <= 100.0 <= found.bracket[1]
    found = lib.bisection(lambda g: g + 100.0, (0.0, 1.0), 30)
    assert abs(found.root + 100.0) < 1e-6


def test_bisection_without_sign_change_is_an_error():
    with pytest.raises(lib.BracketError, match="no finite"):
        lib.bisection(lambda g: -1.0 / (1.0 + g * g), (0.0, 1.0), 10, max_widenings=20)
    with pytest.raises(lib.BracketError, match="no finite"):  # a derivative that underflows to -0.0
        lib.bisection(lambda g: -np.exp(-g * g), (0.0, 1.0), 10, max_widenings=20)
    with pytest.raises(lib.BracketError, match="local maximum"):
        lib.bisection(lambda g: -g, (-1.0, 1.0), 10)
    with pytest.raises(lib.BracketError, match="finite"):
        lib.bisection(lambda g: np.nan, (-1.0, 1.0), 10)
    with pytest.raises(ValueError, match="a < b"):
        lib.bisection(lambda g: g, (1.0, -1.0), 10)
    with pytest.raises(TypeError, match="pair"):
        lib.bisection(lambda g: g, 1.0, 10)


def test_fixed_bracket_keeps_the_length_part_under_its_constant_bound(least_squares, rng):
    result = lib.gdnp(least_squares, rng.standard_normal(least_squares.dim), iterations=30,
                      bisection_steps=2, bracket_radius=0.5)
    assert result.info["bracket"] == "fixed radius 0.5"
    assert np.all(result.trace["grad_norm_sq_length"][1:] <= result.trace["length_bound"][1:])
    assert np.all(result.trace["length_bound"][1:] >= 4.0 * 4.0**-3 * 1.0**2 * (1 - 1e-12))  # Psi = 2, width >= 1
