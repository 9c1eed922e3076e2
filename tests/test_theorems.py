"""Every lemma and theorem check of lib.checks, on seeds the book never uses, and negative controls.

A check that cannot fail proves nothing. Every check has a negative control here: a function
registered with ``@control(label)`` that runs the check with one deliberately wrong ingredient (a
solver, a constant, a gradient, patched into the check's module with ``monkeypatch``) and must
make it fail; ``test_every_check_has_a_negative_control`` keeps the list complete. ``make
mutation`` (tools/mutate.py) goes further and breaks lib itself.
"""

from types import SimpleNamespace

import numpy as np
import pytest

import lib
from lib import checks
from lib.network_line import NetworkOnLine
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
    with pytest.raises(AssertionError, match="thm-x: FAILS. ratio 1.2 x bound"):
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


# ---- chapter 4

def _sign_sample(problem, n, rng):
    """z with the mean and covariance of the Gaussian model but independent random signs: not Gaussian."""
    covariance = problem.S - np.outer(problem.u, problem.u)
    return problem.u + rng.choice([-1.0, 1.0], size=(n, problem.dim)) @ np.linalg.cholesky(covariance).T


@control("lem-network-gradient")
def _outer_loss_without_curvature(monkeypatch):
    """The check's b_ij computed with l'' = 0: the decomposition misses the coupling through l''."""
    wrong = SimpleNamespace(value=lib.logistic.value, first=lib.logistic.first, second=np.zeros_like)
    monkeypatch.setattr(checks.networks, "LOGISTIC", wrong)
    return checks.networks.network_gradient(seed=UNSEEN_SEEDS[0], n=100_000)


@control("lem-network-critical")
def _line_with_the_wrong_spread(monkeypatch):
    """Critical lengths on the line computed with Var(xi) = 1 - nu^4: not critical in the model."""
    class WrongSpread(NetworkOnLine):
        def __post_init__(self):
            super().__post_init__()
            self.std = float(np.sqrt(1.0 - self.mean**4))

    monkeypatch.setattr(checks.networks, "NetworkOnLine", WrongSpread)
    return checks.networks.network_critical(seed=UNSEEN_SEEDS[0])


@control("prop-unit-decoupling")
def _decoupling_on_a_non_gaussian_sample(monkeypatch):
    """z of random signs with the model's mean and covariance: Stein's lemma, and with it the proposition, fails."""
    monkeypatch.setattr(checks.networks, "_gaussian_sample", _sign_sample)
    return checks.networks.unit_decoupling(seed=UNSEEN_SEEDS[0], n=100_000)


def _coupling_replaced(factor):
    """lib.network.unit_coefficient with its coupling term multiplied by ``factor`` (0: dropped)."""
    right = lib.network.unit_coefficient

    def wrong(a, b_own, b_cross, own_along_u, others_along_u, energy):
        coupled = right(a, b_own, b_cross, own_along_u, others_along_u, energy)
        alone = right(a, b_own, b_cross, own_along_u, 0.0 * others_along_u, energy)
        return alone + factor * (coupled - alone)

    return wrong


@control("thm-unit-rate")
def _unit_step_without_coupling(monkeypatch):
    """GDNP's c1 without the other units' term: the issue's example of a wrong step that used to pass."""
    monkeypatch.setattr(lib.network, "unit_coefficient", _coupling_replaced(0.0))
    return checks.networks.unit_rate(seed=UNSEEN_SEEDS[0])


@control("thm-unit-near-line")
def _unit_step_with_the_wrong_coupling_coefficient(monkeypatch):
    """GDNP's c1 with the coupling coefficient 1/nu^2 instead of (1 - nu^2)/nu^2 (twice as large for nu^2 = 1/2)."""
    monkeypatch.setattr(lib.network, "unit_coefficient", _coupling_replaced(2.0))
    return checks.networks.unit_near_line(seed=UNSEEN_SEEDS[0])


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
