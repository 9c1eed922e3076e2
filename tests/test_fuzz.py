"""Property-based fuzzing of every public function of lib with bad and extreme inputs.

Every test below draws the arguments of one public function, some valid, some bad (None, text,
complex numbers, a None inside a list, wrong shapes, NaN and inf, integers beyond float64,
booleans, empty arrays) and some extreme (vectors of any scale from 1e-300 to 1e300), calls the
function and accepts exactly two outcomes:

* a documented exception -- ``ValueError`` (``BracketError`` is one), ``TypeError``, or
  ``DivergenceError`` carrying the partial run -- raised by lib's own code (the innermost frame
  of the traceback lies in ``lib/``, so numpy's and Python's own errors, such as a raw matmul
  shape error or ``'int' object is not callable``, fail the test), with a message of a sentence;
* a finite result, and, where the function returns a number with a closed form, one that matches
  an mpmath reference computed with 50 digits from the same float inputs, within a tolerance
  derived from the conditioning of the formula (argued where it is set).

Warnings are errors inside the calls: a silent overflow or a dropped imaginary part fails.

Size: ``EXAMPLES`` = 40 examples per test, 20 (``FUZZ_SLOW``) for each solver (the test is
parametrized by solver) and for the sample problems; each example calls every function of its test
(the three Rayleigh functions, the five decoupling functions, ...), so each public function gets 20
to 40 examples (the three built-in losses share 40), 560 examples in all. Derandomized (``derandomize=True``: the same examples on every run and machine) and without an
example database, so the run is deterministic and bounded. :data:`NOT_FUZZED` names the public
names that are not functions to call (exception classes, plain records); a public name in
neither list fails ``test_every_public_name_is_fuzzed``.
"""

from __future__ import annotations

import math
import os
import traceback
import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import lib
import lib.checks

pytestmark = pytest.mark.mp_digits(50)  # each test inside mp.workdps(50) (tests/conftest.py)
EPS = np.finfo(float).eps
FLOAT_MAX = float(np.finfo(float).max)
LIB_DIR = os.path.dirname(os.path.abspath(lib.__file__)) + os.sep

#: Examples per fuzzed function.
EXAMPLES = 40
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: The solvers and problems on samples or quadrature cost more per example.
FUZZ_SLOW = settings(FUZZ, max_examples=20)


# ============================================================================ the two outcomes
class Refused(Exception):
    """Returned (not raised) by :func:`outcome` when the call raised a documented exception."""


DOCUMENTED = (ValueError, TypeError, lib.DivergenceError)


def outcome(function, *args, documented=DOCUMENTED, **kwargs):
    """Call ``function``; return its result if it is finite, or ``Refused`` after checking the error.

    ``documented``: the exception types the function's docstring names (by default ValueError, its
    subclass BracketError, TypeError and DivergenceError).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy's overflow, invalid-value and complex-cast warnings
            result = function(*args, **kwargs)
    except documented as error:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        assert frame.filename.startswith(LIB_DIR), (
            f"{type(error).__name__} raised outside lib ({frame.filename}:{frame.lineno}): {error}")
        message = str(error.args[0]) if error.args else ""
        assert len(message) >= 20 and " " in message, f"a message of a sentence expected, got {message!r}"
        assert not message.startswith("'"), f"a raw Python message: {message!r}"
        event(f"{getattr(function, '__name__', 'call')}: {type(error).__name__}")
        if isinstance(error, lib.DivergenceError):
            assert isinstance(error.result, lib.OptimizationResult)
            repr(error.result)
            assert_finite(error.result.trace)
        return Refused
    assert_finite(result)
    repr(result)
    event(f"{getattr(function, '__name__', 'call')}: finite result")
    return result


def assert_finite(value) -> None:
    """Every number in ``value`` (nested tuples, dicts, arrays, results) is finite."""
    if isinstance(value, lib.OptimizationResult):
        for part in (value.w_tilde, value.g, value.w, value.trace):
            assert_finite(part)
    elif isinstance(value, lib.BisectionResult):
        assert_finite((value.root, value.bracket, value.final_bracket))
    elif isinstance(value, dict):
        for key, part in value.items():
            if key != "length_bound":  # documented: inf at t = 0 when g0 was given
                assert_finite(part)
    elif isinstance(value, (tuple, list)):
        for part in value:
            assert_finite(part)
    elif isinstance(value, (np.ndarray, float, int, np.floating, np.integer)):
        assert np.all(np.isfinite(value)), value


# ============================================================================ strategies
seeds = st.integers(0, 2**32 - 1)
exponents = st.integers(-300, 300)


def spd(rng, d, kappa):
    """A random symmetric positive definite matrix with spectrum log-spaced in [1, kappa]."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    S = (q * np.geomspace(1.0, kappa, d)) @ q.T
    return 0.5 * (S + S.T)


def bad_vector(kind: int, d: int):
    """The ``kind``-th bad vector of dimension ``d``."""
    return [
        None, "w", b"w", True, 1.5,
        np.ones(d) * (1 + 1j),  # complex
        [None] + [1.0] * (d - 1),  # a None inside
        ["1.0"] * d,  # text inside
        np.ones(d + 1),  # wrong length
        np.ones((d, 1)),  # wrong number of axes
        np.full(d, np.nan), np.full(d, np.inf), np.r_[-np.inf, np.ones(d - 1)],
        [10**400] + [1] * (d - 1),  # beyond float64
        np.array([]),
        np.zeros(d),  # no direction
    ][kind]


BAD_VECTORS = 16
bad_scalars = st.sampled_from([None, "1", b"1", float("nan"), float("inf"), -float("inf"), 0, 0.0, -1.0,
                               10**400, 1e300, -1e300, 1e-300, True, 1j, np.complex128(1), [1.0], np.nan])


def vector(rng, d, exponent):
    """A random vector of dimension ``d`` scaled by 10**exponent (any finite scale)."""
    return rng.standard_normal(d) * 10.0**exponent


# ============================================================================ 50-digit references
def M(x):
    """A float array as a list (or list of lists) of exact mpmath numbers."""
    x = np.asarray(x, dtype=float)
    return [M(row) for row in x] if x.ndim == 2 else [mp.mpf(float(v)) for v in x]


def dot(a, b):
    return mp.fsum(x * y for x, y in zip(a, b))


def matvec(S, w):
    return [dot(row, w) for row in S]


def absolute(x):
    return [abs(v) for v in x] if not isinstance(x[0], list) else [[abs(v) for v in row] for row in x]


def solve(S, v):
    return list(mp.lu_solve(mp.matrix(S), mp.matrix(v)))


class Rayleigh:
    r"""The exact :math:`\rho`, its gradient and gap at float inputs, and the rounding bounds of the float formulas.

    Rounding model: each float sum of d products carries a relative error below
    :math:`\gamma_d = d\,\varepsilon/(1 - d\varepsilon)` of the sum of the absolute values of its
    terms; :math:`\gamma` below is 16 d eps, which also covers the few divisions and square roots
    of each formula and the solve with :math:`S` (relative error below d kappa eps, kappa <= 1e3
    for the matrices drawn here, whence the factor kappa in the gap bound).
    """

    def __init__(self, w, S, u):
        self.d = len(w)
        self.gamma = mp.mpf(16 * self.d) * EPS
        self.w, self.S, self.u = M(w), M(S), M(u)
        self.Sw = matvec(self.S, self.w)
        self.n = dot(self.w, self.Sw)  # ||w||_S^2
        self.uw = dot(self.u, self.w)
        self.alpha = self.uw / self.n
        self.r = [ui - self.alpha * si for ui, si in zip(self.u, self.Sw)]
        self.abs_uw = dot(absolute(self.u), absolute(self.w))
        self.abs_Sw = matvec(absolute(self.S), absolute(self.w))
        self.abs_n = dot(absolute(self.w), self.abs_Sw)
        eigenvalues = mp.eigsy(mp.matrix(self.S), eigvals_only=True)
        self.mu, self.L = min(eigenvalues), max(eigenvalues)

    def rho(self):
        return -self.uw**2 / self.n

    def rho_bound(self):  # relative errors: 2 of u.w, 1 of ||w||_S^2, each gamma times their own condition
        return self.gamma * (2 * self.abs_uw * abs(self.uw) + self.uw**2 * self.abs_n / self.n) / self.n

    def alpha_error(self):  # |alpha| times the relative error of alpha = u.w / ||w||_S^2
        return self.gamma * (self.abs_uw + abs(self.alpha) * self.abs_n) / self.n

    def residual_errors(self):  # absolute rounding of each entry of r = u - alpha S w
        a = abs(self.alpha)
        return [self.gamma * (abs(ui) + a * si) + self.alpha_error() * abs(ti)
                for ui, si, ti in zip(self.u, self.abs_Sw, self.Sw)]

    def gradient(self):
        return [-2 * self.alpha * ri for ri in self.r]

    def gradient_bounds(self):
        a = abs(self.alpha)
        return [2 * (a * e + self.alpha_error() * abs(ri)) for e, ri in zip(self.residual_errors(), self.r)]

    def gap(self):
        return dot(self.r, solve(self.S, self.r))

    def gap_bound(self):
        e_norm = mp.sqrt(dot(self.residual_errors(), self.residual_errors()) / self.mu)  # ||e||_S^-1
        kappa = self.L / self.mu
        return 2 * mp.sqrt(self.gap()) * e_norm + e_norm**2 + self.gamma * kappa * dot(absolute(self.r), absolute(self.r)) / self.mu


#: The spacing of subnormal floats: a result below 2^-1022 is rounded to a multiple of it (an absolute error
#: of half of it per operation that lands there, such as the final rescaling by a power of two).
SUBNORMAL = mp.mpf(2) ** -1074


def close(value, exact, bound, what=""):
    """|value - exact| <= bound (+ 2 ulp of exact, the rounding of the reference to a float, + 2 subnormal spacings)."""
    error = abs(mp.mpf(float(value)) - exact)
    assert error <= bound + 2 * EPS * abs(exact) + 2 * SUBNORMAL, f"{what}: {float(value)!r} vs {mp.nstr(exact, 17)}, error {mp.nstr(error, 3)} > {mp.nstr(bound, 3)}"


def bad_matrix(kind: int, d: int):
    """The ``kind``-th bad matrix of size ``d``."""
    q = np.linalg.qr(np.arange(1.0, d * d + 1).reshape(d, d) ** 1.5 + np.eye(d))[0]
    return [
        None, "S", np.eye(d) * (1 + 1j), [[None] * d] * d, np.eye(d)[:, :-1] if d > 1 else np.ones((1, 2)),
        np.ones(d), np.full((d, d), np.nan), np.triu(np.ones((d, d))) + np.eye(d) if d > 1 else -np.eye(1),
        -np.eye(d), np.zeros((d, d)),
        (q * np.geomspace(1.0, 1e13, d)) @ q.T if d > 1 else [[10**400]],  # kappa 1e13
        (q * np.geomspace(1.0, 1e16, d)) @ q.T if d > 1 else [[np.inf]],  # numerically singular
    ][kind]


BAD_MATRICES = 12


def rarely_bad(kinds: int):
    """None (a valid argument) three times in four, else the index of one of ``kinds`` bad values."""
    return st.sampled_from([None] * (3 * kinds) + list(range(kinds)))


def mostly(valid, bad):
    """A draw from ``valid`` three times in four, else from ``bad``."""
    return st.one_of(valid, valid, valid, bad)


maybe_bad_vector = rarely_bad(BAD_VECTORS)
maybe_bad_matrix = rarely_bad(BAD_MATRICES)
#: Bad gradients: the bad vectors except the last, zero, which is a valid gradient (a critical point).
MAYBE_BAD_GRADIENT = rarely_bad(BAD_VECTORS - 1)
maybe_bad_u = st.sampled_from([None] * 3 * (BAD_VECTORS - 1) + list(range(BAD_VECTORS - 1)))  # u = 0 is valid


def moments(rng, d, log_kappa, bad_S=None, bad_u=None):
    S = spd(rng, d, 10.0**log_kappa) if d > 1 else np.array([[rng.uniform(0.5, 2.0)]])
    u = rng.standard_normal(d)
    return (S if bad_S is None else bad_matrix(bad_S, d)), (u if bad_u is None else bad_vector(bad_u, d))


def representable(values) -> bool:
    return all(abs(v) <= np.finfo(float).max for v in values)


# ============================================================================ rayleigh.py
@FUZZ
@given(seed=seeds, d=st.integers(1, 4), exponent=exponents, log_kappa=st.floats(0.0, 3.0),
       bad_w=maybe_bad_vector, bad_S=maybe_bad_matrix, bad_u=maybe_bad_u)
def test_rayleigh_quotient_gradient_and_gap(seed, d, exponent, log_kappa, bad_w, bad_S, bad_u):
    rng = np.random.default_rng(seed)
    S, u = moments(rng, d, log_kappa, bad_S, bad_u)
    w = vector(rng, d, exponent) if bad_w is None else bad_vector(bad_w, d)
    results = [outcome(f, w, S, u) for f in (lib.rayleigh_quotient, lib.rayleigh_gradient, lib.rayleigh_gap)]
    if bad_w is None and bad_S is None and bad_u is None:
        exact = Rayleigh(w, S, u)
        close(results[0], exact.rho(), exact.rho_bound(), "rho")
        if representable(exact.gradient()):
            for value, reference, bound in zip(results[1], exact.gradient(), exact.gradient_bounds()):
                close(value, reference, bound, "gradient")
        else:  # |w| so small that the gradient (degree -1) is beyond float64: refused
            assert results[1] is Refused
        close(results[2], exact.gap(), exact.gap_bound(), "gap")
    else:
        assert all(result is Refused for result in results)


@FUZZ
@given(seed=seeds, d=st.integers(1, 4), log_kappa=st.floats(0.0, 3.0), bad_S=maybe_bad_matrix,
       bad_u=maybe_bad_u, step_factor=mostly(st.floats(0.01, 2.0), bad_scalars))
def test_rayleigh_minimum_and_compressed_rate(seed, d, log_kappa, bad_S, bad_u, step_factor):
    rng = np.random.default_rng(seed)
    S, u = moments(rng, d, log_kappa, bad_S, bad_u)
    minimum = outcome(lib.rayleigh_minimum, S, u)
    rate = outcome(lib.compressed_rate, S, u, step_factor)
    if bad_S is None and bad_u is None:
        # rho* = -u.S^-1 u: the solve has a relative error below d kappa eps (times |u|^2/mu over |rho*|)
        exact = -dot(M(u), solve(M(S), M(u)))
        kappa = 10.0**log_kappa
        close(minimum, exact, mp.mpf(16 * d * kappa) * EPS * abs(exact), "rho*")
        if rate is not Refused:
            # max |lambda(P (I - c S/L) P)|^2 in 50 digits: eigenvalues of a symmetric matrix move by at most
            # the norm of its perturbation, a few d eps (1 + c) after the products; squared, twice that
            Sm, um = mp.matrix(M(S)), mp.matrix(M(u))
            E, Q = mp.eigsy(Sm)
            root_inv = Q * mp.diag([1 / mp.sqrt(e) for e in E]) * Q.T
            ubar = root_inv * um
            P = mp.eye(d) - ubar * ubar.T / (ubar.T * ubar)[0]
            C = P * (mp.eye(d) - mp.mpf(float(step_factor)) / max(E) * Sm) * P
            exact_rate = max(abs(e) for e in mp.eigsy(C, eigvals_only=True)) ** 2
            close(rate, exact_rate, mp.mpf(64 * d * kappa) * EPS * (1 + float(step_factor)), "compressed rate")
    else:
        assert minimum is Refused


# ============================================================================ decoupling.py
def positive_real(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            and abs(value) <= FLOAT_MAX and math.isfinite(float(value)) and value > 0)


def real(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
            and abs(value) <= FLOAT_MAX and math.isfinite(float(value)))


lengths = mostly(st.one_of(st.floats(-1e6, 1e6), st.integers(-300, 300).map(lambda e: -(10.0**e))), bad_scalars)


@FUZZ
@given(seed=seeds, d=st.integers(1, 4), exponent=exponents, log_kappa=st.floats(0.0, 3.0),
       bad_w=maybe_bad_vector, bad_S=maybe_bad_matrix, bad_grad=MAYBE_BAD_GRADIENT, g=lengths)
def test_decoupling(seed, d, exponent, log_kappa, bad_w, bad_S, bad_grad, g):
    rng = np.random.default_rng(seed)
    S, _ = moments(rng, d, log_kappa, bad_S)
    w = vector(rng, d, exponent) if bad_w is None else bad_vector(bad_w, d)
    grad = rng.standard_normal(d) if bad_grad is None else bad_vector(bad_grad, d)
    norm = outcome(lib.s_norm, w, S)
    to = outcome(lib.to_w_tilde, g, w, S)
    split = outcome(lib.from_w_tilde, w, S)
    derivative = outcome(lib.split_gradient, grad, g, w, S)
    parts = outcome(lib.norm_split, grad, w, S)
    if bad_S is not None or (bad_w is not None and bad_w != BAD_VECTORS - 1):
        assert all(result is Refused for result in (norm, to, split, derivative, parts))
        return
    if bad_w == BAD_VECTORS - 1:  # w = 0: a norm, but no direction
        assert norm == 0.0 and all(result is Refused for result in (to, split, derivative, parts))  # exact: 0 for 0
        return
    x = Rayleigh(w, S, np.zeros(d))
    cond = x.abs_n / x.n  # the condition of ||w||_S^2; >= 1
    exact_norm = mp.sqrt(x.n)
    if representable([exact_norm]):
        close(norm, exact_norm, x.gamma * cond * exact_norm, "s_norm")
    else:
        assert norm is Refused
    # the unit direction w / ||w||_S: each entry to gamma (1 + cond) relative
    unit = [wi / exact_norm for wi in x.w]
    g_scale = x.gamma * (1 + cond)
    if split is Refused:  # only when the length ||w||_S itself is beyond float64
        assert not representable([exact_norm])
    else:
        for value, reference in zip(split[1], unit):
            close(value, reference, g_scale * abs(reference), "from_w_tilde direction")
        close(split[0], exact_norm, x.gamma * cond * exact_norm, "from_w_tilde length")
    if not real(g):
        assert to is Refused and derivative is Refused
        return
    G = mp.mpf(float(g))
    if representable([G * v for v in unit]):
        for value, reference in zip(to, unit):
            close(value, G * reference, g_scale * abs(G * reference), "to_w_tilde")
    else:
        assert to is Refused
    if bad_grad is not None:
        assert derivative is Refused and parts is Refused
        return
    F = M(grad)
    along = dot(F, unit)  # d f / d g = grad . w_hat
    S_unit = matvec(x.S, unit)
    across = [fi - along * si for fi, si in zip(F, S_unit)]
    # rounding: along carries gamma sum |F_i| |w_hat_i| (1 + cond); the residual entries that times |S w_hat|_i
    along_error = g_scale * dot(absolute(F), absolute(unit))
    abs_S_unit = matvec(absolute(x.S), absolute(unit))
    across_errors = [x.gamma * abs(fi) + along_error * si + abs(along) * g_scale * si for fi, si in zip(F, abs_S_unit)]
    factor = G / exact_norm
    if derivative is Refused:  # documented: the direction gradient (or g/||w||_S) is beyond float64
        assert not (representable([factor * a for a in across]) and representable([factor]))
    else:
        close(derivative[0], along, along_error, "length derivative")
        for value, a, e in zip(derivative[1], across, across_errors):
            close(value, factor * a, abs(factor) * (e + g_scale * abs(a)), "direction gradient")
    close(parts[0], along**2, 2 * abs(along) * along_error + along_error**2, "length part")
    e_norm = mp.sqrt(dot(across_errors, across_errors) / x.mu)
    direction_part = dot(across, solve(x.S, across))
    close(parts[1], direction_part, 2 * mp.sqrt(direction_part) * e_norm + e_norm**2
          + x.gamma * (x.L / x.mu) * dot(absolute(across), absolute(across)) / x.mu, "direction part")


# ============================================================================ losses.py
SIGMA = lambda t: 1 / (1 + mp.exp(-t))
LOSS_REFERENCES = {  # sigma(-t) instead of 1 - sigma(t): no cancellation at 50 digits
    "logistic": (lambda t: mp.log1p(mp.exp(t)), SIGMA, lambda t: SIGMA(t) * SIGMA(-t)),
    # sigma(-t) - sigma(t) = -tanh(t/2): no cancellation near t = 0 either (at t = 1e-173 the difference
    # of the two sigmas is below 50 digits)
    "sigmoid": (SIGMA, lambda t: SIGMA(t) * SIGMA(-t), lambda t: -SIGMA(t) * SIGMA(-t) * mp.tanh(t / 2)),
    "squared_sigmoid": (lambda t: SIGMA(t) ** 2, lambda t: 2 * SIGMA(t) ** 2 * SIGMA(-t),
                        lambda t: 2 * SIGMA(t) ** 2 * SIGMA(-t) * (2 * SIGMA(-t) - SIGMA(t))),
}
arguments = st.one_of(
    st.floats(-800, 800), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(-50, 50), min_size=1, max_size=4).map(np.array),  # integer arrays
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=4).map(np.array),
    bad_scalars, st.sampled_from([np.ones(2) * 1j, [None, 1.0], "t", np.array([np.nan])]),
)


@FUZZ
@given(name=st.sampled_from(sorted(LOSS_REFERENCES)), role=st.integers(0, 3), t=arguments)
def test_losses_on_scalars_integers_and_bad_input(name, role, t):
    loss = getattr(lib, name)
    function = (loss, loss.value, loss.first, loss.second)[role]
    values = np.asarray(t, dtype=object).ravel() if not isinstance(t, (str, bytes)) else [t]
    if role > 0 and all(isinstance(v, (float, np.floating)) for v in values) and not all(real(v) for v in values):
        # the kernels (value, first, second) let NaN and inf through, to where they came from: a solver
        # reads them as divergence. The public call loss(t) refuses them (role 0).
        result = np.asarray(function(t))
        assert np.all(np.isnan(result) == np.isnan(np.asarray(t, dtype=float)))
        return
    result = outcome(function, t)
    if not all(real(v) for v in values):
        assert result is Refused
        return
    assert np.shape(result) == np.shape(t)
    reference = LOSS_REFERENCES[name][max(role - 1, 0)]
    for value, x in zip(np.ravel(result), values):
        exact = reference(mp.mpf(float(x)))
        # accurate to rounding for |t| <= 700 (tests/test_losses.py); beyond, the exponent is clipped
        # at -700 (lib.losses): an absolute error below 1e-303; 8 eps relative covers the few operations
        close(value, exact, 8 * EPS * abs(exact) + (mp.mpf("1e-303") if abs(float(x)) > 700 else 0), name)


user_functions = st.sampled_from([
    ("softplus", lambda t: np.logaddexp(0, t), lambda t: 0.5 * (1 + np.tanh(0.5 * t)),
     lambda t: 0.25 / np.cosh(0.5 * t) ** 2, None),
    ("complex", lambda t: t + 0j, lambda t: np.ones_like(t) + 0j, lambda t: np.zeros_like(t) + 0j, TypeError),
    ("linear", lambda t: t, lambda t: np.ones_like(t), lambda t: np.zeros_like(t), "no curvature"),
    ("nan beyond 40", lambda t: np.where(np.abs(t) < 40, np.logaddexp(0, t), np.nan),
     lambda t: 0.5 * (1 + np.tanh(0.5 * t)), lambda t: 0.25 / np.cosh(0.5 * t) ** 2, "at use"),
    ("scalar", lambda t: 1.0, lambda t: 0.0, lambda t: 0.0, ValueError),
    ("not callable", "f", "g", "h", TypeError),
])
bounds = mostly(st.one_of(st.none(), st.floats(0.3, 10.0)), bad_scalars)


@FUZZ
@given(functions=user_functions, first_bound=bounds, second_bound=bounds)
def test_user_losses_and_their_bounds(functions, first_bound, second_bound):
    name, value, first, second, expected = functions
    loss = outcome(lib.Loss, name, value, first, second, first_bound, second_bound)
    valid_bound = lambda b: b is None or (real(b) and b >= 0.25)  # 1/4 = sup |phi''| = sup|phi'|/4
    if expected == "no curvature":  # phi'' = 0: any bound >= 0 is a bound (refused by the solvers that divide by it)
        valid_bound = lambda b: b is None or (real(b) and b >= 0)
    if expected in (TypeError, ValueError) or not valid_bound(second_bound) or not (first_bound is None or real(first_bound) and first_bound >= 1.0):
        assert loss is Refused
        return
    assert loss.first_bound > 0 and loss.second_bound >= 0
    problem = outcome(lib.Halfspace, np.eye(2), [0.3, 0.2], loss)
    assert problem is not Refused
    # where the solver uses it: far out along a ray the user loss returns NaN, and the solver says so
    far = outcome(problem.evaluate, np.array([300.0, 0.0]))
    if expected == "at use":
        assert far is Refused
    else:
        assert far is not Refused


# ============================================================================ bisection.py
derivatives = st.sampled_from([
    ("tanh", lambda r: (lambda g: 3.0 * np.tanh(g - r))),
    ("linear", lambda r: (lambda g: g - r)),
    ("tanh", lambda r: (lambda g: 3.0 * np.tanh(g - r))),
    ("linear", lambda r: (lambda g: g - r)),
    ("tanh", lambda r: (lambda g: 3.0 * np.tanh(g - r))),
    ("linear", lambda r: (lambda g: g - r)),
    ("decreasing", lambda r: (lambda g: r - g)),  # a maximum: refused
    ("nan", lambda r: (lambda g: float("nan"))),
    ("flat", lambda r: (lambda g: -1.0)),  # no minimiser
    ("not callable", lambda r: 3.0),
    ("text", lambda r: (lambda g: "x")),
])


@FUZZ
@given(kind=derivatives, root=st.floats(-1e3, 1e3), a=mostly(st.floats(-1e6, 1e6), bad_scalars),
       width=st.floats(1e-6, 1e6), steps=mostly(st.integers(0, 60), st.one_of(bad_scalars, st.integers(1101, 10**30))),
       max_widenings=mostly(st.integers(0, 60), bad_scalars))
def test_bisection(kind, root, a, width, steps, max_widenings):
    name, make = kind
    found = outcome(lib.bisection, make(root), (a, a + width) if real(a) else (a, 1.0), steps,
                    max_widenings=max_widenings)
    if found is Refused:
        return
    assert name in ("tanh", "linear") and real(a)
    # lemma lem-bisection: the root lies within 2^-T-1 of the bracket width (the midpoint's own
    # rounding, 2 eps |g|, added)
    assert abs(found.root - root) <= 2.0 ** (-steps - 1) * found.width + 4 * EPS * (abs(root) + found.width)


# ============================================================================ problems
@FUZZ
@given(seed=seeds, d=st.integers(1, 4), log_kappa=st.floats(0.0, 3.0), bad_S=maybe_bad_matrix,
       bad_u=maybe_bad_u, exponent=exponents,
       loss=st.sampled_from(["logistic", "sigmoid", "squared_sigmoid", "hinge", None, 3, ("a", "b", "c")]))
def test_problem_constructors_and_evaluations(seed, d, log_kappa, bad_S, bad_u, exponent, loss):
    rng = np.random.default_rng(seed)
    S, u = moments(rng, d, log_kappa, bad_S, bad_u)
    if bad_u is None:
        u = 0.5 * u / np.sqrt(u @ np.linalg.solve(S, u)) if bad_S is None else u  # u.S^-1 u = 1/4: a Gaussian z exists
    w = vector(rng, d, exponent)
    for cls, arguments in ((lib.Moments, ()), (lib.LeastSquares, ()), (lib.Halfspace, (loss,))):
        problem = outcome(cls, S, u, *arguments)
        bad_loss = cls is lib.Halfspace and loss not in ("logistic", "sigmoid", "squared_sigmoid")
        if bad_S is not None or bad_u is not None or bad_loss:
            assert problem is Refused
            continue
        assert problem is not Refused
        exact = Rayleigh(w, S, u)
        close(outcome(problem.rho_gap, w), exact.gap(), exact.gap_bound(), f"{cls.__name__}.rho_gap")
        close(outcome(problem.rho, w), exact.rho(), exact.rho_bound(), f"{cls.__name__}.rho")
        if cls is lib.LeastSquares:
            value = outcome(problem.loss, w)
            # f = 2 u.w + w.S.w: its absolute rounding is gamma (2 sum|u_i w_i| + |w|.|S|.|w|)
            exact_loss = 2 * exact.uw + exact.n
            if representable([exact.abs_n, exact_loss]):
                close(value, exact_loss, exact.gamma * (2 * exact.abs_uw + exact.abs_n), "least-squares loss")
            else:
                assert value is Refused
        if cls is lib.Halfspace:
            value = outcome(problem.loss, w)
            assert value is not Refused  # E[phi(v)] grows at most linearly: finite for every finite w


@FUZZ_SLOW
@given(seed=seeds, n=st.integers(1, 12), d=st.integers(1, 3), bad_X=rarely_bad(6), bad_y=rarely_bad(6), theta=rarely_bad(5))
def test_sample_problems(seed, n, d, bad_X, bad_y, theta):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + d, d))
    y = rng.choice([-1.0, 1.0], size=n + d)
    X = X if bad_X is None else [None, X[:, :, None], X * 1j, X[:-1], np.where(X > 1, np.nan, X), [[None] * d] * (n + d)][bad_X]
    y = y if bad_y is None else [None, y[:-2], y * 0.5, y * 1j, np.zeros_like(y), ["a"] * (n + d)][bad_y]
    good_theta = rng.choice([-1.0, 1.0], size=2)
    thetas = good_theta if theta is None else [None, [0.0, 1.0], [np.nan], "t", [1j]][theta]
    for make in (lambda: lib.Halfspace.from_data(X, y), lambda: lib.HalfspaceSample(X, y, "sigmoid"),
                 lambda: lib.LeastSquares.from_data(X, y), lambda: lib.HiddenLayerNetwork(X, y, thetas)):
        problem = outcome(make)
        if problem is not Refused:
            assert bad_X is None and (bad_y is None or bad_y == 2 and make is not None)


# ============================================================================ solvers
steps = mostly(st.one_of(st.none(), st.integers(-300, 300).map(lambda e: 10.0**e)), bad_scalars)
counts = mostly(st.integers(1, 4), st.sampled_from([0, -1, True, 2.5, "3", None, 10**400]))
callbacks = st.sampled_from([None, None, print, print, None, print, 3, "f"])
DECOUPLED = ("gdnp", "heavy_ball", "locally_optimal", "momentum_gdnp", "rayleigh_ritz", "bngd", "gd")


def least_squares_problem(rng, d, log_kappa):
    S = spd(rng, d, 10.0**log_kappa) if d > 1 else np.eye(1)
    return lib.LeastSquares(S, rng.standard_normal(d))


def mp_least_squares_loss(problem, w_tilde):
    exact = Rayleigh(w_tilde, problem.S, problem.u)
    return 2 * exact.uw + exact.n, exact.gamma * (2 * exact.abs_uw + exact.abs_n)


@pytest.mark.parametrize("solver", DECOUPLED)
@FUZZ_SLOW
@given(seed=seeds, d=st.integers(1, 4), log_kappa=st.floats(0.0, 2.0),
       exponent=exponents, bad_w=maybe_bad_vector, iterations=counts, step=steps,
       bisection_steps=mostly(st.one_of(st.none(), st.integers(0, 8)), bad_scalars),
       bracket_radius=mostly(st.one_of(st.none(), st.floats(0.01, 10.0)), bad_scalars), callback=callbacks,
       halfspace=st.booleans())
def test_solvers(solver, seed, d, log_kappa, exponent, bad_w, iterations, step, bisection_steps, bracket_radius,
                 callback, halfspace):
    rng = np.random.default_rng(seed)
    problem = least_squares_problem(rng, d, log_kappa)
    if halfspace:
        u = 0.5 * problem.u / np.sqrt(-problem.rho_star)
        problem = lib.Halfspace(problem.S, u)
    w0 = vector(rng, d, exponent) if bad_w is None else bad_vector(bad_w, d)
    kwargs = dict(iterations=iterations, callback=callback if callback is not print else (lambda *a: None))
    if solver in ("gd", "heavy_ball"):
        kwargs["step"] = step
    elif solver == "bngd":
        kwargs.update(direction_step=1.0 if step is None else step, g0=1.0 if step is None else step)
    else:
        kwargs.update(bisection_steps=bisection_steps, bracket_radius=bracket_radius)
    result = outcome(getattr(lib, solver), problem, w0, **kwargs)
    if result is Refused:
        return
    assert bad_w is None and real(iterations) and callback in (None, print)
    trace = result.trace
    assert len(trace["loss"]) == iterations + 1 and np.all(trace["rho_gap"] >= 0)
    # the first recorded state against 50 digits: its direction gap rho(w_0) - rho* (scale invariant)
    w_first = result.info["w0_hat"] if "w0_hat" in result.info else w0
    exact = Rayleigh(w_first, problem.S, problem.u)
    close(trace["rho_gap"][0], exact.gap(), 4 * exact.gap_bound(), f"{solver} rho_gap[0]")
    if solver == "gdnp" and not halfspace and bisection_steps is None:
        # the closed-form length g*(w0) = -u.w0/||w0||_S: f(w, g*) = rho(w0)
        close(trace["loss"][0], exact.rho(), 4 * exact.rho_bound() + exact.gamma * abs(exact.rho()), "gdnp loss[0]")


@pytest.mark.parametrize("solver", ["network_gd", "unitwise_gdnp"])
@FUZZ_SLOW
@given(seed=seeds, exponent=st.integers(-300, 300), iterations=counts, step=steps, sweeps=counts, bad_W=maybe_bad_vector)
def test_network_solvers(seed, exponent, iterations, step, sweeps, bad_W, solver):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 2))
    y = np.sign(X[:, 0] + 0.3 * rng.standard_normal(20))
    y[y == 0] = 1.0
    network = lib.HiddenLayerNetwork(X, y, [1.0, -1.0])
    W0 = rng.standard_normal((2, 2)) * 10.0**exponent if bad_W is None else bad_vector(bad_W, 2)
    if solver == "network_gd":
        result = outcome(lib.network_gd, network, W0, iterations=iterations, step=step)
    else:
        result = outcome(lib.unitwise_gdnp, network, W0, sweeps=sweeps, steps_per_unit=iterations)
    if result is not Refused:
        assert bad_W is None
        assert "OptimizationResult" in repr(result)


# ============================================================================ results and checks.run
@FUZZ
@given(key=st.one_of(st.sampled_from(["loss", "rho_gap", "nothing"]), st.none(), st.integers()),
       threshold=st.one_of(st.floats(-1.0, 10.0), bad_scalars))
def test_result_type(key, threshold):
    problem = lib.LeastSquares(np.diag([1.0, 3.0]), [1.0, -0.5])
    result = lib.gdnp(problem, [1.0, 1.0], iterations=3)
    assert "OptimizationResult" in repr(result)
    found = outcome(result.iterations_to, key, threshold, documented=DOCUMENTED + (KeyError,))  # KeyError: documented
    if found is not Refused:
        assert key in ("loss", "rho_gap") and real(threshold)


@FUZZ
@given(label=st.one_of(st.sampled_from(sorted(lib.checks.REGISTRY)), st.sampled_from(["thm-nothing", "", None, 3])),
       seed=st.sampled_from([-1, 1.5, "0", None, True, 10**400, np.nan]),
       size=st.sampled_from([{}, {"instances": 0}, {"instances": -3}, {"instances": 2.5}, {"unknown_size": 3},
                             {"instances": "3"}, {"instances": True}]))
def test_checks_run_refuses_bad_arguments(label, seed, size):
    """lib.checks.run's argument validation: every draw has a bad label or a bad seed, so nothing runs."""
    assert outcome(lib.checks.run, label, seed=seed, **size) is Refused


# ============================================================================ coverage of the public names
#: Public names that are not called by a fuzz test, and why.
NOT_FUZZED = {
    "BisectionResult": "a record returned by lib.bisection (fuzzed through test_bisection)",
    "BracketError": "an exception class (raised and checked in test_bisection and test_solvers)",
    "DivergenceError": "an exception class (raised and checked in test_solvers and test_network_solvers)",
    "Evaluation": "a record returned by the problems' evaluate (fuzzed through test_problem_constructors_and_evaluations)",
    "OptimizationResult": "the result record; its repr and iterations_to are fuzzed in test_result_type",
}

#: The fuzz test of each public name.
@FUZZ
@given(gaps=st.one_of(st.lists(st.floats(0.0, 1e300), min_size=1, max_size=8),
                      st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=8),
                      st.sampled_from([[], [[1.0, 2.0]], "abc", None, [1 + 2j, 1.0]])),
       floor=mostly(st.floats(0.0, 1e10), st.sampled_from([-1.0, math.nan, math.inf, "0", None])))
def test_one_step_ratios(gaps, floor):
    result = outcome(lib.one_step_ratios, gaps, floor)
    valid = (isinstance(gaps, list) and len(gaps) >= 1 and all(isinstance(g, float) and math.isfinite(g) and g >= 0
                                                            for g in gaps)
             and isinstance(floor, float) and math.isfinite(floor) and floor >= 0)
    if not valid:
        assert result is Refused
        return
    # the reference: every t with e_t > floor, and the ratio in 50 digits; one division, so 1 ulp
    steps = [t + 1 for t in range(len(gaps) - 1) if gaps[t] > floor]
    if any(mp.mpf(gaps[t]) / mp.mpf(gaps[t - 1]) > FLOAT_MAX for t in steps):
        assert result is Refused  # a ratio beyond float64
        return
    assert list(result[0]) == steps  # exact: integer indices
    for t, ratio in zip(steps, result[1]):
        exact = mp.mpf(gaps[t]) / mp.mpf(gaps[t - 1])
        close(ratio, exact, EPS * exact, "one-step ratio")


FUZZED = {
    "one_step_ratios": test_one_step_ratios,
    "rayleigh_quotient": test_rayleigh_quotient_gradient_and_gap,
    "rayleigh_gradient": test_rayleigh_quotient_gradient_and_gap,
    "rayleigh_gap": test_rayleigh_quotient_gradient_and_gap,
    "rayleigh_minimum": test_rayleigh_minimum_and_compressed_rate,
    "compressed_rate": test_rayleigh_minimum_and_compressed_rate,
    "s_norm": test_decoupling, "to_w_tilde": test_decoupling, "from_w_tilde": test_decoupling,
    "split_gradient": test_decoupling, "norm_split": test_decoupling,
    "logistic": test_losses_on_scalars_integers_and_bad_input, "sigmoid": test_losses_on_scalars_integers_and_bad_input,
    "squared_sigmoid": test_losses_on_scalars_integers_and_bad_input, "Loss": test_user_losses_and_their_bounds,
    "bisection": test_bisection,
    "Moments": test_problem_constructors_and_evaluations, "LeastSquares": test_problem_constructors_and_evaluations,
    "Halfspace": test_problem_constructors_and_evaluations, "HalfspaceSample": test_sample_problems,
    "HiddenLayerNetwork": test_sample_problems,
    "gd": test_solvers, "gdnp": test_solvers, "heavy_ball": test_solvers, "locally_optimal": test_solvers,
    "momentum_gdnp": test_solvers, "rayleigh_ritz": test_solvers, "bngd": test_solvers,
    "network_gd": test_network_solvers, "unitwise_gdnp": test_network_solvers,
}


def test_every_public_name_is_fuzzed():
    """A new public name of lib fails here until it has a fuzz test (or a reason in NOT_FUZZED)."""
    assert not set(FUZZED) & set(NOT_FUZZED)
    missing = sorted(set(lib.__all__) - set(FUZZED) - set(NOT_FUZZED))
    assert not missing, f"public names without a fuzz test: {missing}; add one to tests/test_fuzz.py"
    stale = sorted((set(FUZZED) | set(NOT_FUZZED)) - set(lib.__all__))
    assert not stale, f"names listed here that lib no longer exports: {stale}"
