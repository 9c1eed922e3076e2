r"""The coding exercises of chapter 4, a hidden layer of tanh units with BN.

``unit_gradients(W_tilde, theta, X, y)``
    The gradient of ``eq-network`` with the logistic outer loss on a sample, one row per unit:
    :math:`\frac1n\sum_k \ell'(F_k)\,\theta_i\,\mathrm{sech}^2(z_k^\top\tilde w_i)\,z_k`; reference
    :meth:`lib.HiddenLayerNetwork.grad`.
``coupling_matrix(W_tilde, theta, X, y)``
    The sample estimate of the matrix :math:`B` of lemma ``lem-network-gradient``; reference
    :meth:`lib.HiddenLayerNetwork.coupling_matrix`.
"""

from __future__ import annotations

import numpy as np

from ..problems.instances import random_halfspace, rng_from
from ..problems.network import HiddenLayerNetwork
from .registry import register
from .checker import Case, CodingExercise

CHAPTER = "04-networks"


def _data(seed: int, n: int = 300, dim: int = 4):
    rng = rng_from(seed)
    X, y = random_halfspace(dim, 5.0, 0.5, "logistic", seed=rng).sample(n, seed=rng)
    return X - X.mean(axis=0), y, rng


def _cases(seed: int) -> list[Case]:
    X, y, rng = _data(seed)
    theta = np.array([1.0, 0.6, -0.4])
    W = rng.standard_normal((3, 4))
    return [
        Case("three units, random weights", dict(W_tilde=W, theta=theta, X=X, y=y)),
        Case("one unit", dict(W_tilde=W[:1], theta=theta[:1], X=X, y=y)),
        Case("unit 2 switched off (a zero row)", dict(W_tilde=W * np.array([[1.0], [0.0], [1.0]]), theta=theta, X=X, y=y)),
        Case("all units off", dict(W_tilde=np.zeros((3, 4)), theta=theta, X=X, y=y)),
        Case("weights 50 times larger: saturated units", dict(W_tilde=50 * W, theta=theta, X=X, y=y)),
        Case("labels 0/1 instead of -1/+1", dict(W_tilde=W, theta=theta, X=X, y=(y + 1) / 2)),
    ]


def _hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Random samples (3 to 5 dimensions, 150 to 300 points) and 2 to 4 units, for hidden cases."""
    dim, units = int(rng.integers(3, 6)), int(rng.integers(2, 5))
    X, y, _ = _data(int(rng.integers(2**31)), n=int(rng.integers(150, 301)), dim=dim)
    theta = rng.choice([-1.0, 1.0], units) * rng.uniform(0.2, 1.5, units)
    W = rng.standard_normal((units, dim))
    off = W.copy()
    off[int(rng.integers(units))] = 0.0
    return [
        Case(f"{units} units, random weights, {dim} dimensions", dict(W_tilde=W, theta=theta, X=X, y=y)),
        Case("one unit", dict(W_tilde=W[:1], theta=theta[:1], X=X, y=y)),
        Case("a unit switched off", dict(W_tilde=off, theta=theta, X=X, y=y)),
        Case("saturated units", dict(W_tilde=float(rng.uniform(20.0, 80.0)) * W, theta=theta, X=X, y=y)),
        Case("labels 0/1", dict(W_tilde=W, theta=theta, X=X, y=(y + 1) / 2)),
    ]


def _unit_gradients_reference(W_tilde, theta, X, y):
    return HiddenLayerNetwork(X, y, theta).grad(W_tilde)


UNIT_GRADIENTS = register(CodingExercise(
    "ex-nn-unit-gradients", CHAPTER, "unit_gradients", _unit_gradients_reference, lambda: _cases(401),
    rtol=1e-9, atol=1e-12, hidden=_hidden_cases, delegates=("lib.network.HiddenLayerNetwork",),
))


def check_unit_gradients(function) -> None:
    """Check ``unit_gradients(W_tilde, theta, X, y)`` against :meth:`lib.HiddenLayerNetwork.grad`.

    Prints ``unit_gradients: correct (6 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    UNIT_GRADIENTS.check(function)


def _coupling_matrix_reference(W_tilde, theta, X, y):
    return HiddenLayerNetwork(X, y, theta).coupling_matrix(W_tilde)


COUPLING_MATRIX = register(CodingExercise(
    "ex-nn-coupling-matrix", CHAPTER, "coupling_matrix", _coupling_matrix_reference, lambda: _cases(402),
    rtol=1e-9, atol=1e-12, hidden=_hidden_cases, delegates=("lib.network.HiddenLayerNetwork",),
))


def check_coupling_matrix(function) -> None:
    """Check ``coupling_matrix(W_tilde, theta, X, y)``, the sample estimate of B, against :mod:`lib`.

    Prints ``coupling_matrix: correct (6 cases)`` or the first wrong case, and raises as
    :meth:`lib.exercises.CodingExercise.check` does.
    """
    COUPLING_MATRIX.check(function)
