"""Several learning rates at once (chapter 4's comparison): the stacked network evaluations, the trainer of a
grid of rates, and tune_step running each round of its search in one call."""

import math

import numpy as np
import pytest

import lib
from lib.book.experiments import tune_gd_step, tune_step
from lib.instances import random_halfspace
from lib.solvers import network_training
from lib.solvers.network_grid import network_step_grid

@pytest.fixture
def network(hidden_layer):
    return hidden_layer


def test_losses_and_grads_of_a_stack_are_the_networks_at_each_matrix(network, rng):
    # Each entry is a mean of 3000 terms of size at most |z| (a few units) computed with another grouping of
    # the same products: the difference is rounding, about 3000 eps times a few, far below 1e-11.
    stack = rng.standard_normal((4, 3, network.dim))
    single = [network.evaluate(W) for W in stack]
    np.testing.assert_allclose(network.losses(stack), [e.loss for e in single], rtol=0, atol=1e-11)
    np.testing.assert_allclose(network.grads(stack), [e.grad for e in single], rtol=0, atol=1e-11)
    # loss alone is evaluate's loss: the same operations in the same order
    assert all(abs(network.loss(W) - e.loss) <= 1e-15 for W, e in zip(stack, single))


def test_grads_reuses_its_arrays_without_changing_an_earlier_answer(network, rng):
    first, other = rng.standard_normal((2, 3, network.dim)), rng.standard_normal((3, 3, network.dim))
    answer = network.grads(first)
    kept = answer.copy()
    network.grads(other)
    again = network.grads(first * 2.0)
    assert np.max(np.abs(answer - kept)) <= 0.0  # the first answer is not a view of the reused arrays
    np.testing.assert_allclose(again, [network.grad(2.0 * W) for W in first], rtol=0, atol=1e-11)


def test_a_stack_of_the_wrong_shape_or_not_finite_is_refused(network, rng):
    with pytest.raises(ValueError, match="shape"):
        network.grads(rng.standard_normal((3, network.dim)))
    with pytest.raises(ValueError, match="shape"):
        network.losses(rng.standard_normal((2, 2, network.dim)))
    bad = rng.standard_normal((2, 3, network.dim))
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        network.grads(bad)


@pytest.mark.parametrize("method, trainer, steps", [
    ("gd", network_training.network_gd, [0.5, 2.0, 8.0]),
    ("adam", network_training.network_adam, [0.01, 0.03, 0.1]),
    ("bn-sgd", network_training.network_bn_gd, [0.3, 1.0, 3.0]),
])
def test_each_run_of_the_grid_is_the_single_run_trainers(network, rng, method, trainer, steps):
    # Both sides evaluate the same gradients with products grouped differently (rounding ~1e-13 relative a
    # step); 40 steps of maps with Lipschitz constants of order 1 (GD below 2/zeta, Adam's steps bounded by
    # the rate entry by entry) keep the iterates within 1e-9 of each other.
    W = rng.standard_normal((3, network.dim))
    runs = network_step_grid(network, W, steps, method, iterations=40, every=8)
    assert runs.checkpoints.shape == (3, 6, 3, network.dim) and runs.grad_norm_sq.shape == (3, 41)
    assert not runs.diverged.any()
    for k, step in enumerate(steps):
        states = []
        reference = trainer(network, W, iterations=40, step=step,
                            callback=lambda t, W_tilde: states.append(W_tilde) if t % 8 == 0 else None)
        assert np.max(np.abs(runs.checkpoints[k] - np.array(states))) <= 1e-9 * max(1.0, np.max(np.abs(states)))
        np.testing.assert_allclose(runs.grad_norm_sq[k], reference.trace["grad_norm_sq"], rtol=1e-9)


def test_a_diverging_run_is_flagged_where_the_trainer_raises_and_leaves_the_others_alone(network, rng):
    W = rng.standard_normal((3, network.dim))
    with pytest.raises(lib.DivergenceError):
        network_training.network_bn_gd(network, W, iterations=20, step=1e300)
    runs = network_step_grid(network, W, [1.0, 1e300], "bn-sgd", iterations=20, every=5)
    assert runs.diverged.tolist() == [False, True]
    assert np.all(np.isnan(runs.checkpoints[1])) and np.all(np.isnan(runs.grad_norm_sq[1]))
    alone = network_step_grid(network, W, [1.0], "bn-sgd", iterations=20, every=5)
    np.testing.assert_allclose(runs.grad_norm_sq[0], alone.grad_norm_sq[0], rtol=1e-12)


def test_network_step_grid_refuses_bad_input(network, rng):
    W = rng.standard_normal((3, network.dim))
    with pytest.raises(ValueError, match="method"):
        network_step_grid(network, W, [0.1], "sgd")
    with pytest.raises(ValueError, match="positive"):
        network_step_grid(network, W, [0.1, -1.0])
    with pytest.raises(ValueError, match="nonzero"):
        network_step_grid(network, np.zeros_like(W), [0.1])
    with pytest.raises(TypeError, match="HiddenLayerNetwork"):
        network_step_grid(W, W, [0.1])


def _curve(step):
    """A run's score, best at 3 and unimodal in log(step); steps above 100 diverge."""
    return None if step > 100.0 else (math.log(step) - math.log(3.0)) ** 2


@pytest.mark.parametrize("grid, refinements", [([0.01, 0.1], 2), ([1e3, 1e4], 1), ([1.0, 3.0, 10.0], 0)])
def test_tune_step_together_tries_the_same_steps_in_one_call_a_round(grid, refinements):
    def one(step):
        result = _curve(step)
        if result is None:
            raise lib.DivergenceError("too large", None)
        return result

    calls = []

    def many(steps):
        calls.append(list(steps))
        return [_curve(step) for step in steps]

    alone = tune_step(one, grid, score=lambda r: r, refinements=refinements)
    together = tune_step(many, grid, score=lambda r: r, refinements=refinements, together=True)
    assert together.steps.tolist() == alone.steps.tolist() and together.best_index == alone.best_index
    assert together.results == alone.results and together.inside == alone.inside
    assert calls[0] == sorted(float(step) for step in grid)  # the first grid in one call (exact: the literals passed in)
    assert sum(map(len, calls)) == len(together.steps)  # no step is run twice
    assert len(calls) < len(together.steps)  # and the refinements came two at a time


def test_tune_gd_step_together_and_a_run_that_answers_for_the_wrong_number_of_steps():
    sweep = tune_gd_step(lambda steps: [_curve(s) for s in steps], zeta=2.0, factors=(1.0, 4.0, 16.0),
                         score=lambda r: r, refinements=0, together=True)
    assert sweep.inside and abs(sweep.best_factor - 4.0) <= 1e-12 * 4.0  # 2 is the grid's step nearest 3
    with pytest.raises(ValueError, match="returned 1 runs for 2 steps"):
        tune_step(lambda steps: [0.0], [1.0, 2.0], score=lambda r: r, together=True)
