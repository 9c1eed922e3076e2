"""The contract between problems and solvers: argument validation, the run record and the result type.

* :mod:`lib.core.validation`: the checks every public function applies to its arguments;
* :mod:`lib.core.result`: :class:`OptimizationResult`, the one result type of every solver, and
  :class:`DivergenceError`;
* :mod:`lib.core.trace`: the per-iterate record that the solvers write.
"""

from .result import DivergenceError, IntermediateResult, OptimizationResult
from .trace import one_step_ratios

__all__ = ["DivergenceError", "IntermediateResult", "OptimizationResult", "one_step_ratios"]
