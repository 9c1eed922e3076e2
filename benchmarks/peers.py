"""The library's solvers against what a user would pick instead, side by side in one run.

Run with ``.venv/bin/python benchmarks/peers.py`` (``make benchmark`` runs it); ``--full`` adds
least squares with d = 1000 for GD and GDNP (minutes each) and the sample with n = 2e5.

One BLAS thread (threadpoolctl) for everything. Every method runs to the same target on the same
problem: a relative gap (f - f*)/|f*| <= 1e-10 on least squares, ||grad f||^2_{S^-1} <= 1e-16 on
halfspace samples. For an iterative method the number of iterations to the target is found by a
first run; the timed runs then make exactly that many iterations, so that no method pays for
iterations past its target. Times are medians over REPEATS runs, with the min-max range. Ratios:

* ``/floor``: seconds per iteration over the floor, one product S v (least squares) or the two
  passes Z w, Z^T r over the data (samples), timed the same way;
* ``/best``: total seconds over the fastest method of the row's problem.

The objective scipy's L-BFGS-B minimises on the samples is written here with numpy and is checked
to agree with ``lib``'s to 1e-12 relative before anything is timed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse.linalg
from threadpoolctl import threadpool_limits

import lib
from lib.instances import random_halfspace, random_least_squares

REPEATS = 5
LS_TARGET = 1e-10   # (f - f*)/|f*|
SAMPLE_TARGET = 1e-16  # ||grad f||^2_{S^-1}


def timed(function, repeats=REPEATS):
    """Median, min and max seconds of ``function()`` over ``repeats`` calls, and its last result."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), min(seconds), max(seconds), result


def iterations_to_target(run_solver, key, threshold, budget):
    """The iterations a lib solver needs to bring ``trace[key]`` to ``threshold`` (None if not within ``budget``)."""
    try:
        return run_solver(budget).iterations_to(key, threshold)
    except lib.DivergenceError:
        return None


def row(rows, problem_name, method, iterations, timing, floor):
    median, low, high, _ = timing
    per_iteration = median / max(iterations, 1) if iterations else float("nan")
    rows.append(dict(problem=problem_name, method=method, iterations=iterations, median=median, low=low, high=high,
                     floor_ratio=per_iteration / floor if iterations else float("nan")))


# ---------------------------------------------------------------- least squares
def conjugate_gradient_iterations(problem, goal):
    """Iterations of scipy's CG to a gap f - f* <= goal (the gap of each iterate, from a callback)."""
    gaps = []
    scipy.sparse.linalg.cg(problem.S, -problem.u, rtol=1e-14, atol=0.0, maxiter=20 * problem.dim,
                           callback=lambda x: gaps.append(problem.loss_gap(x)))
    hits = np.flatnonzero(np.asarray(gaps) <= goal)
    return int(hits[0]) + 1 if hits.size else None


def least_squares_rows(rows, dim, kappa, slow):
    problem = random_least_squares(dim, kappa, seed=0)
    name = f"least squares d={dim} kappa={kappa:g}"
    goal = LS_TARGET * abs(problem.rho_star)
    start = problem.u / np.sqrt(problem.u @ problem.S @ problem.u)
    v = np.ones(dim)
    floor = timed(lambda: problem.S @ v, repeats=201)[0]
    solvers = {
        "lib.locally_optimal": lib.locally_optimal,
        "lib.momentum_gdnp": lib.momentum_gdnp,
        "lib.heavy_ball": lib.heavy_ball,
        "lib.rayleigh_ritz": lib.rayleigh_ritz,
    }
    if slow:
        solvers.update({"lib.gdnp": lib.gdnp, "lib.gd": lib.gd})
    for method, solver in solvers.items():
        budget = int(60 * kappa + 1000) if method in ("lib.gdnp", "lib.gd") else int(40 * np.sqrt(kappa) + 200)
        k = iterations_to_target(lambda n: solver(problem, start, iterations=n), "loss_gap", goal, budget)
        timing = timed(lambda: solver(problem, start, iterations=k), repeats=REPEATS if k and k < 20000 else 1) if k else (np.nan,) * 4
        row(rows, name, method, k, timing, floor)
    k = conjugate_gradient_iterations(problem, goal)
    # relative residual reached at iteration k, so that the timed CG stops there
    timing = timed(lambda: scipy.sparse.linalg.cg(problem.S, -problem.u, rtol=1e-300, atol=0.0, maxiter=k))
    row(rows, name, "scipy.sparse.linalg.cg", k, timing, floor)
    timing = timed(lambda: scipy.linalg.cho_solve(scipy.linalg.cho_factor(problem.S), -problem.u))
    assert problem.loss_gap(timing[3]) <= goal
    row(rows, name, "scipy.linalg.cho_factor + cho_solve", 1, timing, floor)


# ---------------------------------------------------------------- halfspace samples
class SampleObjective:
    """f(w) = mean phi(Z w) and its gradient, written with numpy for scipy (the same objective as lib's)."""

    def __init__(self, problem):
        self.Z, self.n, self.phi = problem.Z, problem.n, problem.loss_function

    def __call__(self, w):
        v = self.Z @ w
        return float(np.mean(self.phi.value(v))), self.Z.T @ self.phi.first(v) / self.n


def lbfgsb(objective, w0, maxiter, callback=None):
    return scipy.optimize.minimize(objective, w0, jac=True, method="L-BFGS-B", callback=callback,
                                   options=dict(maxiter=maxiter, maxfun=10 * maxiter, gtol=0.0, ftol=0.0, maxcor=10))


def sample_rows(rows, n, dim, loss):
    population = random_halfspace(dim, 20.0, loss=loss, seed=0)
    problem = lib.Halfspace.from_data(*population.sample(n, seed=1), loss=loss)
    name = f"halfspace sample n={n:g} d={dim} {loss}"
    objective = SampleObjective(problem)
    check = np.random.default_rng(2)
    for _ in range(5):
        w = check.standard_normal(dim) / np.sqrt(dim)
        ours, theirs = problem.evaluate(w), objective(w)
        # both are means of n values of the same function: they agree to rounding, far below 1e-12
        assert abs(ours.loss - theirs[0]) <= 1e-12 * abs(ours.loss)
        assert np.linalg.norm(ours.grad - theirs[1]) <= 1e-12 * np.linalg.norm(ours.grad)
    Z, r, w1 = problem.Z, np.ones(n), np.ones(dim)
    floor = timed(lambda: Z.T @ (Z @ w1 + r), repeats=51)[0]
    w0 = np.ones(dim) / np.sqrt(np.ones(dim) @ problem.S @ np.ones(dim))
    for method, solver in {"lib.locally_optimal": lib.locally_optimal, "lib.momentum_gdnp": lib.momentum_gdnp,
                           "lib.gdnp": lib.gdnp, "lib.gd": lib.gd}.items():
        k = iterations_to_target(lambda m: solver(problem, w0, iterations=m), "grad_norm_sq", SAMPLE_TARGET, 2000)
        timing = timed(lambda: solver(problem, w0, iterations=k), repeats=3) if k else (np.nan,) * 4
        row(rows, name, method, k, timing, floor)
    iterates = []
    lbfgsb(objective, w0, 1000, callback=lambda x: iterates.append(np.array(x)))
    norms = [float(g @ problem.S_inv @ g) for g in (objective(x)[1] for x in iterates)]
    hits = np.flatnonzero(np.asarray(norms) <= SAMPLE_TARGET)
    k = int(hits[0]) + 1 if hits.size else None
    timing = timed(lambda: lbfgsb(objective, w0, k), repeats=3) if k else (np.nan,) * 4
    row(rows, name, "scipy L-BFGS-B", k, timing, floor)


# ---------------------------------------------------------------- report
def table(rows) -> str:
    lines = ["| problem | method | iterations | time (median, min-max) | per iteration / floor | time / best |",
             "|---|---|---:|---|---:|---:|"]
    best = {}
    for r in rows:
        if r["iterations"]:
            best[r["problem"]] = min(best.get(r["problem"], np.inf), r["median"])
    for r in rows:
        if not r["iterations"]:
            lines.append(f"| {r['problem']} | {r['method']} | not reached | | | |")
            continue
        lines.append(f"| {r['problem']} | {r['method']} | {r['iterations']} | {1e3 * r['median']:.3g} ms "
                     f"({1e3 * r['low']:.3g}-{1e3 * r['high']:.3g}) | {r['floor_ratio']:.3g} | "
                     f"{r['median'] / best[r['problem']]:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add d = 1000 for GD and GDNP, and n = 2e5")
    options = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        for kappa in (10.0, 100.0, 1000.0, 1e4):
            least_squares_rows(rows, 200, kappa, slow=True)
        least_squares_rows(rows, 1000, 1e4, slow=options.full)
        for loss in ("logistic", "squared_sigmoid"):
            sample_rows(rows, 20_000, 50, loss)
        if options.full:
            sample_rows(rows, 200_000, 100, "logistic")
    print(table(rows))


if __name__ == "__main__":
    main()
