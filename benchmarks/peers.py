"""The library's solvers against what a user would pick instead, side by side in one run.

Run with ``.venv/bin/python benchmarks/peers.py`` (``make benchmark`` runs it); ``--full`` adds
least squares with d = 1000 for GD and GDNP (minutes each) and the sample with n = 2e5, d = 100.
``--part floor`` prints only the library's cost per iteration over the floor (issue 15, item 3:
GD and GDNP on least squares at most 2x one product S v at d >= 200; GDNP on samples at most
(2 + 0.3 T_s)x the two passes over the data); ``--part halfspace-target`` only the wall time of
``lib.locally_optimal`` against scipy's L-BFGS-B on the four halfspace samples of item 2
(n = 2e4, d = 50 and n = 2e5, d = 100; logistic and squared sigmoid).

Peers: scipy's CG and a Cholesky solve on S w = -u, scipy's LOBPCG on the pencil (uu^T, S) (the
largest eigenvalue |rho*|, from X = u, A applied as v -> u (u.v)), scipy's L-BFGS-B on the same
objective, and scikit-learn's LogisticRegression with ``C=np.inf`` and ``fit_intercept=False``
(the book's unregularised logistic loss without a bias: C = inf is no penalty; its predicted log
probabilities are checked to give lib's objective to 1e-12 first) with the solvers lbfgs and
newton-cg. scikit-learn has no squared-sigmoid loss: those rows say so. The breast-cancer data
(scikit-learn's copy, standardised, labels -1/+1) is the non-Gaussian problem.

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
import sys
import time
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse.linalg
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

import lib
from lib.instances import random_halfspace, random_least_squares
from lib.maths.losses import value_first_second

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


def floor_ratio(run, floor_operation, iterations, repeats=REPEATS):
    """Median, min and max over ``repeats`` of (seconds of ``run()``) / (seconds of ``iterations`` floor operations).

    Each repeat times the run and then, right after it, ``iterations`` floor operations: the two
    see the same machine state, so that the ratio, unlike the two times, survives a machine whose
    load (and memory bandwidth) changes from second to second.
    """
    ratios = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        middle = time.perf_counter()
        for _ in range(iterations):
            floor_operation()
        ratios.append((middle - start) / (time.perf_counter() - middle))
    return statistics.median(ratios), min(ratios), max(ratios)


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


def lobpcg(problem, iterations):
    """scipy's LOBPCG for the largest eigenpair of the pencil (uu^T, S) from X = u; the eigenvalue history."""
    u, dim = problem.u, problem.dim
    pencil = scipy.sparse.linalg.LinearOperator((dim, dim), matvec=lambda v: u * (u @ v),
                                                matmat=lambda X: np.outer(u, u @ X), dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "did not reach the tolerance": it is told to run `iterations`
        _, _, history = scipy.sparse.linalg.lobpcg(pencil, u[:, None].copy(), B=problem.S, largest=True, tol=1e-300,
                                                    maxiter=iterations, retLambdaHistory=True)
    return np.ravel(history)


def lobpcg_run(problem, goal):
    """Iterations of LOBPCG to rho gap <= goal (its eigenvalue is -rho of its iterate: the gap is |rho*| - lambda), and the timing."""
    gaps = abs(problem.rho_star) - lobpcg(problem, 20 * problem.dim)
    hits = np.flatnonzero(gaps <= goal)
    if not hits.size:
        return None, (np.nan,) * 4
    k = max(int(hits[0]), 1)
    return k, timed(lambda: lobpcg(problem, k))


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
    k, timing = lobpcg_run(problem, goal)
    row(rows, name, "scipy.sparse.linalg.lobpcg on (uu^T, S)", k, timing, floor)
    timing = timed(lambda: scipy.linalg.cho_solve(scipy.linalg.cho_factor(problem.S), -problem.u))
    assert problem.loss_gap(timing[3]) <= goal
    row(rows, name, "scipy.linalg.cho_factor + cho_solve", 1, timing, floor)


# ---------------------------------------------------------------- halfspace samples
class SampleObjective:
    """f(w) = mean phi(Z w) and its gradient for scipy (the same objective as lib's).

    With ``fused=True`` (the default) the loss and phi' come from one exponential per sample
    (:func:`lib.maths.losses.value_first_second`, the kernel lib's own evaluation uses), so that
    L-BFGS-B is timed with an objective as fast as lib's; ``fused=False`` is what a user would
    write with the loss's two functions, two exponentials per sample.
    """

    def __init__(self, problem, fused=True):
        self.Z, self.n, self.phi, self.fused = problem.Z, problem.n, problem.loss_function, fused
        self.work = np.empty(problem.n)

    def __call__(self, w):
        v = self.Z @ w
        if self.fused:
            value, first, _ = value_first_second(self.phi, v, self.work)
            return value, self.Z.T @ first / self.n
        return float(np.mean(self.phi.value(v))), self.Z.T @ self.phi.first(v) / self.n


def check_objective(problem, objective):
    """lib's loss and gradient against ``objective``'s at five random points, to 1e-12 relative."""
    check = np.random.default_rng(2)
    for _ in range(5):
        w = check.standard_normal(problem.dim) / np.sqrt(problem.dim)
        ours, theirs = problem.evaluate(w), objective(w)
        # both are means of n values of the same function: they agree to rounding, far below 1e-12
        assert abs(ours.loss - theirs[0]) <= 1e-12 * abs(ours.loss)
        assert np.linalg.norm(ours.grad - theirs[1]) <= 1e-12 * np.linalg.norm(ours.grad)


def lbfgsb(objective, w0, maxiter, callback=None):
    return scipy.optimize.minimize(objective, w0, jac=True, method="L-BFGS-B", callback=callback,
                                   options=dict(maxiter=maxiter, maxfun=10 * maxiter, gtol=0.0, ftol=0.0, maxcor=10))


def sample_rows(rows, n, dim, loss):
    population = random_halfspace(dim, 20.0, loss=loss, seed=0)
    X, y = population.sample(n, seed=1)
    problem = lib.Halfspace.from_data(X, y, loss=loss)
    sample_solver_rows(rows, f"halfspace sample n={n:g} d={dim} {loss}", problem, X, y)


def sample_solver_rows(rows, name, problem, X, y, budget=2000):
    dim, n = problem.dim, problem.n
    objective = SampleObjective(problem)
    check_objective(problem, objective)
    Z, r, w1 = problem.Z, np.ones(n), np.ones(dim)
    floor = timed(lambda: Z.T @ (Z @ w1 + r), repeats=51)[0]
    w0 = np.ones(dim) / np.sqrt(np.ones(dim) @ problem.S @ np.ones(dim))
    for method, solver in {"lib.locally_optimal": lib.locally_optimal, "lib.momentum_gdnp": lib.momentum_gdnp,
                           "lib.gdnp": lib.gdnp, "lib.gd": lib.gd}.items():
        try:
            trace = solver(problem, w0, iterations=budget).trace["grad_norm_sq"]
        except lib.DivergenceError as error:
            trace = error.result.trace["grad_norm_sq"]
        hits = np.flatnonzero(trace <= SAMPLE_TARGET)
        if not hits.size:
            rows.append(dict(problem=name, method=method, iterations=None,
                             note=f"not reached in {budget}: best grad_norm_sq {np.min(trace):.1e}"))
            continue
        k = int(hits[0])
        timing = timed(lambda: solver(problem, w0, iterations=k), repeats=3)
        row(rows, name, method, k, timing, floor)
    iterates = []
    lbfgsb(objective, w0, 10 * budget, callback=lambda x: iterates.append(np.array(x)))
    norms = [float(g @ problem.S_inv @ g) for g in (objective(x)[1] for x in iterates)]
    hits = np.flatnonzero(np.asarray(norms) <= SAMPLE_TARGET)
    k = int(hits[0]) + 1 if hits.size else None
    timing = timed(lambda: lbfgsb(objective, w0, k), repeats=3) if k else (np.nan,) * 4
    row(rows, name, "scipy L-BFGS-B", k, timing, floor)
    sklearn_rows(rows, name, problem, X, y, floor)


def sklearn_fit(X, y, solver, tol, max_iter=100_000):
    """scikit-learn's unregularised logistic regression without intercept on (X, y)."""
    model = LogisticRegression(C=np.inf, fit_intercept=False, solver=solver, tol=tol, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def check_sklearn_objective(problem, X, y):
    """sklearn's mean -log p(y|x) at random w against lib's loss, to 1e-12 relative (the same objective)."""
    model = LogisticRegression(C=np.inf, fit_intercept=False)
    model.classes_, model.intercept_ = np.array([-1.0, 1.0]), np.zeros(1)
    check = np.random.default_rng(3)
    column, dim = (y > 0).astype(int), problem.dim
    for _ in range(5):
        w = check.standard_normal(dim) / np.sqrt(dim)
        model.coef_ = w[None, :]
        theirs = -float(np.mean(model.predict_log_proba(X)[np.arange(len(y)), column]))
        ours = problem.evaluate(w).loss
        # a mean of n logs of the same probabilities: rounding of a few eps relative, far below 1e-12
        assert abs(ours - theirs) <= 1e-12 * abs(ours), (ours, theirs)


def sklearn_rows(rows, name, problem, X, y, floor):
    """sklearn's lbfgs and newton-cg: the largest tol whose fit meets the target, then timed at that tol."""
    if problem.loss_function.name != "logistic":
        for solver in ("lbfgs", "newton-cg"):
            rows.append(dict(problem=name, method=f"sklearn LogisticRegression({solver})", iterations=None,
                             note="no squared-sigmoid loss in sklearn: cannot be matched"))
        return
    check_sklearn_objective(problem, X, y)
    for solver in ("lbfgs", "newton-cg"):
        reached, best = None, np.inf
        for tol in 10.0 ** -np.arange(4, 17):
            w = sklearn_fit(X, y, solver, tol).coef_[0]
            grad = problem.evaluate(w).grad
            best = min(best, float(grad @ problem.S_inv @ grad))
            if best <= SAMPLE_TARGET:
                reached = tol
                break
        method = f"sklearn LogisticRegression({solver})"
        if reached is None:
            rows.append(dict(problem=name, method=method, iterations=None,
                             note=f"not reached: best grad_norm_sq {best:.1e} (tol down to 1e-16)"))
            continue
        timing = timed(lambda: sklearn_fit(X, y, solver, reached), repeats=3)
        row(rows, name, f"{method}, tol {reached:.0e}", int(timing[3].n_iter_[0]), timing, floor)


def breast_cancer_rows(rows):
    """The breast-cancer data (569 x 30), standardised, labels -1/+1: inputs far from Gaussian."""
    data = load_breast_cancer()
    X = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    y = 2.0 * data.target - 1.0
    problem = lib.Halfspace.from_data(X, y, loss="logistic")
    sample_solver_rows(rows, "breast cancer n=569 d=30 logistic", problem, X, y, budget=5000)


# ---------------------------------------------------------------- cost per iteration over the floor (item 3)
def floor_rows(library=lib, repeats=REPEATS):
    """Seconds per iteration of ``library``'s gd and gdnp over the floor, side by side (list of rows).

    ``library`` is ``lib`` or another copy of it (a former version, to compare in the same run).
    Least squares: d = 200 and 1000, kappa = 1000, from w0 = u, the default trace; the floor is
    one product S v. Samples: n = 2e4, d = 50, kappa = 20, T_s = 5 and 10; the floor is the two
    passes Z^T (Z w + r). The runs are long enough (0.1 s and more) for the timer.
    """
    rows = []
    for dim, iterations in ((200, 2000), (1000, 100)):
        source = random_least_squares(dim, 1000.0, seed=0)
        problem = library.LeastSquares(source.S, source.u)
        v, S = np.ones(dim), problem.S
        for name in ("gd", "gdnp"):
            solver = getattr(library, name)
            ratio = floor_ratio(lambda: solver(problem, source.u, iterations=iterations), lambda: S @ v, iterations, repeats)
            rows.append(dict(problem=f"least squares d={dim} kappa=1000", method=name, target=2.0, ratio=ratio))
    for loss in ("logistic", "squared_sigmoid"):
        population = random_halfspace(50, 20.0, loss=loss, seed=0)
        X, y = population.sample(20_000, seed=1)
        problem = library.Halfspace.from_data(X, y, loss=loss)
        Z, r, w1 = problem.Z, np.ones(problem.n), np.ones(problem.dim)
        floor = lambda: Z.T @ (Z @ w1 + r)
        for steps in (5, 10):
            ratio = floor_ratio(lambda: library.gdnp(problem, w1, iterations=60, bisection_steps=steps), floor, 60, repeats)
            rows.append(dict(problem=f"halfspace sample n=2e4 d=50 {loss}", method=f"gdnp T_s={steps}",
                             target=2.0 + 0.3 * steps, ratio=ratio))
        ratio = floor_ratio(lambda: library.gd(problem, w1, iterations=60), floor, 60, repeats)
        rows.append(dict(problem=f"halfspace sample n=2e4 d=50 {loss}", method="gd", target=None, ratio=ratio))
    return rows


def floor_table(rows, labels=("lib",)) -> str:
    """The floor rows; with several labels, ``rows`` is a list of row lists, one per library, side by side."""
    columns = rows if len(labels) > 1 else [rows]
    lines = ["| problem | method | " + " | ".join(f"{label}: per iteration / floor (median, min-max)" for label in labels)
             + " | target | met |", "|---|---|" + "---:|" * len(labels) + "---:|---|"]
    for parts in zip(*columns):
        first, last = parts[0], parts[-1]
        cells = " | ".join(f"{part['ratio'][0]:.2f} ({part['ratio'][1]:.2f}-{part['ratio'][2]:.2f})" for part in parts)
        target = first["target"]
        met = "" if target is None else ("yes" if last["ratio"][0] <= target else "no")
        lines.append(f"| {first['problem']} | {first['method']} | {cells} | "
                     f"{'' if target is None else f'{target:.1f}'} | {met} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- locally optimal against L-BFGS-B (item 2)
def halfspace_target_rows(sizes, repeats=3):
    """Wall time of lib.locally_optimal and scipy's L-BFGS-B to ||grad f||^2_{S^-1} <= 1e-16, alternating runs.

    For each sample the objectives are checked equal first (:class:`SampleObjective`, to 1e-12);
    each method's iterations to the target come from a first run, and the timed runs make exactly
    those iterations. Returns rows with the two medians (and min-max) and their ratio.
    """
    rows = []
    for n, dim in sizes:
        for loss in ("logistic", "squared_sigmoid"):
            population = random_halfspace(dim, 20.0, loss=loss, seed=0)
            X, y = population.sample(n, seed=1)
            problem = lib.Halfspace.from_data(X, y, loss=loss)
            objective = SampleObjective(problem)
            check_objective(problem, objective)
            w0 = np.ones(dim) / np.sqrt(np.ones(dim) @ problem.S @ np.ones(dim))
            lo = lib.locally_optimal(problem, w0, iterations=400).iterations_to("grad_norm_sq", SAMPLE_TARGET)
            iterates = []
            lbfgsb(objective, w0, 4000, callback=lambda x: iterates.append(np.array(x)))
            norms = np.array([float(g @ problem.S_inv @ g) for g in (objective(x)[1] for x in iterates)])
            hits = np.flatnonzero(norms <= SAMPLE_TARGET)
            lb = int(hits[0]) + 1 if hits.size else None
            name = f"halfspace sample n={n:g} d={dim} {loss}"
            if lo is None or lb is None:
                rows.append(dict(problem=name, lo=lo, lb=lb))
                continue
            seconds = {"lo": [], "lb": []}
            for _ in range(repeats):
                for key, run in (("lo", lambda: lib.locally_optimal(problem, w0, iterations=lo)),
                                 ("lb", lambda: lbfgsb(objective, w0, lb))):
                    start = time.perf_counter()
                    run()
                    seconds[key].append(time.perf_counter() - start)
            rows.append(dict(problem=name, lo=lo, lb=lb, seconds=seconds))
            print(halfspace_target_table(rows), file=sys.stderr, flush=True)
    return rows


def halfspace_target_table(rows) -> str:
    lines = ["| problem | lib.locally_optimal: its, ms (median, min-max) | scipy L-BFGS-B: its, ms | "
             "ratio of medians | target (<= 1) met |", "|---|---|---|---:|---|"]
    for r in rows:
        if "seconds" not in r:
            lines.append(f"| {r['problem']} | {r['lo'] or 'not reached'} | {r['lb'] or 'not reached'} | | no |")
            continue
        cells = []
        for key in ("lo", "lb"):
            values = r["seconds"][key]
            cells.append(f"{r[key]}, {1e3 * statistics.median(values):.3g} ({1e3 * min(values):.3g}-{1e3 * max(values):.3g})")
        ratio = statistics.median(r["seconds"]["lo"]) / statistics.median(r["seconds"]["lb"])
        lines.append(f"| {r['problem']} | {cells[0]} | {cells[1]} | {ratio:.2f} | {'yes' if ratio <= 1.0 else 'no'} |")
    return "\n".join(lines)


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
            lines.append(f"| {r['problem']} | {r['method']} | {r.get('note', 'not reached')} | | | |")
            continue
        lines.append(f"| {r['problem']} | {r['method']} | {r['iterations']} | {1e3 * r['median']:.3g} ms "
                     f"({1e3 * r['low']:.3g}-{1e3 * r['high']:.3g}) | {r['floor_ratio']:.3g} | "
                     f"{r['median'] / best[r['problem']]:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add d = 1000 for GD and GDNP, and n = 2e5")
    parser.add_argument("--part", choices=("all", "least-squares", "samples", "floor", "halfspace-target"),
                        default="all", help="run only one part of the tables (default: all)")
    options = parser.parse_args(argv)
    rows = []
    with threadpool_limits(limits=1):
        if options.part in ("all", "floor"):
            print("Cost per iteration over the floor (one BLAS thread; each ratio: a run and, right after it, "
                  f"as many floor operations; median of {REPEATS} with min-max)\n")
            print(floor_table(floor_rows()), "\n", flush=True)
        if options.part in ("all", "halfspace-target"):
            sizes = [(20_000, 50), (200_000, 100)]
            print("lib.locally_optimal against scipy's L-BFGS-B, wall time to ||grad f||^2_{S^-1} <= 1e-16 "
                  "(objectives checked equal to 1e-12 first; runs alternating, 3 each)\n")
            print(halfspace_target_table(halfspace_target_rows(sizes)), "\n", flush=True)
        if options.part in ("floor", "halfspace-target"):
            return
        if options.part in ("all", "least-squares"):
            for kappa in (10.0, 100.0, 1000.0, 1e4):
                least_squares_rows(rows, 200, kappa, slow=True)
                progress(rows)
            least_squares_rows(rows, 1000, 1e4, slow=options.full)
            progress(rows)
        if options.part in ("all", "samples"):
            for loss in ("logistic", "squared_sigmoid"):
                sample_rows(rows, 20_000, 50, loss)
                progress(rows)
            breast_cancer_rows(rows)
            progress(rows)
            if options.full:
                sample_rows(rows, 200_000, 100, "logistic")
    print(table(rows))


def progress(rows) -> None:
    """The table so far, on stderr: a long run that is stopped still leaves what it measured."""
    print(table(rows), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
