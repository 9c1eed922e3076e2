"""lib.LeastSquares and the Rayleigh quotient."""

import numpy as np
import pytest

import lib


def test_from_data_matches_mean_squared_error(rng):
    X = rng.standard_normal((300, 4))
    X -= X.mean(axis=0)
    y = X @ rng.standard_normal(4) + rng.standard_normal(300)
    problem = lib.LeastSquares.from_data(X, y)
    w_tilde = rng.standard_normal(4)
    assert np.isclose(problem.loss(w_tilde), np.mean((y - X @ w_tilde) ** 2) - np.mean(y**2), rtol=1e-12)
    np.testing.assert_allclose(problem.minimizer(), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)


def test_gradient_matches_finite_differences(least_squares, rng):
    problem, w_tilde, h = least_squares, rng.standard_normal(least_squares.dim), 1e-6
    fd = [(problem.loss(w_tilde + h * e) - problem.loss(w_tilde - h * e)) / (2 * h) for e in np.eye(problem.dim)]
    np.testing.assert_allclose(problem.grad(w_tilde), fd, rtol=1e-6, atol=1e-6)


def test_minimum_and_rayleigh_minimum_agree(least_squares):
    problem = least_squares
    assert np.isclose(problem.loss(problem.minimizer()), problem.minimum(), rtol=1e-12)
    assert np.isclose(lib.rayleigh_minimum(problem.S, problem.u), problem.rho_star, rtol=1e-12)
    assert np.isclose(lib.rayleigh_quotient(problem.minimizer(), problem.S, problem.u), problem.rho_star, rtol=1e-12)


def test_rayleigh_gap_is_accurate_when_tiny(least_squares, rng):
    """The residual form keeps relative accuracy where rho(w) - rho* would cancel to zero."""
    problem = least_squares
    optimum = problem.S_inv @ problem.u
    tilt = rng.standard_normal(problem.dim) * 1e-9 * np.linalg.norm(optimum)
    gap = lib.rayleigh_gap(optimum + tilt, problem.S, problem.u)
    assert gap > 0
    # second-order expansion: gap = ||P tilt||^2 ... compare with the gap at twice the tilt
    ratio = lib.rayleigh_gap(optimum + 2 * tilt, problem.S, problem.u) / gap
    assert abs(ratio - 4.0) < 1e-5


def test_loss_gap_equals_rayleigh_gap_at_optimal_length(least_squares, rng):
    problem = least_squares
    w = rng.standard_normal(problem.dim)
    g_star = problem.ray(w).exact_minimizer()
    w_tilde = lib.to_w_tilde(g_star, w, problem.S)
    assert np.isclose(problem.loss_gap(w_tilde), problem.rho_gap(w), rtol=1e-10)


@pytest.mark.parametrize(
    "S, u, words",
    [
        (np.eye(2), [1.0], "length 1"),
        (np.eye(2), [1.0, np.inf], "non-finite"),
        ([[1.0, 0.0], [0.0, 0.0]], [1.0, 1.0], "positive definite"),
        ([[1.0, 0.5], [0.4, 1.0]], [1.0, 1.0], "symmetric"),
        (np.eye(2)[None], [1.0, 1.0], "shape"),
    ],
)
def test_bad_moments_are_refused(S, u, words):
    with pytest.raises(ValueError, match=words):
        lib.LeastSquares(S, u)


def test_from_data_refuses_mismatched_shapes_and_nan():
    X = np.ones((5, 2)) + np.arange(10).reshape(5, 2) ** 2
    with pytest.raises(ValueError, match="one target per row"):
        lib.LeastSquares.from_data(X, np.ones(4))
    with pytest.raises(ValueError, match="non-finite"):
        lib.LeastSquares.from_data(X, [1.0, 2.0, np.nan, 4.0, 5.0])
    with pytest.raises(ValueError, match="positive definite"):
        lib.LeastSquares.from_data(np.ones((5, 2)), np.ones(5))  # collinear columns
