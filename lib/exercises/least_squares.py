r"""The coding exercises of chapter 2, least squares and the generalized Rayleigh quotient.

``optimal_length(w, S, u)``
    :math:`g^*(w) = -u^\top w/\|w\|_S` (lemma ``lem-ls-length``); reference: the closed form
    of :meth:`lib.LeastSquares.ray`.
``rayleigh_gradient(w, S, u)``
    :math:`\nabla\rho(w)` (lemma ``lem-rayleigh-grad``); reference :func:`lib.rayleigh_gradient`.
``gdnp_step(w, S, u)``
    One step :math:`w - \eta\nabla\rho(w)` of Algorithm ``alg-gdnp-ls`` with
    :math:`\eta = \|w\|_S^2/(2L|\rho(w)|)`; reference: one iteration of :func:`lib.gdnp`.
"""

from __future__ import annotations

import numpy as np

from ..maths import rayleigh
from ..problems.instances import random_least_squares, rng_from
from ..problems.least_squares import LeastSquares
from ..solvers.descent import gdnp
from .registry import register
from .checker import Case, CodingExercise

CHAPTER = "02-least-squares"

def _instance(seed: int, dim: int = 4, kappa: float = 10.0):
    """A random least-squares problem and a random direction, both seeded."""
    rng = rng_from(seed)
    problem = random_least_squares(dim, kappa, seed=rng)
    return problem.S, problem.u, rng.standard_normal(dim)


def _orthogonal_to(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The part of ``w`` orthogonal to ``u`` (Euclidean), so that u.w = 0."""
    return w - (u @ w) / (u @ u) * u


def _hidden_problems(rng: np.random.Generator, count: int = 3) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Random problems for hidden cases: 2 to 8 dimensions, kappa from 2 to 100, each with a random direction.

    kappa stays at most 100 so that the roundoff of a correct solution at a minimizer, about
    kappa * 1e-16 * |u|, stays below the exercises' absolute tolerance of 1e-12.
    """
    problems = []
    for _ in range(count):
        dim, kappa = int(rng.integers(2, 9)), float(10.0 ** rng.uniform(0.3, 2.0))
        problem = random_least_squares(dim, kappa, seed=rng)
        problems.append((f"a random {dim}-dimensional problem, kappa = {kappa:.3g}", problem.S, problem.u,
                         rng.standard_normal(dim)))
    return problems


def _hidden(*kinds: str):
    """A generator of hidden cases: three random problems, then the special cases ``kinds`` on the last one.

    The special cases are ``scaled`` (w times a random scale in [1e-3, 1e3]), ``negated``,
    ``orthogonal`` (u.w = 0), ``minimizer`` (w = S^-1 u), ``diagonal`` (S's diagonal only) and
    ``zero`` (w = 0).
    """
    def make(rng: np.random.Generator) -> list[Case]:
        problems = _hidden_problems(rng)
        _, S, u, w = problems[-1]
        scale = float(10.0 ** rng.uniform(-3.0, 3.0))
        special = {
            "scaled": Case(f"w scaled by {scale:.3g}", dict(w=scale * w, S=S, u=u)),
            "negated": Case("-w", dict(w=-w, S=S, u=u)),
            "orthogonal": Case("w orthogonal to u", dict(w=_orthogonal_to(u, w), S=S, u=u)),
            "minimizer": Case("w = S^-1 u", dict(w=np.linalg.solve(S, u), S=S, u=u)),
            "diagonal": Case("S diagonal", dict(w=w, S=np.diag(np.diag(S)), u=u)),
            "zero": Case("w = 0", dict(w=np.zeros_like(w), S=S, u=u)),
        }
        return [Case(text, dict(w=w, S=S, u=u)) for text, S, u, w in problems] + [special[kind] for kind in kinds]
    return make


# --------------------------------------------------------------------------- optimal length
def _optimal_length_reference(w, S, u) -> float:
    return LeastSquares(S, u).ray(w).exact_minimizer()


def _optimal_length_cases() -> list[Case]:
    S, u, w = _instance(201)
    return [
        Case("a random 4-dimensional problem", dict(w=w, S=S, u=u)),
        Case("S = I", dict(w=np.array([1.0, 2.0]), S=np.eye(2), u=np.array([0.5, -1.5]))),
        Case("a tiny w, 1e-8 times the first: g* does not depend on the scale of w", dict(w=1e-8 * w, S=S, u=u)),
        Case("-w: the sign of g* flips", dict(w=-w, S=S, u=u)),
        Case("w orthogonal to u: g* = 0", dict(w=_orthogonal_to(u, w), S=S, u=u)),
        Case("w = S^-1 u, the optimal direction", dict(w=np.linalg.solve(S, u), S=S, u=u)),
        Case("w = 0 has no direction", dict(w=np.zeros(4), S=S, u=u)),
    ]


OPTIMAL_LENGTH = register(CodingExercise(
    "ex-ls-optimal-length", CHAPTER, "optimal_length", _optimal_length_reference, _optimal_length_cases,
    rtol=1e-10, atol=1e-13, hidden=_hidden("scaled", "negated", "orthogonal", "minimizer", "zero"),
    delegates=("lib.least_squares.LeastSquaresRay.exact_minimizer",),
))


def check_optimal_length(function) -> None:
    r"""Check ``optimal_length(w, S, u)``, :math:`g^*(w) = -u^\top w/\|w\|_S`, against :mod:`lib`.

    Prints ``optimal_length: correct (7 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    OPTIMAL_LENGTH.check(function)


# --------------------------------------------------------------------------- Rayleigh gradient
def _rayleigh_gradient_cases() -> list[Case]:
    S, u, w = _instance(202)
    return [
        Case("a random 4-dimensional problem", dict(w=w, S=S, u=u)),
        Case("S = I", dict(w=np.array([1.0, 2.0]), S=np.eye(2), u=np.array([0.5, -1.5]))),
        Case("w scaled by 1000: the gradient scales by 1/1000", dict(w=1e3 * w, S=S, u=u)),
        Case("w = S^-1 u, the minimizer: the gradient vanishes", dict(w=np.linalg.solve(S, u), S=S, u=u)),
        Case("w orthogonal to u, a maximizer: the gradient vanishes", dict(w=_orthogonal_to(u, w), S=S, u=u)),
        Case("dimension 1: rho is constant", dict(w=np.array([2.0]), S=np.array([[3.0]]), u=np.array([-1.0]))),
        Case("w = 0, where rho is not defined", dict(w=np.zeros(4), S=S, u=u)),
    ]


RAYLEIGH_GRADIENT = register(CodingExercise(
    "ex-ls-rayleigh-gradient", CHAPTER, "rayleigh_gradient", rayleigh.rayleigh_gradient, _rayleigh_gradient_cases,
    rtol=1e-9, atol=1e-12, hidden=_hidden("scaled", "minimizer", "orthogonal", "zero"),
    delegates=("lib.rayleigh.rayleigh_gradient", "lib.least_squares.LeastSquares.rho_grad"),
))


def check_rayleigh_gradient(function) -> None:
    r"""Check ``rayleigh_gradient(w, S, u)`` against :func:`lib.rayleigh_gradient`.

    Prints ``rayleigh_gradient: correct (7 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    RAYLEIGH_GRADIENT.check(function)


# --------------------------------------------------------------------------- one GDNP step
def _gdnp_step_reference(w, S, u) -> np.ndarray:
    return gdnp(LeastSquares(S, u), w, iterations=1).w


def _gdnp_step_cases() -> list[Case]:
    S, u, w = _instance(203, dim=5, kappa=20.0)
    return [
        Case("a random 5-dimensional problem, kappa = 20", dict(w=w, S=S, u=u)),
        Case("S = I: one step lands on the optimal direction", dict(w=np.array([1.0, 0.0, 1.0]), S=np.eye(3),
                                                                    u=np.array([1.0, 2.0, 3.0]))),
        Case("w scaled by 1e5: the step scales with it", dict(w=1e5 * w, S=S, u=u)),
        Case("S = diag(1, 4), by hand", dict(w=np.array([1.0, 1.0]), S=np.diag([1.0, 4.0]), u=np.array([1.0, 1.0]))),
        Case("w = S^-1 u, the minimizer: the step keeps it", dict(w=np.linalg.solve(S, u), S=S, u=u)),
        Case("w orthogonal to u: rho(w) = 0 and the step size is not defined",
             dict(w=_orthogonal_to(u, w), S=S, u=u)),
    ]


GDNP_STEP = register(CodingExercise(
    "ex-ls-gdnp-step", CHAPTER, "gdnp_step", _gdnp_step_reference, _gdnp_step_cases, rtol=1e-8, atol=1e-10,
    hidden=_hidden("scaled", "diagonal", "minimizer", "orthogonal"), delegates=("lib.solvers.gdnp",),
))


def check_gdnp_step(function) -> None:
    r"""Check ``gdnp_step(w, S, u)``, one step of Algorithm ``alg-gdnp-ls``, against :func:`lib.gdnp`.

    Prints ``gdnp_step: correct (6 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    GDNP_STEP.check(function)
