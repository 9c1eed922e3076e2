r"""Checks of chapter 1, Batch Normalization as a reparametrisation.

The lemmas of chapter 1 hold for *any* differentiable objective :math:`F(\tilde w)`. The
checks use a deliberately non-quadratic one,

.. math:: F(\tilde w) = \sum_i \log\cosh(a_i^\top\tilde w - b_i) + \tfrac12\|\tilde w\|^2,
   \qquad \nabla F = A^\top\tanh(A\tilde w - b) + \tilde w,

with random :math:`A, b` and a random positive definite :math:`S`, so that nothing is special.
"""

from __future__ import annotations

import numpy as np

from .. import decoupling
from ..instances import rng_from, spd_with_spectrum
from ..torch_models import batchnorm_unit
from . import CheckResult, largest, smallest, verifies

CHAPTER = "01-reparametrization"


class _TestObjective:
    """The smooth non-quadratic test objective F of this module, with its gradient."""

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
        """The reparametrised objective f(w, g) = F(g w/||w||_S)."""
        return self.F(g * w / np.sqrt(w @ self.S @ w))

    def grad_at(self, w, g):
        return self.grad_F(g * w / np.sqrt(w @ self.S @ w))


def _random_points(rng, dim, count):
    return [(rng.standard_normal(dim) * np.exp(rng.uniform(-2, 2)), rng.uniform(-3, 3)) for _ in range(count)]


@verifies("lem-bn-reparam", CHAPTER, "BN of a unit with population statistics is x.w~ with w~ = g w/||w||_S")
def bn_reparametrization(seed: int = 0, n: int = 512, dim: int = 6) -> CheckResult:
    """Compare torch's ``BatchNorm1d`` on centred data with :math:`X\\tilde w`, :math:`S = X^\\top X/n`."""
    rng = rng_from(seed)
    X = rng.standard_normal((n, dim)) @ rng.standard_normal((dim, dim)) + rng.uniform(-3, 3, dim)
    X_centred = X - X.mean(axis=0)
    S = X_centred.T @ X_centred / n
    worst, uncentred_gap = 0.0, 0.0
    for w, g in _random_points(rng, dim, 20):
        torch_out = batchnorm_unit(X_centred, w, g)
        ours = X_centred @ decoupling.to_w_tilde(g, w, S)
        worst = largest(worst, np.max(np.abs(torch_out - ours)) / np.max(np.abs(ours)))
        # without centring the identity fails: BN subtracts the mean, x.w~ does not
        uncentred = X @ decoupling.to_w_tilde(g, w, X.T @ X / n)
        uncentred_gap = largest(uncentred_gap, np.max(np.abs(batchnorm_unit(X, w, g) - uncentred)) / np.max(np.abs(uncentred)))
    tolerance = 1e-12
    return CheckResult(
        "lem-bn-reparam",
        f"largest relative difference between torch BatchNorm1d and x.w~ on centred data: {worst:.1e}",
        worst, tolerance, worst <= tolerance and uncentred_gap > 1e-3,
        {"same difference on uncentred data (must be large)": f"{uncentred_gap:.2g}", "batch": f"n={n}, d={dim}"},
    )


@verifies("lem-scale-invariance", CHAPTER, "f(w, g) does not depend on the scale of w; grad_w f scales like 1/c")
def scale_invariance(seed: int = 0, dim: int = 6) -> CheckResult:
    r"""Check :math:`f(cw, g) = f(w, g)` and :math:`\nabla_w f(cw, g) = \nabla_w f(w, g)/c` for :math:`c > 0`."""
    rng = rng_from(seed)
    objective = _TestObjective(rng, dim)
    worst = 0.0
    for w, g in _random_points(rng, dim, 20):
        _, grad_w = decoupling.split_gradient(objective.grad_at(w, g), g, w, objective.S)
        for c in (1e-3, 0.37, 5.0, 1e3):
            value_error = abs(objective.f(c * w, g) - objective.f(w, g)) / max(abs(objective.f(w, g)), 1.0)
            _, grad_cw = decoupling.split_gradient(objective.grad_at(c * w, g), g, c * w, objective.S)
            grad_error = np.linalg.norm(c * grad_cw - grad_w) / max(np.linalg.norm(grad_w), 1e-300)
            worst = largest(worst, value_error, grad_error)
    tolerance = 1e-12
    return CheckResult(
        "lem-scale-invariance",
        f"largest relative change of f and of c * grad_w f under w -> c w, c in [1e-3, 1e3]: {worst:.1e}",
        worst, tolerance, worst <= tolerance,
    )


@verifies("lem-bn-gradients", CHAPTER, "the gradients of f(w, g) = F(g w/||w||_S) in g and in w")
def bn_gradients(seed: int = 0, dim: int = 6, h: float = 1e-6) -> CheckResult:
    """Compare the formulas of :func:`lib.split_gradient` with central finite differences."""
    rng = rng_from(seed)
    objective = _TestObjective(rng, dim)
    worst = 0.0
    for w, g in _random_points(rng, dim, 10):
        dg, grad_w = decoupling.split_gradient(objective.grad_at(w, g), g, w, objective.S)
        step = h * max(abs(g), 1.0)
        fd_g = (objective.f(w, g + step) - objective.f(w, g - step)) / (2 * step)
        scale = h * np.linalg.norm(w)
        fd_w = np.array([(objective.f(w + scale * e, g) - objective.f(w - scale * e, g)) / (2 * scale) for e in np.eye(dim)])
        worst = largest(worst, abs(fd_g - dg) / max(abs(dg), 1.0),
                    np.linalg.norm(fd_w - grad_w) / max(np.linalg.norm(grad_w), 1.0 / np.linalg.norm(w)))
    tolerance = 1e-7  # central differences with h = 1e-6: truncation ~h^2, rounding ~1e-16/h
    return CheckResult(
        "lem-bn-gradients",
        f"largest relative difference from central finite differences (h = {h:g}): {worst:.1e}",
        worst, tolerance, worst <= tolerance,
    )


@verifies("lem-orthogonal", CHAPTER, "grad_w f is orthogonal to w, so ||w|| grows under gradient descent on w")
def direction_orthogonality(seed: int = 0, dim: int = 6, steps: int = 50, step: float = 0.5) -> CheckResult:
    r"""Check :math:`w^\top\nabla_w f = 0` and :math:`\|w_{t+1}\|^2 = \|w_t\|^2 + s^2\|\nabla_w f\|^2` along GD on :math:`w`."""
    rng = rng_from(seed)
    objective = _TestObjective(rng, dim)
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
    tolerance = 1e-12
    return CheckResult(
        "lem-orthogonal",
        f"largest relative |w.grad_w f| and relative error of ||w'||^2 = ||w||^2 + s^2 ||grad_w f||^2 "
        f"over {steps} GD steps: {worst:.1e}; ||w|| grew from {norms[0]:.3f} to {norms[-1]:.3f}",
        worst, tolerance, worst <= tolerance and growing,
        {"||w|| increased at every step": growing},
    )


@verifies("lem-norm-split", CHAPTER, "||grad F||^2_{S^-1} = (d_g f)^2 + ||w||_S^2/g^2 ||grad_w f||^2_{S^-1}")
def norm_split(seed: int = 0, dim: int = 6) -> CheckResult:
    """Check the identity from the two gradients of :func:`lib.split_gradient` (not from :func:`lib.norm_split`)."""
    rng = rng_from(seed)
    objective = _TestObjective(rng, dim)
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
    tolerance = 1e-12
    return CheckResult(
        "lem-norm-split",
        f"largest relative error of the norm split over 20 random points: {worst:.1e}",
        worst, tolerance, worst <= tolerance,
    )
