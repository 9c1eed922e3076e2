"""lib.experiments: pinned threads, alternating repeats, step tuning and seed spreads."""

import math

import matplotlib
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import lib
from lib.experiments import median_time_trace, pin_threads, plot_spread, repeat_alternately, spread, tune_step

matplotlib.use("Agg")


def test_pin_threads_limits_every_pool_and_torch():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        # two threads first: `make test` runs with one BLAS and OpenMP thread already, where a
        # pin_threads that did nothing would pass
        threadpool_limits(2)
        torch.set_num_threads(2)
        described = pin_threads(1)
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        assert torch.get_num_threads() == 1 and "torch 1" in described
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="threads"):
        pin_threads(0)


def test_repeat_alternately_takes_turns():
    calls = []
    results = repeat_alternately({"a": lambda: calls.append("a") or len(calls), "b": lambda: calls.append("b") or len(calls)}, 3)
    assert calls == ["a", "b"] * 3
    assert results == {"a": [1, 3, 5], "b": [2, 4, 6]}
    with pytest.raises(ValueError, match="empty"):
        repeat_alternately({})


class _Run:
    def __init__(self, times, norms):
        self.trace = {"time": np.asarray(times, dtype=float), "grad_norm_sq": np.asarray(norms, dtype=float)}


def test_median_time_trace_is_the_entrywise_median_of_repeats():
    norms = [1.0, 0.5, 0.25]
    runs = [_Run([0, 1, 2], norms), _Run([0, 5, 6], norms), _Run([0, 2, 9], norms)]
    # a median of three copies of the same numbers is one of them: no rounding, so any tolerance would do
    np.testing.assert_allclose(median_time_trace(runs), [0.0, 2.0, 6.0], rtol=1e-15, atol=0.0)
    with pytest.raises(ValueError, match="not repeats"):
        median_time_trace([_Run([0, 1, 2], norms), _Run([0, 1, 2], [1.0, 0.5, 0.3])])
    with pytest.raises(ValueError, match="empty"):
        median_time_trace([])


def test_tune_step_widens_the_grid_until_the_best_step_is_inside_then_refines():
    tried = []

    def run(step):
        tried.append(step)
        if step > 100.0:
            raise lib.DivergenceError("too large", None)
        return (math.log(step) - math.log(3.0)) ** 2  # best at 3, unimodal in log(step)

    sweep = tune_step(run, [0.01, 0.1], score=lambda result: result, refinements=2)
    assert sweep.inside and np.all(np.diff(sweep.steps) > 0)
    # the grid of ratio 10 widened up to 10 and 100, then refined twice: ratio 10^(1/4) around the best
    assert abs(math.log(sweep.best_step / 3.0)) <= math.log(10.0) / 8 + 1e-12
    assert sweep.best == sweep.results[sweep.best_index] == min(r for r in sweep.results if r is not None)
    boxed = tune_step(run, [0.01, 0.1], score=lambda result: result, max_widenings=0)
    assert not boxed.inside and boxed.best_index == len(boxed.steps) - 1 and len(boxed.steps) == 2
    diverging = tune_step(run, [1e3, 1e4], score=lambda result: result)  # widens downwards past the divergence
    assert diverging.inside and diverging.results[-1] is None
    with pytest.raises(ValueError, match="two distinct positive"):
        tune_step(run, [1.0, 1.0], score=lambda result: result)


def test_spread_and_its_format():
    s = spread([3.0, 1.0, 2.0, np.inf])
    assert s.count == 4 and np.isinf(s.high) and np.allclose([s.median, s.low], [2.5, 1.0], rtol=1e-15, atol=0.0)
    assert format(spread([1.0, 2.0, 3.0]), ".1f") == "2.0 [1.0, 3.0]"
    with pytest.raises(ValueError, match="NaN"):
        spread([1.0, np.nan])
    with pytest.raises(ValueError, match="NaN"):
        spread([])


def test_plot_spread_draws_medians_and_ranges_of_the_finite_values():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    bars = plot_spread(ax, [1.0, 2.0, 3.0], [[1.0, 2.0, 4.0], [np.inf, 5.0, 7.0], [np.inf, np.inf, np.nan]])
    x, y = bars.lines[0].get_data()
    np.testing.assert_allclose(x, [1.0, 2.0], rtol=1e-15, atol=0.0)  # the third point has no finite value
    np.testing.assert_allclose(y, [2.0, 6.0], rtol=1e-15, atol=0.0)  # medians of 1, 2, 4 and of 5, 7
    with pytest.raises(ValueError, match="shape"):
        plot_spread(ax, [1.0, 2.0], [[1.0]])
    plt.close(fig)


def test_run_chapter_sets_the_scale_of_a_notebook():
    import importlib.util
    from pathlib import Path

    import nbformat

    path = Path(__file__).resolve().parents[1] / "experiments" / "run_chapter.py"
    spec = importlib.util.spec_from_file_location("run_chapter", path)
    run_chapter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_chapter)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("SCALE = 1"),
                                               nbformat.v4.new_code_cell("import math\nSCALE = 1\nSCALE_TOO = 1")])
    assert run_chapter.with_scale(notebook, 3).cells[1].source == "import math\nSCALE = 3\nSCALE_TOO = 1"
    assert notebook.cells[0].source == "SCALE = 1"  # markdown is left alone
    with pytest.raises(ValueError, match="no line 'SCALE = 1'"):
        run_chapter.with_scale(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), 2)


def test_tune_gd_step_is_the_book_grid_over_zeta_widened_and_refined():
    from lib.experiments import GD_STEP_FACTORS, tune_gd_step
    from lib.instances import random_halfspace

    problem = random_halfspace(5, 10.0, 0.5, "logistic", seed=1)
    w_tilde0 = np.random.default_rng(2).standard_normal(5)
    zeta = problem.smoothness
    tried = []

    def run(step):
        tried.append(step * zeta)
        return lib.gd(problem, w_tilde0, iterations=30, step=step)

    sweep = tune_gd_step(run, zeta)
    # the first four runs are the grid {1, 4, 16, 64}/zeta, in this order; one refinement adds two more
    np.testing.assert_allclose(tried[:4], GD_STEP_FACTORS, rtol=1e-14, atol=0.0)  # (c/zeta) zeta: a few ulps
    assert sweep.inside and len(tried) == 6
    scores = [r.trace["grad_norm_sq"][-1] if r is not None else np.inf for r in sweep.results]
    assert sweep.best is sweep.results[int(np.argmin(scores))]  # the best run scores lowest among those tried
    np.testing.assert_allclose(sweep.best_factor, sweep.best_step * zeta, rtol=1e-14, atol=0.0)
    np.testing.assert_allclose(sweep.best.info["step"] * zeta, sweep.best_factor, rtol=1e-14, atol=0.0)
    # refinements=0, max_widenings=0: the plain best of the grid, scored by a custom score
    tried.clear()
    plain = tune_gd_step(run, zeta, factors=(4.0, 16.0), score=lambda r: r.trace["loss"][-1], refinements=0,
                         max_widenings=0)
    assert len(tried) == 2 and plain.best_factor in (pytest.approx(4.0, rel=1e-14), pytest.approx(16.0, rel=1e-14))
    losses = [r.trace["loss"][-1] for r in plain.results]
    assert plain.best_index == int(np.argmin(losses))
    with pytest.raises(ValueError, match="zeta"):
        tune_gd_step(run, -1.0)
    with pytest.raises(ValueError, match="factors"):
        tune_gd_step(run, zeta, factors=(4.0,))


def test_breast_cancer_is_scikit_learns_data():
    from sklearn.datasets import load_breast_cancer

    from lib.book.datasets import breast_cancer

    X, target = breast_cancer()
    reference = load_breast_cancer()
    # the same decimal strings parsed by the same float parser: equal to the bit, so any tolerance would do
    np.testing.assert_allclose(X, reference.data, rtol=1e-15, atol=0.0)
    np.testing.assert_array_equal(target, reference.target)  # exact: integer labels 0 and 1 read from one file, no arithmetic


def test_tune_gd_step_scores_by_the_final_gradient_norm_by_default():
    from lib.experiments import tune_gd_step

    class Run:  # the gradient norm prefers the step 8/zeta, the loss the largest step: only the first may decide
        def __init__(self, factor):
            self.trace = {"grad_norm_sq": np.array([1.0, math.log(factor / 8.0) ** 2]), "loss": np.array([0.0, -factor])}

    zeta = 3.0
    sweep = tune_gd_step(lambda step: Run(step * zeta), zeta)
    # {1, 4, 16, 64}: best 4 or 16 (tied), one refinement tries sqrt(4 * 16) = 8: exact to a few ulps
    np.testing.assert_allclose(sweep.best_factor, 8.0, rtol=1e-14, atol=0.0)
