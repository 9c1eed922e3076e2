r"""The length update of the decoupled solvers: the optimal length along a new direction.

Every decoupled solver of the book (:func:`lib.gdnp`, and the accelerated direction steps of
chapter ``ch-faster``) moves the direction :math:`w` and then finds the length
:math:`g_{t+1} \approx \arg\min_g f(w_{t+1}, g)` along it, as Algorithm ``alg-gdnp`` does:
by the closed form :math:`g^*(w) = -u^\top w/\|w\|_S` of lemma ``lem-ls-length`` where the
problem has one, and otherwise by :math:`T_s` steps of bisection on
:math:`\partial_g f(w_{t+1}, \cdot)` (lemma ``lem-bisection``) started from a bracket around the
previous length. :class:`ClosedFormLength` and :class:`BisectionLength` are the two searches, with one
interface (``find``, ``info``, ``bisection_steps``); :func:`length_search` picks one from a solver's
arguments, and a solver also accepts one directly (``length_search=``).

Where the ray also gives :math:`k'` (a sample with the logistic or squared sigmoid loss:
``ray.has_slope``), :func:`newton_probe` takes one Newton step from the bracket's centre and
:func:`newton_root_interval` proves an interval around the root of :math:`k` from it; bisection then
runs on :class:`lib.maths.bisection.IncreasingSigns`, which answers the sign questions that interval
decides without evaluating :math:`k`. The halvings and the returned midpoint are those of the plain
bisection (the rule of Algorithm ``alg-gdnp`` and lemma ``lem-bisection`` is unchanged); only the
number of evaluations of :math:`k` falls, from :math:`T_s + 2` or more to about one fused evaluation.
"""

from __future__ import annotations

import math

from ..core.validation import as_nonnegative_int, as_positive_float
from ..maths.bisection import IncreasingSigns, bisection

__all__ = ["ClosedFormLength", "BisectionLength", "length_search", "LengthSearch", "start_bracket",
           "DEFAULT_BISECTION_STEPS", "ADAPTIVE_MIN_STEPS", "NEWTON_MARGIN", "newton_probe",
           "newton_root_interval"]

#: Bisection steps per length update when a problem has no closed-form optimal length. The
#: warm-started bracket (see start_bracket) shrinks with the length's changes, so a modest
#: fixed number keeps the length term of theorem thm-halfspace-rate below the direction term.
DEFAULT_BISECTION_STEPS = 5

#: The adaptive bracket shrinks from one search to the next only with this many halvings: the
#: last search leaves an error of at most r 2^-T_s, so the next radius, twice the observed
#: change, is at most about 4 r 2^-T_s, which is below r only for T_s >= 3.
ADAPTIVE_MIN_STEPS = 3


#: Where :func:`newton_probe` looks for the sign change when no interval is certified (an increasing
#: derivative only): this fraction of the Newton step on either side of its result. Newton's error
#: after a step is quadratic in the step, so near convergence the sign change lies far inside; if
#: it does not, bisection evaluates as usual.
NEWTON_MARGIN = 2.0**-6

_EPS = 2.0**-52


def newton_root_interval(value: float, slope: float, centre: float, bounds: tuple[float, float, float],
                         radius: float) -> tuple[tuple[float, float], tuple[float, float]] | None:
    r"""A window where :math:`k` increases and an interval in it around the root, from :math:`k(c), k'(c)` alone.

    With :math:`x = c - k(c)/k'(c)` (computed), :math:`h = |x - c|`, computed values
    :math:`k_0, s_0` within :math:`\tau_0, \tau_1` of :math:`k(c), k'(c)` and
    :math:`|k''| \le M` (``bounds`` :math:`= (M, \tau_0, \tau_1)`), Taylor's theorem gives

    .. math:: |k(x)| \le A = |k_0 + s_0(x - c)| + \tau_0 + \tau_1 h + \tfrac12 M h^2

    (the first term with 4 ulps of its parts added for its own rounding), and on the window
    :math:`W = [c - R, c + R]`, :math:`R = r + 2h` (or less, down to :math:`2h`, where :math:`MR`
    would exceed :math:`(s_0 - \tau_1)/2`), :math:`k' \ge m = s_0 - \tau_1 - MR`. If
    :math:`m > 0` then :math:`k` increases on :math:`W`, and with :math:`\varepsilon = A/m`
    (raised slightly, and by 4 ulps of :math:`x`, so that the computed ends keep the property)
    :math:`k(x - \varepsilon) < 0 < k(x + \varepsilon)` whenever :math:`h + \varepsilon \le R`.

    Returns
    -------
    ((c - R, c + R), (x - epsilon, x + epsilon)), or None when the bound certifies nothing.
    """
    curvature, tau0, tau1 = bounds
    if not slope > 0.0:
        return None
    x = centre - value / slope
    h = abs(x - centre)
    reach = radius + 2.0 * h
    if curvature * reach > 0.5 * (slope - tau1):  # a narrower window, where k' keeps half its value
        reach = max(2.0 * h, 0.5 * (slope - tau1) / curvature)
    floor = slope - tau1 - curvature * reach
    if not (floor > 0.0 and math.isfinite(x) and math.isfinite(reach)):
        return None
    residual = abs(value + slope * (x - centre)) + 4.0 * _EPS * (abs(value) + slope * h)
    bound = residual + tau0 + tau1 * h + 0.5 * curvature * h * h
    epsilon = bound / floor * (1.0 + 2.0**-20) + 4.0 * _EPS * abs(x)
    if not h + epsilon <= reach:
        return None
    return (centre - reach, centre + reach), (x - epsilon, x + epsilon)


def newton_probe(ray, centre: float, radius: float) -> IncreasingSigns | None:
    r"""The derivative for the bisection around ``centre``, with the signs one Newton step decides; None to bisect as usual.

    One fused evaluation of :math:`k = \partial_g f` and :math:`k'` at the bracket's centre
    :math:`c` (``ray.derivative_and_slope``). Where :func:`newton_root_interval` certifies an
    interval around the root of :math:`k`, inside a window where :math:`k` increases that holds the
    bracket, the returned :class:`lib.maths.bisection.IncreasingSigns` knows it, and the halvings
    of :func:`lib.bisection` inside it need no evaluation (points of the bracket outside the
    window are evaluated). Otherwise, for a :math:`k` increasing
    everywhere (``ray.increasing_derivative``, the logistic loss), the signs of :math:`k` at
    :math:`x \mp` :data:`NEWTON_MARGIN` :math:`|x - c|` are evaluated instead. The bisection and
    its result are unchanged (see :class:`~lib.maths.bisection.IncreasingSigns`).
    """
    value, slope = ray.derivative_and_slope(centre)
    if not (math.isfinite(value) and math.isfinite(slope)):
        return None  # the bisection evaluates k itself and reports what is wrong
    everywhere = ray.increasing_derivative
    certified = newton_root_interval(value, slope, centre, ray.slope_bounds(centre), radius)
    if certified is not None:
        window, (low, high) = certified
        signs = IncreasingSigns(ray.derivative, (-math.inf, math.inf) if everywhere else window)
        signs.learn(centre, value)
        signs.certify(low, high)
        return signs
    if not everywhere:
        return None
    signs = IncreasingSigns(ray.derivative)
    signs.learn(centre, value)
    x = centre - value / slope if slope > 0.0 else math.nan
    offset = NEWTON_MARGIN * abs(x - centre)
    if math.isfinite(x) and offset > 0.0:
        signs(x - offset)
        signs(x + offset)
    return signs


def start_bracket(g: float, last_change: float | None, fixed_radius: float | None) -> tuple[float, float]:
    """A bracket around the previous length ``g``; bisection widens it when it has no sign change.

    With ``fixed_radius`` the bracket is ``g -+ fixed_radius``. Otherwise (adaptive) its radius is
    twice the last change of the length (a quarter of ``max(|g|, 1)`` before the first change),
    never below 1e-12 ``max(|g|, 1)``: the length changes less and less as the direction
    converges, so the bracket shrinks with it, and a fixed number of halvings keeps the length
    error (lemma lem-bisection: at most the radius times 2^-T_s) proportional to the progress
    of the direction.
    """
    scale = max(abs(g), 1.0)
    if fixed_radius is not None:
        radius = fixed_radius
    elif last_change is None:
        radius = 0.25 * scale
    else:
        radius = max(2.0 * abs(last_change), 1e-12 * scale)
    return g - radius, g + radius


class ClosedFormLength:
    r"""The length update by the closed form :math:`g^*(w) = -u^\top w/\|w\|_S` of lemma ``lem-ls-length``.

    For problems with ``closed_form_length`` (least squares), whose rays have ``exact_minimizer``.
    """

    closed_form = True
    bisection_steps = None

    @property
    def info(self) -> dict:
        """The settings, as the solvers report them in ``OptimizationResult.info``."""
        return dict(length_search="closed form", bisection_steps=None, bracket="closed form")

    def find(self, ray, g_previous: float, last_change: float | None) -> tuple[float, None]:
        """The optimal length along ``ray``, and None: no bracket was bisected."""
        return ray.exact_minimizer(), None


class BisectionLength:
    r"""The length update :math:`g_{t+1} = \operatorname{Bisection}(T_s, f, w_{t+1})` of Algorithm ``alg-gdnp``.

    :math:`T_s` steps of bisection on :math:`\partial_g f(w_{t+1}, \cdot)` (lemma ``lem-bisection``)
    from a bracket around the previous length (:func:`start_bracket`), widened while it has no
    sign change.

    Parameters
    ----------
    bisection_steps : int, default DEFAULT_BISECTION_STEPS
        :math:`T_s`.
    max_widenings : int
        Cap on the widenings of a bracket without a sign change (see :func:`lib.bisection`).
    bracket_radius : float, optional
        A fixed radius for every bracket (as in the paper's algorithm, whose bracket does not
        shrink: the length term of theorem ``thm-halfspace-rate`` then stays near
        :math:`\Psi^2 4^{-T_s-1}(2r)^2`); by default the adaptive radius of :func:`start_bracket`,
        which needs :data:`ADAPTIVE_MIN_STEPS` steps to shrink.
    """

    closed_form = False

    def __init__(self, bisection_steps: int = DEFAULT_BISECTION_STEPS, max_widenings: int = 40,
                 bracket_radius: float | None = None):
        self.max_widenings = as_nonnegative_int("max_widenings", max_widenings)
        self.bracket_radius = None if bracket_radius is None else as_positive_float("bracket_radius", bracket_radius)
        self.bisection_steps = as_nonnegative_int("bisection_steps", bisection_steps)
        if self.bisection_steps == 0:
            raise ValueError(
                "bisection_steps = 0 returns the centre of every bracket: the length would never move from "
                "where each search starts (g = 0 for the first one, where the direction cannot move either), "
                "and the run would stay at w_tilde = 0; expected at least 1 halving (3 or more for the adaptive "
                "bracket)"
            )
        if self.bracket_radius is None and self.bisection_steps < ADAPTIVE_MIN_STEPS:
            raise ValueError(
                f"bisection_steps = {self.bisection_steps} is too few for the adaptive bracket: it shrinks from "
                f"one search to the next only with at least {ADAPTIVE_MIN_STEPS} halvings (with fewer, the "
                "length error never falls); use more steps, or pass bracket_radius=... for a bracket of "
                "fixed radius"
            )

    @property
    def info(self) -> dict:
        """The settings, as the solvers report them in ``OptimizationResult.info``."""
        bracket = "adaptive" if self.bracket_radius is None else f"fixed radius {self.bracket_radius:g}"
        return dict(length_search="bisection", bisection_steps=self.bisection_steps, bracket=bracket)

    def find(self, ray, g_previous: float, last_change: float | None) -> tuple[float, float]:
        """The length along ``ray``'s direction and the width of the bracket bisected.

        Parameters
        ----------
        ray
            The length problem along the new direction (``problem.ray(w)``).
        g_previous : float
            The previous length, the centre of the bracket (0 for the first search).
        last_change : float or None
            The previous change of the length, which sets the adaptive radius (None at first).
        """
        bracket = start_bracket(g_previous, last_change, self.bracket_radius)
        derivative = ray.derivative
        if getattr(ray, "has_slope", False):  # k' is at hand: decide signs without evaluating k
            derivative = newton_probe(ray, g_previous, 0.5 * (bracket[1] - bracket[0])) or ray.derivative
        found = bisection(derivative, bracket, self.bisection_steps, max_widenings=self.max_widenings)
        return found.root, found.width

    def length_bound(self, problem, width: float) -> float:
        r"""The bound :math:`\Psi^2 4^{-T_s-1}(b - a)^2` of lemma ``lem-bisection`` on the squared
        length part of the gradient after a search in a bracket of width ``width``."""
        return problem.length_curvature_bound**2 * 4.0 ** (-self.bisection_steps - 1) * width**2


def length_search(problem, bisection_steps: int | None = None, max_widenings: int = 40,
                  bracket_radius: float | None = None):
    """The length search of Algorithm ``alg-gdnp`` for ``problem``, as the solvers' arguments choose it.

    The closed form (:class:`ClosedFormLength`) where the problem has one and ``bisection_steps``
    is None; otherwise :class:`BisectionLength` with ``bisection_steps`` (default
    :data:`DEFAULT_BISECTION_STEPS`), ``max_widenings`` and ``bracket_radius``.
    """
    max_widenings = as_nonnegative_int("max_widenings", max_widenings)
    if bisection_steps is None and problem.closed_form_length:
        if bracket_radius is not None:
            as_positive_float("bracket_radius", bracket_radius)
        return ClosedFormLength()
    steps = DEFAULT_BISECTION_STEPS if bisection_steps is None else bisection_steps
    return BisectionLength(steps, max_widenings, bracket_radius)


def LengthSearch(problem, bisection_steps: int | None = None, max_widenings: int = 40,  # noqa: N802
                 bracket_radius: float | None = None):
    """The former name of :func:`length_search`, kept for code written against it."""
    return length_search(problem, bisection_steps, max_widenings, bracket_radius)
