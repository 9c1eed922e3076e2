"""GDNP against gradient descent on halfspaces: time per iteration and time to a small gradient.

Run with ``.venv/bin/python benchmarks/halfspaces.py``. Two forms of the same Gaussian model
(d = 50, kappa = 20, u^T S^-1 u = 0.5): a sample of n = 20 000 points, where an iteration of
either method makes two passes over the data, and the population form, where every
expectation is a one-dimensional quadrature. For each loss and number of bisection steps T_s,
GDNP and GD (with the best of the steps {1, 4, 16, 64}/zeta) start from the same point and run
side by side in this process; per-iteration times are medians over REPEATS alternating runs.
The first line measures the floor: the two passes X @ w and X.T @ r alone.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import lib
from lib.book.experiments import tune_gd_step
from lib.problems.instances import random_halfspace

N, DIM, KAPPA = 20_000, 50, 20.0
ITERATIONS = 300
TARGET = 1e-10  # ||grad f||^2_{S^-1}
REPEATS = 3


def per_iteration(solver, *args, **kwargs):
    """Median seconds per iteration over REPEATS runs, and the last run."""
    seconds = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = solver(*args, **kwargs)
        seconds.append((time.perf_counter() - start) / result.iterations)
    return statistics.median(seconds), result


def best_gd(problem, w_tilde0):
    """GD's best step of {1, 4, 16, 64}/zeta (the plain grid: no widening, no refinement) and its run."""
    sweep = tune_gd_step(lambda step: lib.gd(problem, w_tilde0, iterations=ITERATIONS, step=step), problem.smoothness,
                         refinements=0, max_widenings=0)
    return round(sweep.best_factor), sweep.best


def two_passes(problem) -> float:
    Z, w, r = problem.Z, np.ones(problem.dim), np.ones(problem.n)
    samples = []
    for _ in range(200):
        start = time.perf_counter()
        Z.T @ (Z @ w + r)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    rng = np.random.default_rng(2026)
    header = (f"{'form':>10} {'loss':>15} {'T_s':>4} | {'GDNP us/it':>10} {'GD us/it':>9} {'ratio':>6} | "
              f"{'GDNP its':>8} {'GD its':>7} {'GD step':>8} | {'GDNP ms':>8} {'GD ms':>7}")
    floor_reported = False
    print(header)
    print("-" * len(header))
    for form in ("sample", "population"):
        for loss in ("logistic", "squared_sigmoid"):
            population = random_halfspace(DIM, KAPPA, 0.5, loss, seed=1)
            problem = population if form == "population" else lib.Halfspace.from_data(*population.sample(N, seed=2), loss=loss)
            if form == "sample" and not floor_reported:
                print(f"{'(floor: X @ w and X.T @ r alone, n = %d, d = %d: %.0f us)' % (N, DIM, two_passes(problem) * 1e6)}")
                floor_reported = True
            w0 = rng.standard_normal(DIM)
            first = lib.gdnp(problem, w0, iterations=1)
            w_tilde0 = first.trace["length"][0] * first.info["w0_hat"]
            factor, _ = best_gd(problem, w_tilde0)
            for steps in (5, 10, 20):
                gdnp_time, gdnp_run = per_iteration(lib.gdnp, problem, w0, iterations=ITERATIONS, bisection_steps=steps)
                gd_time, gd_run = per_iteration(lib.gd, problem, w_tilde0, iterations=ITERATIONS, step=factor / problem.smoothness)
                reached = {name: run.iterations_to("grad_norm_sq", TARGET) for name, run in (("gdnp", gdnp_run), ("gd", gd_run))}
                to_ms = lambda key, t: "-" if reached[key] is None else f"{reached[key] * t * 1e3:.0f}"
                show = lambda key: "-" if reached[key] is None else str(reached[key])
                print(f"{form:>10} {loss:>15} {steps:>4} | {gdnp_time * 1e6:>10.0f} {gd_time * 1e6:>9.0f} "
                      f"{gdnp_time / gd_time:>6.2f} | {show('gdnp'):>8} {show('gd'):>7} {f'{factor}/zeta':>8} | "
                      f"{to_ms('gdnp', gdnp_time):>8} {to_ms('gd', gd_time):>7}")
    print(f"\nits / ms: iterations and milliseconds to ||grad f||^2 <= {TARGET:g} within {ITERATIONS} iterations "
          f"('-': not reached); GD uses its best step from {{1, 4, 16, 64}}/zeta, zeta = sup|phi''| L.")


if __name__ == "__main__":
    main()
