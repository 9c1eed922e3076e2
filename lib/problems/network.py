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

Every quantity is an average of an integrand over :math:`z`. The integrands are written once, in
:class:`HiddenLayer` and :class:`UnitView`, against an *average*: an object with
``projections(W)`` (the values of :math:`z^\top\tilde w_j` at its points), ``expectation(h)`` and
``times_z(h)`` (:math:`E[h]` and :math:`E[h\,z]`). Here the average is the sample mean
(:class:`SampleMean`); :mod:`lib.network_gaussian` supplies Gaussian quadrature instead, for the
same network in the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.validation import as_matrix, as_vector
from .halfspace import SampleRay, labelled_sample
from ..maths.losses import as_loss
from .moments import Evaluation, Moments

__all__ = ["HiddenLayer", "HiddenLayerNetwork", "NetworkEvaluation", "SampleMean", "UnitProblem", "UnitView",
           "TANH_CURVATURE", "unit_coefficient"]

#: :math:`\max_t |\frac{d^2}{dt^2}\tanh t| = \max_t 2|\tanh t|\,\mathrm{sech}^2 t = 4/(3\sqrt3)`.
TANH_CURVATURE = 4.0 / (3.0 * np.sqrt(3.0))


def unit_coefficient(a: float, b_own: float, b_cross: np.ndarray, own_along_u: float, others_along_u: np.ndarray,
                     energy: float) -> float:
    r"""The coefficient :math:`c_1` of proposition ``prop-unit-decoupling``, from :math:`A_i` and :math:`B_{ij}`.

    .. math:: c_1 = A_i - B_{ii}\,u^\top\tilde w_i + \frac{1 - \nu^2}{\nu^2}\sum_{j\ne i} B_{ij}\,u^\top\tilde w_j,
       \qquad \nu^2 = u^\top S^{-1}u .

    With every other unit on the line, :math:`u^\top\tilde w_j = \nu p_j` and the last term is
    :math:`(1/\nu - \nu)\sum_j B_{ij}p_j`, the proposition's. With the other units near the line
    it is the coefficient of :math:`u` in the on-line part of the gradient (theorem
    ``thm-unit-near-line``).

    Parameters
    ----------
    a, b_own : float
        :math:`A_i` and :math:`B_{ii}` of lemma ``lem-network-gradient``.
    b_cross : ndarray of shape (m - 1,)
        :math:`B_{ij}` for the other units :math:`j \ne i`.
    own_along_u : float
        :math:`u^\top\tilde w_i`.
    others_along_u : ndarray of shape (m - 1,)
        :math:`u^\top\tilde w_j` for the other units.
    energy : float
        :math:`\nu^2 = u^\top S^{-1}u` (the coupling term is 0 when it is 0, that is when :math:`u = 0`).
    """
    cross = others_along_u * ((1.0 - energy) / energy if energy > 0 else 0.0)
    return a - b_own * own_along_u + float(b_cross @ cross)


class SampleMean:
    r"""Averages over a sample :math:`z_1, \dots, z_n`: :math:`E[h] \approx \frac1n\sum_k h(z_k)`.

    Parameters
    ----------
    Z : ndarray of shape (n, d)
        The points :math:`z_k = -y_kx_k`, one per row.
    """

    def __init__(self, Z: np.ndarray):
        self.Z = Z
        self.n = Z.shape[0]

    def projections(self, vectors: np.ndarray) -> np.ndarray:
        r""":math:`z_k^\top v` for every point and every row :math:`v` of ``vectors`` (shape (n,) for one vector)."""
        return self.Z @ vectors.T

    def expectation(self, values: np.ndarray) -> np.ndarray:
        """The mean of ``values`` over the points (axis 0)."""
        return np.mean(values, axis=0)

    def times_z(self, values: np.ndarray) -> np.ndarray:
        r""":math:`\frac1n\sum_k h_k z_k`; for values of shape (n, j), one row per column."""
        return values.T @ self.Z / self.n


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


class HiddenLayer(Moments):
    r"""The objective ``eq-network`` for an average over :math:`z` that subclasses supply.

    Subclasses implement ``_average(W_tilde)`` (an object like :class:`SampleMean` that can
    average the integrands at ``W_tilde``) and ``_unit(index, others)``.

    Parameters
    ----------
    S, u : array_like
        The moments :math:`E[xx^\top]` and :math:`E[-yx]`.
    theta : array_like of shape (m,)
        The fixed output weights, all nonzero (a unit with :math:`\theta_i = 0` does nothing).
    loss : str, Loss or tuple, default "logistic"
        The outer loss :math:`\ell` (see :func:`lib.losses.as_loss`).
    """

    def __init__(self, S, u, theta, loss="logistic"):
        self.theta = as_vector("theta", theta)
        if np.any(self.theta == 0):
            raise ValueError("every output weight theta_i must be nonzero: a unit with theta_i = 0 does not change F")
        super().__init__(S, u)
        self.loss_function = as_loss(loss)

    @property
    def units(self) -> int:
        """The number :math:`m` of hidden units."""
        return self.theta.size

    def check_weights(self, W_tilde) -> np.ndarray:
        """Validate weights of shape (m, d)."""
        return as_matrix("W_tilde", W_tilde, rows=self.units, cols=self.dim)

    def evaluate(self, W_tilde) -> NetworkEvaluation:
        r"""Loss and all unit gradients :math:`\nabla_{\tilde w_i} f = E[\ell'(F)\,\theta_i\,\mathrm{sech}^2(v_i)\,z]`."""
        average, activations, outputs = self._forward(W_tilde)
        first = self.loss_function.first(outputs)
        weights = first[:, None] * self.theta * (1.0 - activations**2)  # (n, m)
        return NetworkEvaluation(float(average.expectation(self.loss_function.value(outputs))), average.times_z(weights))

    def loss(self, W_tilde) -> float:
        r""":math:`f(\tilde W)` alone: the loss of :meth:`evaluate`, computed the same way, without the gradient."""
        average, _, outputs = self._forward(W_tilde)
        return float(average.expectation(self.loss_function.value(outputs)))

    def _forward(self, W_tilde):
        r"""The average, the activations :math:`\tanh(z^\top\tilde w_i)` (n, m) and the outputs, with the weights validated here."""
        W_tilde = self.check_weights(W_tilde)
        average = self._average(W_tilde)
        activations = np.tanh(average.projections(W_tilde))  # (n, m)
        return average, activations, activations @ self.theta

    def grad(self, W_tilde) -> np.ndarray:
        return self.evaluate(W_tilde).grad

    def coupling_matrix(self, W_tilde) -> np.ndarray:
        r"""The matrix :math:`B` of lemma ``lem-network-gradient`` (with this class's average).

        :math:`B_{ij} = \theta_i\theta_j\,E[\ell''(F)\,\mathrm{sech}^2 v_i\,\mathrm{sech}^2 v_j]
        + \delta_{ij}\,\theta_i\,E[\ell'(F)\,\tanh''(v_i)]`.
        """
        W_tilde = self.check_weights(W_tilde)
        average = self._average(W_tilde)
        activations = np.tanh(average.projections(W_tilde))
        slopes = (1.0 - activations**2) * self.theta  # theta_i sech^2(v_i)
        outputs = activations @ self.theta
        second = self.loss_function.second(outputs)
        weighted = slopes * second[:, None]
        matrix = np.array([average.expectation(weighted * slopes[:, [i]]) for i in range(self.units)])
        curvature = self.loss_function.first(outputs)[:, None] * (-2.0 * activations * (1.0 - activations**2))
        return matrix + np.diag(self.theta * average.expectation(curvature))

    def grad_norm_sq(self, grad: np.ndarray) -> float:
        r""":math:`\sum_i \|\nabla_{\tilde w_i} f\|_{S^{-1}}^2`, the gradient norm of the book."""
        return float(np.einsum("ij,jk,ik->", grad, self.S_inv, grad))

    def unit_rho_gaps(self, directions: np.ndarray) -> np.ndarray:
        r"""Each unit's direction quality :math:`\rho(w_i) - \rho^*`, for the rows :math:`w_i` of ``directions``."""
        return np.array([self.rho_gap(w) for w in directions])

    def split(self, W_tilde: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""The lengths :math:`\|\tilde w_i\|_S` and unit directions of the rows of :math:`\tilde W` (a zero row keeps direction 0)."""
        lengths = np.sqrt(np.einsum("ij,jk,ik->i", W_tilde, self.S, W_tilde))
        directions = np.divide(W_tilde, lengths[:, None], out=np.zeros_like(W_tilde), where=lengths[:, None] > 0)
        return lengths, directions

    def unit(self, index: int, W_tilde) -> "UnitView":
        """The problem of unit ``index`` with the other units of ``W_tilde`` held fixed."""
        W_tilde = self.check_weights(W_tilde)
        if not (isinstance(index, (int, np.integer)) and 0 <= index < self.units):
            raise ValueError(f"unit index must be an integer in [0, {self.units}), got {index!r}")
        return self._unit(int(index), np.delete(W_tilde, index, axis=0))

    def _average(self, W_tilde: np.ndarray):
        raise NotImplementedError

    def _unit(self, index: int, others: np.ndarray) -> "UnitView":
        raise NotImplementedError


class HiddenLayerNetwork(HiddenLayer):
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
        self.X, self.y = X, y  # the torch trainer feeds X itself to BatchNorm
        self.Z = Z
        self.n = X.shape[0]
        self.sample_mean = SampleMean(Z)
        self._Z_T = None  # Z^T, made contiguous on the first stacked evaluation
        self._workspaces = {}  # K -> the work arrays of grads
        super().__init__(X.T @ X / self.n, self.Z.mean(axis=0), theta, loss)

    def check_weight_stack(self, W_tilde_stack) -> np.ndarray:
        """Validate a stack of weight matrices, of shape (K, m, d)."""
        stack = np.asarray(W_tilde_stack)
        if stack.ndim != 3 or stack.shape[1:] != (self.units, self.dim):
            raise ValueError(f"W_tilde_stack must have shape (K, {self.units}, {self.dim}), got {stack.shape}")
        return as_matrix("W_tilde_stack", stack.reshape(-1, self.dim)).reshape(stack.shape)

    def _activations_by_unit(self, stack: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        r""":math:`\tanh(z_k^\top\tilde w_{s,i})` for a validated stack, unit by unit: shape (m, K n), entry (i, s n + k).

        One matrix product of all :math:`Km` rows with :math:`Z^\top` gives every pre-activation
        (into ``out`` when given). Unit-major order keeps every later array operation on rows of
        length :math:`Kn` (short rows of length :math:`m` would cost a loop each).
        """
        if self._Z_T is None:
            self._Z_T = np.ascontiguousarray(self.Z.T)  # (d, n): the rows of a stack times Z^T in one product
        rows = np.ascontiguousarray(stack.transpose(1, 0, 2)).reshape(-1, self.dim)  # row i K + s is w~_{s,i}
        activations = np.matmul(rows, self._Z_T, out=out)
        return np.tanh(activations, out=activations).reshape(self.units, -1)

    def losses(self, W_tilde_stack) -> np.ndarray:
        r"""The loss :math:`f(\tilde W_s)` of ``eq-network`` at every matrix of a stack, in one computation.

        The same integrand as :meth:`loss`, :math:`\frac1n\sum_k\ell(\sum_i\theta_i\tanh(z_k^\top\tilde w_{s,i}))`;
        the products are grouped differently, so the values agree with :meth:`loss` to rounding.

        Parameters
        ----------
        W_tilde_stack : array_like of shape (K, m, d)
            K weight matrices :math:`\tilde W_s`, one row per unit.

        Returns
        -------
        ndarray of shape (K,)
        """
        stack = self.check_weight_stack(W_tilde_stack)
        outputs = self.theta @ self._activations_by_unit(stack)  # F, (K n,)
        return np.mean(self.loss_function.value(outputs).reshape(stack.shape[0], self.n), axis=1)

    def grads(self, W_tilde_stack) -> np.ndarray:
        r"""The gradient of lemma ``lem-network-gradient`` at every matrix of a stack, in one computation.

        Row :math:`i` of matrix :math:`s` is :math:`\nabla_{\tilde w_i} f(\tilde W_s) =
        \frac1n\sum_k \ell'(F_{s,k})\,\theta_i\,\mathrm{sech}^2(z_k^\top\tilde w_{s,i})\,z_k`, as in
        :meth:`evaluate` (to rounding); all :math:`Km` rows are one matrix product with :math:`Z`.
        The arrays of the integrands are kept from call to call, one set for each K: a fresh array
        of that size costs more than the arithmetic on it (glibc returns its memory to the system
        when it is freed, and maps it anew, page by page, on the next allocation).

        Parameters
        ----------
        W_tilde_stack : array_like of shape (K, m, d)

        Returns
        -------
        ndarray of shape (K, m, d)
        """
        stack = self.check_weight_stack(W_tilde_stack)
        count = stack.shape[0]
        if count not in self._workspaces:
            self._workspaces[count] = (np.empty((count * self.units, self.n)), np.empty((self.units, count * self.n)),
                                       np.empty(count * self.n), np.empty(count * self.n))
        activations, weights, outputs, first = self._workspaces[count]
        by_unit = self._activations_by_unit(stack, out=activations)  # (m, K n), a view of activations
        self.loss_function.first(np.matmul(self.theta, by_unit, out=outputs), out=first)  # l'(F), (K n,)
        np.multiply(by_unit, by_unit, out=weights)
        np.subtract(1.0, weights, out=weights)  # sech^2
        weights *= self.theta[:, None]
        weights *= first  # l'(F) theta_i sech^2(v_i)
        rows = weights.reshape(count * self.units, self.n) @ self.Z / self.n  # row i K + s
        return rows.reshape(self.units, count, self.dim).transpose(1, 0, 2).copy()

    def _average(self, W_tilde: np.ndarray) -> SampleMean:
        return self.sample_mean

    def _unit(self, index: int, others: np.ndarray) -> "UnitProblem":
        return UnitProblem(self, index, others)


class UnitView(Moments):
    r"""One unit of a hidden layer with the others fixed, with the protocol of :class:`~lib.Halfspace`.

    What the sample view (:class:`UnitProblem`) and the Gaussian one
    (:class:`lib.network_gaussian.GaussianUnit`) share: the moments of the network, the constant
    :math:`\Psi_i`, and the loss, gradient and coefficients :math:`c_1, c_2` from an average of the
    unit's integrands (:meth:`evaluation_from_parts`).
    """

    closed_form_length = False

    def __init__(self, network: HiddenLayer, index: int, others: np.ndarray):
        self.network, self.index = network, index
        mask = np.arange(network.units) != index
        self.theta = float(network.theta[index])
        self.theta_others = network.theta[mask]
        self.others = others
        self.loss_function = network.loss_function
        # share the validated moments of the network instead of recomputing them
        for name in ("S", "u", "eigenvalues", "mu", "L", "S_inv", "rho_star"):
            setattr(self, name, getattr(network, name))
        self.others_along_u = others @ self.u
        self.name = f"unit {index} of a hidden layer"

    @property
    def length_curvature_bound(self) -> float:
        r""":math:`\Psi_i = \Psi_\ell\theta_i^2 + \Phi_\ell|\theta_i|\,4/(3\sqrt3) \ge |\frac{d^2}{dt^2}\ell(r + \theta_i\tanh t)|`."""
        phi = self.loss_function
        return phi.second_bound * self.theta**2 + phi.first_bound * abs(self.theta) * TANH_CURVATURE

    @property
    def smoothness(self) -> float:
        return self.length_curvature_bound * self.L

    def others_parts(self, other_projections: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""From the other units' pre-activations (n, m - 1): :math:`r = \sum_{j\ne i}\theta_j\tanh v_j` and :math:`\theta_j\,\mathrm{sech}^2 v_j`."""
        activations = np.tanh(other_projections)
        return activations @ self.theta_others, (1.0 - activations**2) * self.theta_others

    def evaluation_from_parts(self, average, projections: np.ndarray, rest: np.ndarray, others_slope: np.ndarray,
                              w_tilde: np.ndarray) -> Evaluation:
        r"""Loss, gradient and :math:`c_1, c_2` from the unit's pre-activations :math:`v = z^\top\tilde w` at the average's points.

        ``rest`` and ``others_slope`` come from :meth:`others_parts`. :math:`c_2 = B_{ii}` and
        :math:`c_1` is :func:`unit_coefficient` of the averages :math:`A_i, B_{ii}, B_{ij}`.
        """
        phi = self.loss_function
        activation = np.tanh(projections)
        outputs = rest + self.theta * activation
        first, second = phi.first(outputs), phi.second(outputs)
        slope = 1.0 - activation**2
        weights = first * self.theta * slope
        a = float(average.expectation(weights))
        b_own = float(average.expectation(second * (self.theta * slope) ** 2 + first * self.theta * (-2.0 * activation * slope)))
        b_cross = average.expectation((second * self.theta * slope)[:, None] * others_slope)  # B_ij, j != i
        energy = -self.rho_star  # u^T S^-1 u
        c1 = unit_coefficient(a, b_own, b_cross, float(self.u @ w_tilde), self.others_along_u, energy)
        return Evaluation(float(average.expectation(phi.value(outputs))), average.times_z(weights), c1, b_own)


class UnitProblem(UnitView):
    r"""One unit of a :class:`HiddenLayerNetwork` with the others fixed: :math:`f_i(\tilde w) = \frac1n\sum_k \ell(r_k + \theta_i\tanh(z_k^\top\tilde w))`.

    Here :math:`r_k = \sum_{j\ne i}\theta_j\tanh(z_k^\top\tilde w_j)` is computed once. The class has
    the protocol of :class:`~lib.Halfspace` (``evaluate``, ``ray``, ``smoothness``,
    ``length_curvature_bound``), so :func:`lib.gdnp` and :func:`lib.gd` train the unit.

    Its :math:`c_1`, which sets GDNP's step (Algorithm ``alg-gdnp``), is the plug-in of the
    coefficient of proposition ``prop-unit-decoupling`` (:func:`unit_coefficient` with sample
    means for :math:`A_i, B_{ij}` of lemma ``lem-network-gradient``), and :math:`c_2 = B_{ii}`.

    In the population, with the other units off or on the line of :math:`S^{-1}u`, these are the
    exact coefficients of :math:`\nabla f_i = c_1u + c_2S\tilde w`; with the other units off it is
    the plug-in of :class:`~lib.HalfspaceSample` for the loss :math:`\ell(\theta_i\tanh t)`. (The
    component of the gradient along the Rayleigh direction would be another estimate, but it
    divides by that direction's length, which vanishes near the line: on a sample it is erratic.)
    """

    def __init__(self, network: HiddenLayerNetwork, index: int, others: np.ndarray):
        super().__init__(network, index, others)
        self.n, self.Z = network.n, network.Z
        self.sample_mean = network.sample_mean
        self.rest, self._others_slope = self.others_parts(self.Z @ others.T)  # the fixed units, once

    def _outputs(self, projections: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network outputs F = r + theta tanh(v) and tanh(v), from v = Z w~."""
        activation = np.tanh(projections)
        return self.rest + self.theta * activation, activation

    def _weights(self, outputs: np.ndarray, activation: np.ndarray) -> np.ndarray:
        """The per-sample weights l'(F) theta sech^2(v) of the gradient."""
        return self.loss_function.first(outputs) * self.theta * (1.0 - activation**2)

    def evaluate(self, w_tilde) -> Evaluation:
        w_tilde = self.check_vector("w_tilde", w_tilde)
        return self.evaluation_from_parts(self.sample_mean, self.Z @ w_tilde, self.rest, self._others_slope, w_tilde)

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
        problem = self.problem
        return problem.evaluation_from_parts(problem.sample_mean, g * self.projections, problem.rest, problem._others_slope,
                                   g * self.w_hat)
