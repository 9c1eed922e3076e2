r"""The two solvers of the book: plain gradient descent and GDNP.

``gd`` works in the original coordinates :math:`\tilde w`; ``gdnp`` (gradient descent in
normalised parameters, Algorithm ``alg-gdnp``) works on a direction :math:`w` and a length
:math:`g` with :math:`\tilde w = g w/\|w\|_S`. Both accept any problem of the book
(:class:`~lib.LeastSquares`, :class:`~lib.Halfspace` and its sample form) and return an
:class:`~lib.OptimizationResult` whose trace holds, for every iterate, the quantities the
theorems bound.
"""

from __future__ import annotations

import time

import numpy as np

from ..core.scaling import s_norm_of, unit_direction
from ..core.validation import (as_callback, as_finite_float, as_matrix, as_positive_float, as_positive_int,
                          as_vector)
from ..maths.decoupling import _direction_residual
from .length_search import DEFAULT_BISECTION_STEPS, LengthSearch
from ..problems.moments import Evaluation, Moments
from ..core.result import DivergenceError, OptimizationResult
from ..core.trace import check_start

__all__ = ["gd", "gdnp", "gdnp_step_size"]

def _check_problem(problem) -> None:
    if not isinstance(problem, Moments) or not hasattr(problem, "evaluate"):
        raise TypeError(
            "problem must be one of the book's problems (lib.LeastSquares, lib.Halfspace, "
            f"Halfspace.from_data(...)), got {type(problem).__name__}"
        )


class _Trace:
    """Collects per-iterate quantities and turns them into numpy arrays at the end."""

    def __init__(self, problem: Moments):
        self.problem = problem
        self.columns: dict[str, list[float]] = {}
        self.start = time.perf_counter()

    def pause(self, seconds: float) -> None:
        """Leave ``seconds`` (spent on work that is not the algorithm's) out of the time trace."""
        self.start += seconds

    def monitor(self, callback, *arguments) -> None:
        """Call ``callback(*arguments)`` if it is not None, leaving its time out of the trace."""
        if callback is not None:
            started = time.perf_counter()
            callback(*arguments)
            self.pause(time.perf_counter() - started)

    def add(self, **values: float) -> None:
        for key, value in values.items():
            self.columns.setdefault(key, []).append(float(value))

    def record_state(self, evaluation: Evaluation, w_tilde: np.ndarray, w: np.ndarray, g: float) -> bool:
        """Record the quantities of one iterate (direction ``w``, length ``g``).

        Returns False, recording nothing, if any of them is not finite (the run diverged).
        """
        problem = self.problem
        S, S_inv = problem.S, problem.S_inv
        grad = evaluation.grad
        w_hat = unit_direction(w, S)  # any scale of w
        along = float(grad @ w_hat)
        across = _direction_residual(grad, w_hat, S)
        values = dict(
            loss=evaluation.loss,
            grad_norm_sq=grad @ S_inv @ grad,
            grad_norm_sq_length=along * along,
            grad_norm_sq_direction=across @ S_inv @ across,
            rho_gap=problem.rho_gap(w),
            length=g,
            c1=evaluation.c1,
            time=time.perf_counter() - self.start,
        )
        if hasattr(problem, "_loss_gap"):
            values["loss_gap"] = problem._loss_gap(w_tilde)
        if not all(np.isfinite(v) for v in values.values()):
            return False
        self.add(**values)
        return True

    def arrays(self) -> dict[str, np.ndarray]:
        return {key: np.asarray(column) for key, column in self.columns.items()}


def _diverged(method: str, t: int, detail: str, trace: _Trace, w_tilde, g, w, info) -> DivergenceError:
    arrays = trace.arrays()
    shortest = min((len(v) for k, v in arrays.items() if k not in ("step", "eta")), default=0)
    if t == 0:
        detail = f"{detail}, already at the start (before any step): the start is too large for float64"
    arrays = {k: v[: shortest if k not in ("step", "eta") else max(shortest - 1, 0)] for k, v in arrays.items()}
    partial = OptimizationResult(method, w_tilde, g, w, arrays, info)
    return DivergenceError(f"{method} diverged at iteration {t}: {detail}", partial)


def gd(problem, w0, iterations: int = 100, step: float | None = None, callback=None) -> OptimizationResult:
    r"""Gradient descent in the original coordinates.

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
        Called as ``callback(t, w_tilde, g, w)`` after each iterate is recorded, with
        ``g`` :math:`= \|\tilde w_t\|_S` and ``w`` :math:`= \tilde w_t/g` (as :func:`gdnp` calls it),
        for monitoring; the time it takes is left out of the ``time`` trace.

    Returns
    -------
    OptimizationResult
        With ``length`` the S-norm :math:`\|\tilde w_t\|_S` and ``rho_gap`` the direction
        quality :math:`\rho(\tilde w_t) - \rho^*` of each iterate.

    Raises
    ------
    DivergenceError
        If the iterates overflow (a step far above :math:`2/\zeta`); the partial run is attached.
    """
    _check_problem(problem)
    w_tilde = problem.check_direction("w0", w0)
    iterations = as_positive_int("iterations", iterations)
    callback = as_callback("callback", callback)
    if step is None and not problem.smoothness > 0:
        raise ValueError(f"the problem's smoothness zeta is {problem.smoothness} (its loss has phi'' = 0), so there is "
                         "no default step 1/zeta; pass step=...")
    step = 1.0 / problem.smoothness if step is None else as_positive_float("step", step)
    info = dict(step=step, smoothness=problem.smoothness)
    trace = _Trace(problem)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            evaluation = problem.evaluate(w_tilde)
            norm = s_norm_of(w_tilde, problem.S)  # any scale of w_tilde
            if norm == 0.0:
                raise _diverged("gd", t, "the iterate hit w_tilde = 0 exactly, where its direction "
                                "is undefined", trace, w_tilde, 0.0, w_tilde, info)
            if not trace.record_state(evaluation, w_tilde, w_tilde, norm):
                raise _diverged("gd", t, f"the iterates overflowed with step {step:.3g} "
                                f"(1/zeta = {1 / problem.smoothness:.3g})", trace, w_tilde,
                                norm, w_tilde / norm, info)
            trace.monitor(callback, t, w_tilde, norm, w_tilde / norm)
            if t < iterations:
                trace.add(step=step)
                w_tilde = w_tilde - step * evaluation.grad
    return OptimizationResult("gd", w_tilde, norm, w_tilde / norm, trace.arrays(), info)


def gdnp_step_size(w, g, c1, S, u, L) -> float:
    r"""The step size of Algorithm ``alg-gdnp``: :math:`s = -\|w\|_S^3/(L\,g\,h)` with :math:`h = c_1 u^\top w`.

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


def gdnp(
    problem,
    w0,
    iterations: int = 100,
    g0: float | None = None,
    bisection_steps: int | None = None,
    max_widenings: int = 40,
    bracket_radius: float | None = None,
    callback=None,
) -> OptimizationResult:
    r"""Gradient descent in normalised parameters (GDNP), Algorithm ``alg-gdnp``.

    For :math:`t = 0, \dots, T-1`, with :math:`h(w, g) = c_1(\tilde w)\,u^\top w` and the
    gradient :math:`\nabla_w f` of :math:`f(w, g) = F(g w/\|w\|_S)`:

    .. math::

       s_t = -\frac{\|w_t\|_S^3}{L\, g_t\, h(w_t, g_t)}, \qquad
       w_{t+1} = w_t - s_t \nabla_w f(w_t, g_t), \qquad
       g_{t+1} = \operatorname{Bisection}(T_s, f, w_{t+1}).

    With this step :math:`s_t\nabla_w f(w_t,g_t) = \eta_t\nabla\rho(w_t)` where
    :math:`\eta_t = \|w_t\|_S^2/(2L|\rho(w_t)|)` whenever :math:`\nabla f = c_1u + c_2S\tilde w`
    (least squares, and halfspaces with Gaussian inputs): the direction iterates are those of
    gradient descent on the Rayleigh quotient, whatever the loss (theorem ``thm-ls-rate`` then
    gives :math:`\rho(w_t)-\rho^* \le (1-\mu/L)^{2t}(\rho(w_0)-\rho^*)`). If :math:`g_t h = 0`
    the direction is already stationary and is kept.

    The length is the closed form :math:`g^*(w) = -u^\top w/\|w\|_S` for least squares (lemma
    ``lem-ls-length``) unless ``bisection_steps`` is given, and otherwise :math:`T_s` steps of
    bisection on :math:`\partial_g f(w_{t+1}, \cdot)` (lemma ``lem-bisection``) started from a
    bracket around :math:`g_t`. The bisection works on the projections of the data on
    :math:`w_{t+1}`, computed once per step: it never touches the data matrix itself.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The starting direction; needs :math:`u^\top w_0 \ne 0` (:math:`\rho(w_0)\neq 0`).
    iterations : int, default 100
        :math:`T_d \ge 1`, the number of direction steps.
    g0 : float, optional
        The starting length; by default it is found by the length search along ``w0``.
    bisection_steps : int, optional
        :math:`T_s`; default: closed form where there is one, else
        ``DEFAULT_BISECTION_STEPS`` (5). The bracket of each search is centred at the previous
        length with a radius of twice its last change, and widened when it has no sign change.
    max_widenings : int, default 40
        Cap on the widenings of a bracket without a sign change (see :func:`lib.bisection`).
    bracket_radius : float, optional
        Start every length search from the bracket :math:`g_t \pm` ``bracket_radius`` (as in the
        paper's algorithm, whose bracket does not shrink: the length term of theorem
        ``thm-halfspace-rate`` then stays near :math:`\Psi^2 4^{-T_s-1}(2r)^2`). By default the
        radius is adaptive, twice the last change of the length, which needs ``bisection_steps``
        of at least 3 to shrink.
    callback : callable, optional
        Called as ``callback(t, w_tilde, g, w)`` after each iterate is recorded, for monitoring;
        the time it takes is left out of the ``time`` trace.

    Returns
    -------
    OptimizationResult
        The trace adds ``c1``, ``step`` (:math:`s_t`), ``eta`` (:math:`\eta_t`) and, when
        bisection is used, ``bracket_width`` (:math:`b^{(0)}_t - a^{(0)}_t`) and
        ``length_bound`` (:math:`\Psi^2 4^{-T_s-1}(b^{(0)}_t - a^{(0)}_t)^2`, the bound of lemma
        ``lem-bisection`` on ``grad_norm_sq_length``; ``inf`` at ``t = 0`` when ``g0`` was given).

    Raises
    ------
    ValueError
        If ``w0`` is zero or orthogonal to ``u`` (the direction gradient vanishes there and
        GDNP cannot start), or other arguments are invalid.
    BracketError
        If a length search finds no bracket with a sign change (no finite optimal length).
    """
    w = check_start(problem, w0)
    iterations = as_positive_int("iterations", iterations)
    callback = as_callback("callback", callback)
    S, u, L = problem.S, problem.u, problem.L
    search = LengthSearch(problem, bisection_steps, max_widenings, bracket_radius)
    closed_form = search.closed_form
    info = dict(search.info, g0=g0)
    trace = _Trace(problem)
    psi = problem.length_curvature_bound

    def search_length(ray, g_previous: float, last_change: float | None) -> float:
        root, width = search.find(ray, g_previous, last_change)
        if width is not None:
            trace.add(bracket_width=width, length_bound=psi**2 * 4.0 ** (-search.bisection_steps - 1) * width**2)
        return root

    ray = problem.ray(w)
    info["w0_hat"] = ray.w_hat  # the start is w_tilde_0 = g_0 w0_hat
    last_change = None
    if g0 is None:
        g = search_length(ray, 0.0, None)
    else:
        g = as_finite_float("g0", g0)
        if not closed_form:
            trace.add(bracket_width=0.0, length_bound=np.inf)

    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            w_tilde = g * ray.w_hat
            evaluation = ray.evaluate(g)
            if not trace.record_state(evaluation, w_tilde, w, g):
                raise _diverged("gdnp", t, "the loss or gradient is not finite", trace, w_tilde, g, w, info)
            trace.monitor(callback, t, w_tilde, g, w)
            if t == iterations:
                break
            norm = float(np.sqrt(w @ S @ w))
            uw = float(u @ w)
            trace.add(eta=norm**4 / (2.0 * L * uw**2))
            s = _gdnp_step(norm, uw, g, evaluation.c1, L)  # gdnp_step_size, without validating S, w, u again
            if s == 0.0:  # g h = 0: the direction gradient vanishes, w is stationary, keep it
                trace.add(step=0.0)
            else:
                direction_gradient = (g / norm) * _direction_residual(evaluation.grad, ray.w_hat, S)
                w = w - s * direction_gradient
                trace.add(step=s)
            if not np.all(np.isfinite(w)):
                raise _diverged("gdnp", t, "the direction left the floating-point range", trace, w_tilde, g, w, info)
            ray = problem.ray(w)
            g_next = search_length(ray, g, last_change)
            last_change, g = g_next - g, g_next
    return OptimizationResult("gdnp", w_tilde, g, w, trace.arrays(), info)
