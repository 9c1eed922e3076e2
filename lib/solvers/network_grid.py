r"""One hidden layer trained from one start with several learning rates at once (chapter 4's comparison).

A search for a learning rate (:func:`lib.book.experiments.tune_step`) runs one method from one
start with a few rates. On the book's small networks (a few units, a few thousand points) a step
of one run spends much of its time calling numpy rather than computing, so here the :math:`K` runs
advance together: each step evaluates all :math:`K` gradients with one matrix product
(:meth:`lib.HiddenLayerNetwork.grads`) and updates all :math:`K` weight matrices with a few array
operations. The updates are those of :func:`~lib.solvers.network_training.network_gd`,
:func:`~lib.solvers.network_training.network_adam` and
:func:`~lib.solvers.network_training.network_bn_gd`, run by run; the tests hold the iterates to
theirs. Only what a comparison of rates needs is recorded: the iterates every few steps and the
gradient norm at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.validation import as_iteration_count, as_matrix, as_positive_int, as_vector
from ..problems.network import HiddenLayerNetwork

__all__ = ["GridRuns", "network_step_grid", "GRID_METHODS"]

#: The methods of :func:`network_step_grid`, by the names of their traces in :mod:`lib.solvers.network_training`.
GRID_METHODS = ("gd", "adam", "bn-sgd")


@dataclass(frozen=True)
class GridRuns:
    r"""The runs of :func:`network_step_grid`, one per learning rate.

    Attributes
    ----------
    steps : ndarray of shape (K,)
        The learning rates, in the order given.
    checkpoints : ndarray of shape (K, C, m, d)
        Run :math:`k`'s iterates :math:`\tilde W_t` at :math:`t = 0, e, 2e, \dots \le T` (:math:`e` the
        argument ``every``); NaN for a run that diverged.
    grad_norm_sq : ndarray of shape (K, T + 1)
        :math:`\sum_i\|\nabla_{\tilde w_i} f(\tilde W_t)\|^2_{S^{-1}}` at every iterate; NaN for a run
        that diverged.
    diverged : ndarray of shape (K,), bool
        The runs whose weights or their S-norms left the float64 range, where the single-run
        trainers raise :class:`~lib.DivergenceError`. (With finite weights the loss and the gradient
        are finite too: :math:`\tanh` and :math:`\ell'` are bounded, and :math:`F` is at most
        :math:`\sum_i|\theta_i|`.)
    """

    steps: np.ndarray
    checkpoints: np.ndarray
    grad_norm_sq: np.ndarray
    diverged: np.ndarray


def _s_norms(network: HiddenLayerNetwork, W: np.ndarray) -> np.ndarray:
    r""":math:`\|w_{k,i}\|_S` for every row of a stack of shape (K, m, d)."""
    return np.sqrt(np.einsum("kij,jl,kil->ki", W, network.S, W))


def _gd(network, W0, steps):
    """Gradient descent: the state is the stack of weights, W <- W - s G."""
    step = steps[:, None, None]
    return W0, (lambda state: state), (lambda t, W, grad: W - step * grad)


def _adam(network, W0, steps):
    """Adam with torch's defaults, entry by entry as in network_adam."""
    step, beta1, beta2, eps = steps[:, None, None], 0.9, 0.999, 1e-8

    def update(t, state, grad):
        W, first, second = state
        first, second = beta1 * first + (1 - beta1) * grad, beta2 * second + (1 - beta2) * grad**2
        denominator = np.sqrt(second / (1 - beta2 ** (t + 1))) + eps
        return W - step / (1 - beta1 ** (t + 1)) * first / denominator, first, second

    return (W0, np.zeros_like(W0), np.zeros_like(W0)), (lambda state: state[0]), update


def _bn_sgd(network, W0, steps):
    """Gradient descent on BN's directions and scales (lem-bn-gradients), the scales starting at 1, as in network_bn_gd."""
    step = steps[:, None]

    def weights(state):
        W, g = state
        return g[..., None] * W / _s_norms(network, W)[..., None]

    def update(t, state, grad):
        W, g = state  # d_g f = w^T G/|w|_S, grad_w f = (g/|w|_S)(G - (d_g f) S w/|w|_S), row by row
        norms = _s_norms(network, W)
        length_derivatives = np.einsum("kij,kij->ki", grad, W) / norms
        direction_gradients = (g / norms)[..., None] * (grad - length_derivatives[..., None] * (W @ network.S) / norms[..., None])
        return W - step[..., None] * direction_gradients, g - step * length_derivatives

    return (W0, np.ones(W0.shape[:2])), weights, update


_METHODS = {"gd": _gd, "adam": _adam, "bn-sgd": _bn_sgd}


def network_step_grid(network: HiddenLayerNetwork, W0, steps, method: str = "gd", iterations: int = 100,
                      every: int = 10) -> GridRuns:
    r"""Run one first-order method on a hidden layer from one start with each of several learning rates, all at once.

    Run :math:`k` is the run of the single-run trainer with learning rate ``steps[k]``:

    - ``"gd"``: :math:`\tilde W_{t+1} = \tilde W_t - s\,\nabla f(\tilde W_t)` with :math:`s` = ``steps[k]``, as
      :func:`~lib.solvers.network_training.network_gd`;
    - ``"adam"``: Adam on :math:`\tilde W` with torch's defaults, as
      :func:`~lib.solvers.network_training.network_adam`;
    - ``"bn-sgd"``: gradient descent on BN's directions :math:`w_i` and scales :math:`g_i` (from
      :math:`g_i = 1`, :math:`w_i` the rows of ``W0``) with the gradients of lemma
      ``lem-bn-gradients``, as :func:`~lib.solvers.network_training.network_bn_gd`.

    Each step evaluates the :math:`K` gradients in one computation (:meth:`HiddenLayerNetwork.grads`).

    Parameters
    ----------
    network : HiddenLayerNetwork
        The network on a sample.
    W0 : array_like of shape (m, d)
        The start of every run (for ``"bn-sgd"`` the directions), one nonzero row per unit.
    steps : array_like of shape (K,)
        The learning rates, positive.
    method : {"gd", "adam", "bn-sgd"}, default "gd"
    iterations : int, default 100
        The number of steps :math:`T`; the gradient is evaluated at :math:`\tilde W_0, \dots, \tilde W_T`.
    every : int, default 10
        Keep the iterates at the multiples of ``every``.

    Returns
    -------
    GridRuns

    Raises
    ------
    TypeError
        If ``network`` is not a :class:`~lib.HiddenLayerNetwork`.
    ValueError
        For an unknown method, a zero row of ``W0``, or a step that is not positive and finite.
    """
    if not isinstance(network, HiddenLayerNetwork):
        raise TypeError(f"network must be a lib.HiddenLayerNetwork (a network on a sample), got {type(network).__name__}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {GRID_METHODS}, got {method!r}")
    W0 = as_matrix("W0", W0, rows=network.units, cols=network.dim)
    if np.any(~W0.any(axis=1)):
        raise ValueError("every row of W0 must be nonzero: a unit with w~ = 0 has no direction")
    steps = as_vector("steps", steps)
    if np.any(steps <= 0):
        raise ValueError(f"every step must be positive, got {steps!r}")
    iterations, every = as_iteration_count("iterations", iterations), as_positive_int("every", every)
    start = np.repeat(W0[None], steps.size, axis=0)
    state, weights, update = _METHODS[method](network, start.copy(), steps)
    diverged = np.zeros(steps.size, dtype=bool)
    grad_norm_sq = np.full((steps.size, iterations + 1), np.nan)
    checkpoints = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            W_tilde = weights(state)
            diverged |= ~np.all(np.isfinite(W_tilde), axis=(1, 2)) | ~np.all(np.isfinite(_s_norms(network, W_tilde)), axis=1)
            W_tilde = np.where(diverged[:, None, None], start, W_tilde)  # a diverged run goes on from the start, ignored
            grad = network.grads(W_tilde)  # finite: tanh and l' are bounded, and W_tilde is finite with finite S-norms
            grad_norm_sq[:, t] = np.einsum("kij,jl,kil->k", grad, network.S_inv, grad)
            if t % every == 0:
                checkpoints.append(W_tilde)
            if t == iterations or diverged.all():
                break
            state = update(t, state, grad)
    checkpoints = np.stack(checkpoints, axis=1)
    checkpoints[diverged], grad_norm_sq[diverged] = np.nan, np.nan
    return GridRuns(steps, checkpoints, grad_norm_sq, diverged)
