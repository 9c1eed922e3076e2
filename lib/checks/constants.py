r"""The constants :math:`\Phi = \sup|\phi'|` and :math:`\Psi = \sup|\phi''|` of a loss, computed afresh.

The theorems of chapters 3 and 4 use these two numbers, and a check must not take them from the
:class:`~lib.Loss` under test: a :math:`\Psi` that is too small makes the bisection bound and the
halfspace bound invalid, and would go unnoticed. :func:`loss_constants` recomputes both from the
loss's derivative functions alone:

* on a dense grid, :math:`t \in [-60, 60]` in steps of :math:`10^{-3}`, plus a sparse grid out to
  :math:`|t| = 10^4` for suprema approached at infinity (the logistic :math:`\phi' \to 1`);
* refined at the grid's best point by a bounded one-dimensional maximisation (to :math:`10^{-12}`
  in :math:`t`, where the maximum is smooth, so the value is exact to rounding);
* at the analytic maximisers of the book's losses, where they are known (see ``ANALYTIC``).

The largest of these is the supremum to about 1e-15 relative for the book's losses.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ANALYTIC", "supremum", "loss_constants"]


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


#: Points where the book's losses attain sup |phi'| and sup |phi''| (derived in chapter 3:
#: with sigma = sigma(t), phi'' of the sigmoid is sigma'(1 - 2 sigma), extreme at
#: sigma = (3 -+ sqrt 3)/6; phi' of the squared sigmoid is 2 sigma^2 (1 - sigma), largest at
#: sigma = 2/3; its phi'' is 2 sigma^2 (1 - sigma)(2 - 3 sigma), extreme at (15 -+ sqrt 33)/24).
ANALYTIC = {
    "logistic": {"first": [60.0], "second": [0.0]},
    "sigmoid": {"first": [0.0], "second": [_logit((3 - math.sqrt(3)) / 6), _logit((3 + math.sqrt(3)) / 6)]},
    "squared_sigmoid": {"first": [_logit(2 / 3)],
                        "second": [_logit((15 - math.sqrt(33)) / 24), _logit((15 + math.sqrt(33)) / 24)]},
}

_DENSE = np.arange(-60.0, 60.0 + 5e-4, 1e-3)
_SPARSE = np.concatenate([-np.geomspace(1e4, 60.0, 200), np.geomspace(60.0, 1e4, 200)])


def supremum(function, points=()) -> float:
    r""":math:`\sup_t |\chi(t)|` of a vectorised function :math:`\chi` (``function``), from grids, a refinement and ``points``.

    Raises
    ------
    ValueError
        If :math:`\chi` returns a non-finite value on the grids (then no finite constant exists).
    """
    grid = np.concatenate([_DENSE, _SPARSE])
    with np.errstate(all="ignore"):
        values = np.abs(np.asarray(function(grid), dtype=float))
    if not np.all(np.isfinite(values)):
        raise ValueError("the function is not finite on the grid: it has no finite supremum")
    best = int(np.argmax(values))
    candidates = [float(values[best])]
    if best < _DENSE.size:  # refine an interior maximum of the dense grid
        # scipy.optimize at its first use: importing the checks (every chapter does) does not import it (about 0.3 s)
        from scipy.optimize import minimize_scalar

        centre = float(grid[best])
        found = minimize_scalar(lambda t: -abs(float(function(np.array([t]))[0])),
                                bounds=(centre - 2e-3, centre + 2e-3), method="bounded",
                                options={"xatol": 1e-12})
        candidates.append(-float(found.fun))
    if points:
        candidates.append(float(np.max(np.abs(np.asarray(function(np.asarray(points, dtype=float)))))))
    return max(candidates)


def loss_constants(loss) -> tuple[float, float]:
    r""":math:`(\Phi, \Psi) = (\sup|\phi'|, \sup|\phi''|)` of ``loss``, recomputed from its derivatives.

    ``loss`` is a :class:`lib.Loss` (only its ``first``, ``second`` and ``name`` are read).
    """
    points = ANALYTIC.get(loss.name, {})
    return supremum(loss.first, points.get("first", ())), supremum(loss.second, points.get("second", ()))
