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

Near the optimum, GDNP's error evolves by the compressed map :math:`P(I - cS/L)P`, where
:math:`P` projects orthogonally to :math:`\bar u = S^{-1/2}u`, up to a term of second order
(proposition ``prop-ls-compressed``); :func:`compressed_rate` returns the square of its spectral
radius, the one-step ratio of gaps that this map allows.
"""

from __future__ import annotations

import numpy as np

from ..core.scaling import rescaled
from ..core.validation import as_finite_float, as_spd_matrix, as_vector

__all__ = ["rayleigh_quotient", "rayleigh_gradient", "rayleigh_minimum", "rayleigh_gap", "compressed_rate"]


# --------------------------------------------------------------------------- kernels
# quotient_kernel, gradient_kernel and gap_kernel compute on arguments their caller validated
# (lib.problems.moments.Moments validates S and u once, w at each call); the public functions
# below validate first.
def _residual(w: np.ndarray, S: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return ``(u - alpha S w, u.w, ||w||_S^2)`` with ``alpha = u.w / ||w||_S^2``, for ``w`` rescaled exactly.

    The caller passes ``w`` with its largest entry in [0.5, 1) (:func:`lib.core.scaling.rescaled`):
    the residual does not depend on the scale of ``w``, and the products stay in range.
    """
    Sw = S @ w
    norm_sq = float(w @ Sw)
    uw = float(u @ w)
    return u - (uw / norm_sq) * Sw, uw, norm_sq


# Every kernel first rescales w by a power of two (exact): rho and its gap do not depend on the
# scale of w, the gradient scales as 1/|w| and is scaled back by the same power of two. For a w
# whose products w.S.w stay in range the results are the same to the bit as without rescaling;
# for any other finite nonzero w (|w| up to 1e308, down to 1e-308) they are right instead of
# overflowing or underflowing.
def quotient_kernel(w, S, u) -> float:
    """:math:`\\rho(w)` without validation (see :func:`rayleigh_quotient`)."""
    w, _ = rescaled(w)
    return -float(u @ w) ** 2 / float(w @ S @ w)


def gradient_kernel(w, S, u) -> np.ndarray:
    """:math:`\\nabla\\rho(w)` without validation (see :func:`rayleigh_gradient`)."""
    w, k = rescaled(w)
    residual, uw, norm_sq = _residual(w, S, u)
    return np.ldexp((-2.0 * uw / norm_sq) * residual, -k)


def gap_kernel(w, S, u, S_inv) -> float:
    """:math:`\\rho(w) - \\rho^*` in residual form without validation (see :func:`rayleigh_gap`)."""
    w, _ = rescaled(w)
    residual, _, _ = _residual(w, S, u)
    return max(float(residual @ S_inv @ residual), 0.0)


# --------------------------------------------------------------------------- public
#: Passed as ``w`` by the functions of the moments alone (a user's ``w=None`` must be refused, not skipped).
_NO_DIRECTION = object()


def _check(w, S, u):
    S, _ = as_spd_matrix("S", S)
    u = as_vector("u", u, S.shape[0])
    if w is _NO_DIRECTION:
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
    return quotient_kernel(w, S, u)


def rayleigh_gradient(w, S, u) -> np.ndarray:
    r"""The gradient :math:`\nabla\rho(w)`; Euclidean-orthogonal to ``w`` (lemma ``lem-rayleigh-grad``).

    It scales as :math:`\nabla\rho(cw) = \nabla\rho(w)/c`.

    Raises
    ------
    ValueError
        If an argument is invalid, or ``w`` is so small that the gradient is beyond float64.
    """
    w, S, u = _check(w, S, u)
    with np.errstate(over="ignore"):
        gradient = gradient_kernel(w, S, u)
    if not np.all(np.isfinite(gradient)):
        raise ValueError(f"the gradient of rho at w is beyond float64 (|w| = {np.max(np.abs(w)):.3g}: it scales "
                         "as 1/|w|); rescale w (rho depends only on its direction)")
    return gradient


def rayleigh_minimum(S, u) -> float:
    r""":math:`\rho^* = -u^\top S^{-1} u`, the minimum of :math:`\rho` (lemma ``lem-rayleigh-min``)."""
    _, S, u = _check(_NO_DIRECTION, S, u)
    return -float(u @ np.linalg.solve(S, u))


def rayleigh_gap(w, S, u) -> float:
    r"""The gap :math:`\rho(w) - \rho^* \ge 0`, computed in residual form (see the module notes)."""
    w, S, u = _check(w, S, u)
    return gap_kernel(w, S, u, np.linalg.inv(S))


def compressed_rate(S, u, step_factor: float = 1.0) -> float:
    r"""The square of the spectral radius of the compressed map (proposition ``prop-ls-compressed``):
    near the optimum, GDNP's one-step ratio of :math:`\rho - \rho^*` is at most this, up to
    :math:`o(1)`, and tends to it from a start along the top eigenvector of the map.

    With :math:`\bar u = S^{-1/2}u`, :math:`P = I - \bar u\bar u^\top/\|\bar u\|^2` and, for the step
    :math:`c\,\eta_t` of algorithm ``alg-gdnp-ls`` (``c = step_factor``), :math:`M_c = I - cS/L`,
    it returns :math:`\max |\lambda(P M_c P)|^2`, the largest eigenvalue in absolute value on the
    hyperplane orthogonal to :math:`\bar u`, squared. For :math:`c = 1` this is :math:`\lambda_C^2
    \le (1 - \mu/L)^2`, and for :math:`d \ge 2` with equality exactly when an eigenvector of
    :math:`S` for :math:`\mu` is orthogonal to :math:`u`. In dimension 1 there is no error to
    compress: the result is 0.

    Parameters
    ----------
    S : array_like of shape (d, d), symmetric positive definite
    u : array_like of shape (d,), nonzero
    step_factor : float, > 0
        The factor :math:`c` of the step :math:`c\,\eta_t` (exercise ``ex-ls-step-size``).
    """
    _, S, u = _check(_NO_DIRECTION, S, u)
    if not np.any(u):
        raise ValueError("u = 0: rho is identically 0 and has no optimal direction to converge to")
    step_factor = as_finite_float("step_factor", step_factor)
    if not step_factor > 0:
        raise ValueError(f"step_factor must be a finite number > 0, got {step_factor!r}")
    eigenvalues, vectors = np.linalg.eigh(S)
    u, _ = rescaled(u)  # only the direction of u enters P: rescaled exactly, its norm cannot underflow
    u_bar = vectors @ ((vectors.T @ u) / np.sqrt(eigenvalues))  # S^-1/2 u
    u_hat = u_bar / np.linalg.norm(u_bar)
    across = np.eye(len(u)) - np.outer(u_hat, u_hat)  # P; its own eigenvalue 0 on u_bar does not
    step_map = np.eye(len(u)) - (step_factor / eigenvalues[-1]) * S  # raise max |eigenvalue|
    compressed = across @ step_map @ across
    radius = float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (compressed + compressed.T)))))
    if not radius < 1e154:
        raise ValueError(f"step_factor = {step_factor:.3g} gives the compressed map the spectral radius {radius:.3g}, "
                         "whose square is beyond float64; expected a step factor of order 1 (GDNP converges for 0 < c < 2)")
    return radius**2
