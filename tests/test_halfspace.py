"""lib.Halfspace (Gaussian model) and its sample form, on instances the book never uses."""

import numpy as np
import pytest

import lib
from lib.instances import spd_with_spectrum


def gaussian_halfspace(rng, loss="logistic", dim=None, energy=None):
    """Random moments with u^T S^-1 u = energy < 1, so that a Gaussian z exists."""
    dim = dim or int(rng.integers(2, 12))
    S = spd_with_spectrum(np.geomspace(1.0, float(np.exp(rng.uniform(0.5, 3.5))), dim), rng)
    eigenvalues, vectors = np.linalg.eigh(S)
    a = rng.standard_normal(dim)
    a *= np.sqrt(energy if energy is not None else rng.uniform(0.05, 0.95)) / np.linalg.norm(a)
    return lib.Halfspace(S, (vectors * np.sqrt(eigenvalues)) @ vectors.T @ a, loss)


@pytest.mark.parametrize("loss", ["logistic", "sigmoid", "squared_sigmoid"])
def test_loss_and_gradient_agree_with_monte_carlo(rng, loss):
    problem = gaussian_halfspace(rng, loss)
    w_tilde = rng.standard_normal(problem.dim) * rng.uniform(0.2, 3.0)
    X, y = problem.sample(400_000, seed=rng)
    z = -y[:, None] * X
    p = z @ w_tilde
    phi = problem.loss_function
    values, gradients = phi.value(p), phi.first(p)[:, None] * z
    evaluation = problem.evaluate(w_tilde)
    n = len(p)
    assert abs(evaluation.loss - values.mean()) <= 5 * values.std() / np.sqrt(n)
    error = np.abs(evaluation.grad - gradients.mean(axis=0))
    assert np.all(error <= 5 * gradients.std(axis=0) / np.sqrt(n) + 1e-12)


@pytest.mark.parametrize("loss", ["logistic", "sigmoid", "squared_sigmoid"])
def test_gradient_agrees_with_finite_differences(rng, loss):
    problem = gaussian_halfspace(rng, loss)
    w_tilde, h = rng.standard_normal(problem.dim), 1e-5
    fd = np.array([(problem.loss(w_tilde + h * e) - problem.loss(w_tilde - h * e)) / (2 * h) for e in np.eye(problem.dim)])
    np.testing.assert_allclose(problem.grad(w_tilde), fd, rtol=1e-7, atol=1e-9)


def test_ray_derivatives_agree_with_finite_differences(rng):
    problem = gaussian_halfspace(rng, "squared_sigmoid")
    X, y = problem.sample(2000, seed=rng)
    for p in (problem, lib.Halfspace.from_data(X, y, "squared_sigmoid")):
        ray, h = p.ray(rng.standard_normal(p.dim)), 1e-5
        for g in (-3.0, -0.2, 0.0, 0.7, 5.0):
            fd = (ray.value(g + h) - ray.value(g - h)) / (2 * h)
            assert abs(ray.derivative(g) - fd) <= 1e-8, (type(p).__name__, g)
            # and the ray's derivative is the length part of the full gradient
            assert abs(ray.derivative(g) - ray.evaluate(g).grad @ ray.w_hat) <= 1e-12


def test_moments_that_no_gaussian_has_are_refused():
    with pytest.raises(ValueError, match="no Gaussian z has E\\[z\\] = u"):
        lib.Halfspace(np.eye(2), [0.9, 0.9])
    lib.Halfspace(np.eye(2), [0.6, 0.8])  # u^T S^-1 u = 1: degenerate but possible


@pytest.mark.parametrize(
    "X, y, words",
    [
        (np.ones((3, 2)), [1, -1], "one label per row"),
        (np.arange(6.0).reshape(3, 2), [0, 1, 1], "labels must be -1 or \\+1"),
        (np.arange(6.0).reshape(3, 2), [1, -1, 2], "labels must be -1 or \\+1"),
        ([[1.0, np.nan], [2.0, 1.0], [0.0, 1.0]], [1, -1, 1], "non-finite"),
        (np.arange(6.0), [1, -1, 1], "shape"),
    ],
)
def test_from_data_refuses_bad_input(X, y, words):
    with pytest.raises(ValueError, match=words):
        lib.Halfspace.from_data(X, y)


def test_sample_problem_matches_direct_formulas(rng):
    X = rng.standard_normal((500, 4))
    y = np.where(rng.random(500) < 0.5, -1.0, 1.0)
    problem = lib.Halfspace.from_data(X, y, "logistic")
    np.testing.assert_allclose(problem.S, X.T @ X / 500, rtol=1e-13)
    np.testing.assert_allclose(problem.u, (-y[:, None] * X).mean(axis=0), rtol=1e-12, atol=1e-15)
    w_tilde = rng.standard_normal(4)
    margins = y * (X @ w_tilde)
    assert np.isclose(problem.loss(w_tilde), np.mean(np.log1p(np.exp(-margins))), rtol=1e-13)


def test_sample_of_the_gaussian_model_has_its_moments(rng):
    problem = gaussian_halfspace(rng)
    X, y = problem.sample(200_000, seed=rng)
    assert set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_allclose(X.T @ X / len(y), problem.S, atol=0.05 * problem.L)
    np.testing.assert_allclose((-y[:, None] * X).mean(axis=0), problem.u, atol=0.02 * np.sqrt(problem.L))


@pytest.mark.parametrize("loss", ["logistic", "squared_sigmoid"])
def test_gdnp_finds_the_direction_of_S_inverse_u_linearly(rng, loss):
    """Done-when of issue 3: the direction S^-1 u (up to sign) and a linearly decaying gradient."""
    problem = gaussian_halfspace(rng, loss, energy=rng.uniform(0.2, 0.8))
    result = lib.gdnp(problem, rng.standard_normal(problem.dim), iterations=int(30 * problem.condition_number) + 50,
                      bisection_steps=20)
    assert abs(problem.s_cosine(result.w)) >= 1 - 1e-10
    gaps = result.trace["rho_gap"]
    assert gaps[-1] <= problem.rate ** (len(gaps) - 1) * gaps[0] * (1 + 1e-6) + 1e-13 * abs(problem.rho_star)
    grad = result.trace["grad_norm_sq"]
    assert grad[-1] <= 1e-12 * grad[0]
    assert np.linalg.norm(problem.grad(result.w_tilde)) <= 1e-6


def test_critical_point_is_critical(rng):
    problem = gaussian_halfspace(rng, "logistic")
    point = problem.critical_point()
    assert np.linalg.norm(problem.grad(point)) <= 1e-10 * max(1.0, np.linalg.norm(point))


def test_sigmoid_length_problem_has_no_finite_minimiser(rng):
    problem = gaussian_halfspace(rng, "sigmoid")
    with pytest.raises(lib.BracketError, match="no finite minimiser"):
        lib.gdnp(problem, rng.standard_normal(problem.dim), iterations=5)
    with pytest.raises(lib.BracketError, match="no finite minimiser"):
        problem.critical_point()
