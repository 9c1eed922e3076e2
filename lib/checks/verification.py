"""The verification appendix: every statement of the book beside the check that tests it.

:func:`verify` pairs each theorem, lemma and proposition found by
:func:`lib.checks.statements.find_statements` with its registered check, the chapter cells
that call the check and the test that runs it on unseen seeds; it runs the check with the
book's seed and keeps the measured figure. :func:`markdown_table` renders the result for the
book (``book/verification.ipynb`` runs both when the book is built), and
:func:`require_verified` raises when a statement has no check, no cell calling it, or a check
that fails, so that the appendix, and with it the build and the notebook tests, fails.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from . import REGISTRY, Check, CheckResult, run
from .statements import Statement, cells_calling

__all__ = ["TEST_ID", "Verification", "VerificationError", "locate_check", "verify", "require_verified",
           "markdown_table"]

#: The test that runs the check of ``label`` on a seed the book never uses.
TEST_ID = "tests/test_theorems.py::test_check_holds_on_unseen_seed[{label}]"


class VerificationError(AssertionError):
    """Raised when a statement of the book is not verified by a passing check."""


@dataclass(frozen=True)
class Verification:
    """One statement with its check, the cells that call it, and the check's outcome.

    Attributes
    ----------
    statement : Statement
    check : Check or None
        The registered check (``None`` when the statement has none).
    cells : tuple of int
        The code cells of the statement's chapter that call the check (1-based, as numbered
        when the notebook runs from the top).
    result : CheckResult or None
        The outcome with the book's seed (``None`` when the check did not run).
    seconds : float
        How long the check took.
    problems : tuple of str
        Why the statement is not verified; empty when it is.
    """

    statement: Statement
    check: Check | None
    cells: tuple[int, ...]
    result: CheckResult | None
    seconds: float
    problems: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def test_id(self) -> str:
        return TEST_ID.format(label=self.statement.label)


def locate_check(statement: Statement) -> tuple[Check | None, tuple[int, ...], list[str]]:
    """Find what checks ``statement``, without running it.

    Returns
    -------
    check : Check or None
        The check registered under the statement's label.
    cells : tuple of int
        The code cells of the statement's chapter that call the check (1-based).
    problems : list of str
        What is missing: a label, a registered check, a check registered for this chapter, a
        cell that calls it. Empty when nothing is.
    """
    if statement.label is None:
        return None, (), ["has no :label:, so no check can name it"]
    check = REGISTRY.get(statement.label)
    if check is None:
        return None, (), ["MISSING: no check is registered in lib.checks"]
    problems = []
    if check.chapter != statement.chapter:
        problems.append(f"the check is registered for chapter {check.chapter}, the statement is in {statement.chapter}")
    cells = tuple(cells_calling(statement.source, check.function.__name__))
    if not cells:
        problems.append(f"no cell of {statement.chapter} calls {check.name}")
    return check, cells, problems


def _verify_one(statement: Statement, seed: int) -> Verification:
    check, cells, problems = locate_check(statement)
    if check is None:
        return Verification(statement, None, (), None, 0.0, tuple(problems))
    start = time.perf_counter()
    try:
        result = run(statement.label, seed=seed)
    except Exception as error:  # a crashing check is reported beside the others, then fails the appendix
        result = None
        problems.append(f"the check raised {type(error).__name__}: {error}")
    seconds = time.perf_counter() - start
    if result is not None and not result.passed:
        problems.append("the check FAILS")
    return Verification(statement, check, cells, result, seconds, tuple(problems))


def verify(statements, seed: int = 0) -> list[Verification]:
    """Run the check of every statement with ``seed`` (the book's seed is 0).

    Parameters
    ----------
    statements : iterable of Statement
        Usually ``find_statements(book_directory)``.
    seed : int
        The seed the chapters use, so that the figures match the chapters' cells.

    Returns
    -------
    list of Verification
        In the order of ``statements``; unverified statements are included, with their problems.
    """
    return [_verify_one(statement, seed) for statement in statements]


def require_verified(verifications) -> None:
    """Raise :class:`VerificationError` listing every statement that is not verified."""
    verifications = list(verifications)
    if not verifications:
        raise VerificationError("no theorem, lemma or proposition was found: is the book directory right?")
    failures = [f"{v.statement.kind} {v.statement.label or v.statement.title!r} ({v.statement.chapter}): "
                + "; ".join(v.problems) for v in verifications if not v.verified]
    if failures:
        raise VerificationError(f"{len(failures)} statement(s) not verified:\n" + "\n".join(failures))


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]<>|$~#])")


def _cell_text(text: str) -> str:
    """Plain text safe inside a markdown table cell: one line, markdown punctuation escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def _statement_cell(statement: Statement) -> str:
    title = f" ({statement.title})" if statement.title else ""
    if statement.label is None:
        return _cell_text(f"{statement.kind}{title} in {statement.chapter}, without a label")
    return f"{{prf:ref}}`{statement.label}`" + title


def _check_cell(verification: Verification) -> str:
    if verification.check is None:
        return "**MISSING**"
    cells = ", ".join(map(str, verification.cells)) or "none"
    test = verification.test_id.split("::")[-1]
    return f"`{verification.check.name}`, called by code cell {cells}; test `{test}`"


def _figure_cell(result: CheckResult | None) -> str:
    if result is None:
        return "not run"
    return _cell_text(result.figure)


def _verdict_cell(verification: Verification) -> str:
    result = verification.result
    numbers = f" ({result.measured:.6g} against {result.bound:.6g})" if result is not None else ""
    if verification.verified:
        return "holds" + numbers
    return "**" + _cell_text("; ".join(verification.problems)) + "**" + numbers


def markdown_table(verifications) -> str:
    """A MyST markdown table of the verifications, one row per statement, with links to each statement.

    The statement column is a ``{prf:ref}`` role, so the rendered table links to the numbered
    statement; render the output with ``mystnb: markdown_format: myst``. The verdict gives the
    measured number and the bound it was compared with.
    """
    test_file = TEST_ID.split("::")[0]
    header = (f"| Statement | Check in `lib.checks`, and test in `{test_file}` | Measured with the book's seed "
              "| Verdict (measured against bound) |\n|---|---|---|---|")
    rows = [f"| {_statement_cell(v.statement)} | {_check_cell(v)} | {_figure_cell(v.result)} | {_verdict_cell(v)} |"
            for v in verifications]
    return "\n".join([header, *rows])
