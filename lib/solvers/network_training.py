r"""Training the hidden layer of chapter 4 in numpy: gradient descent, Adam, BN with gradient descent,
and unit-wise GDNP.

All return an :class:`~lib.OptimizationResult` whose ``w_tilde`` is the matrix :math:`\tilde W`
(one row per unit), ``g`` the vector of lengths and ``w`` the matrix of directions. Their traces
share ``loss``, ``grad_norm_sq`` (:math:`\sum_i\|\nabla_{\tilde w_i}f\|_{S^{-1}}^2`), ``time``
and ``unit_rho_gap`` (shape ``(T + 1, m)``: each unit's :math:`\rho(w_i) - \rho^*`).
"""

from __future__ import annotations

import numpy as np

from ..core.result import OptimizationResult
from ..core.scaling import moderated
from ..core.trace import Trace, as_callback, is_intermediate_callback
from ..core.validation import as_iteration_count, as_optional_function, as_positive_float, as_vector
from ..problems.network import TANH_CURVATURE, HiddenLayer
from .descent import gdnp

__all__ = ["network_gd", "network_adam", "network_bn_gd", "unitwise_gdnp", "network_smoothness"]


def _check_network(network) -> None:
    if not isinstance(network, HiddenLayer):
        raise TypeError("network must be a lib.HiddenLayerNetwork or a lib.network_gaussian.GaussianHiddenLayer, "
                        f"got {type(network).__name__}")


def network_smoothness(network: HiddenLayer) -> float:
    r"""A Lipschitz constant of :math:`\nabla f`: :math:`\zeta = (\Psi_\ell\|\theta\|^2 + \Phi_\ell \max_i|\theta_i|\,4/(3\sqrt3))\,L`.

    Along a direction :math:`D = (D_1, \dots, D_m)`, the second derivative of ``eq-network`` is
    :math:`E[\ell''(\sum_i\theta_i\mathrm{sech}^2(v_i)z^\top D_i)^2 + \ell'\sum_i\theta_i\tanh''(v_i)(z^\top D_i)^2]`,
    at most the constant above times :math:`\sum_i E[(z^\top D_i)^2] \le L\|D\|^2` (Cauchy-Schwarz).
    """
    phi, theta = network.loss_function, network.theta
    return (phi.second_bound * theta @ theta + phi.first_bound * np.max(np.abs(theta)) * TANH_CURVATURE) * network.L


def network_gd(network: HiddenLayer, W0, iterations: int = 100, step: float | None = None,
               callback=None) -> OptimizationResult:
    r"""Gradient descent on all hidden weights at once (the gradient of lemma ``lem-network-gradient``): :math:`\tilde W_{t+1} = \tilde W_t - s\,\nabla f(\tilde W_t)`.

    The default step is :math:`1/\zeta` with :math:`\zeta` from :func:`network_smoothness`.
    ``callback(intermediate_result)`` as for :func:`lib.gd` (``w_tilde`` the matrix :math:`\tilde W`,
    ``g`` the lengths and ``w`` the directions of its rows), which stops the run by returning True;
    or the older way, ``callback(t, W_tilde)`` with a copy of :math:`\tilde W_t`.

    Raises
    ------
    DivergenceError
        If the weights, their S-norms or the loss leave the float64 range (a step far above
        :math:`2/\zeta`); the run up to the last finite state is attached as ``result``.
    """
    _check_network(network)
    W_tilde = network.check_weights(W0)
    if np.any(~W_tilde.any(axis=1)):
        raise ValueError("every row of W0 must be nonzero: a unit with w~ = 0 has no direction")
    iterations = as_iteration_count("iterations", iterations)
    callback = as_optional_function("callback", callback)
    step = 1.0 / network_smoothness(network) if step is None else as_positive_float("step", step)
    hint = f" (1/zeta = {1.0 / network_smoothness(network):.3g})"
    return _first_order(network, "gd", W_tilde, lambda W: W, lambda t, W, grad: W - step * grad, iterations,
                        callback, dict(step=step), step_column=True, hint=hint)


def _first_order(network: HiddenLayer, method: str, state, weights, update, iterations: int, callback, info: dict,
                 step_column: bool = False, hint: str = ""):
    """The loop of :func:`network_gd`, :func:`network_adam` and :func:`network_bn_gd`: at every step
    evaluate the network at ``W_tilde = weights(state)``, record it and report it to the callback,
    then ``state = update(t, state, grad)`` with ``grad`` the gradient in ``W_tilde``.
    ``step_column`` records ``info["step"]`` for every step; ``hint`` ends the divergence message.

    Raises
    ------
    DivergenceError
        If the weights or the loss leave the float64 range; the run up to the last finite state is
        attached as ``result``.
    """
    trace = Trace(network, method)
    trace.callback = as_callback(_weights_callback(callback))
    W_previous = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iterations + 1):
            W_tilde = weights(state)
            finite = bool(np.all(np.isfinite(W_tilde)))  # else the network's evaluation refuses W_tilde
            evaluation = network.evaluate(W_tilde) if finite else None
            lengths, directions = network.split(W_tilde) if finite else (None, None)
            if not (finite and np.all(np.isfinite(lengths)) and trace.record_layer(evaluation, W_tilde)):
                last = W_tilde if W_previous is None else W_previous  # the last finite state
                raise trace.diverged(t, f"the weights or the loss left the float64 range with step "
                                     f"{info['step']:.3g}{hint}", last, *network.split(last), info)
            if trace.report(t, W_tilde, lengths, directions, evaluation.loss) or t == iterations:
                break
            if step_column:
                trace.add(step=info["step"])
            W_previous, state = W_tilde, update(t, state, evaluation.grad)
    return trace.result(W_tilde, lengths, directions, info)


def network_adam(network: HiddenLayer, W0, iterations: int = 100, step: float = 1e-3, callback=None) -> OptimizationResult:
    r"""Adam on all hidden weights :math:`\tilde W` at once, with torch's defaults (full batch).

    With :math:`G_t = \nabla f(\tilde W_t)`, the decay rates :math:`\varpi_1 = 0.9`, :math:`\varpi_2 = 0.999`
    (torch's ``betas``; the book keeps :math:`\beta` for BN's shift) and the running averages
    :math:`\mathcal M_t` of :math:`G_t` and :math:`\mathcal V_t` of :math:`G_t^2` (Adam's first and second
    moment estimates, :math:`\mathcal M_0 = \mathcal V_0 = 0`; calligraphic letters, since :math:`m` is the
    number of units and :math:`v` a pre-activation), entry by entry:

    .. math::

       \mathcal M_{t+1} = \varpi_1 \mathcal M_t + (1 - \varpi_1) G_t, \qquad
       \mathcal V_{t+1} = \varpi_2 \mathcal V_t + (1 - \varpi_2) G_t^2, \\
       \tilde W_{t+1} = \tilde W_t - \frac{s}{1 - \varpi_1^{t+1}}\,
       \frac{\mathcal M_{t+1}}{\sqrt{\mathcal V_{t+1}/(1 - \varpi_2^{t+1})} + 10^{-8}},

    the update of ``torch.optim.Adam`` (chapter ``ch-networks`` compares the two).

    Parameters
    ----------
    network : HiddenLayerNetwork
    W0 : array_like of shape (m, d)
        The start, one nonzero row per unit.
    iterations : int, default 100
    step : float, default 1e-3
        The learning rate :math:`s` (a step on :math:`\tilde W`, as for gradient descent).
    callback : callable, optional
        As for :func:`network_gd`: ``callback(intermediate_result)``, which stops the run by
        returning True, or ``callback(t, W_tilde)`` with a copy of :math:`\tilde W_t`, at every
        iterate :math:`t = 0, \dots, T`.

    Returns
    -------
    OptimizationResult
        Method ``"adam"``, with the traces of :func:`network_gd`.

    Raises
    ------
    DivergenceError
        If the weights or the loss leave the float64 range.
    """
    _check_network(network)
    W_tilde = network.check_weights(W0)
    if np.any(~W_tilde.any(axis=1)):
        raise ValueError("every row of W0 must be nonzero: a unit with w~ = 0 has no direction")
    iterations, step = as_iteration_count("iterations", iterations), as_positive_float("step", step)
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def update(t, state, grad):
        W, first, second = state
        first, second = beta1 * first + (1 - beta1) * grad, beta2 * second + (1 - beta2) * grad**2
        denominator = np.sqrt(second / (1 - beta2 ** (t + 1))) + eps
        return W - step / (1 - beta1 ** (t + 1)) * first / denominator, first, second

    state = (W_tilde, np.zeros_like(W_tilde), np.zeros_like(W_tilde))
    return _first_order(network, "adam", state, lambda state: state[0], update, iterations, callback, dict(step=step))


def network_bn_gd(network: HiddenLayer, W0, lengths0=None, iterations: int = 100, step: float = 0.1,
                  callback=None) -> OptimizationResult:
    r"""Gradient descent on the directions and the lengths of every unit at once: BN trained with full-batch SGD.

    The network of ``eq-network`` with BN (population statistics, shift 0) is a function of
    :math:`(w_i, g_i)` through :math:`\tilde w_i = g_i w_i/\|w_i\|_S`; one step is

    .. math::

       w_i \leftarrow w_i - \eta\,\nabla_{w_i} f, \qquad g_i \leftarrow g_i - \eta\,\partial_{g_i} f,

    with the gradients of lemma ``lem-bn-gradients`` (as :func:`lib.split_gradient` computes them) for every unit, the
    same step :math:`\eta` for both: what ``torch.optim.SGD`` does to a linear layer followed by
    ``BatchNorm1d`` on the whole (centred) sample.

    Parameters
    ----------
    network : HiddenLayerNetwork
    W0 : array_like of shape (m, d)
        The starting directions, one nonzero row per unit.
    lengths0 : array_like of shape (m,), optional
        The starting lengths (BN's scales); default all 1, torch's initialization.
    iterations : int, default 100
    step : float, default 0.1
    callback : callable, optional
        As for :func:`network_gd` (``w_tilde`` the effective weights :math:`\tilde W_t`), which stops
        the run by returning True; or ``callback(t, W_tilde)`` with a copy of the effective weights.

    Returns
    -------
    OptimizationResult
        Method ``"bn-sgd"``, with the traces of :func:`network_gd`.

    Raises
    ------
    DivergenceError
        If the weights or the loss leave the float64 range (a step far too large).
    """
    _check_network(network)
    directions = network.check_weights(W0)
    if np.any(~directions.any(axis=1)):
        raise ValueError("every row of W0 must be a nonzero direction")
    lengths = np.ones(network.units) if lengths0 is None else as_vector("lengths0", lengths0, network.units)
    iterations, step = as_iteration_count("iterations", iterations), as_positive_float("step", step)

    def weights(state):
        W, g = state
        return g[:, None] * W / np.sqrt(np.einsum("ij,jk,ik->i", W, network.S, W))[:, None]

    def update(t, state, grad):
        W, g = state  # lem-bn-gradients row by row: d_g f = w^T G/|w|_S, grad_w f = (g/|w|_S)(G - (d_g f) S w/|w|_S)
        norms = np.sqrt(np.einsum("ij,jk,ik->i", W, network.S, W))
        length_derivatives = np.einsum("ij,ij->i", grad, W) / norms
        direction_gradients = (g / norms)[:, None] * (grad - length_derivatives[:, None] * (W @ network.S) / norms[:, None])
        return W - step * direction_gradients, g - step * length_derivatives

    state = (directions.copy(), lengths.copy())
    return _first_order(network, "bn-sgd", state, weights, update, iterations, callback, dict(step=step))


def unitwise_gdnp(
    network: HiddenLayer,
    W0,
    lengths0=None,
    sweeps: int = 1,
    steps_per_unit: int = 50,
    bisection_steps: int | None = None,
    callback=None,
) -> OptimizationResult:
    r"""Unit-wise GDNP (Algorithm ``alg-unitwise-gdnp``): GDNP on one unit at a time, the others fixed.

    For each sweep and each unit :math:`i = 1, \dots, m` in turn, run ``steps_per_unit`` steps of
    :func:`lib.gdnp` on :meth:`HiddenLayerNetwork.unit` ``(i, W~)`` (its first length from a
    search), then write the unit back into :math:`\tilde W`: the other units of a later turn see it
    only from then on. By default every unit starts switched off
    (:math:`g_i = 0`, so :math:`\tilde w_i = 0` until its turn): in the first sweep every other
    unit is then either off or already trained, the situation of proposition
    ``prop-unit-decoupling`` in which each unit is a halfspace problem in its own right.

    Parameters
    ----------
    network : HiddenLayerNetwork or lib.network_gaussian.GaussianHiddenLayer
        The network on a sample, or in the Gaussian model (two units, or units that stay on two lines).
    W0 : array_like of shape (m, d)
        Starting directions, one nonzero row per unit, each with :math:`u^\top w_i \ne 0`.
    lengths0 : array_like of shape (m,), optional
        Starting lengths; default all zero (units off).
    sweeps : int, default 1
    steps_per_unit : int, default 50
    bisection_steps : int, optional
        :math:`T_s` for every length search (default that of :func:`lib.gdnp`).
    callback : callable, optional
        Called after each recorded state as ``callback(intermediate_result)``
        (:class:`~lib.core.result.IntermediateResult`: ``t`` counts the states, ``w_tilde`` is the
        state :math:`\tilde W`, ``g`` and ``w`` the lengths and directions of its rows), which
        stops the run by returning True; or the older way, ``callback(unit, W_tilde)``, with the
        unit that moved last (-1 at the start) and a copy of the state (the moving unit at its
        current iterate, the others as written back).

    Returns
    -------
    OptimizationResult
        The trace has one entry per state: the start, then for each unit's turn its first length
        search and its direction steps. ``unit`` records which unit moved last (-1 at the start)
        and ``unit_grad_norm_sq`` the squared gradient norm of that unit (of unit 0 at the
        start); ``time`` leaves out the extra evaluations made only for the trace (the
        network's full gradient at every state).
    """
    _check_network(network)
    directions = network.check_weights(W0)
    if np.any(~directions.any(axis=1)):
        raise ValueError("every row of W0 must be a nonzero direction")
    lengths = np.zeros(network.units) if lengths0 is None else as_vector("lengths0", lengths0, network.units)
    sweeps = as_iteration_count("sweeps", sweeps)
    steps_per_unit = as_iteration_count("steps_per_unit", steps_per_unit)
    callback = as_optional_function("callback", callback)
    directions = np.array([moderated(row) for row in directions])  # exact: only each row's direction matters
    norms = np.sqrt(np.einsum("ij,jk,ik->i", directions, network.S, directions))
    W_tilde = lengths[:, None] * directions / norms[:, None]
    trace = Trace(network, "unitwise gdnp")
    trace.callback = as_callback(_layer_callback(callback, trace))
    _record_state(trace, -1, W_tilde, directions, 0.0)
    elapsed = 0.0  # the time of the finished turns
    for _ in range(sweeps):
        for i in range(network.units):
            result = gdnp(network.unit(i, W_tilde), directions[i], iterations=steps_per_unit,
                          g0=lengths[i] if lengths[i] != 0 else None, bisection_steps=bisection_steps,
                          callback=_turn_monitor(trace, i, W_tilde, directions, elapsed))
            lengths[i], directions[i], W_tilde[i] = result.g, result.w, result.w_tilde
            elapsed += float(result.trace["time"][-1])
            if trace.stopped is not None:
                break
        if trace.stopped is not None:
            break
    info = dict(sweeps=sweeps, steps_per_unit=steps_per_unit, bisection_steps=bisection_steps)
    return trace.result(W_tilde.copy(), lengths.copy(), directions.copy(), info)


def _turn_monitor(trace: Trace, i: int, W_tilde: np.ndarray, directions: np.ndarray, elapsed: float):
    """The callback of unit ``i``'s GDNP run: record the state of the layer (unit ``i`` at its iterate,
    the others as written back) at the time ``elapsed`` of the finished turns plus the run's own."""
    def monitor(intermediate_result) -> bool:
        state, state_directions = W_tilde.copy(), directions.copy()
        state[i], state_directions[i] = intermediate_result.w_tilde, intermediate_result.w
        return _record_state(trace, i, state, state_directions, elapsed + intermediate_result.time)

    return monitor


def _weights_callback(callback):
    """A callback of :func:`network_gd` as the trace calls it: ``callback(intermediate_result)`` as it
    is, ``callback(t, W_tilde)`` (the older convention) with a copy of the weights."""
    if callback is None or is_intermediate_callback(callback):
        return callback
    if not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")

    def older(intermediate_result) -> bool:
        callback(intermediate_result.t, intermediate_result.w_tilde.copy())
        return False

    return older


def _layer_callback(callback, trace: Trace):
    """A user's callback of :func:`unitwise_gdnp` as the trace calls it: ``callback(intermediate_result)``
    as it is, ``callback(unit, W_tilde)`` (the older convention) with the unit that moved last."""
    if callback is None or is_intermediate_callback(callback):
        return callback
    if not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")

    def older(intermediate_result) -> bool:
        callback(int(trace.columns["unit"][-1]), intermediate_result.w_tilde.copy())
        return False

    return older


def _record_state(trace: Trace, unit_index: int, state: np.ndarray, state_directions: np.ndarray,
                  elapsed: float) -> bool:
    """Record one state of the layer with the unit that moved last; True if the callback stops the run."""
    network = trace.problem
    evaluation = network.evaluate(state)
    active = evaluation.grad[max(unit_index, 0)]  # the unit's own gradient is its row of the network's
    t = len(trace.columns.get("loss", ()))
    if not trace.record_layer(evaluation, state_directions, elapsed, unit=unit_index,
                              unit_grad_norm_sq=float(active @ network.S_inv @ active)):
        raise trace.diverged(t, "the loss or gradient of the layer is not finite", state, None, state_directions, {})
    if trace.callback is None:
        return False
    lengths = np.sqrt(np.einsum("ij,jk,ik->i", state, network.S, state))
    return trace.report(t, state, lengths, state_directions, evaluation.loss)
