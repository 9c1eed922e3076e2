r"""The hidden layer of chapter 4 in the Gaussian model, by two-dimensional quadrature.

:class:`GaussianHiddenLayer` is the objective ``eq-network`` with :math:`z \sim N(u, S - uu^\top)`
(assumption ``asm-gaussian``) instead of a sample. Its integrands depend on :math:`z` only through
the pre-activations :math:`z^\top\tilde w_j`. When the nonzero rows of :math:`\tilde W` lie on at
most two lines, these are functions of two jointly Gaussian projections, and every expectation is
a two-dimensional integral (:mod:`lib.gaussian_plane`, accurate to about 1e-11). That covers a
network of two units anywhere, a network whose units lie on the line of :math:`S^{-1}u` but one,
and the view of one unit whose partners share one direction (:class:`GaussianUnit`), which is
what unit-wise GDNP (Algorithm ``alg-unitwise-gdnp``) needs for two units.

The gradient is computed directly, :math:`E[\ell'(F)\,\theta_i\,\mathrm{sech}^2(v_i)\,z]`, through
the conditional mean :math:`E[z \mid p]` of the Gaussian model, and not through Stein's lemma: the
checks of chapter 4 compare it with the decomposition of lemma ``lem-network-gradient``.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.scaling import unit_direction
from ..maths.gaussian_plane import PlaneRule, plane_rule
from .moments import Evaluation, Moments
from .network import HiddenLayer, UnitView

__all__ = ["GaussianHiddenLayer", "GaussianUnit", "LINE_TOLERANCE", "quadrature_rule"]

#: Two rows lie on one line when the S-sine of their angle is below this.
LINE_TOLERANCE = 1e-12


def _lines(S: np.ndarray, rows: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """The distinct lines of the nonzero rows: (S-unit direction, largest S-norm of a row on it)."""
    lines = []
    for row in rows:
        norm = math.sqrt(float(row @ S @ row))
        if norm == 0.0:
            continue
        for k, (direction, largest) in enumerate(lines):
            rest = row - float(direction @ S @ row) * direction
            if math.sqrt(max(float(rest @ S @ rest), 0.0)) <= LINE_TOLERANCE * norm:
                lines[k] = (direction, max(largest, norm))
                break
        else:
            lines.append((row / norm, norm))
    return lines


def quadrature_rule(moments: Moments, rows: np.ndarray) -> PlaneRule:
    """A quadrature rule for integrands of the pre-activations of ``rows`` (at most two lines).

    Each line's kink is graded with the width 1/max(1, largest length on it): tanh(c t) changes
    over |t| ~ 1/|c|.
    """
    lines = _lines(moments.S, rows)
    if len(lines) > 2:
        raise ValueError(
            f"the nonzero rows lie on {len(lines)} different lines: the Gaussian hidden layer integrates over two "
            "projections of z, so its weights may lie on at most two lines (for instance two units, or units on "
            "the line of S^-1 u and one more)"
        )
    if not lines:  # every unit off: the integrands are constant, any one-dimensional rule is exact
        lines = [(moments.optimal_direction(), 1.0)]
    scales = [1.0 / max(1.0, largest) for _, largest in lines]
    second = lines[1][0] if len(lines) == 2 else None
    return plane_rule(moments.S, moments.u, lines[0][0], second, (scales[0], scales[-1]))


class GaussianHiddenLayer(HiddenLayer):
    r"""The objective ``eq-network`` in the Gaussian model: :math:`f(\tilde W) = E[\ell(\sum_i\theta_i\tanh(z^\top\tilde w_i))]`.

    Parameters
    ----------
    S, u : array_like
        The moments; :math:`u \ne 0` and :math:`u^\top S^{-1}u < 1`, so that :math:`z` has a
        nondegenerate Gaussian law :math:`N(u, S - uu^\top)`.
    theta : array_like of shape (m,)
        The fixed output weights, all nonzero.
    loss : str, Loss or tuple, default "logistic"
        The outer loss :math:`\ell`.

    Every method that takes weights :math:`\tilde W` needs its nonzero rows on at most two lines
    (``ValueError`` otherwise); :meth:`unit` needs the other units on at most one line.
    """

    name = "hidden layer (Gaussian model)"

    def __init__(self, S, u, theta, loss="logistic"):
        super().__init__(S, u, theta, loss)
        energy = -self.rho_star
        if not 0.0 < energy < 1.0:
            raise ValueError(f"the Gaussian model needs 0 < u^T S^-1 u < 1, here it is {energy:.6g}")

    def _average(self, W_tilde: np.ndarray) -> PlaneRule:
        return quadrature_rule(self, W_tilde)

    def _unit(self, index: int, others: np.ndarray) -> "GaussianUnit":
        return GaussianUnit(self, index, others)


class GaussianUnit(UnitView):
    r"""One unit of a :class:`GaussianHiddenLayer` with the others fixed, on one line (or off).

    The population counterpart of :class:`lib.network.UnitProblem`, with the same protocol, so
    that :func:`lib.gdnp` trains it. Its :math:`c_1` is :func:`lib.network.unit_coefficient` of
    the exact :math:`A_i, B_{ij}`.
    """

    def __init__(self, network: GaussianHiddenLayer, index: int, others: np.ndarray):
        super().__init__(network, index, others)
        if len(_lines(self.S, others)) > 1:
            raise ValueError(
                "the other units must lie on one line (or be off): with the unit's own direction the integrands "
                "then depend on two projections of z"
            )
        self.name = f"unit {index} of a hidden layer (Gaussian model)"

    def _evaluate_with(self, rule: PlaneRule, w_tilde: np.ndarray) -> Evaluation:
        rest, others_slope = self.others_parts(rule.projections(self.others))
        return self.evaluation_from_parts(rule, rule.projections(w_tilde), rest, others_slope, w_tilde)

    def evaluate(self, w_tilde) -> Evaluation:
        w_tilde = self.check_vector("w_tilde", w_tilde)
        return self._evaluate_with(quadrature_rule(self, np.vstack([w_tilde, self.others])), w_tilde)

    def ray(self, w) -> "GaussianUnitRay":
        return GaussianUnitRay(self, self.check_direction("w", w))


class GaussianUnitRay:
    r"""The length problem of a :class:`GaussianUnit`: :math:`\partial_g f_i = E[\ell'(F)\,\theta_i\,\mathrm{sech}^2(g q)\,q]`, :math:`q = z^\top\hat w`.

    The quadrature rule depends on the length only through the width of the unit's kink,
    :math:`1/\max(1, |g|)`; it is built once per power of two of :math:`\max(1, |g|)` and kept,
    with the other units' part of every integrand, so that the length search costs one pass over
    the nodes per derivative.
    """

    def __init__(self, problem: GaussianUnit, w: np.ndarray):
        self.problem = problem
        self.w_hat = unit_direction(w, problem.S)  # any scale of w
        self.slope = float(problem.u @ self.w_hat)
        self._cache: dict[float, tuple] = {}

    def _parts(self, g: float) -> tuple:
        """(rule, q, rest, others' slopes) for lengths up to the power of two above max(1, |g|)."""
        bucket = 2.0 ** math.ceil(math.log2(max(1.0, abs(g))))
        if bucket not in self._cache:
            problem = self.problem
            rule = quadrature_rule(problem, np.vstack([bucket * self.w_hat, problem.others]))
            self._cache[bucket] = (rule, rule.projections(self.w_hat), *problem.others_parts(rule.projections(problem.others)))
        return self._cache[bucket]

    def value(self, g: float) -> float:
        rule, q, rest, _ = self._parts(g)
        return float(rule.expectation(self.problem.loss_function.value(rest + self.problem.theta * np.tanh(g * q))))

    def derivative(self, g: float) -> float:
        rule, q, rest, _ = self._parts(g)
        activation = np.tanh(g * q)
        first = self.problem.loss_function.first(rest + self.problem.theta * activation)
        return float(rule.expectation(first * self.problem.theta * (1.0 - activation**2) * q))

    def evaluate(self, g: float) -> Evaluation:
        rule, q, rest, others_slope = self._parts(g)
        return self.problem.evaluation_from_parts(rule, g * q, rest, others_slope, g * self.w_hat)
