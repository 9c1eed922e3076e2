"""Every lemma and theorem check of lib.checks, on seeds the book never uses, and negative controls.

A check that cannot fail proves nothing. Every check has a negative control here: a function
registered with ``@control(label)`` that runs the check with one deliberately wrong ingredient (a
solver, a constant, a gradient, patched into the check's module with ``monkeypatch``) and must
make it fail; ``test_every_check_has_a_negative_control`` keeps the list complete. ``make
mutation`` (tools/mutate.py) goes further and breaks lib itself.
"""

import copy
import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

import lib
from lib import checks
from lib.network_line import NetworkOnLine
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

    def solver(problem, w0, iterations, callback=None):
        w, gaps, loss_gaps = np.asarray(w0, float), [], []
        for t in range(iterations + 1):
            ray = problem.ray(w)
            g = ray.exact_minimizer()
            gaps.append(problem.rho_gap(w))
            loss_gaps.append(problem.loss_gap(g * ray.w_hat))
            if callback is not None:
                try:
                    callback(t, g * ray.w_hat, g, w)
                except StopIteration:  # the callback ends the run here, as the solvers of lib allow
                    break
            if t < iterations:
                eta = (w @ problem.S @ w) / (2 * problem.L * abs(problem.rho(w)))
                w = w - factor * eta * problem.rho_grad(w)
        trace = {"rho_gap": np.array(gaps), "loss_gap": np.array(loss_gaps), "loss": np.zeros(iterations + 1)}
        return OptimizationResult("broken", g * ray.w_hat, g, w, trace)

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
    def nan_solver(problem, w0, iterations, callback=None):
        result = lib.gdnp(problem, w0, iterations=iterations, callback=callback)
        result.trace["rho_gap"][len(result.trace["rho_gap"]) // 2] = np.nan
        return result

    result = checks.least_squares.ls_rate(seed=UNSEEN_SEEDS[0], instances=3, solver=nan_solver)
    assert not result.passed, str(result)
    assert not checks.CheckResult("x", "a NaN figure", float("nan"), 1.0, True).passed
    assert np.isnan(checks.largest(0.5, float("nan"))) and np.isnan(checks.largest(float("nan"), 0.5))


def test_gd_and_gdnp_without_a_callback_run_the_algorithm_the_checks_verify():
    """The checks record the iterates with a callback, which runs gd and gdnp in their general loop; on least
    squares without a callback they take the lean loop (lib.solvers.least_squares_loops). The two runs must be
    the same algorithm: the same last iterate and the same trace, to rounding.

    Tolerance: the lean loop reorders the rounding of the same quantities (tests/test_lean_trace.py argues
    a few d eps relative per quantity, amplified by at most kappa through the S^-1-norms and carried by a
    contraction at most 1/(1 - rate) <= kappa: 12 * 50 * 50 * 2.2e-16 = 7e-12 here); 1e-9 leaves room for
    the constants. GDNP's length part is rounding in both runs (the closed-form length zeroes it): left out.
    """
    for seed in UNSEEN_SEEDS[:2]:
        problem = lib.instances.random_least_squares(12, 50.0, seed=seed)
        w0 = np.random.default_rng(seed).standard_normal(12)
        for solver, skip in ((lib.gd, {"time"}), (lib.gdnp, {"time", "grad_norm_sq_length"})):
            lean = solver(problem, w0, iterations=150)
            general = solver(problem, w0, iterations=150, callback=lambda intermediate_result: False)
            names, general_names = list(lean.trace), list(general.trace)
            assert names == general_names  # the columns' names (strings), in order
            np.testing.assert_allclose(lean.w_tilde, general.w_tilde, rtol=1e-9, atol=0.0)
            for key in set(general.trace) - skip:
                np.testing.assert_allclose(lean.trace[key], general.trace[key], rtol=1e-9, atol=0.0, err_msg=key)


# ---- chapters 1, 2 and 5
# Each control swaps one ingredient of the check for a wrong one: a function of lib.decoupling or
# lib.rayleigh as the check module sees it, the problems it draws, or the solver it runs.

def _module_with(module, **replacements):
    """A stand-in for ``module`` in a check module's namespace, with some of its functions replaced."""
    return SimpleNamespace(**{**vars(module), **replacements})


def _problems_with(monkeypatch, check_module, **methods):
    """Make ``check_module`` draw least-squares problems whose class overrides ``methods``."""
    broken = type("BrokenLeastSquares", (lib.LeastSquares,), methods)
    draw = check_module.random_least_squares

    def random_least_squares(*args, **kwargs):
        problem = draw(*args, **kwargs)
        return broken(problem.S, problem.u)

    monkeypatch.setattr(check_module, "random_least_squares", random_least_squares)


def _euclidean_from_w_tilde(w_tilde, S):
    """The length of w~ in the Euclidean norm: the inverse of weight normalization, not of BN's map."""
    length = float(np.linalg.norm(w_tilde))
    return length, np.asarray(w_tilde, float) / length


def _split_gradient(length_unnormalised=False, direction_power=1, euclidean=False):
    """lib.split_gradient with one wrong ingredient: d_g f = w.grad F, g/||w||_S^2, or the projection along w."""
    def split_gradient(grad_F, g, w, S):
        norm = np.sqrt(w @ S @ w)
        w_hat = w / norm
        along = grad_F @ (w if length_unnormalised else w_hat)
        residual = grad_F - (grad_F @ w_hat) * (w_hat if euclidean else S @ w_hat)
        return float(along), (g / norm**direction_power) * residual
    return split_gradient


@control("lem-bn-reparam")
def _from_w_tilde_in_the_euclidean_norm(monkeypatch):
    """from_w_tilde returning ||w~|| as the length: BN's map is not undone."""
    monkeypatch.setattr(checks.reparametrization, "decoupling", _module_with(lib.decoupling, from_w_tilde=_euclidean_from_w_tilde))
    return checks.reparametrization.bn_reparametrization(seed=UNSEEN_SEEDS[0])


@control("lem-scale-invariance")
def _direction_gradient_over_the_squared_norm(monkeypatch):
    """grad_w f with g/||w||_S^2: it scales like 1/c^2, not 1/c."""
    monkeypatch.setattr(checks.reparametrization, "decoupling",
                        _module_with(lib.decoupling, split_gradient=_split_gradient(direction_power=2)))
    return checks.reparametrization.scale_invariance(seed=UNSEEN_SEEDS[0])


@control("lem-bn-gradients")
def _length_derivative_without_its_normalisation(monkeypatch):
    """d_g f = w.grad F, without the 1/||w||_S of the lemma."""
    monkeypatch.setattr(checks.reparametrization, "decoupling",
                        _module_with(lib.decoupling, split_gradient=_split_gradient(length_unnormalised=True)))
    return checks.reparametrization.bn_gradients(seed=UNSEEN_SEEDS[0])


@control("lem-orthogonal")
def _projection_along_w_instead_of_s_w(monkeypatch):
    """The projection of lem-bn-gradients along w (weight normalization's) instead of along S w."""
    monkeypatch.setattr(checks.reparametrization, "decoupling",
                        _module_with(lib.decoupling, split_gradient=_split_gradient(euclidean=True)))
    return checks.reparametrization.direction_orthogonality(seed=UNSEEN_SEEDS[0])


@control("lem-norm-split")
def _direction_part_in_the_euclidean_norm(monkeypatch):
    """norm_split's direction part in the Euclidean norm instead of the S^-1 norm."""
    def norm_split(grad_F, w, S):
        w_hat = w / np.sqrt(w @ S @ w)
        residual = grad_F - (grad_F @ w_hat) * (S @ w_hat)
        return float(grad_F @ w_hat) ** 2, float(residual @ residual)

    monkeypatch.setattr(checks.reparametrization, "decoupling", _module_with(lib.decoupling, norm_split=norm_split))
    return checks.reparametrization.norm_split(seed=UNSEEN_SEEDS[0])


@control("lem-ls-length")
def _half_the_optimal_length(monkeypatch):
    """A closed-form length -u.w/(2||w||_S): not the minimiser of the parabola."""
    class HalfRay(lib.least_squares.LeastSquaresRay):
        def exact_minimizer(self):
            return 0.5 * super().exact_minimizer()

    _problems_with(monkeypatch, checks.least_squares, ray=lambda self, w: HalfRay(self, self.check_direction("w", w)))
    return checks.least_squares.ls_optimal_length(seed=UNSEEN_SEEDS[0])


@control("lem-rayleigh-min")
def _rho_star_from_a_bound(monkeypatch):
    """rayleigh_minimum returning -||u||^2/mu, a lower bound of rho, not its minimum -u.S^-1.u."""
    def rayleigh_minimum(S, u):
        return -float(u @ u) / float(np.linalg.eigvalsh(S)[0])

    monkeypatch.setattr(checks.least_squares, "rayleigh", _module_with(lib.rayleigh, rayleigh_minimum=rayleigh_minimum))
    return checks.least_squares.rayleigh_minimum(seed=UNSEEN_SEEDS[0], instances=5)


@control("lem-rayleigh-grad")
def _rayleigh_gradient_without_its_factor_2(monkeypatch):
    """grad rho without the factor 2 of lem-rayleigh-grad."""
    _problems_with(monkeypatch, checks.least_squares, rho_grad=lambda self, w: 0.5 * lib.LeastSquares.rho_grad(self, w))
    return checks.least_squares.rayleigh_gradient(seed=UNSEEN_SEEDS[0])


@control("prop-ls-compressed")
def _half_the_gdnp_step_against_the_compressed_map(monkeypatch):
    """Half the step follows P(I - S/(2L))P, whose top eigenvalue exceeds lambda_C: the check must notice."""
    return checks.least_squares.ls_compressed_rate(seed=UNSEEN_SEEDS[0], instances=10,
                                                   solver=_rayleigh_gd_with_step_factor(0.5))


def test_compressed_rate_check_compares_the_reported_rate(monkeypatch):
    """lib.compressed_rate reporting the bound (1 - mu/L)^2 instead of lambda_C^2: the check must fail."""
    def bound_instead(S, u, step_factor=1.0):
        eigenvalues = np.linalg.eigvalsh(S)
        return (1.0 - eigenvalues[0] / eigenvalues[-1]) ** 2

    monkeypatch.setattr(checks.least_squares, "compressed_rate", bound_instead)
    result = checks.least_squares.ls_compressed_rate(seed=UNSEEN_SEEDS[1], instances=5)
    assert not result.passed, str(result)


@control("prop-ls-gd")
def _gd_with_half_the_step(monkeypatch):
    """GD with the step 1/(4L): it contracts by (1 - mu/(2L))^2 only, above the bound."""
    def half_step_gd(problem, w0, iterations, callback=None):
        return lib.gd(problem, w0, iterations=iterations, step=0.25 / problem.L, callback=callback)

    monkeypatch.setattr(checks.least_squares, "gd", half_step_gd)
    return checks.least_squares.gd_rate(seed=UNSEEN_SEEDS[0], instances=10)


@control("prop-effective-step")
def _effective_step_over_the_norm(monkeypatch):
    """BNGD reporting eta/||w_t|| as its effective step instead of eta/||w_t||^2."""
    def bngd(problem, w0, **options):
        result = lib.bngd(problem, w0, **options)
        result.trace["effective_step"] = result.info["direction_step"] / np.sqrt(result.trace["direction_norm_sq"])
        return result

    monkeypatch.setattr(checks.beyond, "bngd", bngd)
    return checks.beyond.effective_step(seed=UNSEEN_SEEDS[0])


@control("prop-wn-bn")
def _batchnorm_with_running_statistics(monkeypatch):
    """BatchNorm1d in eval mode: it normalizes with its running statistics (0 and 1), not the batch's."""
    import torch

    def batchnorm_unit(X, w, g):
        bn = torch.nn.BatchNorm1d(1, dtype=torch.float64)
        with torch.no_grad():
            bn.weight.fill_(float(g))
            bn.eval()
            return bn(torch.from_numpy(np.asarray(X) @ np.asarray(w)).reshape(-1, 1)).numpy().ravel()

    monkeypatch.setattr(checks.beyond, "batchnorm_unit", batchnorm_unit)
    return checks.beyond.weight_normalization(seed=UNSEEN_SEEDS[0])


def test_rate_check_compares_the_reported_gaps_with_the_iterates():
    """A solver whose trace reports half the Rayleigh gap: the ratios are unchanged, the report is wrong."""
    def halving_solver(problem, w0, iterations, callback=None):
        result = lib.gdnp(problem, w0, iterations=iterations, callback=callback)
        result.trace["rho_gap"] = 0.5 * result.trace["rho_gap"]
        return result

    result = checks.least_squares.ls_rate(seed=UNSEEN_SEEDS[1], instances=3, solver=halving_solver)
    assert not result.passed, str(result)


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
    original = lib.solvers.descent._gdnp_step
    monkeypatch.setattr(lib.solvers.descent, "_gdnp_step", lambda *arguments: 0.5 * original(*arguments))
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
        # as a bug in lib's own constant would make it: Loss refuses a bound below the measured
        # supremum from a user, so the wrong value is set past that validation, on a copy
        wrong = copy.copy(loss)
        object.__setattr__(wrong, role, factor * getattr(loss, role))
        monkeypatch.setitem(lib.losses.LOSSES, name, wrong)
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
    monkeypatch.setattr(checks.networks, "gaussian_sample", _sign_sample)
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


# ---- chapter 6

@control("thm-lo-cg")
def _steepest_descent_directions(monkeypatch):
    """GDNP's steepest-descent direction step in place of both locally optimal forms: its gaps are not CG's."""
    def gdnp(problem, w0, iterations, callback=None):
        return lib.gdnp(problem, w0, iterations=iterations, callback=callback)

    monkeypatch.setattr(checks.faster, "locally_optimal", gdnp)
    monkeypatch.setattr(checks.faster, "rayleigh_ritz", gdnp)
    return checks.faster.locally_optimal_cg(seed=UNSEEN_SEEDS[0])


@control("thm-heavy-ball")
def _heavy_ball_with_momentum_q(monkeypatch):
    """The momentum q instead of q^2: the error then contracts like q^(t/2) only."""
    def heavy_ball(problem, w0, iterations, callback=None):
        momentum = lib.heavy_ball(problem, w0, iterations=1).info["momentum"]
        return lib.heavy_ball(problem, w0, iterations=iterations, momentum=np.sqrt(momentum), callback=callback)

    monkeypatch.setattr(checks.faster, "heavy_ball", heavy_ball)
    return checks.faster.heavy_ball_rate(seed=UNSEEN_SEEDS[0])


@control("thm-momentum-direction")
def _momentum_on_the_direction_with_momentum_q(monkeypatch):
    """Momentum q instead of q^2 on the direction: tan theta_t then contracts like q^(t/2) only."""
    def momentum_gdnp(problem, w0, iterations, callback=None):
        momentum = lib.momentum_gdnp(problem, w0, iterations=1).info["momentum"]
        return lib.momentum_gdnp(problem, w0, iterations=iterations, momentum=np.sqrt(momentum), callback=callback)

    monkeypatch.setattr(checks.faster, "momentum_gdnp", momentum_gdnp)
    return checks.faster.momentum_direction_rate(seed=UNSEEN_SEEDS[0])


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
