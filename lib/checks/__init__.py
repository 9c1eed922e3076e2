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

from .registry import LINE_WIDTH, REGISTRY, Check, CheckResult, largest, run, smallest, verifies

# The chapters' check modules register themselves on import (they import from .registry, never
# from this package, so that there is no import cycle).
from . import beyond, faster, halfspaces, least_squares, networks, reparametrization  # noqa: E402,F401

__all__ = ["CheckResult", "REGISTRY", "Check", "verifies", "run", "largest", "smallest", "LINE_WIDTH",
           "beyond", "faster", "halfspaces", "least_squares", "networks", "reparametrization"]
