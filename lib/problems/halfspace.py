r"""Learning a halfspace: the paper's Eq. (16) and the book's chapter 3.

.. math:: f(\tilde w) = E[\phi(z^\top\tilde w)], \qquad z = -y\,x,

with a smooth loss :math:`\phi` (:mod:`lib.losses`), :math:`u = E[z] = E[-yx]` and
:math:`S = E[zz^\top] = E[xx^\top]` (labels :math:`y = \pm 1`), equation ``eq-halfspace``.

:class:`Halfspace` is the **Gaussian model**: :math:`z \sim N(u, S - uu^\top)`. Then
:math:`v = z^\top\tilde w \sim N(u^\top\tilde w,\ \tilde w^\top S\tilde w - (u^\top\tilde w)^2)`,
every quantity is a one-dimensional Gaussian integral (:mod:`lib.gaussian`), and by Stein's
lemma (lemma ``lem-gaussian-gradient``)

.. math::

   \nabla f(\tilde w) = c_1 u + c_2 S\tilde w, \qquad
   c_1 = E[\phi'(v)] - E[\phi''(v)]\,u^\top\tilde w, \quad c_2 = E[\phi''(v)].

:class:`HalfspaceSample` (from :meth:`Halfspace.from_data`) is the same objective on a finite
sample, with :math:`S, u` the sample moments; there the decomposition does not hold exactly,
and :math:`c_1` is the plug-in value that Algorithm ``alg-gdnp`` uses for its step size.
"""

from __future__ import annotations

import numpy as np

from ..core.random import rng_from
from ..core.scaling import rescaled, unit_and_product
from ..core.validation import as_matrix, as_positive_int, as_vector
from ..maths.bisection import bisection
from ..maths.gaussian import gaussian_rule
from ..maths.losses import as_loss, logistic, slope_curvature, slope_sum, third_bound, value_first_second
from .moments import Evaluation, Moments

__all__ = ["HalfspaceObjective", "Halfspace", "HalfspaceSample"]


class HalfspaceObjective(Moments):
    r"""What the Gaussian and the sample halfspace problems share: the moments, the loss, the constants.

    Subclasses provide ``evaluate(w_tilde)`` and ``ray(w)``.
    """

    closed_form_length = False

    def __init__(self, S, u, loss):
        super().__init__(S, u)
        self.loss_function = as_loss(loss)

    @property
    def length_curvature_bound(self) -> float:
        r""":math:`\Psi = \sup|\phi''| \ge |\partial_g^2 f(w, g)|` (since :math:`E[(z^\top\hat w)^2] = 1`)."""
        return self.loss_function.second_bound

    @property
    def smoothness(self) -> float:
        r""":math:`\zeta = \Psi L`, a Lipschitz constant of :math:`\nabla f` (:math:`|\nabla^2 f| \preceq \Psi S`)."""
        return self.loss_function.second_bound * self.L

    def loss(self, w_tilde) -> float:
        r""":math:`f(\tilde w) = E[\phi(z^\top\tilde w)]`."""
        return self.evaluate(w_tilde).loss

    def grad(self, w_tilde) -> np.ndarray:
        r""":math:`\nabla f(\tilde w) = E[\phi'(z^\top\tilde w)\,z]`."""
        return self.evaluate(w_tilde).grad

    def gradient_coefficients(self, w_tilde) -> tuple[float, float]:
        r"""The scalars :math:`(c_1, c_2)`; in the Gaussian model :math:`\nabla f = c_1u + c_2S\tilde w` (lemma ``lem-gaussian-gradient``)."""
        evaluation = self.evaluate(w_tilde)
        return evaluation.c1, evaluation.c2


class Halfspace(HalfspaceObjective):
    r"""The population halfspace problem :math:`f(\tilde w) = E[\phi(z^\top\tilde w)]`, :math:`z \sim N(u, S - uu^\top)`.

    Implements equation ``eq-halfspace`` in the Gaussian model of assumption ``asm-gaussian``.

    Parameters
    ----------
    S : array_like of shape (d, d)
        :math:`E[zz^\top] = E[xx^\top]`, symmetric positive definite.
    u : array_like of shape (d,)
        :math:`E[z] = E[-yx]`. A Gaussian :math:`z` with these moments exists only if the
        covariance :math:`S - uu^\top` is positive semidefinite, that is if
        :math:`u^\top S^{-1}u \le 1`; other moments are refused.
    loss : str, Loss or tuple, default "logistic"
        ``"logistic"``, ``"sigmoid"``, ``"squared_sigmoid"``, a :class:`lib.Loss`, or a tuple
        ``(phi, dphi, d2phi)`` of vectorised functions.

    Attributes
    ----------
    loss_function : lib.Loss
    """

    name = "halfspace (Gaussian model)"

    def __init__(self, S, u, loss="logistic"):
        super().__init__(S, u, loss)
        self._check_gaussian_moments()

    def _check_gaussian_moments(self) -> None:
        energy = -self.rho_star  # u^T S^-1 u
        if energy > 1.0 + 1e-12:
            smallest = float(np.linalg.eigvalsh(self.S - np.outer(self.u, self.u))[0])
            raise ValueError(
                "no Gaussian z has E[z] = u and E[z z^T] = S: its covariance S - u u^T would have "
                f"the negative eigenvalue {smallest:.3g} (equivalently u^T S^-1 u = {energy:.6g} > 1). "
                "For labels y = +-1, S = E[x x^T] and u = E[-y x] always satisfy u^T S^-1 u <= 1"
            )

    # ------------------------------------------------------------------ the objective
    def _projection_moments(self, w_tilde: np.ndarray) -> tuple[float, float]:
        """Mean and standard deviation of v = z.w~ in the Gaussian model.

        Computed from w~ rescaled by a power of two (exact, the same to the bit where w~.S.w~ is in
        range), so that they are right up to |w~| near 1e308 instead of overflowing at 1e154.
        """
        w_tilde, k = rescaled(w_tilde)
        mean = float(self.u @ w_tilde)
        variance = float(w_tilde @ self.S @ w_tilde) - mean * mean
        with np.errstate(over="ignore"):
            return float(np.ldexp(mean, k)), float(np.ldexp(np.sqrt(max(variance, 0.0)), k))

    def evaluate(self, w_tilde) -> Evaluation:
        r"""Loss, gradient :math:`c_1u + c_2S\tilde w` and :math:`c_1, c_2`, by Gaussian quadrature."""
        return self.evaluate_unchecked(self.check_vector("w_tilde", w_tilde))

    def evaluate_unchecked(self, w_tilde: np.ndarray, S_w_tilde: np.ndarray | None = None) -> Evaluation:
        r""":meth:`evaluate` without validating ``w_tilde`` (a solver's own iterate), with :math:`S\tilde w` if given."""
        mean, std = self._projection_moments(w_tilde)
        nodes, weights = gaussian_rule(mean, std)
        phi = self.loss_function
        loss = float(weights @ phi.value(nodes))
        c2 = float(weights @ phi.second(nodes))
        c1 = float(weights @ phi.first(nodes)) - c2 * mean
        S_w_tilde = self.S @ w_tilde if S_w_tilde is None else S_w_tilde
        return Evaluation(loss, c1 * self.u + c2 * S_w_tilde, c1, c2)

    def ray(self, w) -> "GaussianRay":
        """The length problem along the direction ``w`` (see :class:`GaussianRay`)."""
        return GaussianRay(self, self.check_direction("w", w))

    # ------------------------------------------------------------------ solutions and samples
    def critical_point(self, bisection_steps: int = 60) -> np.ndarray:
        r"""The critical point on the line of :math:`S^{-1}u`: :math:`g^\circ S^{-1}u/\|S^{-1}u\|_S`.

        By lemma ``lem-critical-line`` every critical point lies on this line; the length
        :math:`g^\circ` solves :math:`\partial_g f = 0` and is found by bisection. For a convex
        loss this is the global minimiser.

        Raises
        ------
        BracketError
            If the length problem has no finite minimiser (the sigmoid loss).
        """
        ray = self.ray(self.optimal_direction())
        found = bisection(ray.derivative, (-1.0, 1.0), as_positive_int("bisection_steps", bisection_steps))
        return found.root * ray.w_hat

    def sample(self, n: int, seed=0) -> tuple[np.ndarray, np.ndarray]:
        r"""Draw ``n`` labelled inputs :math:`(x_i, y_i)` of the Gaussian model.

        :math:`z \sim N(u, S - uu^\top)`, :math:`y = \pm 1` with probability 1/2 each and
        independent of :math:`z`, and :math:`x = -yz`: then :math:`E[xx^\top] = S`,
        :math:`E[-yx] = u` and :math:`E[x] = 0`.
        """
        n = as_positive_int("n", n)
        rng = rng_from(seed)
        covariance = self.S - np.outer(self.u, self.u)
        eigenvalues, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
        root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
        z = self.u + rng.standard_normal((n, self.dim)) @ root.T
        y = rng.choice([-1.0, 1.0], size=n)
        return -y[:, None] * z, y

    @classmethod
    def from_data(cls, X, y, loss="logistic") -> "HalfspaceSample":
        r"""The same objective on a sample: :math:`f(\tilde w) = \frac1n\sum_i \phi(-y_i x_i^\top\tilde w)`.

        Parameters
        ----------
        X : array_like of shape (n, d)
            Inputs, one row per sample (assumption ``asm-data`` asks for centred columns).
        y : array_like of shape (n,)
            Labels, each -1 or +1.
        loss : as for :class:`Halfspace`
        """
        return HalfspaceSample(X, y, loss)


class GaussianRay:
    r"""The length problem :math:`g \mapsto f(g\hat w)` in the Gaussian model, :math:`\hat w = w/\|w\|_S`.

    Along the ray, :math:`\xi = z^\top\hat w \sim N(\hat m, 1 - \hat m^2)` with
    :math:`\hat m = u^\top\hat w`, so :math:`\partial_g f(w, g) = E[\phi'(g\xi)\,\xi]`, one
    Gaussian integral per evaluation, computed in this direct form. (Stein's lemma rewrites it as
    :math:`\hat m\,E[\phi'(g\xi)] + (1 - \hat m^2)\,g\,E[\phi''(g\xi)]`, but for large
    :math:`|g|` the two terms nearly cancel and the difference loses its sign to rounding.)
    """

    def __init__(self, problem: Halfspace, w: np.ndarray):
        self.problem = problem
        self.aim(w)

    def aim(self, w: np.ndarray) -> bool:
        r"""Turn the ray to the direction ``w`` (finite, nonzero, not validated); False if it is not."""
        unit = unit_and_product(w, self.problem.S)  # any scale of w
        if unit is None:
            return False
        self.w_hat, self.S_w_hat, self.norm = unit
        self.slope = float(self.problem.u @ self.w_hat)
        self.spread_sq = max(1.0 - self.slope**2, 0.0)
        return True

    def _rule(self, g: float):
        return gaussian_rule(g * self.slope, abs(g) * np.sqrt(self.spread_sq))

    def value(self, g: float) -> float:
        nodes, weights = self._rule(g)
        return float(weights @ self.problem.loss_function.value(nodes))

    def derivative(self, g: float) -> float:
        first = self.problem.loss_function.first
        if g == 0.0:
            return float(first(np.zeros(1))[0]) * self.slope
        nodes, weights = self._rule(g)  # nodes v = g xi
        return float(weights @ (first(nodes) * nodes)) / g

    def evaluate(self, g: float) -> Evaluation:
        return self.problem.evaluate_unchecked(g * self.w_hat, g * self.S_w_hat)


def labelled_sample(X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Validate a labelled sample and return it with :math:`Z = -y\,x` row by row.

    Parameters
    ----------
    X : array_like of shape (n, d)
        The inputs, finite.
    y : array_like of shape (n,)
        The labels, each -1 or +1.

    Returns
    -------
    X, y, Z : ndarray
        ``X`` and ``y`` as float arrays, and :math:`Z` (C-contiguous), whose rows are :math:`z_k = -y_k x_k`.

    Raises
    ------
    ValueError
        If the shapes do not match, an entry is not finite, or a label is not -1 or +1.
    """
    X = as_matrix("X", X)
    y = as_vector("y", y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels; expected one label per row")
    labels = np.unique(y)
    if not np.all(np.isin(labels, (-1.0, 1.0))):
        raise ValueError(
            f"labels must be -1 or +1, got the values {labels[:6].tolist()}"
            + ("..." if labels.size > 6 else "")
            + "; map the classes to -1 and +1 first (e.g. y = 2 * y01 - 1)"
        )
    return X, y, np.ascontiguousarray(-y[:, None] * X)


class HalfspaceSample(HalfspaceObjective):
    r"""The halfspace objective on a finite sample, :math:`f(\tilde w) = \frac1n\sum_i\phi(z_i^\top\tilde w)`.

    Built by :meth:`Halfspace.from_data`. One evaluation makes two passes over the data
    (:math:`Z\tilde w` and :math:`Z^\top\phi'`); a ray stores the projections :math:`Z\hat w`
    once, and its length derivatives cost :math:`O(n)` each without touching :math:`Z` again. For
    the logistic and the squared sigmoid loss, :math:`\phi, \phi', \phi''` at the :math:`n`
    margins, and :math:`k(g)` and :math:`k'(g)` along a ray, take one exponential per sample
    (:mod:`lib.maths.losses`).
    """

    name = "halfspace (sample)"

    def __init__(self, X, y, loss="logistic"):
        X, y, self.Z = labelled_sample(X, y)
        n = X.shape[0]
        self.n = n
        super().__init__(X.T @ X / n, self.Z.mean(axis=0), loss)
        # Scratch space for the n projections: fresh arrays of this size would be allocated
        # and returned to the system at every call (glibc trims them), costing page faults
        # that are several times the arithmetic. Problems are not meant for use from threads.
        self._buffers = (np.empty(n), np.empty(n))

    def _evaluate_projections(self, p: np.ndarray, w_tilde: np.ndarray, largest: float | None = None) -> Evaluation:
        """Loss, gradient and plug-in c1, c2 from the projections p = Z w~ (one more pass for the gradient).

        :math:`\\phi, \\phi', \\phi''` at the n projections come from one exponential each for the
        built-in losses (:func:`lib.maths.losses.value_first_second`).
        """
        loss, first, second_mean = value_first_second(self.loss_function, p, self._buffers[1], largest)
        c1 = float(np.mean(first)) - second_mean * float(self.u @ w_tilde)
        return Evaluation(loss, self.Z.T @ first / self.n, c1, second_mean)

    def evaluate(self, w_tilde) -> Evaluation:
        return self.evaluate_unchecked(self.check_vector("w_tilde", w_tilde))

    def evaluate_unchecked(self, w_tilde: np.ndarray, S_w_tilde: np.ndarray | None = None) -> Evaluation:
        r""":meth:`evaluate` without validating ``w_tilde`` (a solver's own iterate); :math:`S\tilde w` is not needed.

        At :math:`\tilde w = 0` every margin is 0 and :math:`\nabla f = \phi'(0)\,u` (:math:`u` the
        mean of the :math:`z_i`), without a pass over the data.
        """
        if not w_tilde.any():
            return self._evaluate_at_zero()
        return self._evaluate_projections(np.matmul(self.Z, w_tilde, out=self._buffers[0]), w_tilde)

    def _evaluate_at_zero(self) -> Evaluation:
        loss, first, second = value_first_second(self.loss_function, np.zeros(1), np.empty(1))
        first = float(first[0])
        return Evaluation(loss, first * self.u, first, second)

    def ray(self, w) -> "SampleRay":
        return SampleRay(self, self.check_direction("w", w))


class SampleRay:
    r"""The length problem on a sample: :math:`\partial_g f(w, g) = \frac1n\sum_i \phi'(g q_i)\,q_i`, :math:`q = Z\hat w`."""

    def __init__(self, problem: HalfspaceSample, w: np.ndarray):
        self.problem = problem
        self.projections = np.empty(problem.n)
        # sup|phi'''| where the fused kernel of k and k' exists (the halfspace objective itself), else None
        self._third = third_bound(problem.loss_function) if isinstance(problem, HalfspaceSample) else None
        self.aim(w)

    def aim(self, w: np.ndarray) -> bool:
        r"""Turn the ray to the direction ``w`` (finite, nonzero, not validated): one pass :math:`Z\hat w`; False if ``w`` is not finite or zero."""
        unit = unit_and_product(w, self.problem.S)  # any scale of w
        if unit is None:
            return False
        self.w_hat, self.S_w_hat, self.norm = unit
        np.matmul(self.problem.Z, self.w_hat, out=self.projections)  # the one pass over the data
        self.largest = max(float(self.projections.max()), -float(self.projections.min()))  # max |q_i|
        if self._third is not None:  # the moments that bound k'' (slope_bounds)
            self._moments()
        self.slope = float(self.problem.u @ self.w_hat)
        return True

    def _moments(self) -> None:
        r""":math:`\overline{q^2}` (:math:`\hat w^\top S\hat w = 1` up to rounding) and :math:`\overline{|q|^3}`, in the problem's buffers."""
        q, (squares, sizes), n = self.projections, self.problem._buffers, self.problem.n
        np.multiply(q, q, out=squares)
        self.mean_square = float(squares.sum()) / n
        self.mean_cube = float(np.abs(q, out=sizes) @ squares) / n

    def value(self, g: float) -> float:
        return float(np.mean(self.problem.loss_function.value(g * self.projections)))

    def derivative(self, g: float) -> float:
        r""":math:`\partial_g f(w, g) = \frac1n\sum_i\phi'(gq_i)\,q_i` (:func:`lib.maths.losses.slope_sum`: one exponential per sample)."""
        problem = self.problem
        return slope_sum(problem.loss_function, self.projections, g, problem._buffers[1], self.largest) / problem.n

    @property
    def increasing_derivative(self) -> bool:
        r"""Whether :math:`\partial_g f` is increasing in :math:`g` everywhere (the logistic loss, strictly convex)."""
        return self._third is not None and self.problem.loss_function is logistic

    @property
    def has_slope(self) -> bool:
        r"""Whether :meth:`derivative_and_slope` and :meth:`slope_bounds` are available (the halfspace
        objective with the logistic or the squared sigmoid loss); the length search then skips
        evaluations (:func:`lib.solvers.length_search.newton_probe`)."""
        return self._third is not None

    def derivative_and_slope(self, g: float) -> tuple[float, float]:
        r""":math:`k(g) = \partial_g f(w, g)` and :math:`k'(g) = \frac1n\sum_i\phi''(gq_i)\,q_i^2`, from one exponential per sample."""
        problem = self.problem
        pair = slope_curvature(problem.loss_function, self.projections, g, problem._buffers[1], self.largest)
        if pair is None:
            raise ValueError(f"derivative_and_slope has no kernel for the loss {problem.loss_function.name!r}")
        return pair[0] / problem.n, pair[1] / problem.n

    def slope_bounds(self, g: float) -> tuple[float, float, float]:
        r"""Bounds :math:`(M, \tau_0, \tau_1)` for :func:`lib.solvers.length_search.newton_root_interval` at :math:`g`.

        :math:`|k''| \le M = \sup|\phi'''|\,\overline{|q|^3}` everywhere, and the rounding errors of :meth:`derivative_and_slope`
        at :math:`g`: each of its :math:`n` terms is computed to a few ulps plus the rounding of
        :math:`gq_i` (at most :math:`\Psi|gq_i|` ulps of :math:`\phi'`), and a sum of :math:`n` terms
        to :math:`n` ulps of the sum of their sizes, so with :math:`c = (n + 32)\varepsilon`:
        :math:`\tau_0 = c(\Phi\sqrt{\overline{q^2}} + \Psi|g|\overline{q^2})` and
        :math:`\tau_1 = c(\Psi\overline{q^2} + M|g|)`; the means are raised by 1e-10 relative for their own rounding.
        """
        loss = self.problem.loss_function
        third = self._third
        square = self.mean_square * (1.0 + 1e-10)
        factor = (self.problem.n + 32) * np.finfo(float).eps
        curvature = third * self.mean_cube * (1.0 + 1e-10)
        tau0 = factor * (loss.first_bound * np.sqrt(square) + loss.second_bound * abs(g) * square)
        tau1 = factor * (loss.second_bound * square + curvature * abs(g))
        return curvature, tau0, tau1

    def evaluate(self, g: float) -> Evaluation:
        p = np.multiply(self.projections, g, out=self.problem._buffers[0])
        return self.problem._evaluate_projections(p, g * self.w_hat, abs(g) * self.largest)
