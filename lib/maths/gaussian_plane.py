r"""Expectations of functions of two projections of the Gaussian model, by nested quadrature.

In the Gaussian model :math:`z \sim N(u, S - uu^\top)`, let :math:`\hat W = (\hat w_1, \hat w_2)` be two
S-orthonormal directions (:math:`\hat W^\top S \hat W = I`). The projections :math:`\xi = \hat W^\top z` are
jointly Gaussian, :math:`\xi \sim N(\hat m, I - \hat m\hat m^\top)` with :math:`\hat m = \hat W^\top u`, and the
conditional mean of :math:`z` is affine in :math:`\xi`:

.. math:: E[z \mid \xi] = u + (S\hat W - u\hat m^\top)(I - \hat m\hat m^\top)^{-1}(\xi - \hat m).

So for any :math:`\chi` of the two projections, :math:`E[\chi(\xi)\,z] = u\,E[\chi] + (S\hat W - u\hat m^\top)(I - \hat m\hat m^\top)^{-1}E[\chi(\xi)(\xi - \hat m)]`:
a vector expectation in :math:`\mathbb{R}^d` is a few two-dimensional integrals, with no appeal to
Stein's lemma. :func:`plane_rule` returns the nodes and weights of those integrals.

The rule is nested: an outer rule for :math:`\xi_1 \sim N(\hat m_1, 1 - \hat m_1^2)` and, at each of its
nodes, an inner rule for :math:`\xi_2` given :math:`\xi_1`, a Gaussian whose variance
:math:`(1 - \hat m_1^2 - \hat m_2^2)/(1 - \hat m_1^2) \ge 1 - u^\top S^{-1}u` stays away from zero. Each is a
composite Gauss-Legendre rule on :math:`\pm 8` standard deviations (the Gaussian mass outside
is :math:`1.2\times 10^{-15}`), with panels of width at most 1 and 10 nodes each, graded
geometrically towards a *kink* where the integrand changes on a short scale (as in
:func:`lib.gaussian.gaussian_rule`). The integrands of the hidden layer of chapter 4 change
fastest where a unit's pre-activation :math:`z^\top\tilde w_j` crosses 0, on the scale
:math:`1/|\tilde w_j|`: the outer rule is graded towards :math:`\xi_1 = 0`, the inner one towards
the point where a second direction's projection vanishes. For those integrands the rule is
accurate to about 1e-12 relative (``tests/test_gaussian_plane.py`` compares it with a rule of
three times as many nodes per panel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PlaneRule", "plane_rule", "TAIL"]

#: Standard deviations covered by each one-dimensional rule; the Gaussian mass beyond is 1.2e-15.
TAIL = 8.0
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(10)
_BASE_BREAKS = np.arange(-TAIL, TAIL + 0.5, 1.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def _standard_rules(centres: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Rules for :math:`E[\chi(\omega)]`, :math:`\omega \sim N(0, 1)`, one per entry of ``centres`` (rows of the output).

    Each is the composite Gauss-Legendre rule on the panels between the integers of
    :math:`[-8, 8]` and the breaks :math:`c \pm \mathrm{width}\cdot 2^k` (:math:`k = 0, 1, \dots` up to width 1)
    around its centre :math:`c`, clipped to :math:`[-8, 8]`. All rows have the same number of
    nodes (a clipped break makes an empty panel, of weight 0), so the rules are built at once.
    """
    centres = np.asarray(centres, dtype=float).reshape(-1)
    if width < 1.0:
        steps = width * 2.0 ** np.arange(0, int(np.ceil(np.log2(1.0 / width))) + 1)
        offsets = np.concatenate([[0.0], -steps, steps])
    else:  # the feature is at least as wide as a panel: no grading needed
        offsets = np.zeros(0)
    breaks = np.concatenate([np.broadcast_to(_BASE_BREAKS, (centres.size, _BASE_BREAKS.size)),
                             np.clip(centres[:, None] + offsets, -TAIL, TAIL)], axis=1)
    breaks.sort(axis=1)
    half = 0.5 * np.diff(breaks, axis=1)
    middle = 0.5 * (breaks[:, 1:] + breaks[:, :-1])
    x = (middle[..., None] + half[..., None] * _NODES).reshape(centres.size, -1)
    weights = (half[..., None] * _WEIGHTS).reshape(centres.size, -1) * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return x, weights


@dataclass(frozen=True)
class PlaneRule:
    r"""Nodes and weights for expectations over :math:`\xi = \hat W^\top z` in the Gaussian model.

    Attributes
    ----------
    basis : ndarray of shape (d, k)
        The S-orthonormal directions :math:`E` (k = 1 or 2).
    nodes : ndarray of shape (n, k)
        Values of :math:`\xi` at the nodes.
    weights : ndarray of shape (n,)
        Positive weights, summing to :math:`1 - O(10^{-15})`.
    mean : ndarray of shape (k,)
        :math:`\hat m = \hat W^\top u`.
    gain : ndarray of shape (d, k)
        :math:`(S\hat W - u\hat m^\top)(I - \hat m\hat m^\top)^{-1}`, so that :math:`E[z \mid \xi] = u + \text{gain}\,(\xi - \hat m)`.
    u : ndarray of shape (d,)
    S_basis : ndarray of shape (d, k)
        :math:`S\hat W`.
    """

    basis: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    mean: np.ndarray
    gain: np.ndarray
    u: np.ndarray
    S_basis: np.ndarray

    def projections(self, vectors: np.ndarray) -> np.ndarray:
        r""":math:`z^\top\tilde w` at the nodes for every row :math:`\tilde w` of ``vectors`` (shape (n,) for one vector).

        Exact for vectors in the span of the basis (:math:`\tilde w = \hat W \hat W^\top S \tilde w`); the callers make sure
        they are.
        """
        return self.nodes @ (self.S_basis.T @ vectors.T)

    def expectation(self, values: np.ndarray) -> np.ndarray:
        r""":math:`E[\chi(\xi)]` from the values of :math:`\chi` at the nodes (shape (n,) or (n, j): one per column)."""
        if np.ndim(values) == 1:
            # not weights @ values: a threaded OpenBLAS dot of two long vectors can take 100 times
            # longer than this sum on a busy machine
            return (self.weights * values).sum()
        return self.weights @ values

    def times_z(self, values: np.ndarray) -> np.ndarray:
        r""":math:`E[\chi(\xi)\,z]` from the values of :math:`\chi` at the nodes; for values of shape (n, j), one row per column."""
        values = np.asarray(values, dtype=float)
        flat = values.reshape(values.shape[0], -1)
        weighted = flat * self.weights[:, None]
        centred = (self.nodes - self.mean).T @ weighted  # E[chi (xi - m_hat)], shape (k, j)
        rows = np.outer(weighted.sum(axis=0), self.u) + (self.gain @ centred).T
        return rows[0] if values.ndim == 1 else rows


def plane_rule(S: np.ndarray, u: np.ndarray, first: np.ndarray, second: np.ndarray | None = None,
               scales: tuple[float, float] = (1.0, 1.0)) -> PlaneRule:
    r"""A rule for functions of :math:`z^\top\hat e_1` and :math:`z^\top\hat e_2`, :math:`z \sim N(u, S - uu^\top)`.

    Parameters
    ----------
    S, u : ndarray
        The moments of the Gaussian model; :math:`u^\top S^{-1}u < 1` (not checked here: the
        callers' classes check it once).
    first : ndarray of shape (d,)
        A nonzero direction; :math:`e_1 = \text{first}/\|\text{first}\|_S`. The outer rule is
        graded towards :math:`z^\top e_1 = 0` with width ``scales[0]`` (in units of :math:`z^\top e_1`).
        (The two directions are swapped when the second has the narrower feature: the outer
        rule then grades towards it, which keeps nearly parallel directions accurate.)
    second : ndarray of shape (d,), optional
        A second direction. :math:`e_2` is the S-normalised part of it S-orthogonal to
        :math:`e_1`; the inner rule is graded towards :math:`z^\top\hat s = 0`,
        :math:`\hat s = \text{second}/\|\text{second}\|_S`, with width ``scales[1]``. When it is
        omitted, or parallel to ``first`` (S-sine below 1e-13), the rule is one-dimensional.
    scales : pair of float
        Widths of the integrand's features at the two kinks.
    """
    if second is not None and scales[1] < scales[0]:  # the outer rule takes the sharper feature
        first, second, scales = second, first, (scales[1], scales[0])
    e1 = first / np.sqrt(first @ S @ first)
    columns = [e1]
    if second is not None:
        s_hat = second / np.sqrt(second @ S @ second)
        alpha = float(e1 @ S @ s_hat)
        rest = s_hat - alpha * e1
        gamma = float(np.sqrt(max(rest @ S @ rest, 0.0)))
        if gamma > 1e-13:
            # orthogonalise twice: for nearly parallel directions the first pass leaves rest / gamma
            # S-orthogonal to e1 only to about 1e-16 / gamma, and every formula here needs E^T S E = I
            e2 = rest / gamma
            e2 = e2 - float(e1 @ S @ e2) * e1
            columns.append(e2 / np.sqrt(e2 @ S @ e2))
    basis = np.column_stack(columns)
    mean = basis.T @ u
    m1 = float(mean[0])
    s1 = np.sqrt(1.0 - m1 * m1)
    x1, w1 = _standard_rules(np.array([-m1 / s1]), min(scales[0] / s1, 1.0))
    p1, w1 = m1 + s1 * x1[0], w1[0]
    if basis.shape[1] == 1:
        nodes, weights = p1[:, None], w1
    else:
        m2 = float(mean[1])
        slope = -m1 * m2 / (1.0 - m1 * m1)  # E[xi2 | xi1] = m_hat2 + slope (xi1 - m_hat1)
        spread = np.sqrt((1.0 - m1 * m1 - m2 * m2) / (1.0 - m1 * m1))
        conditional = m2 + slope * (p1 - m1)
        kink = -alpha * p1 / gamma  # where z.s_hat = alpha p1 + gamma p2 vanishes
        x2, w2 = _standard_rules((kink - conditional) / spread, min(scales[1] / (gamma * spread), 1.0))
        p2 = conditional[:, None] + spread * x2
        nodes = np.column_stack([np.repeat(p1, p2.shape[1]), p2.ravel()])
        weights = (w1[:, None] * w2).ravel()
        keep = weights > 1e-19  # empty panels, and far corners (at most 1e-19 each, 1e-14 in all)
        nodes, weights = nodes[keep], weights[keep]
    k = basis.shape[1]
    S_basis = S @ basis
    gain = (S_basis - np.outer(u, mean)) @ np.linalg.inv(np.eye(k) - np.outer(mean, mean))
    return PlaneRule(basis, nodes, weights, mean, gain, u, S_basis)
