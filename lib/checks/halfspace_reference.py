r"""Reference computations for the checks of chapter 3, independent of the code they check.

What a check of chapter 3 needs and must not take from :mod:`lib.halfspace`, :mod:`lib.gaussian`
or :mod:`lib.solvers`, computed afresh:

* the constants of the moments, :math:`\mu, L, \rho^*` and the line of :math:`S^{-1}u`
  (:class:`MomentConstants`), from ``numpy.linalg``;
* Gaussian expectations by a quadrature of its own (:func:`gaussian_expectations`), hence the
  coefficients :math:`c_1, c_2` (:func:`gradient_coefficients`), the gradient parts at GDNP's
  iterates (:class:`GradientParts`) and the length problem along a ray (:class:`ReferenceRay`);
* Gaussian and non-Gaussian samples with given moments (:func:`gaussian_draws`,
  :func:`skewed_companion`), the critical points of a sample found without the decomposition
  :math:`c_1u + c_2S\tilde w` (:func:`sample_critical_point`) and their distance from the line in
  standard errors (:func:`off_line_z_score`);
* the Rayleigh iteration (:func:`rayleigh_iterates`) and the length searches of Algorithm
  ``alg-gdnp`` replayed from GDNP's directions (:func:`replay_brackets`).
"""

from __future__ import annotations

import math

import numpy as np

from .constants import loss_constants

__all__ = ["EPS", "gaussian_draws", "gaussian_expectations", "objective_terms", "gradient_coefficients", "MomentConstants",
           "moment_constants", "sample_objective", "sample_critical_point", "off_line_z_score",
           "skewed_companion", "richardson_gradient", "rayleigh_iterates", "ReferenceRay", "start_radius",
           "replay_search", "replay_brackets", "GradientParts"]

#: Machine epsilon of float64.
EPS = float(np.finfo(float).eps)


def gaussian_draws(mean: np.ndarray, covariance: np.ndarray, n: int, rng) -> np.ndarray:
    r"""``n`` draws of :math:`N(\text{mean}, \text{covariance})`, one per row (the checks' own sampler)."""
    eigenvalues, vectors = np.linalg.eigh(covariance)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    return mean + rng.standard_normal((n, len(mean))) @ root.T


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(20)
#: The book's losses vary on the unit scale around 0 (poles at +-i pi) and are flat to 1e-16
#: beyond |v| = 36 (e^-36 = 2.3e-16): panels of width 1 cover that range.
_LOSS_BREAKS = np.arange(-36.0, 37.0, 1.0)


def gaussian_expectations(functions, mean: float, std: float) -> list[float]:
    r""":math:`E[h(v)]` for each vectorised :math:`h` in ``functions``, :math:`v \sim N(m, s^2)`.

    The checks' own quadrature, built differently from :func:`lib.gaussian.gaussian_rule`: 20-node
    Gauss-Legendre panels in :math:`v` on :math:`[m - 12s, m + 12s]` (the mass outside is
    :math:`3.6\times 10^{-33}`), broken at every standard deviation (where the density changes)
    and at every integer of :math:`[-36, 36]` (where the book's losses change). Every panel is
    at most one unit wide near the losses' poles at :math:`\pm i\pi` and at most one standard
    deviation wide, so each is exact to rounding; against ``scipy.integrate.quad`` the result
    agrees to 1e-12 of :math:`\max(|E h|, 1)` (``tests/test_theorems.py``).
    """
    if std == 0.0:  # exact: a point mass, the degenerate direction u^T S^-1 u = 1
        return [float(h(np.array([mean]))[0]) for h in functions]
    low, high = mean - 12.0 * std, mean + 12.0 * std
    breaks = np.concatenate([mean + std * np.arange(-12.0, 13.0), _LOSS_BREAKS])
    breaks = np.unique(np.clip(breaks, low, high))
    half, middle = 0.5 * np.diff(breaks), 0.5 * (breaks[1:] + breaks[:-1])
    v = (middle[:, None] + half[:, None] * _GL_NODES).ravel()
    x = (v - mean) / std
    weights = (half[:, None] * _GL_WEIGHTS).ravel() * np.exp(-0.5 * x * x) / (std * math.sqrt(2.0 * math.pi))
    return [float(weights @ h(v)) for h in functions]


def objective_terms(loss, S: np.ndarray, u: np.ndarray, w_tilde: np.ndarray) -> tuple[float, float, float]:
    r"""The loss :math:`f(\tilde w) = E[\phi(v)]` and the :math:`c_1, c_2` of lemma ``lem-gaussian-gradient``, afresh.

    :math:`v = z^\top\tilde w \sim N(u^\top\tilde w, \tilde w^\top S\tilde w - (u^\top\tilde w)^2)`,
    :math:`c_2 = E[\phi''(v)]`, :math:`c_1 = E[\phi'(v)] - c_2\,u^\top\tilde w`.
    """
    mean = float(u @ w_tilde)
    std = math.sqrt(max(float(w_tilde @ S @ w_tilde) - mean * mean, 0.0))
    value, first, second = gaussian_expectations((loss.value, loss.first, loss.second), mean, std)
    return value, first - second * mean, second


def gradient_coefficients(loss, S: np.ndarray, u: np.ndarray, w_tilde: np.ndarray) -> tuple[float, float]:
    r"""The :math:`(c_1, c_2)` of :func:`objective_terms`."""
    return objective_terms(loss, S, u, w_tilde)[1:]


class MomentConstants:
    r"""The constants of :math:`(S, u)` that the statements use, from the check's own linear algebra.

    Attributes
    ----------
    mu, L : float
        :math:`\lambda_{\min}(S)`, :math:`\lambda_{\max}(S)` from ``numpy.linalg.eigvalsh``.
    rate : float
        :math:`(1 - \mu/L)^2`.
    rho_star : float
        :math:`\rho^* = -u^\top S^{-1}u` from ``numpy.linalg.solve``.
    line : ndarray
        :math:`S^{-1}u/\|S^{-1}u\|_S`, the direction of lemma ``lem-critical-line``.
    """

    def __init__(self, S: np.ndarray, u: np.ndarray):
        self.S, self.u = S, u
        eigenvalues = np.linalg.eigvalsh(S)
        self.mu, self.L = float(eigenvalues[0]), float(eigenvalues[-1])
        self.rate = (1.0 - self.mu / self.L) ** 2
        solved = np.linalg.solve(S, u)
        self.rho_star = -float(u @ solved)
        self.line = solved / math.sqrt(float(solved @ S @ solved))

    def dual_norm_sq(self, v: np.ndarray) -> float:
        r""":math:`\|v\|^2_{S^{-1}}`."""
        return float(v @ np.linalg.solve(self.S, v))

    def rho_gap(self, w: np.ndarray) -> float:
        r""":math:`\rho(w) - \rho^* = \|u - (u^\top w/\|w\|_S^2)\,Sw\|^2_{S^{-1}}` (lemma ``lem-rayleigh-min``)."""
        return self.dual_norm_sq(self.u - (self.u @ w) / (w @ self.S @ w) * (self.S @ w))

    def rho_grad(self, w: np.ndarray) -> np.ndarray:
        r""":math:`\nabla\rho(w) = -\frac{2u^\top w}{\|w\|_S^2}\big(u - \frac{u^\top w}{\|w\|_S^2}Sw\big)`."""
        norm_sq = float(w @ self.S @ w)
        return -2.0 * (self.u @ w) / norm_sq * (self.u - (self.u @ w) / norm_sq * (self.S @ w))


def moment_constants(problem) -> MomentConstants:
    """:class:`MomentConstants` of the moments of ``problem``."""
    return MomentConstants(np.asarray(problem.S, dtype=float), np.asarray(problem.u, dtype=float))


def sample_objective(z: np.ndarray, loss):
    r"""The objective :math:`\frac1n\sum_i\phi(z_i^\top\tilde w)` of a sample, with gradient and Hessian.

    Written out here, per sample, so that critical points are found without the decomposition
    :math:`c_1u + c_2S\tilde w` of the library's Gaussian model.
    """
    n = len(z)

    def value(w):
        return float(np.mean(loss.value(z @ w)))

    def gradient(w):
        return z.T @ loss.first(z @ w) / n

    def hessian(w):
        return (z * loss.second(z @ w)[:, None]).T @ z / n

    return value, gradient, hessian


def sample_critical_point(z: np.ndarray, loss, start: np.ndarray) -> np.ndarray:
    r"""A critical point of the sample objective, from ``start``: a trust-region Newton method, then Newton steps.

    ``scipy.optimize.minimize(method="trust-exact")`` copes with the indefinite Hessians of a
    non-convex loss; three plain Newton steps then bring the gradient to rounding level.
    """
    from scipy.optimize import minimize  # at its first use, as in constants.supremum

    value, gradient, hessian = sample_objective(z, loss)
    found = minimize(value, start, jac=gradient, hess=hessian, method="trust-exact", options={"gtol": 1e-13})
    w = found.x
    for _ in range(3):
        w = w - np.linalg.solve(hessian(w), gradient(w))
    return w


def off_line_z_score(z: np.ndarray, loss, w: np.ndarray, constants: MomentConstants) -> float:
    r"""How many standard errors the sample critical point ``w`` lies off the line of :math:`S^{-1}u`.

    As :math:`n\to\infty` a sample critical point :math:`\hat w` is asymptotically normal around the
    population one, with the sandwich covariance :math:`H^{-1}VH^{-1}/n` (:math:`H` the Hessian,
    :math:`V` the covariance of the per-sample gradients, both estimated at :math:`\hat w`). Its
    part :math:`P\hat w` S-orthogonal to the line is whitened with the covariance of :math:`P\hat w`
    (rank :math:`d - 1`); if the population critical point lies on the line, each whitened
    coordinate is asymptotically standard normal. Returns the largest in absolute value.
    """
    n = len(z)
    v = z @ w
    hessian = (z * loss.second(v)[:, None]).T @ z / n
    spread = np.cov((z * loss.first(v)[:, None]).T)
    inverse = np.linalg.inv(hessian)
    covariance = inverse @ spread @ inverse.T / n
    projector = np.eye(len(w)) - np.outer(constants.line, constants.S @ constants.line)
    eigenvalues, vectors = np.linalg.eigh(projector @ covariance @ projector.T)
    # the direction of the line itself has variance 0 up to rounding: drop it
    vectors, eigenvalues = vectors[:, 1:], eigenvalues[1:]
    return float(np.max(np.abs(vectors.T @ (projector @ w)) / np.sqrt(eigenvalues)))


def skewed_companion(S: np.ndarray, u: np.ndarray, n: int, rng) -> np.ndarray:
    r"""``n`` draws of a non-Gaussian :math:`z` with mean :math:`u` and second moment :math:`S`.

    :math:`z = u + A\xi` with :math:`AA^\top = S - uu^\top`; :math:`\xi` is standard normal except
    that, along one direction :math:`q` orthogonal to :math:`b \propto A^\top S^{-1}u`, it carries
    :math:`(t^2 - 1)/\sqrt 2` with :math:`t = b^\top\xi`: uncorrelated with :math:`t`, of variance 1, but
    a function of it. On the line of :math:`S^{-1}u`, :math:`z^\top\tilde w` depends on :math:`\xi` only
    through :math:`t`, so the gradient gains the component :math:`E[\phi'(z^\top\tilde w)(t^2 - 1)]Aq/\sqrt 2`,
    which is not zero: the critical point leaves the line, although the moments are those of the
    Gaussian model.
    """
    d = len(u)
    root = np.linalg.cholesky(S - np.outer(u, u))
    b = root.T @ np.linalg.solve(S, u)
    b /= np.linalg.norm(b)
    q = rng.standard_normal(d)
    q -= (q @ b) * b
    q /= np.linalg.norm(q)
    xi = rng.standard_normal((n, d))
    t = xi @ b
    xi += np.outer((t**2 - 1.0) / math.sqrt(2.0) - xi @ q, q)
    return u + xi @ root.T


def richardson_gradient(function, x: np.ndarray, h: float) -> np.ndarray:
    r"""The gradient of ``function`` at ``x`` by fourth-order central differences (Richardson).

    :math:`\partial_i f \approx [8(f(x+he_i) - f(x-he_i)) - (f(x+2he_i) - f(x-2he_i))]/(12h)`:
    truncation :math:`O(h^4)`, rounding :math:`O(\epsilon/h)`.
    """
    gradient = np.empty_like(x)
    for i, e in enumerate(np.eye(len(x))):
        near = function(x + h * e) - function(x - h * e)
        far = function(x + 2 * h * e) - function(x - 2 * h * e)
        gradient[i] = (8.0 * near - far) / (12.0 * h)
    return gradient


def rayleigh_iterates(constants: MomentConstants, w0: np.ndarray, iterations: int) -> np.ndarray:
    r"""The directions of Algorithm ``alg-gdnp-ls``, replayed: :math:`w_{t+1} = w_t - \eta_t\nabla\rho(w_t)`.

    :math:`\eta_t = \|w_t\|_S^2/(2L|\rho(w_t)|)` with the check's own :math:`L` and :math:`\nabla\rho`.
    Returns the array of :math:`w_0, \dots, w_T`.
    """
    S, u, L = constants.S, constants.u, constants.L
    iterates = [np.asarray(w0, dtype=float)]
    for _ in range(iterations):
        w = iterates[-1]
        norm_sq = float(w @ S @ w)
        rho = -float(u @ w) ** 2 / norm_sq
        iterates.append(w - norm_sq / (2.0 * L * abs(rho)) * constants.rho_grad(w))
    return np.array(iterates)


class ReferenceRay:
    r"""The length problem :math:`g \mapsto f(g\hat w)` along a direction, computed by the check.

    :math:`\hat w = w/\|w\|_S`. In the Gaussian model :math:`\xi = z^\top\hat w \sim N(\hat m, 1 - \hat m^2)`
    with :math:`\hat m = u^\top\hat w`, and :math:`k(g) = \partial_g f = E[\phi'(g\xi)\xi] =
    E[\phi'(v)v]/g` for :math:`v = g\xi` (the check's own quadrature); on a sample ``z`` it is the
    mean of :math:`\phi'(g\,z_i^\top\hat w)\,z_i^\top\hat w`.
    """

    def __init__(self, loss, S: np.ndarray, u: np.ndarray, w: np.ndarray, z: np.ndarray | None = None):
        self.loss = loss
        self.w_hat = w / math.sqrt(float(w @ S @ w))
        self.slope = float(u @ self.w_hat)
        self.spread_sq = max(1.0 - self.slope**2, 0.0)
        self.projections = None if z is None else z @ self.w_hat

    def _moments(self, g: float) -> tuple[float, float]:
        return g * self.slope, abs(g) * math.sqrt(self.spread_sq)

    def value(self, g: float) -> float:
        if self.projections is not None:
            return float(np.mean(self.loss.value(g * self.projections)))
        return gaussian_expectations((self.loss.value,), *self._moments(g))[0]

    def derivative(self, g: float) -> float:
        if self.projections is not None:
            return float(np.mean(self.loss.first(g * self.projections) * self.projections))
        if g == 0.0:  # exact: at g = 0, E[phi'(0) xi] = phi'(0) m
            return float(self.loss.first(np.zeros(1))[0]) * self.slope
        return gaussian_expectations((lambda v: self.loss.first(v) * v,), *self._moments(g))[0] / g

    def root(self, bracket: tuple[float, float] = (-1.0, 1.0)) -> float:
        r"""The root of :math:`k` (a sign change from - to +), by ``scipy.optimize.brentq`` to rounding."""
        from scipy.optimize import brentq  # at its first use, as in constants.supremum

        a, b = bracket
        for _ in range(60):
            if self.derivative(a) < 0.0 < self.derivative(b):
                return brentq(self.derivative, a, b, xtol=1e-15, rtol=4 * EPS)
            a, b = 2.0 * a, 2.0 * b
        raise ValueError(f"no sign change of the length derivative on ({a:.3g}, {b:.3g})")


def start_radius(centre: float, change: float | None, fixed_radius: float | None) -> float:
    """The radius of a length search's first bracket, by the rule of Algorithm alg-gdnp as lib.gdnp documents it."""
    scale = max(abs(centre), 1.0)
    if fixed_radius is not None:
        return fixed_radius
    if change is None:
        return 0.25 * scale
    return max(2.0 * abs(change), 1e-12 * scale)


def replay_search(derivative, centre: float, change: float | None, steps: int,
                  fixed_radius: float | None) -> tuple[float, float]:
    r"""One length search of Algorithm ``alg-gdnp``, replayed: returns (width :math:`b - a` of its bracket, midpoint).

    The bracket is centred at the previous length; while it lacks the sign change :math:`k(a) < 0 < k(b)`
    it is widened by doubling on the side where :math:`k` points (left if :math:`k \ge 0` at
    :math:`a` and :math:`k > 0` at :math:`b`, else right); then :math:`T_s` halvings keep the sign change.
    """
    # Written out again, not lib.bisection: a replay that called the code it checks would agree with
    # it whatever that code did.
    radius = start_radius(centre, change, fixed_radius)
    a, b = centre - radius, centre + radius
    ka, kb = derivative(a), derivative(b)
    while not (ka < 0.0 < kb):
        if ka > 0.0 > kb:
            raise ValueError(f"the bracket ({a}, {b}) holds a maximum of the length problem")
        width = b - a
        if ka >= 0.0 and kb > 0.0:
            a, b, kb = a - 2.0 * width, a, ka
            ka = derivative(a)
        else:
            a, b, ka = b, b + 2.0 * width, kb
            kb = derivative(b)
    width = b - a
    for _ in range(steps):
        middle = 0.5 * (a + b)
        km = derivative(middle)
        if km < 0.0:
            a = middle
        elif km > 0.0:
            b = middle
        else:
            return width, middle
    return width, 0.5 * (a + b)


def replay_brackets(problem, directions: np.ndarray, lengths: np.ndarray, steps: int,
                    fixed_radius: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The bracket widths :math:`b_t - a_t` and the lengths of a GDNP run, replayed from its directions.

    Search :math:`t` runs on the direction :math:`w_t`, centred at :math:`g_{t-1}` (0 for the first
    search, which gives :math:`g_0`) with the radius set by the previous change
    :math:`g_{t-1} - g_{t-2}` (see :func:`replay_search`). The signs come from the library's ray
    derivative, the function GDNP bisects, so that the replay takes the same decisions.

    Returns
    -------
    widths, midpoints : ndarray
        :math:`b_t - a_t` and the replayed :math:`g_t`, for :math:`t = 0, \dots, T`.
    """
    widths, midpoints = [], []
    for t, w in enumerate(directions):
        centre = 0.0 if t == 0 else lengths[t - 1]
        change = None if t < 2 else lengths[t - 1] - lengths[t - 2]
        width, middle = replay_search(problem.ray(w).derivative, centre, change, steps, fixed_radius)
        widths.append(width)
        midpoints.append(middle)
    return np.array(widths), np.array(midpoints)


class GradientParts:
    r"""The gradient of the Gaussian halfspace objective at GDNP's iterates, computed by the check.

    At :math:`\tilde w_t = g_t w_t/\|w_t\|_S`, with the loss and :math:`c_1, c_2` from
    :func:`objective_terms`: ``loss``, ``length`` :math:`(\nabla F^\top\hat w)^2`, ``direction`` the norm
    of the rest in :math:`S^{-1}` (lemma ``lem-norm-split``), ``total`` their sum, ``c1``, and
    ``accuracy``, a bound on :math:`\|\nabla F - \nabla F_{\text{exact}}\|_{S^{-1}}` from the
    quadrature's accuracy.
    """

    def __init__(self, loss, constants: MomentConstants, directions: np.ndarray, lengths: np.ndarray):
        S, u = constants.S, constants.u
        phi, psi = loss_constants(loss)
        values, length, direction, c1s, accuracy = [], [], [], [], []
        for w, g in zip(directions, lengths):
            w_hat = w / math.sqrt(float(w @ S @ w))
            w_tilde = g * w_hat
            value, c1, c2 = objective_terms(loss, S, u, w_tilde)
            grad = c1 * u + c2 * (S @ w_tilde)
            along = float(grad @ w_hat)
            values.append(value)
            length.append(along**2)
            direction.append(constants.dual_norm_sq(grad - along * (S @ w_hat)))
            c1s.append(c1)
            # c1, c2 are exact to ~1e-15 of Phi + Psi |u.w~| (both quadratures); times the vectors they
            # multiply, in the S^-1 norm (at most 1/sqrt(mu) times the Euclidean): a margin of 1000
            scale = phi + psi * abs(float(u @ w_tilde))
            accuracy.append(1e-12 * scale * (np.linalg.norm(u) + np.linalg.norm(S @ w_tilde)) / math.sqrt(constants.mu))
        self.loss, self.length, self.direction = np.array(values), np.array(length), np.array(direction)
        self.total = self.length + self.direction
        self.c1, self.accuracy = np.array(c1s), np.array(accuracy)


