"""The solver protocol: one trace, callbacks that can stop a run, length searches as objects, the Problem protocol."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lib
from lib.core.protocols import ExactRay, KnownMinimum, Problem, Ray
from lib.problems.instances import random_halfspace, random_least_squares, rng_from
from lib.solvers.length_search import BisectionLength, ClosedFormLength

ROOT = Path(__file__).resolve().parents[1]

SOLVERS = {
    "gd": lambda problem, w0, **options: lib.gd(problem, w0, **options),
    "gdnp": lambda problem, w0, **options: lib.gdnp(problem, w0, **options),
    "bngd": lambda problem, w0, **options: lib.bngd(problem, w0, **options),
    "heavy_ball": lambda problem, w0, **options: lib.heavy_ball(problem, w0, **options),
    "momentum_gdnp": lambda problem, w0, **options: lib.momentum_gdnp(problem, w0, **options),
    "locally_optimal": lambda problem, w0, **options: lib.locally_optimal(problem, w0, **options),
    "rayleigh_ritz": lambda problem, w0, **options: lib.rayleigh_ritz(problem, w0, **options),
}


@pytest.fixture
def least_squares():
    return random_least_squares(8, 50.0, seed=3)


@pytest.mark.parametrize("name", SOLVERS)
def test_a_callback_returning_true_stops_the_run_at_that_iterate(name, least_squares):
    seen = []

    def callback(intermediate_result):
        seen.append(intermediate_result.t)
        return intermediate_result.t == 3

    result = SOLVERS[name](least_squares, np.ones(8), iterations=20, callback=callback)
    assert seen == [0, 1, 2, 3]
    assert result.info["stopped_by_callback"] == 3
    assert len(result.trace["loss"]) == 4  # the iterates 0..3
    assert all(len(result.trace[key]) == 3 for key in ("step",) if key in result.trace)  # the steps between them


@pytest.mark.parametrize("name", SOLVERS)
def test_stop_iteration_stops_the_run_and_the_older_callback_still_works(name, least_squares):
    def older(t, w_tilde, g, w):
        if t == 2:
            raise StopIteration

    result = SOLVERS[name](least_squares, np.ones(8), iterations=20, callback=older)
    assert result.info["stopped_by_callback"] == 2 and len(result.trace["loss"]) == 3


def test_the_intermediate_result_is_the_recorded_iterate(least_squares):
    states = []
    result = lib.gdnp(least_squares, np.ones(8), iterations=5,
                      callback=lambda intermediate_result: states.append(intermediate_result))
    assert [s.t for s in states] == list(range(6))
    # the callback receives the values the trace records, copied without arithmetic
    assert [s.loss for s in states] == list(result.trace["loss"])  # exact: the same floats, recorded and passed
    assert [s.g for s in states] == list(result.trace["length"])  # exact: the same floats, recorded and passed


def test_unitwise_gdnp_takes_both_callbacks_and_stops():
    X = rng_from(2).standard_normal((200, 4))
    y = np.sign(X @ np.ones(4) + 0.3 * rng_from(3).standard_normal(200))
    network = lib.HiddenLayerNetwork(X, y, theta=np.array([1.0, -0.5]))
    W0 = rng_from(4).standard_normal((2, 4))
    units = []
    full = lib.unitwise_gdnp(network, W0, sweeps=1, steps_per_unit=5, callback=lambda unit, W: units.append(unit))
    assert units == list(full.trace["unit"].astype(int))  # exact: unit indices, integers stored as floats
    stopped = lib.unitwise_gdnp(network, W0, sweeps=2, steps_per_unit=5,
                                callback=lambda intermediate_result: intermediate_result.t >= 4)
    assert stopped.info["stopped_by_callback"] == 4 and len(stopped.trace["loss"]) == 5


def test_network_gd_takes_both_callbacks_and_stops():
    X = rng_from(2).standard_normal((200, 4))
    y = np.sign(X @ np.ones(4) + 0.3 * rng_from(3).standard_normal(200))
    network = lib.HiddenLayerNetwork(X, y, theta=np.array([1.0, -0.5]))
    W0 = rng_from(4).standard_normal((2, 4))
    seen = []
    full = lib.network_gd(network, W0, iterations=6, callback=lambda t, W: seen.append((t, W)))
    assert [t for t, _ in seen] == list(range(7)) and np.array_equal(seen[-1][1], full.w_tilde)  # exact: a copy
    stopped = lib.network_gd(network, W0, iterations=6, callback=lambda intermediate_result: intermediate_result.t == 2)
    assert stopped.info["stopped_by_callback"] == 2 and len(stopped.trace["loss"]) == 3 and len(stopped.trace["step"]) == 2


@pytest.mark.parametrize("name", ["network_adam", "network_bn_gd"])
def test_adam_and_bn_gd_take_both_callbacks_and_stop(name):
    """network_adam and network_bn_gd took only callback(t, W) and built their trace by hand."""
    X = rng_from(2).standard_normal((200, 4))
    y = np.sign(X @ np.ones(4) + 0.3 * rng_from(3).standard_normal(200))
    network = lib.HiddenLayerNetwork(X, y, theta=np.array([1.0, -0.5]))
    W0, trainer = rng_from(4).standard_normal((2, 4)), getattr(lib.network_training, name)
    states = []
    full = trainer(network, W0, iterations=6, step=0.05, callback=lambda intermediate_result: states.append(intermediate_result))
    assert [state.t for state in states] == list(range(7)) and "stopped_by_callback" not in full.info
    # the reported state is the recorded one: the loss at w_tilde, its rows split into g and w
    for state in states:
        np.testing.assert_allclose(state.loss, network.loss(state.w_tilde), rtol=1e-12)
        np.testing.assert_allclose(state.g[:, None] * state.w, state.w_tilde, rtol=1e-12, atol=1e-15)
    stopped = trainer(network, W0, iterations=6, step=0.05, callback=lambda intermediate_result: intermediate_result.t == 2)
    assert stopped.info["stopped_by_callback"] == 2 and len(stopped.trace["loss"]) == 3
    np.testing.assert_allclose(stopped.trace["loss"], full.trace["loss"][:3], rtol=1e-12)


def test_bn_gd_with_a_huge_step_raises_divergence():
    """network_bn_gd with a step far above 2/zeta returned NaN weights without raising."""
    X = rng_from(2).standard_normal((200, 4))
    y = np.sign(X @ np.ones(4) + 0.3 * rng_from(3).standard_normal(200))
    network = lib.HiddenLayerNetwork(X, y, theta=np.array([1.0, -0.5]))
    with pytest.raises(lib.DivergenceError, match="bn-sgd diverged at iteration") as caught:
        lib.network_training.network_bn_gd(network, rng_from(4).standard_normal((2, 4)), iterations=5, step=1e300)
    assert np.all(np.isfinite(caught.value.result.trace["loss"]))


def test_the_length_search_is_an_object_passed_to_gdnp():
    problem = random_halfspace(5, 10.0, seed=1)
    by_arguments = lib.gdnp(problem, np.ones(5), iterations=6, bisection_steps=8)
    by_object = lib.gdnp(problem, np.ones(5), iterations=6, length_search=BisectionLength(8))
    # the same search, chosen two ways: the same arithmetic, so the same iterates
    np.testing.assert_allclose(by_object.trace["length"], by_arguments.trace["length"], rtol=1e-15, atol=0)
    assert by_object.info["length_search"] == "bisection" and by_object.info["bisection_steps"] == 8
    with pytest.raises(ValueError, match="no closed-form optimal length"):
        lib.gdnp(problem, np.ones(5), length_search=ClosedFormLength())
    with pytest.raises(ValueError, match="not both"):
        lib.gdnp(problem, np.ones(5), bisection_steps=4, length_search=BisectionLength(4))
    with pytest.raises(TypeError, match="length_search must be"):
        lib.gdnp(problem, np.ones(5), length_search="bisection")


def test_the_problems_satisfy_the_protocols(least_squares):
    halfspace = random_halfspace(4, 5.0, seed=0)
    sample = lib.Halfspace.from_data(*halfspace.sample(500, seed=1))
    for problem in (least_squares, halfspace, sample):
        assert isinstance(problem, Problem) and isinstance(problem.ray(np.ones(problem.dim)), Ray)
    assert isinstance(least_squares.ray(np.ones(8)), ExactRay) and not isinstance(halfspace.ray(np.ones(4)), ExactRay)
    assert isinstance(least_squares, KnownMinimum) and not isinstance(halfspace, KnownMinimum)


def test_a_wrong_problem_is_told_what_it_lacks():
    with pytest.raises(TypeError, match="problem must be one of the book's problems.*lacks"):
        lib.gd(object(), np.ones(3))


def _private_imports_across_modules() -> list[str]:
    found = []
    for path in (ROOT / "lib").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {alias.name}" for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_private_name_is_imported_across_modules():
    assert not _private_imports_across_modules()


def test_import_lib_loads_neither_torch_nor_matplotlib():
    code = "import sys, lib; assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_old_module_paths_are_the_new_modules():
    import lib.instances
    import lib.maths.rayleigh
    import lib.rayleigh
    assert lib.rayleigh is lib.maths.rayleigh and lib.instances.random_least_squares is random_least_squares
    assert lib.bngd is sys.modules["lib.solvers.bngd"].bngd  # the function, as before the move, not its module
