"""The defects of issue 13's list, one test each: a wrong number or a wrong error on bad or extreme input.

tests/test_fuzz.py fuzzes every public function; these tests pin the cases the issue reported, with
the exact inputs, so that a regression names the defect.
"""

import numpy as np
import pytest

import lib
import lib.checks
from lib.instances import random_least_squares

S = np.array([[2.0, 0.5], [0.5, 1.0]])
U = np.array([1.0, -0.3])
W = np.array([0.7, 0.4])
# rho(w) = -(u.w)^2 / w.S.w = -(0.58)^2 / 1.42 exactly in rationals; the float formula is accurate
# to a few eps (no cancellation: u.w = 0.7 - 0.12), so 1e-14 relative is a loose bound
RHO = -(0.58**2) / 1.42


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e160, 1e300])
def test_scale_invariant_functions_at_any_scale(scale):
    """|w| >= 1e154 overflowed and |w| <= 1e-158 underflowed (rayleigh_gap returned 2.0, split_gradient 0)."""
    w = W * scale
    # each value is the same function of the direction: compared with w at scale 1 (same formulas,
    # the products rescaled by a power of two), to 1e-14 relative (a few roundings of O(1) numbers)
    assert lib.rayleigh_quotient(w, S, U) == pytest.approx(RHO, rel=1e-14)
    assert lib.rayleigh_gap(w, S, U) == pytest.approx(lib.rayleigh_gap(W, S, U), rel=1e-14)
    assert lib.rayleigh_gradient(w, S, U) * scale == pytest.approx(lib.rayleigh_gradient(W, S, U), rel=1e-14)
    assert lib.s_norm(w, S) == pytest.approx(lib.s_norm(W, S) * scale, rel=1e-14)
    assert lib.to_w_tilde(1.5, w, S) == pytest.approx(lib.to_w_tilde(1.5, W, S), rel=1e-14)
    g, direction = lib.from_w_tilde(w, S)
    assert g == pytest.approx(lib.s_norm(W, S) * scale, rel=1e-14)
    assert direction == pytest.approx(lib.from_w_tilde(W, S)[1], rel=1e-14)
    along, across = lib.split_gradient([1.0, 2.0], 1.0, w, S)
    along_1, across_1 = lib.split_gradient([1.0, 2.0], 1.0, W, S)
    assert along == pytest.approx(along_1, rel=1e-14) and across * scale == pytest.approx(across_1, rel=1e-14)
    assert lib.norm_split([1.0, 2.0], w, S) == pytest.approx(lib.norm_split([1.0, 2.0], W, S), rel=1e-14)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_gdnp_from_a_start_of_any_scale_is_gdnp_from_the_unit_start(scale):
    """gdnp reported a false 'w0 is orthogonal to u' for |w0| >= 1e154 and stalled for |w0| <= 1e-158."""
    problem = lib.LeastSquares(S, U)
    far = lib.gdnp(problem, W * scale, iterations=5).trace["rho_gap"]
    near = lib.gdnp(problem, W, iterations=5).trace["rho_gap"]
    # the same iterates up to the exact power-of-two rescaling of w0 (which changes no digit of the
    # direction); 1e-12 relative allows for the gaps' own rounding as they fall by (1 - mu/L)^2 a step
    np.testing.assert_allclose(far, near, rtol=1e-12)


def test_divergence_at_the_start_is_a_divergence_error():
    """gd from [1e200, 1e200] and gdnp with g0=1e300 raised 'min() arg is an empty sequence'."""
    problem = lib.LeastSquares(S, U)
    for run in (lambda: lib.gd(problem, [1e200, 1e200]), lambda: lib.gdnp(problem, W, g0=1e300)):
        with pytest.raises(lib.DivergenceError, match="at the start") as caught:
            run()
        assert isinstance(caught.value.result, lib.OptimizationResult)
        repr(caught.value.result)


@pytest.fixture
def network():
    rng = np.random.default_rng(20261124)
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 0] + rng.standard_normal(40) > 0, 1.0, -1.0)
    return lib.HiddenLayerNetwork(X, y, [1.0, -1.0])


def test_network_gd_with_a_huge_step_raises_divergence(network):
    """network_gd(step=1e300) returned NaN lengths and wrong gaps without raising."""
    with pytest.raises(lib.DivergenceError, match="gd diverged at iteration 1: the weights or the loss left the float64 range") as caught:
        lib.network_gd(network, [[1.0, 0.2], [0.3, -1.0]], iterations=3, step=1e300)
    assert np.all(np.isfinite(caught.value.result.trace["loss"]))


def test_repr_of_network_results(network):
    """repr() of a network_gd or unitwise_gdnp result raised TypeError (g is a vector)."""
    result = lib.network_gd(network, [[1.0, 0.2], [0.3, -1.0]], iterations=2)
    assert "g=[" in repr(result)
    trained = lib.unitwise_gdnp(network, [[1.0, 0.2], [0.3, -1.0]], steps_per_unit=2, bisection_steps=8)
    assert "unitwise gdnp" in repr(trained)


@pytest.mark.parametrize("call", [
    lambda: lib.rayleigh_quotient(np.array([1 + 1j, 1.0]), S, U),
    lambda: lib.rayleigh_quotient(W, S * (1 + 0j), U),
    lambda: lib.Loss("complex", lambda t: t + 0j, lambda t: np.ones_like(t) + 0j, lambda t: np.cos(t) + 0j),
    lambda: lib.logistic(np.array([1j])),
])
def test_complex_input_is_a_type_error(call):
    """Complex w, S or a loss returning complex values lost their imaginary part with a warning."""
    with pytest.raises(TypeError, match="complex"):
        call()


def test_losses_take_scalars_and_integer_arrays():
    """lib.logistic(0.5), lib.sigmoid(0.0) and .value(np.arange(3)) raised TypeError."""
    assert lib.logistic(0.5) == pytest.approx(np.log1p(np.exp(0.5)), rel=1e-15)  # a few roundings
    assert lib.sigmoid(0.0) == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_allclose(lib.logistic.value(np.arange(3)), np.log1p(np.exp(np.arange(3.0))), rtol=1e-15)
    np.testing.assert_allclose(lib.squared_sigmoid.second(np.arange(-2, 3)),
                               lib.squared_sigmoid.second(np.arange(-2.0, 3.0)), rtol=1e-15)  # the same floats in


SOFTPLUS = (lambda t: np.logaddexp(0, t), lambda t: 0.5 * (1 + np.tanh(t / 2)), lambda t: 0.25 / np.cosh(t / 2) ** 2)


@pytest.mark.parametrize("bounds, words", [
    (dict(second_bound=-1), "negative"),  # gd's default step was negative: it climbed
    (dict(second_bound=0), "below sup"),  # 0 < sup|phi''| = 1/4
    (dict(second_bound=float("nan")), "must be finite"),
    (dict(second_bound=0.1), "below sup"),  # below sup|phi''| = 1/4: not a bound
    (dict(first_bound=float("inf")), "must be finite"),
])
def test_loss_validates_its_bounds(bounds, words):
    with pytest.raises(ValueError, match=words):
        lib.Loss("softplus", *SOFTPLUS, **bounds)


def test_a_loss_without_curvature_has_no_default_step():
    """phi'' = 0 gave a ZeroDivisionError in gd's default step 1/zeta; now a ValueError saying why."""
    problem = lib.Halfspace(np.eye(2), [0.3, 0.2], (lambda t: t, np.ones_like, np.zeros_like))
    assert problem.loss_function.second_bound == 0.0  # exact: the maximum of |0| on the grid
    with pytest.raises(ValueError, match="no default step"):
        lib.gd(problem, [1.0, 1.0])
    with pytest.raises(ValueError, match="smoothness zeta is 0"):
        lib.heavy_ball(problem, [1.0, 1.0])


def test_a_user_loss_is_checked_where_the_solver_evaluates_it():
    """A loss checked only on [-30, 30] returned NaN beyond it, silently."""
    nan_beyond_40 = (lambda t: np.where(np.abs(t) < 40, np.logaddexp(0, t), np.nan), SOFTPLUS[1], SOFTPLUS[2])
    problem = lib.Halfspace(np.eye(2), [0.3, 0.2], nan_beyond_40)
    assert np.isfinite(problem.loss([1.0, 0.5]))
    with pytest.raises(ValueError, match="where a solver evaluated it"):
        problem.loss([300.0, 0.0])


def test_gdnp_refuses_zero_bisection_steps():
    """gdnp(..., bisection_steps=0, bracket_radius=1) stayed at g = 0 and returned normally."""
    with pytest.raises(ValueError, match="bisection_steps = 0"):
        lib.gdnp(lib.Halfspace(np.eye(2), [0.3, 0.2]), [1.0, 1.0], iterations=3, bisection_steps=0, bracket_radius=1)


@pytest.mark.parametrize("kappa", [1e12 * 1.5, 1e13, 1e14 * 0.99])
def test_condition_numbers_beyond_1e12_are_refused_with_the_reason(kappa):
    """kappa in (1e12, 1e14) was accepted silently and gave gaps off by 43x."""
    with pytest.raises(ValueError, match="kappa"):
        random_least_squares(3, kappa, seed=0)
    S_bad = np.diag([1.0, kappa])
    with pytest.raises(ValueError, match="ill-conditioned"):
        lib.LeastSquares(S_bad, [1.0, 1.0])


def test_messages_point_the_right_way():
    """The issue's wrong-pointing messages."""
    with pytest.raises(ValueError, match="kappa = 1e\\+16 is beyond"):  # was "remove collinear features"
        random_least_squares(3, 1e16, seed=0)
    with pytest.raises(lib.BracketError, match="max_widenings = 0 is too small") as caught:  # was "sigmoid loss"
        lib.gdnp(lib.LeastSquares(S, U), W, bisection_steps=3, max_widenings=0, bracket_radius=1e-3, g0=100.0)
    assert "sigmoid" not in str(caught.value).split("with a bounded loss")[0]
    with pytest.raises(TypeError, match="entry at \\(0,\\) is None"):  # was "NaN or inf"
        lib.rayleigh_quotient([None, 1.0], S, U)
    with pytest.raises(ValueError, match="401 digits"):  # was OverflowError
        lib.gd(lib.LeastSquares(S, U), W, step=10**400)
    with pytest.raises(ValueError, match="no check is registered"):  # was an undocumented KeyError
        lib.checks.run("thm-nothing")
    with pytest.raises(TypeError, match="callback must be a function"):  # was "'int' object is not callable"
        lib.gd(lib.LeastSquares(S, U), W, callback=3)
    with pytest.raises(TypeError, match="step_factor must be a real number"):  # was a raw numpy ufunc error
        lib.compressed_rate(S, U, None)
    with pytest.raises(TypeError, match="w must be a numeric array"):  # rayleigh_quotient(None, ...) was an AttributeError
        lib.rayleigh_quotient(None, S, U)
