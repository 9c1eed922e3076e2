r"""Checks of chapter 3, learning halfspaces with Gaussian inputs."""

from __future__ import annotations

import math

import numpy as np

from .. import decoupling
from ..bisection import bisection
from ..halfspace import Halfspace
from ..instances import random_halfspace, rng_from, spd_with_spectrum
from ..least_squares import LeastSquares
from ..losses import LOSSES
from ..solvers import gd, gdnp
from . import CheckResult, largest, smallest, verifies

CHAPTER = "03-halfspaces"
#: The losses whose length problem has a finite minimiser in the Gaussian model.
FINITE_LENGTH_LOSSES = ("logistic", "squared_sigmoid")


def _z_scores(samples: np.ndarray) -> np.ndarray:
    """|mean| / standard error of each column: how many standard errors the mean is from 0."""
    return np.abs(samples.mean(axis=0)) / (samples.std(axis=0) / np.sqrt(len(samples)))


def _gaussian_sample(problem: Halfspace, n: int, rng) -> np.ndarray:
    X, y = problem.sample(n, seed=rng)
    return -y[:, None] * X  # z = -y x


@verifies("lem-stein", CHAPTER, "E[z h(z)] = E[z] E[h(z)] + Cov(z) E[grad h(z)] for Gaussian z")
def stein(seed: int = 0, n: int = 400_000, dim: int = 4) -> CheckResult:
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
        return float(np.max(_z_scores(z * h[:, None] - mean * h[:, None] - grad_h @ covariance)))

    gaussian = mean + rng.standard_normal((n, dim)) @ root.T
    uniform = mean + rng.uniform(-np.sqrt(3), np.sqrt(3), (n, dim)) @ root.T  # same mean and covariance
    worst = largest(deviation(gaussian, smooth), deviation(gaussian, cubic))
    control = deviation(uniform, cubic)
    return CheckResult(
        "lem-stein",
        f"largest deviation from Stein's identity over {n} Gaussian samples and two test functions: "
        f"{worst:.2f} standard errors (a uniform z with the same moments: {control:.0f} standard errors, "
        "so Gaussianity matters)",
        worst, 5.0, worst <= 5.0 and control > 10.0,
    )


@verifies("lem-gaussian-gradient", CHAPTER, "grad f = c1 u + c2 S w~ with c1, c2 one-dimensional Gaussian integrals")
def gaussian_gradient(seed: int = 0, n: int = 300_000) -> CheckResult:
    """The quadrature gradient against Monte Carlo (in standard errors) and against finite differences."""
    rng = rng_from(seed)
    worst_z, worst_fd = 0.0, 0.0
    for name in LOSSES:
        problem = random_halfspace(int(rng.integers(3, 8)), float(np.exp(rng.uniform(0.5, 3))), rng.uniform(0.1, 0.9), name, rng)
        w_tilde = rng.standard_normal(problem.dim) * rng.uniform(0.3, 3.0)
        evaluation = problem.evaluate(w_tilde)
        decomposed = evaluation.c1 * problem.u + evaluation.c2 * problem.S @ w_tilde
        z = _gaussian_sample(problem, n, rng)
        samples = problem.loss_function.first(z @ w_tilde)[:, None] * z - decomposed
        worst_z = largest(worst_z, float(np.max(_z_scores(samples))))
        h = 1e-5
        fd = np.array([(problem.loss(w_tilde + h * e) - problem.loss(w_tilde - h * e)) / (2 * h) for e in np.eye(problem.dim)])
        worst_fd = largest(worst_fd, float(np.max(np.abs(fd - decomposed)) / np.max(np.abs(decomposed))))
    return CheckResult(
        "lem-gaussian-gradient",
        f"c1 u + c2 S w~ against Monte Carlo: at most {worst_z:.2f} standard errors apart ({n} samples, three "
        f"losses); against finite differences of the loss: {worst_fd:.1e} relative",
        worst_z, 5.0, worst_z <= 5.0 and worst_fd <= 1e-7,
    )


def _s_sine(problem, w) -> float:
    """The sine of the S-angle between w and S^-1 u, from the orthogonal part (sqrt(1 - cos^2)
    cannot resolve sines below about 1e-8)."""
    direction = problem.optimal_direction()
    across = w - (w @ problem.S @ direction) * direction
    return float(np.sqrt(across @ problem.S @ across / (w @ problem.S @ w)))


@verifies("lem-critical-line", CHAPTER, "every critical point lies on the line of S^-1 u")
def critical_line(seed: int = 0, starts: int = 3, iterations: int = 3000) -> CheckResult:
    """Plain GD from random starts ends near the line; the point on the line found by bisection is critical."""
    rng = rng_from(seed)
    worst_sine, worst_critical, worst_reduction = 0.0, 0.0, 0.0
    for name in FINITE_LENGTH_LOSSES:
        problem = random_halfspace(6, 10.0, 0.6, name, rng)
        for _ in range(starts):
            result = gd(problem, rng.standard_normal(6) * 2.0, iterations=iterations, step=4.0 / problem.smoothness)
            worst_sine = largest(worst_sine, _s_sine(problem, result.w_tilde))
            worst_reduction = largest(worst_reduction, result.trace["grad_norm_sq"][-1] / result.trace["grad_norm_sq"][0])
        point = problem.critical_point()
        worst_critical = largest(worst_critical, problem.dual_norm_sq(problem.grad(point)))
    passed = worst_sine <= 1e-3 and worst_critical <= 1e-20 and worst_reduction <= 1e-6
    return CheckResult(
        "lem-critical-line",
        f"plain GD from {starts} random starts per loss ends at S-angle sine <= {worst_sine:.1e} from S^-1 u "
        f"(gradient reduced by {worst_reduction:.0e} or more); the point on the line has "
        f"||grad f||^2 = {worst_critical:.1e}",
        worst_sine, 1e-3, passed,
    )


@verifies("lem-direction-parallel", CHAPTER, "grad_w f is parallel to grad rho, and its scaled norm is c1^2 (rho - rho*)")
def direction_parallel(seed: int = 0, points: int = 20) -> CheckResult:
    rng = rng_from(seed)
    worst = 0.0
    for name in LOSSES:
        problem = random_halfspace(5, 20.0, 0.5, name, rng)
        for _ in range(points):
            w, g = rng.standard_normal(5), rng.uniform(-4, 4)
            evaluation = problem.evaluate(decoupling.to_w_tilde(g, w, problem.S))
            _, grad_w = decoupling.split_gradient(evaluation.grad, g, w, problem.S)
            norm = decoupling.s_norm(w, problem.S)
            predicted = -(g * evaluation.c1 * norm / (2 * problem.u @ w)) * problem.rho_grad(w)
            identity = norm**2 / g**2 * problem.dual_norm_sq(grad_w)
            expected = evaluation.c1**2 * problem.rho_gap(w)
            worst = largest(worst, float(np.linalg.norm(grad_w - predicted) / np.linalg.norm(predicted)),
                        abs(identity - expected) / expected)
    return CheckResult(
        "lem-direction-parallel",
        f"largest relative error of grad_w f = -(g c1 ||w||_S / (2 u.w)) grad rho and of the norm identity "
        f"over {3 * points} points: {worst:.1e}",
        worst, 1e-10, worst <= 1e-10,
    )


@verifies("prop-gdnp-direction", CHAPTER, "GDNP's directions are the least-squares Rayleigh iterates, whatever the loss")
def gdnp_direction(seed: int = 0, iterations: int = 100) -> CheckResult:
    rng = rng_from(seed)
    worst = 0.0
    unit = lambda v: v / np.linalg.norm(v)
    for name in FINITE_LENGTH_LOSSES:
        problem = random_halfspace(8, 30.0, 0.5, name, rng)
        w0 = rng.standard_normal(8)
        halfspace_w = gdnp(problem, w0, iterations=iterations).w
        rayleigh_w = gdnp(LeastSquares(problem.S, problem.u), w0, iterations=iterations).w
        worst = largest(worst, float(np.linalg.norm(unit(halfspace_w) - unit(rayleigh_w))))
    # control: on a finite (so non-Gaussian) sample the decomposition fails and the paths part
    sample = Halfspace.from_data(*problem.sample(300, seed=rng), loss="logistic")
    apart = float(np.linalg.norm(unit(gdnp(sample, w0, iterations=20).w)
                                 - unit(gdnp(LeastSquares(sample.S, sample.u), w0, iterations=20).w)))
    return CheckResult(
        "prop-gdnp-direction",
        f"after {iterations} steps the unit directions of GDNP on Gaussian halfspaces (logistic, squared sigmoid) and "
        f"of the least-squares Rayleigh iteration differ by {worst:.1e} (on a 300-point sample: {apart:.1e})",
        worst, 1e-10, worst <= 1e-10 and apart > 1e-6,
    )


@verifies("lem-bisection", CHAPTER, "after T_s halvings, (d_g f)^2 <= Psi^2 4^(-T_s-1) (b - a)^2")
def bisection_bound(seed: int = 0, rays: int = 6) -> CheckResult:
    """The bound over T_s = 0..30 on Gaussian and sample rays, where it is above the rounding level."""
    rng = rng_from(seed)
    worst_ratio, worst_curvature, compared = 0.0, 0.0, 0
    for index in range(rays):
        name = FINITE_LENGTH_LOSSES[index % 2]
        problem = random_halfspace(5, 10.0, rng.uniform(0.2, 0.8), name, rng)
        if index >= rays // 2:
            problem = Halfspace.from_data(*problem.sample(3000, seed=rng), loss=name)
        ray, psi = problem.ray(rng.standard_normal(5)), problem.length_curvature_bound
        root = bisection(ray.derivative, (-1.0, 1.0), 60).root
        grid = root + np.linspace(-5, 5, 41)
        h = 1e-5
        curvature = [abs(ray.derivative(g + h) - ray.derivative(g - h)) / (2 * h) for g in grid]
        worst_curvature = largest(worst_curvature, largest(*curvature) / psi)
        bracket = (root - rng.uniform(0.1, 5.0), root + rng.uniform(0.1, 5.0))
        for steps in range(31):
            found = bisection(ray.derivative, bracket, steps)
            bound = psi**2 * 4.0 ** (-steps - 1) * found.width**2
            if bound < 1e-24:  # the derivative itself is computed to ~1e-16: below this, rounding
                continue
            compared += 1
            worst_ratio = largest(worst_ratio, ray.derivative(found.root) ** 2 / bound)
    return CheckResult(
        "lem-bisection",
        f"largest (d_g f)^2 / (Psi^2 4^(-T_s-1) (b-a)^2) over {compared} runs (T_s = 0..30, Gaussian and sample "
        f"rays): {worst_ratio:.3f}; largest |d^2_g f| / Psi on a grid: {worst_curvature:.3f}",
        worst_ratio, 1.0, worst_ratio <= 1.0 and worst_curvature <= 1.0 + 1e-6,
    )


def _probability_positive(mean: float, std: float) -> float:
    """P(xi > 0) for xi ~ N(mean, std^2)."""
    return 0.5 * math.erfc(-mean / (std * math.sqrt(2.0)))


@verifies("prop-length-existence", CHAPTER, "a finite optimal length exists for the logistic and squared sigmoid losses, never for the sigmoid")
def length_existence(seed: int = 0, directions: int = 5) -> CheckResult:
    rng = rng_from(seed)
    grid = np.concatenate([-np.geomspace(1e6, 1e-3, 60), [0.0], np.geomspace(1e-3, 1e6, 60)])
    violations = 0
    margins = []
    for _ in range(directions):
        S = spd_with_spectrum(np.geomspace(1, 10, 4), rng)
        u_direction = rng.standard_normal(4)
        energy = rng.uniform(0.1, 0.9)
        u = u_direction * math.sqrt(energy / (u_direction @ np.linalg.solve(S, u_direction)))
        w = rng.standard_normal(4)
        rays = {name: Halfspace(S, u, name).ray(w) for name in LOSSES}
        slope, spread = rays["logistic"].slope, math.sqrt(rays["logistic"].spread_sq)
        logistic = np.array([rays["logistic"].derivative(g) for g in grid])
        violations += int(np.sum(np.diff(logistic) <= 0)) + int(not (logistic[0] < 0 < logistic[-1]))
        sigmoid = np.array([rays["sigmoid"].derivative(g) for g in grid])
        violations += int(np.sum(np.sign(sigmoid[grid != 0]) != np.sign(slope)))
        squared = rays["squared_sigmoid"]
        g_star = bisection(squared.derivative, (-1.0, 1.0), 60).root
        limits = min(_probability_positive(slope, spread), 1 - _probability_positive(slope, spread))
        margins.append(limits - squared.value(g_star))
        violations += int(not margins[-1] > 0)  # a NaN margin is a violation too
    return CheckResult(
        "prop-length-existence",
        f"over {directions} random directions and |g| up to 1e6: the logistic length derivative increases through 0, "
        f"the sigmoid's has the sign of u.w every time, and the squared sigmoid's minimum lies "
        f"{min(margins):.2e} or more below both limits; violations: {violations}",
        float(violations), 0.0, violations == 0,
    )


def halfspace_bound(problem, trace: dict) -> tuple[np.ndarray, np.ndarray]:
    r"""The bound of theorem ``thm-halfspace-rate`` at every iterate of a GDNP trace, and its direction part.

    Returns :math:`(\Phi + \Psi|g_t|\|u\|_{S^{-1}})^2(1-\mu/L)^{2t}(\rho_0-\rho^*) + \Psi^2 4^{-T_s-1}(b_t-a_t)^2`
    and the exact direction form :math:`c_1^2(1-\mu/L)^{2t}(\rho_0-\rho^*)`.
    """
    t = np.arange(len(trace["loss"]))
    phi = problem.loss_function
    decay = problem.rate**t * trace["rho_gap"][0]
    c1_bound = phi.first_bound + phi.second_bound * np.abs(trace["length"]) * math.sqrt(-problem.rho_star)
    return c1_bound**2 * decay + trace["length_bound"], trace["c1"] ** 2 * decay


#: Bounds below this are at the rounding level of a squared gradient norm (~1e-32 relative to its
#: terms); comparisons stop there.
BOUND_FLOOR = 1e-24


def _worst_ratio(values: np.ndarray, bound: np.ndarray) -> float:
    """The largest ``values / bound`` where the bound is above :data:`BOUND_FLOOR`."""
    meaningful = bound > BOUND_FLOOR
    return float(np.max(values[meaningful] / bound[meaningful]))


@verifies("thm-halfspace-rate", CHAPTER, "||grad f(w~_t)||^2 <= (Phi + Psi|g_t| ||u||_{S^-1})^2 (1 - mu/L)^(2t) (rho_0 - rho*) + Psi^2 4^(-T_s-1) (b_t - a_t)^2")
def halfspace_rate(seed: int = 0) -> CheckResult:
    """Every iterate's gradient norm against the theorem's bound, on two losses, two kappas, two T_s."""
    rng = rng_from(seed)
    worst, worst_direction, compared = 0.0, 0.0, 0
    for name in FINITE_LENGTH_LOSSES:
        for kappa in (5.0, 50.0):
            for steps in (3, 10):
                problem = random_halfspace(6, kappa, rng.uniform(0.2, 0.8), name, rng)
                result = gdnp(problem, rng.standard_normal(6), iterations=int(6 * kappa), bisection_steps=steps)
                trace = result.trace
                bound, direction_bound = halfspace_bound(problem, trace)
                compared += int(np.sum(bound > BOUND_FLOOR))
                worst = largest(worst, _worst_ratio(trace["grad_norm_sq"], bound))
                # the direction part alone against its exact form c1^2 (1 - mu/L)^(2t) (rho_0 - rho*)
                worst_direction = largest(worst_direction, _worst_ratio(trace["grad_norm_sq_direction"], direction_bound))
    return CheckResult(
        "thm-halfspace-rate",
        f"largest ||grad f(w~_t)||^2 / bound over {compared} iterates (two losses, kappa = 5 and 50, T_s = 3 and 10): "
        f"{worst:.3f}; the direction part against c1^2 (1 - mu/L)^(2t) (rho_0 - rho*) alone: {worst_direction:.4f}",
        worst, 1.0, worst <= 1.0 and worst_direction <= 1.0 + 1e-7,
    )
