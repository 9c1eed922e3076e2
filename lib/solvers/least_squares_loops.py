r"""The lean loops of :func:`lib.gd` and :func:`lib.gdnp` on least squares: one product with :math:`S` per iterate.

On :class:`~lib.LeastSquares` (equation ``eq-ls``) every quantity of an iterate follows from one
matrix-vector product: with :math:`A = [S;\,u^\top]`, the product :math:`Av = (Sv,\,u^\top v)`
gives :math:`Sv` and :math:`u^\top v`, and one dot product gives :math:`v^\top Sv = \|v\|_S^2`
(for GD :math:`v = \tilde w_t`, for GDNP the direction :math:`v = w_t`). With
:math:`\hat w = v/\|v\|_S`, :math:`m = u^\top\hat w` and the length :math:`g`
(:math:`g = \|\tilde w_t\|_S` for GD, :math:`g_t` for GDNP):

* the loss :math:`f(g\hat w) = 2gm + g^2\,\hat w^\top S\hat w` and the gradient
  :math:`\nabla f = 2(u + gS\hat w)`;
* its length part :math:`\nabla f^\top\hat w = 2(m + g\,\hat w^\top S\hat w)`;
* its direction part :math:`a = \nabla f - (\nabla f^\top\hat w)S\hat w = 2(u - mS\hat w) = 2R`,
  twice the Rayleigh residual of lemma ``lem-rayleigh-min`` (since :math:`\hat w^\top S\hat w = 1`),
  so that :math:`\|a\|_{S^{-1}}^2 = 4\|R\|_{S^{-1}}^2 = 4(\rho(w) - \rho^*)` and lemma
  ``lem-norm-split`` gives :math:`\|\nabla f\|_{S^{-1}}^2 = (\nabla f^\top\hat w)^2 + 4\|R\|_{S^{-1}}^2`;
* :math:`f - f^* = \|\nabla f\|_{S^{-1}}^2/4`.

The loops keep :math:`Sv`, :math:`u^\top v` and :math:`\|v\|_S^2` of up to :data:`LEAN_BLOCK`
iterates (:class:`LeastSquaresBlock`) and compute these columns together, with one triangular
product of the block of residuals :math:`R` with the Cholesky factor of :math:`S^{-1}`
(:attr:`LeastSquares.S_inv_factor <lib.LeastSquares.S_inv_factor>`; the trace of the general loop
makes two products with :math:`S^{-1}`, for :math:`a` and :math:`R`). The traces are those of the
general loop to rounding (``tests/test_lean_trace.py``). The loops are written out in one function
each, their buffers preallocated and their vector operations BLAS calls on them
(``scipy.linalg.blas``): at :math:`d = 200` a product with :math:`S` costs a few microseconds, about
as much as ten calls of Python functions.

A loop hands over to the general one at the first iterate whose :math:`\|v\|_S^2` (or, for
GDNP, :math:`g^2`) leaves :math:`(2^{-600}, 2^{600})` (:data:`lib.core.scaling.SAFE_LOW`,
``SAFE_HIGH``): there the general loop rescales exactly, or reports the divergence, as it always
did. Inside that range every quantity above is finite.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.linalg.blas import daxpy, ddot, dtrmm as trmm

from ..core.scaling import SAFE_HIGH, SAFE_LOW
from ..core.trace import BLOCK
from ..problems.least_squares import LeastSquares

__all__ = ["runs_lean", "LeastSquaresBlock", "gd_least_squares", "gdnp_least_squares", "LEAN_BLOCK"]

#: Iterates per block of the lean loops: more than the general trace's BLOCK, so that the numpy
#: calls of a block (on arrays of a few hundred entries) are shared by more iterates.
LEAN_BLOCK = 4 * BLOCK


def runs_lean(problem, trace) -> bool:
    """Whether a run on ``problem`` recording into ``trace`` can take the lean loop: least squares, no callback."""
    return (isinstance(problem, LeastSquares) and trace.callback is None
            and type(problem).evaluate_unchecked is LeastSquares.evaluate_unchecked)


class LeastSquaresBlock:
    r"""The products of up to :data:`LEAN_BLOCK` iterates of a lean loop, and their trace columns.

    Parameters
    ----------
    problem : LeastSquares
    trace : lib.core.trace.Trace
        Where :meth:`flush` appends the columns.
    step_names : tuple of str
        The quantities of a step (``("step",)`` for GD, ``("eta", "step")`` for GDNP).

    Attributes
    ----------
    operator : ndarray of shape (d + 1, d)
        :math:`A = [S;\,u^\top]`.
    products : list of ndarray of shape (d + 1,)
        Row ``i`` receives :math:`Av` of the block's iterate ``i``; ``S_parts[i]`` is its :math:`Sv`.
    norms_sq, lengths, times : list of float
        :math:`\|v\|_S^2`, the length :math:`g` and the clock of each iterate of the block.
    steps : dict of str to list of float
        The quantities of each step taken from an iterate of the block.
    """

    def __init__(self, problem: LeastSquares, trace, step_names: tuple[str, ...]):
        self.problem, self.trace, self.dim = problem, trace, problem.dim
        self.operator = np.vstack([problem.S, problem.u])
        self.rows = np.empty((LEAN_BLOCK, self.dim + 1))
        self.residuals = np.empty((LEAN_BLOCK, self.dim), order="F")  # Fortran order, for the triangular product
        self.products = list(self.rows)  # views: the loop writes into them without making new arrays
        self.S_parts = [row[: self.dim] for row in self.rows]
        self.norms_sq, self.lengths, self.times = [], [], []
        self.steps = {name: [] for name in step_names}

    def flush(self) -> None:
        """Append the columns of the block's iterates and steps to the trace (module docstring), and empty the block."""
        k = len(self.norms_sq)
        if k == 0:
            return
        problem = self.problem
        norm_sq, g = np.array(self.norms_sq), np.array(self.lengths)
        norm = np.sqrt(norm_sq)
        m = self.rows[:k, self.dim] / norm  # u.w^
        unit = norm_sq / (norm * norm)  # w^.S w^ = 1 to rounding
        with np.errstate(over="ignore", invalid="ignore"):
            residual = self.residuals if k == LEAN_BLOCK else np.empty((k, self.dim), order="F")
            np.multiply(self.rows[:k, : self.dim], (-m / norm)[:, None], out=residual)
            residual += problem.u  # R = u - (u.w^) S w^, with S w^ = S v/||v||_S
            factor = trmm(1.0, problem.S_inv_factor, residual, side=1, lower=1, overwrite_b=1)  # R C, S^-1 = C C^T
            rayleigh = np.einsum("ij,ij->i", factor, factor)  # ||R||^2_{S^-1}
            along = 2.0 * (m + g * unit)  # grad f . w^
            direction = 4.0 * rayleigh  # ||a||^2_{S^-1}, a = 2R
            grad_norm_sq = along * along + direction  # lemma lem-norm-split
            columns = dict(loss=g * (2.0 * m + g * unit), length=g, c1=np.full(k, 2.0),
                           grad_norm_sq_length=along * along, time=np.array(self.times) - self.trace.start)
            columns.update(self.steps)
            columns.update(grad_norm_sq=grad_norm_sq, rho_gap=np.maximum(rayleigh, 0.0),
                           grad_norm_sq_direction=direction,
                           loss_gap=problem.loss_gap_from_gradient(grad_norm_sq))
        self.trace.extend(columns, step_keys=tuple(self.steps))
        self.norms_sq, self.lengths, self.times = [], [], []
        self.steps = {name: [] for name in self.steps}


def gd_least_squares(problem: LeastSquares, w_tilde: np.ndarray, iterations: int, step: float, trace):
    r"""The lean loop of :func:`lib.gd`: :math:`\tilde w_{t+1} = \tilde w_t - 2s(u + S\tilde w_t)`, recorded in blocks.

    Parameters
    ----------
    problem : LeastSquares
    w_tilde : ndarray of shape (d,)
        The validated start :math:`\tilde w_0`.
    iterations : int
        :math:`T`.
    step : float
        :math:`s`.
    trace : lib.core.trace.Trace

    Returns
    -------
    t : int
        ``iterations + 1`` when the run is complete, else the first iterate not recorded, where
        :math:`\|\tilde w_t\|_S^2` left the safe range (the general loop continues from there).
    w_tilde : ndarray
        The last recorded iterate, or iterate ``t`` if the run is not complete.
    norm, w_hat : float, ndarray
        :math:`\|\tilde w\|_S` and :math:`\tilde w/\|\tilde w\|_S` of the last recorded iterate
        (nan and None if none).
    """
    block = LeastSquaresBlock(problem, trace, ("step",))
    operator, products, S_parts = block.operator, block.products, block.S_parts
    norms_sq, times, steps = block.norms_sq, block.times, block.steps["step"]
    shift, factor = -2.0 * step * problem.u, -2.0 * step  # w~ - s grad f = (w~ - 2s u) - 2s S w~
    w_tilde, following = w_tilde.copy(), np.empty_like(w_tilde)
    i, dot, add, clock = 0, np.dot, np.add, time.perf_counter  # local names: no lookups in the loop
    for t in range(iterations + 1):
        dot(operator, w_tilde, out=products[i])
        S_w = S_parts[i]
        norm_sq = ddot(w_tilde, S_w)
        if not SAFE_LOW < norm_sq < SAFE_HIGH:
            _flush_gd(block)
            if t == 0:
                return t, w_tilde, math.nan, None
            norm = math.sqrt(recorded)
            return t, w_tilde, norm, following / norm  # following is iterate t - 1
        norms_sq.append(norm_sq)
        times.append(clock())
        recorded = norm_sq
        if t == iterations:
            break
        steps.append(step)
        add(w_tilde, shift, out=following)
        daxpy(S_w, following, a=factor)
        w_tilde, following = following, w_tilde
        i += 1
        if i == LEAN_BLOCK:
            _flush_gd(block)
            norms_sq, times, steps, i = block.norms_sq, block.times, block.steps["step"], 0
    _flush_gd(block)
    norm = math.sqrt(norm_sq)
    return iterations + 1, w_tilde, norm, w_tilde / norm


def _flush_gd(block: LeastSquaresBlock) -> None:
    """GD's lengths are the S-norms of its iterates."""
    block.lengths = [math.sqrt(value) for value in block.norms_sq]
    block.flush()


def gdnp_least_squares(problem: LeastSquares, run, iterations: int) -> int:
    r"""The lean loop of :func:`lib.gdnp` with the closed-form length (lemma ``lem-ls-length``), recorded in blocks.

    With :math:`\hat m_t = u^\top w_t/\|w_t\|_S` and :math:`g_t = -\hat m_t` (after the
    start): :math:`\varsigma_t = -\|w_t\|_S^3/(2L g_t u^\top w_t)` (0 where :math:`g_t u^\top w_t = 0`) and

    .. math::

       w_{t+1} = w_t - \varsigma_t\frac{g_t}{\|w_t\|_S}\Bigl(2u + \bigl(2g_t - \nabla f^\top\hat w_t\bigr)\frac{Sw_t}{\|w_t\|_S}\Bigr),

    the step of Algorithm ``alg-gdnp`` with :math:`\nabla f = 2(u + g_tS\hat w_t)`, :math:`c_1 = 2`.

    Parameters
    ----------
    problem : LeastSquares
    run : lib.core.trace.DecoupledRun
        At the start: its direction ``w`` and length ``g``; at the end, its state is the last
        recorded iterate's (``w``, ``g``, ``w_tilde``), or, if the loop handed over, the state
        the general loop's :meth:`~lib.core.trace.DecoupledRun.move` expects before iterate ``t``.
    iterations : int

    Returns
    -------
    int
        ``iterations + 1`` when the run is complete, else the iterate ``t`` to continue from.
    """
    block = LeastSquaresBlock(problem, run.trace, ("eta", "step"))
    operator, products, S_parts, u, dim = block.operator, block.products, block.S_parts, problem.u, problem.dim
    norms_sq, lengths, times, etas, steps = block.norms_sq, block.lengths, block.times, *block.steps.values()
    L = problem.L
    w, following = run.w.copy(), np.empty_like(run.w)
    g, previous, i = run.g, None, 0
    dot, copyto, clock, sqrt = np.dot, np.copyto, time.perf_counter, math.sqrt  # local names: no lookups in the loop
    for t in range(iterations + 1):
        product = products[i]
        dot(operator, w, out=product)
        S_w = S_parts[i]
        norm_sq = ddot(w, S_w)
        safe = SAFE_LOW < norm_sq < SAFE_HIGH
        if safe:
            norm_t, uw = sqrt(norm_sq), float(product[dim])
            m = uw / norm_t
            g_t = -m if t > 0 else g  # lemma lem-ls-length
            safe = g_t * g_t < SAFE_HIGH  # then the loss, about g^2, is finite
        if not safe:
            block.flush()
            if t > 0:  # w is w_t, following w_{t-1} (norm its S-norm, g its length)
                _hand_over(run, t, w, following, norm, g, previous)
            return t
        if t > 0:
            previous = g
        norm, g = norm_t, g_t
        norms_sq.append(norm_sq)
        lengths.append(g)
        times.append(clock())
        if t == iterations:
            break
        etas.append(norm**4 / (2.0 * L * uw**2))
        h = 2.0 * uw  # c1 u.w
        s = 0.0 if g * h == 0.0 else -(norm**3) / (L * g * h)
        steps.append(s)
        copyto(following, w)
        if s != 0.0:  # else g h = 0: the direction gradient vanishes, w is stationary, keep it
            along, scale = 2.0 * (m + g * norm_sq / (norm * norm)), s * g / norm
            daxpy(u, following, a=-2.0 * scale)
            daxpy(S_w, following, a=-scale * (2.0 * g - along) / norm)
        w, following = following, w
        i += 1
        if i == LEAN_BLOCK:
            block.flush()
            norms_sq, lengths, times, etas, steps = block.norms_sq, block.lengths, block.times, *block.steps.values()
            i = 0
    block.flush()
    run.w, run.g, run.w_tilde = w, g, g * (w / norm)
    run.last_change = None if previous is None else g - previous
    return iterations + 1


def _hand_over(run, t: int, w_next: np.ndarray, w_last: np.ndarray, norm: float, g: float, g_before) -> None:
    """Put ``run`` where the general loop is after iterate ``t - 1`` (direction ``w_last``, S-norm ``norm``,
    length ``g``), and move it to ``w_next``, as the general loop would (rescaling, or reporting the divergence)."""
    run.w, run.g, run.w_tilde = w_last, g, g * (w_last / norm)
    run.last_change = None if g_before is None else g - g_before
    run.move(t - 1, w_next)
