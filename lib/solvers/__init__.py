"""The solvers of the book; each returns an :class:`~lib.OptimizationResult`.

* :mod:`lib.solvers.descent`: gradient descent and GDNP (Algorithm ``alg-gdnp``);
* :mod:`lib.solvers.least_squares_loops`: their lean loops on least squares (one product with S per iterate);
* :mod:`lib.solvers.length_search`: the length update of the decoupled solvers;
* :mod:`lib.solvers.bngd`: constant-step descent on length and direction (chapter 5);
* :mod:`lib.solvers.momentum`, :mod:`lib.solvers.locally_optimal`, :mod:`lib.solvers.rayleigh_ritz`:
  the accelerated solvers of chapter 6;
* :mod:`lib.solvers.network_training`: gradient descent and unit-wise GDNP on the hidden layer (chapter 4).
* :mod:`lib.solvers.network_grid`: one hidden layer trained with several learning rates at once (chapter 4).
"""

from .bngd import bngd
from .descent import gd, gdnp, gdnp_step_size
from .locally_optimal import locally_optimal
from .momentum import heavy_ball, momentum_gdnp
from .network_training import network_gd, unitwise_gdnp
from .rayleigh_ritz import rayleigh_ritz

__all__ = ["bngd", "gd", "gdnp", "gdnp_step_size", "heavy_ball", "locally_optimal", "momentum_gdnp",
           "network_gd", "rayleigh_ritz", "unitwise_gdnp"]
