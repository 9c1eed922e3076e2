r"""The coding exercise of chapter 6, faster directions.

``heavy_ball_step(w, w_previous, S, u, step, momentum)``
    One step of the heavy ball on least squares,
    :math:`\tilde w - s\nabla f(\tilde w) + \varpi(\tilde w - \tilde w_{-})` with
    :math:`\nabla f = 2u + 2S\tilde w` (theorem ``thm-heavy-ball``) and
    :math:`\tilde w_{-}` = ``w_previous``; a step :math:`s \le 0` or a momentum :math:`\varpi` outside :math:`[0, 1)`
    raises ``ValueError``; reference: the first step of :func:`lib.heavy_ball` plus the momentum term.
"""

from __future__ import annotations

import numpy as np

from ..problems.instances import random_least_squares, rng_from
from ..problems.least_squares import LeastSquares
from ..solvers.momentum import heavy_ball
from .registry import register
from .checker import Case, CodingExercise

CHAPTER = "06-faster"


def _heavy_ball_step_reference(w, w_previous, S, u, step, momentum):
    """One heavy-ball step from (w, w_previous): lib.heavy_ball's first step from w (which has no momentum
    term, since it starts with w_-1 = w_0, and which checks the step and the momentum) plus the momentum term."""
    w, w_previous = np.asarray(w, dtype=float), np.asarray(w_previous, dtype=float)
    first_step = heavy_ball(LeastSquares(S, u), w, iterations=1, step=step, momentum=momentum)
    return first_step.w_tilde + momentum * (w - w_previous)


def _heavy_ball_step_cases() -> list[Case]:
    rng = rng_from(601)
    problem = random_least_squares(5, 30.0, seed=rng)
    S, u = problem.S, problem.u
    w, w_previous = rng.standard_normal(5), rng.standard_normal(5)
    return [
        Case("a random problem, Polyak's parameters", dict(w=w, w_previous=w_previous, S=S, u=u,
                                                           step=2 / (np.sqrt(problem.L) + np.sqrt(problem.mu)) ** 2,
                                                           momentum=((np.sqrt(30) - 1) / (np.sqrt(30) + 1)) ** 2)),
        Case("momentum 0: a gradient step", dict(w=w, w_previous=w_previous, S=S, u=u, step=0.01, momentum=0.0)),
        Case("w_previous = w: no momentum yet", dict(w=w, w_previous=w, S=S, u=u, step=0.01, momentum=0.9)),
        Case("momentum 1 is outside [0, 1)", dict(w=w, w_previous=w_previous, S=S, u=u, step=0.01, momentum=1.0)),
        Case("S = I", dict(w=np.array([1.0, -2.0]), w_previous=np.array([0.5, 0.0]), S=np.eye(2), u=np.array([0.3, 0.1]),
                           step=0.2, momentum=0.5)),
    ]


def _heavy_ball_step_hidden(rng: np.random.Generator) -> list[Case]:
    """Hidden cases: three random problems (2 to 8 dimensions, kappa from 2 to 100, step below 1/L and a
    momentum in [0, 1)), then on the last one a step beyond 1/L, w_previous = w, and a negative step (an error)."""
    cases = []
    for _ in range(3):
        dim, kappa = int(rng.integers(2, 9)), float(10.0 ** rng.uniform(0.3, 2.0))
        problem = random_least_squares(dim, kappa, seed=rng)
        w, w_previous = rng.standard_normal(dim), rng.standard_normal(dim)
        step, momentum = float(rng.uniform(0.1, 1.0)) / problem.L, float(rng.uniform(0.0, 0.95))
        cases.append(Case(f"a random {dim}-dimensional problem, kappa = {kappa:.3g}",
                          dict(w=w, w_previous=w_previous, S=problem.S, u=problem.u, step=step, momentum=momentum)))
    last = cases[-1].arguments
    return cases + [
        Case("a step of 3/L, beyond the stable range s < 1/L (the formula still holds)", {**last, "step": 3.0 / np.linalg.eigvalsh(last["S"])[-1]}),
        Case("w_previous = w: no momentum term", {**last, "w_previous": last["w"]}),
        Case("a negative step", {**last, "step": -0.01}),
    ]


HEAVY_BALL_STEP = register(CodingExercise(
    "ex-faster-heavy-ball-step", CHAPTER, "heavy_ball_step", _heavy_ball_step_reference, _heavy_ball_step_cases,
    rtol=1e-10, atol=1e-12, hidden=_heavy_ball_step_hidden,
))


def check_heavy_ball_step(function) -> None:
    """Check ``heavy_ball_step(w, w_previous, S, u, step, momentum)`` against :func:`lib.heavy_ball`.

    Prints ``heavy_ball_step: correct (5 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    HEAVY_BALL_STEP.check(function)
