r"""The record of a run that every solver of the book writes: :class:`Trace`.

A solver calls :meth:`Trace.record` for every iterate :math:`\tilde w_t = g_t\hat w_t`
(:math:`\|\hat w_t\|_S = 1`) with the evaluation it computed there and the product
:math:`S\hat w_t`, then :meth:`Trace.report` (the callback), and :meth:`Trace.add` for the
quantities of the step to :math:`t + 1`. The trace records:

* ``loss`` :math:`f(\tilde w_t)` and ``grad_norm_sq`` :math:`\|\nabla f\|_{S^{-1}}^2`, as the
  sum of its two parts (lemma ``lem-norm-split``): the length part :math:`(\nabla f^\top\hat w)^2`
  and the direction part :math:`\|a\|_{S^{-1}}^2`, :math:`a = \nabla f - (\nabla f^\top\hat w)S\hat w`;
* ``rho_gap`` :math:`\rho(w_t) - \rho^* = \|u - (u^\top\hat w)S\hat w\|_{S^{-1}}^2` (lemma
  ``lem-rayleigh-min``, in residual form from the product :math:`S\hat w` the solver computed);
* ``length`` :math:`g_t`, ``time`` (seconds since the start, callbacks left out) and, where the
  problem knows its minimum (:class:`~lib.core.protocols.KnownMinimum`), ``loss_gap`` :math:`f - f^*`
  (for least squares :math:`\|\nabla f\|_{S^{-1}}^2/4`, since :math:`\nabla f = 2(u + S\tilde w)`);
* only when asked (``parts=True``): the two parts ``grad_norm_sq_length`` and
  ``grad_norm_sq_direction`` of lemma ``lem-norm-split``.

The cost. Everything but the two :math:`S^{-1}`-norms is :math:`O(d)` per iterate and is recorded
at once. The two :math:`S^{-1}`-norms (of :math:`a` and of the Rayleigh residual) are deferred:
the trace keeps the vectors of up to :data:`BLOCK` iterates and computes their norms together, one
matrix product with :math:`S^{-1}` per block (a BLAS-3 product, each iterate's share of it cheaper
than one matrix-vector product with :math:`S`). :attr:`Trace.columns`, :meth:`Trace.arrays` and
the result complete the block first, so that a reader never sees a column half written.

:class:`DecoupledRun` is the loop that the decoupled solvers share: record the iterate, then
find the length along a new direction with a length search object
(:mod:`lib.solvers.length_search`).
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Callable

import numpy as np

from .protocols import KnownMinimum
from .result import DivergenceError, IntermediateResult, OptimizationResult
from .validation import as_finite_float, as_vector

__all__ = ["Trace", "DecoupledRun", "as_callback", "is_intermediate_callback", "one_step_ratios", "BLOCK"]

#: Iterates whose S^-1-norms the trace computes together, in one product with S^-1.
BLOCK = 128


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


def _as_entry(value):
    """A recorded value: a float, or an array of floats (the lengths of a network's units)."""
    value = np.asarray(value, dtype=float)
    return float(value) if value.ndim == 0 else value


class Trace:
    r"""The per-iterate record of a run, turned into an :class:`~lib.OptimizationResult` at the end.

    Parameters
    ----------
    problem : lib.core.protocols.Problem
    method : str
        The solver's name, as the result reports it.
    callback : callable, optional
        See :func:`as_callback`.

    Attributes
    ----------
    columns : dict of str to list
        The quantities recorded so far (the deferred :math:`S^{-1}`-norms completed first).
    stopped : int or None
        The iteration at which the callback stopped the run, if it did.
    last_along : float
        :math:`\nabla f^\top\hat w` of the last recorded iterate (the length part of its gradient).
    """

    def __init__(self, problem, method: str, callback=None):
        self.problem = problem
        self.method = method
        self.callback = as_callback(callback)
        self.known_minimum = isinstance(problem, KnownMinimum)
        # least squares turns grad_norm_sq into f - f* without a product; another known minimum is asked per iterate
        self.gap_from_gradient = getattr(problem, "loss_gap_from_gradient", None) if self.known_minimum else None
        self._columns: dict[str, list] = {}
        self._chunks: dict[str, list[np.ndarray]] = {}  # arrays appended by extend, after the column's list
        self.step_keys: set[str] = set()
        self.stopped: int | None = None
        self._block = None  # the deferred vectors: see _defer
        self._pending = 0
        self._parts = False
        self._overflow: int | None = None  # the first state whose deferred norms left float64
        self._states = 0
        self.last_along = float("nan")
        self.start = time.perf_counter()

    @property
    def columns(self) -> dict[str, list]:
        """The columns recorded so far, with the deferred norms of the last iterates computed."""
        self.flush()
        self._settle()
        return self._columns

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
            self._push(key, value if isinstance(value, float) else _as_entry(value))

    def record(self, evaluation, w_hat: np.ndarray, S_w_hat: np.ndarray, g: float, parts: bool = False,
               w: np.ndarray | None = None, w_tilde: np.ndarray | None = None, **extra: float) -> bool:
        r"""Record the iterate :math:`\tilde w = g\hat w` (:math:`\|\hat w\|_S = 1`) and its evaluation.

        ``S_w_hat`` is :math:`S\hat w`, computed by the solver; ``parts`` adds the two parts of
        lemma ``lem-norm-split``; ``extra`` are further quantities of the iterate (``c1``).
        ``rho_gap`` comes from :math:`S\hat w` (``w``, the direction iterate, is only checked to
        be finite: :math:`\hat w` is its unit version); ``loss_gap`` at ``w_tilde`` when given,
        else at :math:`g\hat w`.
        Returns False, recording nothing, if a quantity is not finite (the run diverged).
        """
        grad = evaluation.grad
        loss = float(evaluation.loss)
        along = float(grad @ w_hat)  # not finite if an entry of grad or w_hat is not (inf * 0 and inf - inf are NaN)
        if not (math.isfinite(along) and math.isfinite(loss) and math.isfinite(g)
                and (w is None or np.all(np.isfinite(w)))):
            return False  # before the problem's own checks of w and w_tilde, which would raise
        if self.known_minimum and self.gap_from_gradient is None:
            loss_gap = self.problem.loss_gap(g * w_hat if w_tilde is None else w_tilde)
            if not math.isfinite(loss_gap):
                return False
            extra = dict(extra, loss_gap=loss_gap)
        for key, value in extra.items():
            if not (math.isfinite(value) if isinstance(value, float) else np.all(np.isfinite(value))):
                return False
        if parts != self._parts:
            self.flush()
            self._parts = parts
        self._states += 1
        push = self._push
        push("loss", loss)
        push("length", float(g))
        for key, value in extra.items():
            push(key, value if isinstance(value, float) else _as_entry(value))
        if parts:
            push("grad_norm_sq_length", along * along)
        push("time", self.elapsed())
        self.last_along = along
        self._defer(grad, w_hat, S_w_hat, along)
        return True

    def _push(self, key: str, value) -> None:
        if self._chunks:
            self._settle()
        column = self._columns.get(key)
        if column is None:
            self._columns[key] = [value]
        else:
            column.append(value)

    def _defer(self, grad: np.ndarray, w_hat: np.ndarray, S_w_hat: np.ndarray, along: float) -> None:
        """Keep the vectors of one iterate; compute the S^-1-norms of a full block."""
        block = self._block
        if block is None or block[0].shape[1] != grad.shape[0]:
            self.flush()
            dim = grad.shape[0]
            block = self._block = (np.empty((BLOCK, dim)), np.empty((BLOCK, dim)), np.empty((BLOCK, dim)),
                                   np.empty(BLOCK))
        i = self._pending
        block[0][i] = grad
        block[1][i] = w_hat
        block[2][i] = S_w_hat
        block[3][i] = along
        self._pending = i + 1
        if self._pending == BLOCK:
            self.flush()

    def flush(self) -> None:
        r"""Compute the deferred :math:`S^{-1}`-norms of the iterates recorded since the last flush.

        With :math:`G, \hat W, S\hat W` the rows of the block: the direction parts
        :math:`A = G - (G\hat w)\,S\hat W` and the Rayleigh residuals :math:`R = u - (u^\top\hat w)\,S\hat W`,
        and the row sums of :math:`A \circ AS^{-1}` and :math:`R \circ RS^{-1}`: one product of
        :math:`S^{-1}` with :math:`2k` rows.
        """
        k = self._pending
        if k == 0:
            return
        self._pending = 0
        grads, w_hats, S_w_hats, alongs = (part[:k] for part in self._block)
        alongs = alongs.copy()
        problem = self.problem
        with np.errstate(over="ignore", invalid="ignore"):
            across = grads - alongs[:, None] * S_w_hats
            residual = problem.u - (w_hats @ problem.u)[:, None] * S_w_hats
            direction = np.einsum("ij,ij->i", across, across @ problem.S_inv)
            rho_gap = np.maximum(np.einsum("ij,ij->i", residual, residual @ problem.S_inv), 0.0)
            grad_norm_sq = alongs * alongs + direction  # lemma lem-norm-split
        values = dict(grad_norm_sq=grad_norm_sq, rho_gap=rho_gap)
        if self._parts:
            values["grad_norm_sq_direction"] = direction
        if self.gap_from_gradient is not None:
            values["loss_gap"] = self.gap_from_gradient(grad_norm_sq)
        first = self._states - k
        if self._chunks:
            self._settle()
        for key, column in values.items():
            self._mark_overflow(first, column)
            self._columns.setdefault(key, []).extend(column.tolist())

    def _mark_overflow(self, first: int, column: np.ndarray) -> None:
        """Note the first state (``first`` is the state of ``column[0]``) whose value in ``column`` is not finite."""
        finite = np.isfinite(column)
        if not finite.all() and (self._overflow is None or self._overflow > first):
            bad = first + int(np.flatnonzero(~finite)[0])
            self._overflow = bad if self._overflow is None else min(self._overflow, bad)

    def extend(self, columns: dict, step_keys: tuple[str, ...] = ()) -> None:
        """Append the columns of several iterates at once, from a solver's lean loop (in the order of ``columns``).

        ``step_keys`` names the columns of the steps between them. An iterate with a value that
        is not finite marks the run diverged there, as a deferred norm does (see :meth:`result`).
        """
        self.flush()
        self.step_keys.update(step_keys)
        first, states = self._states, 0
        for key, column in columns.items():
            column = np.asarray(column, dtype=float)
            if key not in step_keys:
                states = len(column)
                self._mark_overflow(first, column)
            self._columns.setdefault(key, [])
            self._chunks.setdefault(key, []).append(column)
        self._states += states

    def _settle(self) -> None:
        """Move the arrays that :meth:`extend` appended into the columns' lists."""
        for key, chunks in self._chunks.items():
            column = self._columns[key]
            for chunk in chunks:
                column.extend(chunk.tolist())
        self._chunks = {}

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
        self.flush()
        return {key: np.concatenate([np.asarray(column, dtype=float), *self._chunks[key]]) if key in self._chunks
                else np.asarray(column) for key, column in self._columns.items()}

    def result(self, w_tilde, g, w, info: dict) -> OptimizationResult:
        """The result of the run (with ``info["stopped_by_callback"]`` if the callback stopped it).

        Raises
        ------
        DivergenceError
            If a deferred :math:`S^{-1}`-norm of an iterate left the float64 range (a gradient
            beyond about 1e154): the run diverged there.
        """
        self.flush()
        if self._overflow is not None:
            raise self.diverged(self._overflow, "the S^-1-norm of the gradient is beyond float64", w_tilde, g, w, info)
        if self.stopped is not None:
            info = dict(info, stopped_by_callback=self.stopped)
        g = float(g) if np.ndim(g) == 0 else g
        return OptimizationResult(self.method, w_tilde, g, w, self.arrays(), info)

    def diverged(self, t: int, detail: str, w_tilde, g, w, info: dict) -> DivergenceError:
        """The error to raise when iterate ``t`` is not finite, with the run so far attached.

        The attached trace keeps the iterates recorded in full and the steps between them (and
        none from an iterate whose deferred norms left float64 on).
        """
        arrays = self.arrays()
        states = [len(column) for key, column in arrays.items() if key not in self.step_keys]
        recorded = min(states, default=0)
        if self._overflow is not None:
            recorded = min(recorded, self._overflow)
            t = min(t, self._overflow)
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
        self.ray = problem.ray(w)  # validates w, once; later directions re-aim this ray (no object per step)
        self.reaim = getattr(self.ray, "aim", None)
        self.evaluation = None  # of the last visited iterate
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
    def w_norm(self) -> float:
        r""":math:`\|w\|_S` of the current direction (kept by the ray, else computed)."""
        norm = getattr(self.ray, "norm", None)
        return float(np.sqrt(self.w @ self.problem.S @ self.w)) if norm is None else norm

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
        ray, g = self.ray, self.g
        w_hat = ray.w_hat
        self.w_tilde = g * w_hat
        evaluation = ray.evaluate(g)
        S_w_hat = getattr(ray, "S_w_hat", None)
        self.S_w_hat = self.problem.S @ w_hat if S_w_hat is None else S_w_hat
        if self.parts:
            recorded = self.trace.record(evaluation, w_hat, self.S_w_hat, g, True, c1=evaluation.c1)
        else:
            recorded = self.trace.record(evaluation, w_hat, self.S_w_hat, g)
        if not recorded:
            raise self.trace.diverged(t, "the loss or gradient is not finite", self.w_tilde, g, self.w, self.info)
        self.evaluation = evaluation
        self.trace.report(t, self.w_tilde, g, self.w, evaluation.loss)
        return evaluation

    def direction_residual(self, evaluation) -> np.ndarray:
        r""":math:`\nabla F - (\nabla F^\top\hat w)\,S\hat w` at the last visited iterate (lemma
        ``lem-bn-gradients``: :math:`\nabla_w f = (g/\|w\|_S)` times this)."""
        grad = evaluation.grad
        along = self.trace.last_along if evaluation is self.evaluation else float(grad @ self.ray.w_hat)
        return grad - along * self.S_w_hat

    def move(self, t: int, w: np.ndarray) -> None:
        """Take the new direction ``w`` (oriented like the current one) and search its length."""
        if self.reaim is not None:
            moved = self.reaim(w)  # False, the ray unchanged, for a w that is not finite (or is zero)
        else:
            moved = bool(np.all(np.isfinite(w)))
            if moved:
                self.ray = self.problem.ray(w)
        if not moved:
            raise self.trace.diverged(t, "the direction left the floating-point range", self.w_tilde, self.g, self.w, self.info)
        self.w = w
        g_next = self._search(self.g)
        self.last_change, self.g = g_next - self.g, g_next

    def result(self) -> OptimizationResult:
        """The run's result at the last visited iterate."""
        return self.trace.result(self.w_tilde, self.g, self.w, self.info)
