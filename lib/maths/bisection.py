r"""Bisection on the derivative of a one-dimensional length problem.

Implements the length update of Algorithm ``alg-gdnp`` and lemma ``lem-bisection``. Given a
continuous derivative :math:`k(g) = \partial_g f(w, g)` and a bracket :math:`[a, b]` with
:math:`k(a) < 0 < k(b)`, each step halves the bracket and keeps the sign change, so after
:math:`T_s` steps the midpoint :math:`\bar g` lies within :math:`2^{-T_s-1}(b - a)` of a root
:math:`g^\circ` of :math:`k`. If :math:`|k'| \le \Psi` on the bracket,

.. math:: k(\bar g)^2 \le \Psi^2\, 4^{-T_s-1}\,(b - a)^2 .

A bracket whose ends do not show the sign change :math:`- \to +` is never bisected silently:
it is widened towards the side where :math:`k` says the minimiser lies, up to a cap, and a
:class:`BracketError` is raised when the cap is reached or when the bracket holds a local
maximum (:math:`+ \to -`) instead.

:class:`IncreasingSigns` wraps a derivative known to increase (on a window) so that bisection
takes the same halvings while evaluating it only where the signs already known leave the answer open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.validation import as_nonnegative_int, as_positive_float

__all__ = ["bisection", "BisectionResult", "BracketError", "MAX_HALVINGS", "IncreasingSigns"]

#: More halvings than any float64 bracket can take: from the widest finite bracket (2^1025) down
#: to the smallest subnormal spacing (2^-1074) there are 2099, but a bracket stops shrinking once
#: its ends are adjacent floats, after at most 1100 halvings of a bracket of finite numbers.
MAX_HALVINGS = 1100


class BracketError(ValueError):
    """A bracket without the sign change that bisection needs, even after widening."""


@dataclass(frozen=True)
class BisectionResult:
    """What one call of :func:`bisection` found.

    Attributes
    ----------
    root : float
        The midpoint of the final bracket, the returned length.
    bracket : tuple of float
        The bracket :math:`(a^{(0)}, b^{(0)})` with a sign change that the halvings started from
        (after any widening).
    final_bracket : tuple of float
        The bracket after the last halving.
    evaluations : int
        How many times :math:`k` was evaluated (widening and halving); the derivative at
        ``root`` itself is not evaluated, the solvers get it from the next gradient.
    widenings : int
        How many times the bracket was widened.
    """

    root: float
    bracket: tuple[float, float]
    final_bracket: tuple[float, float]
    evaluations: int
    widenings: int

    @property
    def width(self) -> float:
        """:math:`b^{(0)} - a^{(0)}`, the width that enters the bisection bound."""
        return self.bracket[1] - self.bracket[0]


def bisection(
    derivative: Callable[[float], float],
    bracket: tuple[float, float],
    steps: int,
    *,
    max_widenings: int = 40,
) -> BisectionResult:
    r"""Find a local minimiser of a 1-D function from its derivative by bisection.

    Implements lemma ``lem-bisection``: the returned :math:`\bar g` satisfies
    :math:`|\bar g - g^\circ| \le 2^{-T_s-1}(b^{(0)} - a^{(0)})` for a root :math:`g^\circ`
    of ``derivative`` with a sign change from negative to positive.

    Parameters
    ----------
    derivative : callable
        :math:`k(g) = \partial_g f(w, g)`, continuous.
    bracket : (float, float)
        A starting interval :math:`a < b`. If :math:`k(a) < 0 < k(b)` fails, the interval is
        widened (doubling its width each time) on the side where :math:`k` points to the
        minimiser: to the left if :math:`k > 0` at both ends, to the right if :math:`k < 0`.
    steps : int
        :math:`T_s \ge 0`, the number of halvings.
    max_widenings : int, default 40
        The cap on widenings; :math:`2^{40}` times the starting width.

    Returns
    -------
    BisectionResult

    Raises
    ------
    BracketError
        If no bracket with :math:`k(a) < 0 < k(b)` is found within the cap (for instance the
        length problem of the sigmoid loss, whose loss keeps decreasing as :math:`g\to\infty`),
        if the bracket holds a local maximum, or if :math:`k` returns a non-finite value.
    """
    if not callable(derivative):
        raise TypeError(f"derivative must be a function g -> k(g), got {type(derivative).__name__} {derivative!r:.40}")
    steps = as_nonnegative_int("bisection_steps", steps)
    max_widenings = as_nonnegative_int("max_widenings", max_widenings)
    if steps > MAX_HALVINGS:
        raise ValueError(f"bisection_steps = {steps if steps < 10**9 else f'an integer of {len(str(steps))} digits'}: after {MAX_HALVINGS} halvings no float64 bracket shrinks any more "
                         f"(the spacing of floats is reached long before); expected at most {MAX_HALVINGS}")
    try:
        a, b = (float(v) for v in bracket)
    except OverflowError:
        raise ValueError("bracket has an end beyond the float64 range (about 1.8e308); expected finite numbers") from None
    except (TypeError, ValueError) as error:
        raise TypeError(f"bracket must be a pair of numbers (a, b), got {bracket!r:.60}") from error
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"bracket must be finite with a < b, got ({a}, {b})")
    as_positive_float("bracket width", b - a)

    evaluations = 0

    def h(g: float) -> float:
        nonlocal evaluations
        evaluations += 1
        try:
            value = float(derivative(g))
        except (TypeError, ValueError) as error:
            raise TypeError(f"the derivative must return a real number; at g = {g:.6g} it returned "
                            f"{derivative(g)!r:.40}") from error
        if not np.isfinite(value):
            raise BracketError(f"the derivative returned {value} at g = {g:.6g}; expected a finite number")
        return value

    ha, hb = h(a), h(b)
    widenings = 0
    # A bracket needs h(a) < 0 < h(b) strictly: an exact zero at an end is no evidence of a
    # minimiser (a derivative that underflows to 0 far out along a flat tail looks the same).
    while not (ha < 0.0 < hb):
        if ha > 0.0 and hb < 0.0:
            raise BracketError(
                f"the derivative falls from {ha:.3g} at g = {a:.6g} to {hb:.3g} at g = {b:.6g}: "
                "the bracket holds a local maximum of the length problem, not a minimum; "
                "start from another bracket"
            )
        look_left = ha >= 0.0 and hb > 0.0
        if widenings == max_widenings:
            side, end, value = ("left", a, ha) if look_left else ("right", b, hb)
            raise BracketError(
                f"no sign change of the derivative after {widenings} widenings towards the {side} "
                f"(bracket ({a:.6g}, {b:.6g}); the derivative is {value:.3g} at g = {end:.6g}). Either the "
                f"cap max_widenings = {max_widenings} is too small for the distance to the minimiser (raise it, "
                "or start from a bracket nearer the minimiser), or the length problem has no finite minimiser "
                "along this direction (the loss keeps decreasing as |g| grows; with a bounded loss such as the "
                "sigmoid this is the rule on separable or Gaussian data): then use a loss whose length "
                "problem has a finite minimiser"
            )
        width = b - a
        if not np.isfinite(4.0 * width + abs(a) + abs(b)):
            raise BracketError(f"the bracket ({a:.6g}, {b:.6g}) cannot be widened further within float64 without a "
                               "sign change of the derivative: the length problem has no finite minimiser found")
        widenings += 1
        if look_left:  # not decreasing at either end: the minimiser lies to the left
            a, b, hb = a - 2.0 * width, a, ha
            ha = h(a)
        else:  # not increasing at the right end: it lies to the right
            a, b, ha = b, b + 2.0 * width, hb
            hb = h(b)

    start = (a, b)
    for _ in range(steps):
        middle = 0.5 * (a + b)
        hm = h(middle)
        if hm < 0.0:
            a = middle
        elif hm > 0.0:
            b = middle
        else:
            return BisectionResult(middle, start, (middle, middle), evaluations, widenings)
    return BisectionResult(0.5 * (a + b), start, (a, b), evaluations, widenings)


class IncreasingSigns:
    r"""A derivative :math:`k`, increasing on a window, evaluated only where the signs already known do not decide its sign.

    :func:`bisection` uses only the signs of :math:`k`. Where :math:`k` is increasing (on the
    window :math:`[l, h]`; everywhere for a strictly convex length problem), :math:`k(x) < 0` gives
    :math:`k < 0` on :math:`[l, x]` and :math:`k(x) > 0` gives :math:`k > 0` on :math:`[x, h]`;
    an interval known to hold the root (:meth:`certify`) does the same for its two ends. Called
    at a point of the window whose sign is decided, this object returns -1.0 or +1.0 (the sign)
    without evaluating; elsewhere it returns :math:`k(g)` and learns its sign. Bisection then
    takes every halving and widening it would take with :math:`k` itself (lemma
    ``lem-bisection`` holds as stated) and returns the same midpoint; only a point within
    rounding of the root, where the computed sign of :math:`k` is rounding, can be decided
    differently. Points where :math:`k` is 0 or not finite teach nothing.

    Parameters
    ----------
    derivative : callable
        :math:`k`; the caller knows that it increases on ``window`` (not checked here).
    window : (float, float), default (-inf, inf)
        Where :math:`k` increases.

    Attributes
    ----------
    evaluations : int
        How many times ``derivative`` was evaluated.
    below, above : float
        The root lies in (``below``, ``above``) (as far as the window tells).
    """

    def __init__(self, derivative, window: tuple[float, float] = (-np.inf, np.inf)):
        self.derivative = derivative
        self.window = window
        self.below, self.value_below = -np.inf, -1.0  # the largest point known with k < 0
        self.above, self.value_above = np.inf, 1.0  # the smallest point known with k > 0
        self.evaluations = 0

    def inside(self, g: float) -> bool:
        """Whether ``g`` lies in the window, where the signs decide each other."""
        return self.window[0] <= g <= self.window[1]

    def learn(self, g: float, value: float) -> None:
        """Take the value :math:`k(g)` (evaluated elsewhere) into account."""
        if not self.inside(g):
            return
        if value < 0.0 and g > self.below:
            self.below, self.value_below = g, value
        elif value > 0.0 and g < self.above:
            self.above, self.value_above = g, value

    def certify(self, low: float, high: float) -> None:
        """Take into account that :math:`k(\\text{low}) < 0 < k(\\text{high})` (a root interval in the window)."""
        self.learn(low, -1.0)
        self.learn(high, 1.0)

    def __call__(self, g: float) -> float:
        if self.inside(g):
            if g <= self.below:
                return self.value_below
            if g >= self.above:
                return self.value_above
        self.evaluations += 1
        value = float(self.derivative(g))
        self.learn(g, value)
        return value
