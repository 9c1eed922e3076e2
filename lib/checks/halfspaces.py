r"""Checks of chapter 3, learning halfspaces with Gaussian inputs.

The checks take nothing from the code under test that the statement fixes: the constants
:math:`\mu, L, \rho^*` come from their own linear algebra, :math:`\Phi, \Psi` from
:mod:`lib.checks.constants`, the Gaussian expectations :math:`c_1, c_2` from their own quadrature,
critical points from their own Newton iteration on Gaussian samples, and the bracket widths of
GDNP's length searches from a replay of the bracket rule of Algorithm ``alg-gdnp``
(all in :mod:`lib.checks.halfspace_reference`). Where the library reports one of these numbers
(a trace column, a property), the check compares it with its own value.
"""

from __future__ import annotations

import math

import numpy as np

from ..maths import decoupling
from ..maths.bisection import bisection
from ..problems.halfspace import Halfspace
from ..problems.instances import random_halfspace, rng_from, spd_with_spectrum
from ..maths.losses import LOSSES
from ..solvers.descent import gdnp
from .registry import CheckResult, largest, smallest, verifies
from .constants import loss_constants
from .halfspace_reference import (EPS, GradientParts, MomentConstants, ReferenceRay, gaussian_draws,
                                  gradient_coefficients, moment_constants, objective_terms,
                                  off_line_z_score, rayleigh_iterates, replay_brackets, richardson_gradient,
                                  sample_critical_point, sample_objective, skewed_companion)

__all__ = ["FINITE_LENGTH_LOSSES", "BOUND_FLOOR", "halfspace_bound", "replayed_bound"]

CHAPTER = "03-halfspaces"
#: The losses whose length problem has a finite minimiser in the Gaussian model.
FINITE_LENGTH_LOSSES = ("logistic", "squared_sigmoid")


def z_scores(samples: np.ndarray) -> np.ndarray:
    """|mean| / standard error of each column: how many standard errors the mean is from 0."""
    return np.abs(samples.mean(axis=0)) / (samples.std(axis=0) / np.sqrt(len(samples)))


def gaussian_sample(problem: Halfspace, n: int, rng) -> np.ndarray:
    """``n`` draws of :math:`z = -yx` from the Gaussian model of ``problem``."""
    X, y = problem.sample(n, seed=rng)
    return -y[:, None] * X  # z = -y x


def _relative_gap(value: float, reference: float) -> float:
    """|value - reference| / |reference| (NaN stays NaN)."""
    return abs(value - reference) / abs(reference)


def _loss_constant_errors(problems) -> float:
    r"""The largest relative gap between the :math:`\Phi, \Psi` the library uses and their suprema.

    For every problem: ``loss.first_bound`` against :math:`\sup|\phi'|`, and ``loss.second_bound``
    and ``problem.length_curvature_bound`` against :math:`\sup|\phi''|`, both recomputed by
    :func:`lib.checks.constants.loss_constants`; and ``problem.smoothness`` against
    :math:`\zeta = \Psi L` (the step unit of the chapter's gradient-descent baseline). The book
    states them as the suprema, so a constant too small (the theorems' bounds fail) and one too
    large (the bounds are loose and a check against them weak) are both errors.
    """
    worst = 0.0
    for problem in problems:
        loss = problem.loss_function
        phi, psi = loss_constants(loss)
        worst = largest(worst, _relative_gap(loss.first_bound, phi), _relative_gap(loss.second_bound, psi),
                        _relative_gap(problem.length_curvature_bound, psi),
                        _relative_gap(problem.smoothness, psi * moment_constants(problem).L))
    return worst


#: The suprema of lib.checks.constants are exact to about 1e-15 relative (a smooth maximum
#: refined to 1e-12 in t, plus the analytic maximisers), the library's constants are closed
#: forms evaluated to rounding, and L from two eigvalsh of one matrix agree to ~1e-15 relative
#: (a symmetric eigenvalue is perfectly conditioned): 1e-12 leaves a margin of 1000.
CONSTANT_TOLERANCE = 1e-12


# ---------------------------------------------------------------------------------------------
# Stein's lemma and the Gaussian gradient

#: How many standard errors a Monte-Carlo mean may lie from its exact value. A check compares at
#: most about 150 means; for a normal mean, 5 standard errors or more happen with probability
#: 5.7e-7 each, so a correct statement fails on fewer than one seed in 10 000.
Z_LIMIT = 5.0


@verifies("lem-stein", CHAPTER, "E[z chi(z)] = E[z] E[chi(z)] + Cov(z) E[grad chi(z)] for Gaussian z")
def stein(seed: int = 0, n: int = 200_000, dim: int = 4) -> CheckResult:
    r"""Monte-Carlo test of Stein's identity for two test functions; for a uniform :math:`z` it must fail.

    The second test function is :math:`\xi^3` for a standardised projection
    :math:`\xi = c^\top(z - u)/\sqrt{c^\top\Sigma c}`. For a uniform :math:`z` with the same mean and
    covariance, :math:`\xi` has excess kurtosis at most :math:`-1.2/d`, which makes the identity
    fail by many standard errors whatever :math:`c` is.
    """
    rng = rng_from(seed)
    mean = rng.standard_normal(dim)
    covariance = spd_with_spectrum(np.geomspace(0.3, 3.0, dim), rng)
    root = np.linalg.cholesky(covariance)
    a, b, c = rng.standard_normal(dim), rng.standard_normal(dim) / 2, rng.standard_normal(dim)
    c /= np.sqrt(c @ covariance @ c)

    def smooth(z):
        return np.sin(z @ a) + 0.1 * (z @ b) ** 3, np.cos(z @ a)[:, None] * a + 0.3 * ((z @ b) ** 2)[:, None] * b

    def cubic(z):
        xi = (z - mean) @ c
        return xi**3, 3.0 * (xi**2)[:, None] * c

    def deviation(z, function):
        h, grad_h = function(z)
        return float(np.max(z_scores(z * h[:, None] - mean * h[:, None] - grad_h @ covariance)))

    gaussian = gaussian_draws(mean, covariance, n, rng)
    uniform = mean + rng.uniform(-np.sqrt(3), np.sqrt(3), (n, dim)) @ root.T  # same mean and covariance
    worst = largest(deviation(gaussian, smooth), deviation(gaussian, cubic))
    control = deviation(uniform, cubic)
    return CheckResult(
        "lem-stein",
        f"largest deviation from Stein's identity over {n} Gaussian samples and two test functions: "
        f"{worst:.2f} standard errors (a uniform z with the same moments: {control:.0f} standard errors, "
        "so Gaussianity matters)",
        worst, Z_LIMIT, worst <= Z_LIMIT and control > 10.0,
    )


def _moment_z_scores(z: np.ndarray, S: np.ndarray, u: np.ndarray) -> float:
    r"""How many standard errors the sample's :math:`E[z]` and :math:`E[zz^\top]` lie from :math:`u` and :math:`S`."""
    d = z.shape[1]
    rows, columns = np.triu_indices(d)
    products = z[:, rows] * z[:, columns] - S[rows, columns]
    return largest(z_scores(z - u), z_scores(products))


def _plug_in_z_scores(z: np.ndarray, loss, w_tilde: np.ndarray, c1: float, c2: float, sample_c1: float,
                      sample_c2: float) -> float:
    r"""How many standard errors the sample's plug-in :math:`c_1, c_2` lie from the population's.

    The plug-in :math:`\hat c_1 = \bar a - \bar b\,\bar v` (:math:`a = \phi'(v)`, :math:`b = \phi''(v)`,
    :math:`v = z^\top\tilde w`) is a smooth function of three sample means; its standard error is
    that of the mean of its linearisation :math:`a - \bar b\, v - \bar v\, b` (the delta method).
    """
    v = z @ w_tilde
    a, b = loss.first(v), loss.second(v)
    linearised = a - b.mean() * v - v.mean() * b
    n = len(v)
    return largest(abs(sample_c1 - c1) / (linearised.std() / math.sqrt(n)),
                   abs(sample_c2 - c2) / (b.std() / math.sqrt(n)))


#: The library's quadrature and the check's own agree to about 1e-14 of the integrands' scale
#: (both are exact to rounding, on different panels); gradients and coefficients are compared
#: relative to that scale, Phi + Psi |u.w~| times the size of u and S w~, with a margin of 1000.
QUADRATURE_TOLERANCE = 1e-11


@verifies("lem-gaussian-gradient", CHAPTER, "grad f = c1 u + c2 S w~ with c1, c2 one-dimensional Gaussian integrals")
def gaussian_gradient(seed: int = 0, n: int = 100_000) -> CheckResult:
    r"""The lemma on Gaussian samples, and the library's gradient, coefficients and samples against it.

    For each loss and a random Gaussian model, with :math:`c_1, c_2` from the check's own
    quadrature:

    * the lemma: the Monte-Carlo mean of :math:`\phi'(z^\top\tilde w)\,z` over the model's samples
      against :math:`c_1u + c_2S\tilde w`, in standard errors; so are the samples' moments against
      :math:`u, S`, and the plug-in :math:`c_1, c_2` of :class:`~lib.halfspace.HalfspaceSample`
      against :math:`c_1, c_2` (the algorithm's step on data uses them);
    * the code: :meth:`Halfspace.evaluate` (loss, gradient, :math:`c_1`, :math:`c_2`) against the
      check's own integrals, and the gradient against finite differences of the loss.
    """
    rng = rng_from(seed)
    worst_z, worst_code, worst_fd = 0.0, 0.0, 0.0
    for name, loss in LOSSES.items():
        problem = random_halfspace(int(rng.integers(3, 8)), float(np.exp(rng.uniform(0.5, 3))), rng.uniform(0.1, 0.9), name, rng)
        S, u = problem.S, problem.u
        w_tilde = rng.standard_normal(problem.dim) * rng.uniform(0.3, 3.0)
        own_loss, c1, c2 = objective_terms(loss, S, u, w_tilde)
        formula = c1 * u + c2 * S @ w_tilde
        # the lemma, over the model's samples
        X, y = problem.sample(n, seed=rng)
        z = -y[:, None] * X
        sample = Halfspace.from_data(X, y, loss)
        sample_evaluation = sample.evaluate(w_tilde)
        worst_z = largest(worst_z, z_scores(loss.first(z @ w_tilde)[:, None] * z - formula),
                          _moment_z_scores(z, S, u),
                          _plug_in_z_scores(z, loss, w_tilde, c1, c2, sample_evaluation.c1, sample_evaluation.c2))
        # the code, against the check's own integrals
        phi, psi = loss_constants(loss)
        scale = (phi + psi * abs(u @ w_tilde)) * max(np.max(np.abs(u)), np.max(np.abs(S @ w_tilde)))
        evaluation = problem.evaluate(w_tilde)
        worst_code = largest(worst_code, float(np.max(np.abs(evaluation.grad - formula))) / scale,
                             abs(evaluation.c1 - c1) / scale, abs(evaluation.c2 - c2) / scale,
                             abs(evaluation.loss - own_loss) / max(abs(own_loss), 1.0),
                             float(np.max(np.abs(sample_evaluation.grad - z.T @ loss.first(z @ w_tilde) / n))) / scale)
        h = 1e-5
        fd = np.array([(problem.loss(w_tilde + h * e) - problem.loss(w_tilde - h * e)) / (2 * h) for e in np.eye(problem.dim)])
        worst_fd = largest(worst_fd, float(np.max(np.abs(fd - formula)) / np.max(np.abs(formula))))
    # central differences with h = 1e-5: truncation h^2 f''' ~ 1e-10, rounding eps/h ~ 2e-11
    passed = worst_z <= Z_LIMIT and worst_code <= QUADRATURE_TOLERANCE and worst_fd <= 1e-7
    return CheckResult(
        "lem-gaussian-gradient",
        f"c1 u + c2 S w~ (c1, c2 by the check's own quadrature) against Monte Carlo over {n} samples of the model, "
        f"with the samples' moments and plug-in c1, c2: at most {worst_z:.2f} standard errors apart (three losses); "
        f"Halfspace.evaluate against the same integrals: {worst_code:.1e} relative; against finite differences of "
        f"the loss: {worst_fd:.1e}",
        worst_z, Z_LIMIT, passed,
    )


# ---------------------------------------------------------------------------------------------
# Critical points

@verifies("lem-critical-line", CHAPTER, "every critical point lies on the line of S^-1 u")
def critical_line(seed: int = 0, n: int = 20_000, starts: int = 3) -> CheckResult:
    r"""Critical points of Gaussian samples lie on the line, in standard errors; a non-Gaussian sample's do not.

    Both directions, without the library's decomposition :math:`c_1u + c_2S\tilde w`:

    * every critical point lies on the line: on a Gaussian sample of each loss's model, the
      critical points reached from random starts by :func:`sample_critical_point` are compared
      with the line of the model's :math:`S^{-1}u` in standard errors (:func:`off_line_z_score`);
      a sample with the same mean and covariance but a skewed companion coordinate
      (:func:`skewed_companion`) must put its critical point measurably off the line;
    * the line holds a critical point: at :meth:`Halfspace.critical_point` the per-sample
      gradients :math:`\phi'(z^\top\tilde w)z` of a Gaussian sample average to 0 within standard
      errors, and the library's own gradient vanishes to rounding.
    """
    rng = rng_from(seed)
    worst_off, worst_converse, worst_exact, worst_residual = 0.0, 0.0, 0.0, 0.0
    for name in FINITE_LENGTH_LOSSES:
        loss = LOSSES[name]
        problem = random_halfspace(4, 10.0, rng.uniform(0.3, 0.8), name, rng)
        constants = moment_constants(problem)
        covariance = constants.S - np.outer(constants.u, constants.u)
        z = gaussian_draws(constants.u, covariance, n, rng)
        _, gradient, _ = sample_objective(z, loss)
        for _ in range(starts):
            w = sample_critical_point(z, loss, 2.0 * rng.standard_normal(4))
            worst_residual = largest(worst_residual, constants.dual_norm_sq(gradient(w)))
            worst_off = largest(worst_off, off_line_z_score(z, loss, w, constants))
        point = problem.critical_point()
        worst_converse = largest(worst_converse, z_scores(loss.first(z @ point)[:, None] * z))
        worst_exact = largest(worst_exact, constants.dual_norm_sq(problem.grad(point)))
    # the control: the moments of a model, not Gaussian. The shift of the critical point grows with
    # its length, so the model has u^T S^-1 u = 0.6, where the length is in the tens or hundreds:
    # the shift is then some 500 standard errors (over 500 on each of 28 seeds tried)
    model = moment_constants(random_halfspace(4, 10.0, 0.6, "logistic", rng))
    skewed = skewed_companion(model.S, model.u, n, rng)
    logistic = LOSSES["logistic"]
    control = off_line_z_score(skewed, logistic, sample_critical_point(skewed, logistic, model.line), model)
    # ||grad||^2 of a sum of n terms of size ~1 is exact to ~(1e-16)^2 n; 1e-20 is where Newton has
    # surely converged. The library's gradient at its critical point: the length is bisected 60
    # times, so the point is exact to rounding and ||grad f||^2 to ~1e-32.
    passed = (worst_off <= Z_LIMIT and worst_converse <= Z_LIMIT and control > 10 * Z_LIMIT
              and worst_residual <= 1e-20 and worst_exact <= 1e-20)
    return CheckResult(
        "lem-critical-line",
        f"critical points of Gaussian samples (n = {n}, {starts} random starts, two losses) lie within "
        f"{worst_off:.2f} standard errors of the line of S^-1 u; with the same moments but a skewed coordinate "
        f"the critical point is {control:.0f} standard errors off it. On the line, Halfspace.critical_point has "
        f"sample gradient within {worst_converse:.2f} standard errors of 0 and ||grad f||^2 = {worst_exact:.1e}",
        worst_off, Z_LIMIT, passed,
    )


# ---------------------------------------------------------------------------------------------
# The direction gradient and GDNP's directions

#: Fourth-order differences with h = 1e-3 ||w||: truncation ~h^4 = 1e-12 times a fifth derivative of
#: order 1, rounding ~eps / h = 2e-13 times the loss (the quadrature's own noise is of the same
#: order); the result is good to ~1e-11 of the gradient's scale, and 1e-8 leaves a wide margin.
FD_TOLERANCE = 1e-8
#: The library's direction gradient and the check's prediction are both exact to rounding
#: (quadrature to ~1e-14 relative, a handful of vector operations): 1e-10 leaves a margin of 1e4.
IDENTITY_TOLERANCE = 1e-10


@verifies("lem-direction-parallel", CHAPTER, "grad_w f is parallel to grad rho, and its scaled norm is c1^2 (rho - rho*)")
def direction_parallel(seed: int = 0, points: int = 12) -> CheckResult:
    r"""Both identities of the lemma, with the true gradient of :math:`f(w, g)` and with the library's.

    The prediction :math:`-(g\,c_1\|w\|_S/(2u^\top w))\nabla\rho(w)` uses the check's own
    :math:`c_1` (:func:`gradient_coefficients`) and :math:`\nabla\rho`; it is compared with finite
    differences of :math:`w \mapsto f(g\,w/\|w\|_S)` (the statement) and with the direction
    gradient that GDNP uses, :func:`lib.decoupling.split_gradient` of :meth:`Halfspace.grad` (the
    code). The norm identity :math:`\|w\|_S^2\|\nabla_w f\|^2_{S^{-1}}/g^2 = c_1^2(\rho - \rho^*)` is
    checked with the library's direction gradient and the check's own :math:`c_1` and :math:`\rho^*`.
    """
    rng = rng_from(seed)
    worst_fd, worst_code = 0.0, 0.0
    for name in LOSSES:
        problem = random_halfspace(5, 20.0, 0.5, name, rng)
        constants = moment_constants(problem)
        S, u = constants.S, constants.u
        for _ in range(points):
            w, g = rng.standard_normal(5), rng.uniform(-4, 4)
            norm = math.sqrt(float(w @ S @ w))
            c1, _ = gradient_coefficients(problem.loss_function, S, u, g * w / norm)
            predicted = -(g * c1 * norm / (2 * (u @ w))) * constants.rho_grad(w)
            scale = float(np.linalg.norm(predicted))
            true = richardson_gradient(lambda x: problem.loss(g * x / math.sqrt(float(x @ S @ x))), w, 1e-3 * np.linalg.norm(w))
            _, grad_w = decoupling.split_gradient(problem.grad(g * w / norm), g, w, S)
            expected = c1**2 * constants.rho_gap(w)
            worst_fd = largest(worst_fd, float(np.linalg.norm(true - predicted)) / scale)
            worst_code = largest(worst_code, float(np.linalg.norm(grad_w - predicted)) / scale,
                                 abs(norm**2 / g**2 * constants.dual_norm_sq(grad_w) - expected) / expected)
    return CheckResult(
        "lem-direction-parallel",
        f"over {3 * points} points: grad_w f by finite differences against -(g c1 ||w||_S / (2 u.w)) grad rho "
        f"(c1 by the check's quadrature): {worst_fd:.1e} relative; GDNP's direction gradient against the same, and the "
        f"norm identity: {worst_code:.1e}",
        worst_code, IDENTITY_TOLERANCE, worst_code <= IDENTITY_TOLERANCE and worst_fd <= FD_TOLERANCE,
    )


def _recorded_gdnp(problem, w0, **options):
    """Run :func:`lib.gdnp` and collect every iterate's direction and length through its callback."""
    directions, lengths = [], []

    def record(t, w_tilde, g, w):
        directions.append(np.array(w, dtype=float))
        lengths.append(float(g))

    result = gdnp(problem, w0, callback=record, **options)
    return result, np.array(directions), np.array(lengths)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


#: The replayed Rayleigh iteration and GDNP's directions differ by rounding only: each step adds
#: ~1e-15 relative, and the iteration contracts towards S^-1 u, so errors do not grow; 1e-10 after
#: 100 steps leaves a margin of 1e4.
DIRECTION_TOLERANCE = 1e-10


@verifies("prop-gdnp-direction", CHAPTER, "GDNP's directions are the least-squares Rayleigh iterates, whatever the loss")
def gdnp_direction(seed: int = 0, iterations: int = 100) -> CheckResult:
    r"""GDNP's directions, at every step, against the Rayleigh iteration replayed by the check.

    Two losses and, for each, two length searches (:math:`T_s = 3` and 8, hence different lengths
    :math:`g_t`: the statement says they do not matter). The Rayleigh gap of the directions is
    also compared with :math:`(1-\mu/L)^{2t}(\rho(w_0) - \rho^*)` (the proposition's "hence"), with
    the check's own :math:`\mu, L, \rho^*`. Control: on a finite (so non-Gaussian) sample the
    decomposition fails and the paths must part.
    """
    rng = rng_from(seed)
    worst, worst_rate, lengths_apart = 0.0, 0.0, 0.0
    for name in FINITE_LENGTH_LOSSES:
        problem = random_halfspace(8, 30.0, 0.5, name, rng)
        constants = moment_constants(problem)
        w0 = rng.standard_normal(8)
        replay = rayleigh_iterates(constants, w0, iterations)
        runs = [_recorded_gdnp(problem, w0, iterations=iterations, bisection_steps=steps) for steps in (3, 8)]
        for _, directions, _ in runs:
            worst = largest(worst, np.linalg.norm(_unit(directions) - _unit(replay), axis=1))
        lengths_apart = largest(lengths_apart, np.abs(runs[0][2] - runs[1][2]))
        gaps = np.array([constants.rho_gap(w) for w in runs[0][1]])
        decay = constants.rate ** np.arange(iterations + 1) * gaps[0]
        meaningful = decay > BOUND_FLOOR
        worst_rate = largest(worst_rate, gaps[meaningful] / decay[meaningful])
    # control: on a finite (so non-Gaussian) sample the decomposition fails and the paths part
    sample = Halfspace.from_data(*problem.sample(300, seed=rng), loss="logistic")
    sample_constants = moment_constants(sample)
    _, sample_directions, _ = _recorded_gdnp(sample, w0, iterations=20)
    apart = float(np.linalg.norm(_unit(sample_directions[-1]) - _unit(rayleigh_iterates(sample_constants, w0, 20)[-1])))
    passed = worst <= DIRECTION_TOLERANCE and worst_rate <= 1.0 + 1e-9 and lengths_apart > 1e-6 and apart > 1e-6
    return CheckResult(
        "prop-gdnp-direction",
        f"over {iterations} steps the unit directions of GDNP on Gaussian halfspaces (logistic, squared sigmoid; "
        f"T_s = 3 and 8, whose lengths differ by up to {lengths_apart:.0e}) and of the Rayleigh iteration replayed "
        f"by the check differ by at most {worst:.1e}; their gap is at most {worst_rate:.3f} x (1 - mu/L)^(2t) "
        f"(rho(w_0) - rho*). On a 300-point sample the paths part: {apart:.1e}",
        worst, DIRECTION_TOLERANCE, passed,
    )


# ---------------------------------------------------------------------------------------------
# The length problem

#: Both derivatives are exact to rounding: the library's by its quadrature or its mean over the
#: sample, the check's by its own; |k| <= Phi E|xi| <= 1, so they agree to ~1e-14 absolutely,
#: and 1e-11 leaves a margin of 1000.
DERIVATIVE_TOLERANCE = 1e-11


def _worst_case_ray(rng) -> tuple[Halfspace, ReferenceRay, np.ndarray]:
    r"""A logistic ray on which the bisection bound is nearly attained.

    The direction is almost S-orthogonal to :math:`S^{-1}u` (:math:`\hat m = 10^{-3}`), so the root of
    :math:`k` lies near :math:`g = -2\hat m`, where :math:`k' = E[\phi''(g\xi)\xi^2] \approx \phi''(0) = 1/4 = \Psi`.
    """
    problem = random_halfspace(5, 10.0, 0.5, "logistic", rng)
    constants = moment_constants(problem)
    across = rng.standard_normal(5)
    across -= float(across @ constants.S @ constants.line) * constants.line
    across /= math.sqrt(float(across @ constants.S @ across))
    slope = 1e-3 / math.sqrt(-constants.rho_star)  # u.line = sqrt(u^T S^-1 u)
    w = math.sqrt(1.0 - slope**2) * across + slope * constants.line
    return problem, ReferenceRay(LOSSES["logistic"], constants.S, constants.u, w), w


@verifies("lem-bisection", CHAPTER, "after T_s halvings, (d_g f)^2 <= Psi^2 4^(-T_s-1) (b - a)^2")
def bisection_bound(seed: int = 0, rays: int = 6) -> CheckResult:
    r"""The bound for T_s = 0..30 on Gaussian and sample rays, nearly attained on a constructed ray.

    :math:`\Psi` comes from :func:`lib.checks.constants.loss_constants`, :math:`k(\bar g)` from the
    check's own :class:`ReferenceRay`, the width from the bracket the check passes; the midpoint
    :math:`\bar g` from :func:`lib.bisection` on the library's ray derivative (what GDNP uses),
    which is also compared with the check's. The bound is tight: on the ray of
    :func:`_worst_case_ray`, with the root just inside the left end of the bracket, the largest
    ratio must exceed 0.99, so a bisection that does more halvings than it counts is caught. Also
    checked: :math:`|\partial_g^2 f| \le \Psi` on a grid, and the :math:`\Phi, \Psi` of every
    loss as the library states them (``loss.first_bound``, ``loss.second_bound``,
    ``problem.length_curvature_bound``, and :math:`\zeta = \Psi L` as ``problem.smoothness``)
    against their suprema (:func:`_loss_constant_errors`).
    """
    rng = rng_from(seed)
    worst_ratio, worst_curvature, worst_derivative, compared = 0.0, 0.0, 0.0, 0
    problems = [random_halfspace(5, 10.0, 0.5, name, rng) for name in LOSSES]
    for index in range(rays):
        name = FINITE_LENGTH_LOSSES[index % 2]
        loss = LOSSES[name]
        problem = random_halfspace(5, 10.0, rng.uniform(0.2, 0.8), name, rng)
        w = rng.standard_normal(5)
        z = None
        if index >= rays // 2:
            X, y = problem.sample(3000, seed=rng)
            z = -y[:, None] * X
            problem = Halfspace.from_data(X, y, loss=name)
        problems.append(problem)
        psi = loss_constants(loss)[1]
        ray, own = problem.ray(w), ReferenceRay(loss, problem.S, problem.u, w, z)
        root = own.root()
        grid = root + np.linspace(-5, 5, 41)
        worst_derivative = largest(worst_derivative, *(abs(ray.derivative(g) - own.derivative(g)) for g in grid))
        h = 1e-5
        curvature = [abs(ray.derivative(g + h) - ray.derivative(g - h)) / (2 * h) for g in grid]
        worst_curvature = largest(worst_curvature, largest(*curvature) / psi)
        bracket = (root - rng.uniform(0.1, 5.0), root + rng.uniform(0.1, 5.0))
        ratios = _bisection_ratios(ray.derivative, own.derivative, bracket, psi)
        compared += len(ratios)
        worst_ratio = largest(worst_ratio, *ratios)
    # the constructed near-worst case: the root 1e-12 of the width inside the left end
    problem, own, w = _worst_case_ray(rng)
    root = own.root()
    tight = largest(*_bisection_ratios(problem.ray(w).derivative, own.derivative, (root - 1e-12, root + 1.0 - 1e-12),
                                       loss_constants(LOSSES["logistic"])[1]))
    constant_error = _loss_constant_errors(problems)
    passed = (worst_ratio <= 1.0 and tight <= 1.0 and tight >= 0.99 and worst_curvature <= 1.0 + 1e-6
              and worst_derivative <= DERIVATIVE_TOLERANCE and constant_error <= CONSTANT_TOLERANCE)
    return CheckResult(
        "lem-bisection",
        f"largest (d_g f)^2 / (Psi^2 4^(-T_s-1) (b-a)^2) over {compared} runs (T_s = 0..30, Gaussian and sample "
        f"rays): {worst_ratio:.3f}, and {tight:.6f} on a constructed near-worst ray (so 4^(-T_s-1) cannot be "
        f"lowered); largest |d^2_g f| / Psi on a grid: {worst_curvature:.3f}; the library's Phi, Psi (and zeta = Psi L) "
        f"of the three losses agree with the recomputed suprema to {constant_error:.0e}",
        largest(worst_ratio, tight), 1.0, passed,
    )


def _bisection_ratios(derivative, own_derivative, bracket: tuple[float, float], psi: float) -> list[float]:
    r""":math:`k(\bar g)^2/(\Psi^2 4^{-T_s-1}(b-a)^2)` for :math:`T_s = 0, \dots, 30`, where the bound is above rounding.

    :math:`\bar g` is :func:`lib.bisection` on ``derivative`` from ``bracket``; :math:`k(\bar g)` is
    ``own_derivative``; :math:`b - a` is the width of ``bracket``.
    """
    width = bracket[1] - bracket[0]
    ratios = []
    for steps in range(31):
        bound = psi**2 * 4.0 ** (-steps - 1) * width**2
        if bound < BOUND_FLOOR:  # the derivative is computed to ~1e-16: below this, rounding
            break
        ratios.append(own_derivative(bisection(derivative, bracket, steps).root) ** 2 / bound)
    return ratios


def _probability_positive(mean: float, std: float) -> float:
    """P(xi > 0) for xi ~ N(mean, std^2)."""
    return 0.5 * math.erfc(-mean / (std * math.sqrt(2.0)))


@verifies("prop-length-existence", CHAPTER, "a finite optimal length exists for the logistic and squared sigmoid losses, never for the sigmoid")
def length_existence(seed: int = 0, directions: int = 5) -> CheckResult:
    r"""The three claims on random directions for :math:`|g|` up to :math:`10^6`, with the check's own length problem.

    The library's rays (what GDNP's length search uses) are compared with :class:`ReferenceRay` at every
    grid point, slope :math:`\hat m` and spread :math:`1 - \hat m^2` included.
    """
    rng = rng_from(seed)
    grid = np.concatenate([-np.geomspace(1e6, 1e-3, 60), [0.0], np.geomspace(1e-3, 1e6, 60)])
    violations = 0
    margins, worst_derivative = [], 0.0
    for _ in range(directions):
        S = spd_with_spectrum(np.geomspace(1, 10, 4), rng)
        u_direction = rng.standard_normal(4)
        energy = rng.uniform(0.1, 0.9)
        u = u_direction * math.sqrt(energy / (u_direction @ np.linalg.solve(S, u_direction)))
        w = rng.standard_normal(4)
        derivatives = {}
        for name, loss in LOSSES.items():
            ray, own = Halfspace(S, u, name).ray(w), ReferenceRay(loss, S, u, w)
            derivatives[name] = np.array([own.derivative(g) for g in grid])
            worst_derivative = largest(worst_derivative, np.abs(np.array([ray.derivative(g) for g in grid]) - derivatives[name]),
                                       abs(ray.slope - own.slope), abs(ray.spread_sq - own.spread_sq))
        slope, spread = own.slope, math.sqrt(own.spread_sq)
        logistic = derivatives["logistic"]
        violations += int(np.sum(np.diff(logistic) <= 0)) + int(not (logistic[0] < 0 < logistic[-1]))
        sigmoid = derivatives["sigmoid"]
        violations += int(np.sum(np.sign(sigmoid[grid != 0]) != np.sign(slope)))
        squared = ReferenceRay(LOSSES["squared_sigmoid"], S, u, w)
        g_star = squared.root()
        limits = min(_probability_positive(slope, spread), 1 - _probability_positive(slope, spread))
        margins.append(limits - squared.value(g_star))
        violations += int(not margins[-1] > 0)  # a NaN margin is a violation too
    return CheckResult(
        "prop-length-existence",
        f"over {directions} random directions and |g| up to 1e6: the logistic length derivative increases through 0, "
        f"the sigmoid's has the sign of u.w every time, and the squared sigmoid's minimum lies "
        f"{smallest(*margins):.2e} or more below both limits; violations: {violations}. The library's rays agree "
        f"with the check's to {worst_derivative:.0e}",
        float(violations), 0.0, violations == 0 and worst_derivative <= DERIVATIVE_TOLERANCE,
    )


# ---------------------------------------------------------------------------------------------
# The convergence theorem

#: Bounds below this are at the rounding level of a squared gradient norm (~1e-32 relative to its
#: terms); comparisons stop there.
BOUND_FLOOR = 1e-24


def _worst_ratio(values: np.ndarray, bound: np.ndarray) -> float:
    """The largest ``values / bound`` where the bound is above :data:`BOUND_FLOOR`."""
    meaningful = bound > BOUND_FLOOR
    return float(np.max(values[meaningful] / bound[meaningful]))


def halfspace_bound(problem, trace: dict) -> tuple[np.ndarray, np.ndarray]:
    r"""The bound of theorem ``thm-halfspace-rate`` at every iterate of a GDNP trace, and its direction part.

    Returns :math:`(\Phi + \Psi|g_t|\|u\|_{S^{-1}})^2(1-\mu/L)^{2t}(\rho(w_0)-\rho^*) + \Psi^2 4^{-T_s-1}(b_t-a_t)^2`
    and the exact direction form :math:`c_1^2(1-\mu/L)^{2t}(\rho(w_0)-\rho^*)`, both read from the
    problem's constants and the trace. The check of the theorem does not use it: it recomputes
    every ingredient (:func:`replayed_bound`).
    """
    t = np.arange(len(trace["loss"]))
    phi = problem.loss_function
    decay = problem.rate**t * trace["rho_gap"][0]
    c1_bound = phi.first_bound + phi.second_bound * np.abs(trace["length"]) * math.sqrt(-problem.rho_star)
    return c1_bound**2 * decay + trace["length_bound"], trace["c1"] ** 2 * decay


def _trace_errors(trace: dict, parts: GradientParts, constants: MomentConstants, directions, lengths,
                  widths, midpoints, length_bound) -> float:
    """How far the trace of a GDNP run is from the check's own values, in units of each tolerance (<= 1 is agreement)."""
    # |sqrt a - sqrt b| <= the S^-1 distance of the two gradients (triangle inequality), for the
    # whole and for both parts (the component along w_hat and the S^-1-orthogonal projection of
    # lem-norm-split do not lengthen a vector in the S^-1 norm)
    gradient = largest(*(np.abs(np.sqrt(trace[key]) - np.sqrt(own)) / parts.accuracy for key, own in (
        ("grad_norm_sq", parts.total), ("grad_norm_sq_length", parts.length), ("grad_norm_sq_direction", parts.direction))))
    # the replay repeats the algorithm's arithmetic on the same numbers: it agrees to the last bit
    # unless the rule differs; 4 ulp allow for a platform that contracts 0.5 (a + b) differently
    ulp = 4 * EPS * np.maximum(np.abs(lengths), 1.0)
    replayed = np.abs(midpoints - lengths) / ulp
    recorded = np.abs(trace["length"] - lengths) / ulp
    width = np.abs(trace["bracket_width"] - widths) / (4 * EPS * widths)
    bound = np.abs(trace["length_bound"] - length_bound) / (1e-12 * length_bound)
    # c1 to the quadrature's accuracy (see GradientParts); the Rayleigh gap by the residual form
    # of both, to rounding of u (~1e-16 |rho*|)
    c1 = np.abs(trace["c1"] - parts.c1) / (parts.accuracy * math.sqrt(constants.mu) / np.linalg.norm(constants.u))
    gaps = np.array([constants.rho_gap(w) for w in directions])
    gap = np.abs(trace["rho_gap"] - gaps) / (1e-9 * gaps + 1e-14 * abs(constants.rho_star))
    # the loss, an integral exact to ~1e-15 of max(|f|, 1) in both quadratures
    loss = np.abs(trace["loss"] - parts.loss) / (1e-12 * np.maximum(np.abs(parts.loss), 1.0))
    # the algorithm's step varsigma_t = -||w||_S^3 / (L g c1 u.w) and eta_t = ||w||_S^4 / (2 L (u.w)^2), from
    # the check's L and c1: a handful of operations on numbers exact to ~1e-15 (c1 relative to its
    # scale Phi + Psi |u.w~|, and |c1| is at least 0.05 of that scale in these runs); they agree to
    # ~3e-15 relative, and 1e-9 leaves a wide margin
    norms = np.sqrt(np.einsum("ti,ij,tj->t", directions, constants.S, directions))[:-1]
    uw = (directions @ constants.u)[:-1]
    step = -(norms**3) / (constants.L * lengths[:-1] * parts.c1[:-1] * uw)
    eta = norms**4 / (2.0 * constants.L * uw**2)
    steps = largest(np.abs(trace["step"] - step) / np.abs(step), np.abs(trace["eta"] - eta) / eta) / 1e-9
    return largest(gradient, replayed, recorded, width, bound, c1, gap, loss, steps)


def replayed_bound(problem, result, directions, lengths, steps: int, fixed_radius: float | None = None):
    r"""The theorem's bound at every iterate of a GDNP run, with every ingredient recomputed by the check.

    :math:`(\Phi + \Psi|g_t|\|u\|_{S^{-1}})^2(1-\mu/L)^{2t}(\rho(w_0)-\rho^*) + \Psi^2 4^{-T_s-1}(b_t-a_t)^2`
    with :math:`\Phi, \Psi` from :func:`~lib.checks.constants.loss_constants`, :math:`\mu, L, \rho^*,
    \|u\|_{S^{-1}}` from :class:`MomentConstants`, and :math:`b_t - a_t` from :func:`replay_brackets`.

    Returns
    -------
    bound, direction_bound, parts, trace_error
        The bound; the exact direction form :math:`c_1^2(1-\mu/L)^{2t}(\rho(w_0)-\rho^*)` with the
        check's :math:`c_1`; the check's :class:`GradientParts`; and how far the trace is from the
        check's values in units of their tolerances (:func:`_trace_errors`, agreement is <= 1).
    """
    loss = problem.loss_function
    constants = moment_constants(problem)
    phi, psi = loss_constants(loss)
    widths, midpoints = replay_brackets(problem, directions, lengths, steps, fixed_radius)
    parts = GradientParts(loss, constants, directions, lengths)
    decay = constants.rate ** np.arange(len(lengths)) * constants.rho_gap(directions[0])
    length_bound = psi**2 * 4.0 ** (-steps - 1) * widths**2
    bound = (phi + psi * np.abs(lengths) * math.sqrt(-constants.rho_star)) ** 2 * decay + length_bound
    trace_error = _trace_errors(result.trace, parts, constants, directions, lengths, widths, midpoints, length_bound)
    return bound, parts.c1**2 * decay, parts, trace_error


#: The runs of the theorem's check: (T_s, fixed bracket radius or None for the adaptive brackets).
RATE_RUNS = ((3, None), (8, 1.0))


@verifies("thm-halfspace-rate", CHAPTER, "||grad f(w~_t)||^2 <= (Phi + Psi|g_t| ||u||_{S^-1})^2 (1 - mu/L)^(2t) (rho(w_0) - rho*) + Psi^2 4^(-T_s-1) (b_t - a_t)^2")
def halfspace_rate(seed: int = 0) -> CheckResult:
    r"""Every iterate's gradient norm against the theorem's bound, on two losses, two kappas, two bracket rules.

    Nothing is read from the library's account of itself: the check runs :func:`lib.gdnp`, takes its
    directions and lengths from the callback, and recomputes the gradient norms
    (:class:`GradientParts`), the constants and the bracket widths (:func:`replayed_bound`). It then
    compares the trace's ``loss``, ``grad_norm_sq`` and its two parts, ``length``, ``bracket_width``,
    ``length_bound``, ``c1``, ``rho_gap``, ``step`` and ``eta`` with its own values (:func:`_trace_errors`). The bound is loose by nature (:math:`|c_1| \le \Phi + \Psi|g|\|u\|`
    is far from equality), and the figure says by how much; its direction part alone against the
    exact form :math:`c_1^2(1-\mu/L)^{2t}(\rho(w_0)-\rho^*)` is attained at :math:`t = 0`.
    """
    rng = rng_from(seed)
    worst, worst_direction, worst_trace, compared = 0.0, 0.0, 0.0, 0
    for name in FINITE_LENGTH_LOSSES:
        for kappa in (5.0, 50.0):
            for steps, radius in RATE_RUNS:
                problem = random_halfspace(6, kappa, rng.uniform(0.2, 0.8), name, rng)
                result, directions, lengths = _recorded_gdnp(problem, rng.standard_normal(6), iterations=int(4 * kappa),
                                                             bisection_steps=steps, bracket_radius=radius)
                bound, direction_bound, parts, trace_error = replayed_bound(problem, result, directions, lengths, steps, radius)
                compared += int(np.sum(bound > BOUND_FLOOR))
                worst = largest(worst, _worst_ratio(parts.total, bound))
                worst_direction = largest(worst_direction, _worst_ratio(parts.direction, direction_bound))
                worst_trace = largest(worst_trace, trace_error)
    # at t = 0 the direction part equals its bound, both from the check's own c1 and gradient: they
    # differ by rounding (~1e-14 relative), so 1e-9 of slack
    passed = worst <= 1.0 and worst_direction <= 1.0 + 1e-9 and worst_trace <= 1.0
    return CheckResult(
        "thm-halfspace-rate",
        f"largest ||grad f(w~_t)||^2 / bound over {compared} iterates (two losses, kappa = 5 and 50, T_s = 3 with "
        f"adaptive brackets and T_s = 8 with brackets of radius 1): {worst:.3f}, so the bound holds with room "
        f"{1 / worst:.1f}x at its tightest; the direction part against c1^2 (1 - mu/L)^(2t) (rho(w_0) - rho*) alone: "
        f"{worst_direction:.4f}. The trace agrees with the check's losses, gradients, steps, widths and bounds "
        f"({worst_trace:.2g} of the tolerances)",
        worst, 1.0, passed,
    )
