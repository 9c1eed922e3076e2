"""The problems of the book: every one derives from :class:`Moments` and offers ``evaluate`` and ``ray``.

* :mod:`lib.problems.moments`: the moments :math:`(S, u)` every problem depends on, and :class:`Evaluation`;
* :mod:`lib.problems.least_squares`: least squares (chapter 2);
* :mod:`lib.problems.halfspace`: learning halfspaces, Gaussian and on a sample (chapter 3);
* :mod:`lib.problems.network`, :mod:`lib.problems.network_gaussian`, :mod:`lib.problems.network_line`:
  the hidden layer of chapter 4, on a sample, in the Gaussian model, with its units on one line;
* :mod:`lib.problems.instances`: seeded random instances of these problems.
"""

from .halfspace import Halfspace, HalfspaceSample
from .least_squares import LeastSquares
from .moments import Evaluation, Moments
from .network import HiddenLayerNetwork

__all__ = ["Evaluation", "Halfspace", "HalfspaceSample", "HiddenLayerNetwork", "LeastSquares", "Moments"]
