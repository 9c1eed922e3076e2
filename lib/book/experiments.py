r"""Fair comparisons of methods: pinned threads, repeated timings, tuned steps and seed spreads.

The book compares methods by the rules of its developers' guide: every method gets the same
tuning protocol, a comparison runs on several seeds and reports their spread, and a time is
measured with the BLAS and torch thread pools pinned and as the median of repeats. This module
holds the pieces that chapters 3, 4 and 5 share:

- :func:`pin_threads` limits the BLAS and OpenMP thread pools (with ``threadpoolctl``) and
  torch's, so that a timing measures the method and not the scheduler of a loaded machine;
- :func:`repeat_alternately` runs several methods a few times each, in turn, and
  :func:`median_time_trace` takes the median over repeats of a solver's ``time`` trace;
- :func:`tune_step` chooses a constant step from a geometric grid, widened until the best
  step lies inside it and then refined around it, and :func:`tune_gd_step` applies it to
  gradient descent with the book's grid :math:`\{1, 4, 16, 64\}/\zeta` (chapters 3 and 4, and
  ``benchmarks/halfspaces.py``);
- :func:`spread` summarizes a quantity measured on several seeds as its median and range, and
  :func:`plot_spread` draws it.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from ..core.validation import as_nonnegative_int, as_positive_float, as_positive_int
from ..core.result import DivergenceError

__all__ = ["pin_threads", "repeat_alternately", "median_time_trace", "StepSweep", "tune_step", "GD_STEP_FACTORS", "final_gradient_norm", "tune_gd_step", "Spread", "spread",
           "plot_spread"]


def pin_threads(threads: int = 1) -> str:
    """Limit every BLAS and OpenMP thread pool, and torch's when torch is imported, to ``threads``.

    The limit stays in force for the rest of the process (a notebook calls this once, at its
    top). On a machine shared with other work, a multithreaded BLAS spends most of the time of a
    small product waiting for its threads, so an unpinned timing measures the load of the
    machine; one thread is also the fastest setting for the book's small problems. torch is
    not imported here: its threads are set only if the caller has imported it.

    Parameters
    ----------
    threads : int, default 1

    Returns
    -------
    str
        What was pinned, for the text of a timing: the BLAS libraries and their thread counts.
    """
    threads = as_positive_int("threads", threads)
    threadpool_limits(limits=threads)
    pinned = [f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info()]
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
        pinned.append(f"torch {torch.get_num_threads()}")
    return "threads: " + ", ".join(pinned)


def repeat_alternately(runs: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, list]:
    """Call every function of ``runs`` ``repeats`` times, taking turns, and collect what each returns.

    Taking turns (``a, b, a, b, ...``) exposes the methods to the same changes of the machine's
    load, which a timing of all repeats of ``a`` before all of ``b`` would attribute to one of them.

    Parameters
    ----------
    runs : dict of str to callable
        A name and a function without arguments for each method (a solver run, say).
    repeats : int, default 3

    Returns
    -------
    dict of str to list
        For each name, the ``repeats`` return values in the order they were made.
    """
    repeats = as_positive_int("repeats", repeats)
    if not runs:
        raise ValueError("runs is empty; expected at least one name and function")
    results: dict[str, list] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            results[name].append(run())
    return results


def median_time_trace(results, same: str = "grad_norm_sq") -> np.ndarray:
    r"""The median over repeated runs of a solver's ``time`` trace, entry by entry.

    The runs must have computed the same iterates (they are repeats of one deterministic run):
    their ``same`` traces must agree to a relative :math:`10^{-9}`, a margin far above the
    rounding of one computation repeated in one process and far below any difference between
    two different runs. Entry ``t`` of the result is then the median time the method took to
    reach iterate ``t``.

    Parameters
    ----------
    results : list of OptimizationResult
        Repeats of one run (from :func:`repeat_alternately`).
    same : str, default "grad_norm_sq"
        A trace that must agree between the repeats.

    Returns
    -------
    ndarray
        The median of ``trace["time"]`` over the repeats.
    """
    results = list(results)
    if not results:
        raise ValueError("results is empty; expected the repeats of one run")
    reference = results[0].trace[same]
    for result in results[1:]:
        values = result.trace[same]
        if values.shape != reference.shape or not np.allclose(values, reference, rtol=1e-9, atol=0.0):
            raise ValueError(f"the runs differ in their {same!r} traces: they are not repeats of one run")
    return np.median([result.trace["time"] for result in results], axis=0)


@dataclass(frozen=True)
class StepSweep:
    r"""The runs of a step-size search (:func:`tune_step`), sorted by step.

    Attributes
    ----------
    steps : ndarray
        Every step that was tried, increasing.
    results : list
        The run for each step, or None where it diverged.
    best_index : int
        The index of the best step.
    inside : bool
        Whether a tried step lies on each side of the best one, so that the best step is not
        at an end of the grid.
    unit : float, default 1
        The unit in which the grid was given (:math:`1/\zeta` for :func:`tune_gd_step`):
        :attr:`best_factor` is the best step in this unit.
    """

    steps: np.ndarray
    results: list
    best_index: int
    inside: bool
    unit: float = 1.0

    @property
    def best_factor(self) -> float:
        r"""The best step in units of :attr:`unit` (for :func:`tune_gd_step`, the best step times :math:`\zeta`)."""
        return float(self.steps[self.best_index] / self.unit)

    @property
    def best_step(self) -> float:
        """The step whose run scored best."""
        return float(self.steps[self.best_index])

    @property
    def best(self):
        """The run of the best step."""
        return self.results[self.best_index]


def tune_step(run: Callable[[float], object], steps, score: Callable[[object], object], refinements: int = 2,
              max_widenings: int = 10, together: bool = False) -> StepSweep:
    r"""Choose a constant step from a geometric grid, widened until the best step is inside, then refined.

    1. Run every step of ``steps``; a run that raises :class:`~lib.DivergenceError` scores worst.
    2. While the best step is the smallest or the largest tried, try one more step beyond it, at
       the ratio of the grid's two steps at that end (at most ``max_widenings`` times in all).
    3. ``refinements`` times: try the geometric midpoints between the best step and its two
       neighbours, and take the best again. Each refinement halves the ratio around the best step
       (from :math:`r` to :math:`r^{1/2}`, :math:`r^{1/4}`, ...).

    Parameters
    ----------
    run : callable
        ``run(step)`` returns a run (an :class:`~lib.OptimizationResult`, say).
    steps : array_like
        The first grid: at least two distinct positive steps.
    score : callable
        ``score(result)``: smaller is better; any comparable value (a tuple breaks ties).
    refinements : int, default 2
    max_widenings : int, default 10
    together : bool, default False
        If True, ``run(steps)`` takes an array of steps and returns a list with a run for each, or
        None for a run that diverged. Each round of the search (the first grid, a widening, a
        refinement) is then one call, so that a solver can run its steps at once
        (:func:`lib.solvers.network_grid.network_step_grid`); the steps tried and the choice are
        the same.

    Returns
    -------
    StepSweep
        With ``inside`` False when the widenings ran out with the best step still at an end.
    """
    grid = np.unique(np.asarray(steps, dtype=float))
    if grid.size < 2 or not np.all(np.isfinite(grid)) or grid[0] <= 0.0:
        raise ValueError(f"steps must hold at least two distinct positive finite steps, got {steps!r}")
    refinements, max_widenings = as_nonnegative_int("refinements", refinements), as_nonnegative_int("max_widenings", max_widenings)
    tried: dict[float, object] = {}

    def attempt(*steps: float) -> None:
        new = [step for step in dict.fromkeys(steps) if step not in tried]
        if together:
            results = list(run(np.array(new))) if new else []
            if len(results) != len(new):
                raise ValueError(f"run(steps) returned {len(results)} runs for {len(new)} steps")
            tried.update(zip(new, results))
            return
        for step in new:
            try:
                tried[step] = run(step)
            except DivergenceError:
                tried[step] = None

    def key(step: float):
        result = tried[step]
        return (1,) if result is None else (0, score(result))

    def ranked():
        order = sorted(tried)
        return order, order.index(min(order, key=key))

    attempt(*(float(step) for step in grid))
    for _ in range(max_widenings):
        order, best = ranked()
        if best == 0:
            attempt(order[0] * order[0] / order[1])
        elif best == len(order) - 1 and tried[order[best]] is not None:
            attempt(order[-1] * order[-1] / order[-2])
        else:
            break
    order, best = ranked()
    inside = 0 < best < len(order) - 1
    for _ in range(refinements if inside else 0):
        attempt(*(math.sqrt(order[best] * neighbour) for neighbour in (order[best - 1], order[best + 1])))
        order, best = ranked()
    return StepSweep(np.asarray(order), [tried[step] for step in order], best, inside)


#: The first grid of gradient descent's step, in units of :math:`1/\zeta`: from the step
#: :math:`1/\zeta` of the descent lemma to :math:`64/\zeta`, a factor of 4 apart.
GD_STEP_FACTORS = (1.0, 4.0, 16.0, 64.0)


def final_gradient_norm(result) -> float:
    r"""The score of a run for :func:`tune_gd_step` by default: its last :math:`\|\nabla f\|^2_{S^{-1}}`."""
    return float(result.trace["grad_norm_sq"][-1])


def tune_gd_step(run: Callable[[float], object], zeta: float, factors=GD_STEP_FACTORS,
                 score: Callable[[object], object] = final_gradient_norm, refinements: int = 1,
                 max_widenings: int = 10, together: bool = False) -> StepSweep:
    r"""Gradient descent's best constant step, from the grid :math:`\{1, 4, 16, 64\}/\zeta`, by :func:`tune_step`.

    The protocol of chapters 3 and 4 for the step of gradient descent: :math:`\zeta` bounds the
    curvature of the objective (:math:`\zeta = \Psi L` for a halfspace, ``Halfspace.smoothness``;
    ``network_smoothness`` for the hidden layer), so that :math:`1/\zeta` is the step of the
    descent lemma. The steps :math:`c/\zeta` for the factors :math:`c` are tried, the grid is
    widened (by the ratio of its end steps) until the best step lies inside it, and then
    refined ``refinements`` times by geometric midpoints. A run that raises
    :class:`~lib.DivergenceError` scores worst.

    Parameters
    ----------
    run : callable
        ``run(step)``: gradient descent with this step, e.g.
        ``lambda step: lib.gd(problem, w_tilde0, iterations=200, step=step)``.
    zeta : float
        The curvature bound :math:`\zeta > 0`.
    factors : sequence of float, default GD_STEP_FACTORS
        The first grid in units of :math:`1/\zeta` (chapter 4 starts from ``(4, 16, 64)``).
    score : callable, default final_gradient_norm
        ``score(result)``, smaller is better: by default the last
        :math:`\|\nabla f\|^2_{S^{-1}}` of the run's trace.
    refinements : int, default 1
    max_widenings : int, default 10
        ``refinements=0, max_widenings=0`` is the plain best of the grid.
    together : bool, default False
        ``run(steps)`` runs an array of steps at once, as for :func:`tune_step`.

    Returns
    -------
    StepSweep
        With ``unit`` :math:`1/\zeta`: ``best_factor`` is the best step times :math:`\zeta`,
        ``best`` its run.
    """
    zeta = as_positive_float("zeta", zeta)
    factors = np.asarray(factors, dtype=float)
    if factors.ndim != 1 or factors.size < 2:
        raise ValueError(f"factors must be a sequence of at least two positive numbers, got {factors!r}")
    sweep = tune_step(run, factors / zeta, score, refinements=refinements, max_widenings=max_widenings, together=together)
    return StepSweep(sweep.steps, sweep.results, sweep.best_index, sweep.inside, unit=1.0 / zeta)


@dataclass(frozen=True)
class Spread:
    """A quantity measured on several seeds: its median, smallest and largest value.

    ``format(spread, ".2e")`` writes ``median [low, high]`` with that format for each number.
    """

    median: float
    low: float
    high: float
    count: int

    def __format__(self, spec: str) -> str:
        return f"{format(self.median, spec)} [{format(self.low, spec)}, {format(self.high, spec)}]"

    def __str__(self) -> str:
        return format(self, ".3g")


def spread(values) -> Spread:
    """The median and the range of ``values``, one value a seed.

    Parameters
    ----------
    values : array_like of shape (seeds,)
        Finite or infinite (a run that never reached a target), not NaN.

    Returns
    -------
    Spread
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or np.isnan(values).any():
        raise ValueError(f"values must be a non-empty array without NaN, got {values!r}")
    return Spread(float(np.median(values)), float(values.min()), float(values.max()), int(values.size))


def plot_spread(ax, x, values, label: str = "", **style):
    """Draw, at each ``x``, the median over seeds of ``values`` with a bar from their smallest to largest.

    Values that are not finite (a run that diverged) are left out of a point; a point without a
    finite value is not drawn.

    Parameters
    ----------
    ax : matplotlib Axes
    x : array_like of shape (points,)
    values : array_like of shape (points, seeds)
    label : str
    **style
        Passed to ``ax.errorbar`` (``fmt``, ``color``, ...).
    """
    x = np.asarray(x, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] != x.size:
        raise ValueError(f"values must have shape (points, seeds) = ({x.size}, seeds), got {values.shape}")
    rows = [(point, spread(row[np.isfinite(row)])) for point, row in zip(x, values) if np.isfinite(row).any()]
    if not rows:
        return None
    points = np.array([point for point, _ in rows])
    middle = np.array([s.median for _, s in rows])
    bars = np.array([[s.median - s.low for _, s in rows], [s.high - s.median for _, s in rows]])
    style = {"capsize": 3, "markersize": 5, **style}
    return ax.errorbar(points, middle, yerr=bars, label=label, **style)
