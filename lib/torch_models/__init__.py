"""Batch Normalization in torch: the only part of :mod:`lib` that imports torch.

* :func:`batchnorm_unit`: one linear unit followed by ``BatchNorm1d`` (chapter 1);
* :class:`BNHiddenLayer`, :class:`PlainHiddenLayer`: the network of chapter 4, and :func:`train`,
  a full-batch trainer with a device argument and a progress bar;
* :mod:`lib.torch_models.deep`: deeper networks with and without BN (chapter 5).
"""

from .bn_unit import batchnorm_unit
from .hidden_layer import TORCH_LOSSES, BNHiddenLayer, PlainHiddenLayer
from .training import pick_device, train

__all__ = ["batchnorm_unit", "BNHiddenLayer", "PlainHiddenLayer", "TORCH_LOSSES", "pick_device", "train"]
