r"""Checks of chapter 5, beyond the theorems: the effective step, and weight normalization as BN."""

from __future__ import annotations

import numpy as np

from .. import decoupling
from ..bngd import bngd
from ..instances import random_least_squares, rng_from, spd_with_spectrum
from ..torch_models import batchnorm_unit
from . import CheckResult, largest, smallest, verifies
from .reparametrization import _TestObjective

CHAPTER = "05-beyond"


@verifies("prop-effective-step", CHAPTER, "a GD step of size eta on scale-invariant weights moves the direction by a step eta/||w||^2")
def effective_step(seed: int = 0, points: int = 20) -> CheckResult:
    r"""The identity :math:`w^+/\|w\| = \hat w - (\eta/\|w\|^2)\nabla L(\hat w)`, and BNGD's effective step settling."""
    rng = rng_from(seed)
    objective = _TestObjective(rng, 6)
    g = 1.3
    loss = lambda w: objective.f(w, g)  # scale invariant in w (lemma lem-scale-invariance)
    gradient = lambda w: decoupling.split_gradient(objective.grad_at(w, g), g, w, objective.S)[1]
    worst = 0.0
    for _ in range(points):
        w = rng.standard_normal(6) * np.exp(rng.uniform(-2, 2))
        eta = np.exp(rng.uniform(-3, 3))
        norm = np.linalg.norm(w)
        after = (w - eta * gradient(w)) / norm
        predicted = w / norm - eta / norm**2 * gradient(w / norm)
        worst = largest(worst, np.linalg.norm(after - predicted) / np.linalg.norm(predicted))
    # along BNGD on least squares ||w_t||^2 never decreases (lemma lem-orthogonal), so the effective
    # step eta/||w_t||^2 never increases, however large eta is
    problem = random_least_squares(10, 50.0, seed=rng)
    w0 = rng.standard_normal(10)
    largest_decrease, shrink = 0.0, []
    for factor in (1e2, 1e3, 1e4):
        trace = bngd(problem, w0, iterations=300, direction_step=factor / problem.L).trace
        norms = trace["direction_norm_sq"]
        largest_decrease = largest(largest_decrease, float(np.max(-np.diff(norms) / norms[:-1])))
        shrink.append(trace["effective_step"][0] / trace["effective_step"][-1])
    passed = worst <= 1e-12 and largest_decrease <= 1e-12
    return CheckResult(
        "prop-effective-step",
        f"largest relative error of the identity over {points} random points and steps: {worst:.1e}; along BNGD with "
        f"direction steps 1e2/L, 1e3/L, 1e4/L, ||w_t||^2 never fell (largest relative decrease {largest_decrease:.1e}) "
        f"and the effective step shrank by factors {', '.join(f'{s:.3g}' for s in shrink)}",
        worst, 1e-12, passed,
    )


@verifies("prop-wn-bn", CHAPTER, "weight normalization is BN with S = I; BN on whitened inputs is weight normalization")
def weight_normalization(seed: int = 0, n: int = 400, dim: int = 5) -> CheckResult:
    """torch's BatchNorm1d on whitened centred data against g x.w/||w|| (weight normalization)."""
    rng = rng_from(seed)
    X = rng.standard_normal((n, dim)) @ np.linalg.cholesky(spd_with_spectrum(np.geomspace(0.2, 20, dim), rng)).T
    X -= X.mean(axis=0)
    eigenvalues, vectors = np.linalg.eigh(X.T @ X / n)
    whitened = X @ (vectors / np.sqrt(eigenvalues)) @ vectors.T  # second moment exactly I
    worst, unwhitened = 0.0, 0.0
    for _ in range(10):
        w, g = rng.standard_normal(dim), rng.uniform(-3, 3)
        weight_norm = whitened @ (g * w / np.linalg.norm(w))
        worst = largest(worst, np.max(np.abs(batchnorm_unit(whitened, w, g) - weight_norm)) / np.max(np.abs(weight_norm)))
        unwhitened = largest(unwhitened, np.max(np.abs(batchnorm_unit(X, w, g) - X @ (g * w / np.linalg.norm(w)))))
        worst = largest(worst, np.max(np.abs(decoupling.to_w_tilde(g, w, np.eye(dim)) - g * w / np.linalg.norm(w))))
    return CheckResult(
        "prop-wn-bn",
        f"BatchNorm1d on whitened inputs against weight normalization: largest relative difference {worst:.1e} "
        f"(on the raw inputs the two differ by up to {unwhitened:.2g})",
        worst, 1e-12, worst <= 1e-12 and unwhitened > 1e-3,
    )
