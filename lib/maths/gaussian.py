r"""One-dimensional Gaussian expectations by quadrature, to near machine precision.

In the Gaussian model of chapter 3 the projection :math:`v = z^\top\tilde w` of the data is
a scalar Gaussian :math:`N(\mathrm{mean}, \mathrm{std}^2)`, so every loss value, gradient coefficient and
length derivative is an integral :math:`E[\chi(v)] = \int \chi(\mathrm{mean} + \mathrm{std}\,\omega)\,p_0(\omega)\,d\omega`
against the standard normal density :math:`p_0` of a standard Gaussian :math:`\omega` (the names of
the proof of lemma ``lem-stein``; :math:`\phi` is the book's loss, and :math:`m`, :math:`s`, :math:`x`
have other meanings). :func:`gaussian_rule` returns nodes and weights for
such integrals, built for the losses of the book:

* the standard variable :math:`\omega` is cut at :math:`\pm 12` (the Gaussian mass outside is
  :math:`3.6\times 10^{-33}`);
* the interval is split into panels of width at most 1, each with 20 Gauss-Legendre nodes;
  the density is entire, so each panel is exact to rounding;
* the losses change on the unit scale around :math:`v = 0` (their poles lie at
  :math:`v = \pm i\pi`), which in :math:`\omega` is a feature of width :math:`1/\mathrm{std}` at
  :math:`\omega_0 = -\mathrm{mean}/\mathrm{std}`. When :math:`\mathrm{std} > 1`, panels are graded geometrically towards
  :math:`\omega_0` (widths :math:`1/\mathrm{std}, 2/\mathrm{std}, 4/\mathrm{std}, \dots`), so that every panel stays at a distance
  from the nearest pole comparable to its width and keeps its exponential accuracy.

For these losses the rule is accurate to about 1e-15 relative (checked against mpmath in
``tests/test_gaussian.py``). A user loss whose features are far from the unit scale around 0
needs the ``scale`` and ``kink`` arguments.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_rule", "gaussian_expectation"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)
#: Standard deviations covered; the Gaussian mass beyond is 3.6e-33.
TAIL = 12.0
_BASE_BREAKS = np.arange(-TAIL, TAIL + 1.0, 1.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def gaussian_rule(mean: float, std: float, kink: float = 0.0, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`v_k` and weights :math:`c_k` with :math:`\sum_k c_k \chi(v_k) \approx E[\chi(v)]`, :math:`v \sim N(\mathrm{mean}, \mathrm{std}^2)`.

    Parameters
    ----------
    mean, std : float
        The mean and the standard deviation :math:`\mathrm{std} \ge 0` of :math:`v`. For ``std = 0`` the rule is the point mass at ``mean``.
    kink : float, default 0
        Where the integrands change fastest (0 for the book's losses).
    scale : float, default 1
        The width of that change, in the units of :math:`v`.

    Returns
    -------
    nodes, weights : ndarray
        The weights are positive and sum to :math:`1 - 3.6\times 10^{-33}`.
    """
    if not (np.isfinite(mean) and np.isfinite(std) and std >= 0):
        raise ValueError(f"a Gaussian needs a finite mean and a finite std >= 0, got mean={mean}, std={std}")
    if std == 0.0:
        return np.array([float(mean)]), np.array([1.0])
    width = scale / std  # the width of the integrand's feature in standard units
    centre = (kink - mean) / std
    if width < 1.0 and abs(centre) < TAIL + 1.0:
        # Grade the panels towards the feature, and place every node by its offset t from
        # it: v = kink + std * t. Writing v = mean + std * x instead would cancel two large
        # numbers when std is large, and move the nodes near the feature by ~eps * |mean|.
        steps = width * 2.0 ** np.arange(0, int(np.ceil(np.log2(1.0 / width))) + 1)
        graded = np.concatenate([[0.0], -steps, steps])
        base = _BASE_BREAKS - centre
        offsets = np.union1d(base, np.clip(graded, base[0], base[-1]))
        t, weights = _panels(offsets)
        x = centre + t
        return kink + std * t, weights * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    x, weights = _panels(_BASE_BREAKS)
    return mean + std * x, weights * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


def _panels(breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on the panels between consecutive breaks."""
    left, right = breaks[:-1], breaks[1:]
    keep = right > left
    half = 0.5 * (right[keep] - left[keep])
    middle = 0.5 * (right[keep] + left[keep])
    return (middle[:, None] + half[:, None] * _NODES).ravel(), (half[:, None] * _WEIGHTS).ravel()


def gaussian_expectation(function, mean: float, std: float) -> float:
    r""":math:`E[\chi(v)]` for :math:`v \sim N(\mathrm{mean}, \mathrm{std}^2)` and a vectorised :math:`\chi`, by :func:`gaussian_rule`."""
    nodes, weights = gaussian_rule(mean, std)
    return float(weights @ np.asarray(function(nodes), dtype=float))
