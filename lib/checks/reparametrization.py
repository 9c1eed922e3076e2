r"""Checks of chapter 1, Batch Normalization as a reparametrisation.

The lemmas of chapter 1 hold for *any* differentiable objective :math:`F(\tilde w)`. The
checks use a deliberately non-quadratic one, :class:`LogCoshObjective`,

.. math:: F(\tilde w) = \sum_i \log\cosh(a_i^\top\tilde w - b_i) + \tfrac12\|\tilde w\|^2,
   \qquad \nabla F = A^\top\tanh(A\tilde w - b) + \tilde w,

with random :math:`A, b` and a random positive definite :math:`S`, so that nothing is special.
Every reference value (norms, projections, the reparametrised objective) is computed here from
the lemma's formula, never taken from the :mod:`lib.decoupling` function under test.
"""

from __future__ import annotations

import numpy as np

from ..maths import decoupling
from ..problems.instances import random_least_squares, rng_from, spd_with_spectrum
from ..solvers.descent import gd, gdnp
from .registry import CheckResult, largest, verifies

CHAPTER = "01-reparametrization"


def batchnorm_unit(X, w, g: float) -> np.ndarray:
    """:func:`lib.torch_models.batchnorm_unit`, imported at its first call: importing the checks
    does not import torch (about two seconds), only a check that compares with torch's BN does."""
    from ..torch_models import batchnorm_unit as torch_batchnorm_unit

    return torch_batchnorm_unit(X, w, g)


class LogCoshObjective:
    """The smooth non-quadratic test objective F of this module, with its gradient and a random S.

    Chapter 5's check of ``prop-effective-step`` uses it too.
    """

    def __init__(self, rng: np.random.Generator, dim: int):
        self.A = rng.standard_normal((3 * dim, dim))
        self.b = rng.standard_normal(3 * dim)
        self.S = spd_with_spectrum(np.geomspace(0.5, 20.0, dim), rng)

    def F(self, w_tilde):
        z = self.A @ w_tilde - self.b
        return float(np.sum(np.logaddexp(z, -z) - np.log(2.0)) + 0.5 * w_tilde @ w_tilde)

    def grad_F(self, w_tilde):
        return self.A.T @ np.tanh(self.A @ w_tilde - self.b) + w_tilde

    def f(self, w, g):
        """The reparametrised objective f(w, g) = F(g w/||w||_S), with the S-norm computed here."""
        return self.F(g * w / np.sqrt(w @ self.S @ w))

    def grad_at(self, w, g):
        return self.grad_F(g * w / np.sqrt(w @ self.S @ w))


def _random_points(rng, dim, count):
    return [(rng.standard_normal(dim) * np.exp(rng.uniform(-2, 2)), rng.uniform(-3, 3)) for _ in range(count)]


@verifies("lem-bn-reparam", CHAPTER, "BN of a unit with population statistics is x.w~ with w~ = g w/||w||_S")
def bn_reparametrization(seed: int = 0, n: int = 512, dim: int = 6) -> CheckResult:
    r"""torch's ``BatchNorm1d`` on centred data against :math:`X\tilde w`, :math:`S = X^\top X/n`, both ways.

    Forwards, :func:`lib.to_w_tilde` maps :math:`(g, w)` to the :math:`\tilde w` that BN computes.
    Backwards, :func:`lib.from_w_tilde` must split that :math:`\tilde w` into the length
    :math:`|g|` and the direction :math:`\operatorname{sign}(g)\,w/\|w\|_S` of unit S-norm (S-norm
    computed here), a BN unit with that length and direction must compute the same function, and so
    must every point :math:`(|g|, c\,w')`, :math:`c > 0`, of the ray the lemma's map sends to
    :math:`\tilde w`. On uncentred data the identity must fail (BN subtracts a mean that
    :math:`x^\top\tilde w` does not).
    """
    rng = rng_from(seed)
    X = rng.standard_normal((n, dim)) @ rng.standard_normal((dim, dim)) + rng.uniform(-3, 3, dim)
    X_centred = X - X.mean(axis=0)
    S = X_centred.T @ X_centred / n
    worst, worst_inverse, uncentred_gap = 0.0, 0.0, 0.0
    for w, g in _random_points(rng, dim, 20):
        w_tilde = decoupling.to_w_tilde(g, w, S)
        ours = X_centred @ w_tilde
        scale = np.max(np.abs(ours))
        worst = largest(worst, np.max(np.abs(batchnorm_unit(X_centred, w, g) - ours)) / scale)
        # the inverse: length |g| and direction sign(g) w/||w||_S, and BN with them computes the same unit
        length, direction = decoupling.from_w_tilde(w_tilde, S)
        expected = np.sign(g) * w / np.sqrt(w @ S @ w)
        worst_inverse = largest(worst_inverse, abs(length - abs(g)) / abs(g),
                                np.linalg.norm(direction - expected) / np.linalg.norm(expected),
                                np.max(np.abs(batchnorm_unit(X_centred, direction, length) - ours)) / scale)
        for c in (1e-2, 7.0):  # the whole ray (|g|, c w') maps to the same w~
            worst_inverse = largest(worst_inverse,
                                    np.linalg.norm(decoupling.to_w_tilde(length, c * direction, S) - w_tilde)
                                    / np.linalg.norm(w_tilde))
        # without centring the identity fails: BN subtracts the mean, x.w~ does not
        uncentred = X @ decoupling.to_w_tilde(g, w, X.T @ X / n)
        uncentred_gap = largest(uncentred_gap, np.max(np.abs(batchnorm_unit(X, w, g) - uncentred)) / np.max(np.abs(uncentred)))
    # each side is a sum of d = 6 products on data of condition number ~ 1e2 (float64), and torch
    # divides by a variance computed in a different order: differences of a few 1e-15 are rounding
    tolerance = 1e-12
    figure = largest(worst, worst_inverse)
    return CheckResult(
        "lem-bn-reparam",
        f"largest relative difference between torch BatchNorm1d and x.w~ on centred data: {worst:.1e}; "
        f"from_w_tilde returns (|g|, sign(g) w/||w||_S), and BN with them computes the same unit, to {worst_inverse:.1e}",
        figure, tolerance, figure <= tolerance and uncentred_gap > 1e-3,
        {"same difference on uncentred data (must be large)": f"{uncentred_gap:.2g}", "batch": f"n={n}, d={dim}"},
    )


@verifies("lem-scale-invariance", CHAPTER, "f(w, g) does not depend on the scale of w; grad_w f scales like 1/c")
def scale_invariance(seed: int = 0, dim: int = 6) -> CheckResult:
    r"""Check :math:`f(cw, g) = f(w, g)` and :math:`\nabla_w f(cw, g) = \nabla_w f(w, g)/c` for :math:`c > 0`.

    Here :math:`f(w, g) = F(\text{to\_w\_tilde}(g, w, S))` is built with the library's map, and
    :math:`\nabla_w f` is :func:`lib.split_gradient`'s. The lemma needs :math:`c > 0`: with
    :math:`c = -1`, :math:`f(-w, g) = f(w, -g)`, which differs from :math:`f(w, g)` (checked too).
    """
    rng = rng_from(seed)
    objective = LogCoshObjective(rng, dim)
    f = lambda w, g: objective.F(decoupling.to_w_tilde(g, w, objective.S))
    worst, flipped = 0.0, 0.0
    for w, g in _random_points(rng, dim, 20):
        reference = max(abs(f(w, g)), 1.0)
        _, grad_w = decoupling.split_gradient(objective.grad_at(w, g), g, w, objective.S)
        for c in (1e-3, 0.37, 5.0, 1e3):
            value_error = abs(f(c * w, g) - f(w, g)) / reference
            _, grad_cw = decoupling.split_gradient(objective.grad_at(c * w, g), g, c * w, objective.S)
            grad_error = np.linalg.norm(c * grad_cw - grad_w) / max(np.linalg.norm(grad_w), 1e-300)
            worst = largest(worst, value_error, grad_error)
        # c = -1 is outside the lemma: it flips the sign of g instead
        worst = largest(worst, abs(f(-w, g) - f(w, -g)) / reference)
        flipped = largest(flipped, abs(f(-w, g) - f(w, g)) / reference)
    # f is a sum of 18 log-cosh terms of size ~10 and grad_w f a product of d x d matrices: the
    # relative rounding of either is a few 1e-15, also after scaling w by 1e3 (powers of ten are
    # not exact in binary, but ||cw||_S = c ||w||_S holds to a few ulps)
    tolerance = 1e-12
    return CheckResult(
        "lem-scale-invariance",
        f"largest relative change of f and of c * grad_w f under w -> c w, c in [1e-3, 1e3]: {worst:.1e} "
        f"(and f(-w, g) = f(w, -g); w -> -w changes f by up to {flipped:.2g} relative: c > 0 is needed)",
        worst, tolerance, worst <= tolerance and flipped > 1e-3,
    )


@verifies("lem-bn-gradients", CHAPTER, "the gradients of f(w, g) = F(g w/||w||_S) in g and in w")
def bn_gradients(seed: int = 0, dim: int = 6, h: float = 1e-6) -> CheckResult:
    """Compare the formulas of :func:`lib.split_gradient` with central finite differences of f."""
    rng = rng_from(seed)
    objective = LogCoshObjective(rng, dim)
    worst = 0.0
    for w, g in _random_points(rng, dim, 10):
        dg, grad_w = decoupling.split_gradient(objective.grad_at(w, g), g, w, objective.S)
        step = h * max(abs(g), 1.0)
        fd_g = (objective.f(w, g + step) - objective.f(w, g - step)) / (2 * step)
        scale = h * np.linalg.norm(w)
        fd_w = np.array([(objective.f(w + scale * e, g) - objective.f(w - scale * e, g)) / (2 * scale) for e in np.eye(dim)])
        worst = largest(worst, abs(fd_g - dg) / max(abs(dg), 1.0),
                        np.linalg.norm(fd_w - grad_w) / max(np.linalg.norm(grad_w), 1.0 / np.linalg.norm(w)))
    # central differences with relative step h = 1e-6: truncation ~ h^2 |f'''| ~ 1e-12 and rounding
    # ~ eps |f| / h ~ 2.2e-16 * 10 / 1e-6 = 2e-9 relative to the derivative's scale, so 1e-7 leaves a
    # margin of 50 (measured: about 1e-9); a wrong factor or projection gives errors of order 1
    tolerance = 1e-7
    return CheckResult(
        "lem-bn-gradients",
        f"largest relative difference from central finite differences (h = {h:g}): {worst:.1e}",
        worst, tolerance, worst <= tolerance,
    )


@verifies("lem-orthogonal", CHAPTER, "grad_w f is orthogonal to w, so ||w|| grows under gradient descent on w")
def direction_orthogonality(seed: int = 0, dim: int = 6, steps: int = 50, step: float = 0.5) -> CheckResult:
    r"""Check :math:`w^\top\nabla_w f = 0` and :math:`\|w_{t+1}\|^2 = \|w_t\|^2 + \eta^2\|\nabla_w f\|^2` along GD on :math:`w` with the step :math:`\eta` (``step``)."""
    rng = rng_from(seed)
    objective = LogCoshObjective(rng, dim)
    w, g = rng.standard_normal(dim), 1.5
    worst_angle, worst_pythagoras, norms = 0.0, 0.0, [np.linalg.norm(w)]
    for _ in range(steps):
        grad = objective.grad_at(w, g)
        _, grad_w = decoupling.split_gradient(grad, g, w, objective.S)
        # w.grad_w f is a difference of two terms of size ||w|| |g| ||grad F|| / ||w||_S: that
        # is the scale its rounding error has, and the scale it is measured against
        scale = np.linalg.norm(w) * abs(g) * np.linalg.norm(grad) / np.sqrt(w @ objective.S @ w)
        worst_angle = largest(worst_angle, abs(w @ grad_w) / scale)
        w_next = w - step * grad_w
        predicted = w @ w + step**2 * grad_w @ grad_w
        worst_pythagoras = largest(worst_pythagoras, abs(w_next @ w_next - predicted) / predicted)
        w = w_next
        norms.append(np.linalg.norm(w))
    growing = bool(np.all(np.diff(norms) > 0))
    worst = largest(worst_angle, worst_pythagoras)
    # both figures are sums of d = 6 products of numbers of that scale: a few eps = 1e-15 each
    tolerance = 1e-12
    return CheckResult(
        "lem-orthogonal",
        f"largest relative |w.grad_w f| and relative error of ||w'||^2 = ||w||^2 + eta^2 ||grad_w f||^2 "
        f"over {steps} GD steps: {worst:.1e}; ||w|| grew from {norms[0]:.3f} to {norms[-1]:.3f}",
        worst, tolerance, worst <= tolerance and growing,
        {"||w|| increased at every step": growing},
    )


def _solver_split_error(rng) -> float:
    r"""The largest relative error of the solvers' reported norm split, along GD and GDNP on least squares.

    :func:`lib.gd` and :func:`lib.gdnp` record, at every iterate, :math:`\|\nabla F\|^2_{S^{-1}}` and its two
    parts (trace columns ``grad_norm_sq``, ``grad_norm_sq_length``, ``grad_norm_sq_direction``); here
    they are recomputed from the iterates (passed to the solvers' ``callback``) with
    :math:`\nabla F = 2u + 2S\tilde w` and the formulas of lemma ``lem-bn-gradients``. GDNP starts
    from a length ``g0`` that is not optimal, so that its first length part is not zero.
    """
    problem = random_least_squares(6, 20.0, seed=rng)
    S, u, S_inv = problem.S, problem.u, np.linalg.inv(problem.S)
    worst = 0.0
    for solver, options in ((gd, {}), (gdnp, {"g0": 2.5})):
        parts = []

        def record(t, w_tilde, g, w):
            G = 2 * (u + S @ w_tilde)
            norm = np.sqrt(w @ S @ w)
            along = G @ w / norm
            grad_w = (g / norm) * (G - along * (S @ w) / norm)
            parts.append((G @ S_inv @ G, along**2, norm**2 / g**2 * (grad_w @ S_inv @ grad_w)))

        trace = solver(problem, rng.standard_normal(6), iterations=20, callback=record, **options).trace
        recomputed = np.array(parts)
        reported = np.column_stack([trace["grad_norm_sq"], trace["grad_norm_sq_length"], trace["grad_norm_sq_direction"]])
        worst = largest(worst, np.abs(reported - recomputed) / recomputed[:, :1] if reported.shape == recomputed.shape else np.nan)
    return worst


@verifies("lem-norm-split", CHAPTER, "||grad F||^2_{S^-1} = (d_g f)^2 + ||w||_S^2/g^2 ||grad_w f||^2_{S^-1}")
def norm_split(seed: int = 0, dim: int = 6) -> CheckResult:
    r"""Check the identity from the two gradients of :func:`lib.split_gradient`, and :func:`lib.norm_split`'s two parts.

    Besides random points, the hard case of the algorithms: a gradient almost along
    :math:`S\hat w` (the length is far from optimal, the direction nearly is), whose direction part
    is :math:`10^{-12}` of the total. :func:`lib.norm_split` computes that part from the projected
    vector, so it must keep its relative accuracy there; the difference of the total and the length
    part would lose it entirely.
    """
    rng = rng_from(seed)
    objective = LogCoshObjective(rng, dim)
    S_inv = np.linalg.inv(objective.S)
    worst = 0.0
    for w, g in _random_points(rng, dim, 20):
        grad = objective.grad_at(w, g)
        dg, grad_w = decoupling.split_gradient(grad, g, w, objective.S)
        total = grad @ S_inv @ grad
        split = dg**2 + (w @ objective.S @ w) / g**2 * (grad_w @ S_inv @ grad_w)
        worst = largest(worst, abs(total - split) / total)
        length_part, direction_part = decoupling.norm_split(grad, w, objective.S)
        worst = largest(worst, abs(length_part - dg**2) / total, abs(length_part + direction_part - total) / total)
    # sums of d = 6 products, one solve with S of condition number 40: a few 1e-15 relative
    tolerance = 1e-12
    # the hard case: grad F = alpha S w^ + delta r with r.w^ = 0, so that the length part is alpha^2
    # and the direction part exactly delta^2 ||r||^2_{S^-1} (w^ = w/||w||_S)
    worst_tiny = 0.0
    for w, _ in _random_points(rng, dim, 10):
        w_hat = w / np.sqrt(w @ objective.S @ w)
        r = rng.standard_normal(dim)
        r -= (r @ w_hat) / (w_hat @ w_hat) * w_hat
        alpha, delta = rng.uniform(1.0, 3.0), 1e-6
        length_part, direction_part = decoupling.norm_split(alpha * objective.S @ w_hat + delta * r, w, objective.S)
        expected = delta**2 * (r @ S_inv @ r)
        worst_tiny = largest(worst_tiny, abs(direction_part - expected) / expected, abs(length_part - alpha**2) / alpha**2)
    worst_solvers = _solver_split_error(rng)
    # the projected vector has absolute rounding errors ~ eps |alpha| ||S w^|| ~ eps alpha sqrt(kappa)
    # in the S^-1 norm, against its size delta ||r||_{S^-1}: relative error ~ 2 * 2.2e-16 * 3 * 6.3
    # / 1e-6 = 1e-8 (the construction of grad F adds as much); 1e-6 leaves a margin of 50
    tolerance_tiny = 1e-6
    # the solvers' parts: grad F = 2(u + S w~) loses at most a factor ||u|| / ||grad F|| <= 1e2 of
    # relative accuracy in 20 steps on kappa = 20, so a few 1e-13 relative to the total
    tolerance_solvers = 1e-10
    passed = worst <= tolerance and worst_tiny <= tolerance_tiny and worst_solvers <= tolerance_solvers
    return CheckResult(
        "lem-norm-split",
        f"largest relative error of the norm split over 20 random points: {worst:.1e}; where the direction part "
        f"is 1e-12 of the total, norm_split's direction part is accurate to {worst_tiny:.1e} relative; the parts "
        f"that GD and GDNP report at each iterate to {worst_solvers:.1e} of the total",
        worst, tolerance, passed,
        {"relative error of a direction part 1e-12 of the total (tolerance 1e-6)": f"{worst_tiny:.1e}",
         "the solvers' reported parts against the iterates' (relative to the total, tolerance 1e-10)": f"{worst_solvers:.1e}"},
    )
