r"""The network of chapter 4 as torch modules.

:class:`BNHiddenLayer` is a linear layer without bias, ``BatchNorm1d`` with batch statistics (its
scale :math:`\gamma_i` is the length :math:`g_i`, its shift is fixed at 0), tanh, and fixed output
weights :math:`\theta`; :class:`PlainHiddenLayer` is the same network written directly in
:math:`\tilde W`. With centred data and full batches, :class:`BNHiddenLayer` computes exactly the
numpy network :class:`lib.HiddenLayerNetwork` at :math:`\tilde w_i = g_i w_i/\|w_i\|_S`; the book
checks the losses and gradients of the two against each other to 1e-10.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core.validation import as_matrix, as_positive_float, as_vector

__all__ = ["BNHiddenLayer", "PlainHiddenLayer", "TORCH_LOSSES"]

#: The outer losses of :mod:`lib.losses`, in torch.
TORCH_LOSSES = {
    "logistic": nn.functional.softplus,
    "sigmoid": torch.sigmoid,
    "squared_sigmoid": lambda t: torch.sigmoid(t) ** 2,
}


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
