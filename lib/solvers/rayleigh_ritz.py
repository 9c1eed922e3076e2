r"""The locally optimal direction step in its Rayleigh-Ritz form: the teaching version of chapter ``ch-faster``.

Each step minimises the Rayleigh quotient :math:`\rho(w) = -(u^\top w)^2/\|w\|_S^2` of the
rank-one pencil :math:`(uu^\top, S)` over a three-dimensional trial space, as LOBPCG does for
an eigenvalue problem:

.. math::

   w_{t+1} \in \arg\min\{\rho(w) : w \in \operatorname{span}\{w_t, r(w_t), w_{t-1}\}\}, \qquad
   r(w) = u - \frac{u^\top w}{\|w\|_S^2}\, S w ,

(:math:`r(w)` is the residual that :math:`\nabla\rho(w)` points along, lemma
``lem-rayleigh-grad``; the first space is :math:`\operatorname{span}\{w_0, r(w_0)\}`). On a space
with basis :math:`V` the minimiser is :math:`w = Vc` with :math:`c \propto (V^\top S V)^{-1}V^\top u`
(the Galerkin projection of :math:`S^{-1}u`, theorem ``thm-lo-cg``). As the iterates converge,
:math:`w_t` and :math:`w_{t-1}` become nearly parallel and :math:`V^\top SV` nearly singular: the
solve discards the directions of :math:`V` that rounding cannot tell apart, and the iteration
falls behind conjugate gradients at large condition numbers. :func:`lib.locally_optimal` runs the
same step as the conjugate-gradient recurrence instead.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import as_iteration_count
from .length_search import length_search as choose_length_search
from ..core.result import OptimizationResult
from ..core.protocols import check_start
from ..core.trace import DecoupledRun

__all__ = ["rayleigh_ritz", "ritz_coefficients"]

#: Directions of the trial space whose share of the S-normalised Gram matrix's largest eigenvalue
#: is below this are dropped: their coefficients would carry rounding, not information.
GRAM_CUTOFF = 1e-12


def ritz_coefficients(V, S, u) -> np.ndarray:
    r"""The coefficients :math:`c` of the minimiser :math:`w = Vc` of :math:`\rho` over the column space of ``V``.

    :math:`c = (V^\top SV)^{+}V^\top u` with the pseudo-inverse taken after
    scaling the columns to unit S-norm and dropping the eigenvalues of the Gram matrix below
    ``GRAM_CUTOFF`` times its largest one.

    Parameters
    ----------
    V : ndarray of shape (d, k)
        The trial vectors, as columns; none of them zero.
    S : ndarray of shape (d, d)
        Symmetric positive definite.
    u : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (k,)
    """
    SV = S @ V
    scale = 1.0 / np.sqrt(np.einsum("ij,ij->j", V, SV))
    gram = (V.T @ SV) * np.outer(scale, scale)
    eigenvalues, vectors = np.linalg.eigh(0.5 * (gram + gram.T))
    keep = eigenvalues > GRAM_CUTOFF * eigenvalues[-1]
    vectors = vectors[:, keep]
    return scale * (vectors @ ((vectors.T @ (scale * (V.T @ u))) / eigenvalues[keep]))


def rayleigh_ritz(problem, w0, iterations: int = 100, bisection_steps: int | None = None,
                  max_widenings: int = 40, bracket_radius: float | None = None,
                  callback=None) -> OptimizationResult:
    r"""Decoupled Rayleigh-Ritz directions (theorem ``thm-lo-cg``, see the module notes) with the length of Algorithm ``alg-gdnp``.

    The direction step minimises :math:`\rho` over :math:`\operatorname{span}\{w_t, r(w_t), p\}`
    (:func:`ritz_coefficients`), with :math:`p` the part of the last update outside :math:`w_{t-1}`, as in
    LOBPCG, so that :math:`\operatorname{span}\{w_t, p\} = \operatorname{span}\{w_t, w_{t-1}\}`; the length is found as in :func:`lib.gdnp`. The direction step uses
    only the moments :math:`S, u`: it minimises :math:`\rho`, which is the direction problem of
    least squares and of halfspaces with Gaussian inputs (proposition ``prop-gdnp-direction``),
    not of a halfspace sample.

    Parameters
    ----------
    problem : LeastSquares or Halfspace
    w0 : array_like of shape (d,)
        The starting direction, with :math:`u^\top w_0 \ne 0`.
    iterations : int, default 100
    bisection_steps, max_widenings, bracket_radius
        The length search, as for :func:`lib.gdnp`.
    callback : callable, optional
        See :func:`lib.core.trace.as_callback`: ``callback(intermediate_result)``, which stops the
        run by returning True, or ``callback(t, w_tilde, g, w)``, after each iterate is recorded.

    Returns
    -------
    OptimizationResult
        With the trace of :class:`lib.core.trace.Trace`.
    """
    w = check_start(problem, w0)
    iterations = as_iteration_count("iterations", iterations)
    search = choose_length_search(problem, bisection_steps, max_widenings, bracket_radius)
    run = DecoupledRun(problem, "rayleigh_ritz", w, search, dict(search.info), callback)
    S, u = problem.S, problem.u
    p = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            run.visit(t)
            if run.stopped or t == iterations:
                break
            residual = u - float(u @ run.w_hat) * run.S_w_hat
            V = np.column_stack([run.w_hat] + [v for v in (residual, p) if v is not None and np.any(v)])
            c = ritz_coefficients(V, S, u)
            if c[0] < 0.0:  # keep the orientation of w_hat, so that the length keeps its sign
                c = -c
            p = V[:, 1:] @ c[1:]  # the update's part outside w_t, as in LOBPCG
            run.move(t, V @ c)
    return run.result()
