"""The mathematics the problems and solvers are built from, as functions of arrays.

* :mod:`lib.maths.decoupling`: the S-norm reparametrisation :math:`\\tilde w = g\\,w/\\|w\\|_S` and
  its gradients (chapter 1);
* :mod:`lib.maths.rayleigh`: the generalised Rayleigh quotient :math:`\\rho` (chapter 2);
* :mod:`lib.maths.losses`: the losses :math:`\\phi` of chapter 3 with their derivative bounds;
* :mod:`lib.maths.gaussian`, :mod:`lib.maths.gaussian_plane`: Gaussian quadrature on a line and in a plane;
* :mod:`lib.maths.bisection`: bisection with bracket widening (lemma ``lem-bisection``).
"""

from .bisection import BisectionResult, BracketError, bisection
from .decoupling import from_w_tilde, norm_split, s_norm, split_gradient, to_w_tilde
from .gaussian import gaussian_expectation, gaussian_rule
from .losses import Loss, logistic, sigmoid, squared_sigmoid
from .rayleigh import compressed_rate, rayleigh_gap, rayleigh_gradient, rayleigh_minimum, rayleigh_quotient

__all__ = [
    "BisectionResult", "BracketError", "Loss", "bisection", "compressed_rate", "from_w_tilde",
    "gaussian_expectation", "gaussian_rule", "logistic", "norm_split", "rayleigh_gap", "rayleigh_gradient",
    "rayleigh_minimum", "rayleigh_quotient", "s_norm", "sigmoid", "split_gradient", "squared_sigmoid",
    "to_w_tilde",
]
