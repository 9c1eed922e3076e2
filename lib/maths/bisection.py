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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.validation import as_nonnegative_int, as_positive_float

__all__ = ["bisection", "BisectionResult", "BracketError"]


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
    steps = as_nonnegative_int("bisection_steps", steps)
    max_widenings = as_nonnegative_int("max_widenings", max_widenings)
    try:
        a, b = (float(v) for v in bracket)
    except (TypeError, ValueError) as error:
        raise TypeError(f"bracket must be a pair of numbers (a, b), got {bracket!r}") from error
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"bracket must be finite with a < b, got ({a}, {b})")
    as_positive_float("bracket width", b - a)

    evaluations = 0

    def h(g: float) -> float:
        nonlocal evaluations
        evaluations += 1
        value = float(derivative(g))
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
                f"(bracket ({a:.6g}, {b:.6g}); the derivative is {value:.3g} at g = {end:.6g}): the "
                "length problem seems to have no finite minimiser along this direction (the loss "
                "keeps decreasing as |g| grows, as for the sigmoid loss on Gaussian data); use a "
                "loss whose length problem has a finite minimiser, or raise max_widenings"
            )
        width = b - a
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
