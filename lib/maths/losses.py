r"""Losses :math:`\phi` for learning halfspaces, with their first and second derivatives.

The halfspace objective of chapter 3 is :math:`f(\tilde w) = E[\phi(z^\top\tilde w)]` with
:math:`z = -yx`, so :math:`\phi` is applied to *minus* the margin: a large positive argument
is a confident mistake. Every loss here is evaluated without overflow for arguments of any
size (no warnings, no NaN at :math:`|t| = 10^4` or beyond): every exponential is taken of an
argument clipped to :math:`[-700, 700]`, which keeps it away from overflow and from the slow
subnormal range, and changes no result by more than 1e-304 in absolute value; below that
the values are accurate to rounding. The kernels avoid temporaries: the length search
evaluates :math:`\phi'` on all n projections at every bisection step.

======================  ============================  ========  ======================
name                    :math:`\phi(t)`               convex    bounds :math:`\Phi, \Psi`
======================  ============================  ========  ======================
``"logistic"``          :math:`\log(1+e^{t})`         yes       1, 1/4
``"sigmoid"``           :math:`\sigma(t)`             no        1/4, :math:`1/(6\sqrt3)`
``"squared_sigmoid"``   :math:`\sigma(t)^2`           no        8/27, 0.15406
======================  ============================  ========  ======================

:math:`\Phi = \sup|\phi'|` and :math:`\Psi = \sup|\phi''|` enter the theorems of chapter 3.
A user loss is built with :class:`Loss` from three vectorised functions; it is checked on a
grid against finite differences before it is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.validation import as_finite_float

__all__ = ["Loss", "logistic", "sigmoid", "squared_sigmoid", "as_loss", "LOSSES", "value_first_second", "slope_sum",
           "slope_curvature", "third_bound"]


#: Exponents are clipped here: e^-700 = 9.9e-305 is still a normal number, so exp never
#: overflows, never underflows into the (very slow) subnormal range, and a clipped result
#: differs from the exact one by less than 1e-304 in absolute value.
_EXPONENT_FLOOR = -700.0


def _real_input(t) -> tuple[np.ndarray, bool]:
    """``t`` as a float array of at least one axis, and whether it was a scalar; TypeError unless real numbers.

    Float64 arrays pass through untouched (no copy), so the kernels' ``out=`` buffers work as before.
    """
    array = np.asarray(t)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"a loss is a function of real numbers; got {type(t).__name__} "
                        f"{'of ' + str(array.dtype) if isinstance(t, np.ndarray) else repr(t)[:40]}")
    if array.dtype != np.float64 or array.ndim == 0:  # integers, float32, scalars: a float copy
        array = np.array(array, dtype=np.float64, ndmin=1)
    return array, np.ndim(t) == 0


def _public(kernel):
    """Let ``kernel(t, out=None)`` take a scalar (returning a numpy float) or an integer array too."""
    def function(t, out=None):
        array, scalar = _real_input(t)
        result = kernel(array, out=out)
        return result[0] if scalar and out is None else result
    function.__name__, function.__doc__ = kernel.__name__, kernel.__doc__
    return function


#: Work arrays kept between calls, by length: a fresh array of the size of a sample is allocated and
#: returned to the system at every call (glibc trims it), and its page faults cost more than the
#: arithmetic. The kernels are not meant for use from threads.
_SCRATCH: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _scratch(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two work arrays of ``t``'s shape (kept for one-dimensional ``t``)."""
    if t.ndim != 1:
        return np.empty_like(t), np.empty_like(t)
    pair = _SCRATCH.get(t.shape[0])
    if pair is None:
        if len(_SCRATCH) >= 8:
            _SCRATCH.clear()
        pair = _SCRATCH[t.shape[0]] = (np.empty(t.shape[0]), np.empty(t.shape[0]))
    return pair


def _exp_minus_abs(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:math:`e^{-|t|}`, clipped below at :math:`e^{-700}`; written into ``out`` when given."""
    out = np.abs(t, out=out)
    np.negative(out, out=out)
    np.maximum(out, _EXPONENT_FLOOR, out=out)
    return np.exp(out, out=out)


def _sigmoid(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:math:`\\sigma(t) = 1/(1 + e^{-t})`, accurate to rounding for :math:`|t| \\le 700`, within 1e-304 beyond."""
    out = np.negative(t, out=out)
    np.clip(out, _EXPONENT_FLOOR, -_EXPONENT_FLOOR, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _sigmoid_slope(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:math:`\\sigma'(t) = \\sigma(t)\\sigma(-t) = e/(1+e)^2` with :math:`e = e^{-|t|}`: even, never overflows."""
    reciprocal, _ = _scratch(t)
    e = _exp_minus_abs(t, out=out)
    np.add(e, 1.0, out=reciprocal)
    np.reciprocal(reciprocal, out=reciprocal)
    reciprocal *= reciprocal
    e *= reciprocal
    return e


@dataclass(frozen=True)
class Loss:
    r"""A loss :math:`\phi` with its derivatives and the bounds the theorems use.

    Parameters
    ----------
    name : str
    value, first, second : callable
        Vectorised :math:`\phi`, :math:`\phi'` and :math:`\phi''` (numpy arrays in and out).
    first_bound : float, optional
        :math:`\Phi = \sup|\phi'|`; estimated on a grid when not given.
    second_bound : float, optional
        :math:`\Psi = \sup|\phi''|`; estimated on a grid when not given.
    convex : bool, default False

    Raises
    ------
    TypeError
        If the three functions are not callable, or return complex or non-numeric values.
    ValueError
        If they do not return finite arrays of the input's shape on a test grid, if the
        derivatives disagree with finite differences of the value there, if a bound given is not
        finite and positive or lies below the supremum measured on the grid, or if
        :math:`\phi'` or :math:`\phi''` vanishes on the whole grid (a bound of 0). A user's
        functions (``supports_out=False``) are wrapped so that a non-finite value at a finite
        argument raises ValueError wherever a solver evaluates them.

    Examples
    --------
    >>> import numpy as np, lib
    >>> probit_like = lib.Loss("softplus of 2t", lambda t: np.logaddexp(0, 2 * t),
    ...                        lambda t: 2 / (1 + np.exp(-2 * t)),
    ...                        lambda t: 4 * np.exp(-2 * t) / (1 + np.exp(-2 * t)) ** 2)
    """

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    first: Callable[[np.ndarray], np.ndarray]
    second: Callable[[np.ndarray], np.ndarray]
    first_bound: float | None = None
    second_bound: float | None = None
    convex: bool = False
    #: Whether the three functions accept ``out=`` (the built-in ones do; the data problems
    #: then reuse buffers instead of allocating one per call, which matters in the length search).
    supports_out: bool = False

    #: Where a user loss is checked; the derivatives are compared with finite differences.
    TEST_GRID = np.linspace(-30.0, 30.0, 601)

    def __post_init__(self):
        for role in ("value", "first", "second"):
            if not callable(getattr(self, role)):
                raise TypeError(f"Loss.{role} must be a function of a numpy array, got {getattr(self, role)!r}")
        grid = self.TEST_GRID
        outputs = {}
        for role in ("value", "first", "second"):
            out = _real_values(self.name, role, getattr(self, role), grid)
            if out.shape != grid.shape or not np.all(np.isfinite(out)):
                raise ValueError(
                    f"the loss {self.name!r}: {role}(t) must return finite numbers of the same shape as "
                    f"t for t in [-30, 30]; got shape {out.shape} with {np.sum(~np.isfinite(out))} non-finite entries"
                )
            outputs[role] = out
        h = 1e-5
        for role, lower in (("first", "value"), ("second", "first")):
            function = getattr(self, lower)
            fd = (_real_values(self.name, lower, function, grid + h) - _real_values(self.name, lower, function, grid - h)) / (2 * h)
            error = np.abs(fd - outputs[role])
            worst = int(np.argmax(error))
            if error[worst] > 1e-5 * (1.0 + np.abs(outputs[role][worst])):
                raise ValueError(
                    f"the loss {self.name!r}: its {role} derivative does not match the finite difference "
                    f"of its {lower} at t = {grid[worst]:.3g} ({outputs[role][worst]:.6g} given, "
                    f"{fd[worst]:.6g} measured); check the formulas"
                )
        for role, bound_name, symbol in (("first", "first_bound", "phi'"), ("second", "second_bound", "phi''")):
            object.__setattr__(self, bound_name, _checked_bound(self.name, bound_name, symbol, getattr(self, bound_name),
                                                                float(np.max(np.abs(outputs[role])))))
        if not self.supports_out:  # a user's functions: checked wherever a solver evaluates them, not only on the grid
            for role in ("value", "first", "second"):
                object.__setattr__(self, role, _checked_function(self.name, role, getattr(self, role)))

    def __call__(self, t):
        r""":math:`\phi(t)` for a finite real number (a float) or an array of them (an array of floats)."""
        array, scalar = _real_input(t)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"the loss {self.name!r} is evaluated at finite real numbers; got {t!r:.60}")
        values = self.value(array)
        return float(values[0]) if scalar else values

    def __repr__(self) -> str:
        return f"Loss({self.name!r}, Phi={self.first_bound:.4g}, Psi={self.second_bound:.4g}, convex={self.convex})"


def _real_values(name: str, role: str, function, t: np.ndarray) -> np.ndarray:
    """``function(t)`` as a float array; TypeError if it returns complex or non-numeric values."""
    with np.errstate(all="ignore"):
        raw = np.asarray(function(t))
    if raw.dtype.kind == "c":
        raise TypeError(f"the loss {name!r}: {role}(t) returns complex numbers; expected real numbers")
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"the loss {name!r}: {role}(t) returns values of type {raw.dtype}; expected real numbers")
    return raw.astype(np.float64)


def _checked_bound(name: str, bound_name: str, symbol: str, given, measured: float) -> float:
    r"""The bound ``given`` (or ``measured`` when None), refused unless finite, >= 0 and at least ``measured``.

    A bound of 0 (a linear loss has :math:`\phi'' = 0`) is a true bound; the solvers that divide by it
    (a default step :math:`1/\zeta`) refuse it there, with the reason.
    """
    if given is None:
        return measured
    bound = as_finite_float(f"the loss {name!r}: {bound_name}", given)
    if bound < 0:
        raise ValueError(f"the loss {name!r}: {bound_name} = {bound} is negative; expected an upper bound of "
                         f"|{symbol}| >= 0 (a negative one made gd's default step negative: it climbed)")
    if bound < measured * (1.0 - 1e-9):
        raise ValueError(
            f"the loss {name!r}: {bound_name} = {bound:.6g} is below sup|{symbol}| >= {measured:.6g}, measured on the "
            f"test grid [-30, 30]; expected an upper bound of |{symbol}| (gd's default step and the theorems use it), "
            "or None to have it estimated"
        )
    return bound


def _checked_function(name: str, role: str, function):
    """``function`` that refuses to return a non-finite value at a finite argument, wherever it is evaluated."""
    def checked(t):
        array, scalar = _real_input(t)
        values = _real_values(name, role, function, array)
        if values.shape != array.shape:
            raise ValueError(f"the loss {name!r}: {role}(t) returned shape {values.shape} for t of shape "
                             f"{array.shape}; expected the same shape")
        bad = ~np.isfinite(values) & np.isfinite(array)
        if bad.any():
            raise ValueError(
                f"the loss {name!r}: {role}(t) returned {values[bad][0]} at t = {array[bad][0]:.6g}, where a solver "
                "evaluated it (solvers evaluate the loss wherever z.w~ lies, not only on the test grid [-30, 30]); "
                "expected a finite number at every finite t: write it in a form that cannot overflow "
                "(np.logaddexp, a clipped exponent)"
            )
        return values[0] if scalar else values
    checked.__name__ = getattr(function, "__name__", role)
    return checked


def _logistic_value(t, out=None):
    positive_part, _ = _scratch(t)
    np.maximum(t, 0.0, out=positive_part)
    out = np.log1p(_exp_minus_abs(t, out=out), out=out)  # log(1 + e^t) = max(t, 0) + log(1 + e^-|t|)
    out += positive_part
    return out


def _sigmoid_second(t, out=None):
    half_tanh = np.multiply(t, 0.5)  # a fresh array: _sigmoid_slope uses the scratch space
    np.tanh(half_tanh, out=half_tanh)
    out = _sigmoid_slope(t, out=out)
    out *= half_tanh
    return np.negative(out, out=out)  # sigma'(t) (1 - 2 sigma(t)) = -sigma'(t) tanh(t/2)


def _squared_sigmoid_value(t, out=None):
    out = _sigmoid(t, out=out)
    out *= out
    return out


def _sigmoid_pair(t: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`(\sigma(t), \sigma(-t))` from one exponential and no array allocated (``out`` holds :math:`\sigma(-t)`).

    With :math:`E = e^{-t}` (exponent clipped to :math:`\pm 700`, as everywhere here):
    :math:`\sigma(t) = 1/(1 + E)` and :math:`\sigma(-t) = E\,\sigma(t)`, so that
    :math:`\sigma'(t) = \sigma(t)\sigma(-t)`: sums of positive numbers and products only, accurate to
    rounding in relative terms. :math:`\sigma(t)` is a scratch array.
    """
    sigma, _ = _scratch(t)
    E = np.negative(t, out=out)  # the only read of t (out may be t itself)
    np.clip(E, _EXPONENT_FLOOR, -_EXPONENT_FLOOR, out=E)
    np.exp(E, out=E)
    np.add(E, 1.0, out=sigma)
    np.reciprocal(sigma, out=sigma)
    E *= sigma
    return sigma, E


def _squared_sigmoid_first(t, out=None):
    sigma, out = _sigmoid_pair(t, out=out)
    out *= sigma
    out *= sigma
    out *= 2.0
    return out  # 2 sigma sigma'


def _squared_sigmoid_second(t, out=None):
    sigma, out = _sigmoid_pair(t, out=out)
    out *= sigma
    out *= sigma  # sigma sigma'
    _, factor = _scratch(t)
    np.multiply(sigma, -3.0, out=factor)
    factor += 2.0  # 2 - 3 sigma
    out *= factor
    out *= 2.0
    return out  # 2 sigma sigma' (2 - 3 sigma)


#: :math:`\phi(t) = \log(1 + e^t)`, convex; :math:`\Phi = 1`, :math:`\Psi = 1/4`.
logistic = Loss("logistic", _public(_logistic_value), _public(_sigmoid), _public(_sigmoid_slope), 1.0, 0.25, convex=True,
                supports_out=True)

#: :math:`\phi(t) = \sigma(t)`, a smooth 0-1 loss, non-convex; :math:`\Phi = 1/4`,
#: :math:`\Psi = 1/(6\sqrt 3)` at :math:`\sigma = (3 \pm \sqrt 3)/6`.
sigmoid = Loss("sigmoid", _public(_sigmoid), _public(_sigmoid_slope), _public(_sigmoid_second),
               0.25, 1.0 / (6.0 * np.sqrt(3.0)), supports_out=True)

#: :math:`\phi(t) = \sigma(t)^2` (the squared loss on a sigmoid output), non-convex;
#: :math:`\Phi = 8/27` at :math:`\sigma = 2/3`; :math:`\Psi = \max_\sigma |2\sigma^2(1-\sigma)(2-3\sigma)|`,
#: attained at :math:`\sigma = (15 - \sqrt{33})/24`.
_s = (15.0 - np.sqrt(33.0)) / 24.0
squared_sigmoid = Loss("squared_sigmoid", _public(_squared_sigmoid_value), _public(_squared_sigmoid_first),
                       _public(_squared_sigmoid_second), 8.0 / 27.0, float(2 * _s**2 * (1 - _s) * (2 - 3 * _s)), supports_out=True)
del _s

#: The losses known by name.
LOSSES = {loss.name: loss for loss in (logistic, sigmoid, squared_sigmoid)}


# ---------------------------------------------------------------- fused kernels for a sample
# A sample's evaluation needs phi, phi' and phi'' at the same n points, and its length search
# sum_i phi'(g q_i) q_i at several g: the kernels below take one exponential per point for all
# of them (the separate functions above take one each), with the exponent clipped as above.

def _exp_clipped(t: np.ndarray, scale: float, out: np.ndarray) -> np.ndarray:
    r""":math:`e^{\text{scale}\cdot t}` with the exponent clipped to [-700, 700], into ``out``."""
    np.multiply(t, scale, out=out)
    np.maximum(out, _EXPONENT_FLOOR, out=out)
    np.minimum(out, -_EXPONENT_FLOOR, out=out)
    return np.exp(out, out=out)


def _logistic_fused(t: np.ndarray, out: np.ndarray, in_range: bool = False) -> tuple[float, np.ndarray, float]:
    r"""Sums of :math:`\log(1+e^t)` and :math:`\sigma'(t)`, and :math:`\sigma(t)` in ``out``, from :math:`E = e^{-|t|}`.

    With :math:`s = 1/(1 + E) = \sigma(|t|)`: :math:`\phi = \max(t, 0) + \log(1 + E)`,
    :math:`\sigma(t) = s\cdot\max(E, [t \ge 0])` (:math:`s` for :math:`t \ge 0`, :math:`Es` for
    :math:`t < 0`) and :math:`\sigma'(t) = Es\cdot s`: products of positive numbers, accurate to rounding.
    """
    E, factor = _scratch(t)
    np.abs(t, out=E)
    if not in_range:  # some |t| may exceed 700
        np.minimum(E, -_EXPONENT_FLOOR, out=E)
    np.negative(E, out=E)
    np.exp(E, out=E)
    value = float(np.maximum(t, 0.0, out=out).sum()) + float(np.log1p(E, out=out).sum())
    np.greater_equal(t, 0.0, out=factor)  # 1.0 where t >= 0, else 0.0
    np.maximum(E, factor, out=factor)  # 1 where t >= 0, E where t < 0
    np.add(E, 1.0, out=out)
    np.reciprocal(out, out=out)  # s
    E *= out  # sigma(-|t|)
    second = float(E @ out)
    out *= factor
    return value, out, second


def _squared_sigmoid_fused(t: np.ndarray, out: np.ndarray, in_range: bool = False) -> tuple[float, np.ndarray, float]:
    r"""Sums of :math:`\sigma^2` and :math:`2\sigma^2\sigma(-t)(2 - 3\sigma)`, and :math:`2\sigma^2\sigma(-t)` in ``out``.

    From :math:`E = e^{-t}`: :math:`\sigma(t) = s = 1/(1+E)` and :math:`\sigma(-t) = Es`, as in
    the separate kernels (products of positive numbers).
    """
    E, _ = _scratch(t)
    _exp_of(t, -1.0, E, -_EXPONENT_FLOOR if in_range else None)  # in range: every |t| <= 700
    np.add(E, 1.0, out=out)
    np.reciprocal(out, out=out)  # s = sigma(t)
    value = float(out @ out)
    E *= out
    E *= out
    E *= out  # sigma^2 sigma(-t) = phi'/2
    second = 2.0 * (2.0 * float(E.sum()) - 3.0 * float(E @ out))
    np.multiply(E, 2.0, out=out)
    return value, out, second


def as_loss(loss) -> Loss:
    """Accept a loss name, a :class:`Loss`, or a triple ``(value, first, second)`` of functions."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(LOSSES)} or a lib.Loss")
        return LOSSES[loss]
    if isinstance(loss, tuple) and len(loss) == 3 and all(callable(f) for f in loss):
        return Loss("user loss", *loss)
    raise TypeError(
        f"loss must be a name ({', '.join(sorted(LOSSES))}), a lib.Loss, or a tuple "
        f"(value, first_derivative, second_derivative) of functions; got {type(loss).__name__}"
    )


#: The fused kernels of the built-in losses that have them (keyed by the Loss object itself).
_FUSED = {id(logistic): _logistic_fused, id(squared_sigmoid): _squared_sigmoid_fused}


def value_first_second(loss: Loss, t: np.ndarray, out: np.ndarray,
                       largest: float | None = None) -> tuple[float, np.ndarray, float]:
    r"""The means of :math:`\phi(t)` and :math:`\phi''(t)`, and :math:`\phi'(t)` written into ``out``.

    What a sample's evaluation needs at its margins :math:`t = Z\tilde w` (the loss, the plug-in
    :math:`c_2 = E[\phi'']` and the weights of the gradient :math:`Z^\top\phi'/n`). For the logistic
    and the squared sigmoid loss one exponential per entry gives all three; another loss is
    evaluated by its three functions.

    Parameters
    ----------
    loss : Loss
    t : ndarray of shape (n,)
        Finite float64 numbers (a solver's margins; not validated).
    out : ndarray of shape (n,)
        Where :math:`\phi'(t)` goes; it must not be ``t`` itself.
    largest : float, optional
        :math:`\max_i|t_i|` if known: at most 700 means no exponent to clip, and the clipping is skipped.

    Returns
    -------
    value_mean : float
    first : ndarray
        :math:`\phi'(t)`, ``out`` when the loss writes into it.
    second_mean : float
    """
    fused = _FUSED.get(id(loss))
    n = t.shape[0]
    if fused is not None:
        value, first, second = fused(t, out, largest is not None and largest <= -_EXPONENT_FLOOR)
        return value / n, first, second / n
    value = float(np.mean(_into(loss.value, t, out, loss.supports_out)))
    second = float(np.mean(_into(loss.second, t, out, loss.supports_out)))
    return value, _into(loss.first, t, out, loss.supports_out), second


def _into(function, t, out, supports_out: bool):
    return function(t, out=out) if supports_out else function(t)


def slope_sum(loss: Loss, q: np.ndarray, g: float, work: np.ndarray, largest: float | None = None) -> float:
    r""":math:`\sum_i \phi'(g q_i)\,q_i`, :math:`n` times the derivative of the length problem along a ray.

    For the logistic loss :math:`\sigma(gq)q = q/(1 + e^{-gq})` (one exponential, one division);
    for the squared sigmoid :math:`2\sigma^2\sigma(-gq)\,q` from one exponential; another loss
    by its function :math:`\phi'`. ``work`` (of ``q``'s shape) is overwritten. ``largest``, if
    given, is :math:`\max_i |q_i|`: when :math:`|g|` times it is at most 700 no exponent needs
    clipping, and the clipping is skipped.
    """
    if loss is logistic:
        E = _exp_of(q, -g, work, largest)
        E += 1.0
        return float(np.divide(q, E, out=E).sum())
    if loss is squared_sigmoid:
        E, s = _exp_and_sigmoid(q, g, work, largest)
        E *= s
        E *= s
        E *= s
        return 2.0 * float(E @ q)
    np.multiply(q, g, out=work)
    return float(_into(loss.first, work, work, loss.supports_out) @ q)


def _exp_and_sigmoid(q: np.ndarray, g: float, work: np.ndarray, largest: float | None) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`E = e^{-gq}` in ``work`` and :math:`s = 1/(1 + E) = \sigma(gq)` in the second scratch array."""
    E = _exp_of(q, -g, work, largest)
    _, s = _scratch(q)
    np.add(E, 1.0, out=s)
    return E, np.reciprocal(s, out=s)


def _exp_of(q: np.ndarray, scale: float, out: np.ndarray, largest: float | None) -> np.ndarray:
    """:math:`e^{\\text{scale}\\cdot q}` into ``out``, clipped (see :func:`_exp_clipped`) unless no exponent can leave [-700, 700]."""
    if largest is not None and abs(scale) * largest <= -_EXPONENT_FLOOR:
        return np.exp(np.multiply(q, scale, out=out), out=out)
    return _exp_clipped(q, scale, out)


def slope_curvature(loss: Loss, q: np.ndarray, g: float, work: np.ndarray,
                    largest: float | None = None) -> tuple[float, float] | None:
    r""":math:`\sum_i \phi'(gq_i)\,q_i` and :math:`\sum_i \phi''(gq_i)\,q_i^2` from one exponential each (None for another loss).

    :math:`n` times the derivative :math:`k(g)` of the length problem along a ray and :math:`n`
    times :math:`k'(g)`, for the logistic and the squared sigmoid loss. With :math:`E = e^{-gq}` and
    :math:`s = 1/(1 + E) = \sigma(gq)`: logistic :math:`\phi' = s`, :math:`\phi'' = Es\cdot s`;
    squared sigmoid :math:`\phi' = 2v`, :math:`\phi'' = 2v(2 - 3s)` with :math:`v = Es^3 = \sigma^2\sigma(-gq)`.
    ``work`` is overwritten; ``largest`` as for :func:`slope_sum`.
    """
    if loss is not logistic and loss is not squared_sigmoid:
        return None
    E, s = _exp_and_sigmoid(q, g, work, largest)
    if loss is logistic:
        slope = float(s @ q)
        E *= s
        E *= s
        E *= q
        return slope, float(E @ q)
    E *= s
    E *= s
    E *= s  # v
    slope = 2.0 * float(E @ q)
    E *= q
    plain = float(E @ q)  # sum v q^2
    E *= s
    return slope, 2.0 * (2.0 * plain - 3.0 * float(E @ q))


def _sup_on_unit_interval(polynomial: np.polynomial.Polynomial) -> float:
    r""":math:`\max_{0\le\sigma\le 1}|P(\sigma)|`, from the real critical points in [0, 1] and the two ends."""
    roots = polynomial.deriv().roots()
    real = roots[np.abs(roots.imag) <= 1e-12].real
    candidates = np.concatenate([real[(real >= 0.0) & (real <= 1.0)], [0.0, 1.0]])
    return float(np.max(np.abs(polynomial(candidates))))


_SIGMA = np.polynomial.Polynomial([0.0, 1.0])
#: sup |phi'''|, with phi''' a polynomial in sigma = sigma(t): logistic sigma (1 - sigma)(1 - 2 sigma)
#: (sup sqrt(3)/18), squared sigmoid 2 sigma^2 (1 - sigma)(4 - 15 sigma + 12 sigma^2); raised by
#: 1e-12 relative for the rounding of the roots and of the values there.
_THIRD_BOUNDS = {
    id(logistic): _sup_on_unit_interval(_SIGMA * (1 - _SIGMA) * (1 - 2 * _SIGMA)) * (1.0 + 1e-12),
    id(squared_sigmoid): _sup_on_unit_interval(2 * _SIGMA**2 * (1 - _SIGMA) * (4 - 15 * _SIGMA + 12 * _SIGMA**2))
    * (1.0 + 1e-12),
}


def third_bound(loss: Loss) -> float | None:
    r""":math:`\sup_t|\phi'''(t)|` for the losses with a :func:`slope_curvature` kernel, else None."""
    return _THIRD_BOUNDS.get(id(loss))
