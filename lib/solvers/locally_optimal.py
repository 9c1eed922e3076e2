r"""The locally optimal direction step, run as the conjugate-gradient recurrence (chapter ``ch-faster``).

GDNP moves the direction along the residual :math:`r(w_t) = u - \alpha(w_t) S w_t`,
:math:`\alpha(w) = u^\top w/\|w\|_S^2`, that :math:`\nabla\rho(w_t)` points along. The locally
optimal step minimises :math:`\rho` over :math:`\operatorname{span}\{w_t, r(w_t), w_{t-1}\}` instead;
theorem ``thm-lo-cg`` shows that, for the rank-one pencil :math:`(uu^\top, S)` and a start
:math:`w_0 \in \operatorname{span}\{u\}`, its directions are those of the conjugate-gradient
iterates on :math:`Sx = u`. :func:`locally_optimal` therefore runs the conjugate-gradient
recurrence itself, which is stable in floating point where the Rayleigh-Ritz form
(:func:`lib.rayleigh_ritz`) is not. In the coordinates :math:`\tilde w = g\hat w`, with
:math:`\nabla^\perp_t = \nabla f(\tilde w_t) - (\nabla f(\tilde w_t)^\top\hat w_t)\,S\hat w_t` the direction
part of the gradient (parallel to :math:`\nabla_w f`, lemma ``lem-bn-gradients``), the search
direction :math:`p_t`, its factor :math:`\varpi_t` (a momentum that changes from step to step) and
the step :math:`s_t` on :math:`\tilde w`:

.. math::

   p_t = -\nabla^\perp_t + \varpi_t p_{t-1}, \quad
   \varpi_t = \max\Big(0, \frac{(\nabla^\perp_t)^\top(\nabla^\perp_t - \nabla^\perp_{t-1})}{p_{t-1}^\top(\nabla^\perp_t - \nabla^\perp_{t-1})}\Big), \quad
   s_t = -\frac{(\nabla^\perp_t)^\top p_t}{c_2\, p_t^\top S p_t}, \quad
   w_{t+1} = \tilde w_t + s_t p_t, \quad
   g_{t+1} = \operatorname{Bisection}(T_s, f, w_{t+1}).

On least squares (:math:`c_2 = 2`, the Hessian is :math:`2S`) :math:`s_t` is the exact
minimiser along :math:`p_t`, :math:`\varpi_t` (Hestenes-Stiefel, clipped at 0) is the
conjugate-gradient coefficient, and from :math:`w_0 \propto u` the iterates are those of
conjugate gradients. On halfspaces :math:`c_2 p^\top S p` is the plug-in curvature
:math:`E[\phi''(z^\top\tilde w)]\,p^\top S p` along :math:`p` (exact when :math:`\phi''` is
constant), and the recurrence is a nonlinear conjugate-gradient method on the directions,
restarted along :math:`-\nabla^\perp_t` whenever :math:`p_t` is not a descent direction.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import as_iteration_count
from .length_search import length_search as choose_length_search
from ..core.result import OptimizationResult
from ..core.protocols import check_start
from ..core.trace import DecoupledRun

__all__ = ["locally_optimal", "conjugate_step"]


def conjugate_step(d, d_previous, p_previous) -> tuple[np.ndarray, float]:
    r"""The search direction :math:`p_t = -\nabla^\perp_t + \varpi_t p_{t-1}` with the Hestenes-Stiefel+ coefficient.

    :math:`\varpi_t = \max\big(0, (\nabla^\perp_t)^\top(\nabla^\perp_t - \nabla^\perp_{t-1})/(p_{t-1}^\top(\nabla^\perp_t - \nabla^\perp_{t-1}))\big)`.
    On a quadratic with Hessian :math:`\nabla^2 f`, :math:`\nabla^\perp_t - \nabla^\perp_{t-1}` is :math:`\nabla^2 f`
    times the last step, so :math:`p_t^\top \nabla^2 f\, p_{t-1} = 0` whatever :math:`p_{t-1}` was: :math:`p_t`
    is conjugate to it.
    The first step (``p_previous`` None), a denominator :math:`p_{t-1}^\top(\nabla^\perp_t - \nabla^\perp_{t-1}) \le 0` (no
    positive curvature seen) and any :math:`p_t` that is not a descent direction
    (:math:`(\nabla^\perp_t)^\top p_t \ge 0`) restart along :math:`-\nabla^\perp_t`.

    Parameters
    ----------
    d, d_previous : ndarray of shape (d,)
        The direction parts of the gradient :math:`\nabla^\perp_t, \nabla^\perp_{t-1}`.
    p_previous : ndarray of shape (d,) or None
        The previous search direction.

    Returns
    -------
    p : ndarray of shape (d,)
    beta : float
        :math:`\varpi_t`, 0 at a restart.
    """
    if p_previous is None:
        return -d, 0.0
    y = d - d_previous
    denominator = float(p_previous @ y)
    if not denominator > 0.0:
        return -d, 0.0
    beta = max(0.0, float(d @ y) / denominator)
    p = -d + beta * p_previous
    return (p, beta) if float(d @ p) < 0.0 else (-d, 0.0)


def locally_optimal(problem, w0, iterations: int = 100, bisection_steps: int | None = None,
                    max_widenings: int = 40, bracket_radius: float | None = None,
                    callback=None) -> OptimizationResult:
    r"""Decoupled conjugate directions: the locally optimal direction step of theorem ``thm-lo-cg``, with GDNP's length.

    See the module notes for the update. The length is found as in :func:`lib.gdnp`: the
    closed form of lemma ``lem-ls-length`` for least squares, else :math:`T_s` steps of bisection
    from a bracket around the previous length (:mod:`lib.solvers.length_search`).

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The starting direction, with :math:`u^\top w_0 \ne 0`. With ``w0`` :math:`= u` on least
        squares the directions are those of conjugate gradients on :math:`Sx = u` (theorem
        ``thm-lo-cg``).
    iterations : int, default 100
        The number of direction steps :math:`T`.
    bisection_steps, max_widenings, bracket_radius
        The length search, as for :func:`lib.gdnp`.
    callback : callable, optional
        Called as ``callback(t, w_tilde, g, w)`` after each iterate is recorded; its time is left
        out of the ``time`` trace.

    Returns
    -------
    OptimizationResult
        With the trace of :class:`lib.core.trace.Trace` and, per step, ``step`` (:math:`s_t`)
        and ``beta`` (the factor :math:`\varpi_t`, 0 at a restart).

    Raises
    ------
    ValueError
        If ``w0`` is zero or orthogonal to ``u``, or another argument is invalid.
    DivergenceError
        If an iterate is not finite.
    BracketError
        If a length search finds no finite optimal length.
    """
    w = check_start(problem, w0)
    iterations = as_iteration_count("iterations", iterations)
    search = choose_length_search(problem, bisection_steps, max_widenings, bracket_radius)
    quadratic = search.closed_form  # f is quadratic: the gradient changes by c2 S times the step
    info = dict(search.info, recurrence="conjugate gradients on w_tilde" if quadratic else "nonlinear conjugate gradients")
    run = DecoupledRun(problem, "locally_optimal", w, search, info, callback)
    S = problem.S
    x = run.g * run.w_hat  # the point the recurrence moves
    # the length search from 0 was the first line search, along p = x with the gradient at 0
    p, d_previous, d = x, problem.evaluate(np.zeros(problem.dim)).grad, None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            evaluation = run.visit(t)
            if run.stopped or t == iterations:
                break
            if d is None or not quadratic:  # the direction part of the gradient at x = w_tilde
                d = evaluation.grad - float(evaluation.grad @ run.w_hat) * run.S_w_hat
            p, beta = conjugate_step(d, d_previous, p)
            run.trace.add(beta=beta)
            d_previous = d
            S_p = S @ p
            curvature = evaluation.c2 * float(p @ S_p)
            step = -float(d @ p) / curvature if curvature > 0.0 else 0.0
            run.trace.add(step=step)
            if step == 0.0:  # d = 0 (a critical direction) or no positive curvature: keep the direction
                continue
            x = x + step * p
            if quadratic:  # on a quadratic the new gradient is d + step * c2 S p (conjugate gradients)
                d = d + (step * evaluation.c2) * S_p
            run.move(t, -x if run.g < 0.0 else x)  # oriented like w_hat, so that the length keeps its sign
            if not quadratic:
                x = run.g * run.w_hat
    return run.result()
