r"""The coding exercise of chapter 5, beyond the theorems.

``bngd_step(w, g, S, u, direction_step, length_step)``
    One step of constant-step gradient descent on length and direction for least squares,
    :math:`w - \eta_w\nabla_w f(w, g)` and :math:`g - \eta_g\,\partial_g f(w, g)` with the gradients
    of lemma ``lem-bn-gradients``; reference: one iteration of :func:`lib.bngd`.
"""

from __future__ import annotations

import numpy as np

from ..solvers.bngd import bngd
from ..problems.instances import random_least_squares, rng_from
from ..problems.least_squares import LeastSquares
from .registry import register
from .checker import Case, CodingExercise

CHAPTER = "05-beyond"


def _bngd_step_reference(w, g, S, u, direction_step, length_step):
    result = bngd(LeastSquares(S, u), w, iterations=1, direction_step=direction_step, length_step=length_step, g0=g)
    return result.w, result.g


def _bngd_step_cases() -> list[Case]:
    rng = rng_from(501)
    problem = random_least_squares(4, 10.0, seed=rng)
    S, u, w = problem.S, problem.u, rng.standard_normal(4)
    return [
        Case("a random problem, moderate steps", dict(w=w, g=1.0, S=S, u=u, direction_step=0.05, length_step=0.1)),
        Case("S = I", dict(w=np.array([1.0, 2.0]), g=-0.5, S=np.eye(2), u=np.array([0.5, 1.0]),
                           direction_step=0.3, length_step=0.2)),
        Case("a huge direction step: ||w|| grows", dict(w=w, g=2.0, S=S, u=u, direction_step=1e4, length_step=0.1)),
        Case("w 1000 times longer: the direction barely moves", dict(w=1e3 * w, g=1.0, S=S, u=u, direction_step=0.05,
                                                                     length_step=0.1)),
        Case("g = 0: the direction gradient vanishes", dict(w=w, g=0.0, S=S, u=u, direction_step=0.05, length_step=0.1)),
        Case("w = 0 has no direction", dict(w=np.zeros(4), g=1.0, S=S, u=u, direction_step=0.05, length_step=0.1)),
    ]


def _bngd_step_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(3):
        dim, kappa = int(rng.integers(2, 8)), float(10.0 ** rng.uniform(0.3, 2.0))
        problem = random_least_squares(dim, kappa, seed=rng)
        S, u, w = problem.S, problem.u, rng.standard_normal(dim)
        steps = dict(direction_step=float(10.0 ** rng.uniform(-3.0, 0.0)), length_step=float(rng.uniform(0.01, 0.9)))
        cases.append(Case(f"a random {dim}-dimensional problem, kappa = {kappa:.3g}",
                          dict(w=w, g=float(rng.normal()), S=S, u=u, **steps)))
    scale = float(10.0 ** rng.uniform(-2.0, 3.0))
    return cases + [
        Case("a huge direction step", dict(w=w, g=1.5, S=S, u=u, direction_step=float(10.0 ** rng.uniform(3.0, 5.0)),
                                           length_step=0.1)),
        Case(f"w scaled by {scale:.3g}", dict(w=scale * w, g=1.0, S=S, u=u, **steps)),
        Case("g = 0", dict(w=w, g=0.0, S=S, u=u, **steps)),
        Case("w = 0", dict(w=np.zeros_like(w), g=1.0, S=S, u=u, **steps)),
    ]


BNGD_STEP = register(CodingExercise(
    "ex-beyond-bngd-step", CHAPTER, "bngd_step", _bngd_step_reference, _bngd_step_cases,
    rtol=1e-10, atol=1e-12, names=("w_next", "g_next"), hidden=_bngd_step_hidden, delegates=("lib.bngd.bngd",),
))


def check_bngd_step(function) -> None:
    """Check ``bngd_step(w, g, S, u, direction_step, length_step)`` against one step of :func:`lib.bngd`.

    Prints ``bngd_step: correct (6 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    BNGD_STEP.check(function)
