r"""The two solvers of the book: plain gradient descent and GDNP.

``gd`` works in the original coordinates :math:`\tilde w`; ``gdnp`` (gradient descent in
normalised parameters, Algorithm ``alg-gdnp``) works on a direction :math:`w` and a length
:math:`g` with :math:`\tilde w = g w/\|w\|_S`. Both accept any problem of the book
(:class:`~lib.LeastSquares`, :class:`~lib.Halfspace` and its sample form) and return an
:class:`~lib.OptimizationResult` whose trace holds, for every iterate, the quantities the
theorems bound.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.protocols import check_problem, check_start
from ..core.result import OptimizationResult
from ..core.scaling import SAFE_HIGH, SAFE_LOW, unit_and_product
from ..core.trace import DecoupledRun, Trace
from ..core.validation import (as_finite_float, as_matrix, as_positive_float, as_iteration_count,
                               as_vector)
from .least_squares_loops import gd_least_squares, gdnp_least_squares, runs_lean
from .length_search import length_search as choose_length_search

__all__ = ["gd", "gdnp", "gdnp_step_size"]


def gd(problem, w0, iterations: int = 100, step: float | None = None, callback=None) -> OptimizationResult:
    r"""Gradient descent in the original coordinates, the baseline of proposition ``prop-ls-gd``.

    .. math:: \tilde w_{t+1} = \tilde w_t - s\,\nabla f(\tilde w_t), \qquad t = 0, \dots, T-1,

    with the constant step :math:`s = 1/\zeta` by default, where :math:`\zeta` is the
    Lipschitz constant of :math:`\nabla f` (:math:`2L` for least squares, so :math:`s = 1/(2L)`;
    :math:`\sup|\phi''|\,L` for halfspaces). For least squares this is the baseline of
    proposition ``prop-ls-gd``: :math:`f - f^*` contracts by at least :math:`(1-\mu/L)^2` per step.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The start :math:`\tilde w_0`, nonzero.
    iterations : int, default 100
        :math:`T \ge 1`.
    step : float, optional
        A constant step :math:`s > 0`; default :math:`1/\zeta`.
    callback : callable, optional
        See :func:`lib.core.trace.as_callback`; here ``g`` :math:`= \|\tilde w_t\|_S` and
        ``w`` :math:`= \tilde w_t/g`. Returning True (or raising StopIteration) stops the run.

    Returns
    -------
    OptimizationResult
        With ``length`` the S-norm :math:`\|\tilde w_t\|_S` and ``rho_gap`` the direction
        quality :math:`\rho(\tilde w_t) - \rho^*` of each iterate.

    Raises
    ------
    DivergenceError
        If the iterates overflow (a step far above :math:`2/\zeta`); the partial run is attached.

    Notes
    -----
    On least squares without a callback the run takes the lean loop of
    :mod:`lib.solvers.least_squares_loops` (one product with :math:`S` per iterate, the trace in
    blocks): the same iterates and trace, to rounding.
    """
    check_problem(problem)
    w_tilde = problem.check_direction("w0", w0)
    iterations = as_iteration_count("iterations", iterations)
    if step is None and not problem.smoothness > 0:
        raise ValueError(f"the problem's smoothness zeta is {problem.smoothness} (its loss has phi'' = 0), so there is "
                         "no default step 1/zeta; pass step=...")
    step = 1.0 / problem.smoothness if step is None else as_positive_float("step", step)
    info = dict(step=step, smoothness=problem.smoothness)
    trace = Trace(problem, "gd", callback)
    evaluate, S, start = _unchecked_evaluation(problem), problem.S, 0
    with np.errstate(over="ignore", invalid="ignore"):
        if runs_lean(problem, trace):  # least squares without a callback: one product per iterate, on to the end
            start, w_tilde, norm, w_hat = gd_least_squares(problem, w_tilde, iterations, step, trace)
            if start > iterations:
                return trace.result(w_tilde, norm, w_hat, info)
        for t in range(start, iterations + 1):
            S_w = S @ w_tilde  # the one product with S: for the norm, S w^ and the evaluation
            norm_sq = float(w_tilde @ S_w)
            if SAFE_LOW < norm_sq < SAFE_HIGH:
                norm = math.sqrt(norm_sq)
                unit = w_tilde / norm, S_w / norm, norm
            else:  # far out or near 0: the exactly rescaled product (None if w~ is 0 or not finite)
                unit = unit_and_product(w_tilde, S)
                S_w = None
            if unit is None:
                if np.all(np.isfinite(w_tilde)):
                    raise trace.diverged(t, "the iterate hit w_tilde = 0 exactly, where its direction is undefined",
                                         w_tilde, 0.0, w_tilde, info)
                raise trace.diverged(t, f"the iterates overflowed with step {step:.3g} "
                                     f"(1/zeta = {1 / problem.smoothness:.3g})", w_tilde, norm, w_hat, info)
            w_hat, S_w_hat, norm = unit
            evaluation = evaluate(w_tilde, S_w)
            if not trace.record(evaluation, w_hat, S_w_hat, norm, True, w_tilde=w_tilde, c1=evaluation.c1):
                raise trace.diverged(t, f"the iterates overflowed with step {step:.3g} "
                                     f"(1/zeta = {1 / problem.smoothness:.3g})", w_tilde, norm, w_hat, info)
            if trace.report(t, w_tilde, norm, w_hat, evaluation.loss) or t == iterations:
                break
            trace.add(step=step)
            w_tilde = w_tilde - step * evaluation.grad
    return trace.result(w_tilde, norm, w_tilde / norm, info)


def _unchecked_evaluation(problem):
    """The problem's ``evaluate_unchecked(w_tilde, S_w_tilde)``, or its validating ``evaluate`` if it has none."""
    unchecked = getattr(problem, "evaluate_unchecked", None)
    return unchecked if unchecked is not None else lambda w_tilde, S_w_tilde: problem.evaluate(w_tilde)


def gdnp_step_size(w, g, c1, S, u, L) -> float:
    r"""The step size of Algorithm ``alg-gdnp``: :math:`\varsigma = -\|w\|_S^3/(L\,g\,h)` with :math:`h = c_1 u^\top w`.

    Where :math:`g h = 0` the direction gradient vanishes and the algorithm keeps the direction:
    the step size is 0. :func:`gdnp` takes this step at every iteration.

    Parameters
    ----------
    w : array_like of shape (d,), nonzero
        The direction :math:`w`.
    g : float
        The length :math:`g`.
    c1 : float
        The coefficient :math:`c_1(\tilde w)` of :math:`u` in the gradient
        :math:`\nabla F(\tilde w) = c_1 u + c_2 S\tilde w` at :math:`\tilde w = g w/\|w\|_S`
        (:attr:`Evaluation.c1 <lib.moments.Evaluation>`).
    S : array_like of shape (d, d)
        The second moment :math:`S`, symmetric positive definite (not checked here: that costs
        an eigendecomposition; the problem classes check it once).
    u : array_like of shape (d,)
        The vector :math:`u`.
    L : float
        The largest eigenvalue of :math:`S` (``problem.L``).

    Returns
    -------
    float
        :math:`s`, or 0.0 where :math:`g h = 0`.

    Raises
    ------
    ValueError
        If ``w`` is zero, a shape does not match, an entry is not finite, or ``L`` is not
        positive.
    """
    S = as_matrix("S", S)
    w = as_vector("w", w, S.shape[0])
    u = as_vector("u", u, S.shape[0])
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be a square matrix of shape (d, d), got {S.shape}")
    if not np.any(w):
        raise ValueError("the direction w must be nonzero; w = 0 has no direction and ||w||_S = 0")
    g, c1, L = as_finite_float("g", g), as_finite_float("c1", c1), as_positive_float("L", L)
    return _gdnp_step(float(np.sqrt(w @ S @ w)), float(u @ w), g, c1, L)


def _gdnp_step(norm: float, uw: float, g: float, c1: float, L: float) -> float:
    r"""The kernel of :func:`gdnp_step_size`, on validated scalars: ``norm`` is :math:`\|w\|_S`, ``uw`` is :math:`u^\top w`."""
    h = c1 * uw
    if g * h == 0.0:
        return 0.0
    return -(norm**3) / (L * g * h)


def gdnp(problem, w0, iterations: int = 100, g0: float | None = None, bisection_steps: int | None = None,
         max_widenings: int = 40, bracket_radius: float | None = None, callback=None,
         length_search=None) -> OptimizationResult:
    r"""Gradient descent in normalised parameters (GDNP), Algorithm ``alg-gdnp`` (theorems ``thm-ls-rate``, ``thm-halfspace-rate``).

    For :math:`t = 0, \dots, T-1`, with :math:`h(w, g) = c_1(\tilde w)\,u^\top w` and the
    gradient :math:`\nabla_w f` of :math:`f(w, g) = F(g w/\|w\|_S)`:

    .. math::

       \varsigma_t = -\frac{\|w_t\|_S^3}{L\, g_t\, h(w_t, g_t)}, \qquad
       w_{t+1} = w_t - \varsigma_t \nabla_w f(w_t, g_t), \qquad
       g_{t+1} = \operatorname{Bisection}(T_s, f, w_{t+1}).

    With this step the direction iterates are those of gradient descent on the Rayleigh
    quotient with step :math:`\eta_t = \|w_t\|_S^2/(2L|\rho(w_t)|)` whenever
    :math:`\nabla f = c_1u + c_2S\tilde w` (proposition ``prop-gdnp-direction``), whatever the loss.
    If :math:`g_t h = 0` the direction is stationary and is kept. The length comes from a length
    search (:mod:`lib.solvers.length_search`): the closed form of lemma ``lem-ls-length`` for
    least squares, else :math:`T_s` steps of bisection (lemma ``lem-bisection``) on the
    projections of the data on :math:`w_{t+1}`, from a bracket around :math:`g_t`.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The starting direction; needs :math:`u^\top w_0 \ne 0` (:math:`\rho(w_0)\neq 0`).
    iterations : int, default 100
        :math:`T_d \ge 1`, the number of direction steps.
    g0 : float, optional
        The starting length; by default found by the length search along ``w0``.
    bisection_steps, max_widenings, bracket_radius : optional
        The length search, as :func:`lib.solvers.length_search.length_search` builds it:
        :math:`T_s` (default: the closed form where there is one, else 5), the cap on widenings
        of a bracket, and a fixed bracket radius (default adaptive).
    callback : callable, optional
        See :func:`lib.core.trace.as_callback`: ``callback(intermediate_result)``, which stops
        the run by returning True, or ``callback(t, w_tilde, g, w)``.
    length_search : ClosedFormLength or BisectionLength, optional
        The length search as an object, instead of ``bisection_steps`` and ``bracket_radius``.

    Returns
    -------
    OptimizationResult
        The trace adds ``c1``, the parts of lemma ``lem-norm-split``, ``step`` (:math:`\varsigma_t`),
        ``eta`` (:math:`\eta_t`) and, with bisection, ``bracket_width`` and ``length_bound``
        (:math:`\Psi^2 4^{-T_s-1}(b^{(0)}_t - a^{(0)}_t)^2`, the bound of lemma ``lem-bisection``
        on ``grad_norm_sq_length``; ``inf`` at ``t = 0`` when ``g0`` was given).

    Raises
    ------
    ValueError
        If ``w0`` is zero or orthogonal to ``u`` (GDNP cannot start), or another argument is invalid.
    BracketError
        If a length search finds no bracket with a sign change (no finite optimal length).

    Notes
    -----
    On least squares with the closed-form length and without a callback the run takes the lean
    loop of :mod:`lib.solvers.least_squares_loops` (one product with :math:`S` per iterate, the
    trace in blocks): the same iterates and trace, to rounding.
    """
    w, iterations, search, g_start = _gdnp_arguments(problem, w0, iterations, g0, bisection_steps,
                                                     max_widenings, bracket_radius, length_search)
    info = dict(search.info, g0=g0)
    run = DecoupledRun(problem, "gdnp", w, search, info, callback, g0=g_start, parts=True)
    info["w0_hat"] = run.w_hat  # the start is w_tilde_0 = g_0 w0_hat
    with np.errstate(over="ignore", invalid="ignore"):
        start = 0
        if search.bisection_steps is None and runs_lean(problem, run.trace):  # least squares, closed-form length
            start = gdnp_least_squares(problem, run, iterations)
        for t in range(start, iterations + 1):
            evaluation = run.visit(t)
            if run.stopped or t == iterations:
                break
            run.move(t, _gdnp_direction_step(run, evaluation))
    return run.result()


def _gdnp_arguments(problem, w0, iterations, g0, bisection_steps, max_widenings, bracket_radius, search):
    """The validated start, iteration count, length search and starting length (or None) of :func:`gdnp`."""
    w = check_start(problem, w0)
    iterations = as_iteration_count("iterations", iterations)
    if search is None:
        search = choose_length_search(problem, bisection_steps, max_widenings, bracket_radius)
    elif bisection_steps is not None or bracket_radius is not None:
        raise ValueError("pass the length search either as length_search=... or as bisection_steps and "
                         "bracket_radius, not both")
    elif not all(hasattr(search, name) for name in ("find", "info", "bisection_steps")):
        raise TypeError("length_search must be a length search of lib.solvers.length_search (ClosedFormLength, "
                        f"BisectionLength), got {type(search).__name__}")
    elif search.bisection_steps is None and not problem.closed_form_length:
        raise ValueError(f"{type(problem).__name__} has no closed-form optimal length: use a BisectionLength")
    return w, iterations, search, None if g0 is None else as_finite_float("g0", g0)


def _gdnp_direction_step(run: DecoupledRun, evaluation) -> np.ndarray:
    r"""The direction step :math:`w_{t+1} = w_t - \varsigma_t\nabla_w f(w_t, g_t)` of GDNP, recording :math:`\eta_t` and :math:`\varsigma_t`."""
    problem, w, g = run.problem, run.w, run.g
    norm = run.w_norm  # ||w||_S, from the product S w the ray made
    uw = float(problem.u @ w)
    run.trace.add(eta=norm**4 / (2.0 * problem.L * uw**2))
    s = _gdnp_step(norm, uw, g, evaluation.c1, problem.L)  # gdnp_step_size, without validating S, w, u again
    run.trace.add(step=s)
    if s == 0.0:  # g h = 0: the direction gradient vanishes, w is stationary, keep it
        return w
    direction_gradient = (g / norm) * run.direction_residual(evaluation)  # lemma lem-bn-gradients
    return w - s * direction_gradient
