r"""The hidden layer in the Gaussian model, with every unit on the line of :math:`S^{-1}u`.

When every hidden direction is :math:`\hat w^* = S^{-1}u/\|S^{-1}u\|_S` (the situation of lemma
``lem-network-critical``), every pre-activation is a multiple of one scalar,
:math:`z^\top\tilde w_j = p_j\xi` with :math:`\xi = z^\top\hat w^* \sim N(\nu, 1 - \nu^2)` and
:math:`\nu = \|u\|_{S^{-1}}`, so every population quantity is a one-dimensional Gaussian integral
(:mod:`lib.gaussian`): the loss, the length derivatives, the coupling matrix :math:`B` of the
Stein decomposition, and the full gradient, which on the line is
:math:`\nabla_{\tilde w_i} f = (\partial f/\partial p_i)\,u/\nu`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.validation import as_vector
from ..maths.gaussian import gaussian_rule
from ..maths.losses import as_loss
from .moments import Moments

__all__ = ["NetworkOnLine"]


@dataclass
class NetworkOnLine:
    r"""Population quantities of ``eq-network`` with all units on the line of :math:`S^{-1}u`.

    Parameters
    ----------
    moments : Moments
        :math:`S` and :math:`u` of a Gaussian model (:math:`u \ne 0`, :math:`u^\top S^{-1}u < 1`).
    theta : array_like of shape (m,)
        Output weights.
    loss : str or Loss, default "logistic"
        The outer loss :math:`\ell`.
    """

    moments: Moments
    theta: np.ndarray
    loss: object = "logistic"

    def __post_init__(self):
        self.theta = as_vector("theta", self.theta)
        self.loss = as_loss(self.loss)
        energy = -self.moments.rho_star
        if not 0.0 < energy < 1.0:
            raise ValueError(f"the line exists only for 0 < u^T S^-1 u < 1, here it is {energy:.6g}")
        self.mean = float(np.sqrt(energy))
        self.std = float(np.sqrt(1.0 - energy))
        self.direction = self.moments.optimal_direction()

    def _rule(self, lengths: np.ndarray):
        scale = 1.0 / max(float(np.max(np.abs(lengths))), 1.0)  # tanh(p xi) changes over |xi| ~ 1/|p|
        return gaussian_rule(self.mean, self.std, kink=0.0, scale=scale)

    def _parts(self, lengths):
        lengths = as_vector("lengths", lengths, self.theta.size)
        xi, weights = self._rule(lengths)
        activations = np.tanh(np.outer(xi, lengths))  # (nodes, m)
        slopes = 1.0 - activations**2  # sech^2
        outputs = activations @ self.theta
        return xi, weights, activations, slopes, outputs

    def loss_value(self, lengths) -> float:
        r""":math:`f = E[\ell(\sum_j\theta_j\tanh(p_j\xi))]`."""
        _, weights, _, _, outputs = self._parts(lengths)
        return float(weights @ self.loss.value(outputs))

    def length_gradient(self, lengths) -> np.ndarray:
        r""":math:`\partial f/\partial p_j = E[\ell'(F)\,\theta_j\,\mathrm{sech}^2(p_j\xi)\,\xi]`."""
        xi, weights, _, slopes, outputs = self._parts(lengths)
        return ((weights * self.loss.first(outputs) * xi) @ slopes) * self.theta

    def length_hessian(self, lengths) -> np.ndarray:
        r""":math:`\partial^2 f/\partial p_j\partial p_k`, by differentiating :meth:`length_gradient` under the integral."""
        xi, weights, activations, slopes, outputs = self._parts(lengths)
        a = slopes * self.theta * xi[:, None]  # dF/dp_j
        hessian = (a * (weights * self.loss.second(outputs))[:, None]).T @ a
        curvature = -2.0 * activations * slopes * self.theta * xi[:, None] ** 2  # d^2F/dp_j^2
        hessian += np.diag((weights * self.loss.first(outputs)) @ curvature)
        return hessian

    def coupling_matrix(self, lengths) -> np.ndarray:
        r"""The matrix :math:`B` of lemma ``lem-network-gradient`` at :math:`\tilde w_j = p_j\hat w^*`.

        :math:`B_{ij} = \theta_i\theta_j E[\ell''(F)\,\mathrm{sech}^2(v_i)\,\mathrm{sech}^2(v_j)]
        + \delta_{ij}\,\theta_i\,E[\ell'(F)\,\tanh''(v_i)]` with :math:`v_j = p_j\xi`.
        """
        _, weights, activations, slopes, outputs = self._parts(lengths)
        a = slopes * self.theta
        matrix = (a * (weights * self.loss.second(outputs))[:, None]).T @ a
        matrix += np.diag((weights * self.loss.first(outputs)) @ (-2.0 * activations * slopes) * self.theta)
        return matrix

    def full_gradient(self, lengths) -> np.ndarray:
        r"""The gradient in :math:`\tilde W` at :math:`\tilde w_j = p_j\hat w^*`: row :math:`i` is :math:`(\partial f/\partial p_i)\,u/\nu`."""
        return np.outer(self.length_gradient(lengths), self.moments.u) / self.mean

    #: Lengths beyond this mean Newton's method is following a gradient that vanishes only at
    #: infinity (tanh saturates), not converging to a critical point.
    LENGTH_CAP = 1e3

    def critical_lengths(self, start, iterations: int = 100, tolerance: float = 1e-13) -> np.ndarray:
        r"""Signed lengths :math:`p` along the line with :math:`\partial f/\partial p = 0`, by Newton's method from ``start``.

        Steps that do not lower :math:`\|\partial f/\partial p\|` are halved (at most 40 times).
        A start with :math:`\operatorname{sign} p_j = -\operatorname{sign}\theta_j` leads to the
        minimum on the line in the book's examples; other starts may lead to saddle points.

        Raises
        ------
        ArithmeticError
            If the iteration does not reach ``tolerance`` (relative to the first gradient), or if
            a length exceeds ``LENGTH_CAP`` (the gradient then vanishes only at infinity).
        """
        lengths = as_vector("start", start, self.theta.size)
        gradient = self.length_gradient(lengths)
        first = np.linalg.norm(gradient)
        for _ in range(iterations):
            if np.max(np.abs(lengths)) > self.LENGTH_CAP:
                raise ArithmeticError(
                    f"the lengths ran away to {np.max(np.abs(lengths)):.3g}: along this path the loss keeps "
                    "falling as tanh saturates, and its gradient vanishes only at infinity; start from lengths "
                    "with sign -sign(theta_j)"
                )
            if np.linalg.norm(gradient) <= tolerance * max(first, 1e-300):
                return lengths
            step = np.linalg.solve(self.length_hessian(lengths), gradient)
            for _ in range(40):
                trial = lengths - step
                trial_gradient = self.length_gradient(trial)
                if np.linalg.norm(trial_gradient) < np.linalg.norm(gradient):
                    break
                step = step / 2
            lengths, gradient = trial, trial_gradient
        raise ArithmeticError(
            f"Newton's method did not reach a critical point of the lengths in {iterations} steps "
            f"(gradient norm {np.linalg.norm(gradient):.3g}); try another start"
        )
