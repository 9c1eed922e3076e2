r"""Checks of chapter 2, least squares and the generalised Rayleigh quotient."""

from __future__ import annotations

import math

import numpy as np

from .. import decoupling
from ..instances import random_least_squares, rng_from, worst_case_instance
from ..solvers import gd, gdnp
from . import CheckResult, largest, smallest, verifies

CHAPTER = "02-least-squares"

#: One-step ratios are measured while the gap exceeds ``GAP_FLOOR * |rho*|``. A gap is computed
#: from a residual vector whose entries carry absolute rounding errors of about
#: ``kappa * eps * ||u||``, so its relative error is about ``kappa * eps * sqrt(|rho*| / gap)``:
#: above the floor and for kappa <= e^4 that is at most 55 * 2.2e-16 * 1e6 = 1.2e-8 per gap.
GAP_FLOOR = 1e-12
#: The rounding allowance on a ratio of two gaps above the floor (twice 1.2e-8, rounded up).
ROUNDING_ALLOWANCE = 1e-7


def _random_instances(rng, count, max_log_kappa=4.0, max_dim=30):
    """Random least-squares problems with d in [2, max_dim], kappa log-uniform in [1.5, e^max_log_kappa]."""
    for _ in range(count):
        dim = int(rng.integers(2, max_dim + 1))
        kappa = float(np.exp(rng.uniform(np.log(1.5), max_log_kappa)))
        yield random_least_squares(dim, kappa, seed=rng), rng.standard_normal(dim)


def _iterations_for(problem, reduction=1e-16) -> int:
    """Iterations after which the bound (1 - mu/L)^{2T} falls below ``reduction``."""
    return int(math.ceil(math.log(reduction) / math.log(problem.rate))) + 1


def _one_step_ratios(gaps: np.ndarray, floor: float) -> np.ndarray:
    keep = gaps[:-1] > floor
    return gaps[1:][keep] / gaps[:-1][keep]


@verifies("lem-ls-length", CHAPTER, "g*(w) = -u.w/||w||_S minimises f(w, g), and f(w, g*(w)) = rho(w)")
def ls_optimal_length(seed: int = 0, instances: int = 20) -> CheckResult:
    rng = rng_from(seed)
    worst_value, never_beaten = 0.0, True
    for problem, w in _random_instances(rng, instances):
        g_star = -(problem.u @ w) / decoupling.s_norm(w, problem.S)
        best = problem.loss(decoupling.to_w_tilde(g_star, w, problem.S))
        worst_value = largest(worst_value, abs(best - problem.rho(w)) / abs(problem.rho_star))
        for delta in (1e-4, 1e-2, 1.0):  # f(w, g* + delta) - f(w, g*) = delta^2 > 0
            for g in (g_star - delta, g_star + delta):
                never_beaten &= problem.loss(decoupling.to_w_tilde(g, w, problem.S)) > best
    tolerance = 1e-12
    return CheckResult(
        "lem-ls-length",
        f"largest |f(w, g*(w)) - rho(w)| / |rho*| over {instances} instances: {worst_value:.1e}; "
        "no nearby length did better",
        worst_value, tolerance, worst_value <= tolerance and never_beaten,
    )


@verifies("lem-rayleigh-min", CHAPTER, "rho* = -u.S^-1.u is the minimum of rho, on the line of S^-1 u")
def rayleigh_minimum(seed: int = 0, instances: int = 20, samples: int = 200) -> CheckResult:
    rng = rng_from(seed)
    worst_violation, worst_identity = 0.0, 0.0
    for problem, _ in _random_instances(rng, instances):
        scale = abs(problem.rho_star)
        optimum = problem.S_inv @ problem.u
        worst_identity = largest(worst_identity, abs(problem.rho(optimum) - problem.rho_star) / scale)
        for w in rng.standard_normal((samples, problem.dim)):
            direct = problem.rho(w) - problem.rho_star
            worst_violation = largest(worst_violation, -direct / scale)  # rho(w) >= rho* up to rounding
            # the gap in residual form equals f(w, g*(w)) - f* and rho(w) - rho*
            w_tilde = decoupling.to_w_tilde(-(problem.u @ w) / decoupling.s_norm(w, problem.S), w, problem.S)
            worst_identity = largest(worst_identity, abs(problem.rho_gap(w) - direct) / scale,
                                 abs(problem.loss_gap(w_tilde) - direct) / scale)
    worst = largest(worst_violation, worst_identity)
    tolerance = 1e-12
    return CheckResult(
        "lem-rayleigh-min",
        f"over {instances * samples} random directions: rho(w) >= rho* (worst violation "
        f"{worst_violation:.1e} |rho*|), rho(S^-1 u) = rho* and the gap identities to {worst_identity:.1e} |rho*|",
        worst, tolerance, worst <= tolerance,
    )


@verifies("lem-rayleigh-grad", CHAPTER, "the gradient of rho; it equals grad_w f(w, g*(w)) and is orthogonal to w")
def rayleigh_gradient(seed: int = 0, instances: int = 10, h: float = 1e-6) -> CheckResult:
    rng = rng_from(seed)
    worst_fd, worst_identity, worst_angle = 0.0, 0.0, 0.0
    for problem, w in _random_instances(rng, instances, max_dim=12):
        grad = problem.rho_grad(w)
        scale = h * np.linalg.norm(w)
        fd = np.array([(problem.rho(w + scale * e) - problem.rho(w - scale * e)) / (2 * scale) for e in np.eye(problem.dim)])
        reference = max(np.linalg.norm(grad), abs(problem.rho_star) / np.linalg.norm(w))
        worst_fd = largest(worst_fd, np.linalg.norm(fd - grad) / reference)
        g_star = -(problem.u @ w) / decoupling.s_norm(w, problem.S)
        w_tilde = decoupling.to_w_tilde(g_star, w, problem.S)
        _, grad_w = decoupling.split_gradient(problem.grad(w_tilde), g_star, w, problem.S)
        worst_identity = largest(worst_identity, np.linalg.norm(grad_w - grad) / reference)
        worst_angle = largest(worst_angle, abs(w @ grad) / (np.linalg.norm(w) * reference))
    tolerance_fd, tolerance_exact = 1e-7, 1e-12
    return CheckResult(
        "lem-rayleigh-grad",
        f"gradient formula against finite differences: {worst_fd:.1e}; |grad_w f(w, g*) - grad rho| "
        f"{worst_identity:.1e}; |w.grad rho| {worst_angle:.1e} (relative)",
        worst_fd, tolerance_fd,
        worst_fd <= tolerance_fd and worst_identity <= tolerance_exact and worst_angle <= tolerance_exact,
    )


@verifies("thm-ls-rate", CHAPTER, "rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*) for GDNP")
def ls_rate(seed: int = 0, instances: int = 100, solver=gdnp) -> CheckResult:
    r"""Measure every one-step ratio :math:`(\rho_{t+1}-\rho^*)/(\rho_t-\rho^*)` against :math:`(1-\mu/L)^2`.

    Three conditions: on random instances no ratio exceeds the bound; on the worst-case starts
    of :func:`lib.instances.worst_case_instance` the first ratio comes within 1e-4 of it
    (the bound is tight); and every run ends within relative S-distance 1e-7 of the minimiser.
    ``solver`` is the direction solver under test (the tests pass a broken one to see the
    check fail).
    """
    rng = rng_from(seed)
    worst, furthest = 0.0, 0.0
    for problem, w0 in _random_instances(rng, instances):
        result = solver(problem, w0, iterations=_iterations_for(problem))
        gaps = result.trace["rho_gap"]
        ratios = _one_step_ratios(gaps, GAP_FLOOR * abs(problem.rho_star))
        worst = largest(worst, np.max(ratios) / problem.rate)
        target = problem.minimizer()
        error = result.w_tilde - target
        furthest = largest(furthest, np.sqrt(error @ problem.S @ error / (target @ problem.S @ target)))
    tightest = 1.0
    for kappa in (2.0, 10.0, 100.0, 1000.0):
        problem, w0 = worst_case_instance(8, kappa, angle=1e-3, seed=rng)
        gaps = solver(problem, w0, iterations=1).trace["rho_gap"]
        tightest = smallest(tightest, gaps[1] / gaps[0] / problem.rate)
    passed = worst <= 1.0 + ROUNDING_ALLOWANCE and 1.0 - 1e-4 <= tightest <= 1.0 + ROUNDING_ALLOWANCE and furthest <= 1e-7
    return CheckResult(
        "thm-ls-rate",
        f"worst one-step ratio {worst:.6f} x (1 - mu/L)^2 over {instances} random instances; "
        f"{tightest:.7f} x on the worst-case starts (tight); final distance to the minimiser <= {furthest:.1e}",
        worst, 1.0, passed,
        {"worst-case ratio / bound (kappa = 2 ... 1000)": f"{tightest:.7f}"},
    )


@verifies("prop-ls-gd", CHAPTER, "GD with step 1/(2L) contracts f - f* by (1 - mu/L)^2 per step, tightly")
def gd_rate(seed: int = 0, instances: int = 100) -> CheckResult:
    rng = rng_from(seed)
    worst = 0.0
    for problem, w0 in _random_instances(rng, instances):
        result = gd(problem, w0, iterations=min(_iterations_for(problem), 2000))
        gaps = result.trace["loss_gap"]
        worst = largest(worst, np.max(_one_step_ratios(gaps, GAP_FLOOR * abs(problem.rho_star))) / problem.rate)
    # tight: an error along the slowest eigenvector shrinks by exactly (1 - mu/L) per step
    problem = random_least_squares(8, 50.0, seed=rng)
    slowest = np.linalg.eigh(problem.S)[1][:, 0]
    gaps = gd(problem, problem.minimizer() + 0.1 * slowest, iterations=5).trace["loss_gap"]
    tightest = float(np.min(gaps[1:] / gaps[:-1]) / problem.rate)
    # in exact arithmetic the ratio approaches the bound from below as the error aligns with
    # the slowest eigenvector, so only rounding can push it above
    passed = worst <= 1.0 + ROUNDING_ALLOWANCE and abs(tightest - 1.0) <= 1e-9
    return CheckResult(
        "prop-ls-gd",
        f"worst one-step ratio of f - f* under GD {worst:.6f} x (1 - mu/L)^2 over {instances} "
        f"instances; {tightest:.10f} x along the slowest eigenvector",
        worst, 1.0, passed,
    )
