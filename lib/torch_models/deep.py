r"""Deeper networks with and without Batch Normalization, for chapter 5.

:func:`mlp` builds a multilayer perceptron whose hidden ``Linear`` layers are followed, if asked,
by ``BatchNorm1d``; then the hidden weights are *scale invariant* (the loss does not change when a
row of a hidden weight matrix is scaled), the situation of lemma ``lem-scale-invariance`` and of
the auto rate-tuning result of Arora, Li and Lyu. :func:`train_classifier` trains it with full-batch
gradient descent (two learning rates: one for the scale-invariant weights, or for the hidden weights
of a network without BN as a matched control, and one for the rest) and records the loss, the
accuracy and the gradient norm of every layer; :func:`evaluate_classifier` measures a trained
network on held-out data, with BN's statistics those of the training inputs. :func:`smoothness_along_gradient`
measures how the loss and its gradient change along the gradient direction, the quantities with
which Santurkar et al. describe BN's effect on the landscape.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..core.validation import as_matrix, as_positive_float, as_iteration_count, as_positive_int, as_vector
from .training import pick_device

__all__ = ["mlp", "scale_invariant_parameters", "hidden_weights", "train_classifier", "ClassifierRun",
           "evaluate_classifier", "smoothness_along_gradient"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
_INITIALISATIONS = ("torch", "xavier")


def mlp(inputs: int, hidden: list[int], classes: int, batch_norm: bool, activation: str = "tanh", seed: int = 0,
        eps: float = 1e-5, init: str = "torch") -> nn.Sequential:
    r"""``Linear -> [BatchNorm1d] -> activation`` for every hidden width, then a ``Linear`` output, in float64.

    With ``batch_norm`` the hidden ``Linear`` layers have no bias (BN's shift replaces it), and BN
    uses ``eps`` (torch's default 1e-5; the scale invariance of the hidden weights is exact only
    up to about ``eps`` over the variance of a pre-activation). The weights are drawn after
    ``torch.manual_seed(seed)``: with ``init="torch"`` by torch's default for ``Linear``
    (uniform on :math:`\pm 1/\sqrt{\text{fan-in}}`, which shrinks the signal through a deep tanh
    network), with ``init="xavier"`` by Glorot and Bengio's uniform rule with the gain of the
    activation (:math:`5/3` for tanh), which keeps the variance of the signal through the layers;
    the biases are then zero.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    if init not in _INITIALISATIONS:
        raise ValueError(f"init must be one of {list(_INITIALISATIONS)}, got {init!r}")
    widths = [as_positive_int("inputs", inputs)] + [as_positive_int("hidden width", h) for h in hidden]
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for before, after in zip(widths[:-1], widths[1:]):
        layers.append(nn.Linear(before, after, bias=not batch_norm, dtype=torch.float64))
        if batch_norm:
            layers.append(nn.BatchNorm1d(after, eps=as_positive_float("eps", eps), dtype=torch.float64))
        layers.append(_ACTIVATIONS[activation]())
    layers.append(nn.Linear(widths[-1], as_positive_int("classes", classes), dtype=torch.float64))
    if init == "xavier":
        gain = nn.init.calculate_gain(activation)
        with torch.no_grad():
            for layer in layers:
                if isinstance(layer, nn.Linear):
                    nn.init.xavier_uniform_(layer.weight, gain=gain)
                    if layer.bias is not None:
                        layer.bias.zero_()
    return nn.Sequential(*layers)


def _linear_layers(model: nn.Sequential) -> list[nn.Linear]:
    return [layer for layer in model if isinstance(layer, nn.Linear)]


def scale_invariant_parameters(model: nn.Sequential) -> list[nn.Parameter]:
    """The weights of the hidden ``Linear`` layers that a ``BatchNorm1d`` follows."""
    layers = list(model)
    return [layer.weight for layer, after in zip(layers[:-1], layers[1:])
            if isinstance(layer, nn.Linear) and isinstance(after, nn.BatchNorm1d)]


def hidden_weights(model: nn.Sequential) -> list[nn.Parameter]:
    """The weights of every ``Linear`` layer but the output layer, with or without BN after them.

    In a network of :func:`mlp` with BN these are the scale-invariant weights
    (:func:`scale_invariant_parameters`); in one without BN they are the same layers' weights,
    the matched control for an experiment that gives the scale-invariant weights their own step.
    """
    return [layer.weight for layer in _linear_layers(model)[:-1]]


@dataclass
class ClassifierRun:
    """What :func:`train_classifier` recorded, one entry per step (entry 0 is the start).

    Attributes
    ----------
    trace : dict of str to ndarray
        ``loss``, ``accuracy``, ``time``, ``layer_grad_norms`` (shape ``(T + 1, layers)``: the
        Frobenius norm of the loss gradient for each ``Linear`` weight), ``weight_norms`` (the
        same for the weights themselves).
    diverged_at : int or None
        The step at which the loss stopped being finite (the trace ends there), or None.
    info : dict
    """

    trace: dict = field(default_factory=dict)
    diverged_at: int | None = None
    info: dict = field(default_factory=dict)


def train_classifier(model: nn.Sequential, X, y, lr: float, iterations: int, invariant_lr: float | None = None,
                     device=None, progress: bool | None = None, hidden_lr: float | None = None) -> ClassifierRun:
    r"""Full-batch gradient descent on the cross-entropy of ``model``.

    Parameters
    ----------
    model : nn.Sequential
        From :func:`mlp`.
    X : array_like of shape (n, d)
    y : array_like of shape (n,)
        Class indices 0, 1, ..., classes - 1.
    lr : float
        The step for every parameter that is not scale invariant (and for all of them when
        ``invariant_lr`` is None).
    iterations : int
    invariant_lr : float, optional
        The step for the scale-invariant weights (:func:`scale_invariant_parameters`).
    device, progress
        As for :func:`lib.torch_models.train`.
    hidden_lr : float, optional
        The step for the weights of every hidden ``Linear`` layer (:func:`hidden_weights`), with
        or without BN after them; the biases, BN's scales and shifts and the output layer keep
        ``lr``. With BN this is ``invariant_lr``; without BN it is its matched control. Give at
        most one of the two.

    Returns
    -------
    ClassifierRun
        A run whose loss overflows stops there and says so (``diverged_at``), rather than going on
        with NaN.
    """
    X = as_matrix("X", X)
    labels = as_vector("y", y, X.shape[0])
    if np.any(labels != np.round(labels)) or labels.min() < 0:
        raise ValueError("y must hold class indices 0, 1, 2, ...")
    lr, iterations = as_positive_float("lr", lr), as_iteration_count("iterations", iterations)
    device = pick_device(device)
    model = model.to(device)
    X_t = torch.from_numpy(X).to(device)
    y_t = torch.from_numpy(labels.astype(np.int64)).to(device)
    if invariant_lr is not None and hidden_lr is not None:
        raise ValueError("give invariant_lr or hidden_lr, not both: with BN they name the same weights")
    if hidden_lr is not None:
        invariant, invariant_lr = hidden_weights(model), as_positive_float("hidden_lr", hidden_lr)
    else:
        invariant = scale_invariant_parameters(model) if invariant_lr is not None else []
    invariant_ids = {id(p) for p in invariant}
    groups = [{"params": [p for p in model.parameters() if id(p) not in invariant_ids], "lr": lr}]
    if invariant:
        groups.append({"params": invariant, "lr": as_positive_float("invariant_lr", invariant_lr)})
    # plain gradient descent, p <- p - lr grad, as torch.optim.SGD without momentum computes it; written
    # out because torch.optim imports torch._dynamo (and sympy) at its first use, about 1.5 s
    def descend() -> None:
        with torch.no_grad():
            for group in groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])
    linears = _linear_layers(model)
    columns = {"loss": [], "accuracy": [], "time": [], "layer_grad_norms": [], "weight_norms": []}
    run = ClassifierRun(info=dict(lr=lr, invariant_lr=invariant_lr, hidden_lr=hidden_lr, device=str(device)))
    elapsed = 0.0
    flushed = torch.set_flush_denormal(True)  # saturated units make subnormals, slow on CPUs
    try:
        bar = tqdm(total=iterations, disable=progress is False, delay=0 if progress else 5.0, desc="training")
        for t in range(iterations + 1):
            started = time.perf_counter()
            model.zero_grad()
            logits = model(X_t)
            loss = nn.functional.cross_entropy(logits, y_t)
            if not torch.isfinite(loss):
                run.diverged_at = t
                break
            loss.backward()
            grad_norms = [float(layer.weight.grad.norm()) for layer in linears]
            if t < iterations:
                descend()
            elapsed += time.perf_counter() - started
            columns["loss"].append(float(loss.detach()))
            columns["accuracy"].append(float((logits.argmax(dim=1) == y_t).double().mean()))
            columns["time"].append(elapsed)
            columns["layer_grad_norms"].append(grad_norms)
            columns["weight_norms"].append([float(layer.weight.detach().norm()) for layer in linears])
            bar.update()
        bar.close()
    finally:
        if flushed:
            torch.set_flush_denormal(False)
    run.trace = {key: np.asarray(value) for key, value in columns.items()}
    return run


def evaluate_classifier(model: nn.Sequential, X, y, statistics_from=None) -> tuple[float, float]:
    r"""The cross-entropy and the accuracy of ``model`` on ``(X, y)``, in evaluation mode.

    A network with BN normalizes in evaluation mode with its running statistics, which full-batch
    training leaves as averages over the last steps, with older weights. Given
    ``statistics_from`` (the training inputs), the function normalizes instead with the statistics
    of those inputs under the final weights, computed in one pass on a copy of the model (the
    model itself is not changed): BN with population statistics, the setting of the book's
    theory. torch stores the unbiased variance, :math:`n/(n-1)` times the one used in training, a
    relative difference of :math:`1/(n-1)`.

    Parameters
    ----------
    model : nn.Sequential
    X : array_like of shape (n, d)
    y : array_like of shape (n,)
        Class indices.
    statistics_from : array_like of shape (m, d), optional
        The inputs whose statistics BN uses; by default its running statistics.

    Returns
    -------
    loss : float
    accuracy : float
    """
    X = as_matrix("X", X)
    labels = as_vector("y", y, X.shape[0])
    if np.any(labels != np.round(labels)) or labels.min() < 0:
        raise ValueError("y must hold class indices 0, 1, 2, ...")
    device = next(model.parameters()).device
    if statistics_from is not None:
        statistics = torch.from_numpy(as_matrix("statistics_from", statistics_from, cols=X.shape[1])).to(device)
        model = copy.deepcopy(model)
        for layer in model:
            if isinstance(layer, nn.BatchNorm1d):
                layer.reset_running_stats()
                layer.momentum = None  # a cumulative average: after one pass, the statistics of that pass
        model.train()
        with torch.no_grad():
            model(statistics)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(torch.from_numpy(X).to(device))
            y_t = torch.from_numpy(labels.astype(np.int64)).to(device)
            loss = float(nn.functional.cross_entropy(logits, y_t))
            accuracy = float((logits.argmax(dim=1) == y_t).double().mean())
    finally:
        model.train(was_training)
    return loss, accuracy


def smoothness_along_gradient(model: nn.Sequential, X, y, steps) -> dict:
    r"""How the loss and its gradient change along the gradient, at the model's current parameters.

    For each step :math:`\eta` in ``steps``, with :math:`p` the vector of all the parameters,
    :math:`J(p)` the cross-entropy on ``(X, y)`` and :math:`G = \nabla J(p)` (the letters of the
    curvature probe of chapter ``ch-beyond``): ``loss_change`` is :math:`J(p - \eta G) - J(p)` and
    ``gradient_change`` is :math:`\|\nabla J(p - \eta G) - G\|`; ``gradient_norm`` is :math:`\|G\|`. The ratio
    ``gradient_change / (eta * gradient_norm)`` estimates the curvature along the gradient (the
    "effective smoothness" of Santurkar et al.). The parameters are restored afterwards.
    """
    parameters = [p for p in model.parameters() if p.requires_grad]
    device = parameters[0].device
    X_t = torch.from_numpy(as_matrix("X", X)).to(device)
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)

    def loss_and_gradient():
        model.zero_grad()
        loss = nn.functional.cross_entropy(model(X_t), y_t)
        loss.backward()
        return float(loss.detach()), torch.cat([p.grad.reshape(-1) for p in parameters]).clone()

    saved = [p.detach().clone() for p in parameters]
    base_loss, gradient = loss_and_gradient()
    result = {"steps": np.asarray(steps, dtype=float), "loss_change": [], "gradient_change": [],
              "gradient_norm": float(gradient.norm())}
    try:
        for eta in result["steps"]:
            with torch.no_grad():
                offset = 0
                for p, original in zip(parameters, saved):
                    size = p.numel()
                    p.copy_(original - eta * gradient[offset:offset + size].reshape(p.shape))
                    offset += size
            loss, moved = loss_and_gradient()
            result["loss_change"].append(loss - base_loss if math.isfinite(loss) else math.inf)
            result["gradient_change"].append(float((moved - gradient).norm()))
    finally:
        with torch.no_grad():
            for p, original in zip(parameters, saved):
                p.copy_(original)
    result["loss_change"] = np.asarray(result["loss_change"])
    result["gradient_change"] = np.asarray(result["gradient_change"])
    return result
