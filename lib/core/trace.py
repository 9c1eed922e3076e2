r"""The record of a run that every solver of the book writes: :class:`Trace`.

A solver calls :meth:`Trace.record` for every iterate :math:`\tilde w_t = g_t\hat w_t`
(:math:`\|\hat w_t\|_S = 1`) with the evaluation it computed there and the product
:math:`S\hat w_t`, then :meth:`Trace.report` (the callback), and :meth:`Trace.add` for the
quantities of the step to :math:`t + 1`. The trace records, at the cost of two products with a
:math:`d\times d` matrix beyond what the iteration computed:

* ``loss`` :math:`f(\tilde w_t)` and ``grad_norm_sq`` :math:`\|\nabla f\|_{S^{-1}}^2`;
* ``rho_gap`` :math:`\rho(w_t) - \rho^* = \|u - (u^\top\hat w)S\hat w\|_{S^{-1}}^2` (lemma
  ``lem-rayleigh-min``, in residual form from the product :math:`S\hat w` the solver computed, or
  from the direction iterate itself where a solver asks for it);
* ``length`` :math:`g_t`, ``time`` (seconds since the start, callbacks left out) and, where the
  problem knows its minimum (:class:`~lib.core.protocols.KnownMinimum`), ``loss_gap`` :math:`f - f^*`;
* only when asked (``parts=True``, one more product): the two parts ``grad_norm_sq_length`` and
  ``grad_norm_sq_direction`` of lemma ``lem-norm-split``.

:class:`DecoupledRun` is the loop that the decoupled solvers share: record the iterate, then
find the length along a new direction with a length search object
(:mod:`lib.solvers.length_search`).
"""

from __future__ import annotations

import inspect
import time
from typing import Callable

import numpy as np

from .protocols import KnownMinimum
from .result import DivergenceError, IntermediateResult, OptimizationResult
from .validation import as_finite_float, as_vector

__all__ = ["Trace", "DecoupledRun", "as_callback", "is_intermediate_callback", "one_step_ratios"]


def one_step_ratios(gaps, floor: float) -> tuple[np.ndarray, np.ndarray]:
    r"""The one-step ratios :math:`e_{t+1}/e_t` of a trace of gaps, for the :math:`t` with :math:`e_t` above ``floor``.

    Below the rounding floor (for a Rayleigh gap, about :math:`10^{-12}|\rho^*|`) a gap is
    rounding, and so is a ratio of two such gaps: the theorems' rates are read above it.

    Returns
    -------
    steps : ndarray of int
        The :math:`t + 1` of each ratio.
    ratios : ndarray
        :math:`e_{t+1}/e_t`.

    Raises
    ------
    TypeError
        If ``gaps`` is not an array of real numbers.
    ValueError
        If ``gaps`` is not one-dimensional or has an entry that is negative or not finite, or
        ``floor`` is negative or not finite.
    """
    gaps = as_vector("gaps", gaps)
    if np.any(gaps < 0):
        raise ValueError(f"gaps must be non-negative (a gap is a distance to the optimum), got {gaps.min():.3g}")
    floor = as_finite_float("floor", floor)
    if floor < 0:
        raise ValueError(f"floor must be non-negative, got {floor}")
    keep = gaps[:-1] > floor
    with np.errstate(over="ignore"):
        ratios = gaps[1:][keep] / gaps[:-1][keep]
    if not np.all(np.isfinite(ratios)):
        raise ValueError("a one-step ratio e_{t+1}/e_t exceeds the float64 range (a gap near the smallest float "
                         "followed by a large one); raise the floor above the rounding level of the gaps")
    return np.flatnonzero(keep) + 1, ratios


def is_intermediate_callback(callback) -> bool:
    """Whether ``callback`` takes one parameter named ``intermediate_result`` (scipy's convention)."""
    try:
        return list(inspect.signature(callback).parameters) == ["intermediate_result"]
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def as_callback(callback) -> Callable[[IntermediateResult], bool] | None:
    """``callback`` as a function of an :class:`IntermediateResult` that returns True to stop the run.

    As in scipy: a callable whose only parameter is named ``intermediate_result`` receives an
    :class:`IntermediateResult` and stops the run by returning True or raising StopIteration.
    Any other callable is called the older way, ``callback(t, w_tilde, g, w)``, and stops the run
    only by raising StopIteration.
    """
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"callback must be a function (called after each iterate) or None, got "
                        f"{type(callback).__name__} {callback!r:.40}")
    if is_intermediate_callback(callback):
        return lambda result: bool(callback(result))
    return lambda result: callback(result.t, result.w_tilde, result.g, result.w) and False


class Trace:
    """The per-iterate record of a run, turned into an :class:`~lib.OptimizationResult` at the end.

    Parameters
    ----------
    problem : lib.core.protocols.Problem
    method : str
        The solver's name, as the result reports it.
    callback : callable, optional
        See :func:`as_callback`.

    Attributes
    ----------
    stopped : int or None
        The iteration at which the callback stopped the run, if it did.
    """

    def __init__(self, problem, method: str, callback=None):
        self.problem = problem
        self.method = method
        self.callback = as_callback(callback)
        self.known_minimum = isinstance(problem, KnownMinimum)
        self.columns: dict[str, list] = {}
        self.step_keys: set[str] = set()
        self.stopped: int | None = None
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the start, without the time spent in callbacks."""
        return time.perf_counter() - self.start

    def pause(self, seconds: float) -> None:
        """Leave ``seconds`` (spent on work that is not the algorithm's) out of the ``time`` column."""
        self.start += seconds

    def add(self, **values: float) -> None:
        """Append the quantities of one step (``step``, ``eta``): ``T`` entries for ``T`` steps."""
        self.step_keys.update(values)
        self._append(values)

    def add_state(self, **values) -> None:
        """Append quantities of one iterate that :meth:`record` does not compute (``bracket_width``)."""
        self._append(values)

    def _append(self, values: dict) -> None:
        for key, value in values.items():
            value = np.asarray(value, dtype=float)
            self.columns.setdefault(key, []).append(float(value) if value.ndim == 0 else value)

    def record(self, evaluation, w_hat: np.ndarray, S_w_hat: np.ndarray, g: float, parts: bool = False,
               w: np.ndarray | None = None, w_tilde: np.ndarray | None = None, **extra: float) -> bool:
        r"""Record the iterate :math:`\tilde w = g\hat w` (:math:`\|\hat w\|_S = 1`) and its evaluation.

        ``S_w_hat`` is :math:`S\hat w`, computed by the solver; ``parts`` adds the two parts of
        lemma ``lem-norm-split``; ``extra`` are further quantities of the iterate (``c1``).
        ``rho_gap`` comes from :math:`S\hat w`, or with ``w`` from the direction iterate itself
        (``problem.rho_gap(w)``, one more product with :math:`S`: the arithmetic of ``gd``,
        ``gdnp`` and ``bngd``, whose traces the chapters read down to the rounding floor);
        ``loss_gap`` at ``w_tilde`` when given, else at :math:`g\hat w`.
        Returns False, recording nothing, if a quantity is not finite (the run diverged).
        """
        problem, grad = self.problem, evaluation.grad
        if not (np.isfinite(evaluation.loss) and np.isfinite(g) and np.all(np.isfinite(grad))
                and np.all(np.isfinite(w_hat)) and (w is None or np.all(np.isfinite(w)))):
            return False  # before the problem's own checks of w and w_tilde, which would raise
        if w is None:
            residual = problem.u - float(problem.u @ w_hat) * S_w_hat
            rho_gap = max(float(residual @ problem.S_inv @ residual), 0.0)
        else:
            rho_gap = problem.rho_gap(w)
        values = dict(loss=evaluation.loss, grad_norm_sq=grad @ problem.S_inv @ grad, rho_gap=rho_gap, length=g)
        if parts:
            along = float(grad @ w_hat)
            across = grad - along * S_w_hat
            values.update(grad_norm_sq_length=along * along, grad_norm_sq_direction=across @ problem.S_inv @ across)
        values.update(extra, time=self.elapsed())
        if self.known_minimum:
            values["loss_gap"] = problem.loss_gap(g * w_hat if w_tilde is None else w_tilde)
        return self._record_finite(values)

    def record_layer(self, evaluation, directions: np.ndarray, elapsed: float | None = None, **extra) -> bool:
        r"""Record a state :math:`\tilde W` of the hidden layer: ``loss``, ``grad_norm_sq``
        (:math:`\sum_i\|\nabla_{\tilde w_i}f\|_{S^{-1}}^2`), ``time`` (``elapsed``, by default since
        the start) and ``unit_rho_gap`` (each unit's :math:`\rho(w_i) - \rho^*`, from the rows of
        ``directions``). Returns False, recording nothing, if a quantity is not finite."""
        network = self.problem
        values = dict(loss=evaluation.loss, grad_norm_sq=network.grad_norm_sq(evaluation.grad),
                      time=self.elapsed() if elapsed is None else elapsed,
                      unit_rho_gap=network.unit_rho_gaps(directions), **extra)
        return self._record_finite(values)

    def _record_finite(self, values: dict) -> bool:
        if not all(np.all(np.isfinite(value)) for value in values.values()):
            return False
        self._append(values)
        return True

    def report(self, t: int, w_tilde: np.ndarray, g: float, w: np.ndarray, loss: float) -> bool:
        """Call the callback with iterate ``t``, its time left out of ``time``; True if it stops the run."""
        if self.callback is None:
            return False
        started = time.perf_counter()
        current = IntermediateResult(t, w_tilde, g, w, loss, started - self.start)
        try:
            stop = self.callback(current)
        except StopIteration:
            stop = True
        self.pause(time.perf_counter() - started)
        if stop:
            self.stopped = t
        return bool(stop)

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns as arrays."""
        return {key: np.asarray(column) for key, column in self.columns.items()}

    def result(self, w_tilde, g, w, info: dict) -> OptimizationResult:
        """The result of the run (with ``info["stopped_by_callback"]`` if the callback stopped it)."""
        if self.stopped is not None:
            info = dict(info, stopped_by_callback=self.stopped)
        g = float(g) if np.ndim(g) == 0 else g
        return OptimizationResult(self.method, w_tilde, g, w, self.arrays(), info)

    def diverged(self, t: int, detail: str, w_tilde, g, w, info: dict) -> DivergenceError:
        """The error to raise when iterate ``t`` is not finite, with the run so far attached.

        The attached trace keeps the iterates recorded in full and the steps between them.
        """
        arrays = self.arrays()
        states = [len(column) for key, column in arrays.items() if key not in self.step_keys]
        recorded = min(states, default=0)
        arrays = {key: column[: max(recorded - 1, 0) if key in self.step_keys else recorded]
                  for key, column in arrays.items()}
        if t == 0:
            detail = f"{detail}, already at the start (before any step): the start is too large for float64"
        partial = OptimizationResult(self.method, w_tilde, g, w, arrays, info)
        return DivergenceError(f"{self.method} diverged at iteration {t}: {detail}", partial)


class DecoupledRun:
    r"""The loop that every decoupled solver shares: record the iterate, then find the length along a new direction.

    A solver calls :meth:`visit` for each iterate :math:`\tilde w_t = g_t\hat w_t` and
    :meth:`move` with its new direction :math:`w_{t+1}`; the length :math:`g_{t+1}` comes from the
    length search (:mod:`lib.solvers.length_search`), warm-started at :math:`g_t`.

    Parameters
    ----------
    problem : lib.core.protocols.Problem
    method : str
        The solver's name.
    w : ndarray of shape (d,)
        The validated starting direction (:func:`lib.core.protocols.check_start`).
    search : lib.solvers.length_search.ClosedFormLength or BisectionLength
    info : dict
        The settings the result reports.
    callback : callable or None
        See :func:`as_callback`.
    g0 : float, optional
        The starting length; by default found by the length search from 0.
    parts : bool
        Record the two parts of lemma ``lem-norm-split``, ``c1``, and ``rho_gap`` from the
        direction iterate (as GDNP does).

    Attributes
    ----------
    trace : Trace
    w, w_hat, g : the current direction, its unit S-norm version and the length
    w_tilde, S_w_hat : :math:`g\hat w` and :math:`S\hat w` of the last visited iterate
    stopped : bool
        Whether the callback stopped the run at the last visited iterate.
    """

    def __init__(self, problem, method: str, w: np.ndarray, search, info: dict, callback=None,
                 g0: float | None = None, parts: bool = False):
        self.problem, self.search, self.info, self.parts = problem, search, info, parts  # parts: gdnp's trace
        self.trace = Trace(problem, method, callback)
        self.w = w
        self.ray = problem.ray(w)
        self.last_change = None
        if g0 is None:
            self.g = self._search(0.0)
        else:
            self.g = g0
            if search.bisection_steps is not None:  # no search at the start: its bound is void
                self.trace.add_state(bracket_width=0.0, length_bound=np.inf)

    @property
    def w_hat(self) -> np.ndarray:
        return self.ray.w_hat

    @property
    def stopped(self) -> bool:
        return self.trace.stopped is not None

    def _search(self, g_previous: float) -> float:
        root, width = self.search.find(self.ray, g_previous, self.last_change)
        if width is not None:
            self.trace.add_state(bracket_width=width, length_bound=self.search.length_bound(self.problem, width))
        return root

    def visit(self, t: int):
        """Evaluate, record and report iterate ``t``; return its :class:`~lib.core.protocols.Evaluation`."""
        self.w_tilde = self.g * self.ray.w_hat
        evaluation = self.ray.evaluate(self.g)
        self.S_w_hat = self.problem.S @ self.ray.w_hat
        extra = dict(c1=evaluation.c1, w=self.w) if self.parts else {}
        if not self.trace.record(evaluation, self.ray.w_hat, self.S_w_hat, self.g, self.parts, **extra):
            raise self.trace.diverged(t, "the loss or gradient is not finite", self.w_tilde, self.g, self.w, self.info)
        self.trace.report(t, self.w_tilde, self.g, self.w, evaluation.loss)
        return evaluation

    def direction_residual(self, evaluation) -> np.ndarray:
        r""":math:`\nabla F - (\nabla F^\top\hat w)\,S\hat w` at the last visited iterate (lemma
        ``lem-bn-gradients``: :math:`\nabla_w f = (g/\|w\|_S)` times this)."""
        return evaluation.grad - float(evaluation.grad @ self.ray.w_hat) * self.S_w_hat

    def move(self, t: int, w: np.ndarray) -> None:
        """Take the new direction ``w`` (oriented like the current one) and search its length."""
        if not np.all(np.isfinite(w)):
            raise self.trace.diverged(t, "the direction left the floating-point range", self.w_tilde, self.g, self.w, self.info)
        self.w = w
        self.ray = self.problem.ray(w)
        g_next = self._search(self.g)
        self.last_change, self.g = g_next - self.g, g_next

    def result(self) -> OptimizationResult:
        """The run's result at the last visited iterate."""
        return self.trace.result(self.w_tilde, self.g, self.w, self.info)
