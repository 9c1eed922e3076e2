r"""Full-batch training of the chapter-4 networks with a torch optimizer."""

from __future__ import annotations

import time

import numpy as np
import torch
from tqdm.auto import tqdm

from ..core.validation import as_positive_float, as_iteration_count
from ..core.result import OptimizationResult
from .hidden_layer import TORCH_LOSSES, BNHiddenLayer, PlainHiddenLayer

__all__ = ["pick_device", "train"]


def pick_device(device=None) -> torch.device:
    """``device`` as a torch device; by default a CUDA GPU when one is present, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None, 'cpu', 'cuda' or 'cuda:N', got {device!r}") from error


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


def train(model: torch.nn.Module, network, optimizer: str = "sgd", lr: float = 0.1, iterations: int = 100,
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
    from ..problems.network import HiddenLayerNetwork  # numpy side; imported here to keep torch out of it

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
    iterations = as_iteration_count("iterations", iterations)
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
        columns["unit_rho_gap"].append(network.unit_rho_gaps(W_tilde))

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

    lengths, directions = network.split(W_tilde)
    method = ("bn-" if isinstance(model, BNHiddenLayer) else "") + optimizer
    trace = {key: np.asarray(value) for key, value in columns.items()}
    return OptimizationResult(method, W_tilde, lengths, directions, trace,
                              dict(optimizer=optimizer, lr=lr, device=str(device)))
