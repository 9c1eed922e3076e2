"""The registry of checks: :class:`CheckResult`, :class:`Check`, the decorator :func:`verifies`
that registers a chapter's check under its statement's label, and :func:`run`.

The chapter modules (``least_squares``, ``halfspaces``, ...) import from here; the package
:mod:`lib.checks` imports them, so that importing it registers every check.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["CheckResult", "REGISTRY", "Check", "verifies", "run", "largest", "smallest", "LINE_WIDTH"]

#: The longest line a check prints: what the book's column shows without scrolling at 1280 px.
LINE_WIDTH = 76


def largest(*values) -> float:
    """The largest of ``values`` (numbers or arrays), or NaN if any of them is NaN.

    Python's ``max(x, nan)`` returns ``x`` and drops the NaN; a check must not: a NaN in a measured
    figure means the code under test broke, and the check must fail.
    """
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values])
    return float("nan") if np.isnan(flat).any() else float(np.max(flat))


def smallest(*values) -> float:
    """The smallest of ``values`` (numbers or arrays), or NaN if any of them is NaN."""
    return -largest(*(-np.asarray(v, dtype=float) for v in values))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one numerical check of a statement of the book.

    Attributes
    ----------
    label : str
        The book label of the statement (``thm-...``, ``lem-...``, ``prop-...``).
    figure : str
        The measured figure as a reader should see it, e.g.
        ``"worst one-step ratio 0.99995 x (1 - mu/L)^2"``.
    measured, bound : float
        The number measured and the number it must not exceed.
    passed : bool
        Whether every condition of the check held (some checks test more than one).
    details : dict
        Further numbers worth printing (sizes, seeds, secondary figures).
    """

    label: str
    figure: str
    measured: float
    bound: float
    passed: bool
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a NaN or an infinity in the measured figure or its bound is a failure, whatever the check said
        if not (math.isfinite(self.measured) and math.isfinite(self.bound)):
            object.__setattr__(self, "passed", False)

    def __str__(self) -> str:
        """The verdict with the measured number and its bound first, then the figure, then the
        details, in lines of at most :data:`LINE_WIDTH` characters (the book's column)."""
        verdict = "holds" if self.passed else "FAILS"
        lines = [f"{self.label}: {verdict}, measured {self.measured:.6g} against the bound {self.bound:.6g}"]
        lines += textwrap.wrap(self.figure, LINE_WIDTH, initial_indent="  ", subsequent_indent="  ")
        for key, value in self.details.items():
            lines += textwrap.wrap(f"{key}: {value}", LINE_WIDTH, initial_indent="    ", subsequent_indent="      ")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # how IPython shows it in a cell
        printer.text(str(self))

    def require(self) -> "CheckResult":
        """Return ``self`` if the check passed, else raise :class:`AssertionError` with the figures."""
        if not self.passed:
            raise AssertionError(str(self))
        return self


@dataclass(frozen=True)
class Check:
    """A registered check: the statement's label, its chapter and the function that checks it.

    ``special_case`` says, when the check exercises only part of what the statement claims (a
    number of units, one loss, one direction of an equivalence), which part; the verification
    appendix prints it beside the verdict.
    """

    label: str
    chapter: str
    statement: str
    function: Callable[..., CheckResult]
    special_case: str | None = None

    @property
    def name(self) -> str:
        """The dotted name a chapter calls, e.g. ``checks.least_squares.ls_rate``."""
        module = self.function.__module__.removeprefix("lib.")
        return f"{module}.{self.function.__name__}"


#: Every check, by the label of the statement it checks.
REGISTRY: dict[str, Check] = {}


def verifies(label: str, chapter: str, statement: str, special_case: str | None = None):
    """Register a check function for the statement ``label`` of ``chapter``.

    ``special_case``: what part of the statement the check covers, when it covers only a special
    case (see :class:`Check`).
    """

    def register(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        if label in REGISTRY:
            raise ValueError(f"{label} already has a check: {REGISTRY[label].name}")
        checked = _validating(function)
        REGISTRY[label] = Check(label, chapter, statement, checked, special_case)
        return checked

    return register


def _validating(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """``function`` with its arguments checked against its defaults before it runs.

    ``seed`` must be an integer >= 0 (or a ``numpy.random.Generator``); an argument whose default is
    an integer (a count: instances, points, steps) must be an integer >= 1; one whose default is a
    float (a step, a width, an angle) must be finite and > 0. Anything else raises ``ValueError``
    or ``TypeError`` naming the argument, instead of a check that measures nothing and passes.
    """
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args, **kwargs) -> CheckResult:
        try:
            arguments = signature.bind(*args, **kwargs).arguments
        except TypeError as error:  # an unknown or missing argument: say which ones the check takes
            raise TypeError(f"{function.__name__}: {error}; it takes {', '.join(signature.parameters)}") from None
        for name, value in arguments.items():
            _check_argument(function.__name__, name, value, signature.parameters[name].default)
        return function(*args, **kwargs)

    return checked


def _check_argument(check: str, name: str, value, default) -> None:
    where = f"{check}: {name}"
    if name == "seed":
        if isinstance(value, np.random.Generator):
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{where} must be an integer >= 0 or a numpy Generator, got {value!r}")
    elif isinstance(default, bool) or default is inspect.Parameter.empty or default is None:
        return
    elif isinstance(default, numbers.Integral):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{where} must be an integer (a count), got {type(value).__name__} {value!r}")
        if value < 1:
            raise ValueError(f"{where} must be at least 1, got {value}: a check over nothing measures nothing")
    elif isinstance(default, numbers.Real):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a real number, got {type(value).__name__} {value!r}")
        if not (abs(value) <= 1.7976931348623157e308 and math.isfinite(value) and value > 0):  # no OverflowError
            raise ValueError(f"{where} must be finite and > 0, got {value!r:.40}")


def run(label: str, seed: int = 0, **sizes) -> CheckResult:
    """Run the check registered for ``label``.

    Raises
    ------
    TypeError
        If ``label`` is not a string, or ``sizes`` names an argument the check does not take.
    ValueError
        If no check is registered for ``label`` (the message lists the labels), or the seed or a
        size is invalid (see :func:`verifies`).
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be the book label of a statement (a str such as 'thm-ls-rate'), got {label!r}")
    if label not in REGISTRY:
        raise ValueError(f"no check is registered for {label!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[label].function(seed=seed, **sizes)
