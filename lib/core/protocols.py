r"""The contract between the problems and the solvers of the book, as :class:`typing.Protocol` classes.

Every objective of the book depends on the data through the moments :math:`S = E[xx^\top]` and
:math:`u = E[-yx]`. A solver needs of a problem (:class:`Problem`):

``evaluate(w_tilde) -> Evaluation``
    the loss, the gradient and the coefficients :math:`c_1, c_2` at one point (two passes over the data);
``ray(w) -> Ray``
    the one-dimensional length problem :math:`g \mapsto f(g\,w/\|w\|_S)` along a direction, whose
    evaluations never touch the data matrix again;
``smoothness``
    the Lipschitz constant :math:`\zeta` of :math:`\nabla f` in the :math:`\tilde w` coordinates;
``length_curvature_bound``
    a bound :math:`\Psi \ge |\partial_g^2 f(w, g)|`, used by the bisection lemma ``lem-bisection``;
``closed_form_length``
    whether the optimal length has the closed form of lemma ``lem-ls-length`` (then its rays are
    :class:`ExactRay`);

and the moments with their Rayleigh-quotient quantities (``S``, ``u``, ``S_inv``, ``mu``, ``L``,
``rho_star``, ``rho_gap``, ``check_direction``), which :class:`lib.problems.moments.Moments`
provides. A problem whose minimum is known also offers ``loss_gap`` (:class:`KnownMinimum`), and
the trace then records :math:`f - f^*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .scaling import moderated, rescaled

__all__ = ["Evaluation", "Ray", "ExactRay", "Problem", "KnownMinimum", "check_problem", "check_start"]


@dataclass(frozen=True)
class Evaluation:
    r"""The first-order information of an objective at one point :math:`\tilde w`.

    Attributes
    ----------
    loss : float
        :math:`f(\tilde w)`.
    grad : ndarray of shape (d,)
        :math:`\nabla f(\tilde w)`.
    c1 : float
        The coefficient of :math:`u` in the decomposition
        :math:`\nabla f = c_1 u + c_2 S\tilde w` (lemma ``lem-gaussian-gradient``); for least
        squares :math:`c_1 = c_2 = 2` exactly. On a finite sample it is the plug-in value
        :math:`\overline{\phi'} - \overline{\phi''}\,u^\top\tilde w` used by Algorithm ``alg-gdnp``.
    c2 : float
        The coefficient of :math:`S\tilde w`.
    """

    loss: float
    grad: np.ndarray
    c1: float
    c2: float


@runtime_checkable
class Ray(Protocol):
    r"""The length problem :math:`g \mapsto f(g\hat w)` along :math:`\hat w = w/\|w\|_S`."""

    w_hat: np.ndarray

    def value(self, g: float) -> float:
        r""":math:`f(g\hat w)`."""

    def derivative(self, g: float) -> float:
        r""":math:`\partial_g f(w, g)`, the function the length search bisects."""

    def evaluate(self, g: float) -> Evaluation:
        r"""The evaluation at :math:`\tilde w = g\hat w`."""


@runtime_checkable
class ExactRay(Ray, Protocol):
    """A ray whose optimal length has a closed form (lemma ``lem-ls-length``)."""

    def exact_minimizer(self) -> float:
        r""":math:`g^*(w) = \arg\min_g f(g\hat w)`."""


@runtime_checkable
class Problem(Protocol):
    """What every solver of the book needs of a problem (see the module notes)."""

    S: np.ndarray
    u: np.ndarray
    S_inv: np.ndarray
    mu: float
    L: float
    rho_star: float
    closed_form_length: bool

    @property
    def dim(self) -> int: ...

    @property
    def smoothness(self) -> float: ...

    @property
    def length_curvature_bound(self) -> float: ...

    def check_direction(self, name: str, value) -> np.ndarray: ...

    def rho_gap(self, w) -> float: ...

    def evaluate(self, w_tilde) -> Evaluation: ...

    def ray(self, w) -> Ray: ...


@runtime_checkable
class KnownMinimum(Protocol):
    r"""A problem whose minimum :math:`f^*` is known: the trace records :math:`f - f^*`."""

    def loss_gap(self, w_tilde) -> float: ...


#: The members of :class:`Problem`, named in the error that a wrong problem raises.
PROBLEM_MEMBERS = ("S", "u", "S_inv", "mu", "L", "rho_star", "closed_form_length", "dim", "smoothness",
                   "length_curvature_bound", "check_direction", "rho_gap", "evaluate", "ray")


def check_problem(problem) -> None:
    """Raise TypeError unless ``problem`` offers everything a solver needs (:class:`Problem`)."""
    if not isinstance(problem, Problem):
        missing = [name for name in PROBLEM_MEMBERS if not hasattr(problem, name)]
        raise TypeError(
            "problem must be one of the book's problems (lib.LeastSquares, lib.Halfspace, "
            f"Halfspace.from_data(...)), got {type(problem).__name__} (it lacks {', '.join(missing)})"
        )


def check_start(problem, w0) -> np.ndarray:
    r"""Validate a problem and a starting direction from which a decoupled solver can move.

    Parameters
    ----------
    problem : Problem
    w0 : array_like of shape (d,)

    Returns
    -------
    ndarray
        ``w0`` as a float array; if its largest entry lies outside :math:`[2^{-256}, 2^{256}]`,
        rescaled by a power of two into :math:`[0.5, 1)` (exactly: the decoupled solvers depend
        only on its direction, and their steps on :math:`\|w\|_S^3` then stay in range).

    Raises
    ------
    TypeError
        If ``problem`` is not one of the book's problems.
    ValueError
        If ``w0`` is zero, ``u`` is zero, or ``w0`` is orthogonal to ``u`` (then
        :math:`\rho(w_0) = 0` and the direction gradient vanishes).
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
