r"""What the accelerated decoupled solvers share: the checks of a start, and a lean trace.

:func:`check_start` refuses a start from which no decoupled solver can move (the zero vector, a
direction orthogonal to :math:`u`, where :math:`\rho = 0` and the direction gradient vanishes).
:class:`RunTrace` records, for every iterate :math:`\tilde w_t = g_t\hat w_t`, the quantities
the theorems of chapter ``ch-faster`` bound, at the cost of at most four products with a
:math:`d\times d` matrix: the loss, :math:`\|\nabla f\|_{S^{-1}}^2`, the direction gap
:math:`\rho(w_t) - \rho^* = \|u - (u^\top\hat w)S\hat w\|_{S^{-1}}^2` (lemma ``lem-rayleigh-min``,
in residual form from the product :math:`S\hat w` the solver already computed), the length, the
time and, where the problem has it, :math:`f - f^*`.
"""

from __future__ import annotations

import time

import numpy as np

from ..problems.moments import Moments
from .scaling import moderated, rescaled
from .validation import as_callback
from .result import DivergenceError, OptimizationResult

__all__ = ["check_problem", "check_start", "RunTrace", "DecoupledRun"]


def check_problem(problem) -> None:
    """Raise TypeError unless ``problem`` is one of the book's problems."""
    if not isinstance(problem, Moments) or not hasattr(problem, "evaluate"):
        raise TypeError(
            "problem must be one of the book's problems (lib.LeastSquares, lib.Halfspace, "
            f"Halfspace.from_data(...)), got {type(problem).__name__}"
        )


def check_start(problem, w0) -> np.ndarray:
    """Validate a problem of the book and a starting direction from which a decoupled solver can move.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)

    Returns
    -------
    ndarray
        ``w0`` as a float array; if its largest entry lies outside :math:`[2^{-256}, 2^{256}]`,
        rescaled by a power of two into :math:`[0.5, 1)` (exactly: the decoupled solvers depend
        only on its direction, and their steps on :math:`\\|w\\|_S^3` then stay in range).

    Raises
    ------
    TypeError
        If ``problem`` is not one of the book's problems.
    ValueError
        If ``w0`` is zero, ``u`` is zero, or ``w0`` is orthogonal to ``u`` (then
        :math:`\\rho(w_0) = 0` and the direction gradient vanishes).
    """
    check_problem(problem)
    w = problem.check_direction("w0", w0)
    u_dual = np.sqrt(-problem.rho_star)
    if u_dual == 0.0:
        raise ValueError(
            "u = E[-y x] is zero: rho is identically zero and every direction is optimal, so "
            "there is no direction to find; the minimiser is w_tilde = 0"
        )
    unit, _ = rescaled(w)  # exact: the cosine depends only on the direction, and w.S.w stays in range
    cosine = float(problem.u @ unit) / (u_dual * np.sqrt(unit @ problem.S @ unit))
    if abs(cosine) < 1e-12:
        raise ValueError(
            f"w0 is orthogonal to u (u.w0 / (||u||_S^-1 ||w0||_S) = {cosine:.2g}): there "
            "rho(w0) = 0, the direction gradient vanishes and the solver cannot start; perturb w0"
        )
    return moderated(w)


class RunTrace:
    """The per-iterate record of a run, turned into an :class:`~lib.OptimizationResult` at the end.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    method : str
        The solver's name, as the result reports it.
    """

    def __init__(self, problem: Moments, method: str):
        self.problem = problem
        self.method = method
        self.columns: dict[str, list[float]] = {}
        self.start = time.perf_counter()

    def add(self, **values: float) -> None:
        """Append one value to each named column (step quantities, such as ``step``)."""
        for key, value in values.items():
            self.columns.setdefault(key, []).append(float(value))

    def record(self, loss: float, grad: np.ndarray, w_hat: np.ndarray, S_w_hat: np.ndarray, g: float) -> bool:
        r"""Record the iterate :math:`\tilde w = g\hat w` with :math:`\|\hat w\|_S = 1`, its loss and gradient.

        ``S_w_hat`` is :math:`S\hat w`, computed by the solver. Returns False, recording nothing,
        if a quantity is not finite (the run diverged).
        """
        problem = self.problem
        if not (np.isfinite(loss) and np.isfinite(g) and np.all(np.isfinite(grad)) and np.all(np.isfinite(w_hat))):
            return False
        residual = problem.u - float(problem.u @ w_hat) * S_w_hat
        values = dict(loss=loss, grad_norm_sq=grad @ problem.S_inv @ grad,
                      rho_gap=max(float(residual @ problem.S_inv @ residual), 0.0), length=g,
                      time=time.perf_counter() - self.start)
        if hasattr(problem, "loss_gap"):
            values["loss_gap"] = problem.loss_gap(g * w_hat)
        if not all(np.isfinite(v) for v in values.values()):
            return False
        self.add(**values)
        return True

    def monitor(self, callback, *arguments) -> None:
        """Call ``callback(*arguments)`` if it is not None, leaving its time out of the ``time`` column."""
        if callback is not None:
            started = time.perf_counter()
            callback(*arguments)
            self.start += time.perf_counter() - started

    def result(self, w_tilde, g, w, info) -> OptimizationResult:
        """The result of the run, with the columns as arrays."""
        return OptimizationResult(self.method, w_tilde, float(g), w, self._arrays(), info)

    def diverged(self, t: int, detail: str, w_tilde, g, w, info) -> DivergenceError:
        """The error to raise when iterate ``t`` is not finite, with the run so far attached."""
        return DivergenceError(f"{self.method} diverged at iteration {t}: {detail}", self.result(w_tilde, g, w, info))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {key: np.asarray(column) for key, column in self.columns.items()}


class DecoupledRun:
    r"""The loop that every decoupled solver shares: record the iterate, then find the length along a new direction.

    A solver calls :meth:`visit` for each iterate :math:`\tilde w_t = g_t\hat w_t` and
    :meth:`move` with its new direction :math:`w_{t+1}`; the length :math:`g_{t+1}` comes from the
    length search (:class:`lib.length_search.LengthSearch`), warm-started at :math:`g_t`.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    method : str
        The solver's name.
    w : ndarray of shape (d,)
        The validated starting direction (:func:`check_start`).
    search : LengthSearch
    info : dict
        The settings the result reports.
    callback : callable or None
        Called as ``callback(t, w_tilde, g, w)`` after each iterate is recorded.

    Attributes
    ----------
    trace : RunTrace
    w, w_hat, g : the current direction, its unit S-norm version and the length
    w_tilde, S_w_hat : :math:`g\hat w` and :math:`S\hat w` of the last visited iterate
    """

    def __init__(self, problem, method: str, w: np.ndarray, search, info: dict, callback=None):
        self.problem, self.search, self.info, self.callback = problem, search, info, as_callback("callback", callback)
        self.trace = RunTrace(problem, method)
        self.w = w
        self.ray = problem.ray(w)
        self.g, _ = search.find(self.ray, 0.0, None)
        self.last_change = None

    @property
    def w_hat(self) -> np.ndarray:
        return self.ray.w_hat

    def visit(self, t: int):
        """Evaluate and record iterate ``t``; return its :class:`~lib.moments.Evaluation`."""
        self.w_tilde = self.g * self.ray.w_hat
        evaluation = self.ray.evaluate(self.g)
        self.S_w_hat = self.problem.S @ self.ray.w_hat
        if not self.trace.record(evaluation.loss, evaluation.grad, self.ray.w_hat, self.S_w_hat, self.g):
            raise self.trace.diverged(t, "the loss or gradient is not finite", self.w_tilde, self.g, self.w, self.info)
        self.trace.monitor(self.callback, t, self.w_tilde, self.g, self.w)
        return evaluation

    def move(self, t: int, w: np.ndarray) -> None:
        """Take the new direction ``w`` (oriented like the current one) and search its length."""
        if not np.all(np.isfinite(w)):
            raise self.trace.diverged(t, "the direction left the floating-point range", self.w_tilde, self.g, self.w, self.info)
        self.w = w
        self.ray = self.problem.ray(w)
        g_next, _ = self.search.find(self.ray, self.g, self.last_change)
        self.last_change, self.g = g_next - self.g, g_next

    def result(self) -> OptimizationResult:
        """The run's result at the last visited iterate."""
        return self.trace.result(self.w_tilde, self.g, self.w, self.info)
