r"""Length-direction decoupling: the reparametrisation that Batch Normalization performs.

A unit with weights :math:`\tilde w` is written as a length :math:`g \in \mathbb R` times a
direction :math:`w \neq 0` measured in the S-norm,

.. math:: \tilde w = g\, \frac{w}{\|w\|_S}, \qquad \|w\|_S = \sqrt{w^\top S w},

(book label ``eq-reparam``, the paper's Eq. (9)). For any differentiable objective
:math:`F(\tilde w)` the reparametrised objective :math:`f(w, g) = F(g w / \|w\|_S)` has

.. math::

   \partial_g f = \frac{w^\top \nabla F(\tilde w)}{\|w\|_S}, \qquad
   \nabla_w f = \frac{g}{\|w\|_S}\Big(I - \frac{S w w^\top}{\|w\|_S^2}\Big)\nabla F(\tilde w),

(lemma ``lem-bn-gradients``) and the gradient norm splits exactly into a length part and a
direction part (lemma ``lem-norm-split``),

.. math::

   \|\nabla F(\tilde w)\|_{S^{-1}}^2 = (\partial_g f)^2
     + \frac{\|w\|_S^2}{g^2}\,\|\nabla_w f\|_{S^{-1}}^2 .

The public functions validate their input; the underscore kernels do not and serve the
solvers' inner loops.
"""

from __future__ import annotations

import numpy as np

from ..core.scaling import rescaled, s_norm_of, unit_direction
from ..core.validation import as_spd_matrix, as_vector

__all__ = [
    "s_norm",
    "to_w_tilde",
    "from_w_tilde",
    "split_gradient",
    "norm_split",
]


# --------------------------------------------------------------------------- kernels
def _s_norm(w: np.ndarray, S: np.ndarray) -> float:
    return s_norm_of(w, S)  # from w rescaled by a power of two: right for any finite w


def _finite(name: str, value, why: str):
    """``value`` if all its entries are finite, else a ValueError saying that ``name`` is beyond float64 and ``why``."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} is beyond the float64 range (about 1.8e308): {why}")
    return value


def _direction_residual(grad: np.ndarray, w_hat: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Return ``grad - (grad . w_hat) S w_hat`` for a direction of unit S-norm."""
    return grad - (grad @ w_hat) * (S @ w_hat)


# --------------------------------------------------------------------------- public
def _check_pair(w, S) -> tuple[np.ndarray, np.ndarray]:
    S, _ = as_spd_matrix("S", S)
    w = as_vector("w", w, S.shape[0])
    return w, S


def _check_direction(w: np.ndarray) -> None:
    if not np.any(w):
        raise ValueError(
            "the direction w must be nonzero: w = 0 has no direction, so g w / ||w||_S is undefined"
        )


def s_norm(w, S) -> float:
    r"""The S-norm :math:`\|w\|_S = \sqrt{w^\top S w}` of a vector (book label ``def-s-norm``).

    Parameters
    ----------
    w : array_like of shape (d,)
    S : array_like of shape (d, d), symmetric positive definite

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If an argument is invalid, or the norm is beyond float64 (computed from ``w`` rescaled by a
        power of two, it is right for every ``w`` whose norm is representable).
    """
    w, S = _check_pair(w, S)
    return _finite("||w||_S", _s_norm(w, S), f"|w| = {np.max(np.abs(w)):.3g} is too large")


def to_w_tilde(g, w, S) -> np.ndarray:
    r"""Map a length and a direction to the weights: :math:`\tilde w = g\,w/\|w\|_S`.

    Implements the reparametrisation ``eq-reparam`` (the paper's Eq. (9)).

    Parameters
    ----------
    g : float
        The length (BN's scale :math:`\gamma`); any real number.
    w : array_like of shape (d,)
        The direction; nonzero, any scale.
    S : array_like of shape (d, d)
        The second moment :math:`E[x x^\top]`, symmetric positive definite.

    Returns
    -------
    ndarray of shape (d,)

    Raises
    ------
    ValueError
        If an argument is invalid or ``w`` is zero, or :math:`g\,w/\|w\|_S` is beyond float64
        (the direction is computed from ``w`` rescaled by a power of two: any finite ``w`` works).
    """
    w, S = _check_pair(w, S)
    _check_direction(w)
    g = float(as_vector("g", [g])[0])
    with np.errstate(over="ignore"):
        w, _ = rescaled(w)  # exact: g w / ||w||_S is the same, to the bit where w.S.w is in range
        w_tilde = g * w / _s_norm(w, S)
    return _finite("g w / ||w||_S", w_tilde, f"the length g = {g:.3g} is too large")


def from_w_tilde(w_tilde, S) -> tuple[float, np.ndarray]:
    r"""Split weights into length and direction: :math:`g = \|\tilde w\|_S`, :math:`w = \tilde w/g`.

    The inverse of :func:`to_w_tilde` up to the free scale of ``w``: the direction returned
    has unit S-norm and the length is non-negative.

    Raises
    ------
    ValueError
        If ``w_tilde`` is zero (it has no direction), or its S-norm is beyond float64.
    """
    w_tilde, S = _check_pair(w_tilde, S)
    if not np.any(w_tilde):
        raise ValueError("w_tilde = 0 has no direction; expected a nonzero weight vector")
    g = _finite("g = ||w_tilde||_S", _s_norm(w_tilde, S), f"|w_tilde| = {np.max(np.abs(w_tilde)):.3g} is too large")
    return g, unit_direction(w_tilde, S)


def split_gradient(grad_F, g, w, S) -> tuple[float, np.ndarray]:
    r"""The gradient of :math:`f(w, g) = F(g w/\|w\|_S)` from the gradient of :math:`F`.

    Implements lemma ``lem-bn-gradients``:

    .. math::

       \partial_g f = \frac{w^\top \nabla F}{\|w\|_S}, \qquad
       \nabla_w f = \frac{g}{\|w\|_S}\Big(\nabla F - \frac{w^\top \nabla F}{\|w\|_S^2} S w\Big).

    Parameters
    ----------
    grad_F : array_like of shape (d,)
        :math:`\nabla F(\tilde w)` at :math:`\tilde w = g w/\|w\|_S`.
    g : float
    w : array_like of shape (d,), nonzero
    S : array_like of shape (d, d)

    Returns
    -------
    length_derivative : float
        :math:`\partial_g f(w, g)`.
    direction_gradient : ndarray of shape (d,)
        :math:`\nabla_w f(w, g)`; Euclidean-orthogonal to ``w``.

    Raises
    ------
    ValueError
        If an argument is invalid or ``w`` is zero, or :math:`\nabla_w f` (which scales as
        :math:`g/|w|`) is beyond float64.
    """
    w, S = _check_pair(w, S)
    _check_direction(w)
    grad_F = as_vector("grad_F", grad_F, S.shape[0])
    g = float(as_vector("g", [g])[0])
    w, k = rescaled(w)  # exact: w_hat is the same, and ||w||_S = 2^k ||w 2^-k||_S
    norm = _s_norm(w, S)
    w_hat = w / norm
    with np.errstate(over="ignore"):
        direction_gradient = np.ldexp((g / norm) * _direction_residual(grad_F, w_hat, S), -k)
    return float(grad_F @ w_hat), _finite("the direction gradient g/||w||_S (...)", direction_gradient,
                                          f"|g| / |w| = {abs(g):.3g} / {np.ldexp(1.0, k):.3g} is too large")


def norm_split(grad_F, w, S) -> tuple[float, float]:
    r"""The length part and the direction part of :math:`\|\nabla F(\tilde w)\|_{S^{-1}}^2`.

    Implements lemma ``lem-norm-split``: with :math:`\hat w = w/\|w\|_S`,

    .. math::

       \|\nabla F\|_{S^{-1}}^2 = \underbrace{(\hat w^\top \nabla F)^2}_{(\partial_g f)^2}
         + \underbrace{\|\nabla F - (\hat w^\top\nabla F) S\hat w\|_{S^{-1}}^2}_{
           \|w\|_S^2\|\nabla_w f\|_{S^{-1}}^2 / g^2}.

    The direction part is computed from the projected vector itself, not as a difference of
    the two other terms, so it stays accurate when it is tiny.

    Returns
    -------
    length_part, direction_part : float
    """
    w, S = _check_pair(w, S)
    _check_direction(w)
    grad_F = as_vector("grad_F", grad_F, S.shape[0])
    w_hat = unit_direction(w, S)
    residual = _direction_residual(grad_F, w_hat, S)
    return float(grad_F @ w_hat) ** 2, float(residual @ np.linalg.solve(S, residual))
