"""Every lemma and theorem check of lib.checks, on seeds the book never uses, and negative controls.

A check that cannot fail proves nothing. Every check has a negative control here: a function
registered with ``@control(label)`` that runs the check with one deliberately wrong ingredient (a
solver, a constant, a gradient, patched into the check's module with ``monkeypatch``) and must
make it fail; ``test_every_check_has_a_negative_control`` keeps the list complete. ``make
mutation`` (tools/mutate.py) goes further and breaks lib itself.
"""

import dataclasses

import numpy as np
import pytest

import lib
from lib import checks
from lib.checks import halfspace_reference
from lib.gaussian import gaussian_expectation
from lib.moments import Evaluation
from lib.result import OptimizationResult

from conftest import UNSEEN_SEEDS


@pytest.mark.parametrize("label", sorted(checks.REGISTRY))
def test_check_holds_on_unseen_seed(label):
    result = checks.run(label, seed=UNSEEN_SEEDS[sorted(checks.REGISTRY).index(label) % len(UNSEEN_SEEDS)])
    assert result.label == label
    assert result.passed, str(result)


def _rayleigh_gd_with_step_factor(factor):
    """GDNP's direction update with its step multiplied by ``factor``: a wrong solver."""

    def solver(problem, w0, iterations):
        w, gaps = np.asarray(w0, float), []
        for _ in range(iterations + 1):
            gaps.append(problem.rho_gap(w))
            eta = (w @ problem.S @ w) / (2 * problem.L * abs(problem.rho(w)))
            w = w - factor * eta * problem.rho_grad(w)
        g = problem.ray(w).exact_minimizer()
        trace = {"rho_gap": np.array(gaps), "loss": np.zeros(iterations + 1)}
        return OptimizationResult("broken", g * problem.ray(w).w_hat, g, w, trace)

    return solver


#: label -> a function of pytest's ``monkeypatch`` that runs the check with a wrong ingredient
CONTROLS = {}


def control(label):
    """Register the negative control of the check of ``label``."""
    def register(function):
        assert label not in CONTROLS, f"two negative controls for {label}"
        CONTROLS[label] = function
        return function
    return register


@control("thm-ls-rate")
def _half_the_gdnp_step(monkeypatch):
    """Half the step contracts by about 1 - mu/(2L) only: the theorem's check must notice."""
    return checks.least_squares.ls_rate(seed=UNSEEN_SEEDS[0], instances=10, solver=_rayleigh_gd_with_step_factor(0.5))


def test_rate_check_passes_for_the_exact_step_written_out():
    result = checks.least_squares.ls_rate(seed=UNSEEN_SEEDS[1], instances=10,
                                          solver=_rayleigh_gd_with_step_factor(1.0))
    assert result.passed, str(result)


def test_require_raises_with_the_figures():
    failing = checks.CheckResult("thm-x", "ratio 1.2 x bound", 1.2, 1.0, False)
    with pytest.raises(AssertionError, match=r"thm-x: FAILS, measured 1.2 against the bound 1\n  ratio 1.2 x bound"):
        failing.require()
    assert checks.CheckResult("thm-x", "fine", 0.5, 1.0, True).require().passed


def _count_and_real_parameters():
    """(label, parameter, default) for every count (int) and real (float) parameter of every check."""
    import inspect
    for label in sorted(checks.REGISTRY):
        for name, parameter in inspect.signature(checks.REGISTRY[label].function).parameters.items():
            default = parameter.default
            if name != "seed" and isinstance(default, (int, float)) and not isinstance(default, bool):
                yield label, name, default


@pytest.mark.parametrize("label, name, default", list(_count_and_real_parameters()))
def test_a_check_refuses_sizes_that_measure_nothing(label, name, default):
    """instances=0, h=0, a NaN step: each is a ValueError naming the argument, never a pass over nothing."""
    bad_values = (0, -3) if isinstance(default, int) else (0.0, -1.0, float("nan"), float("inf"))
    for bad in bad_values:
        with pytest.raises(ValueError, match=name):
            checks.run(label, **{name: bad})


@pytest.mark.parametrize("bad_seed", [-1, 1.5, "0", None])
def test_a_check_refuses_a_bad_seed(bad_seed):
    with pytest.raises(ValueError, match="seed"):
        checks.run("lem-ls-length", seed=bad_seed)


def test_a_nan_in_the_measured_figure_fails_the_check():
    """A solver whose gaps turn NaN: max(x, nan) would drop the NaN, the check must not."""
    def nan_solver(problem, w0, iterations):
        result = lib.gdnp(problem, w0, iterations=iterations)
        result.trace["rho_gap"][len(result.trace["rho_gap"]) // 2] = np.nan
        return result

    result = checks.least_squares.ls_rate(seed=UNSEEN_SEEDS[0], instances=3, solver=nan_solver)
    assert not result.passed, str(result)
    assert not checks.CheckResult("x", "a NaN figure", float("nan"), 1.0, True).passed
    assert np.isnan(checks.largest(0.5, float("nan"))) and np.isnan(checks.largest(float("nan"), 0.5))


# ------------------------------------------------------------------------------------------------
# ---- chapter 3: learning halfspaces (lib/checks/halfspaces.py)

def _uniform_draws(mean, covariance, n, rng):
    """Uniform draws with the mean and covariance of N(mean, covariance): not Gaussian."""
    root = np.linalg.cholesky(covariance)
    return mean + rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), (n, len(mean))) @ root.T


@control("lem-stein")
def _stein_on_uniform_draws(monkeypatch):
    """Stein's identity needs a Gaussian z: drawn uniform with the same moments, it must fail."""
    monkeypatch.setattr(checks.halfspaces, "gaussian_draws", _uniform_draws)
    return checks.halfspaces.stein(seed=UNSEEN_SEEDS[0])


def _with_c1(monkeypatch, c1_of):
    """Make Halfspace.evaluate return c1 = c1_of(evaluation, u.w~), and the gradient c1 u + c2 S w~ with it."""
    original = lib.Halfspace.evaluate

    def evaluate(self, w_tilde):
        evaluation = original(self, w_tilde)
        c1 = c1_of(evaluation, float(self.u @ w_tilde))
        return Evaluation(evaluation.loss, c1 * self.u + evaluation.c2 * (self.S @ w_tilde), c1, evaluation.c2)

    monkeypatch.setattr(lib.Halfspace, "evaluate", evaluate)


@control("lem-gaussian-gradient")
def _gaussian_gradient_with_the_wrong_sign_of_steins_term(monkeypatch):
    """c1 = E[phi'] + E[phi''] u.w~ instead of minus: the Monte-Carlo side and the code comparison must notice."""
    _with_c1(monkeypatch, lambda evaluation, mean: evaluation.c1 + 2.0 * evaluation.c2 * mean)
    return checks.halfspaces.gaussian_gradient(seed=UNSEEN_SEEDS[0])


@control("lem-critical-line")
def _critical_points_of_a_skewed_sample(monkeypatch):
    """The 'Gaussian' sample replaced by one with the same moments and a skewed coordinate: off the line."""
    def skewed_draws(mean, covariance, n, rng):
        return halfspace_reference.skewed_companion(covariance + np.outer(mean, mean), mean, n, rng)

    monkeypatch.setattr(checks.halfspaces, "gaussian_draws", skewed_draws)
    return checks.halfspaces.critical_line(seed=UNSEEN_SEEDS[0])


@control("lem-direction-parallel")
def _direction_gradient_without_the_phi_second_term(monkeypatch):
    """c1 = E[phi'] (Stein's correction dropped): grad_w f is still parallel to grad rho, with the wrong factor."""
    _with_c1(monkeypatch, lambda evaluation, mean: evaluation.c1 + evaluation.c2 * mean)
    return checks.halfspaces.direction_parallel(seed=UNSEEN_SEEDS[0])


@control("prop-gdnp-direction")
def _gdnp_with_half_its_step(monkeypatch):
    """GDNP's step s_t halved: its directions are no longer the Rayleigh iterates."""
    original = lib.solvers._gdnp_step
    monkeypatch.setattr(lib.solvers, "_gdnp_step", lambda *arguments: 0.5 * original(*arguments))
    return checks.halfspaces.gdnp_direction(seed=UNSEEN_SEEDS[0])


@control("lem-bisection")
def _bisection_returning_the_left_end(monkeypatch):
    """A bisection that returns the left end of its last bracket instead of the midpoint: up to 4x the bound."""
    def left_end(derivative, bracket, steps, **options):
        found = lib.bisection(derivative, bracket, steps, **options)
        return dataclasses.replace(found, root=found.final_bracket[0])

    monkeypatch.setattr(checks.halfspaces, "bisection", left_end)
    return checks.halfspaces.bisection_bound(seed=UNSEEN_SEEDS[0])


@control("prop-length-existence")
def _length_derivative_without_the_spread(monkeypatch):
    """The Gaussian ray's derivative as m E[phi'(g xi)], dropping the spread of xi: the logistic never turns."""
    def derivative(self, g):
        first = self.problem.loss_function.first
        return self.slope * gaussian_expectation(first, g * self.slope, abs(g) * np.sqrt(self.spread_sq))

    monkeypatch.setattr(lib.halfspace.GaussianRay, "derivative", derivative)
    return checks.halfspaces.length_existence(seed=UNSEEN_SEEDS[0])


@control("thm-halfspace-rate")
def _gdnp_reporting_the_length_bound_with_4_to_the_minus_T_s(monkeypatch):
    """The trace's length_bound with 4^-T_s instead of 4^-T_s-1: the check must not take the solver's word."""
    def gdnp(*arguments, **options):
        result = lib.gdnp(*arguments, **options)
        result.trace["length_bound"] = 4.0 * result.trace["length_bound"]
        return result

    monkeypatch.setattr(checks.halfspaces, "gdnp", gdnp)
    return checks.halfspaces.halfspace_rate(seed=UNSEEN_SEEDS[0])


@pytest.mark.parametrize("name, role", [("logistic", "second_bound"), ("squared_sigmoid", "first_bound"),
                                        ("sigmoid", "second_bound")])
def test_a_loss_constant_too_small_or_too_large_fails_the_bisection_check(monkeypatch, name, role):
    """Phi or Psi of a loss 10% off, either way: the bisection check compares them with their suprema."""
    for factor in (0.9, 1.1):
        loss = lib.losses.LOSSES[name]
        monkeypatch.setitem(lib.losses.LOSSES, name, dataclasses.replace(loss, **{role: factor * getattr(loss, role)}))
        result = checks.halfspaces.bisection_bound(seed=UNSEEN_SEEDS[1], rays=2)
        assert not result.passed, str(result)
        monkeypatch.undo()


def test_the_checks_own_quadrature_agrees_with_scipy_quad():
    """gaussian_expectations against scipy.integrate.quad, for the three losses, tiny to huge spreads."""
    from scipy.integrate import quad

    rng = np.random.default_rng(UNSEEN_SEEDS[2])
    for loss in lib.losses.LOSSES.values():
        for _ in range(20):
            mean, std = rng.normal() * 10 ** rng.uniform(-3, 2), 10 ** rng.uniform(-3, 3)
            functions = (loss.value, loss.first, loss.second)
            ours = halfspace_reference.gaussian_expectations(functions, mean, std)
            for function, value in zip(functions, ours):
                density = lambda x: function(np.array([mean + std * x]))[0] * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
                kink = -mean / std  # where the loss changes, in standard units
                points = [p for p in (kink - 1.0 / std, kink, kink + 1.0 / std) if -12 < p < 12]
                reference = quad(density, -12, 12, points=points or None, epsabs=1e-15, epsrel=1e-13, limit=500)[0]
                # quad's own target accuracy is 1e-13 relative; the rule's is ~1e-15 of max(|E h|, 1)
                assert abs(value - reference) <= 1e-12 * max(abs(reference), 1.0), (loss.name, mean, std)


# ------------------------------------------------------------------------------------------------
# Keep these two last: the parametrization reads CONTROLS when the module reaches this line.

def test_every_check_has_a_negative_control():
    missing = sorted(set(checks.REGISTRY) - set(CONTROLS))
    assert not missing, f"checks without a negative control in this file: {missing}"


@pytest.mark.parametrize("label", sorted(CONTROLS))
def test_a_wrong_ingredient_fails_the_check(label, monkeypatch):
    result = CONTROLS[label](monkeypatch)
    assert result.label == label, f"the control of {label} ran the check of {result.label}"
    assert not result.passed, f"the check did not notice the wrong ingredient:\n{result}"
