"""Expectations over two projections of the Gaussian model (lib.gaussian_plane)."""

import numpy as np
import pytest

import lib.gaussian_plane as plane
from lib.gaussian import gaussian_expectation
from lib.instances import random_halfspace
from lib.losses import LOSSES

LOGISTIC = LOSSES["logistic"]


def _network_integrals(rule, S, W, theta):
    """The loss and the gradient rows of a hidden layer, as lib.network computes them."""
    activations = np.tanh(rule.projections(W))
    F = activations @ theta
    weights = LOGISTIC.first(F)[:, None] * theta * (1.0 - activations**2)
    return rule.expectation(LOGISTIC.value(F)), rule.times_z(weights)


@pytest.mark.parametrize("apart", [1.0, 1e-2, 1e-5, 1e-8, 1e-11])
def test_the_rule_agrees_with_three_times_as_many_nodes(rng, monkeypatch, apart):
    """Network integrands at steep and shallow units, nearly parallel or not: 1e-11 relative."""
    model = random_halfspace(6, 10.0, rng.uniform(0.2, 0.9), seed=rng)
    for _ in range(4):
        w1 = rng.standard_normal(6)
        w2 = w1 + apart * np.sqrt(w1 @ w1) * rng.standard_normal(6)
        lengths = np.exp(rng.uniform(np.log(0.3), np.log(15.0), 2))
        W = np.vstack([lengths[0] * w1 / np.sqrt(w1 @ model.S @ w1), lengths[1] * w2 / np.sqrt(w2 @ model.S @ w2)])
        theta = rng.uniform(-1.5, 1.5, 2)
        scales = tuple(1.0 / np.maximum(1.0, lengths))
        coarse = _network_integrals(plane.plane_rule(model.S, model.u, W[0], W[1], scales), model.S, W, theta)
        monkeypatch.setattr(plane, "_NODES", np.polynomial.legendre.leggauss(30)[0])
        monkeypatch.setattr(plane, "_WEIGHTS", np.polynomial.legendre.leggauss(30)[1])
        fine = _network_integrals(plane.plane_rule(model.S, model.u, W[0], W[1], scales), model.S, W, theta)
        monkeypatch.undo()
        assert abs(coarse[0] - fine[0]) <= 1e-11 * abs(fine[0])
        assert np.max(np.abs(coarse[1] - fine[1])) <= 1e-11 * np.max(np.abs(fine[1]))


def test_first_and_second_moments_are_exact(rng):
    """E[1] = 1, E[z] = u and E[z z^T e_k] = S e_k for the basis directions: the conditional mean is exact."""
    model = random_halfspace(5, 20.0, 0.6, seed=rng)
    rule = plane.plane_rule(model.S, model.u, rng.standard_normal(5), rng.standard_normal(5), (0.2, 0.5))
    assert abs(rule.weights.sum() - 1.0) <= 1e-13
    np.testing.assert_allclose(rule.times_z(np.ones(len(rule.weights))), model.u, atol=1e-13)
    for k in range(2):
        np.testing.assert_allclose(rule.times_z(rule.nodes[:, k]), model.S @ rule.basis[:, k], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(rule.basis.T @ model.S @ rule.basis, np.eye(2), atol=1e-14)


def test_a_function_of_one_projection_matches_the_one_dimensional_rule(rng):
    model = random_halfspace(4, 5.0, 0.4, seed=rng)
    w = rng.standard_normal(4)
    rule = plane.plane_rule(model.S, model.u, rng.standard_normal(4), w, (1.0, 0.25))
    w_hat = w / np.sqrt(w @ model.S @ w)
    mean, std = model.u @ w_hat, np.sqrt(1.0 - (model.u @ w_hat) ** 2)
    expected = gaussian_expectation(lambda v: LOGISTIC.value(4.0 * v), mean, std)
    assert abs(rule.expectation(LOGISTIC.value(4.0 * rule.projections(w_hat))) - expected) <= 1e-12 * expected


def test_parallel_directions_give_a_one_dimensional_rule(rng):
    model = random_halfspace(4, 5.0, 0.4, seed=rng)
    w = rng.standard_normal(4)
    assert plane.plane_rule(model.S, model.u, w, -3.0 * w).basis.shape == (4, 1)
    assert plane.plane_rule(model.S, model.u, w).nodes.shape[1] == 1
