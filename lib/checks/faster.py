r"""Checks of chapter 6, faster directions: locally optimal steps are conjugate gradients, the heavy ball's rate, and momentum on the direction near the optimum.

The reference quantities are computed here from the statements: conjugate gradients on
:math:`Sx = u` by their textbook recurrence, the gaps :math:`\rho(w) - \rho^*` and
:math:`f - f^*` in residual form with a solve of this module's own, the condition number from
this module's eigenvalues of :math:`S`, and the bounds from them. What the library's solvers
report about their runs is compared with those.
"""

from __future__ import annotations

import numpy as np

from ..problems.instances import random_least_squares, rng_from
from ..solvers.locally_optimal import locally_optimal
from ..solvers.momentum import heavy_ball, momentum_gdnp
from ..solvers.rayleigh_ritz import rayleigh_ritz
from .registry import CheckResult, largest, verifies

CHAPTER = "06-faster"


def _conjugate_gradients(S, u, steps):
    """The iterates x_1, ..., x_steps of conjugate gradients on S x = u from x_0 = 0 (Hestenes and Stiefel)."""
    x, r = np.zeros_like(u), u.copy()
    p, iterates = r.copy(), []
    for _ in range(steps):
        S_p = S @ p
        a = (r @ r) / (p @ S_p)
        x, r_next = x + a * p, r - a * S_p
        p, r = r_next + (r_next @ r_next) / (r @ r) * p, r_next
        iterates.append(x)
    return iterates


def _gap(w, S, u):
    r"""rho(w) - rho* = ||u - (u.w / ||w||_S^2) S w||^2_{S^-1} (lemma lem-rayleigh-min), with a solve of its own."""
    residual = u - (u @ w) / (w @ S @ w) * (S @ w)
    return float(residual @ np.linalg.solve(S, residual))


def _sine_sq(a, b, S):
    """The squared sine of the S-angle between a and b."""
    return max(1.0 - (a @ S @ b) ** 2 / ((a @ S @ a) * (b @ S @ b)), 0.0)


@verifies("thm-lo-cg", CHAPTER, "from w0 in span{u}, the locally optimal directions are those of conjugate gradients on S x = u, one step ahead")
def locally_optimal_cg(seed: int = 0, instances: int = 3, steps: int = 12) -> CheckResult:
    r"""Both forms of the locally optimal step from :math:`w_0 = cu` against conjugate gradients written out here.

    On least squares with :math:`d = 40` and :math:`\kappa` from 10 to 1000, with a random
    :math:`c \ne 0`: every iterate :math:`\tilde w_t` of :func:`lib.rayleigh_ritz` and of
    :func:`lib.locally_optimal` must be parallel to the conjugate-gradient iterate
    :math:`x_{t+1}` (squared S-sine), its gap :math:`\rho(\tilde w_t) - \rho^*` must be
    :math:`\|x^* - x_{t+1}\|_S^2` (relative difference) and at most the conjugate-gradient bound
    :math:`4q^{2(t+1)}|\rho^*|`, :math:`q = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`, and the gap the
    library reports must be the gap computed here.
    """
    rng = rng_from(seed)
    worst, worst_bound, reported, smallest_gap = 0.0, 0.0, 0.0, np.inf
    for kappa in np.geomspace(10.0, 1000.0, instances):
        problem = random_least_squares(40, kappa, seed=rng)
        S, u = problem.S, problem.u
        eigenvalues = np.linalg.eigvalsh(S)
        q = (np.sqrt(eigenvalues[-1] / eigenvalues[0]) - 1) / (np.sqrt(eigenvalues[-1] / eigenvalues[0]) + 1)
        energy = float(u @ np.linalg.solve(S, u))  # |rho*| = ||x*||_S^2
        cg = _conjugate_gradients(S, u, steps + 1)
        for solver in (rayleigh_ritz, locally_optimal):
            seen = []
            run = solver(problem, rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 10.0) * u, iterations=steps,
                         callback=lambda t, w_tilde, g, w: seen.append(w_tilde.copy()))
            for t, w_tilde in enumerate(seen):
                gap, cg_gap = _gap(w_tilde, S, u), _gap(cg[t], S, u)
                smallest_gap = min(smallest_gap, cg_gap / energy)
                worst = largest(worst, abs(gap - cg_gap) / cg_gap, _sine_sq(w_tilde, cg[t], S) * energy / cg_gap)
                worst_bound = largest(worst_bound, gap / (4 * q ** (2 * (t + 1)) * energy))
                reported = largest(reported, abs(run.trace["rho_gap"][t] - gap) / gap)
    # Two implementations of one exact sequence: the conjugate-gradient forms differ by rounding of
    # about kappa eps per step in relative gap (1e-13 per step at kappa = 1000, over 12 steps); the
    # Rayleigh-Ritz solve loses the Gram matrix's condition times eps, and that condition grows to
    # about 1e8 as w_t and the residual align with earlier directions (1e-8 per step, 1e-7 over 12
    # steps). The gaps stay above 1e-8 |rho*| in these 13 steps (printed), so 1e-6 of them is above
    # rounding and far below what a wrong step changes (a steepest-descent step changes the gap by
    # O(1)). The sine is measured relative to the gap, since the gap is |rho*| sin^2 of the angle to x*.
    tolerance = 1e-6
    passed = worst <= tolerance and worst_bound <= 1.0 and reported <= 1e-9
    return CheckResult(
        "thm-lo-cg",
        f"largest relative difference between the gaps of Rayleigh-Ritz and of the conjugate-gradient form and "
        f"CG's gap one step ahead, and of the squared S-sine to CG's iterate over the gap, over {instances} "
        f"problems and {steps} steps: {worst:.1e}; largest gap over the bound 4 q^(2(t+1)) |rho*|: "
        f"{worst_bound:.3g}; reported against recomputed gap: {reported:.1e}",
        worst, tolerance, passed, details=dict(smallest_gap_over_rho_star=f"{smallest_gap:.1e}"),
    )


@verifies("thm-heavy-ball", CHAPTER, "the heavy ball with Polyak's parameters on least squares: f - f* <= (1 + (1 + q) t)^2 q^(2t) (f_0 - f*)")
def heavy_ball_rate(seed: int = 0, instances: int = 3, steps: int = 400) -> CheckResult:
    r"""The gaps of :func:`lib.heavy_ball` on least squares against the theorem's bound, recomputed from :math:`\mu, L`.

    For :math:`\kappa` from 10 to 1000 (:math:`d = 30`): the default step and momentum must be
    :math:`2/(\sqrt L + \sqrt\mu)^2` and :math:`q^2`; the first two iterates must be those of the
    recurrence written out here; every gap :math:`f(\tilde w_t) - f^*` (computed here from the
    iterates) over the start's must be at most :math:`(1 + (1 + q)t)^2 q^{2t}` while that bound is
    above the rounding floor; and the reported ``loss_gap`` must be the gap computed here.
    """
    rng = rng_from(seed)
    worst, settings, reported, last_rates = 0.0, 0.0, 0.0, []
    for kappa in np.geomspace(10.0, 1000.0, instances):
        problem = random_least_squares(30, kappa, seed=rng)
        S, u = problem.S, problem.u
        eigenvalues = np.linalg.eigvalsh(S)
        mu, L = eigenvalues[0], eigenvalues[-1]
        q = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
        step, momentum = 2 / (np.sqrt(L) + np.sqrt(mu)) ** 2, q**2
        w0 = rng.standard_normal(30)
        seen = []
        run = heavy_ball(problem, w0, iterations=steps, callback=lambda t, w_tilde, g, w: seen.append(w_tilde.copy()))
        w1 = w0 - step * 2 * (u + S @ w0)
        w2 = w1 - step * 2 * (u + S @ w1) + momentum * (w1 - w0)
        settings = largest(settings, abs(run.info["step"] / step - 1), abs(run.info["momentum"] / momentum - 1),
                           np.linalg.norm(seen[1] - w1) / np.linalg.norm(w1), np.linalg.norm(seen[2] - w2) / np.linalg.norm(w2))
        residuals = [u + S @ w for w in seen]
        gaps = np.array([float(r @ np.linalg.solve(S, r)) for r in residuals])
        t = np.arange(len(gaps))
        bound = (1 + (1 + q) * t) ** 2 * q ** (2 * t)
        # Rounding: w (and the library's g w_hat, which differs from w by eps per entry) gives the
        # residual u + S w an error of at most about eps ||S|| ||w||, which is eps kappa ||w||_S <= 1e-13
        # sqrt(f_0 - f*) in the S^-1 norm at kappa <= 1000 (||w||_S is of the size of sqrt(f_0 - f*)
        # here), so a gap carries at most about 2e-13 sqrt(gap (f_0 - f*)): the ratio is compared with
        # the bound plus 1e-12 sqrt(ratio), for t >= 1 (at t = 0 both are 1) while the bound is above
        # 1e-16, and the reported gap with the same allowance.
        keep = (t >= 1) & (bound >= 1e-16)
        ratio = gaps / gaps[0]
        worst = largest(worst, np.max((ratio[keep] - 1e-12 * np.sqrt(ratio[keep])) / bound[keep]))
        reported = largest(reported, np.max(np.abs(run.trace["loss_gap"][keep] - gaps[keep])
                                            / (1e-12 * np.sqrt(gaps[keep] * gaps[0]))))
        last_rates.append(float((gaps[keep][-1] / gaps[keep][-11]) ** (1 / 20) / q))  # sqrt of the gap's factor per step
    # the settings and the first iterates are a few operations on d = 30 numbers: 1e-12 relative
    passed = worst <= 1.0 and settings <= 1e-12 and reported <= 1.0
    return CheckResult(
        "thm-heavy-ball",
        f"largest (f_t - f*)/(f_0 - f*) over (1 + (1 + q) t)^2 q^(2t) for t >= 1, over {instances} problems and "
        f"{steps} steps: {worst:.3g}; default step, momentum and first two iterates against the formulas: "
        f"{settings:.1e}; reported against recomputed gap, in units of the rounding allowance: {reported:.2g}",
        worst, 1.0, passed,
        details=dict(measured_rate_per_step_over_q=", ".join(f"{r:.3f}" for r in last_rates)),
    )


def _tangent_of_angle(w, x_star_unit, S) -> tuple[float, float]:
    r"""(tan vartheta, omega): the S-angle vartheta between w and the unit-S-norm x*, from w = omega x* + w_perp, w_perp S-orthogonal to x*."""
    omega = float(w @ S @ x_star_unit)
    w_perp = w - omega * x_star_unit
    return float(np.sqrt(max(w_perp @ S @ w_perp, 0.0))) / abs(omega), omega


@verifies("thm-momentum-direction", CHAPTER, "heavy ball on the direction, least squares, from tan vartheta_0 <= 1/(16 (sqrt kappa + 1)^3): tan vartheta_t <= 4 (1 + (1 + q) t) q^t tan vartheta_0")
def momentum_direction_rate(seed: int = 0, instances: int = 3, steps: int = 260) -> CheckResult:
    r"""The directions of :func:`lib.momentum_gdnp` near the optimum against the local bound, recomputed from :math:`\mu, L`.

    For :math:`\kappa` from 10 to 1000 (:math:`d = 30`), from a start at the theorem's radius
    (:math:`\tan\vartheta_0 = 0.99/(16(\sqrt\kappa + 1)^3)`, off the line of :math:`x^* = S^{-1}u` in a
    random S-orthogonal direction): the default momentum and step factor must be :math:`q^2` and
    :math:`4L/(\sqrt L + \sqrt\mu)^2`; the first direction must be the theorem's
    :math:`w_0 + \psi\,r(w_0)/\alpha(w_0)` up to scale; every :math:`\tan\vartheta_t` (computed here from
    the iterates and this module's solve for :math:`x^*`) must be at most
    :math:`4(1 + (1 + q)t)q^t\tan\vartheta_0` while that bound is above the rounding floor;
    :math:`u^\top w_t` must keep its sign; and the reported ``rho_gap`` must be
    :math:`|\rho^*|\sin^2\vartheta_t`.
    """
    rng = rng_from(seed)
    worst, settings, reported, sign_changes, last_rates = 0.0, 0.0, 0.0, 0, []
    for kappa in np.geomspace(10.0, 1000.0, instances):
        problem = random_least_squares(30, kappa, seed=rng)
        S, u = problem.S, problem.u
        eigenvalues = np.linalg.eigvalsh(S)
        mu, L = eigenvalues[0], eigenvalues[-1]
        root = np.sqrt(L / mu)
        q = (root - 1) / (root + 1)
        psi = 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2
        x_star = np.linalg.solve(S, u)
        energy = float(u @ x_star)  # |rho*| = ||x*||_S^2
        x_unit = x_star / np.sqrt(energy)
        y = rng.standard_normal(30)
        y -= (y @ S @ x_unit) * x_unit
        tan0 = 0.99 / (16 * (root + 1) ** 3)
        w0 = x_unit + tan0 * y / np.sqrt(y @ S @ y)
        seen = []
        run = momentum_gdnp(problem, w0, iterations=steps, callback=lambda t, w_tilde, g, w: seen.append(w.copy()))
        alpha0 = (u @ w0) / (w0 @ S @ w0)
        w1 = w0 + psi * (u - alpha0 * (S @ w0)) / alpha0
        unit = lambda w: w / np.sqrt(w @ S @ w)
        settings = largest(settings, abs(run.info["momentum"] / q**2 - 1), abs(run.info["step_factor"] / (psi * L) - 1),
                           np.sqrt((unit(seen[1]) - unit(w1)) @ S @ (unit(seen[1]) - unit(w1))) / tan0)
        tangents, orientations = np.array([_tangent_of_angle(w, x_unit, S) for w in seen]).T
        sign_changes += int(np.sum(orientations * orientations[0] <= 0.0))  # u.w_t of another sign than u.w_0, or 0
        t = np.arange(len(tangents))
        bound = 4 * (1 + (1 + q) * t) * q**t * tangents[0]
        # Rounding: x* from a solve carries a relative error of about kappa eps <= 2.2e-13 at
        # kappa = 1000, and the iterates a comparable one, so tan vartheta_t is known to about 1e-12;
        # the comparison allows 1e-11 and stops where the bound falls below 1e-9.
        keep = bound >= 1e-9
        worst = largest(worst, np.max((tangents[keep] - 1e-11) / bound[keep]))
        sines = tangents**2 / (1 + tangents**2)
        clear = tangents >= 1e-7  # well above the rounding of both computations (see below)
        reported = largest(reported, np.max(np.abs(run.trace["rho_gap"][clear] - energy * sines[clear]) / (energy * sines[clear])))
        tail = np.flatnonzero(keep)[-1]
        last_rates.append(float((tangents[tail] / tangents[tail - 20]) ** (1 / 20) / q))
    # The settings are a few operations on 30 numbers (1e-12 relative). The first direction moves
    # by about tan vartheta_0 >= 1.8e-6 (kappa = 1000); the two unit directions differ by rounding of
    # the step, about kappa eps <= 2.2e-13, so 1e-6 of the move is far above rounding and far below
    # what a wrong step size or momentum changes (a fraction of the move). The reported gap is
    # |rho*| sin^2 vartheta in residual form; each form has a relative error of about kappa eps/sin vartheta,
    # at most 2.2e-6 where tan vartheta >= 1e-7: 1e-4 leaves a margin and still catches a wrong norm.
    passed = worst <= 1.0 and settings <= 1e-6 and sign_changes == 0 and reported <= 1e-4
    return CheckResult(
        "thm-momentum-direction",
        f"largest tan vartheta_t over 4 (1 + (1 + q) t) q^t tan vartheta_0, over {instances} problems and "
        f"{steps} steps from the theorem's radius: {worst:.3g}; default momentum, step factor and first "
        f"direction against the formulas: {settings:.1e}; sign changes of u.w_t: {sign_changes}; reported "
        f"against recomputed gap: {reported:.1e}",
        worst, 1.0, passed,
        details=dict(measured_rate_per_step_over_q=", ".join(f"{r:.3f}" for r in last_rates)),
    )
