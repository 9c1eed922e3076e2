r"""The generalised Rayleigh quotient that governs every direction update of the book.

For the moments :math:`S = E[xx^\top]` (symmetric positive definite) and :math:`u = E[-yx]`,

.. math::

   \rho(w) = -\frac{(u^\top w)^2}{\|w\|_S^2}, \qquad
   \rho^* = \min_{w\neq 0}\rho(w) = -u^\top S^{-1}u \quad\text{attained on } w \propto S^{-1}u,

(definition ``def-rayleigh``, lemma ``lem-rayleigh-min``) with gradient

.. math::

   \nabla\rho(w) = -\frac{2\,u^\top w}{\|w\|_S^2}\Big(u - \frac{u^\top w}{\|w\|_S^2} S w\Big).

The gap is computed in the residual form (lemma ``lem-rayleigh-min``)

.. math:: \rho(w) - \rho^* = \Big\| u - \frac{u^\top w}{\|w\|_S^2} S w \Big\|_{S^{-1}}^2 ,

which, unlike the difference of two numbers near :math:`\rho^*`, keeps its relative accuracy
when the gap is tiny; the book measures one-step contraction ratios of gaps down to 1e-25.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_spd_matrix, as_vector

__all__ = ["rayleigh_quotient", "rayleigh_gradient", "rayleigh_minimum", "rayleigh_gap"]


# --------------------------------------------------------------------------- kernels
def _residual(w: np.ndarray, S: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return ``(u - alpha S w, u.w, ||w||_S^2)`` with ``alpha = u.w / ||w||_S^2``."""
    Sw = S @ w
    norm_sq = float(w @ Sw)
    uw = float(u @ w)
    return u - (uw / norm_sq) * Sw, uw, norm_sq


def _rho(w, S, u) -> float:
    return -float(u @ w) ** 2 / float(w @ S @ w)


def _rho_grad(w, S, u) -> np.ndarray:
    residual, uw, norm_sq = _residual(w, S, u)
    return (-2.0 * uw / norm_sq) * residual


def _rho_gap(w, S, u, S_inv) -> float:
    residual, _, _ = _residual(w, S, u)
    return max(float(residual @ S_inv @ residual), 0.0)


# --------------------------------------------------------------------------- public
def _check(w, S, u):
    S, _ = as_spd_matrix("S", S)
    u = as_vector("u", u, S.shape[0])
    if w is None:
        return None, S, u
    w = as_vector("w", w, S.shape[0])
    if not np.any(w):
        raise ValueError("rho(w) is not defined at w = 0 (it depends only on the direction of w)")
    return w, S, u


def rayleigh_quotient(w, S, u) -> float:
    r"""The generalised Rayleigh quotient :math:`\rho(w) = -(u^\top w)^2/\|w\|_S^2`.

    Implements definition ``def-rayleigh``. Scale invariant: :math:`\rho(cw) = \rho(w)`.

    Parameters
    ----------
    w : array_like of shape (d,), nonzero
    S : array_like of shape (d, d), symmetric positive definite
    u : array_like of shape (d,)
    """
    w, S, u = _check(w, S, u)
    return _rho(w, S, u)


def rayleigh_gradient(w, S, u) -> np.ndarray:
    r"""The gradient :math:`\nabla\rho(w)`; Euclidean-orthogonal to ``w`` (lemma ``lem-rayleigh-grad``)."""
    w, S, u = _check(w, S, u)
    return _rho_grad(w, S, u)


def rayleigh_minimum(S, u) -> float:
    r""":math:`\rho^* = -u^\top S^{-1} u`, the minimum of :math:`\rho` (lemma ``lem-rayleigh-min``)."""
    _, S, u = _check(None, S, u)
    return -float(u @ np.linalg.solve(S, u))


def rayleigh_gap(w, S, u) -> float:
    r"""The gap :math:`\rho(w) - \rho^* \ge 0`, computed in residual form (see the module notes)."""
    w, S, u = _check(w, S, u)
    return _rho_gap(w, S, u, np.linalg.inv(S))
