"""The reparametrisation w~ = g w/||w||_S and its gradients (lib.decoupling)."""

import numpy as np
import pytest

import lib
from lib.instances import spd_with_spectrum


def test_round_trip(rng):
    S = spd_with_spectrum(np.geomspace(0.1, 10, 5), rng)
    w_tilde = rng.standard_normal(5)
    g, w = lib.from_w_tilde(w_tilde, S)
    assert g > 0 and np.isclose(lib.s_norm(w, S), 1.0, rtol=1e-14)
    np.testing.assert_allclose(lib.to_w_tilde(g, w, S), w_tilde, rtol=1e-14)
    np.testing.assert_allclose(lib.to_w_tilde(-g, -3.0 * w, S), w_tilde, rtol=1e-14)


def test_s_norm_is_the_norm_of_the_whitened_vector(rng):
    S = spd_with_spectrum(np.geomspace(0.5, 8, 4), rng)
    w = rng.standard_normal(4)
    eigenvalues, vectors = np.linalg.eigh(S)
    root = (vectors * np.sqrt(eigenvalues)) @ vectors.T
    assert np.isclose(lib.s_norm(w, S), np.linalg.norm(root @ w), rtol=1e-13)


def test_split_gradient_matches_least_squares_closed_form(least_squares, rng):
    problem = least_squares
    w, g = rng.standard_normal(problem.dim), 1.3
    w_tilde = lib.to_w_tilde(g, w, problem.S)
    dg, grad_w = lib.split_gradient(problem.grad(w_tilde), g, w, problem.S)
    norm = lib.s_norm(w, problem.S)
    # f(w, g) = 2 g u.w/||w||_S + g^2, so d_g f = 2 u.w/||w||_S + 2 g
    assert np.isclose(dg, 2 * problem.u @ w / norm + 2 * g, rtol=1e-12)
    assert abs(w @ grad_w) <= 1e-12 * np.linalg.norm(w) * np.linalg.norm(grad_w) + 1e-300


def test_norm_split_parts_add_up(least_squares, rng):
    problem = least_squares
    w, g = rng.standard_normal(problem.dim), -0.7
    grad = problem.grad(lib.to_w_tilde(g, w, problem.S))
    length, direction = lib.norm_split(grad, w, problem.S)
    assert length >= 0 and direction >= 0
    assert np.isclose(length + direction, grad @ np.linalg.solve(problem.S, grad), rtol=1e-12)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda S: lib.to_w_tilde(1.0, np.zeros(2), S), ValueError, "nonzero"),
        (lambda S: lib.to_w_tilde(1.0, [1.0, np.nan], S), ValueError, "non-finite"),
        (lambda S: lib.to_w_tilde(1.0, [1.0, 2.0, 3.0], S), ValueError, "dimension 2"),
        (lambda S: lib.from_w_tilde(np.zeros(2), S), ValueError, "no direction"),
        (lambda S: lib.s_norm("ab", S), TypeError, "numeric"),
        (lambda S: lib.s_norm([1.0, 1.0], [[1.0, 2.0], [0.0, 1.0]]), ValueError, "symmetric"),
        (lambda S: lib.s_norm([1.0, 1.0], [[1.0, 0.0], [0.0, -1.0]]), ValueError, "positive definite"),
        (lambda S: lib.s_norm([1.0, 1.0], np.ones((2, 3))), ValueError, "square"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, error, words):
    with pytest.raises(error, match=words):
        call(np.eye(2))
