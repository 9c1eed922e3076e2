"""Numerical checks of the book's lemmas and theorems, one function per statement.

Each check is registered under the book label of the statement it checks (for instance
``thm-ls-rate``) and returns a :class:`CheckResult`: the measured figure, the bound it is
compared with, and whether the claim held. The same function is called

* by the cell that follows the statement in its chapter (with the book's seed),
* by ``tests/test_theorems.py`` (with seeds the book never uses), and
* by the verification appendix, which lists every statement with its check.

A check can fail: each compares a measured number with a bound that the mathematics fixes in
advance, and ``tests/test_theorems.py`` also feeds some of them a deliberately wrong solver
to see them fail.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["CheckResult", "REGISTRY", "Check", "verifies", "run", "LINE_WIDTH"]

#: The longest line a check prints: what the book's column shows without scrolling at 1280 px.
LINE_WIDTH = 76


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
    """A registered check: the statement's label, its chapter and the function that checks it."""

    label: str
    chapter: str
    statement: str
    function: Callable[..., CheckResult]

    @property
    def name(self) -> str:
        """The dotted name a chapter calls, e.g. ``checks.least_squares.ls_rate``."""
        module = self.function.__module__.removeprefix("lib.")
        return f"{module}.{self.function.__name__}"


#: Every check, by the label of the statement it checks.
REGISTRY: dict[str, Check] = {}


def verifies(label: str, chapter: str, statement: str):
    """Register a check function for the statement ``label`` of ``chapter``."""

    def register(function: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        if label in REGISTRY:
            raise ValueError(f"{label} already has a check: {REGISTRY[label].name}")
        REGISTRY[label] = Check(label, chapter, statement, function)
        return function

    return register


def run(label: str, seed: int = 0, **sizes) -> CheckResult:
    """Run the check registered for ``label``."""
    if label not in REGISTRY:
        raise KeyError(f"no check is registered for {label!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[label].function(seed=seed, **sizes)


# The chapters' check modules register themselves on import.
from . import beyond, halfspaces, least_squares, networks, reparametrization  # noqa: E402,F401
