r"""Checks of chapter 2, least squares and the generalised Rayleigh quotient.

Every reference value is recomputed here from the statements' own constants: :math:`\mu` and
:math:`L` from this module's ``eigvalsh`` of :math:`S`, :math:`\rho^* = -u^\top S^{-1}u` and the
minimiser :math:`-S^{-1}u` from its own solves, the gaps from the iterates in the residual form of
lemma ``lem-rayleigh-min``. The numbers the library reports about itself (``problem.rate``,
``problem.rho_star``, :func:`lib.rayleigh_minimum`, the solvers' trace columns...) are compared
with them, so that a wrong report fails the check too.
"""

from __future__ import annotations

import math

import numpy as np

from ..maths import decoupling, rayleigh
from ..problems.instances import random_least_squares, random_rotation, rng_from, worst_case_instance
from ..problems.least_squares import LeastSquares
from ..maths.rayleigh import compressed_rate
from ..solvers.descent import gd, gdnp
from .registry import CheckResult, largest, smallest, verifies

CHAPTER = "02-least-squares"

#: One-step ratios are measured while the gap exceeds ``GAP_FLOOR * |rho*|``. A gap is computed
#: from a residual vector whose entries carry absolute rounding errors of about
#: ``kappa * eps * ||u||``, so its relative error is about ``kappa * eps * sqrt(|rho*| / gap)``:
#: above the floor and for kappa <= e^4 that is at most 55 * 2.2e-16 * 1e6 = 1.2e-8 per gap.
GAP_FLOOR = 1e-12
#: The rounding allowance on a ratio of two gaps above the floor (twice 1.2e-8, rounded up), and on
#: the relative difference of two computations of one gap (the floor added to the denominator).
ROUNDING_ALLOWANCE = 1e-7
#: A run stops once this module's gap is below ``SETTLED * |rho*|``: f - f* is the squared S-distance
#: to the minimiser and |rho*| its squared S-norm, so the relative distance is then at most
#: sqrt(1e-15) = 3.2e-8. The gap there carries a relative rounding error of about
#: kappa eps sqrt(|rho*| / gap) = 55 * 2.2e-16 * 3.2e7 = 4e-7, so the stop is where it is meant to be.
SETTLED = 1e-15
#: The allowance on mu, L and (1 - mu/L)^2 reported by the library against this module's
#: eigvalsh: eigenvalues of a symmetric d x d matrix carry absolute errors of a few d eps L, so
#: mu/L is known to about d kappa eps = 30 * 1e3 * 2.2e-16 = 7e-12 relative (d <= 30, kappa <= 1e3).
REPORT_ALLOWANCE = 1e-10


class _Reference:
    r"""This module's own constants of a least-squares problem :math:`(S, u)`: :math:`\mu, L, S^{-1}, \rho^*`."""

    def __init__(self, problem):
        self.S, self.u = problem.S, problem.u
        eigenvalues = np.linalg.eigvalsh(self.S)
        self.mu, self.L = float(eigenvalues[0]), float(eigenvalues[-1])
        self.rate = (1.0 - self.mu / self.L) ** 2
        self.S_inv = np.linalg.inv(self.S)
        self.minimizer = -np.linalg.solve(self.S, self.u)
        self.rho_star = -float(self.u @ np.linalg.solve(self.S, self.u))
        self.floor = GAP_FLOOR * abs(self.rho_star)

    def rho(self, W) -> np.ndarray:
        """rho of every row of ``W`` (or of one vector)."""
        W = np.atleast_2d(W)
        return -(W @ self.u) ** 2 / np.einsum("ij,jk,ik->i", W, self.S, W)

    def rho_gap(self, W) -> np.ndarray:
        r"""rho(w) - rho* of every row of ``W``, in the residual form :math:`\|u - \alpha S w\|^2_{S^{-1}}`."""
        W = np.atleast_2d(W)
        SW = W @ self.S
        residual = self.u - ((W @ self.u) / np.einsum("ij,ij->i", W, SW))[:, None] * SW
        return np.einsum("ij,jk,ik->i", residual, self.S_inv, residual)

    def loss_gap(self, W_tilde) -> np.ndarray:
        r"""f(w~) - f* of every row of ``W_tilde``: :math:`\|u + S\tilde w\|^2_{S^{-1}}`."""
        residual = self.u + np.atleast_2d(W_tilde) @ self.S
        return np.einsum("ij,jk,ik->i", residual, self.S_inv, residual)

    def iterations(self, reduction=1e-16) -> int:
        """Iterations after which the bound (1 - mu/L)^{2T} falls below ``reduction``."""
        return int(math.ceil(math.log(reduction) / math.log(self.rate))) + 1

    def report_error(self, problem) -> float:
        """Relative differences of the library's mu, L, rate and rho* from this module's."""
        return largest(abs(problem.mu - self.mu) / self.mu, abs(problem.L - self.L) / self.L,
                       abs(problem.rate - self.rate) / self.rate, abs(problem.rho_star - self.rho_star) / abs(self.rho_star))

    def ratios(self, gaps: np.ndarray) -> np.ndarray:
        """One-step ratios of consecutive gaps, while the gap is above the rounding floor."""
        keep = gaps[:-1] > self.floor
        return gaps[1:][keep] / gaps[:-1][keep]

    def disagreement(self, reported: np.ndarray, gaps: np.ndarray) -> float:
        """Largest relative difference of a reported gap column from these gaps (NaN if lengths differ)."""
        if len(reported) != len(gaps):
            return float("nan")
        return largest(np.abs(reported - gaps) / (gaps + self.floor))


def _random_instances(rng, count, max_log_kappa=4.0, max_dim=30, stratified=False):
    """Random least-squares problems with d in [2, max_dim], kappa log-uniform in [1.5, e^max_log_kappa].

    With ``stratified``, log kappa takes one uniform draw in each of ``count`` equal parts of its
    range, in random order (a Latin hypercube in log kappa): a few instances still cover the whole
    range, its top part included, where iid draws can miss it.
    """
    low = np.log(1.5)
    if stratified:
        log_kappas = low + (max_log_kappa - low) * (rng.permutation(count) + rng.uniform(size=count)) / count
    for i in range(count):
        dim = int(rng.integers(2, max_dim + 1))
        kappa = float(np.exp(log_kappas[i] if stratified else rng.uniform(low, max_log_kappa)))
        yield random_least_squares(dim, kappa, seed=rng), rng.standard_normal(dim)


def _recorded(solver, problem, w0, iterations, settled=None):
    """Run ``solver`` and record its iterates: (result, directions w_t, weights w~_t).

    ``settled``, a function of an iterate ``(w~_t, w_t)`` computed by the check, stops the run at
    the first iterate where it returns True (the callback raises StopIteration, which the solvers
    of the library take as "stop here"); ``iterations`` stays the cap.
    """
    directions, weights = [], []

    def record(t, w_tilde, g, w):
        directions.append(np.array(w, dtype=float))
        weights.append(np.array(w_tilde, dtype=float))
        if settled is not None and settled(weights[-1], directions[-1]):
            raise StopIteration

    result = solver(problem, w0, iterations=iterations, callback=record)
    return result, np.array(directions), np.array(weights)


@verifies("lem-ls-length", CHAPTER, "g*(w) = -u.w/||w||_S minimises f(w, g), and f(w, g*(w)) = rho(w)")
def ls_optimal_length(seed: int = 0, instances: int = 20) -> CheckResult:
    r"""The parabola :math:`f(w, g) = (g - g^*)^2 + \rho(w)`, with the library's closed-form length.

    With :math:`\hat m = u^\top w/\|w\|_S` computed here, :math:`f(w, g)` (the library's loss at
    :func:`lib.to_w_tilde`'s weights) must equal :math:`2g\hat m + g^2` for lengths around and far from
    :math:`g^* = -\hat m`, so that :math:`f(w, g) - f(w, g^*) = (g - g^*)^2`: the minimiser is
    :math:`g^*` and no other length (the "only" direction). The library's closed-form length
    (``problem.ray(w).exact_minimizer()``, the one GDNP uses), its :math:`\rho(w)` and its bound
    :math:`\Psi` on :math:`|\partial_g^2 f|` (exactly 2 here) are compared with these values.
    """
    rng = rng_from(seed)
    worst, worst_length, never_beaten = 0.0, 0.0, True
    for problem, w in _random_instances(rng, instances):
        S, u = problem.S, problem.u
        m_hat = float(u @ w) / np.sqrt(w @ S @ w)
        g_star = -m_hat
        f = lambda g: problem.loss(decoupling.to_w_tilde(g, w, S))
        best = f(g_star)
        worst = largest(worst, abs(best + m_hat * m_hat) / (m_hat * m_hat))  # the minimum value -(u.w)^2/||w||_S^2
        # the values compared are of size m-hat^2 + g^2: the scale of their rounding
        for delta in (1e-3, 0.5, 3.0):
            for g in (g_star - delta * max(abs(g_star), 1.0), g_star + delta * max(abs(g_star), 1.0)):
                scale = m_hat * m_hat + g * g
                worst = largest(worst, abs(f(g) - (2 * g * m_hat + g * g)) / scale,
                                abs((f(g) - best) - (g - g_star) ** 2) / scale)
                never_beaten &= f(g) > best
        worst_length = largest(worst_length, abs(problem.ray(w).exact_minimizer() - g_star) / max(abs(g_star), 1.0),
                               abs(problem.rho(w) + m_hat * m_hat) / (m_hat * m_hat))
    curvature_error = abs(problem.length_curvature_bound - 2.0) / 2.0  # d^2 f/dg^2 = 2 exactly
    figure = largest(worst, worst_length)
    # f is 2 u.w~ + w~.S.w~, sums of at most 2 * 30^2 products: relative rounding a few 1e-14 of
    # m-hat^2 + g^2 (the size of its terms); the closed forms are a quotient of two such sums
    tolerance = 1e-12
    return CheckResult(
        "lem-ls-length",
        f"largest |f(w, g) - (2 g m-hat + g^2)| and |f(w, g) - f(w, g*) - (g - g*)^2| relative to m-hat^2 + g^2 over "
        f"{instances} instances and lengths g* +- [1e-3, 3] max(|g*|, 1): {worst:.1e}; the library's g*(w) and rho(w) "
        f"agree to {worst_length:.1e}; no other length did as well",
        figure, tolerance, figure <= tolerance and never_beaten and curvature_error <= tolerance,
        {"library's bound on |d^2 f/dg^2| (must be 2)": f"{problem.length_curvature_bound:g}"},
    )


@verifies("lem-rayleigh-min", CHAPTER, "rho* = -u.S^-1.u is the minimum of rho, on the line of S^-1 u")
def rayleigh_minimum(seed: int = 0, instances: int = 20, samples: int = 200) -> CheckResult:
    r"""rho* from this module's solve, attained exactly on the line of :math:`S^{-1}u`, and the gap identities.

    Four conditions, each against values computed here:

    * the library's :math:`\rho^*` (:func:`lib.rayleigh_minimum`, ``problem.rho_star``,
      ``problem.minimum()``, and :math:`f` at ``problem.minimizer()``) is :math:`-u^\top S^{-1}u`;
    * :math:`\rho(w) \ge \rho^*` on random directions, and the library's gaps (:func:`lib.rayleigh_gap`,
      ``problem.rho_gap``, ``problem.loss_gap`` at the optimal length, ``problem.dual_norm_sq`` of the
      residual) equal :math:`\rho(w) - \rho^*`;
    * equality on the line: :math:`\rho(c S^{-1}u) = \rho^*` for positive and negative :math:`c`, and
      ``problem.optimal_direction()`` lies on that line;
    * only there: a direction at S-angle :math:`\theta` from the line, built here in whitened
      coordinates, has gap :math:`|\rho^*|\sin^2\theta > 0`, also for :math:`\theta = 10^{-5}`,
      where the gap is :math:`10^{-10}|\rho^*|` (the residual form keeps its relative accuracy).
    """
    rng = rng_from(seed)
    worst_violation, worst_identity, worst_report, worst_line, worst_angle = 0.0, 0.0, 0.0, 0.0, 0.0
    for problem, _ in _random_instances(rng, instances):
        reference = _Reference(problem)
        S, u, scale = problem.S, problem.u, abs(reference.rho_star)
        minimizer = problem.minimizer()
        worst_report = largest(worst_report, abs(rayleigh.rayleigh_minimum(S, u) - reference.rho_star) / scale,
                               abs(problem.rho_star - reference.rho_star) / scale,
                               abs(problem.minimum() - reference.rho_star) / scale,
                               abs(problem.loss(minimizer) - reference.rho_star) / scale,
                               np.linalg.norm(minimizer - reference.minimizer) / np.linalg.norm(reference.minimizer))
        # rho >= rho*, and the library's gaps against rho - rho* (own rho, own rho*)
        W = rng.standard_normal((samples, problem.dim))
        direct = reference.rho(W) - reference.rho_star
        worst_violation = largest(worst_violation, -direct / scale)  # rho(w) >= rho* up to rounding
        for w, gap in zip(W, direct):
            w_tilde = -(u @ w) / (w @ S @ w) * w  # g*(w) w/||w||_S
            worst_identity = largest(worst_identity, abs(problem.rho(w) - reference.rho_star - gap) / scale,
                                     abs(problem.rho_gap(w) - gap) / scale, abs(problem.loss_gap(w_tilde) - gap) / scale)
        residual = u - (u @ W[0]) / (W[0] @ S @ W[0]) * (S @ W[0])  # the gap is its S^-1 norm squared
        worst_identity = largest(worst_identity, abs(problem.dual_norm_sq(residual) - direct[0]) / scale)
        worst_identity = largest(worst_identity, abs(rayleigh.rayleigh_gap(W[0], S, u) - direct[0]) / scale,
                                 abs(rayleigh.rayleigh_quotient(W[0], S, u) - reference.rho_star - direct[0]) / scale)
        # equality on the line of S^-1 u, on both of its rays
        on_line = -reference.minimizer
        for c in (1e-3, 1.0, -2.5, 1e3):
            worst_line = largest(worst_line, abs(problem.rho(c * on_line) - reference.rho_star) / scale,
                                 problem.rho_gap(c * on_line) / scale)
        worst_line = largest(worst_line, reference.rho_gap(problem.optimal_direction())[0] / scale,
                             abs(rayleigh.rayleigh_gap(on_line, S, u)) / scale)
        # only on the line: a direction at S-angle theta has gap |rho*| sin^2(theta) > 0
        eigenvalues, vectors = np.linalg.eigh(S)
        inverse_root = (vectors / np.sqrt(eigenvalues)) @ vectors.T  # S^-1/2
        a = inverse_root @ u
        a_hat = a / np.linalg.norm(a)
        p = rng.standard_normal(problem.dim)
        p -= (p @ a_hat) * a_hat
        p /= np.linalg.norm(p)
        for theta in (1e-5, 1e-2, 0.5, 1.3):
            w = inverse_root @ (np.cos(theta) * a_hat + np.sin(theta) * p)
            expected = scale * np.sin(theta) ** 2
            worst_angle = largest(worst_angle, abs(problem.rho_gap(w) - expected) / expected,
                                  abs(reference.rho_gap(w)[0] - expected) / expected)
    # rho, rho* and the residual forms are sums of at most 30^2 products, with S of condition
    # number <= e^4 = 55: a few kappa eps = 1e-14 relative to |rho*|
    tolerance = 1e-12
    # at angle theta the computed gap has relative error ~ kappa eps / theta (residual form) plus
    # the angle error of the construction, ~ sqrt(kappa) d eps / theta: at theta = 1e-5 about
    # 55 * 2.2e-16 / 1e-5 + 7.4 * 30 * 2.2e-16 / 1e-5 = 6e-9; 1e-6 leaves a margin above 100
    tolerance_angle = 1e-6
    worst = largest(worst_violation, worst_identity, worst_report, worst_line)
    return CheckResult(
        "lem-rayleigh-min",
        f"over {instances * samples} random directions: rho(w) >= rho* (worst violation {worst_violation:.1e} |rho*|) "
        f"and the gap identities to {worst_identity:.1e} |rho*|; the library's rho* is -u.S^-1.u to {worst_report:.1e}; "
        f"rho = rho* on the line of S^-1 u to {worst_line:.1e} |rho*|, and off it, at S-angles 1e-5 to 1.3, "
        f"rho - rho* = |rho*| sin^2(angle) to {worst_angle:.1e} relative",
        worst, tolerance, worst <= tolerance and worst_angle <= tolerance_angle,
        {"gap at S-angle theta against |rho*| sin^2(theta), relative (tolerance 1e-6)": f"{worst_angle:.1e}"},
    )


@verifies("lem-rayleigh-grad", CHAPTER, "the gradient of rho; it equals grad_w f(w, g*(w)) and is orthogonal to w")
def rayleigh_gradient(seed: int = 0, instances: int = 10, h: float = 1e-6) -> CheckResult:
    r"""The library's :math:`\nabla\rho` against central differences of :math:`\rho` (computed here), and the two identities."""
    rng = rng_from(seed)
    worst_fd, worst_identity, worst_angle = 0.0, 0.0, 0.0
    for problem, w in _random_instances(rng, instances, max_dim=12):
        reference = _Reference(problem)
        grad = problem.rho_grad(w)
        scale = h * np.linalg.norm(w)
        fd = (reference.rho(w + scale * np.eye(problem.dim)) - reference.rho(w - scale * np.eye(problem.dim))) / (2 * scale)
        size = max(np.linalg.norm(grad), abs(reference.rho_star) / np.linalg.norm(w))
        worst_fd = largest(worst_fd, np.linalg.norm(fd - grad) / size)
        g_star = -(problem.u @ w) / np.sqrt(w @ problem.S @ w)
        w_tilde = g_star * w / np.sqrt(w @ problem.S @ w)
        _, grad_w = decoupling.split_gradient(2 * (problem.u + problem.S @ w_tilde), g_star, w, problem.S)
        worst_identity = largest(worst_identity, np.linalg.norm(grad_w - grad) / size,
                                 np.linalg.norm(rayleigh.rayleigh_gradient(w, problem.S, problem.u) - grad) / size)
        worst_angle = largest(worst_angle, abs(w @ grad) / (np.linalg.norm(w) * size))
    # central differences with relative step h = 1e-6: truncation ~ h^2 and rounding ~ eps / h =
    # 2e-10 relative to the gradient's scale, so 1e-7 leaves a margin of 500 (measured: ~1e-10); the
    # identities are sums of d <= 12 products, exact up to a few 1e-15
    tolerance_fd, tolerance_exact = 1e-7, 1e-12
    return CheckResult(
        "lem-rayleigh-grad",
        f"gradient formula against finite differences: {worst_fd:.1e}; |grad_w f(w, g*) - grad rho| "
        f"{worst_identity:.1e}; |w.grad rho| {worst_angle:.1e} (relative)",
        worst_fd, tolerance_fd,
        worst_fd <= tolerance_fd and worst_identity <= tolerance_exact and worst_angle <= tolerance_exact,
    )


@verifies("thm-ls-rate", CHAPTER, "rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*) for GDNP")
def ls_rate(seed: int = 0, instances: int = 30, solver=gdnp) -> CheckResult:
    r"""Measure every one-step ratio :math:`(\rho_{t+1}-\rho^*)/(\rho_t-\rho^*)` against :math:`(1-\mu/L)^2`.

    The bound comes from this module's ``eigvalsh`` of :math:`S`, the gaps from the iterates the
    solver passes to its ``callback``, in the residual form. Four conditions: on random instances
    no ratio exceeds the bound; on the worst-case starts of :func:`lib.problems.instances.worst_case_instance`
    the first ratio comes within 1e-4 of it (the bound is tight, so a constant too large fails);
    every run ends within relative S-distance 1e-7 of the minimiser :math:`-S^{-1}u` and
    :math:`f(\tilde w_t) - f^* = \rho(w_t) - \rho^*` at every iterate (the theorem's statement
    about :math:`f`, with the closed-form length); and what the library reports (its trace's
    ``rho_gap`` and ``loss_gap``, ``problem.mu``, ``problem.L``, ``problem.rate``) agrees with
    these values. ``solver`` is the direction solver under test, called as
    ``solver(problem, w0, iterations=..., callback=...)``, whose callback may raise StopIteration to
    end the run (the tests pass a broken solver to see the check fail).

    The random instances cover :math:`\kappa \in [1.5, e^4]` stratified in :math:`\log\kappa`, and
    each run stops once this module's gap is below :data:`SETTLED` :math:`|\rho^*|` (at the latest
    after the iterations the bound needs to shrink the gap by 1e-16): the ratios are measured only
    above :data:`GAP_FLOOR` anyway, and the final distance to the minimiser is then at most
    :math:`\sqrt{10^{-15}} = 3.2\cdot 10^{-8}` relative, below the 1e-7 the check requires.
    """
    rng = rng_from(seed)
    worst, furthest, worst_report, worst_constants = 0.0, 0.0, 0.0, 0.0
    for problem, w0 in _random_instances(rng, instances, stratified=True):
        reference = _Reference(problem)
        worst_constants = largest(worst_constants, reference.report_error(problem))
        finished = lambda w_tilde, w: reference.rho_gap(w)[0] <= SETTLED * abs(reference.rho_star)
        result, directions, weights = _recorded(solver, problem, w0, reference.iterations(), finished)
        gaps = reference.rho_gap(directions)
        worst = largest(worst, np.max(reference.ratios(gaps)) / reference.rate)
        error = result.w_tilde - reference.minimizer
        furthest = largest(furthest, np.sqrt(error @ problem.S @ error / (reference.minimizer @ problem.S @ reference.minimizer)))
        worst_report = largest(worst_report, reference.disagreement(result.trace["rho_gap"], gaps),
                               reference.disagreement(result.trace["loss_gap"], gaps),
                               reference.disagreement(reference.loss_gap(weights), gaps))
    tightest = 1.0
    for kappa in (2.0, 10.0, 100.0, 1000.0):
        problem, w0 = worst_case_instance(8, kappa, angle=1e-3, seed=rng)
        reference = _Reference(problem)
        gaps = reference.rho_gap(_recorded(solver, problem, w0, 1)[1])
        tightest = smallest(tightest, gaps[1] / gaps[0] / reference.rate)
        worst_constants = largest(worst_constants, reference.report_error(problem))
    passed = (worst <= 1.0 + ROUNDING_ALLOWANCE and 1.0 - 1e-4 <= tightest <= 1.0 + ROUNDING_ALLOWANCE
              and furthest <= 1e-7 and worst_report <= ROUNDING_ALLOWANCE and worst_constants <= REPORT_ALLOWANCE)
    return CheckResult(
        "thm-ls-rate",
        f"worst one-step ratio {worst:.6f} x (1 - mu/L)^2 over {instances} random instances; "
        f"{tightest:.7f} x on the worst-case starts (tight); final distance to the minimiser <= {furthest:.1e}",
        worst, 1.0, passed,
        {"worst-case ratio / bound (kappa = 2 ... 1000)": f"{tightest:.7f}",
         "gaps in the solver's trace, and f - f*, against this check's rho - rho* (relative, tolerance 1e-7)": f"{worst_report:.1e}",
         "library's mu, L, (1 - mu/L)^2, rho* against this check's (relative, tolerance 1e-10)": f"{worst_constants:.1e}"},
    )


def _compressed(reference):
    r"""This module's compressed map of one problem: ``(lambda_C, its top eigenvector, u_hat, S^-1/2, second)``.

    :math:`\bar u = S^{-1/2}u`, :math:`\hat u = \bar u/\|\bar u\|`, and :math:`C = PMP` restricted to
    the hyperplane orthogonal to :math:`\hat u`, in an orthonormal basis of it (the last ``d - 1``
    columns of a Householder reflection that maps the first basis vector to :math:`\hat u`), so
    that the eigenvalue 0 of :math:`PMP` along :math:`\hat u` never enters. ``second`` is the second
    largest eigenvalue of :math:`C` on that hyperplane (0 in dimension 2, where it is a line).
    """
    eigenvalues, vectors = np.linalg.eigh(reference.S)
    inverse_root = (vectors / np.sqrt(eigenvalues)) @ vectors.T
    u_hat = inverse_root @ reference.u
    u_hat /= np.linalg.norm(u_hat)
    reflector = u_hat - np.eye(len(u_hat))[0]
    basis = np.eye(len(u_hat))
    if np.linalg.norm(reflector) > 0:
        reflector /= np.linalg.norm(reflector)
        basis = basis - 2.0 * np.outer(reflector, reflector)
    across = basis[:, 1:]  # orthonormal, orthogonal to u_hat
    step_map = np.eye(len(u_hat)) - reference.S / reference.L
    values, directions = np.linalg.eigh(across.T @ step_map @ across)
    second = float(values[-2]) if len(values) > 1 else 0.0
    return float(values[-1]), across @ directions[:, -1], u_hat, inverse_root, second


def _top_cosine(direction, u_hat, inverse_root, w) -> float:
    r""":math:`|\cos|` of the angle between the error :math:`P S^{1/2}w` of ``w`` and ``direction``, C's top eigenvector."""
    whitened = np.linalg.solve(inverse_root, w)  # S^1/2 w
    error = whitened - (u_hat @ whitened) * u_hat
    return float(abs(direction @ error) / np.linalg.norm(error))


def _tangents(reference, gaps) -> np.ndarray:
    r""":math:`\tan\vartheta = \sqrt{(\rho - \rho^*)/|\rho|}`, with :math:`|\rho| = |\rho^*| - (\rho - \rho^*)`."""
    return np.sqrt(gaps / (abs(reference.rho_star) - gaps))


@verifies("prop-ls-compressed", CHAPTER,
          "near the optimum GDNP's one-step ratio is at most lambda_C^2, from the compressed map P M P, below "
          "(1 - mu/L)^2 unless u is orthogonal to an eigenvector of S for mu")
def ls_compressed_rate(seed: int = 0, instances: int = 20, angle: float = 1e-5, solver=gdnp) -> CheckResult:
    r"""The three parts of the proposition, with :math:`\lambda_C` from this module's ``eigh``.

    1. On random instances :math:`\lambda_C < 1 - \mu/L` by more than rounding (their :math:`u` has a
       component along the slowest eigenvector), and :math:`\lambda_C = 1 - \mu/L` on instances built
       here with :math:`u` orthogonal to a simple slowest eigenvector, or with :math:`\mu` double: both
       directions of "exactly when". :func:`lib.compressed_rate` is compared with :math:`\lambda_C^2`.
    2. Along ``solver``'s run from a random start, every step with :math:`\tan\vartheta_t < 1` and both
       gaps above the rounding floor satisfies :math:`\tan\vartheta_{t+1} \le \tan\vartheta_t(\lambda_C +
       \tan\vartheta_t)/(1 - \tan\vartheta_t)`.
    3. Sharpness: started at S-angle ``angle`` from the optimum along the top eigenvector of
       :math:`C`, one step gives :math:`\tan\vartheta_1/\tan\vartheta_0` between
       :math:`(\lambda_C - \delta)/(1 + \delta + \delta^2)` and :math:`(\lambda_C + \delta)/(1 - \delta)`,
       :math:`\delta = \tan\vartheta_0` (the proof's remainder bounds, both ways), so a
       :math:`\lambda_C` too large or too small, or a solver that does not follow :math:`C`, fails.

    The ratio GDNP reaches at the end of each random run, over :math:`\lambda_C^2`, is reported, and
    for the runs that end below :math:`0.99\lambda_C^2` how far their error is then from :math:`C`'s top
    eigenvector (the cosine of the angle) and how close :math:`C`'s second eigenvalue is to :math:`\lambda_C`:
    a run stops at the rounding floor, which can come before the error has turned to that eigenvector.
    """
    rng = rng_from(seed)
    worst_step, worst_sharp, worst_report, smallest_margin = 0.0, 0.0, 0.0, 1.0
    settled, unturned = [], []  # last ratio / lambda_C^2; (cosine, second / lambda_C) of the runs ending below 0.99
    for problem, w0 in _random_instances(rng, instances):
        reference = _Reference(problem)
        top, direction, u_hat, inverse_root, second = _compressed(reference)
        bound = 1.0 - reference.mu / reference.L
        smallest_margin = smallest(smallest_margin, (bound - top) / bound)
        worst_report = largest(worst_report, abs(compressed_rate(problem.S, problem.u) - top**2) / bound**2)
        # part 2 along a run from a random start, until the gap is below the rounding floor (no step
        # after that has both gaps above it)
        finished = lambda w_tilde, w: reference.rho_gap(w)[0] <= reference.floor
        directions = _recorded(solver, problem, w0, reference.iterations(), finished)[1]
        gaps = reference.rho_gap(directions)
        # both gaps above the rounding floor, and tan(angle_t) < 1, that is rho - rho* < |rho*| / 2
        keep = (gaps[:-1] > reference.floor) & (gaps[1:] > reference.floor) & (gaps[:-1] < 0.5 * abs(reference.rho_star))
        tangents = _tangents(reference, np.maximum(gaps, 0.0))
        now, after = tangents[:-1][keep], tangents[1:][keep]
        if now.size:
            worst_step = largest(worst_step, np.max(after / (now * (top + now) / (1.0 - now))))
        ratios = reference.ratios(gaps)
        if ratios.size and top > 0:
            settled.append(ratios[-1] / top**2)
            if settled[-1] < 0.99:
                # the error where the last ratio starts (tan(angle) >= 1e-6 above the floor, S^1/2 w rounded
                # to ~1e-13 relative: the cosine to ~1e-7, enough for a report)
                last = np.flatnonzero(gaps[:-1] > reference.floor)[-1]
                unturned.append((_top_cosine(direction, u_hat, inverse_root, directions[last]), second / top))
        # part 3: one step from angle `angle` along the top eigenvector of C
        start = inverse_root @ (np.cos(angle) * u_hat + np.sin(angle) * direction)
        first = _tangents(reference, reference.rho_gap(_recorded(solver, problem, start, 1)[1]))
        delta, measured = first[0], first[1] / first[0]
        low, high = (top - delta) / (1.0 + delta + delta**2), (top + delta) / (1.0 - delta)
        # the distance outside [low, high], relative to the width of the interval
        worst_sharp = largest(worst_sharp, max(low - measured, measured - high, 0.0) / (high - low))
    # part 1, the equality cases: u orthogonal to a simple slowest eigenvector, and a double mu
    equality = 0.0
    for spectrum, orthogonal in ((np.geomspace(1.0, 20.0, 6), True), (np.array([1.0, 1.0, 3.0, 8.0, 20.0]), False)):
        rotation = random_rotation(len(spectrum), rng)
        S = (rotation * spectrum) @ rotation.T
        S = 0.5 * (S + S.T)
        u = rng.standard_normal(len(spectrum))
        if orthogonal:
            u -= (u @ rotation[:, 0]) * rotation[:, 0]
        equal_case = _Reference(LeastSquares(S, u))
        top = _compressed(equal_case)[0]
        bound = 1.0 - equal_case.mu / equal_case.L
        equality = largest(equality, abs(top - bound) / bound,
                           abs(compressed_rate(S, u) - bound**2) / bound**2)
    # Tolerances. Eigenvalues of symmetric matrices of size <= 30 with entries of size <= 1 carry
    # absolute errors of a few d eps = 1e-14, and so does S^-1/2 u relative to its norm for kappa <= e^4:
    # lambda_C and its report agree to 1e-12 (REPORT_ALLOWANCE is for quantities through kappa). The
    # random instances' margins grow with u's component along the slowest eigenvector and with the gap
    # between the two smallest eigenvalues of S (1.4e-5 at least on the book's seed, printed), so 1e-9
    # separates "strictly below" from rounding. A tangent is the square root of a gap above the floor,
    # with relative error at most 1.2e-8 / 2, and ROUNDING_ALLOWANCE covers a ratio of two. In part 3
    # the gap at angle 1e-5 carries a relative error of about kappa eps / angle = 1.2e-9, and the
    # construction an angle error of sqrt(kappa) d eps / angle = 5e-9 (lem-rayleigh-min's check): the
    # measured ratio of tangents is off by at most about 1e-8 lambda_C, while the interval [low, high]
    # has the width 2 delta (1 + lambda_C) >= 2e-5: 1e-3 of that width is allowed outside it.
    passed = (worst_step <= 1.0 + ROUNDING_ALLOWANCE and worst_sharp <= 1e-3 and smallest_margin > 1e-9
              and worst_report <= 1e-12 and equality <= 1e-12)
    if unturned:
        cosines, seconds = zip(*unturned)
        early = (f"{len(unturned)} of {len(settled)}; there the error's cosine with C's top eigenvector is "
                 f"{smallest(cosines):.2f} to {largest(cosines):.2f}, and C's second eigenvalue "
                 f"{smallest(seconds):.2f} to {largest(seconds):.2f} of lambda_C")
    else:
        early = f"none of {len(settled)}"
    return CheckResult(
        "prop-ls-compressed",
        f"over {instances} random instances: every step has tan(angle') / (tan(angle) (lambda_C + tan(angle)) / "
        f"(1 - tan(angle))) <= {worst_step:.6f}; lambda_C is below 1 - mu/L by at least {smallest_margin:.1e} "
        f"(relative), and equal to it to {equality:.1e} where u is orthogonal to a slowest eigenvector or mu is "
        f"double; from the top eigenvector of C, one step stays within the proof's bounds (outside by "
        f"{worst_sharp:.1e} of their width)",
        worst_step, 1.0, passed,
        {"last one-step ratio of each run / lambda_C^2": f"{smallest(settled):.4f} to {largest(settled):.4f}",
         "runs that reach the rounding floor below 0.99 lambda_C^2": early,
         "lib.compressed_rate against this check's lambda_C^2 (relative, tolerance 1e-12)": f"{worst_report:.1e}"},
    )


@verifies("prop-ls-gd", CHAPTER, "GD with step 1/(2L) contracts f - f* by (1 - mu/L)^2 per step, tightly")
def gd_rate(seed: int = 0, instances: int = 30) -> CheckResult:
    r"""One-step ratios of :math:`f - f^*` under :func:`lib.gd` (default step) against :math:`(1-\mu/L)^2`.

    The bound comes from this module's ``eigvalsh``, the gaps from the iterates GD passes to its
    ``callback``. Equality: started at :math:`\tilde w^* + e_i`, :math:`e_i` an eigenvector of
    :math:`S` for :math:`\lambda_i`, one step shrinks the gap by exactly :math:`(1 - \lambda_i/L)^2`,
    which is the bound for :math:`\lambda_i = \mu` and strictly below it for every other eigenvalue
    (this also pins the step to :math:`1/(2L)`). The library's trace ``loss_gap``, its
    ``smoothness`` :math:`2L` and ``minimizer()`` are compared with values computed here.

    The random instances cover :math:`\kappa \in [1.5, e^4]` stratified in :math:`\log\kappa`; each
    run stops at the first iterate whose gap (computed here) is below :data:`GAP_FLOOR`
    :math:`|\rho^*|`, the last one a ratio is measured to. GD's one-step ratios increase along a
    run (they are ratios of consecutive terms of a log-convex sequence), so that iterate is where
    they come closest to the bound.
    """
    rng = rng_from(seed)
    worst, worst_report, worst_constants = 0.0, 0.0, 0.0
    for problem, w0 in _random_instances(rng, instances, stratified=True):
        reference = _Reference(problem)
        finished = lambda w_tilde, w: reference.loss_gap(w_tilde)[0] <= reference.floor
        result, _, weights = _recorded(gd, problem, w0, min(reference.iterations(), 2000), finished)
        gaps = reference.loss_gap(weights)
        worst = largest(worst, np.max(reference.ratios(gaps)) / reference.rate)
        worst_report = largest(worst_report, reference.disagreement(result.trace["loss_gap"], gaps))
        worst_constants = largest(worst_constants, abs(problem.smoothness - 2 * reference.L) / (2 * reference.L))
    # equality along the slowest eigenvector, (1 - lambda_i/L)^2 along the others
    problem = random_least_squares(8, 50.0, seed=rng)
    reference = _Reference(problem)
    eigenvalues, vectors = np.linalg.eigh(problem.S)
    # two solves with S of condition number 50: relative difference a few kappa eps = 1e-14
    worst_constants = largest(worst_constants, np.linalg.norm(problem.minimizer() - reference.minimizer) / np.linalg.norm(reference.minimizer))
    eigen_error, tightest = 0.0, 0.0
    for i, (eigenvalue, vector) in enumerate(zip(eigenvalues, vectors.T)):
        gaps = reference.loss_gap(_recorded(gd, problem, reference.minimizer + 0.1 * vector, 1)[2])
        eigen_error = largest(eigen_error, abs(gaps[1] / gaps[0] - (1 - eigenvalue / reference.L) ** 2))
        if i == 0:
            tightest = gaps[1] / gaps[0] / reference.rate
    # the start and its step carry absolute errors delta ~ kappa eps |w~*| = 50 * 2.2e-16 * 3 = 3e-14
    # against the start's error e_0 = 0.1 e_i; the ratio ||e_1||_S^2 / ||e_0||_S^2 moves by at most
    # 2 sqrt(L) |delta| / ||e_0||_S <= 20 sqrt(kappa) |delta| = 4e-12 (measured ~1e-14); checked to 1e-9
    passed = (worst <= 1.0 + ROUNDING_ALLOWANCE and eigen_error <= 1e-9 and worst_report <= ROUNDING_ALLOWANCE
              and worst_constants <= REPORT_ALLOWANCE)
    return CheckResult(
        "prop-ls-gd",
        f"worst one-step ratio of f - f* under GD {worst:.6f} x (1 - mu/L)^2 over {instances} "
        f"instances; {tightest:.10f} x along the slowest eigenvector, and (1 - lambda_i/L)^2 along every "
        f"eigenvector to {eigen_error:.1e}",
        worst, 1.0, passed,
        {"loss gaps in GD's trace against this check's (relative, tolerance 1e-7)": f"{worst_report:.1e}",
         "library's smoothness 2L and minimiser against this check's (relative, tolerance 1e-10)": f"{worst_constants:.1e}"},
    )
