r"""Checks of chapter 4, a hidden layer of tanh units with Batch Normalization.

Population statements are checked exactly where they reduce to integrals over one or two
projections of :math:`z` (every unit on the line of :math:`S^{-1}u`, two units anywhere, or one
unit whose partners share a direction: :mod:`lib.network_gaussian`, about 1e-11 relative), or in
units of the standard error of a Monte-Carlo mean over a large Gaussian sample.

Every check recomputes what it compares from the statement: the coefficients :math:`A_i, B_{ij}`
and :math:`c_1` from its own integrands (:func:`_stein_parts`), the distance to the line from its
own residual, :math:`\mu, L` from its own ``eigvalsh``, and :math:`\Phi_\ell, \Psi_\ell` and
:math:`\max|\tanh''|` with :mod:`lib.checks.constants`; where the library reports one of these
numbers (a trace column, a property), the check compares the report with its own value.
"""

from __future__ import annotations

import math

import numpy as np

from ..problems.halfspace import Halfspace
from ..problems.instances import random_halfspace, rng_from, worst_case_instance
from ..maths.losses import LOSSES, Loss
from ..problems.moments import Moments
from ..problems.network import TANH_CURVATURE, HiddenLayerNetwork
from ..problems.network_gaussian import GaussianHiddenLayer, quadrature_rule
from ..problems.network_line import NetworkOnLine
from ..solvers.network_training import unitwise_gdnp
from ..solvers.descent import gdnp
from .registry import CheckResult, largest, smallest, verifies
from .constants import loss_constants, supremum
from .halfspaces import gaussian_sample, z_scores

CHAPTER = "04-networks"
THETA = np.array([1.0, 0.6, -0.4])
#: Two units: every population quantity is an integral over two projections, at any weights.
THETA_PAIR = THETA[:2]
LOGISTIC = LOSSES["logistic"]
#: The quadrature of lib.network_gaussian is accurate to about 1e-11 relative (tests/test_gaussian_plane.py);
#: identities between quantities it computes two ways are compared at this relative tolerance, with two
#: orders of magnitude to spare for the cancellation in sums of O(1) terms.
QUADRATURE_TOLERANCE = 1e-9


def _model(rng, dim=6, kappa=10.0, energy=0.5):
    return random_halfspace(dim, kappa, energy, "logistic", rng)


def _rate(moments) -> float:
    """1 - mu/L from the check's own eigenvalues of S."""
    eigenvalues = np.linalg.eigvalsh(moments.S)
    return 1.0 - eigenvalues[0] / eigenvalues[-1]


def _line(moments) -> tuple[np.ndarray, float]:
    r"""The check's own :math:`\hat w^* = S^{-1}u/\|S^{-1}u\|_S` and :math:`\nu = \|u\|_{S^{-1}}`."""
    direction = np.linalg.solve(moments.S, moments.u)
    nu = math.sqrt(float(moments.u @ direction))
    return direction / nu, nu


def _line_parts(moments, W_tilde) -> tuple[np.ndarray, np.ndarray]:
    r"""Rows :math:`\tilde w_j = p_j\hat w^* + \tilde w_j^\perp`, :math:`\tilde w_j^\perp` S-orthogonal to the line: returns :math:`p` and the rows :math:`\tilde w_j^\perp`."""
    direction, _ = _line(moments)
    along = W_tilde @ moments.S @ direction
    return along, W_tilde - np.outer(along, direction)


def _distance(moments, w) -> float:
    r""":math:`e = \sqrt{\rho(w) - \rho^*} = \|u - (u^\top\hat w)S\hat w\|_{S^{-1}}` (lemma ``lem-rayleigh-min``), from the residual."""
    w_hat = w / math.sqrt(float(w @ moments.S @ w))
    residual = moments.u - float(moments.u @ w_hat) * (moments.S @ w_hat)
    return math.sqrt(max(float(residual @ np.linalg.solve(moments.S, residual)), 0.0))


def _s_sine(moments, w) -> float:
    """The sine of the S-angle between w and the line of S^-1 u."""
    _, rest = _line_parts(moments, np.atleast_2d(w))
    return math.sqrt(float(rest[0] @ moments.S @ rest[0]) / float(w @ moments.S @ w))


def _stein_parts(V, theta, loss, i):
    r"""At pre-activations ``V`` (one row per point): :math:`\chi = \ell'(F)\theta_i\mathrm{sech}^2 v_i` and :math:`\partial \chi/\partial v_j`.

    Stein's lemma turns :math:`E[z\chi]` into :math:`uE[\chi] + (S - uu^\top)\sum_j E[\partial \chi/\partial v_j]\,\tilde w_j`,
    so :math:`A_i = E[\chi]` and :math:`B_{ij} = E[\partial \chi/\partial v_j]` (lemma ``lem-network-gradient``; the code
    names :math:`\chi` ``h``).
    """
    activations = np.tanh(V)
    sech2 = 1.0 - activations**2
    F = activations @ theta
    first = loss.first(F)
    h = first * theta[i] * sech2[:, i]
    dh = (theta[i] * loss.second(F) * sech2[:, i])[:, None] * (sech2 * theta)
    dh[:, i] += theta[i] * first * (-2.0 * activations[:, i] * sech2[:, i])
    return h, dh


def _unit_gradients(z, W_tilde, theta, loss, i):
    """Per-sample gradients of unit i, the Stein function h and its z-gradient, for each row of z."""
    h, dh = _stein_parts(z @ W_tilde.T, theta, loss, i)
    return h[:, None] * z, h, dh @ W_tilde


def _coefficients(moments, theta, loss, W_tilde, i, average=None):
    r""":math:`A_i`, row :math:`i` of :math:`B`, :math:`c_1` and :math:`\Delta = \sum_{j\ne i} B_{ij}\tilde w_j^\perp` at ``W_tilde``.

    :math:`c_1 = A_i - B_{ii}u^\top\tilde w_i + (1/\nu - \nu)\sum_{j\ne i} B_{ij}p_j` with
    :math:`p_j = \hat w^{*\top}S\tilde w_j` (proposition ``prop-unit-decoupling``, theorem
    ``thm-unit-near-line``). The averages are Gaussian quadrature (rows on at most two lines), or
    sample means over the rows of the matrix ``average`` (points :math:`z`).
    """
    if average is None:
        rule = quadrature_rule(moments, W_tilde)
        h, dh = _stein_parts(rule.projections(W_tilde), theta, loss, i)
        a, b = float(rule.weights @ h), rule.weights @ dh
    else:
        h, dh = _stein_parts(average @ W_tilde.T, theta, loss, i)
        a, b = float(np.mean(h)), dh.mean(axis=0)
    along, rest = _line_parts(moments, W_tilde)
    _, nu = _line(moments)
    others = np.arange(len(theta)) != i
    c1 = a - b[i] * float(moments.u @ W_tilde[i]) + (1.0 / nu - nu) * float(b[others] @ along[others])
    return a, b, c1, b[others] @ rest[others]


def _s_norm(moments, vector) -> float:
    return math.sqrt(float(vector @ moments.S @ vector))


@verifies("lem-network-gradient", CHAPTER, "grad_i f = A_i u + (S - u u^T) sum_j B_ij w~_j")
def network_gradient(seed: int = 0, n: int = 200_000) -> CheckResult:
    """Stein's decomposition of every unit's gradient, in standard errors; a non-Gaussian z must break it.

    The non-Gaussian z has the same mean and covariance, with independent random signs (+-1) in
    place of the standard normal coordinates: smooth tanh units are too gentle to feel a uniform
    z reliably, but signs (excess kurtosis -2) break the identity by many standard errors. On the
    Gaussian sample the library's network gradient and sample B must equal the check's own
    per-sample means; in the population with two units (two-dimensional quadrature, any weights)
    the gradient computed directly as E[z chi(z)] must equal the decomposition.
    """
    rng = rng_from(seed)
    model = _model(rng)
    W_tilde = rng.standard_normal((3, model.dim)) * rng.uniform(0.3, 1.5)
    covariance = model.S - np.outer(model.u, model.u)

    def deviations(z):
        """For each unit, the per-sample Stein parts and the largest deviation from the decomposition in standard errors."""
        parts = [_stein_parts(z @ W_tilde.T, THETA, LOGISTIC, i) for i in range(3)]
        scores = [np.max(z_scores(h[:, None] * (z - model.u) - (dh @ W_tilde) @ covariance)) for h, dh in parts]
        return parts, largest(*scores)

    z = gaussian_sample(model, n, rng)
    parts, gaussian = deviations(z)
    root = np.linalg.cholesky(covariance)
    _, signs = deviations(model.u + rng.choice([-1.0, 1.0], size=(n, model.dim)) @ root.T)
    # the library's sample gradient and B against the check's own means (X = z, y = -1 gives z = -y x)
    sample = HiddenLayerNetwork(z, -np.ones(n), THETA)
    own_grad = np.array([h @ z / n for h, _ in parts])
    own_B = np.array([dh.mean(axis=0) for _, dh in parts])
    # sums of n terms of size <= 1 in another order: 1e-12 relative leaves a factor 100 to rounding
    library = largest(np.max(np.abs(sample.grad(W_tilde) - own_grad)) / np.max(np.abs(own_grad)),
                      np.max(np.abs(sample.coupling_matrix(W_tilde) - own_B)) / np.max(np.abs(own_B)))
    # the population with two units, anywhere: the direct gradient E[z chi(z)] against A_i u + (S - uu^T) sum_j B_ij w~_j
    pair = rng.standard_normal((2, model.dim)) * rng.uniform(0.5, 2.0)
    direct = GaussianHiddenLayer(model.S, model.u, THETA_PAIR).grad(pair)
    decomposed = []
    for i in range(2):
        a, b, _, _ = _coefficients(model, THETA_PAIR, LOGISTIC, pair, i)
        decomposed.append(a * model.u + covariance @ (b @ pair))
    population = float(np.max(np.abs(direct - np.array(decomposed))) / np.max(np.abs(direct)))
    passed = gaussian <= 5.0 and signs > 10.0 and library <= 1e-12 and population <= QUADRATURE_TOLERANCE
    return CheckResult(
        "lem-network-gradient",
        f"largest deviation of the three unit gradients from A_i u + (S - uu^T) sum_j B_ij w~_j over {n} Gaussian "
        f"samples: {gaussian:.2f} standard errors (for a z of random signs with the same moments: {signs:.0f}); "
        f"in the population with two units, E[z chi(z)] and the decomposition agree to {population:.0e} relative; "
        f"the library's sample gradient and B equal the check's own to {library:.0e}",
        gaussian, 5.0, passed,
    )


def _critical_point(network: GaussianHiddenLayer, W0: np.ndarray, minimise: bool) -> tuple[np.ndarray, np.ndarray]:
    """A critical point of the population objective near W0, with no assumption on where it lies.

    Newton's method on the gradient (it converges to any nondegenerate critical point nearby,
    saddles included), after BFGS on the loss when ``minimise``. The Jacobian is taken by forward
    differences with a step of 1e-7 (an error of about 1e-7 relative, which keeps Newton's
    convergence fast, and small beside the Hessian's eigenvalues). It stops once the gradient is
    below 1e-11, about the quadrature's accuracy. Returns the point and the symmetrised Jacobian
    of the last step (the Hessian there, to about 1e-7).
    """
    shape = W0.shape

    def gradient(x):
        return network.grad(x.reshape(shape)).ravel()

    x = W0.ravel()
    if minimise:
        from scipy.optimize import minimize  # at its first use, as in constants.supremum

        def objective(x):
            evaluation = network.evaluate(x.reshape(shape))
            return evaluation.loss, evaluation.grad.ravel()
        x = minimize(objective, x, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 500}).x
    h, hessian = 1e-7, None
    for _ in range(12):
        g = gradient(x)
        if hessian is not None and np.max(np.abs(g)) <= 1e-11:
            break
        jacobian = np.column_stack([(gradient(x + h * e) - g) / h for e in np.eye(x.size)])
        hessian = 0.5 * (jacobian + jacobian.T)
        x = x - np.linalg.solve(hessian, g)
    return x.reshape(shape), hessian


def _off_line_bound(model, theta, W_tilde) -> tuple[float, float, float]:
    r""":math:`G = \|\nabla f\|_{S^{-1}}`, :math:`\sigma_{\min}(B)` and :math:`\|\tilde W^\perp\|_S` at ``W_tilde``, for :math:`\sigma_{\min}(B)\|\tilde W^\perp\|_S \le G`.

    By lemma ``lem-network-gradient``, :math:`\nabla_{\tilde w_i} f` is a multiple of :math:`u` plus :math:`S\sum_j B_{ij}\tilde w_j^\perp`, with
    :math:`\tilde w_j = p_j\hat w^* + \tilde w_j^\perp`, and the two parts are S^-1-orthogonal
    (:math:`u^\top\tilde w_j^\perp = 0`), so :math:`G^2 \ge \sum_i\|\sum_j B_{ij}\tilde w_j^\perp\|_S^2 \ge
    \sigma_{\min}(B)^2\sum_j\|\tilde w_j^\perp\|_S^2`. The gradient is the direct one of ``GaussianHiddenLayer``
    (not the decomposition); :math:`B` is the check's own.
    """
    network = GaussianHiddenLayer(model.S, model.u, theta)
    G = math.sqrt(network.grad_norm_sq(network.grad(W_tilde)))
    B = np.array([_coefficients(model, theta, LOGISTIC, W_tilde, i)[1] for i in range(len(theta))])
    _, rest = _line_parts(model, W_tilde)
    return G, float(np.linalg.svd(B, compute_uv=False)[-1]), math.sqrt(sum(_s_norm(model, y) ** 2 for y in rest))


@verifies("lem-network-critical", CHAPTER, "at a critical point with B invertible every hidden direction lies on the line of S^-1 u",
          special_case="the forward direction for two units (the population objective of more units off the line needs "
                       "integrals over more than two projections of z), the converse for three units; logistic outer loss")
def network_critical(seed: int = 0, tilt_degrees: float = 10.0) -> CheckResult:
    r"""Both directions, in the population, through :math:`\sigma_{\min}(B)\,\|\tilde W^\perp\|_S \le \|\nabla f\|_{S^{-1}}`.

    The inequality (see :func:`_off_line_bound`) is the lemma with its error term: at a critical
    point with B invertible, :math:`\tilde W^\perp = 0`. *Forward:* two critical points of two units found
    without assuming the line. Newton from both units 10 degrees off the line finds a critical point
    with B well conditioned, so its units must lie on the line, and do; BFGS from 30 degrees off
    finds the minimum, which lies off the line, so B must be singular there, and is: the lemma needs
    its hypothesis. The Hessian's negative eigenvalues show that the critical point on the line is
    a saddle. *Converse:* three units on the line at the lengths of
    ``NetworkOnLine.critical_lengths`` (Newton on the lengths) have a gradient, from the independent
    quadrature of ``GaussianHiddenLayer``, below 1e-9 (both quadratures are accurate to about 1e-11
    relative on integrands of size at most 1; Newton stops at 1e-13 of its first gradient), and one
    unit tilted by ``tilt_degrees`` has a gradient of at least :math:`\sigma_{\min}(B)\|\tilde W^\perp\|_S`. The
    library's full gradient and :math:`B` on the line are compared with the check's own.
    """
    rng = rng_from(seed)
    model = _model(rng)
    line = NetworkOnLine(model, THETA)
    direction, _ = _line(model)
    network = GaussianHiddenLayer(model.S, model.u, THETA)
    # converse: Newton's lengths on the line, the gradient from the other quadrature, an independent tolerance
    start = -2.0 * np.sign(THETA)
    lengths = line.critical_lengths(start)
    W_line = np.outer(lengths, direction)
    converse = math.sqrt(network.grad_norm_sq(network.grad(W_line)))
    away = 0.5 * start  # a point on the line where the gradient is far from 0
    away_gradient = network.grad(np.outer(away, direction))
    own_B = np.array([_coefficients(model, THETA, LOGISTIC, W_line, i)[1] for i in range(3)])
    full_error = network.grad_norm_sq(line.full_gradient(away) - away_gradient) / network.grad_norm_sq(away_gradient)
    reported = largest(math.sqrt(full_error), np.max(np.abs(line.coupling_matrix(lengths) - own_B)) / np.max(np.abs(own_B)))
    singular = np.linalg.svd(own_B, compute_uv=False)
    other = rng.standard_normal(model.dim)
    other -= (other @ model.S @ direction) * direction
    other /= _s_norm(model, other)

    def tilted(row_lengths, degrees, sides):
        angle = math.radians(degrees)
        return np.array([c * (math.cos(angle) * direction + side * math.sin(angle) * other) for c, side in zip(row_lengths, sides)])

    W_tilted = W_line.copy()
    W_tilted[0] = tilted(lengths[:1], tilt_degrees, [1.0])[0]
    # forward: critical points of two units found without assuming the line
    pair = GaussianHiddenLayer(model.S, model.u, THETA_PAIR)
    saddle, hessian = _critical_point(pair, tilted(-2.0 * np.sign(THETA_PAIR), 10.0, [1.0, 1.0]), minimise=False)
    minimum, _ = _critical_point(pair, tilted(-2.0 * np.sign(THETA_PAIR), 30.0, [1.0, -1.0]), minimise=True)
    points = {"tilted": (THETA, W_tilted), "saddle": (THETA_PAIR, saddle), "minimum": (THETA_PAIR, minimum)}
    bounds = {name: _off_line_bound(model, theta, W) for name, (theta, W) in points.items()}
    # the quadrature's error in G (~1e-12) is allowed once more
    ratios = {name: sigma * off / (G + 1e-10) for name, (G, sigma, off) in bounds.items()}
    G_saddle, sigma_saddle, off_saddle = bounds["saddle"]
    G_minimum, sigma_minimum, off_minimum = bounds["minimum"]
    negative = int(np.sum(np.linalg.eigvalsh(hessian) < -1e-5))  # the Jacobian is accurate to about 1e-7
    sines = [_s_sine(model, w) for w in minimum]
    passed = (converse <= 1e-9 and reported <= 1e-8 and singular[-1] > 1e-6 and largest(*ratios.values()) <= 1.0
              and G_saddle <= 1e-9 and sigma_saddle > 1e-4 and G_minimum <= 1e-9 and off_minimum > 0.1
              and bounds["tilted"][0] > 1e-3 and negative > 0)
    return CheckResult(
        "lem-network-critical",
        f"forward, two units, critical points found without assuming the line: Newton from 10 degrees off finds one with "
        f"sigma_min(B) = {sigma_saddle:.1e}, whose units are within ||W~perp||_S = {off_saddle:.0e} of the line (a saddle of f: "
        f"{negative} negative Hessian eigenvalues); BFGS finds the minimum {math.degrees(math.asin(sines[0])):.1f} and "
        f"{math.degrees(math.asin(sines[1])):.1f} degrees off the line (loss {pair.loss(saddle) - pair.loss(minimum):.1e} "
        f"lower), where B is singular: sigma_min(B) = {sigma_minimum:.0e}; sigma_min(B) ||W~perp||_S / ||grad f|| at most "
        f"{largest(*ratios.values()):.1e} at these points and at one unit of three tilted by {tilt_degrees:g} degrees. "
        f"Converse: three units on the line at lengths {np.round(lengths, 4).tolist()} have ||grad f|| = {converse:.1e} "
        f"(quadrature independent of the Newton solver), B's singular values {singular[-1]:.2e} to {singular[0]:.2e}",
        largest(*ratios.values()), 1.0, passed,
    )


def _orthogonal_part(gradients, w_hat, model):
    """Per-sample parts of unit i's direction gradient orthogonal (in S^-1) to the Rayleigh direction."""
    S_w = model.S @ w_hat
    projected = gradients - np.outer(gradients @ w_hat, S_w)  # the projection of lem-bn-gradients
    rayleigh = model.u - (model.u @ w_hat) * S_w
    weight = model.S_inv @ rayleigh
    return projected - np.outer(projected @ weight / (rayleigh @ weight), rayleigh)


@verifies("prop-unit-decoupling", CHAPTER, "with every other unit off, on the line, parallel to it or uncoupled, unit i's direction gradient is parallel to grad rho",
          special_case="three units and one direction of unit 1; the logistic outer loss, and the linear one for the "
                       "uncoupled case B_ij = 0; a sample estimate over Gaussian samples (zero within 5 standard errors), "
                       "not the population gradient; the gradient's direction only (the coefficients c_1, c_2 of the "
                       "halfspace form enter the check of thm-unit-rate)")
def unit_decoupling(seed: int = 0, n: int = 200_000) -> CheckResult:
    """The part of unit 1's direction gradient off the Rayleigh direction, in standard errors, in five settings."""
    rng = rng_from(seed)
    model = _model(rng)
    line = NetworkOnLine(model, THETA)
    lengths = line.critical_lengths(-2.0 * np.sign(THETA))
    z = gaussian_sample(model, n, rng)
    w = rng.standard_normal(model.dim)
    w_hat = w / math.sqrt(w @ model.S @ w)
    linear = Loss("linear", lambda t: t, np.ones_like, np.zeros_like, 1.0, 0.0)
    random_others = rng.standard_normal((3, model.dim)) * 1.5
    settings = {
        "others on the line": (np.outer(lengths, line.direction), LOGISTIC),
        "others switched off": (np.zeros((3, model.dim)), LOGISTIC),
        "others parallel to unit 1": (np.outer([-1.2, 0.0, 0.7], w_hat), LOGISTIC),
        "others off the line, linear outer loss": (random_others, linear),
        "others off the line, logistic outer loss": (random_others, LOGISTIC),
    }
    scores = {}
    for name, (W_tilde, loss) in settings.items():
        W_tilde = W_tilde.copy()
        W_tilde[1] = 1.3 * w_hat  # unit 1, away from the line
        gradients = _unit_gradients(z, W_tilde, THETA, loss, 1)[0]
        scores[name] = float(np.max(z_scores(_orthogonal_part(gradients, w_hat, model))))
    decoupled = largest(*(scores[k] for k in list(scores)[:4]))
    coupled = scores["others off the line, logistic outer loss"]
    return CheckResult(
        "prop-unit-decoupling",
        "component of unit 1's direction gradient off the Rayleigh direction, in standard errors: "
        + "; ".join(f"{name}: {value:.1f}" for name, value in scores.items()),
        decoupled, 5.0, decoupled <= 5.0 and coupled > 10.0,
    )


def unit_loss(theta_i: float, outer="logistic") -> Loss:
    r"""The loss :math:`\phi(t) = \ell(\theta_i\tanh t)` that one active unit minimises, with the bounds of ``thm-unit-rate``."""
    ell = LOSSES[outer]

    def value(t):
        return ell.value(theta_i * np.tanh(t))

    def first(t):
        return ell.first(theta_i * np.tanh(t)) * theta_i * (1 - np.tanh(t) ** 2)

    def second(t):
        a, s = np.tanh(t), 1 - np.tanh(t) ** 2
        return ell.second(theta_i * a) * (theta_i * s) ** 2 + ell.first(theta_i * a) * theta_i * (-2 * a * s)

    return Loss(f"{outer}(theta tanh t)", value, first, second, ell.first_bound * abs(theta_i),
                ell.second_bound * theta_i**2 + ell.first_bound * abs(theta_i) * TANH_CURVATURE)


def _unit_constants(theta_i: float) -> tuple[float, float, float]:
    r""":math:`\Phi_\ell, \Psi_\ell` of the logistic loss and :math:`\Psi_i = \Psi_\ell\theta_i^2 + \Phi_\ell|\theta_i|\max|\tanh''|`, recomputed."""
    phi, psi = loss_constants(LOGISTIC)
    tanh_curvature = supremum(lambda t: -2.0 * np.tanh(t) * (1.0 - np.tanh(t) ** 2), [math.atanh(1 / math.sqrt(3))])
    return phi, psi, psi * theta_i**2 + phi * abs(theta_i) * tanh_curvature


def _unit_curvature(r: float, theta_i: float, t: np.ndarray) -> np.ndarray:
    r""":math:`\frac{d^2}{dt^2}\ell(r + \theta_i\tanh t) = \ell''\theta_i^2\mathrm{sech}^4 t + \ell'\theta_i\tanh'' t` (logistic :math:`\ell`)."""
    activation = np.tanh(t)
    slope = 1.0 - activation**2
    F = r + theta_i * activation
    return LOGISTIC.second(F) * (theta_i * slope) ** 2 + LOGISTIC.first(F) * theta_i * (-2.0 * activation * slope)


def _worst_case_network(rng, theta, kappa=10.0, energy=0.5, angle=1e-3):
    """A Gaussian network whose unit 0 starts where the Rayleigh rate is nearly attained (chapter 2's worst case)."""
    problem, w0 = worst_case_instance(6, kappa, angle=angle, seed=rng)
    u = problem.u * math.sqrt(energy / float(problem.u @ np.linalg.solve(problem.S, problem.u)))
    return GaussianHiddenLayer(problem.S, u, theta), w0


def _record_states(states):
    """A gdnp callback that keeps every iterate w~_t."""
    return lambda t, w_tilde, g, w: states.append(np.array(w_tilde))


def _first_turn_rate(network, rng, steps) -> tuple[float, float]:
    """Unit-wise GDNP on a two-unit population network: the first unit's turn against e_t <= q^t e_0, and the write-back.

    Returns the worst e_t / (q^t e_0) of the first turn and the largest gap between the output
    and the last state of each unit's turn (the algorithm writes each unit back).
    """
    states = []
    result = unitwise_gdnp(network, rng.standard_normal((2, network.dim)), steps_per_unit=steps,
                           callback=lambda unit, W: states.append((unit, W)))
    q = _rate(network)
    first = [_distance(network, W[0]) for unit, W in states if unit == 0]
    ratios = [e / (q**t * first[0]) for t, e in enumerate(first) if t > 0]  # at t = 0 the ratio is 1 by definition
    last = {unit: W[unit] for unit, W in states if unit >= 0}
    written = largest(*(np.max(np.abs(result.w_tilde[i] - last[i])) for i in range(2)))
    return largest(*ratios), written


@verifies("thm-unit-rate", CHAPTER, "unit-wise GDNP: a unit whose partners are off or on the line converges at the halfspace rate",
          special_case="the logistic outer loss; partners on the line for one unit of three, partners off for the first "
                       "unit of lib.unitwise_gdnp on two units")
def unit_rate(seed: int = 0, steps: int = 40) -> CheckResult:
    r"""The coupled case: unit 0 of three, the other two ON the line with nonzero lengths, in the population.

    From chapter 2's worst-case start the direction part of the unit's gradient must stay below
    its exact form :math:`c_1^2(1-\mu/L)^{2t}(\rho(w_0) - \rho^*)` and nearly attain it; :math:`c_1`
    is recomputed from the check's own integrals and compared with the trace (GDNP's step). The
    whole gradient is compared with the theorem's bound, whose :math:`C_t \ge |c_1|` and
    :math:`\Psi_i` come from the recomputed :math:`\Phi_\ell, \Psi_\ell, \max|\tanh''|`. On a
    sample, the unit's plug-in :math:`c_1, c_2` must equal the check's own, and a unit with the
    others off must be the halfspace problem of the loss :math:`\ell(\theta_i\tanh t)`. Finally,
    ``lib.unitwise_gdnp`` on two units in the population: its first unit (the partner off)
    converges at the rate, and each unit is written back.
    """
    rng = rng_from(seed)
    theta_i = float(THETA[0])
    phi, psi, psi_i = _unit_constants(theta_i)
    network, w0 = _worst_case_network(rng, THETA)
    direction, nu = _line(network)
    lengths = NetworkOnLine(network, THETA).critical_lengths(-2.0 * np.sign(THETA))
    W = np.outer(lengths, direction)
    unit = network.unit(0, W)
    reported = abs(unit.length_curvature_bound - psi_i) / psi_i  # the library's Psi_i
    # Psi_i must bound |d^2/dt^2 l(r + theta_i tanh t)| for every r (the partners' part of F): its largest value
    # over t (supremum) and a grid of r, which also says how loose the bound is
    curvature = largest(*(supremum(lambda s, r=r: _unit_curvature(r, theta_i, s)) for r in np.linspace(-3.0, 3.0, 7)))
    states = []
    result = gdnp(unit, w0, iterations=steps, callback=_record_states(states))
    trace, T_s = result.trace, result.info["bisection_steps"]
    q = _rate(network)
    t = np.arange(len(states))
    e0 = _distance(network, states[0])
    own_c1, coupling, distances = [], [], []
    for state in states:
        W[0] = state
        a, b, c1, _ = _coefficients(network, THETA, LOGISTIC, W, 0)
        own_c1.append(c1)
        coupling.append(abs((1.0 / nu - nu) * float(b[1:] @ lengths[1:])) / abs(c1))
        distances.append(_distance(network, state))
    own_c1 = np.array(own_c1)
    # GDNP's c1 (its step) and the direction part of the gradient it records, against c1 and c1^2 e_t^2 (lemma
    # lem-direction-parallel) from the check's own integrals: both to the quadrature's accuracy, with room
    c1_error = largest(np.abs(trace["c1"] - own_c1) / np.abs(own_c1),
                       np.abs(trace["grad_norm_sq_direction"] / (own_c1 * np.array(distances)) ** 2 - 1.0))
    exact = own_c1**2 * q ** (2 * t) * e0**2
    # from t = 1 (at t = 0 the ratio is 1 by definition); the step is exact to the quadrature's ~1e-12, and the gap
    # e_t^2 >= 1e-10 nu^2 is computed to about 1e-16 / 1e-10 relative: 1e-6 leaves room for both
    direction_ratio = (trace["grad_norm_sq_direction"] / exact)[1:]
    coupling_bound = (1 / nu - nu) * psi * abs(theta_i) * np.sum(np.abs(THETA[1:] * lengths[1:]))
    C = phi * abs(theta_i) + psi_i * np.abs(trace["length"]) * nu + coupling_bound
    bound = C**2 * q ** (2 * t) * e0**2 + psi_i**2 * 4.0 ** (-T_s - 1) * trace["bracket_width"] ** 2
    full_ratio = largest(trace["grad_norm_sq"] / bound)
    # on a sample: the plug-in c1, c2 against the check's own sample means, and the halfspace identity
    X, y = Halfspace(network.S, network.u).sample(2000, seed=rng)
    sample = HiddenLayerNetwork(X, y, THETA)
    W_sample = np.outer(lengths, _line(sample)[0])
    W_sample[0] = rng.standard_normal(network.dim)
    evaluation = sample.unit(0, W_sample).evaluate(W_sample[0])
    _, b, c1, _ = _coefficients(sample, THETA, LOGISTIC, W_sample, 0, average=sample.Z)
    plug_in = largest(abs(evaluation.c1 - c1) / abs(c1), abs(evaluation.c2 - b[0]) / abs(b[0]),
                      abs(sample.unit(0, W_sample).length_curvature_bound - psi_i) / psi_i)
    off = sample.unit(0, np.zeros((3, network.dim)))
    halfspace = Halfspace.from_data(X, y, unit_loss(theta_i))
    identity = largest(abs(off.evaluate(W_sample[0]).loss - halfspace.loss(W_sample[0])),
                       np.max(np.abs(off.evaluate(W_sample[0]).grad - halfspace.grad(W_sample[0]))))
    # the algorithm: unit-wise GDNP on two units in the population
    first_turn, written = _first_turn_rate(GaussianHiddenLayer(network.S, network.u, THETA_PAIR), rng, steps)
    worst_direction = largest(direction_ratio)
    passed = (worst_direction <= 1.0 + 1e-6 and smallest(direction_ratio) >= 0.9 and full_ratio <= 1.0
              and c1_error <= 1e-8 and reported <= 1e-12 and curvature <= psi_i and plug_in <= 1e-10 and identity <= 1e-12
              and first_turn <= 1.0 + 1e-6 and written <= 1e-12)
    return CheckResult(
        "thm-unit-rate",
        f"unit 1 of three with the other two on the line (coupling term {largest(coupling):.0%} of c1), from the "
        f"worst-case start: direction part / c1^2 (1 - mu/L)^(2t) (rho(w_0) - rho*) between "
        f"{smallest(direction_ratio):.6f} and {worst_direction:.6f} over {steps} steps; whole gradient / the theorem's "
        f"bound at most {full_ratio:.3f} (C_t >= |c1|); Psi_i = {psi_i:.4f} recomputed, |d^2/dt^2 l(r + theta_i tanh t)| "
        f"reaches {curvature / psi_i:.2f} of it; GDNP's c1 and recorded direction part equal the recomputed ones to "
        f"{c1_error:.0e}; on a "
        f"sample, the plug-in c1, c2 and Psi_i equal the check's own to {plug_in:.0e}; lib.unitwise_gdnp on two units: "
        f"the first unit's distance to the line / (1 - mu/L)^t e_0 at most {first_turn:.4f}",
        worst_direction, 1.0, passed,
    )


def _near_line_steps(network, states, unit_index) -> tuple[list[float], list[float]]:
    """e_t and tau_t = ||sum_j B_ij w~_j^perp||_S / |c1_t| along a unit's iterates (full weight matrices)."""
    distances, tau = [], []
    for W in states:
        _, _, c1, d = _coefficients(network, network.theta, LOGISTIC, W, unit_index)
        distances.append(_distance(network, W[unit_index]))
        tau.append(_s_norm(network, d) / abs(c1))
    return distances, tau


def _direction_residual(model, theta, W_tilde, i) -> float:
    r""":math:`\|c_1r + P_v\bar\Delta\|`, the direction part of unit i's gradient in whitened coordinates (proof of ``thm-unit-near-line``).

    With :math:`v = S^{1/2}\hat w_i`, :math:`a = S^{-1/2}u`, :math:`r = a - (a^\top v)v` and
    :math:`\bar\Delta = S^{1/2}\Delta`; :math:`c_1` and :math:`\Delta` from the check's own integrals.
    """
    eigenvalues, vectors = np.linalg.eigh(model.S)
    root = (vectors * np.sqrt(eigenvalues)) @ vectors.T
    v = root @ W_tilde[i]
    v /= np.linalg.norm(v)
    a = np.linalg.solve(root, model.u)
    r = a - (a @ v) * v
    _, _, c1, delta = _coefficients(model, theta, LOGISTIC, W_tilde, i)
    bar = root @ delta
    return float(np.linalg.norm(c1 * r + bar - (v @ bar) * v))


def _turns(recorded) -> list[tuple[int, list[np.ndarray]]]:
    """The states of a unit-wise GDNP run (from its callback), split into turns: (unit, its states)."""
    runs = []
    for unit_index, W in recorded:
        if unit_index < 0:
            continue
        if not runs or runs[-1][0] != unit_index:
            runs.append((unit_index, []))
        runs[-1][1].append(W)
    return runs


def _worst_recursion(distances, tau, q) -> float:
    r"""The largest :math:`e_{t+1} / (q e_t + \tau_t)` over a run (1 + 1e-9 allows the quadrature's error)."""
    return largest(*(distances[t + 1] / (q * distances[t] + tau[t]) for t in range(len(distances) - 1)))


@verifies("thm-unit-near-line", CHAPTER, "with the other units within angle delta of the line, e_(t+1) <= (1 - mu/L) e_t + tau_t, "
          "tau_t <= sin(delta) Psi_l |theta_i| sum_j |theta_j| ||w~_j||_S / |c1|",
          special_case="one partner unit (two units in all; more partners off the line need integrals over more than two "
                       "projections of z), the logistic outer loss")
def unit_near_line(seed: int = 0, steps: int = 30) -> CheckResult:
    r"""Unit 0 of two in the population, its partner fixed 2 and 8 degrees off the line, then unit-wise GDNP.

    At every step the distance :math:`e_t = \sqrt{\rho(w_t) - \rho^*}` must obey the one-step
    recursion, with :math:`\tau_t` from the check's own :math:`B_{ij}` and :math:`c_1`, and
    :math:`\tau_t` the coupling-weight bound. At the end the unit is near its own critical
    point: the theorem puts :math:`e` between :math:`\tau(1 - e/\sqrt{\nu^2 - e^2}) - G/|c_1|`
    and :math:`\tau + G/|c_1|`, with :math:`G` the norm of the direction part of the gradient
    (:func:`_direction_residual`), and :math:`G/|c_1| \le 0.01\tau` there: the floor is attained, and the closed form's factor :math:`L/\mu` is
    the looseness, reported. Then ``lib.unitwise_gdnp`` on the same two units, two sweeps: every
    turn after the first meets the recursion with its partner's actual angle.
    """
    rng = rng_from(seed)
    model = _model(rng, kappa=4.0)
    network = GaussianHiddenLayer(model.S, model.u, THETA_PAIR)
    direction, nu = _line(model)
    q = _rate(model)
    _, psi = loss_constants(LOGISTIC)
    other = rng.standard_normal(model.dim)
    other -= (other @ model.S @ direction) * direction
    other /= _s_norm(model, other)
    w0 = rng.standard_normal(model.dim)
    worst, worst_weights, floors, closed, c1_error = 0.0, 0.0, [], 0.0, 0.0
    for degrees in (2.0, 8.0):
        delta = math.radians(degrees)
        partner = -1.5 * (math.cos(delta) * direction + math.sin(delta) * other)
        unit = network.unit(0, np.vstack([np.zeros(model.dim), partner]))
        iterates = []
        trace = gdnp(unit, w0, iterations=steps, callback=_record_states(iterates)).trace
        states = [np.vstack([w, partner]) for w in iterates]
        distances, tau = _near_line_steps(network, states, 0)
        worst = largest(worst, _worst_recursion(distances, tau, q))
        c1 = np.array([_coefficients(network, THETA_PAIR, LOGISTIC, W, 0)[2] for W in states])
        c1_error = largest(c1_error, np.abs(trace["c1"] - c1) / np.abs(c1))  # GDNP's step against the theorem's c1
        weights = math.sin(delta) * psi * abs(THETA_PAIR[0] * THETA_PAIR[1]) * _s_norm(model, partner) / np.abs(c1)
        worst_weights = largest(worst_weights, np.array(tau) / weights)
        e, floor = distances[-1], tau[-1]
        slack = _direction_residual(model, THETA_PAIR, states[-1], 0) / abs(c1[-1])
        # the theorem's bracket with the residual of the last iterate: tau (1 - e / sqrt(nu^2 - e^2)) - slack <= e <= tau + slack
        low, high = floor * (1.0 - e / math.sqrt(nu**2 - e**2)) - slack, floor + slack
        floors.append((e / floor, slack / floor, low - 1e-9 <= e <= high + 1e-9))
        closed = largest(closed, e / (q**steps * distances[0] + max(tau) / (1.0 - q)))
    attained = all(inside and slack <= 0.01 for _, slack, inside in floors)
    # the algorithm: two sweeps of unit-wise GDNP; every turn after the first meets the recursion
    recorded = []
    unitwise_gdnp(network, rng.standard_normal((2, model.dim)), sweeps=2, steps_per_unit=steps // 2,
                  callback=lambda unit, W: recorded.append((unit, W)))
    runs = _turns(recorded)
    algorithm = largest(*(_worst_recursion(*_near_line_steps(network, run, i), q) for i, run in runs[1:]))
    # the partner of every later turn is on (written back after its own turn) and, by so much, off the line
    partners = [run[0][1 - i] for i, run in runs[1:]]
    on = all(_s_norm(model, w) > 0 for w in partners)
    angles = [math.degrees(math.asin(min(1.0, _s_sine(model, w)))) if _s_norm(model, w) > 0 else float("nan")
              for w in partners]
    passed = (worst <= 1.0 + 1e-9 and worst_weights <= 1.0 and attained and algorithm <= 1.0 + 1e-9
              and c1_error <= 1e-8 and on)
    return CheckResult(
        "thm-unit-near-line",
        f"partner 2 and 8 degrees off the line: largest e_(t+1) / ((1 - mu/L) e_t + tau_t) = {worst:.4f} over "
        f"{steps} steps (GDNP's c1 equal to the theorem's to {c1_error:.0e}); tau_t at most {worst_weights:.2f} of its "
        f"coupling-weight bound; final distance / tau = "
        + " and ".join(f"{ratio:.4f} (direction residual / |c1| tau = {slack:.0e})" for ratio, slack, _ in floors)
        + f", inside the theorem's bracket, so the floor is attained and the closed form's (L/mu) max tau is "
        f"{1 / closed:.1f} times too high; "
        f"lib.unitwise_gdnp, two sweeps: every later turn (partner "
        + ", ".join(f"{a:.2g}" for a in angles) + f" degrees off the line) meets the recursion, worst {algorithm:.4f}",
        largest(worst, algorithm), 1.0 + 1e-9, passed,
    )
