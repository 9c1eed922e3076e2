r"""The coding exercises of chapter 1, Batch Normalization as a reparametrization.

``length_and_direction_gradients(grad_F, g, w, S)``
    The two gradients of :math:`f(w, g) = F(g w/\|w\|_S)` from :math:`\nabla F` (lemma
    ``lem-bn-gradients``); reference :func:`lib.split_gradient`.
``norm_split_parts(grad_F, w, S)``
    The length part and the direction part of :math:`\|\nabla F\|_{S^{-1}}^2` (lemma
    ``lem-norm-split``), the direction part accurate even when it is tiny; reference
    :func:`lib.norm_split`.
"""

from __future__ import annotations

import numpy as np

from ..maths import decoupling
from ..problems.instances import rng_from, spd_with_spectrum
from .registry import register
from .checker import Case, CodingExercise

CHAPTER = "01-reparametrization"


def _gradient_cases() -> list[Case]:
    rng = rng_from(101)
    S3 = spd_with_spectrum([0.5, 2.0, 8.0], rng)
    w3, grad3 = rng.standard_normal(3), rng.standard_normal(3)
    return [
        Case("a random point in 3 dimensions", dict(grad_F=grad3, g=1.3, w=w3, S=S3)),
        Case("S = I, the case of weight normalization", dict(grad_F=np.array([1.0, -2.0]), g=0.5,
                                                             w=np.array([3.0, 4.0]), S=np.eye(2))),
        Case("a long direction, ||w|| = 1e6: the direction gradient shrinks like 1/||w||",
             dict(grad_F=grad3, g=1.3, w=1e6 * w3, S=S3)),
        Case("a negative length", dict(grad_F=grad3, g=-2.0, w=w3, S=S3)),
        Case("g = 0: the direction gradient vanishes", dict(grad_F=grad3, g=0.0, w=w3, S=S3)),
        Case("grad F parallel to S w: only the length can move", dict(grad_F=-0.7 * S3 @ w3, g=1.3, w=w3, S=S3)),
        Case("dimension 1", dict(grad_F=np.array([0.4]), g=2.0, w=np.array([-3.0]), S=np.array([[2.5]]))),
        Case("w = 0 has no direction", dict(grad_F=grad3, g=1.3, w=np.zeros(3), S=S3)),
    ]


def _hidden_point(rng: np.random.Generator) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """A random S (2 to 6 dimensions, eigenvalues log-uniform in [0.1, 10]), w and gradient, for hidden cases."""
    dim = int(rng.integers(2, 7))
    S = spd_with_spectrum(np.sort(10.0 ** rng.uniform(-1.0, 1.0, dim)), rng)
    return f"a random point in {dim} dimensions", S, rng.standard_normal(dim), rng.standard_normal(dim)


def _gradient_hidden(rng: np.random.Generator) -> list[Case]:
    points = [_hidden_point(rng) for _ in range(3)]
    _, S, w, grad = points[-1]
    g, scale = float(rng.normal(0.0, 2.0)), float(10.0 ** rng.uniform(-3.0, 6.0))
    return [Case(text, dict(grad_F=G, g=g, w=v, S=M)) for text, M, v, G in points] + [
        Case(f"w scaled by {scale:.3g}", dict(grad_F=grad, g=g, w=scale * w, S=S)),
        Case("a negative length", dict(grad_F=grad, g=-abs(g) - 0.5, w=w, S=S)),
        Case("g = 0", dict(grad_F=grad, g=0.0, w=w, S=S)),
        Case("grad F parallel to S w", dict(grad_F=float(rng.normal()) * S @ w, g=g, w=w, S=S)),
        Case("w = 0", dict(grad_F=grad, g=g, w=np.zeros_like(w), S=S)),
    ]


GRADIENTS = register(CodingExercise(
    "ex-reparam-gradients", CHAPTER, "length_and_direction_gradients", decoupling.split_gradient,
    _gradient_cases, rtol=1e-9, atol=1e-13, names=("the length derivative", "the direction gradient"),
    hidden=_gradient_hidden, delegates=("lib.decoupling.split_gradient",),
))


def check_length_and_direction_gradients(function) -> None:
    r"""Check ``length_and_direction_gradients(grad_F, g, w, S)`` against :func:`lib.split_gradient`.

    ``function`` returns the pair :math:`(\partial_g f, \nabla_w f)` and raises ``ValueError``
    for :math:`w = 0`. Prints ``length_and_direction_gradients: correct (8 cases)`` or the first
    wrong case, and raises as :meth:`lib.exercises.CodingExercise.check` does.
    """
    GRADIENTS.check(function)


def _norm_split_cases() -> list[Case]:
    rng = rng_from(102)
    S = spd_with_spectrum([1.0, 3.0, 10.0], rng)
    w, grad = rng.standard_normal(3), rng.standard_normal(3)
    w_hat = w / np.sqrt(w @ S @ w)
    # a vector S^-1-orthogonal to S w_hat: v - (v . w_hat) S w_hat for any v
    across = grad - (grad @ w_hat) * (S @ w_hat)
    return [
        Case("a random gradient in 3 dimensions", dict(grad_F=grad, w=w, S=S)),
        Case("S = I", dict(grad_F=np.array([2.0, -1.0]), w=np.array([1.0, 1.0]), S=np.eye(2))),
        Case("grad F = S w exactly: the direction part is zero up to rounding",
             dict(grad_F=S @ w, w=w, S=S)),
        Case("a direction part 1e-12 times the length part: computed as a difference it is lost",
             dict(grad_F=2.0 * (S @ w_hat) + 1e-6 * across / np.sqrt(across @ np.linalg.solve(S, across)), w=w, S=S)),
        Case("a gradient orthogonal to w: the length part is zero", dict(grad_F=across, w=w, S=S)),
        Case("w = 0 has no direction", dict(grad_F=grad, w=np.zeros(3), S=S)),
    ]


def _norm_split_hidden(rng: np.random.Generator) -> list[Case]:
    points = [_hidden_point(rng) for _ in range(3)]
    _, S, w, grad = points[-1]
    w_hat = w / np.sqrt(w @ S @ w)
    across = grad - (grad @ w_hat) * (S @ w_hat)  # S^-1-orthogonal to S w_hat
    tiny = float(10.0 ** rng.uniform(-7.0, -5.0))
    return [Case(text, dict(grad_F=G, w=v, S=M)) for text, M, v, G in points] + [
        Case("grad F = S w", dict(grad_F=S @ w, w=w, S=S)),
        Case(f"a direction part {tiny ** 2:.1e} times the length part",
             dict(grad_F=S @ w_hat + tiny * across / np.sqrt(across @ np.linalg.solve(S, across)), w=w, S=S)),
        Case("a gradient orthogonal to w", dict(grad_F=across, w=w, S=S)),
        Case("w = 0", dict(grad_F=grad, w=np.zeros_like(w), S=S)),
    ]


NORM_SPLIT = register(CodingExercise(
    "ex-reparam-norm-split", CHAPTER, "norm_split_parts", decoupling.norm_split, _norm_split_cases,
    rtol=1e-6, atol=1e-24, names=("the length part", "the direction part"),
    hidden=_norm_split_hidden, delegates=("lib.decoupling.norm_split",),
))


def check_norm_split_parts(function) -> None:
    r"""Check ``norm_split_parts(grad_F, w, S)`` against :func:`lib.norm_split`.

    The tolerance is relative (1e-6) with an absolute floor of 1e-24: a direction part
    computed as the difference :math:`\|\nabla F\|_{S^{-1}}^2 - (\partial_g f)^2` fails the
    cases where it is tiny, as the exercise warns. Prints ``norm_split_parts: correct (6 cases)``
    or the first wrong case, and raises as :meth:`lib.exercises.CodingExercise.check` does.
    """
    NORM_SPLIT.check(function)
