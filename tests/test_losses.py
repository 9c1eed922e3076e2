"""lib.losses: values and derivatives to rounding, no warnings at |t| = 1e4, user losses checked."""

import mpmath as mp
import numpy as np
import pytest

import lib
from lib.losses import LOSSES

pytestmark = pytest.mark.mp_digits(40)
SIGMA = lambda t: 1 / (1 + mp.exp(-t))
# written with sigma(-t) instead of 1 - sigma(t), and log1p: at 40 digits 1 + e^-700 rounds to 1
REFERENCES = {
    "logistic": (lambda t: mp.log1p(mp.exp(t)), SIGMA, lambda t: SIGMA(t) * SIGMA(-t)),
    "sigmoid": (SIGMA, lambda t: SIGMA(t) * SIGMA(-t), lambda t: SIGMA(t) * SIGMA(-t) * (SIGMA(-t) - SIGMA(t))),
    "squared_sigmoid": (lambda t: SIGMA(t) ** 2, lambda t: 2 * SIGMA(t) ** 2 * SIGMA(-t),
                        lambda t: 2 * SIGMA(t) ** 2 * SIGMA(-t) * (2 * SIGMA(-t) - SIGMA(t))),
}
POINTS = np.array([-1e4, -745.0, -700.0, -300.0, -37.5, -5.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 2.0, 20.0, 36.9, 700.0, 1e4])


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("role", [0, 1, 2])
def test_loss_matches_40_digit_reference(name, role):
    function = (LOSSES[name].value, LOSSES[name].first, LOSSES[name].second)[role]
    values = function(POINTS)  # pytest turns any RuntimeWarning (overflow) into an error
    assert np.all(np.isfinite(values))
    for t, value in zip(POINTS, values):
        exact = float(REFERENCES[name][role](mp.mpf(float(t))))
        if abs(t) <= 700:  # accurate to rounding
            assert abs(value - exact) <= 1e-14 * abs(exact), (name, role, t, value, exact)
        else:  # exponents are clipped at -700: an absolute error below 1e-304
            assert abs(value - exact) <= 1e-303 + 1e-15 * abs(exact), (name, role, t, value, exact)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_bounds_are_the_suprema(name):
    loss = LOSSES[name]
    grid = np.linspace(-40, 40, 400001)
    assert np.max(np.abs(loss.first(grid))) <= loss.first_bound * (1 + 1e-12)
    assert np.max(np.abs(loss.second(grid))) <= loss.second_bound * (1 + 1e-12)
    assert np.max(np.abs(loss.first(grid))) >= loss.first_bound * (1 - 1e-6)
    assert np.max(np.abs(loss.second(grid))) >= loss.second_bound * (1 - 1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_out_argument_gives_the_same_values(name):
    loss, t = LOSSES[name], np.linspace(-50, 50, 101)
    for function in (loss.value, loss.first, loss.second):
        expected = function(t)
        buffer = t.copy()
        assert function(buffer, out=buffer) is buffer
        # the same elementwise formula with and without out=: at most a rounding or two apart (numpy
        # may take another SIMD loop for an aliased output), so 1e-14 relative
        np.testing.assert_allclose(buffer, expected, rtol=1e-14, atol=0)


def test_a_user_loss_is_accepted_and_checked():
    softplus2 = lib.Loss("softplus(2t)", lambda t: np.logaddexp(0, 2 * t), lambda t: 2 / (1 + np.exp(-2 * t)),
                         lambda t: 4 * np.exp(-2 * t) / (1 + np.exp(-2 * t)) ** 2)
    assert np.isclose(softplus2.second_bound, 1.0, rtol=1e-3) and np.isclose(softplus2.first_bound, 2.0, rtol=1e-6)
    problem = lib.Halfspace(np.eye(2), [0.3, 0.2], loss=(np.tanh, lambda t: 1 - np.tanh(t) ** 2,
                                                        lambda t: -2 * np.tanh(t) * (1 - np.tanh(t) ** 2)))
    assert problem.loss_function.name == "user loss"


@pytest.mark.parametrize(
    "loss, error, words",
    [
        ("hinge", ValueError, "unknown loss"),
        (3.0, TypeError, "a name"),
        ((np.tanh, np.tanh), TypeError, "a name"),
        (lambda t: t, TypeError, "a name"),
        ((np.sin, np.cos, np.cos), ValueError, "second derivative does not match"),
        ((np.sin, np.sin, lambda t: -np.sin(t)), ValueError, "first derivative does not match"),
        ((np.sqrt, lambda t: 0.5 / np.sqrt(t), lambda t: -0.25 * t**-1.5), ValueError, "finite"),
        ((lambda t: 1.0, lambda t: 0.0, lambda t: 0.0), ValueError, "same shape"),
    ],
)
def test_bad_losses_are_refused(loss, error, words):
    with pytest.raises(error, match=words):
        lib.Halfspace(np.eye(2), [0.1, 0.1], loss=loss)


def test_loss_fields_must_be_callable():
    with pytest.raises(TypeError, match="must be a function"):
        lib.Loss("broken", np.tanh, "not a function", np.tanh)
