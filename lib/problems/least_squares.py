r"""Least squares in population form: the paper's Eq. (10) and the book's chapter 2.

.. math::

   f(\tilde w) = 2u^\top\tilde w + \tilde w^\top S\tilde w
   \;=\; E[(y - x^\top\tilde w)^2] - E[y^2],

with :math:`u = E[-yx]` and :math:`S = E[xx^\top]` (equation ``eq-ls``). Its gradient is
:math:`\nabla f = 2u + 2S\tilde w`, its Hessian :math:`2S`, so :math:`\nabla f` is
:math:`2L`-Lipschitz, and the unique minimiser is :math:`\tilde w^* = -S^{-1}u` with
:math:`f^* = -u^\top S^{-1}u = \rho^*`.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core.scaling import unit_and_product
from ..core.validation import as_matrix, as_vector
from .moments import Evaluation, Moments

__all__ = ["LeastSquares"]


class LeastSquares(Moments):
    r"""The population least-squares problem :math:`f(\tilde w) = 2u^\top\tilde w + \tilde w^\top S\tilde w`.

    Implements equation ``eq-ls`` (the paper's Eq. (10) without its constant :math:`E[y^2]`).

    Parameters
    ----------
    S : array_like of shape (d, d)
        :math:`E[xx^\top]`, symmetric positive definite.
    u : array_like of shape (d,)
        :math:`E[-yx]`.

    Examples
    --------
    >>> import numpy as np, lib
    >>> problem = lib.LeastSquares(np.diag([1.0, 4.0]), [1.0, -2.0])
    >>> problem.minimizer()
    array([-1. ,  0.5])
    """

    name = "least squares"
    #: :math:`\partial_g^2 f(w, g) = 2` exactly.
    length_curvature_bound = 2.0
    #: The optimal length has the closed form of lemma ``lem-ls-length``.
    closed_form_length = True

    @classmethod
    def from_data(cls, X, y) -> "LeastSquares":
        r"""The sample version: :math:`S = X^\top X/n`, :math:`u = -X^\top y/n`.

        Then :math:`\frac1n\|y - X\tilde w\|^2 = f(\tilde w) + \frac1n\|y\|^2` exactly.

        Parameters
        ----------
        X : array_like of shape (n, d)
            Inputs, one row per sample; assumption ``asm-data`` asks for centred columns.
        y : array_like of shape (n,)
            Real targets.
        """
        X = as_matrix("X", X)
        y = as_vector("y", y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {y.shape[0]} entries; expected one target per row"
            )
        n = X.shape[0]
        return cls(X.T @ X / n, -(X.T @ y) / n)

    @property
    def smoothness(self) -> float:
        r"""The Lipschitz constant :math:`\zeta = 2L` of :math:`\nabla f`."""
        return 2.0 * self.L

    def loss(self, w_tilde) -> float:
        r""":math:`f(\tilde w) = 2u^\top\tilde w + \tilde w^\top S\tilde w`."""
        w_tilde = self.check_vector("w_tilde", w_tilde)
        with np.errstate(over="ignore", invalid="ignore"):
            return _in_range("f(w_tilde)", float(2.0 * self.u @ w_tilde + w_tilde @ self.S @ w_tilde), w_tilde)

    def grad(self, w_tilde) -> np.ndarray:
        r""":math:`\nabla f(\tilde w) = 2u + 2S\tilde w`."""
        w_tilde = self.check_vector("w_tilde", w_tilde)
        with np.errstate(over="ignore", invalid="ignore"):
            return _in_range("the gradient 2u + 2S w_tilde", 2.0 * (self.u + self.S @ w_tilde), w_tilde)

    def minimizer(self) -> np.ndarray:
        r"""The unique minimiser :math:`\tilde w^* = -S^{-1}u`."""
        return -np.linalg.solve(self.S, self.u)

    def minimum(self) -> float:
        r""":math:`f^* = -u^\top S^{-1} u`, equal to :math:`\rho^*`."""
        return self.rho_star

    def loss_gap(self, w_tilde) -> float:
        r""":math:`f(\tilde w) - f^* = (u + S\tilde w)^\top S^{-1}(u + S\tilde w)`, accurate when tiny."""
        w_tilde = self.check_vector("w_tilde", w_tilde)
        with np.errstate(over="ignore", invalid="ignore"):
            return _in_range("f(w_tilde) - f*", self._loss_gap(w_tilde), w_tilde)

    def _loss_gap(self, w_tilde: np.ndarray) -> float:
        residual = self.u + self.S @ w_tilde
        return float(residual @ self.S_inv @ residual)

    def evaluate(self, w_tilde) -> Evaluation:
        r"""Loss and gradient; here :math:`\nabla f = c_1 u + c_2 S\tilde w` with :math:`c_1 = c_2 = 2`.

        Beyond float64 (:math:`|\tilde w| \gtrsim 10^{154}`) the loss is inf, which the solvers
        report as divergence; :meth:`loss` and :meth:`grad` raise ValueError instead.
        """
        w_tilde = self.check_vector("w_tilde", w_tilde)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.evaluate_unchecked(w_tilde)

    def evaluate_unchecked(self, w_tilde: np.ndarray, S_w_tilde: np.ndarray | None = None) -> Evaluation:
        r""":meth:`evaluate` without validating ``w_tilde`` (a solver's own iterate), from :math:`S\tilde w` if given.

        For a solver that checked its start once and has the product :math:`S\tilde w` already:
        then the evaluation costs :math:`O(d)`. Beyond float64 the values are inf or NaN.
        """
        Sw = self.S @ w_tilde if S_w_tilde is None else S_w_tilde
        return Evaluation(
            loss=2.0 * float(self.u @ w_tilde) + float(w_tilde @ Sw),  # 2 u.w~ exactly as (2u).w~: a power of two
            grad=2.0 * (self.u + Sw),
            c1=2.0,
            c2=2.0,
        )

    @functools.cached_property
    def S_inv_factor(self) -> np.ndarray:
        r"""The lower Cholesky factor :math:`C` of :math:`S^{-1} = CC^\top` (Fortran order), computed once.

        Then :math:`\|v\|_{S^{-1}}^2 = \|v^\top C\|^2`: a block of such norms costs one triangular
        product, half the work of a product with :math:`S^{-1}`.
        """
        return np.asfortranarray(np.linalg.cholesky(self.S_inv))

    def loss_gap_from_gradient(self, grad_norm_sq):
        r""":math:`f - f^* = \|\nabla f\|_{S^{-1}}^2/4`, from the gradient norms a trace computed.

        Since :math:`\nabla f = 2(u + S\tilde w)`, :meth:`loss_gap` is a quarter of
        :math:`\|\nabla f\|_{S^{-1}}^2` (a power of two: the quarter adds no rounding).
        """
        return 0.25 * np.asarray(grad_norm_sq, dtype=float)

    def ray(self, w) -> "LeastSquaresRay":
        """The length problem along the direction ``w`` (see :class:`LeastSquaresRay`)."""
        return LeastSquaresRay(self, self.check_direction("w", w))


def _in_range(name: str, value, w_tilde: np.ndarray):
    """``value`` if it is finite, else a ValueError: ``name`` at this ``w_tilde`` is beyond float64."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} is beyond the float64 range at |w_tilde| = {np.max(np.abs(w_tilde)):.3g} (it grows "
                         "like |w_tilde|^2 for the loss); expected a w_tilde whose loss is representable")
    return value


class LeastSquaresRay:
    r"""The length problem :math:`g \mapsto f(g\hat w) = 2gm + g^2` along :math:`\hat w = w/\|w\|_S`.

    Here :math:`m = u^\top\hat w`; the minimiser is :math:`g^*(w) = -m = -u^\top w/\|w\|_S`
    (lemma ``lem-ls-length``, the paper's Eq. (12)).
    """

    def __init__(self, problem: LeastSquares, w: np.ndarray):
        self.problem = problem
        self.aim(w)

    def aim(self, w: np.ndarray) -> bool:
        r"""Turn the ray to the direction ``w`` (finite, nonzero, not validated), with one product :math:`Sw`.

        Sets ``w_hat``, ``S_w_hat`` (:math:`S\hat w`), ``norm`` (:math:`\|w\|_S`) and ``slope``
        (:math:`u^\top\hat w`). Returns False, leaving the ray as it was, if ``w`` is not finite or zero.
        """
        unit = unit_and_product(w, self.problem.S)  # any scale of w
        if unit is None:
            return False
        self.w_hat, self.S_w_hat, self.norm = unit
        self.slope = float(self.problem.u @ self.w_hat)
        return True

    def value(self, g: float) -> float:
        return 2.0 * g * self.slope + g * g

    def derivative(self, g: float) -> float:
        return 2.0 * (self.slope + g)

    def exact_minimizer(self) -> float:
        """The closed-form optimal length :math:`g^*(w) = -u^\\top w/\\|w\\|_S`."""
        return -self.slope

    def evaluate(self, g: float) -> Evaluation:
        r"""The evaluation at :math:`g\hat w`, from :math:`S(g\hat w) = g\,S\hat w` (no product with :math:`S`)."""
        return self.problem.evaluate_unchecked(g * self.w_hat, g * self.S_w_hat)
