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
    return float(np.sqrt(max(w @ S @ w, 0.0)))


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
    """
    w, S = _check_pair(w, S)
    return _s_norm(w, S)


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
    """
    w, S = _check_pair(w, S)
    _check_direction(w)
    g = float(as_vector("g", [g])[0])
    return g * w / _s_norm(w, S)


def from_w_tilde(w_tilde, S) -> tuple[float, np.ndarray]:
    r"""Split weights into length and direction: :math:`g = \|\tilde w\|_S`, :math:`w = \tilde w/g`.

    The inverse of :func:`to_w_tilde` up to the free scale of ``w``: the direction returned
    has unit S-norm and the length is non-negative.

    Raises
    ------
    ValueError
        If ``w_tilde`` is zero (it has no direction).
    """
    w_tilde, S = _check_pair(w_tilde, S)
    if not np.any(w_tilde):
        raise ValueError("w_tilde = 0 has no direction; expected a nonzero weight vector")
    g = _s_norm(w_tilde, S)
    return g, w_tilde / g


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
    """
    w, S = _check_pair(w, S)
    _check_direction(w)
    grad_F = as_vector("grad_F", grad_F, S.shape[0])
    g = float(as_vector("g", [g])[0])
    norm = _s_norm(w, S)
    w_hat = w / norm
    return float(grad_F @ w_hat), (g / norm) * _direction_residual(grad_F, w_hat, S)


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
    w_hat = w / _s_norm(w, S)
    residual = _direction_residual(grad_F, w_hat, S)
    return float(grad_F @ w_hat) ** 2, float(residual @ np.linalg.solve(S, residual))
