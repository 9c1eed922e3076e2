r"""Checks of chapter 5, beyond the theorems: the effective step, and weight normalization as BN.

Reference values (the effective-step update, one BNGD step, the whitened data's second moment) are
computed here from the statements' formulas; what the library reports about its runs (BNGD's trace
columns ``direction_norm_sq`` and ``effective_step``) is compared with them.
"""

from __future__ import annotations

import numpy as np

from ..maths import decoupling
from ..solvers.bngd import bngd
from ..problems.instances import random_least_squares, rng_from, spd_with_spectrum
from .registry import CheckResult, largest, verifies
from .reparametrization import LogCoshObjective

CHAPTER = "05-beyond"


def batchnorm_unit(X, w, g: float) -> np.ndarray:
    """:func:`lib.torch_models.batchnorm_unit`, imported at its first call: importing the checks
    does not import torch (about two seconds), only a check that compares with torch's BN does."""
    from ..torch_models import batchnorm_unit as torch_batchnorm_unit

    return torch_batchnorm_unit(X, w, g)


def _bngd_step(problem, w, g, direction_step, length_step):
    r"""One step of BNGD on least squares, from the formulas of lemma ``lem-bn-gradients`` written out here.

    With :math:`\hat w = w/\|w\|_S`, :math:`G = \nabla F(g\hat w) = 2u + 2gS\hat w`:
    :math:`\partial_g f = G^\top\hat w` and :math:`\nabla_w f = (g/\|w\|_S)(G - (G^\top\hat w)S\hat w)`.
    """
    norm = np.sqrt(w @ problem.S @ w)
    w_hat = w / norm
    G = 2 * problem.u + 2 * g * (problem.S @ w_hat)
    along = G @ w_hat
    return w - direction_step * (g / norm) * (G - along * (problem.S @ w_hat)), g - length_step * along


@verifies("prop-effective-step", CHAPTER, "a GD step of size eta on scale-invariant weights moves the direction by a step eta/||w||^2")
def effective_step(seed: int = 0, points: int = 20) -> CheckResult:
    r"""The two identities of the proposition, and BNGD's effective step :math:`\eta/\|w_t\|^2` settling.

    On the scale-invariant :math:`J(w) = f(w, g)` of chapter 1 (gradient from
    :func:`lib.split_gradient`): :math:`w^+/\|w\| = \hat w - (\eta/\|w\|^2)\nabla J(\hat w)` and
    :math:`\|w^+\|^2 = \|w\|^2 + \eta^2\|\nabla J(w)\|^2`. Then :func:`lib.bngd` on least squares with
    direction steps up to :math:`10^4/L`: its first step must be the step written out here (from a
    length :math:`g_0 \ne 1`, so that a missing factor :math:`g` shows), :math:`\|w_t\|^2` must never
    fall, and the trace's ``direction_norm_sq`` and ``effective_step`` must be
    :math:`\|w_T\|^2` and :math:`\eta/\|w_T\|^2` of the final direction, computed here.
    """
    rng = rng_from(seed)
    objective = LogCoshObjective(rng, 6)
    g = 1.3
    gradient = lambda w: decoupling.split_gradient(objective.grad_at(w, g), g, w, objective.S)[1]
    worst = 0.0
    for _ in range(points):
        w = rng.standard_normal(6) * np.exp(rng.uniform(-2, 2))
        eta = np.exp(rng.uniform(-3, 3))
        norm = np.linalg.norm(w)
        w_next = w - eta * gradient(w)
        predicted = w / norm - eta / norm**2 * gradient(w / norm)
        predicted_norm_sq = w @ w + eta**2 * gradient(w) @ gradient(w)
        worst = largest(worst, np.linalg.norm(w_next / norm - predicted) / np.linalg.norm(predicted),
                        abs(w_next @ w_next - predicted_norm_sq) / predicted_norm_sq)
    # along BNGD on least squares ||w_t||^2 never decreases (lemma lem-orthogonal), so the effective
    # step eta/||w_t||^2 never increases, however large eta is
    problem = random_least_squares(10, 50.0, seed=rng)
    w0 = rng.standard_normal(10)
    largest_decrease, worst_bngd, shrink = 0.0, 0.0, []
    for factor in (1e2, 1e3, 1e4):
        eta = factor / np.linalg.eigvalsh(problem.S)[-1]
        run = bngd(problem, w0, iterations=300, direction_step=eta)
        norms = run.trace["direction_norm_sq"]
        largest_decrease = largest(largest_decrease, float(np.max(-np.diff(norms) / norms[:-1])))
        final_norm_sq = run.w @ run.w
        shrink.append(final_norm_sq / (w0 @ w0))
        one_step = bngd(problem, w0, iterations=1, direction_step=eta, length_step=0.1, g0=1.7)
        w1, g1 = _bngd_step(problem, w0, 1.7, eta, 0.1)
        worst_bngd = largest(worst_bngd, np.linalg.norm(one_step.w - w1) / np.linalg.norm(w1), abs(one_step.g - g1) / abs(g1),
                             abs(norms[-1] - final_norm_sq) / final_norm_sq,
                             abs(run.trace["effective_step"][-1] - eta / final_norm_sq) * final_norm_sq / eta,
                             abs(run.trace["effective_step"][0] - eta / (w0 @ w0)) * (w0 @ w0) / eta)
    # every figure is a sum of d = 6 or 10 products, or a few steps of them, on data of condition
    # number <= 50: a few 1e-15 relative; the norms along BNGD only grow, so any relative decrease
    # above rounding (1e-15) is a failure
    tolerance = 1e-12
    worst = largest(worst, worst_bngd)
    passed = worst <= tolerance and largest_decrease <= tolerance
    return CheckResult(
        "prop-effective-step",
        f"largest relative error of the two identities over {points} random points and steps, and of BNGD's first step "
        f"and reported effective step: {worst:.1e}; along BNGD with direction steps 1e2/L, 1e3/L, 1e4/L, ||w_t||^2 "
        f"never fell (largest relative decrease {largest_decrease:.1e}) and the effective step shrank by factors "
        f"{', '.join(f'{s:.3g}' for s in shrink)}",
        worst, tolerance, passed,
    )


@verifies("prop-wn-bn", CHAPTER, "weight normalization is BN with S = I; BN on whitened inputs is weight normalization")
def weight_normalization(seed: int = 0, n: int = 400, dim: int = 5) -> CheckResult:
    r"""torch's BatchNorm1d on whitened centred data against :math:`g\,x^\top w/\|w\|` (weight normalization).

    Also: the whitened data's second moment is :math:`I` (the case the statement is about),
    :func:`lib.to_w_tilde` and :func:`lib.from_w_tilde` with :math:`S = I` are weight normalization
    and its inverse, and on the raw inputs (:math:`S \ne I`) BN and weight normalization differ.
    """
    rng = rng_from(seed)
    X = rng.standard_normal((n, dim)) @ np.linalg.cholesky(spd_with_spectrum(np.geomspace(0.2, 20, dim), rng)).T
    X -= X.mean(axis=0)
    eigenvalues, vectors = np.linalg.eigh(X.T @ X / n)
    whitened = X @ (vectors / np.sqrt(eigenvalues)) @ vectors.T
    moment_error = np.max(np.abs(whitened.T @ whitened / n - np.eye(dim)))
    worst, unwhitened = 0.0, 0.0
    for _ in range(10):
        w, g = rng.standard_normal(dim), rng.uniform(-3, 3)
        wn = g * w / np.linalg.norm(w)
        weight_norm = whitened @ wn
        worst = largest(worst, np.max(np.abs(batchnorm_unit(whitened, w, g) - weight_norm)) / np.max(np.abs(weight_norm)))
        unwhitened = largest(unwhitened, np.max(np.abs(batchnorm_unit(X, w, g) - X @ wn)))
        length, direction = decoupling.from_w_tilde(wn, np.eye(dim))
        worst = largest(worst, np.linalg.norm(decoupling.to_w_tilde(g, w, np.eye(dim)) - wn) / abs(g),
                        abs(length - abs(g)) / abs(g), np.linalg.norm(direction - np.sign(g) * w / np.linalg.norm(w)))
    # the whitening and BN are products of d = 5 numbers over n = 400 rows, with a second moment of
    # condition number ~ 100: rounding of a few 1e-15 relative (1e-14 for the moment)
    tolerance = 1e-12
    return CheckResult(
        "prop-wn-bn",
        f"BatchNorm1d on whitened inputs (second moment I to {moment_error:.1e}) against weight normalization: "
        f"largest relative difference {worst:.1e} (on the raw inputs the two differ by up to {unwhitened:.2g})",
        worst, tolerance, worst <= tolerance and moment_error <= tolerance and unwhitened > 1e-3,
    )
