"""The accelerated solvers of chapter 6: interface, traces, errors, and what each must reproduce."""

import numpy as np
import pytest

import lib
from lib.instances import random_halfspace, random_least_squares
from lib.length_search import LengthSearch
from lib.locally_optimal import conjugate_step
from lib.momentum import heavy_ball_parameters
from lib.rayleigh_ritz import ritz_coefficients

SOLVERS = [lib.locally_optimal, lib.rayleigh_ritz, lib.momentum_gdnp, lib.heavy_ball]
STATE_KEYS = {"loss", "grad_norm_sq", "rho_gap", "length", "time"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_result_and_trace_shape(solver, least_squares, rng):
    result = solver(least_squares, rng.standard_normal(least_squares.dim), iterations=6)
    assert isinstance(result, lib.OptimizationResult) and result.iterations == 6
    assert STATE_KEYS | {"loss_gap"} <= set(result.trace)
    for key in STATE_KEYS:
        assert result.trace[key].shape == (7,) and np.all(np.isfinite(result.trace[key])), key
    np.testing.assert_allclose(result.w_tilde, lib.to_w_tilde(result.g, result.w, least_squares.S), rtol=1e-10)
    # least squares: f - f* = ||grad f||^2_{S^-1} / 4, and at the optimal length rho - rho* = f - f*
    # (lemma lem-ls-length); sums of d <= 25 products at kappa <= 55: 1e-9 relative is generous
    np.testing.assert_allclose(result.trace["loss_gap"], result.trace["grad_norm_sq"] / 4, rtol=1e-9, atol=1e-300)
    if solver is not lib.heavy_ball:
        np.testing.assert_allclose(result.trace["rho_gap"], result.trace["loss_gap"], rtol=1e-7, atol=1e-14 * abs(least_squares.rho_star))


@pytest.mark.parametrize("solver", SOLVERS)
def test_callback_sees_every_iterate(solver, least_squares, rng):
    seen = []
    result = solver(least_squares, rng.standard_normal(least_squares.dim), iterations=4,
                    callback=lambda t, w_tilde, g, w: seen.append((t, w_tilde.copy())))
    assert [t for t, _ in seen] == list(range(5))
    np.testing.assert_allclose(seen[-1][1], result.w_tilde, rtol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_bad_input_is_refused(solver, least_squares):
    with pytest.raises(TypeError, match="one of the book's problems"):
        solver(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match="nonzero"):
        solver(least_squares, np.zeros(least_squares.dim))
    with pytest.raises(ValueError, match="iterations"):
        solver(least_squares, np.ones(least_squares.dim), iterations=0)
    with pytest.raises(ValueError, match="finite"):
        solver(least_squares, np.full(least_squares.dim, np.nan))


@pytest.mark.parametrize("solver", [lib.locally_optimal, lib.rayleigh_ritz, lib.momentum_gdnp])
def test_a_start_orthogonal_to_u_is_refused(solver):
    problem = lib.LeastSquares(np.diag([1.0, 2.0]), [1.0, 0.0])
    with pytest.raises(ValueError, match="orthogonal to u"):
        solver(problem, [0.0, 1.0])


@pytest.mark.parametrize("options, message", [(dict(momentum=1.0), "momentum"), (dict(momentum=-0.1), "momentum"),
                                              (dict(step_factor=0.0), "step_factor")])
def test_momentum_settings_are_checked(options, message, least_squares):
    with pytest.raises(ValueError, match=message):
        lib.momentum_gdnp(least_squares, np.ones(least_squares.dim), iterations=2, **options)


def test_momentum_gdnp_without_momentum_is_gdnp(least_squares, rng):
    """momentum 0 and step factor 1 is GDNP's direction step, to rounding."""
    w0 = rng.standard_normal(least_squares.dim)
    ours = lib.momentum_gdnp(least_squares, w0, iterations=15, momentum=0.0, step_factor=1.0)
    gdnp = lib.gdnp(least_squares, w0, iterations=15)
    # the two differ only in the rescaling of w by its S-norm, a few eps per step over 15 steps,
    # amplified at most by the condition number (<= 55) in the gap
    floor = 1e-13 * abs(least_squares.rho_star)
    np.testing.assert_allclose(ours.trace["rho_gap"], gdnp.trace["rho_gap"], rtol=1e-9, atol=floor)


def test_heavy_ball_without_momentum_is_gd(least_squares, rng):
    w0 = rng.standard_normal(least_squares.dim)
    ours = lib.heavy_ball(least_squares, w0, iterations=15, momentum=0.0, step=1 / least_squares.smoothness)
    gd = lib.gd(least_squares, w0, iterations=15)
    np.testing.assert_allclose(ours.trace["loss"], gd.trace["loss"], rtol=1e-12, atol=1e-14 * abs(least_squares.rho_star))


def test_heavy_ball_parameters():
    step, momentum = heavy_ball_parameters(1.0, 100.0)
    np.testing.assert_allclose([step, momentum], [4 / 121, (9 / 11) ** 2], rtol=1e-15)
    with pytest.raises(ValueError, match="smallest <= largest"):
        heavy_ball_parameters(2.0, 1.0)


def test_heavy_ball_diverges_loudly(least_squares, rng):
    with pytest.raises(lib.DivergenceError):
        lib.heavy_ball(least_squares, rng.standard_normal(least_squares.dim), iterations=3000, step=10 / least_squares.L)


def test_locally_optimal_matches_conjugate_gradients_from_u(seed):
    """From w0 = u the iterates' gaps are those of conjugate gradients one step later (theorem thm-lo-cg)."""
    problem = random_least_squares(40, 100.0, seed=seed)
    ours = lib.locally_optimal(problem, problem.u, iterations=15)
    x, r = np.zeros(40), problem.u.copy()
    p, errors = r.copy(), []
    for _ in range(16):
        Sp = problem.S @ p
        a = (r @ r) / (p @ Sp)
        x, r_next = x + a * p, r - a * Sp
        p, r = r_next + (r_next @ r_next) / (r @ r) * p, r_next
        residual = problem.u - problem.S @ x
        errors.append(residual @ problem.S_inv @ residual)
    # two implementations of one exact sequence over 15 steps at kappa = 100: rounding grows by at
    # most kappa per step in relative terms early on; the gaps stay above 1e-8 |rho*| here
    np.testing.assert_allclose(ours.trace["rho_gap"], errors, rtol=1e-6)


def test_rayleigh_ritz_tracks_locally_optimal_early(seed):
    problem = random_least_squares(30, 50.0, seed=seed)
    a = lib.rayleigh_ritz(problem, problem.u, iterations=8)
    b = lib.locally_optimal(problem, problem.u, iterations=8)
    np.testing.assert_allclose(a.trace["rho_gap"], b.trace["rho_gap"], rtol=1e-6)


@pytest.mark.parametrize("loss", ["logistic", "squared_sigmoid"])
def test_decoupled_accelerated_solvers_converge_on_halfspace_samples(loss, seed):
    population = random_halfspace(10, 20.0, loss=loss, seed=seed)
    problem = lib.Halfspace.from_data(*population.sample(2000, seed=seed), loss=loss)
    w0 = np.random.default_rng(seed).standard_normal(10)
    for solver in (lib.locally_optimal, lib.momentum_gdnp):
        run = solver(problem, w0, iterations=120)
        assert run.trace["grad_norm_sq"][-1] <= 1e-14 * run.trace["grad_norm_sq"][0], solver.__name__


def test_conjugate_step_is_conjugate_on_a_quadratic(rng):
    """HS+ on a quadratic with Hessian H: p_t^T H p_{t-1} = 0 after an exact line search."""
    H = np.diag(np.geomspace(1, 30, 6))
    x, b = rng.standard_normal(6), rng.standard_normal(6)
    d_previous = H @ x - b
    p_previous = -d_previous
    x = x + (-(d_previous @ p_previous) / (p_previous @ H @ p_previous)) * p_previous
    d = H @ x - b
    p, beta = conjugate_step(d, d_previous, p_previous)
    # conjugacy to rounding: products of 6 numbers with a Hessian of condition 30
    assert abs(p @ H @ p_previous) <= 1e-12 * np.linalg.norm(p) * np.linalg.norm(H @ p_previous)
    assert beta > 0.0
    for p_restart, beta_restart in (conjugate_step(d, d_previous, None),  # first step: steepest descent
                                    conjugate_step(d, d_previous, d)):    # not a descent direction: restart
        np.testing.assert_allclose(p_restart, -d, rtol=1e-15, atol=0)


def test_ritz_coefficients_are_the_galerkin_projection(rng):
    problem = random_least_squares(8, 20.0, seed=rng)
    V = rng.standard_normal((8, 3))
    c = ritz_coefficients(V, problem.S, problem.u)
    galerkin = np.linalg.solve(V.T @ problem.S @ V, V.T @ problem.u)
    np.testing.assert_allclose(c, galerkin, rtol=1e-9)
    # a repeated column adds nothing: the same minimiser, no NaN
    c2 = ritz_coefficients(np.column_stack([V, V[:, 0]]), problem.S, problem.u)
    np.testing.assert_allclose(np.column_stack([V, V[:, 0]]) @ c2, V @ c, rtol=1e-8)


def test_length_search_settings():
    problem = random_least_squares(3, 2.0, seed=1)
    assert LengthSearch(problem).info["length_search"] == "closed form"
    assert LengthSearch(problem, bisection_steps=8).info == dict(length_search="bisection", bisection_steps=8, bracket="adaptive")
    with pytest.raises(ValueError, match="too few"):
        LengthSearch(problem, bisection_steps=2)
