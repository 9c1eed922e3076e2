r"""A hidden layer of tanh units with Batch Normalization: the book's chapter 4, in numpy.

The network computes :math:`F(x) = \sum_{i=1}^m \theta_i \tanh(x^\top\tilde w_i)` with BN on every
hidden pre-activation (so :math:`\tilde w_i = g_i w_i/\|w_i\|_S`, lemma ``lem-bn-reparam``) and
fixed output weights :math:`\theta`. With :math:`z = -yx` and tanh odd,
:math:`-yF(x) = \sum_i \theta_i\tanh(z^\top\tilde w_i)`, so the objective is

.. math:: f(\tilde W) = E\Big[\ell\Big(\sum_i \theta_i \tanh(z^\top\tilde w_i)\Big)\Big]

(equation ``eq-network``) for an outer loss :math:`\ell` from :mod:`lib.losses`. This module
evaluates it on a sample (:class:`HiddenLayerNetwork`) and offers the view of one unit with the
others held fixed (:class:`UnitProblem`), which has the same protocol as
:class:`~lib.Halfspace`, so that :func:`lib.gdnp` trains a unit unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_matrix, as_vector
from .halfspace import SampleRay, labelled_sample
from .losses import as_loss
from .moments import Evaluation, Moments

__all__ = ["HiddenLayerNetwork", "NetworkEvaluation", "UnitProblem", "TANH_CURVATURE"]

#: :math:`\max_t |\frac{d^2}{dt^2}\tanh t| = \max_t 2|\tanh t|\,\mathrm{sech}^2 t = 4/(3\sqrt3)`.
TANH_CURVATURE = 4.0 / (3.0 * np.sqrt(3.0))


@dataclass(frozen=True)
class NetworkEvaluation:
    r"""Loss and gradient of the network objective at :math:`\tilde W`.

    Attributes
    ----------
    loss : float
    grad : ndarray of shape (m, d)
        Row :math:`i` is :math:`\nabla_{\tilde w_i} f`.
    """

    loss: float
    grad: np.ndarray


class HiddenLayerNetwork(Moments):
    r"""The objective ``eq-network`` on a sample: :math:`f(\tilde W) = \frac1n\sum_k \ell(\sum_i\theta_i\tanh(z_k^\top\tilde w_i))`.

    Parameters
    ----------
    X : array_like of shape (n, d)
        Inputs, one row per sample, centred (assumption ``asm-data``).
    y : array_like of shape (n,)
        Labels, each -1 or +1.
    theta : array_like of shape (m,)
        The fixed output weights, all nonzero (a unit with :math:`\theta_i = 0` does nothing).
    loss : str, Loss or tuple, default "logistic"
        The outer loss :math:`\ell` (see :func:`lib.losses.as_loss`).
    """

    name = "hidden layer (sample)"

    def __init__(self, X, y, theta, loss="logistic"):
        X, y, Z = labelled_sample(X, y)
        self.theta = as_vector("theta", theta)
        if np.any(self.theta == 0):
            raise ValueError("every output weight theta_i must be nonzero: a unit with theta_i = 0 does not change F")
        self.X, self.y = X, y  # the torch trainer feeds X itself to BatchNorm
        self.Z = Z
        self.n = X.shape[0]
        super().__init__(X.T @ X / self.n, self.Z.mean(axis=0))
        self.loss_function = as_loss(loss)

    @property
    def units(self) -> int:
        """The number :math:`m` of hidden units."""
        return self.theta.size

    def check_weights(self, W_tilde) -> np.ndarray:
        """Validate weights of shape (m, d)."""
        return as_matrix("W_tilde", W_tilde, rows=self.units, cols=self.dim)

    def evaluate(self, W_tilde) -> NetworkEvaluation:
        r"""Loss and all unit gradients :math:`\nabla_{\tilde w_i} f = \frac1n\sum_k \ell'(F_k)\,\theta_i\,\mathrm{sech}^2(v_{ki})\,z_k`."""
        W_tilde = self.check_weights(W_tilde)
        activations = np.tanh(self.Z @ W_tilde.T)  # (n, m)
        outputs = activations @ self.theta
        first = self.loss_function.first(outputs)
        weights = first[:, None] * self.theta * (1.0 - activations**2)  # (n, m)
        return NetworkEvaluation(float(np.mean(self.loss_function.value(outputs))), weights.T @ self.Z / self.n)

    def loss(self, W_tilde) -> float:
        return self.evaluate(W_tilde).loss

    def grad(self, W_tilde) -> np.ndarray:
        return self.evaluate(W_tilde).grad

    def coupling_matrix(self, W_tilde) -> np.ndarray:
        r"""The sample estimate of :math:`B` in lemma ``lem-network-gradient``.

        :math:`b_{ij} = \theta_i\theta_j\,\overline{\ell''(F)\,\mathrm{sech}^2 v_i\,\mathrm{sech}^2 v_j}
        + \delta_{ij}\,\theta_i\,\overline{\ell'(F)\,\tanh''(v_i)}`, with sample means.
        """
        W_tilde = self.check_weights(W_tilde)
        activations = np.tanh(self.Z @ W_tilde.T)
        slopes = (1.0 - activations**2) * self.theta  # theta_i sech^2(v_i)
        outputs = activations @ self.theta
        second = self.loss_function.second(outputs)
        matrix = (slopes * second[:, None]).T @ slopes / self.n
        curvature = self.loss_function.first(outputs)[:, None] * (-2.0 * activations * (1.0 - activations**2))
        return matrix + np.diag(self.theta * curvature.mean(axis=0))

    def grad_norm_sq(self, grad: np.ndarray) -> float:
        r""":math:`\sum_i \|\nabla_{\tilde w_i} f\|_{S^{-1}}^2`, the gradient norm of the book."""
        return float(np.einsum("ij,jk,ik->", grad, self.S_inv, grad))

    def unit(self, index: int, W_tilde) -> "UnitProblem":
        """The problem of unit ``index`` with the other units of ``W_tilde`` held fixed."""
        W_tilde = self.check_weights(W_tilde)
        if not (isinstance(index, (int, np.integer)) and 0 <= index < self.units):
            raise ValueError(f"unit index must be an integer in [0, {self.units}), got {index!r}")
        return UnitProblem(self, int(index), np.delete(W_tilde, index, axis=0))


class UnitProblem(Moments):
    r"""One unit of a :class:`HiddenLayerNetwork` with the others fixed: :math:`f_i(\tilde w) = \frac1n\sum_k \ell(r_k + \theta_i\tanh(z_k^\top\tilde w))`.

    Here :math:`r_k = \sum_{j\ne i}\theta_j\tanh(z_k^\top\tilde w_j)` is computed once. The class has
    the protocol of :class:`~lib.Halfspace` (``evaluate``, ``ray``, ``smoothness``,
    ``length_curvature_bound``), so :func:`lib.gdnp` and :func:`lib.gd` train the unit.

    Its :math:`c_1`, which sets GDNP's step (Algorithm ``alg-gdnp``), is the plug-in of the
    coefficient of proposition ``prop-unit-decoupling``: with sample means for
    :math:`a_i, b_{ij}` of lemma ``lem-network-gradient`` and :math:`\nu^2 = u^\top S^{-1}u`,

    .. math:: c_1 = a_i - b_{ii}\,u^\top\tilde w + \frac{1 - \nu^2}{\nu^2}\sum_{j\ne i} b_{ij}\,u^\top\tilde w_j,
       \qquad c_2 = b_{ii}.

    In the population, with the other units off or on the line of :math:`S^{-1}u`, these are the
    exact coefficients of :math:`\nabla f_i = c_1u + c_2S\tilde w`; with the other units off it is
    the plug-in of :class:`~lib.HalfspaceSample` for the loss :math:`\ell(\theta_i\tanh t)`. (The
    component of the gradient along the Rayleigh direction would be another estimate, but it
    divides by that direction's length, which vanishes near the line: on a sample it is erratic.)
    """

    closed_form_length = False

    def __init__(self, network: HiddenLayerNetwork, index: int, others: np.ndarray):
        self.network, self.index = network, index
        mask = np.arange(network.units) != index
        self.theta = float(network.theta[index])
        self.theta_others = network.theta[mask]
        self.loss_function = network.loss_function
        self.n, self.Z = network.n, network.Z
        # share the validated moments of the network instead of recomputing them
        for name in ("S", "u", "eigenvalues", "mu", "L", "S_inv", "rho_star"):
            setattr(self, name, getattr(network, name))
        activations = np.tanh(self.Z @ others.T)  # (n, m - 1): the fixed units
        self.rest = activations @ self.theta_others
        self._others_slope = (1.0 - activations**2) * self.theta_others  # theta_j sech^2(v_j)
        energy = -self.rho_star  # u^T S^-1 u
        self._cross = (others @ self.u) * ((1.0 - energy) / energy if energy > 0 else 0.0)
        self.name = f"unit {index} of a hidden layer"

    @property
    def length_curvature_bound(self) -> float:
        r""":math:`\Psi_i = \Psi_\ell\theta_i^2 + \Phi_\ell|\theta_i|\,4/(3\sqrt3) \ge |\frac{d^2}{dt^2}\ell(r + \theta_i\tanh t)|`."""
        phi = self.loss_function
        return phi.second_bound * self.theta**2 + phi.first_bound * abs(self.theta) * TANH_CURVATURE

    @property
    def smoothness(self) -> float:
        return self.length_curvature_bound * self.L

    def _outputs(self, projections: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network outputs F = r + theta tanh(v) and tanh(v), from v = Z w~."""
        activation = np.tanh(projections)
        return self.rest + self.theta * activation, activation

    def _weights(self, outputs: np.ndarray, activation: np.ndarray) -> np.ndarray:
        """The per-sample weights l'(F) theta sech^2(v) of the gradient."""
        return self.loss_function.first(outputs) * self.theta * (1.0 - activation**2)

    def _evaluation(self, outputs: np.ndarray, activation: np.ndarray, w_tilde: np.ndarray) -> Evaluation:
        """Loss, gradient and the plug-in c1, c2 from the outputs and the unit's activations."""
        phi = self.loss_function
        first, second = phi.first(outputs), phi.second(outputs)
        slope = 1.0 - activation**2
        weights = first * self.theta * slope
        a = float(np.mean(weights))
        b_own = float(np.mean(second * (self.theta * slope) ** 2 + first * self.theta * (-2.0 * activation * slope)))
        b_cross = (second * self.theta * slope) @ self._others_slope / self.n  # b_ij, j != i
        c1 = a - b_own * float(self.u @ w_tilde) + float(b_cross @ self._cross)
        grad = self.Z.T @ weights / self.n
        return Evaluation(float(np.mean(phi.value(outputs))), grad, c1, b_own)

    def evaluate(self, w_tilde) -> Evaluation:
        w_tilde = self.check_vector("w_tilde", w_tilde)
        return self._evaluation(*self._outputs(self.Z @ w_tilde), w_tilde)

    def ray(self, w) -> "UnitRay":
        return UnitRay(self, self.check_direction("w", w))


class UnitRay(SampleRay):
    r"""The length problem of one unit: :math:`\partial_g f_i = \frac1n\sum_k \ell'(F_k)\,\theta_i\,\mathrm{sech}^2(g q_k)\,q_k`, :math:`q = Z\hat w`.

    The projections :math:`q = Z\hat w` are computed once, as for :class:`~lib.halfspace.SampleRay`.
    """

    def value(self, g: float) -> float:
        return float(np.mean(self.problem.loss_function.value(self.problem._outputs(g * self.projections)[0])))

    def derivative(self, g: float) -> float:
        weights = self.problem._weights(*self.problem._outputs(g * self.projections))
        return float(weights @ self.projections) / self.problem.n

    def evaluate(self, g: float) -> Evaluation:
        return self.problem._evaluation(*self.problem._outputs(g * self.projections), g * self.w_hat)
