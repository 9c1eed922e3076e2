r"""One linear unit followed by torch's ``BatchNorm1d``: lemma ``lem-bn-reparam`` in torch.

Chapter 1 checks that such a unit computes :math:`x^\top\tilde w` with
:math:`\tilde w = g\,w/\|w\|_S` on centred data, :math:`S` the (biased) second moment of the batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core.validation import as_matrix, as_vector

__all__ = ["batchnorm_unit"]


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
