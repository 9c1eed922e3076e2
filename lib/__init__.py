"""``lib``: the solvers and problems of *Length and direction*, an executable textbook on the
optimization theory of Batch Normalization (Kohler et al., AISTATS 2019).

The folders show the architecture, from the bottom up:

* ``lib.core``: argument validation, the run record (trace) and the result type;
* ``lib.maths``: the reparametrisation, the Rayleigh quotient, the losses, Gaussian quadrature, bisection;
* ``lib.problems``: least squares, halfspaces, the hidden layer, and seeded random instances;
* ``lib.solvers``: gradient descent, GDNP and its length search, BNGD, the accelerated solvers,
  the network solvers;
* ``lib.checks`` (one numerical check per statement of the book), ``lib.exercises`` (the
  self-checks of the coding exercises), ``lib.torch_models`` (the only part that imports torch)
  and ``lib.book`` (figures, experiments, the verification appendix).

Every public name is re-exported here; see the book's chapters for the mathematics and the
module docstrings for the update rules each function implements.
"""

from .core import DivergenceError, OptimizationResult, one_step_ratios
from .maths import (BisectionResult, BracketError, Loss, bisection, compressed_rate, from_w_tilde, logistic,
                    norm_split, rayleigh_gap, rayleigh_gradient, rayleigh_minimum, rayleigh_quotient, s_norm,
                    sigmoid, split_gradient, squared_sigmoid, to_w_tilde)
from .problems import Evaluation, Halfspace, HalfspaceSample, HiddenLayerNetwork, LeastSquares, Moments
from .solvers import (bngd, gd, gdnp, heavy_ball, locally_optimal, momentum_gdnp, network_gd, rayleigh_ritz,
                      unitwise_gdnp)
from . import old_paths

old_paths.install()  # lib.rayleigh, lib.instances, ...: the module paths of the flat layout

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
    "one_step_ratios",
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
