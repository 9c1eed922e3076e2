r"""Momentum: the heavy ball in the original coordinates and on the directions (chapter ``ch-faster``).

Polyak's heavy ball adds a multiple of the last step to a gradient step,

.. math:: \tilde w_{t+1} = \tilde w_t - s\,\nabla f(\tilde w_t) + \varpi\,(\tilde w_t - \tilde w_{t-1}),
   \qquad \tilde w_{-1} = \tilde w_0 .

With the Hessian's spectrum in :math:`[\mu_H, L_H]`, the step :math:`s = 4/(\sqrt{L_H} + \sqrt{\mu_H})^2` and
the momentum :math:`\varpi = q^2`, :math:`q = (\sqrt{L_H/\mu_H} - 1)/(\sqrt{L_H/\mu_H} + 1)`, make the error
contract like :math:`q^t` up to a factor linear in :math:`t` (theorem ``thm-heavy-ball``): the
iterations scale with :math:`\sqrt\kappa` instead of :math:`\kappa`. :func:`heavy_ball` runs it
on :math:`\tilde w`, with :math:`[\mu_H, L_H] = [\zeta/\kappa, \zeta]` from the smoothness
:math:`\zeta` and :math:`\kappa = L/\mu` of :math:`S` (exact for least squares, whose Hessian is
:math:`2S`). :func:`momentum_gdnp` puts the momentum on the direction of GDNP instead and finds
the length as GDNP does.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import as_finite_float, as_positive_float, as_iteration_count
from .length_search import length_search as choose_length_search
from ..core.result import OptimizationResult
from ..core.protocols import check_problem, check_start
from ..core.trace import DecoupledRun, Trace
from .descent import gdnp_step_size

__all__ = ["heavy_ball", "heavy_ball_parameters", "momentum_gdnp"]


def heavy_ball_parameters(smallest: float, largest: float) -> tuple[float, float]:
    r"""Polyak's step and momentum for a Hessian with spectrum in :math:`[\mu_H, L_H]`, :math:`0 < \mu_H \le L_H`.

    ``smallest`` is :math:`\mu_H` and ``largest`` is :math:`L_H`. Returns
    :math:`s = 4/(\sqrt{L_H} + \sqrt{\mu_H})^2` and
    :math:`\varpi = \big((\sqrt{L_H} - \sqrt{\mu_H})/(\sqrt{L_H} + \sqrt{\mu_H})\big)^2` (theorem ``thm-heavy-ball``;
    for least squares :math:`\mu_H = 2\mu` and :math:`L_H = 2L`).
    """
    smallest, largest = as_positive_float("smallest", smallest), as_positive_float("largest", largest)
    if smallest > largest:
        raise ValueError(f"the Hessian's spectrum [smallest, largest] needs smallest <= largest, got {smallest} > {largest}")
    root_m, root_M = np.sqrt(smallest), np.sqrt(largest)
    return 4.0 / (root_M + root_m) ** 2, ((root_M - root_m) / (root_M + root_m)) ** 2


def _checked_momentum(momentum, default: float) -> float:
    """``default`` if ``momentum`` is None, else ``momentum`` checked to lie in [0, 1)."""
    momentum = default if momentum is None else as_finite_float("momentum", momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    return momentum


def heavy_ball(problem, w0, iterations: int = 100, step: float | None = None, momentum: float | None = None,
               callback=None) -> OptimizationResult:
    r"""The heavy ball on :math:`\tilde w` (theorem ``thm-heavy-ball``), from :math:`\tilde w_{-1} = \tilde w_0`.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The start :math:`\tilde w_0`, nonzero.
    iterations : int, default 100
    step, momentum : float, optional
        :math:`s > 0` and :math:`0 \le \varpi < 1`; by default :func:`heavy_ball_parameters` of
        :math:`[\zeta/\kappa, \zeta]`, for least squares :math:`s = 2/(\sqrt L + \sqrt\mu)^2`.
    callback : callable, optional
        See :func:`lib.core.trace.as_callback`: ``callback(intermediate_result)``, which stops the
        run by returning True, or ``callback(t, w_tilde, g, w)``; here ``g`` :math:`= \|\tilde w_t\|_S`
        and ``w`` :math:`= \tilde w_t/g`.

    Returns
    -------
    OptimizationResult
        With ``length`` :math:`\|\tilde w_t\|_S` and ``rho_gap`` :math:`\rho(\tilde w_t) - \rho^*`.

    Raises
    ------
    DivergenceError
        If the iterates overflow, or hit :math:`\tilde w = 0` where the direction is undefined.
    """
    check_problem(problem)
    w_tilde = problem.check_direction("w0", w0)
    iterations = as_iteration_count("iterations", iterations)
    if not problem.smoothness > 0:
        raise ValueError(f"the problem's smoothness zeta is {problem.smoothness} (its loss has phi'' = 0): the heavy "
                         "ball's parameters need the spectrum [zeta/kappa, zeta] of the Hessian bound")
    default_step, default_momentum = heavy_ball_parameters(problem.smoothness / problem.condition_number,
                                                           problem.smoothness)
    step = default_step if step is None else as_positive_float("step", step)
    momentum = _checked_momentum(momentum, default_momentum)
    info = dict(step=step, momentum=momentum)
    trace = Trace(problem, "heavy_ball", callback)
    previous, norm = w_tilde, float("nan")  # the last iterate and its S-norm (w0 is finite: checked above)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            if not np.all(np.isfinite(w_tilde)):
                raise trace.diverged(t, f"the iterates overflowed with step {step:.3g}", previous, norm, previous / norm, info)
            evaluation = problem.evaluate(w_tilde)
            S_w = problem.S @ w_tilde
            norm = float(np.sqrt(max(w_tilde @ S_w, 0.0)))
            if not norm > 0.0 or not trace.record(evaluation, w_tilde / norm, S_w / norm, norm):
                raise trace.diverged(t, "the iterate is zero or not finite", w_tilde, norm, w_tilde, info)
            if trace.report(t, w_tilde, norm, w_tilde / norm, evaluation.loss) or t == iterations:
                break
            w_tilde, previous = w_tilde - step * evaluation.grad + momentum * (w_tilde - previous), w_tilde
    return trace.result(w_tilde, norm, w_tilde / norm, info)


def momentum_gdnp(problem, w0, iterations: int = 100, momentum: float | None = None,
                  step_factor: float | None = None, bisection_steps: int | None = None,
                  max_widenings: int = 40, bracket_radius: float | None = None,
                  callback=None) -> OptimizationResult:
    r"""GDNP with a heavy ball on the direction (theorems ``thm-heavy-ball``, ``thm-momentum-direction``): the length as in Algorithm ``alg-gdnp``.

    With GDNP's step :math:`\varsigma_t` (:func:`lib.solvers.gdnp_step_size`) and its direction gradient
    :math:`\nabla_w f(w_t, g_t)`,

    .. math::

       w_{t+1} = w_t - \psi L\, \varsigma_t \nabla_w f(w_t, g_t) + \varpi\,(w_t - w_{t-1}), \quad w_{-1} = w_0, \qquad
       g_{t+1} = \operatorname{Bisection}(T_s, f, w_{t+1}),

    after which both :math:`w_{t+1}` and :math:`w_t` are divided by :math:`\|w_{t+1}\|_S` (the
    step is homogeneous of degree one in :math:`(w_t, w_{t-1})`, so this only keeps the numbers
    in range). On least squares and Gaussian halfspaces
    :math:`\varsigma_t\nabla_w f = -r(w_t)/(L\alpha_t)` with :math:`r(w) = u - \alpha(w) S w`, :math:`\alpha_t = \alpha(w_t)`,
    :math:`\alpha_t = u^\top w_t/\|w_t\|_S^2`: GDNP's direction step is a gradient step of size
    :math:`1/L` on :math:`Sx = u` for :math:`x = \alpha_t w_t`. The defaults
    :math:`\psi L` with :math:`\psi = 4/(\sqrt L + \sqrt\mu)^2` and :math:`\varpi = q^2` turn it into the heavy ball
    of theorem ``thm-heavy-ball`` on that system, linearised about the optimal direction.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The starting direction, with :math:`u^\top w_0 \ne 0`.
    iterations : int, default 100
    momentum : float, optional
        :math:`0 \le \varpi < 1`; default :math:`q^2`, :math:`q = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`.
    step_factor : float, optional
        :math:`\psi L > 0` (the book's :math:`\psi` of theorem ``thm-momentum-direction`` times :math:`L`), the
        multiple of GDNP's step; default :math:`4L/(\sqrt L + \sqrt\mu)^2`.
        With ``momentum=0`` and ``step_factor=1`` the iterates are GDNP's.
    bisection_steps, max_widenings, bracket_radius
        The length search, as for :func:`lib.gdnp`.
    callback : callable, optional
        See :func:`lib.core.trace.as_callback`: ``callback(intermediate_result)``, which stops the
        run by returning True, or ``callback(t, w_tilde, g, w)``, after each iterate is recorded.

    Returns
    -------
    OptimizationResult
        With the trace of :class:`lib.core.trace.Trace` and, per step, ``step`` (:math:`\psi L\, \varsigma_t`).
    """
    w = check_start(problem, w0)
    iterations = as_iteration_count("iterations", iterations)
    search = choose_length_search(problem, bisection_steps, max_widenings, bracket_radius)
    S, u, L = problem.S, problem.u, problem.L
    default_factor, default_momentum = heavy_ball_parameters(problem.mu, L)
    step_factor = default_factor * L if step_factor is None else as_positive_float("step_factor", step_factor)
    momentum = _checked_momentum(momentum, default_momentum)
    info = dict(search.info, momentum=momentum, step_factor=step_factor)
    run = DecoupledRun(problem, "momentum_gdnp", w, search, info, callback)
    previous = w
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            evaluation = run.visit(t)
            if run.stopped or t == iterations:
                break
            w = run.w
            s = step_factor * gdnp_step_size(w, run.g, evaluation.c1, S, u, L)
            direction_gradient = (run.g / np.sqrt(w @ S @ w)) * run.direction_residual(evaluation)
            w_next = w - s * direction_gradient + momentum * (w - previous)
            run.trace.add(step=s)
            scale = 1.0 / np.sqrt(w_next @ S @ w_next) if np.all(np.isfinite(w_next)) else 1.0
            previous = scale * w
            run.move(t, scale * w_next)
    return run.result()
