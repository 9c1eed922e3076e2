r"""The data moments :math:`(S, u)` shared by every problem of the book.

All objectives of the book depend on the data through the second moment
:math:`S = E[x x^\top]` and the label-weighted first moment :math:`u = E[-y x]` (note the
minus sign: with it the least-squares objective reads :math:`2u^\top\tilde w + \tilde w^\top
S\tilde w`). :class:`Moments` validates them once, stores the spectrum bounds
:math:`\mu = \lambda_{\min}(S)` and :math:`L = \lambda_{\max}(S)` of assumption ``asm-data``,
and offers the Rayleigh-quotient quantities of :mod:`lib.rayleigh` for these moments.

Every problem class (:class:`~lib.LeastSquares`, :class:`~lib.Halfspace`) derives from it and
adds what the solvers need of a problem, the protocol :class:`lib.core.protocols.Problem`
(``evaluate``, ``ray``, ``smoothness``, ``length_curvature_bound``, ``closed_form_length``).
:class:`~lib.core.protocols.Evaluation`, the result of ``evaluate``, is re-exported here.
"""

from __future__ import annotations

import numpy as np

from ..maths import rayleigh
from ..core.protocols import Evaluation
from ..core.scaling import unit_direction
from ..core.validation import as_spd_matrix, as_vector

__all__ = ["Moments", "Evaluation"]


class Moments:
    r"""Validated moments :math:`S = E[xx^\top]` and :math:`u = E[-yx]`.

    Parameters
    ----------
    S : array_like of shape (d, d)
        Symmetric positive definite.
    u : array_like of shape (d,)

    Attributes
    ----------
    S, u : ndarray
    eigenvalues : ndarray of shape (d,)
        The spectrum of ``S`` in increasing order.
    mu, L : float
        :math:`\lambda_{\min}(S)` and :math:`\lambda_{\max}(S)`.
    """

    def __init__(self, S, u):
        S, eigenvalues = as_spd_matrix("S", S)
        self.S = S
        self.u = as_vector("u", u, S.shape[0])
        self.eigenvalues = eigenvalues
        self.mu = float(eigenvalues[0])
        self.L = float(eigenvalues[-1])
        self.S_inv = np.linalg.inv(S)
        self.S_inv = 0.5 * (self.S_inv + self.S_inv.T)
        self.rho_star = -float(self.u @ np.linalg.solve(S, self.u))

    # ------------------------------------------------------------------ basic facts
    @property
    def dim(self) -> int:
        """The dimension :math:`d`."""
        return self.S.shape[0]

    @property
    def condition_number(self) -> float:
        r""":math:`\kappa = L/\mu`."""
        return self.L / self.mu

    @property
    def rate(self) -> float:
        r"""The contraction factor :math:`(1 - \mu/L)^2` of theorem ``thm-ls-rate``."""
        return (1.0 - self.mu / self.L) ** 2

    def check_vector(self, name: str, value) -> np.ndarray:
        """Validate a vector of this problem's dimension (finite, shape ``(d,)``)."""
        return as_vector(name, value, self.dim)

    def check_direction(self, name: str, value) -> np.ndarray:
        """Validate a nonzero vector of this problem's dimension."""
        vector = self.check_vector(name, value)
        if not np.any(vector):
            raise ValueError(
                f"{name} must be nonzero: the zero vector has no direction, and the book's "
                "solvers start from a direction; use a small random start instead"
            )
        return vector

    def dual_norm_sq(self, v) -> float:
        r""":math:`\|v\|_{S^{-1}}^2 = v^\top S^{-1} v`, the norm the book measures gradients in."""
        v = self.check_vector("v", v)
        return float(v @ self.S_inv @ v)

    # ------------------------------------------------------------------ Rayleigh quotient
    def rho(self, w) -> float:
        r""":math:`\rho(w) = -(u^\top w)^2/\|w\|_S^2` (definition ``def-rayleigh``)."""
        return rayleigh.quotient_kernel(self.check_direction("w", w), self.S, self.u)

    def rho_grad(self, w) -> np.ndarray:
        r""":math:`\nabla\rho(w)` (lemma ``lem-rayleigh-grad``)."""
        return rayleigh.gradient_kernel(self.check_direction("w", w), self.S, self.u)

    def rho_gap(self, w) -> float:
        r""":math:`\rho(w) - \rho^*`, in the accurate residual form."""
        return rayleigh.gap_kernel(self.check_direction("w", w), self.S, self.u, self.S_inv)

    def optimal_direction(self) -> np.ndarray:
        r"""The minimising direction :math:`S^{-1}u/\|S^{-1}u\|_S` of :math:`\rho`."""
        direction = self.S_inv @ self.u
        norm = np.sqrt(direction @ self.S @ direction)
        if norm == 0:
            raise ValueError("u = 0: every direction is optimal and rho is identically zero")
        return direction / norm

    def s_cosine(self, w) -> float:
        r"""The cosine of the angle between ``w`` and :math:`S^{-1}u` in the S inner product."""
        w = unit_direction(self.check_direction("w", w), self.S)  # any scale of w
        return float(w @ self.S @ self.optimal_direction())
