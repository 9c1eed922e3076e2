r"""Plain gradient descent on length and direction with constant steps ("BNGD").

Cai, Li and Shen analyse what ordinary training does with a BN unit on least squares:
simultaneous gradient steps on the direction and the length, with constant step sizes and no
line search,

.. math::

   w_{t+1} = w_t - \eta_w\,\nabla_w f(w_t, g_t), \qquad
   g_{t+1} = g_t - \eta_g\,\partial_g f(w_t, g_t),

with the gradients of lemma ``lem-bn-gradients``. Chapter 5 compares it with gradient descent on
:math:`\tilde w` over a range of step sizes. Because :math:`\nabla_w f` is orthogonal to :math:`w`,
:math:`\|w_t\|` grows (lemma ``lem-orthogonal``), and the effective step on the direction,
:math:`\eta_w/\|w_t\|^2` (proposition ``prop-effective-step``), shrinks by itself when
:math:`\eta_w` is too large.
"""

from __future__ import annotations

import numpy as np

from ..core.protocols import check_problem
from ..core.result import OptimizationResult
from ..core.trace import Trace
from ..core.validation import as_finite_float, as_positive_float, as_iteration_count

__all__ = ["bngd"]


def bngd(problem, w0, iterations: int = 100, direction_step: float = 1.0, length_step: float = 0.1,
         g0: float = 1.0, callback=None) -> OptimizationResult:
    r"""Simultaneous gradient descent on :math:`(w, g)` with constant steps (lemma ``lem-bn-gradients``, proposition ``prop-effective-step``).

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,), nonzero
    iterations : int
    direction_step : float
        :math:`\eta_w`.
    length_step : float
        :math:`\eta_g`.
    g0 : float, default 1
        The starting length.
    callback : callable, optional
        See :func:`lib.core.trace.as_callback`; returning True (or raising StopIteration) stops the run.

    Returns
    -------
    OptimizationResult
        The trace adds ``direction_norm_sq`` (:math:`\|w_t\|^2`) and ``effective_step``
        (:math:`\eta_w/\|w_t\|^2`) to the usual ``loss``, ``grad_norm_sq``, ``rho_gap``,
        ``length`` and, for least squares, ``loss_gap``.

    Raises
    ------
    DivergenceError
        If the iterates overflow.
    """
    check_problem(problem)
    w = problem.check_direction("w0", w0)
    iterations = as_iteration_count("iterations", iterations)
    eta_w, eta_g = as_positive_float("direction_step", direction_step), as_positive_float("length_step", length_step)
    g = as_finite_float("g0", g0)
    trace = Trace(problem, "bngd", callback)
    info = dict(direction_step=eta_w, length_step=eta_g)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(iterations + 1):
            norm = float(np.sqrt(w @ problem.S @ w))
            w_hat = w / norm
            w_tilde = g * w_hat
            evaluation = problem.evaluate(w_tilde)
            S_w_hat = problem.S @ w_hat
            if not trace.record(evaluation, w_hat, S_w_hat, g, w=w, w_tilde=w_tilde, direction_norm_sq=w @ w,
                                effective_step=eta_w / (w @ w)):
                raise trace.diverged(t, f"the iterates overflowed with direction step {eta_w:.3g}", w_tilde, g, w, info)
            if trace.report(t, w_tilde, g, w, evaluation.loss) or t == iterations:
                break
            grad = evaluation.grad
            length_derivative = float(grad @ w_hat)
            across = grad - length_derivative * S_w_hat  # the direction part of lemma lem-bn-gradients
            w = w - eta_w * (g / norm) * across  # lemma lem-bn-gradients
            g = g - eta_g * length_derivative
    return trace.result(w_tilde, g, w, info)
