r"""Checks of chapter 4, a hidden layer of tanh units with Batch Normalization.

Population statements are checked either exactly, where they reduce to one-dimensional Gaussian
integrals (every unit on the line of :math:`S^{-1}u`, or a single active unit), or in units of
the standard error of a Monte-Carlo mean over a large Gaussian sample.
"""

from __future__ import annotations

import math

import numpy as np

from ..halfspace import Halfspace
from ..instances import random_halfspace, rng_from
from ..losses import LOSSES, Loss
from ..network import TANH_CURVATURE, HiddenLayerNetwork
from ..network_line import NetworkOnLine
from ..solvers import gdnp
from . import CheckResult, largest, smallest, verifies
from .halfspaces import _gaussian_sample, _worst_ratio, _z_scores, halfspace_bound

CHAPTER = "04-networks"
THETA = np.array([1.0, 0.6, -0.4])


def _model(rng, dim=6, kappa=10.0, energy=0.5):
    return random_halfspace(dim, kappa, energy, "logistic", rng)


def _unit_gradients(z, W_tilde, theta, loss, i):
    """Per-sample gradients of unit i, the Stein function h and its z-gradient, for each row of z."""
    v = z @ W_tilde.T
    activation = np.tanh(v)
    slope = 1.0 - activation**2
    F = activation @ theta
    h = loss.first(F) * theta[i] * slope[:, i]
    grad_h = theta[i] * (loss.second(F) * slope[:, i])[:, None] * ((slope * theta) @ W_tilde)
    grad_h += theta[i] * (loss.first(F) * -2.0 * activation[:, i] * slope[:, i])[:, None] * W_tilde[i]
    return h[:, None] * z, h, grad_h


@verifies("lem-network-gradient", CHAPTER, "grad_i f = a_i u + (S - u u^T) sum_j b_ij w~_j")
def network_gradient(seed: int = 0, n: int = 400_000) -> CheckResult:
    """Stein's decomposition of every unit's gradient, in standard errors; a non-Gaussian z must break it.

    The non-Gaussian z has the same mean and covariance, with independent random signs (+-1) in
    place of the standard normal coordinates: smooth tanh units are too gentle to feel a uniform
    z reliably, but signs (excess kurtosis -2) break the identity by many standard errors.
    """
    rng = rng_from(seed)
    model = _model(rng)
    W_tilde = rng.standard_normal((3, model.dim)) * rng.uniform(0.3, 1.5)
    covariance = model.S - np.outer(model.u, model.u)
    loss = LOSSES["logistic"]

    def worst(z):
        scores = []
        for i in range(3):
            gradient, h, grad_h = _unit_gradients(z, W_tilde, THETA, loss, i)
            scores.append(np.max(_z_scores(gradient - h[:, None] * model.u - grad_h @ covariance)))
        return largest(*scores)

    gaussian = worst(_gaussian_sample(model, n, rng))
    root = np.linalg.cholesky(covariance)
    signs = worst(model.u + rng.choice([-1.0, 1.0], size=(n, model.dim)) @ root.T)
    return CheckResult(
        "lem-network-gradient",
        f"largest deviation of the three unit gradients from a_i u + (S - uu^T) sum_j b_ij w~_j over {n} Gaussian "
        f"samples: {gaussian:.2f} standard errors (for a z of random signs with the same moments: {signs:.0f})",
        gaussian, 5.0, gaussian <= 5.0 and signs > 10.0,
    )


@verifies("lem-network-critical", CHAPTER, "at a critical point with B invertible every hidden direction lies on the line of S^-1 u")
def network_critical(seed: int = 0, n: int = 400_000, tilt_degrees: float = 10.0) -> CheckResult:
    """The critical point on the line: exact (1-D integrals) and by Monte Carlo; tilting a unit breaks it."""
    rng = rng_from(seed)
    model = _model(rng)
    line = NetworkOnLine(model, THETA)
    lengths = line.critical_lengths(-2.0 * np.sign(THETA))
    exact = float(np.max(np.abs(line.full_gradient(lengths))))
    singular = np.linalg.svd(line.coupling_matrix(lengths), compute_uv=False)
    W_tilde = np.outer(lengths, line.direction)
    z = _gaussian_sample(model, n, rng)
    at_critical = max(float(np.max(_z_scores(_unit_gradients(z, W_tilde, THETA, line.loss, i)[0]))) for i in range(3))
    # tilt unit 0 off the line, at the same S-norm: the gradient no longer vanishes
    other = rng.standard_normal(model.dim)
    other -= (other @ model.S @ line.direction) * line.direction
    other /= math.sqrt(other @ model.S @ other)
    angle = math.radians(tilt_degrees)
    tilted = W_tilde.copy()
    tilted[0] = lengths[0] * (math.cos(angle) * line.direction + math.sin(angle) * other)
    off_line = max(float(np.max(_z_scores(_unit_gradients(z, tilted, THETA, line.loss, i)[0]))) for i in range(3))
    passed = exact <= 1e-12 and singular[-1] > 0 and at_critical <= 5.0 and off_line > 10.0
    return CheckResult(
        "lem-network-critical",
        f"on the line at lengths {np.round(lengths, 4).tolist()}: exact gradient {exact:.1e}, Monte Carlo within "
        f"{at_critical:.2f} standard errors of 0, B invertible (singular values {singular[-1]:.2e} to {singular[0]:.2e}); "
        f"one unit tilted by {tilt_degrees:g} degrees: gradient {off_line:.0f} standard errors from 0",
        at_critical, 5.0, passed,
    )


def _orthogonal_part(gradients, w_hat, model):
    """Per-sample parts of unit i's direction gradient orthogonal (in S^-1) to the Rayleigh direction."""
    S_w = model.S @ w_hat
    projected = gradients - np.outer(gradients @ w_hat, S_w)  # the projection of lem-bn-gradients
    rayleigh = model.u - (model.u @ w_hat) * S_w
    weight = model.S_inv @ rayleigh
    return projected - np.outer(projected @ weight / (rayleigh @ weight), rayleigh)


@verifies("prop-unit-decoupling", CHAPTER, "with every other unit off or on the line, unit i is a halfspace problem")
def unit_decoupling(seed: int = 0, n: int = 400_000) -> CheckResult:
    """The part of unit 1's direction gradient off the Rayleigh direction, in standard errors, in four settings."""
    rng = rng_from(seed)
    model = _model(rng)
    line = NetworkOnLine(model, THETA)
    lengths = line.critical_lengths(-2.0 * np.sign(THETA))
    z = _gaussian_sample(model, n, rng)
    w = rng.standard_normal(model.dim)
    w_hat = w / math.sqrt(w @ model.S @ w)
    linear = Loss("linear", lambda t: t, np.ones_like, np.zeros_like, 1.0, 0.0)
    random_others = rng.standard_normal((3, model.dim)) * 1.5
    settings = {
        "others on the line": (np.outer(lengths, line.direction), LOSSES["logistic"]),
        "others switched off": (np.zeros((3, model.dim)), LOSSES["logistic"]),
        "others off the line, linear outer loss": (random_others, linear),
        "others off the line, logistic outer loss": (random_others, LOSSES["logistic"]),
    }
    scores = {}
    for name, (W_tilde, loss) in settings.items():
        W_tilde = W_tilde.copy()
        W_tilde[1] = 1.3 * w_hat  # unit 1, away from the line
        gradients = _unit_gradients(z, W_tilde, THETA, loss, 1)[0]
        scores[name] = float(np.max(_z_scores(_orthogonal_part(gradients, w_hat, model))))
    decoupled = largest(*(scores[k] for k in list(scores)[:3]))
    coupled = scores["others off the line, logistic outer loss"]
    return CheckResult(
        "prop-unit-decoupling",
        "component of unit 1's direction gradient off the Rayleigh direction, in standard errors: "
        + "; ".join(f"{name}: {value:.1f}" for name, value in scores.items()),
        decoupled, 5.0, decoupled <= 5.0 and coupled > 10.0,
    )


def unit_loss(theta_i: float, outer="logistic") -> Loss:
    r"""The loss :math:`\phi(t) = \ell(\theta_i\tanh t)` that one active unit minimises, with the bounds of ``thm-unit-rate``."""
    ell = LOSSES[outer]

    def value(t):
        return ell.value(theta_i * np.tanh(t))

    def first(t):
        return ell.first(theta_i * np.tanh(t)) * theta_i * (1 - np.tanh(t) ** 2)

    def second(t):
        a, s = np.tanh(t), 1 - np.tanh(t) ** 2
        return ell.second(theta_i * a) * (theta_i * s) ** 2 + ell.first(theta_i * a) * theta_i * (-2 * a * s)

    return Loss(f"{outer}(theta tanh t)", value, first, second, ell.first_bound * abs(theta_i),
                ell.second_bound * theta_i**2 + ell.first_bound * abs(theta_i) * TANH_CURVATURE)


@verifies("thm-unit-rate", CHAPTER, "unit-wise GDNP: each unit converges at the halfspace rate while the others are off or on the line")
def unit_rate(seed: int = 0) -> CheckResult:
    """The first unit of the sequential scheme, exactly: it is the halfspace problem with loss l(theta tanh t)."""
    rng = rng_from(seed)
    worst, identity = 0.0, 0.0
    for kappa, theta_i in ((5.0, 1.0), (30.0, -0.6)):
        model = _model(rng, kappa=kappa)
        loss = unit_loss(theta_i)
        # on a sample, unit 0 of a network whose other units are off IS the halfspace problem with this loss
        X, y = model.sample(2000, seed=rng)
        network = HiddenLayerNetwork(X, y, np.array([theta_i, 0.5, -0.5]))
        unit = network.unit(0, np.zeros((3, model.dim)))
        sample = Halfspace.from_data(X, y, loss)
        w_tilde = rng.standard_normal(model.dim)
        identity = largest(identity, abs(unit.evaluate(w_tilde).loss - sample.loss(w_tilde)),
                       float(np.max(np.abs(unit.evaluate(w_tilde).grad - sample.grad(w_tilde)))))
        # in the population the halfspace theorem's bound holds for it, with Phi_i and Psi_i
        population = Halfspace(model.S, model.u, loss)
        result = gdnp(population, rng.standard_normal(model.dim), iterations=int(5 * kappa), bisection_steps=8)
        bound, _ = halfspace_bound(population, result.trace)
        worst = largest(worst, _worst_ratio(result.trace["grad_norm_sq"], bound))
    return CheckResult(
        "thm-unit-rate",
        f"a unit with the others off equals the halfspace problem with loss l(theta tanh t) to {identity:.1e}; "
        f"its GDNP run in the population meets the bound with ratio at most {worst:.3f} (kappa = 5 and 30)",
        worst, 1.0, worst <= 1.0 and identity <= 1e-12,
    )
