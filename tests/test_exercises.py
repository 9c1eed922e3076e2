"""The self-checks of the coding exercises (lib.exercises): they pass the references and fail wrong code.

Also the hidden cases, partial credit, what grading records in the kernel, and the transport of
outcomes between processes.
"""

import json

import numpy as np
import pytest

import lib
from lib import exercises
from lib.exercises import ExerciseFailure
from lib.exercises import transport
from lib.exercises.checker import Case, CodingExercise, Outcome, RaisedError, call
from lib.exercises.comparison import describe_difference
from lib.instances import random_halfspace, random_least_squares
from lib.solvers import gdnp_step_size

EXERCISES = list(exercises.EXERCISES.values())


def _sigmoid(t):
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e)), e / (1 + e) ** 2


def _overflowing_squared_sigmoid(t):
    """Right formulas, but exp(-t) overflows for t < -709."""
    s, slope = 1 / (1 + np.exp(-t)), np.exp(-t) / (1 + np.exp(-t)) ** 2
    return 2 * s * slope, 2 * s * slope * (2 - 3 * s)


def _bisect_without_zero_rule(h, a, b, steps):
    if not (a < b and steps >= 0 and h(a) < 0 < h(b)):
        raise ValueError("not a bracket")
    for _ in range(steps):
        m = 0.5 * (a + b)
        a, b = (m, b) if h(m) < 0 else (a, m)
    return 0.5 * (a + b)


def _bisect_one_step_too_many(h, a, b, steps):
    return lib.bisection(h, (a, b), steps + 1, max_widenings=0).root


def _bisect_unchecked(h, a, b, steps):
    for _ in range(max(steps, 0)):
        m = 0.5 * (a + b)
        if h(m) == 0:
            return m
        a, b = (m, b) if h(m) < 0 else (a, m)
    return 0.5 * (a + b)


#: Plausible mistakes, by exercise: each must fail its self-check.
WRONG = {
    "ex-nn-unit-gradients": {
        "forgot the factor theta_i": lambda W_tilde, theta, X, y: lib.HiddenLayerNetwork(X, y, theta).grad(W_tilde)
        / theta[:, None],
        "x instead of z = -y x": lambda W_tilde, theta, X, y: lib.HiddenLayerNetwork(X, -np.asarray(y), theta).grad(W_tilde),
        "no error for labels 0/1": lambda W_tilde, theta, X, y: lib.HiddenLayerNetwork(
            X, np.where(np.asarray(y) > 0, 1.0, -1.0), theta).grad(W_tilde),
    },
    "ex-nn-coupling-matrix": {
        "without the diagonal (tanh'') term": lambda W_tilde, theta, X, y: _without_diagonal(
            lib.HiddenLayerNetwork(X, y, theta).coupling_matrix(W_tilde)),
        "|theta| instead of theta": lambda W_tilde, theta, X, y: lib.HiddenLayerNetwork(
            X, y, np.abs(theta)).coupling_matrix(W_tilde),
    },
    "ex-beyond-bngd-step": {
        "updates g first, then uses it": lambda w, g, S, u, direction_step, length_step: _bngd_g_first(w, g, S, u, direction_step, length_step),
        "Euclidean norm instead of the S-norm": lambda w, g, S, u, direction_step, length_step: _bngd_euclidean(
            w, g, S, u, direction_step, length_step),
    },
    "ex-faster-heavy-ball-step": {
        "momentum pointing back": lambda w, w_previous, S, u, step, momentum: (
            w - step * 2 * (u + S @ w) + momentum * (w_previous - w)),
        "gradient without its factor 2": lambda w, w_previous, S, u, step, momentum: (
            w - step * (u + S @ w) + momentum * (w - w_previous)),
    },
    "ex-reparam-gradients": {
        "Euclidean norm instead of the S-norm": lambda G, g, w, S: (
            G @ w / np.linalg.norm(w), g / np.linalg.norm(w) * (G - (G @ w) / (w @ w) * w)),
        "without the factor g": lambda G, g, w, S: lib.split_gradient(G, 1.0, w, S),
        "no error for w = 0": lambda G, g, w, S: lib.split_gradient(G, g, w, S) if np.any(w) else (0.0, 0 * w),
    },
    "ex-reparam-norm-split": {
        "direction part as a difference": lambda G, w, S: (
            lib.norm_split(G, w, S)[0], G @ np.linalg.solve(S, G) - lib.norm_split(G, w, S)[0]),
        "the parts swapped": lambda G, w, S: lib.norm_split(G, w, S)[::-1],
    },
    "ex-ls-optimal-length": {
        "divides by ||w||_S^2": lambda w, S, u: -(u @ w) / (w @ S @ w) if np.any(w) else 1 / 0,
        "the sign flipped": lambda w, S, u: (u @ w) / np.sqrt(w @ S @ w) if np.any(w) else 1 / 0,
    },
    "ex-ls-rayleigh-gradient": {
        "without the factor 2": lambda w, S, u: lib.rayleigh_gradient(w, S, u) / 2,
        "without the projection": lambda w, S, u: -2 * (u @ w) / (w @ S @ w) * u,
    },
    "ex-ls-gdnp-step": {
        "eta with L = trace(S)": lambda w, S, u: w - (w @ S @ w) / (2 * np.trace(S) * abs(lib.rayleigh_quotient(w, S, u)))
        * lib.rayleigh_gradient(w, S, u),
        "a step up the gradient": lambda w, S, u: 2 * w - lib.gdnp(lib.LeastSquares(S, u), w, iterations=1).w,
    },
    "ex-hs-squared-sigmoid": {
        "sigma written with exp(-t), overflowing": _overflowing_squared_sigmoid,
        "phi'' as 2 sigma sigma' (1 - 2 sigma)": lambda t: (
            2 * _sigmoid(t)[0] * _sigmoid(t)[1], 2 * _sigmoid(t)[0] * _sigmoid(t)[1] * (1 - 2 * _sigmoid(t)[0])),
    },
    "ex-hs-bisection": {
        "no early return at an exact zero": _bisect_without_zero_rule,
        "one halving too many": _bisect_one_step_too_many,
        "no check of the bracket": _bisect_unchecked,
    },
    "ex-hs-step-size": {
        "||w||_S^2 instead of ||w||_S^3": lambda w, g, c1, S, u: (
            -(w @ S @ w) / (np.linalg.eigvalsh(S)[-1] * g * c1 * (u @ w)) if g * c1 * (u @ w) else 0.0),
        "no special case for g h = 0": lambda w, g, c1, S, u: -(w @ S @ w) ** 1.5 / (np.linalg.eigvalsh(S)[-1] * g * c1 * (u @ w)),
    },
}


def _without_diagonal(B):
    return B - np.diag(np.diag(B))


def _bngd_g_first(w, g, S, u, direction_step, length_step):
    """A wrong BNGD step: the length is updated first and the direction step uses the new length."""
    w = np.asarray(w, float)
    if not np.any(w):
        raise ValueError("w = 0")
    w_hat = w / np.sqrt(w @ S @ w)
    g_next = g - length_step * (2.0 * (u + S @ (g * w_hat))) @ w_hat
    _, grad_w = lib.split_gradient(2.0 * (u + S @ (g_next * w_hat)), g_next, w, S)
    return w - direction_step * grad_w, g_next


def _bngd_euclidean(w, g, S, u, direction_step, length_step):
    """A wrong BNGD step: the direction is normalised in the Euclidean norm."""
    w = np.asarray(w, float)
    if not np.any(w):
        raise ValueError("w = 0")
    return lib.bngd(lib.LeastSquares(S, u), w, iterations=1, direction_step=direction_step,
                    length_step=length_step, g0=g * np.sqrt(w @ S @ w) / np.linalg.norm(w)).w, g


def test_every_exercise_has_wrong_solutions_to_fail():
    assert set(WRONG) == set(exercises.EXERCISES)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.label)
def test_the_reference_passes_its_own_check(exercise):
    result = exercise.evaluate(exercise.reference)
    assert result.passed, result.message
    assert result.message == f"{exercise.function_name}: correct ({len(exercise.cases)} cases)"


#: The exercises without a case that must raise, and why. An exercise leaves this set when it gets one.
WITHOUT_ERROR_CASE = {
    # phi' and phi'' are defined for every real t, and the cases already include |t| = 1e4
    "ex-hs-squared-sigmoid",
}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.label)
def test_each_exercise_has_several_cases_and_an_error_case(exercise):
    assert len(exercise.cases) >= 5
    assert len({case.description for case in exercise.cases}) == len(exercise.cases)
    assert exercise.label.startswith("ex-") and exercise.chapter
    raising = [case.description for case in exercise.cases if call(exercise.reference, case.arguments).error]
    if exercise.label in WITHOUT_ERROR_CASE:
        assert not raising, f"{exercise.label} has error cases now ({raising}): remove it from WITHOUT_ERROR_CASE"
    else:
        assert raising, f"no case of {exercise.label} makes its reference raise: add an input outside the domain"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.label)
def test_each_exercise_has_its_check_function(exercise):
    """The notebooks call lib.exercises.check_<function name>; the course tools rely on the name."""
    check = getattr(exercises, f"check_{exercise.function_name}")
    assert check.__doc__ and callable(check)


@pytest.mark.parametrize("label, mistake", [(label, m) for label, ms in WRONG.items() for m in ms])
def test_a_wrong_solution_fails_with_a_useful_message(label, mistake):
    exercise = exercises.EXERCISES[label]
    result = exercise.evaluate(WRONG[label][mistake])
    assert not result.passed and result.status in ("wrong", "partial"), f"{mistake!r} passed the check of {label}"
    lines = result.message.splitlines()
    assert lines[0].startswith(f"{exercise.function_name}: wrong on case ")
    assert lines[1] == "  input:"
    for part in ("expected:", "returned:", "what is wrong:"):
        assert any(line.strip().startswith(part) for line in lines), result.message
    assert lines[-1] == f"  cases passed: {result.cases_passed} of {len(exercise.cases)}"
    case = exercise.cases[result.failed_case]
    assert case.description in lines[0] and f"case {result.failed_case + 1} of" in lines[0]
    for name in case.arguments:
        assert f"    {name} =" in result.message


def test_check_prints_correct_and_returns_nothing(capsys):
    assert exercises.check_rayleigh_gradient(lib.rayleigh_gradient) is None
    assert capsys.readouterr().out == "rayleigh_gradient: correct (7 cases)\n"


def test_check_prints_the_case_and_raises_on_a_wrong_function(capsys):
    with pytest.raises(ExerciseFailure, match="wrong on case 1 of 7"):
        exercises.check_rayleigh_gradient(lambda w, S, u: lib.rayleigh_gradient(w, S, u) / 2)
    printed = capsys.readouterr().out
    assert "first wrong entry: index 0" in printed and "expected:" in printed and "returned:" in printed


def test_check_of_a_stub_raises_not_implemented(capsys):
    def stub(w, S, u):
        raise NotImplementedError("write me")

    with pytest.raises(NotImplementedError):
        exercises.check_rayleigh_gradient(stub)
    assert "not written yet" in capsys.readouterr().out


def test_a_function_that_raises_is_reported_with_the_error():
    result = exercises.EXERCISES["ex-ls-optimal-length"].evaluate(lambda w, S, u: 1 / 0)
    assert not result.passed and "it raised ZeroDivisionError: division by zero" in result.message


@pytest.mark.parametrize("exiting", [lambda w, S, u: exit(), lambda w, S, u: _raise(SystemExit(3))])
def test_a_function_that_exits_fails_its_case_and_ends_nothing(exiting):
    result = exercises.EXERCISES["ex-ls-optimal-length"].evaluate(exiting)
    assert not result.passed and result.cases_passed == 0 and "it raised SystemExit" in result.message
    assert "returned: nothing, it raised SystemExit" in result.message


def test_an_error_case_needs_an_error_of_the_same_builtin_kind():
    exercise = exercises.EXERCISES["ex-hs-bisection"]
    # lib raises BracketError, a ValueError: a TypeError is not accepted, a ValueError is
    wrong_kind = exercise.evaluate(lambda h, a, b, steps: _raise(TypeError("no")) if h(a) >= 0 else
                                   lib.bisection(h, (a, b), steps, max_widenings=0).root)
    assert not wrong_kind.passed and "must raise ValueError" in wrong_kind.message


def _raise(error):
    raise error


def test_an_endless_loop_is_stopped_by_the_time_limit():
    looping = CodingExercise("ex-test-loop", "test", "f", lambda x: x, lambda: [Case("a number", dict(x=1.0))] * 5,
                             rtol=0.0, atol=0.0, time_limit=0.2)

    def endless(x):
        while True:
            try:
                pass
            except Exception:  # an except clause cannot swallow the time-out
                pass

    result = looping.evaluate(endless)
    assert not result.passed and "did not return within 0.2 s" in result.message


def test_a_warning_fails_the_case_and_is_not_printed(recwarn):
    result = exercises.EXERCISES["ex-hs-squared-sigmoid"].evaluate(_overflowing_squared_sigmoid)
    # right but for the cases with t = -800 and |t| = 1e4, where exp(-t) overflows: 4 of 6 pass
    assert result.status == "partial" and result.failed_case == 3 and result.cases_passed == 4, result.message
    assert "it printed a warning, RuntimeWarning: overflow encountered in exp" in result.message
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_missing_return_and_a_call_instead_of_the_function_are_explained():
    exercise = exercises.EXERCISES["ex-ls-optimal-length"]
    assert "forget to `return`" in exercise.evaluate(lambda w, S, u: None).message
    assert "pass `optimal_length`, not `optimal_length(...)`" in exercise.evaluate(0.5).message


def test_a_function_that_edits_its_inputs_does_not_change_the_cases():
    exercise = exercises.EXERCISES["ex-ls-rayleigh-gradient"]
    before = [case.arguments["w"].copy() for case in exercise.cases]

    def editing(w, S, u):
        result = lib.rayleigh_gradient(w, S, u)
        w *= 0.0
        return result

    assert exercise.evaluate(editing).passed
    untouched = [np.array_equal(case.arguments["w"], w)  # exact: a copy against the original, no arithmetic
                 for case, w in zip(exercise.cases, before)]
    assert all(untouched)


@pytest.mark.parametrize("expected, returned, found", [
    (np.array([1.0, 2.0]), np.array([1.0, 2.5]), "first wrong entry: index 1, expected 2.0, returned 2.5"),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), "has shape (3,), expected shape (2,)"),
    (np.array([1.0, 2.0]), np.array([1.0, np.nan]), "NaN entries, the first at index 1"),
    (np.eye(2), np.array([[1.0, 0.0], [0.1, 1.0]]), "index (1, 0)"),
    (1.5, np.array([1.5]), "is an array of shape (1,), expected a single real number"),
    (1.5, "1.5", "is a str, expected a single real number"),
    ((1.0, np.zeros(2)), (1.0,), "has 1 values, expected 2"),
    ((1.0, np.zeros(2)), 1.0, "expected a tuple of 2 values"),
    ((1.0, np.zeros(2)), (1.0, np.ones(2)), "the result[1]"),
    # complex numbers and booleans are wrong results, never converted to floats
    (1.0, 1.0 + 1e-3j, "the result is a complex number, expected a single real number"),
    (1.0, np.array(1.0 + 0j), "is an array of complex numbers, expected a single real number"),
    (1.0, True, "is a bool, expected a single real number"),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1.0j]), "is an array of complex numbers, expected an array of real"),
    (np.array([1.0, 0.0]), np.array([True, False]), "is an array of booleans, expected an array of real numbers"),
    (np.array([1.0, 0.0]), ["1.0", "0.0"], "is a list of strings"),
    (np.array([1.0, 0.0]), [1.0, [0.0, 0.0]], "is a list of entries of different shapes"),
])
def test_describe_difference_names_the_first_difference(expected, returned, found):
    message = describe_difference(expected, returned, rtol=1e-9, atol=1e-12)
    assert message is not None and found in message, message


def test_describe_difference_accepts_what_is_within_the_tolerance():
    assert describe_difference((1.0, np.array([1.0, 2.0])), [1.0 + 1e-12, [1.0, 2.0 + 1e-12]], rtol=1e-9, atol=0) is None
    assert describe_difference(np.array([1.0, 2.0]), [1, 2], rtol=0, atol=0) is None  # integers are real numbers
    assert describe_difference(2.0, np.int64(2), rtol=0, atol=0) is None


def test_a_complex_result_with_the_right_real_part_fails():
    exercise = exercises.EXERCISES["ex-ls-rayleigh-gradient"]
    result = exercise.evaluate(lambda w, S, u: lib.rayleigh_gradient(w, S, u) + 1e-3j)
    assert not result.passed and "is an array of complex numbers" in result.message
    assert describe_difference(np.array([np.inf, 0.0]), np.array([np.inf, 1e-14]), rtol=1e-9, atol=1e-12) is None


def test_gdnp_takes_the_step_of_gdnp_step_size():
    """The reference of ex-hs-step-size, lib.solvers.gdnp_step_size, is the step lib.gdnp records."""
    rng = np.random.default_rng(20261124)
    for loss in ("logistic", "squared_sigmoid"):
        problem = random_halfspace(5, 20.0, 0.5, loss, seed=rng)
        states = []
        run = lib.gdnp(problem, rng.standard_normal(5), iterations=3, g0=1.1,
                       callback=lambda t, w_tilde, g, w: states.append((w_tilde, g, w.copy())))
        steps = [gdnp_step_size(w, g, problem.evaluate(w_tilde).c1, problem.S, problem.u, problem.L)
                 for w_tilde, g, w in states[:-1]]
        # the same formula, -||w||_S^3 / (L g c1 u.w), evaluated twice on the same w: a dozen roundings,
        # so the two agree to a few 1e-16 relative; 1e-13 leaves room for any order of summation
        assert np.allclose(steps, run.trace["step"], rtol=1e-13, atol=0) and all(abs(step) > 0 for step in steps)


@pytest.mark.parametrize("arguments, complaint", [
    (dict(w=np.zeros(2)), "w must be nonzero"),
    (dict(w=np.ones(3)), "w has length 3"),
    (dict(S=np.ones((2, 3))), "must be a square matrix"),
    (dict(L=0.0), "L must be a finite positive number"),
    (dict(g=np.nan), "g must be finite"),
])
def test_gdnp_step_size_refuses_bad_input(arguments, complaint):
    good = dict(w=np.array([1.0, 2.0]), g=1.0, c1=0.5, S=np.eye(2), u=np.array([1.0, 0.0]), L=1.0)
    with pytest.raises(ValueError, match=complaint):
        gdnp_step_size(**{**good, **arguments})


def test_the_gdnp_step_reference_is_the_rayleigh_step():
    problem = random_least_squares(6, 15.0, seed=31337)
    w = np.random.default_rng(31337).standard_normal(6)
    eta = (w @ problem.S @ w) / (2 * problem.L * abs(problem.rho(w)))
    by_hand = w - eta * problem.rho_grad(w)
    assert np.allclose(exercises.EXERCISES["ex-ls-gdnp-step"].reference(w, problem.S, problem.u), by_hand, rtol=1e-10)


def test_record_outcomes_writes_what_the_functions_did(tmp_path, capsys):
    labels = ["ex-ls-optimal-length", "ex-ls-rayleigh-gradient"]
    path = tmp_path / "outcomes.json"

    def rayleigh_gradient(w, S, u):  # right, and prints without ending its line
        print("\rno newline", end="")
        return lib.rayleigh_gradient(w, S, u)

    exercises.record_outcomes({"rayleigh_gradient": rayleigh_gradient}, labels, 7, path)
    first, second = json.loads(path.read_text(encoding="utf-8"))
    assert first == {"exercise": "ex-ls-optimal-length", "defined": False, "outcomes": []}
    exercise = exercises.EXERCISES["ex-ls-rayleigh-gradient"]
    cases = exercise.graded_cases(7)
    assert second["exercise"] == exercise.label and len(second["outcomes"]) == len(cases)
    returned = [transport.decode(data) for data in second["outcomes"]]
    # nothing is judged in the kernel: the file holds values, which judge in this process
    assert "passed" not in path.read_text() and exercise.judge(cases, exercise.expected(cases), returned).passed
    assert "{" not in capsys.readouterr().out  # nothing for the grader goes through the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outcomes.json"]


def test_record_outcomes_keeps_what_it_has_when_an_exercise_stops_it(tmp_path):
    path = tmp_path / "outcomes.json"

    def rayleigh_gradient(w, S, u):
        raise KeyboardInterrupt  # not an error of the function: it stops the grading

    with pytest.raises(KeyboardInterrupt):
        exercises.record_outcomes({"rayleigh_gradient": rayleigh_gradient, "optimal_length": lib.rayleigh_quotient},
                                  ["ex-ls-optimal-length", "ex-ls-rayleigh-gradient"], 0, path)
    assert [r["exercise"] for r in json.loads(path.read_text(encoding="utf-8"))] == ["ex-ls-optimal-length"]


def test_record_outcomes_refuses_an_unknown_label_before_running(tmp_path):
    with pytest.raises(KeyError, match="ex-unknown"):
        exercises.record_outcomes({}, ["ex-ls-optimal-length", "ex-unknown"], 0, tmp_path / "outcomes.json")
    assert not (tmp_path / "outcomes.json").exists()


# --------------------------------------------------------------------------- hidden cases and partial credit
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.label)
def test_hidden_cases_are_seeded_marked_and_of_every_kind(exercise):
    hidden = exercise.hidden_cases(11)
    assert len(hidden) >= 4 and all(case.hidden for case in hidden) and not any(c.hidden for c in exercise.cases)
    again, other = exercise.hidden_cases(11), CodingExercise(
        exercise.label, exercise.chapter, exercise.function_name, exercise.reference, lambda: exercise.cases,
        rtol=exercise.rtol, atol=exercise.atol, hidden=exercise._make_hidden).hidden_cases(11)
    assert again is hidden and [c.description for c in other] == [c.description for c in hidden]  # rebuilt alike
    assert any(not _same(a.arguments, b.arguments) for a, b in zip(hidden, exercise.hidden_cases(12)))
    if exercise.label not in WITHOUT_ERROR_CASE:
        assert any(outcome.error for outcome in exercise.expected(hidden)), f"no hidden case of {exercise.label} raises"
    assert exercise.graded_cases(11) == exercise.cases + hidden and exercise.graded_cases(None) == exercise.cases


def _same(a: dict, b: dict) -> bool:
    """Whether two cases have the same arguments: drawn by the same code from the same seed, they agree to the bit."""
    return all(np.array_equal(a[k], b[k])  # exact: the same draws from the same generator, no arithmetic between them
               if isinstance(a[k], np.ndarray) else repr(a[k]) == repr(b[k]) for k in a)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.label)
def test_a_solution_fitted_to_the_visible_cases_fails_hidden_cases(exercise):
    """A lookup table of the visible cases' answers passes the self-check and loses points on the hidden cases."""
    answers = [(case.arguments, exercise.expected([case])[0]) for case in exercise.cases]

    def memorised(*args):
        for arguments, outcome in answers:
            if _same(dict(zip(arguments, args)), arguments):
                if outcome.error is not None:
                    raise ValueError(outcome.error.message)
                return outcome.value
        return np.zeros(3)

    assert exercise.evaluate(memorised).passed
    graded = exercise.evaluate(memorised, seed=5)
    assert graded.status == "partial" and len(exercise.cases) <= graded.cases_passed < len(exercise.graded_cases(5))
    assert "hidden case" in graded.message.splitlines()[0]
    assert graded.points(4.0) < 4.0


def test_partial_credit_is_the_share_of_cases_passed():
    exercise = exercises.EXERCISES["ex-ls-rayleigh-gradient"]
    # wrong only where u.w = 0 (the maximizers): the rest passes
    result = exercise.evaluate(lambda w, S, u: lib.rayleigh_gradient(w, S, u) if abs(u @ w) > 1e-9 or not np.any(w)
                               else np.ones(len(w)), seed=3)
    failed = sum(abs(c.arguments["u"] @ c.arguments["w"]) <= 1e-9 and np.any(c.arguments["w"])
                 for c in exercise.graded_cases(3))
    assert failed == 2 and result.cases_passed == result.cases_total - failed and result.status == "partial"
    assert result.points(4.0) == pytest.approx(4.0 * result.cases_passed / result.cases_total, abs=0.005)
    assert exercises.earned_points(4.0, 12, 14) == pytest.approx(3.43, abs=1e-12)  # 4 * 12/14 = 3.4286, to hundredths
    assert exercises.earned_points(3.0, 0, 0) == 0  # exact: no case, no points (a constant, no arithmetic)
    assert exercises.earned_points(3.0, 7, 7) == pytest.approx(3.0)


def test_points_for_nbgrader_counts_hidden_cases_and_writes_nothing_to_stderr(capsys):
    def noisy(w, S, u):
        import sys

        print("to stderr", file=sys.stderr)
        return lib.rayleigh_gradient(w, S, u) if np.linalg.norm(w) < 100 else np.zeros(len(w))

    earned = exercises.points("ex-ls-rayleigh-gradient", noisy, 4, seed=9)
    printed = capsys.readouterr()
    assert printed.err == "" and printed.out.startswith("rayleigh_gradient: wrong on ")
    result = exercises.EXERCISES["ex-ls-rayleigh-gradient"].evaluate(noisy, seed=9)
    # the same count of cases, rounded to hundredths both times
    assert earned == pytest.approx(result.points(4), abs=1e-12) and 0 < earned < 4 and result.cases_total > 7


def test_a_function_missing_its_later_results_fails_those_cases():
    exercise = exercises.EXERCISES["ex-ls-optimal-length"]
    cases = exercise.graded_cases(1)
    expected = exercise.expected(cases)
    result = exercise.judge(cases, expected, expected[:3])
    assert result.status == "partial" and result.cases_passed == 3 and result.failed_case == 3
    assert "the grading stopped before this case" in result.message


# --------------------------------------------------------------------------- robustness against what a function returns
class _Hostile:
    """A result whose every reading raises."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array")

    def __len__(self):
        raise RuntimeError("no length")

    def __repr__(self):
        raise RuntimeError("no repr")

    def __float__(self):
        raise RuntimeError("no float")


@pytest.mark.parametrize("value", [_Hostile(), (_Hostile(), _Hostile()), [_Hostile()]])
def test_evaluate_never_raises_for_what_a_function_returns(value):
    for label in ("ex-ls-rayleigh-gradient", "ex-reparam-gradients", "ex-ls-optimal-length"):
        result = exercises.EXERCISES[label].evaluate(lambda *args: value)
        assert not result.passed and result.cases_passed < result.cases_total


def test_an_error_whose_message_raises_is_reported():
    class Odd(ValueError):
        def __str__(self):
            raise RuntimeError("no message")

    outcome = call(lambda: (_ for _ in ()).throw(Odd()), {})
    assert outcome.error == RaisedError("Odd", ("ValueError", "Exception", "BaseException"),
                                        "(its message cannot be shown)")


@pytest.mark.parametrize("value, arrives", [
    (1.5, 1.5), (3, 3), (-2**70, -float(2**70)), (True, True), (None, None), ("text", "text"), (1 + 2j, 1 + 2j),
    (np.float32(0.25), 0.25), (np.int64(4), 4), (np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3)),
    (np.array([1 + 1j, 2]), np.array([1 + 1j, 2])), (np.array([True, False]), np.array([True, False])),
    (np.array(2.0), np.array(2.0)), ((1.0, np.zeros(2)), (1.0, np.zeros(2))), ([1.0, [2, 3.0]], [1.0, [2, 3.0]]),
    ((), ()), (np.array([np.nan, np.inf, -np.inf]), np.array([np.nan, np.inf, -np.inf])),
    (np.arange(3, dtype=np.uint8), np.arange(3, dtype=np.uint64)),
])
def test_transport_carries_values_across(value, arrives):
    assert _equal(transport.decode(json.loads(json.dumps(transport.encode(Outcome(value=value))))).value, arrives)


def _equal(a, b) -> bool:
    """Equal values of equal types; arrays of the same kind and shape, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        # JSON carries a float's shortest repr, which reads back to the same double
        same = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")  # exact: a round trip through repr, no arithmetic
        return a.dtype == b.dtype and a.shape == b.shape and same
    return a == b


def test_transport_carries_errors_warnings_and_time_outs():
    for outcome in (Outcome(error=RaisedError("BracketError", ("ValueError", "Exception", "BaseException"), "no bracket")),
                    Outcome(value=1.0, warning="RuntimeWarning: overflow"), Outcome(timed_out=True)):
        assert transport.decode(json.loads(json.dumps(transport.encode(outcome)))) == outcome


def test_what_transport_cannot_carry_arrives_as_a_named_stand_in():
    class Widget:
        pass

    for value, name in ((Widget(), "Widget"), (np.array([Widget()]), "ndarray"), (np.zeros(transport.ENTRY_LIMIT + 1),
                                                                                    "ndarray")):
        decoded = transport.decode(transport.encode(Outcome(value=value))).value
        assert isinstance(decoded, transport.Opaque) and type(decoded).__name__ == name
        message = describe_difference(1.0, decoded, rtol=1e-9, atol=0.0)
        assert message == f"the result is a {name}, expected a single real number"


@pytest.mark.parametrize("data", [
    None, [], {"timed_out": False}, {"timed_out": "no", "value": {"t": "none"}},
    {"timed_out": False, "value": {"t": "pickle", "v": "gASV"}},
    {"timed_out": False, "value": {"t": "array", "kind": "O", "shape": [1], "v": [1]}},
    {"timed_out": False, "value": {"t": "array", "kind": "f", "shape": [3], "v": [1.0, 2.0]}},
    {"timed_out": False, "value": {"t": "array", "kind": "f", "shape": [-1], "v": []}},
    {"timed_out": False, "value": {"t": "float", "v": "1.0"}},
    {"timed_out": False, "value": {"t": "int", "v": True}},
    {"timed_out": False, "error": {"name": "X", "kinds": "ValueError", "message": ""}},
])
def test_transport_refuses_anything_else(data):
    with pytest.raises(ValueError, match="not an encoded outcome"):
        transport.decode(data)


def test_every_check_function_of_the_chapter_modules_is_public():
    import importlib
    import pkgutil

    helpers = {"checker", "comparison", "transport"}
    defined = {name for info in pkgutil.iter_modules(exercises.__path__) if info.name not in helpers
               for name, value in vars(importlib.import_module(f"lib.exercises.{info.name}")).items()
               if name.startswith("check_") and getattr(value, "__module__", "") == f"lib.exercises.{info.name}"}
    assert {"check_coupling_matrix", "check_unit_gradients", "check_bngd_step"} <= defined
    assert defined == {name for name in exercises.__all__ if name.startswith("check_")}
    assert all(callable(getattr(exercises, name)) for name in defined)


def test_registering_twice_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        exercises.register(exercises.EXERCISES["ex-hs-bisection"])
