r"""The coding exercises of chapter 3, learning halfspaces.

``squared_sigmoid_derivatives(t)``
    :math:`\phi'(t) = 2\sigma\sigma'` and :math:`\phi''(t) = 2\sigma\sigma'(2 - 3\sigma)` for
    :math:`\phi = \sigma^2`, without overflow for any :math:`t`; reference
    :data:`lib.squared_sigmoid`.
``bisect(derivative, a, b, steps)``
    The midpoint after ``steps`` halvings of a bracket with :math:`k(a) < 0 < k(b)`, and a
    ``ValueError`` for a bracket without that sign change (lemma ``lem-bisection``); reference
    :func:`lib.bisection` with no widening.
``gdnp_step_size(w, g, c1, S, u)``
    :math:`\varsigma = -\|w\|_S^3/(L\,g\,h)` with :math:`h = c_1 u^\top w`, :math:`L = \lambda_{\max}(S)`,
    and 0 where :math:`g h = 0` (Algorithm ``alg-gdnp``); reference
    :func:`lib.solvers.gdnp_step_size`, the step :func:`lib.gdnp` takes.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import as_spd_matrix
from ..maths.bisection import bisection
from ..problems.instances import random_halfspace, rng_from
from ..maths.losses import squared_sigmoid
from ..solvers.descent import gdnp_step_size
from .registry import register
from .checker import Case, CodingExercise, Described

CHAPTER = "03-halfspaces"


# --------------------------------------------------------------------------- squared sigmoid
def _squared_sigmoid_reference(t) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(t, dtype=float)
    return squared_sigmoid.first(t), squared_sigmoid.second(t)


def _squared_sigmoid_cases() -> list[Case]:
    return [
        Case("a grid on [-6, 6]", dict(t=np.linspace(-6.0, 6.0, 13))),
        Case("t = 0, where phi'(0) = 1/4 and phi''(0) = 1/8", dict(t=np.array([0.0]))),
        Case("large positive t: sigma = 1 to rounding", dict(t=np.array([20.0, 40.0, 700.0, 800.0]))),
        Case("large negative t", dict(t=np.array([-20.0, -40.0, -700.0, -800.0]))),
        Case("|t| = 1e4: no overflow, no warning", dict(t=np.array([-1e4, 1e4]))),
        Case("a 2-d array of t: the result has its shape", dict(t=np.array([[-1.0, 0.5], [2.0, -3.0]]))),
    ]


def _squared_sigmoid_hidden(rng: np.random.Generator) -> list[Case]:
    big = 10.0 ** rng.uniform(1.5, 3.0, 4)
    return [
        Case("random t around 0", dict(t=rng.normal(0.0, 4.0, int(rng.integers(5, 20))))),
        Case("large t of both signs", dict(t=np.concatenate([big, -big]))),
        Case("|t| up to 1e4", dict(t=rng.choice([-1.0, 1.0], 4) * 10.0 ** rng.uniform(3.0, 4.0, 4))),
        Case("a 3-d array of t", dict(t=rng.normal(0.0, 3.0, (2, 3, 2)))),
        Case("t near the zero of phi''", dict(t=np.log(2.0) + rng.choice([-1.0, 1.0], 3) * rng.uniform(1e-3, 1e-2, 3))),
    ]


SQUARED_SIGMOID = register(CodingExercise(
    "ex-hs-squared-sigmoid", CHAPTER, "squared_sigmoid_derivatives", _squared_sigmoid_reference,
    _squared_sigmoid_cases, rtol=1e-9, atol=1e-300, names=("phi'", "phi''"), hidden=_squared_sigmoid_hidden,
    delegates=("lib.losses.squared_sigmoid",),
))


def check_squared_sigmoid_derivatives(function) -> None:
    r"""Check ``squared_sigmoid_derivatives(t)`` against :data:`lib.squared_sigmoid`.

    A case fails if the function prints an overflow warning. Prints
    ``squared_sigmoid_derivatives: correct (6 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    SQUARED_SIGMOID.check(function)


# --------------------------------------------------------------------------- bisection
def _bisect_reference(derivative, a, b, steps) -> float:
    return bisection(derivative, (a, b), steps, max_widenings=0).root


def _bisect_cases() -> list[Case]:
    rng = rng_from(301)
    problem = random_halfspace(4, 10.0, 0.5, "logistic", seed=rng)
    ray = problem.ray(rng.standard_normal(4))
    logistic_length = Described(ray.derivative, "k(g) = the length derivative of the logistic loss along a "
                                                "random direction (lib.random_halfspace(4, 10.0, seed=...))")
    line = Described(lambda g: g - 0.3, "k(g) = g - 0.3")
    return [
        Case("a line, 10 halvings", dict(derivative=line, a=0.0, b=1.0, steps=10)),
        Case("the logistic length problem, 30 halvings", dict(derivative=logistic_length, a=-20.0, b=20.0, steps=30)),
        Case("a cubic", dict(derivative=Described(lambda g: g**3 - 2.0, "k(g) = g^3 - 2"), a=0.0, b=2.0, steps=25)),
        Case("steps = 0: the midpoint of the bracket", dict(derivative=line, a=-1.0, b=1.0, steps=0)),
        Case("k vanishes exactly at the first midpoint: return it",
             dict(derivative=Described(lambda g: g - 1.0, "k(g) = g - 1"), a=0.0, b=2.0, steps=5)),
        Case("k > 0 at both ends: no sign change", dict(derivative=line, a=0.5, b=1.0, steps=10)),
        Case("k falls from + to -: a local maximum, not a minimum",
             dict(derivative=Described(lambda g: 0.3 - g, "k(g) = 0.3 - g"), a=0.0, b=1.0, steps=10)),
        Case("a > b: not a bracket", dict(derivative=line, a=1.0, b=0.0, steps=10)),
        Case("a negative number of steps", dict(derivative=line, a=0.0, b=1.0, steps=-1)),
    ]


def _line(root: float) -> Described:
    return Described(lambda g: g - root, f"k(g) = g - {root!r}")


def _bisect_hidden(rng: np.random.Generator) -> list[Case]:
    a, b = -float(rng.uniform(0.5, 5.0)), float(rng.uniform(0.5, 5.0))
    root = float(rng.uniform(a, b))
    cube = float(rng.uniform(0.5, 8.0))
    problem = random_halfspace(int(rng.integers(3, 7)), float(rng.uniform(2.0, 20.0)), 0.5, "logistic", seed=rng)
    ray = problem.ray(rng.standard_normal(problem.dim))
    length = Described(ray.derivative, "k(g) = the length derivative of the logistic loss along a random direction")
    midpoint = float(np.ldexp(rng.integers(-8, 8), -2))  # a + b = 2 midpoint exactly in binary
    return [
        Case(f"a line with its root at {root:.4g}", dict(derivative=_line(root), a=a, b=b, steps=int(rng.integers(5, 40)))),
        Case(f"a cubic, k(g) = g^3 - {cube:.4g}",
             dict(derivative=Described(lambda g: g**3 - cube, f"k(g) = g^3 - {cube!r}"), a=0.0, b=2.5, steps=30)),
        Case("a logistic length problem", dict(derivative=length, a=-20.0, b=20.0, steps=int(rng.integers(10, 40)))),
        Case("k vanishes exactly at the first midpoint",
             dict(derivative=_line(midpoint), a=midpoint - 1.0, b=midpoint + 1.0, steps=int(rng.integers(1, 10)))),
        Case("no sign change", dict(derivative=_line(root), a=root + 0.5, b=root + 2.0, steps=10)),
        Case("a > b", dict(derivative=_line(root), a=b, b=a, steps=10)),
        Case("a negative number of steps", dict(derivative=_line(root), a=a, b=b, steps=-int(rng.integers(1, 5)))),
    ]


BISECT = register(CodingExercise(
    "ex-hs-bisection", CHAPTER, "bisect", _bisect_reference, _bisect_cases, rtol=1e-12, atol=1e-15,
    hidden=_bisect_hidden, delegates=("lib.bisection.bisection",),
))


def check_bisect(function) -> None:
    r"""Check ``bisect(derivative, a, b, steps)`` against :func:`lib.bisection` (without widening).

    Prints ``bisect: correct (9 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    BISECT.check(function)


# --------------------------------------------------------------------------- GDNP step size
def _step_size_reference(w, g, c1, S, u) -> float:
    S, eigenvalues = as_spd_matrix("S", S)
    return gdnp_step_size(w, g, c1, S, u, eigenvalues[-1])


def _step_size_cases() -> list[Case]:
    rng = rng_from(302)
    cases = []
    for loss, g in (("logistic", 1.5), ("squared_sigmoid", 0.8), ("logistic", -2.0)):
        problem = random_halfspace(4, 10.0, 0.5, loss, seed=rng)
        w = rng.standard_normal(4)
        c1 = problem.evaluate(g * w / np.sqrt(w @ problem.S @ w)).c1
        cases.append(Case(f"a Gaussian halfspace, {loss.replace('_', ' ')} loss, g = {g:g}",
                          dict(w=w, g=g, c1=c1, S=problem.S, u=problem.u)))
    first = cases[0].arguments
    cases += [
        Case("w scaled by 1000: s scales by 1000^2", dict(first, w=1e3 * first["w"])),
        Case("g = 0: no step", dict(first, g=0.0)),
        Case("u.w = 0: no step", dict(w=np.array([0.0, 1.0, 1.0]), g=1.0, c1=0.4, S=np.diag([1.0, 2.0, 4.0]),
                                      u=np.array([0.5, 0.0, 0.0]))),
        Case("w = 0 has no direction: must raise ValueError", dict(first, w=np.zeros_like(first["w"]))),
    ]
    return cases


def _step_size_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for loss in ("logistic", "squared_sigmoid", str(rng.choice(["logistic", "squared_sigmoid"]))):
        dim, g = int(rng.integers(2, 8)), float(rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 3.0))
        problem = random_halfspace(dim, float(rng.uniform(2.0, 30.0)), float(rng.uniform(0.2, 0.8)), loss, seed=rng)
        w = rng.standard_normal(dim)
        c1 = problem.evaluate(g * w / np.sqrt(w @ problem.S @ w)).c1
        cases.append(Case(f"a Gaussian halfspace in {dim} dimensions, {loss.replace('_', ' ')} loss, g = {g:.3g}",
                          dict(w=w, g=g, c1=c1, S=problem.S, u=problem.u)))
    last = cases[-1].arguments
    scale = float(10.0 ** rng.uniform(-2.0, 3.0))
    return cases + [
        Case(f"w scaled by {scale:.3g}", dict(last, w=scale * last["w"])),
        Case("g = 0", dict(last, g=0.0)),
        Case("c1 = 0", dict(last, c1=0.0)),
        Case("w = 0", dict(last, w=np.zeros_like(last["w"]))),
    ]


STEP_SIZE = register(CodingExercise(
    "ex-hs-step-size", CHAPTER, "gdnp_step_size", _step_size_reference, _step_size_cases,
    rtol=1e-10, atol=1e-14, hidden=_step_size_hidden, delegates=("lib.solvers.gdnp_step_size",),
))


def check_gdnp_step_size(function) -> None:
    r"""Check ``gdnp_step_size(w, g, c1, S, u)`` against the step size of :func:`lib.gdnp`.

    Prints ``gdnp_step_size: correct (7 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    STEP_SIZE.check(function)
