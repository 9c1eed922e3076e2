r"""Batch Normalization in torch: the only module of :mod:`lib` that imports torch.

Three things live here:

* :func:`batchnorm_unit`, one linear unit followed by torch's ``BatchNorm1d``, with which
  chapter 1 checks lemma ``lem-bn-reparam``;
* :class:`BNHiddenLayer`, the network of chapter 4 as an ``nn.Module``: a linear layer without
  bias, ``BatchNorm1d`` with batch statistics (its scale :math:`\gamma_i` is the length
  :math:`g_i`, its shift is fixed at 0), tanh, and fixed output weights :math:`\theta`; and
  :class:`PlainHiddenLayer`, the same network written directly in :math:`\tilde W`;
* :func:`train`, a full-batch trainer with a torch optimizer, a device argument (a GPU when one is
  present, else the CPU) and a progress bar for runs that take more than a few seconds.

With centred data and full batches, :class:`BNHiddenLayer` computes exactly the numpy network
:class:`lib.HiddenLayerNetwork` at :math:`\tilde w_i = g_i w_i/\|w_i\|_S`; the book checks the
losses and gradients of the two against each other to 1e-10.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._validation import as_matrix, as_positive_float, as_positive_int, as_vector
from .result import OptimizationResult

__all__ = ["batchnorm_unit", "pick_device", "BNHiddenLayer", "PlainHiddenLayer", "train", "TORCH_LOSSES"]

#: The outer losses of :mod:`lib.losses`, in torch.
TORCH_LOSSES = {
    "logistic": nn.functional.softplus,
    "sigmoid": torch.sigmoid,
    "squared_sigmoid": lambda t: torch.sigmoid(t) ** 2,
}


def batchnorm_unit(X, w, g: float) -> np.ndarray:
    r"""The output of one linear unit followed by torch's ``BatchNorm1d``, in float64.

    Computes :math:`\mathrm{BN}(Xw)` with the statistics of the batch ``X`` (training mode,
    ``eps`` = 1e-300, i.e. none), scale :math:`\gamma = g` and shift :math:`\beta = 0`:

    .. math:: \mathrm{BN}(x^\top w) = g\,\frac{x^\top w - \bar m}{\sqrt{\bar v}},

    with :math:`\bar m, \bar v` the batch mean and biased batch variance of :math:`Xw`.

    Parameters
    ----------
    X : array_like of shape (n, d)
        The batch, one row per input.
    w : array_like of shape (d,)
        The unit's weights (nonzero).
    g : float
        BN's scale :math:`\gamma`.

    Returns
    -------
    ndarray of shape (n,)
    """
    X = as_matrix("X", X)
    w = as_vector("w", w, X.shape[1])
    if X.shape[0] < 2:
        raise ValueError("a batch needs at least 2 rows for its variance")
    linear = nn.Linear(X.shape[1], 1, bias=False, dtype=torch.float64)
    # torch refuses eps = 0 in training mode; 1e-300 vanishes in the rounding of any variance
    bn = nn.BatchNorm1d(1, eps=1e-300, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(w).reshape(1, -1))
        bn.weight.fill_(float(g))
        bn.bias.zero_()
        bn.train()
        out = bn(linear(torch.from_numpy(X)))
    return out.numpy().ravel()


def pick_device(device=None) -> torch.device:
    """``device`` as a torch device; by default a CUDA GPU when one is present, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None, 'cpu', 'cuda' or 'cuda:N', got {device!r}") from error


class BNHiddenLayer(nn.Module):
    r""":math:`F(x) = \sum_i \theta_i \tanh(\mathrm{BN}_i(x^\top w_i))` with batch statistics and BN shift 0.

    Parameters
    ----------
    directions : array_like of shape (m, d)
        The weights :math:`w_i` of the linear layer (any scale; one nonzero row per unit).
    lengths : array_like of shape (m,)
        BN's scales :math:`\gamma_i = g_i`.
    theta : array_like of shape (m,)
        The fixed output weights (a buffer, not trained).
    eps : float, default 1e-12
        BN's :math:`\epsilon`; the default is negligible against unit-scale variances, so that the
        module matches the numpy network to about 1e-12.
    """

    def __init__(self, directions, lengths, theta, eps: float = 1e-12):
        super().__init__()
        directions = as_matrix("directions", directions)
        units, dim = directions.shape
        lengths, theta = as_vector("lengths", lengths, units), as_vector("theta", theta, units)
        self.linear = nn.Linear(dim, units, bias=False, dtype=torch.float64)
        self.bn = nn.BatchNorm1d(units, eps=as_positive_float("eps", eps), track_running_stats=False, dtype=torch.float64)
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(directions))
            self.bn.weight.copy_(torch.from_numpy(lengths))
            self.bn.bias.zero_()
        self.bn.bias.requires_grad_(False)  # the book's BN has no shift (assumption asm-data)
        self.register_buffer("theta", torch.from_numpy(theta))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.bn(self.linear(X))) @ self.theta

    def effective_weights(self, S: np.ndarray) -> np.ndarray:
        r""":math:`\tilde w_i = g_i w_i/\|w_i\|_S` as a numpy array of shape (m, d)."""
        W = self.linear.weight.detach().cpu().numpy()
        g = self.bn.weight.detach().cpu().numpy()
        return g[:, None] * W / np.sqrt(np.einsum("ij,jk,ik->i", W, S, W))[:, None]


class PlainHiddenLayer(nn.Module):
    r""":math:`F(x) = \sum_i\theta_i\tanh(x^\top\tilde w_i)`, trained directly in :math:`\tilde W`."""

    def __init__(self, W_tilde, theta):
        super().__init__()
        W_tilde = as_matrix("W_tilde", W_tilde)
        self.W_tilde = nn.Parameter(torch.from_numpy(W_tilde.copy()))
        self.register_buffer("theta", torch.from_numpy(as_vector("theta", theta, W_tilde.shape[0])))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.tanh(X @ self.W_tilde.T) @ self.theta

    def effective_weights(self, S: np.ndarray) -> np.ndarray:
        return self.W_tilde.detach().cpu().numpy().copy()


def _run(iterations, step, model, X, y, loss_function, device, record, bar) -> None:
    """The training loop; only the optimizer's work is timed, not the trace."""
    elapsed = 0.0
    for _ in range(iterations):
        started = time.perf_counter()
        step.zero_grad()
        objective = loss_function(-y * model(X)).mean()
        objective.backward()
        step.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - started
        record(elapsed)
        bar.update()


def train(model: nn.Module, network, optimizer: str = "sgd", lr: float = 0.1, iterations: int = 100,
          device=None, progress: bool | None = None) -> OptimizationResult:
    r"""Full-batch training of a :class:`BNHiddenLayer` or :class:`PlainHiddenLayer` with a torch optimizer.

    Every step computes :math:`\frac1n\sum_k \ell(-y_k F(x_k))` on the whole data set of
    ``network`` (so BN uses the population statistics of the book), back-propagates, and lets
    the optimizer update the parameters.

    Parameters
    ----------
    model : BNHiddenLayer or PlainHiddenLayer
    network : lib.HiddenLayerNetwork
        The data (its ``X``, ``y``) and the outer loss; also used to record, in numpy, the
        trace of :math:`f`, :math:`\|\nabla_{\tilde W} f\|_{S^{-1}}^2` and the units' Rayleigh gaps
        at the effective weights (time spent on the trace is left out of ``time``).
    optimizer : {"sgd", "adam"}
    lr : float
    iterations : int
    device : str or torch.device, optional
        Default: a CUDA GPU when present, else the CPU.
    progress : bool, optional
        Show a progress bar: always (True), never (False), or only once a run has taken more
        than 5 seconds (None).

    Returns
    -------
    OptimizationResult
        Method ``"bn-sgd"``, ``"bn-adam"``, ``"sgd"`` or ``"adam"``; ``w_tilde`` the effective
        weights (m, d).
    """
    from .network import HiddenLayerNetwork  # numpy side; imported here to keep torch out of it

    if not isinstance(model, (BNHiddenLayer, PlainHiddenLayer)):
        raise TypeError(f"model must be a BNHiddenLayer or a PlainHiddenLayer, got {type(model).__name__}")
    if not isinstance(network, HiddenLayerNetwork):
        raise TypeError(f"network must be a lib.HiddenLayerNetwork, got {type(network).__name__}")
    if network.loss_function.name not in TORCH_LOSSES:
        raise ValueError(f"the torch trainer knows the losses {sorted(TORCH_LOSSES)}, not {network.loss_function.name!r}")
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    if optimizer not in optimizers:
        raise ValueError(f"optimizer must be one of {sorted(optimizers)}, got {optimizer!r}")
    lr = as_positive_float("lr", lr)
    iterations = as_positive_int("iterations", iterations)
    device = pick_device(device)
    model = model.to(device)
    X = torch.from_numpy(network.X).to(device)
    y = torch.from_numpy(network.y).to(device)
    loss_function = TORCH_LOSSES[network.loss_function.name]
    parameters = [p for p in model.parameters() if p.requires_grad]
    step = optimizers[optimizer](parameters, lr=lr)
    columns = {"loss": [], "grad_norm_sq": [], "time": [], "unit_rho_gap": []}

    def record(elapsed: float) -> None:
        W_tilde = model.effective_weights(network.S)
        evaluation = network.evaluate(W_tilde)
        columns["loss"].append(evaluation.loss)
        columns["grad_norm_sq"].append(network.grad_norm_sq(evaluation.grad))
        columns["time"].append(elapsed)
        columns["unit_rho_gap"].append([network.rho_gap(w) for w in W_tilde])

    record(0.0)
    bar = tqdm(total=iterations, disable=progress is False, delay=0 if progress else 5.0, desc=f"{optimizer} training")
    # saturated tanh units produce subnormal numbers (below 2.2e-308), on which CPUs are ~100 times
    # slower; flushing them to zero changes no value above that size
    flushed = torch.set_flush_denormal(True)
    try:
        _run(iterations, step, model, X, y, loss_function, device, record, bar)
    finally:
        if flushed:
            torch.set_flush_denormal(False)
        bar.close()
    W_tilde = model.effective_weights(network.S)

    lengths = np.sqrt(np.einsum("ij,jk,ik->i", W_tilde, network.S, W_tilde))
    method = ("bn-" if isinstance(model, BNHiddenLayer) else "") + optimizer
    trace = {key: np.asarray(value) for key, value in columns.items()}
    return OptimizationResult(method, W_tilde, lengths, W_tilde / lengths[:, None], trace,
                              dict(optimizer=optimizer, lr=lr, device=str(device)))
