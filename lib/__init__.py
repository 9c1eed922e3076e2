"""``lib``: the solvers and problems of *Length and direction*, an executable textbook on the
optimization theory of Batch Normalization (Kohler et al., AISTATS 2019).

Every public name is re-exported here; see the book's chapters for the mathematics and the
module docstrings for the update rules each function implements.
"""

from .bisection import BisectionResult, BracketError, bisection
from .bngd import bngd
from .halfspace import Halfspace, HalfspaceSample
from .decoupling import from_w_tilde, norm_split, s_norm, split_gradient, to_w_tilde
from .least_squares import LeastSquares
from .locally_optimal import locally_optimal
from .losses import Loss, logistic, sigmoid, squared_sigmoid
from .momentum import heavy_ball, momentum_gdnp
from .moments import Evaluation, Moments
from .network import HiddenLayerNetwork
from .network_training import network_gd, unitwise_gdnp
from .rayleigh_ritz import rayleigh_ritz
from .rayleigh import compressed_rate, rayleigh_gap, rayleigh_gradient, rayleigh_minimum, rayleigh_quotient
from .result import DivergenceError, OptimizationResult
from .solvers import gd, gdnp

__all__ = [
    "BisectionResult",
    "BracketError",
    "DivergenceError",
    "Evaluation",
    "Halfspace",
    "HalfspaceSample",
    "HiddenLayerNetwork",
    "LeastSquares",
    "Loss",
    "Moments",
    "OptimizationResult",
    "bisection",
    "bngd",
    "compressed_rate",
    "from_w_tilde",
    "gd",
    "gdnp",
    "heavy_ball",
    "locally_optimal",
    "logistic",
    "momentum_gdnp",
    "network_gd",
    "norm_split",
    "rayleigh_gap",
    "rayleigh_gradient",
    "rayleigh_minimum",
    "rayleigh_quotient",
    "rayleigh_ritz",
    "s_norm",
    "sigmoid",
    "split_gradient",
    "squared_sigmoid",
    "to_w_tilde",
    "unitwise_gdnp",
]
