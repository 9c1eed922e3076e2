"""GDNP against gradient descent on least squares: iterations to a 1e-10 relative gap, and time.

Run with ``.venv/bin/python benchmarks/least_squares.py``. For each (d, kappa) both methods
start from the same point (GD from w~0 = g*(w0) w0/||w0||_S, so both start from the same gap)
and run side by side in this process; each timing is the median of ``REPEATS`` runs,
alternating the two methods so that both see the same machine state. Times include the
per-iteration trace that both solvers record (its S^-1-norms computed per block of iterates,
one BLAS-3 product with S^-1), as a user sees them; ``benchmarks/peers.py --part floor`` divides
them by the floor, one product S v.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import lib
from lib.instances import random_least_squares

CASES = [(10, 10.0), (50, 100.0), (200, 100.0), (200, 1000.0)]
TARGET = 1e-10  # relative gap (f - f*) / (f0 - f*)
REPEATS = 5


def timed(solver, *args, **kwargs):
    start = time.perf_counter()
    result = solver(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(2026)
    header = (f"{'d':>5} {'kappa':>7} | {'GDNP iters':>10} {'GD iters':>9} {'bound':>7} | "
              f"{'GDNP us/it':>10} {'GD us/it':>9} {'GDNP/GD':>8}")
    print(header)
    print("-" * len(header))
    for dim, kappa in CASES:
        problem = random_least_squares(dim, kappa, seed=rng)
        w0 = rng.standard_normal(dim)
        w_tilde0 = lib.to_w_tilde(problem.ray(w0).exact_minimizer(), w0, problem.S)
        bound = int(np.ceil(np.log(TARGET) / np.log(problem.rate)))
        iterations = bound + 10
        times = {"gdnp": [], "gd": []}
        for _ in range(REPEATS):
            gdnp_run, seconds = timed(lib.gdnp, problem, w0, iterations=iterations)
            times["gdnp"].append(seconds / iterations)
            gd_run, seconds = timed(lib.gd, problem, w_tilde0, iterations=iterations)
            times["gd"].append(seconds / iterations)
        needed = {name: run.iterations_to("loss_gap", TARGET * run.trace["loss_gap"][0])
                  for name, run in (("gdnp", gdnp_run), ("gd", gd_run))}
        per_iteration = {name: statistics.median(values) * 1e6 for name, values in times.items()}
        print(f"{dim:>5} {kappa:>7.0f} | {needed['gdnp']:>10} {needed['gd']:>9} {bound:>7} | "
              f"{per_iteration['gdnp']:>10.1f} {per_iteration['gd']:>9.1f} "
              f"{per_iteration['gdnp'] / per_iteration['gd']:>8.2f}")
    print(f"\n'bound': iterations after which (1 - mu/L)^(2T) <= {TARGET:g}; times: median of {REPEATS} runs")


if __name__ == "__main__":
    main()
