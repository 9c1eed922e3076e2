"""The verification appendix: every statement of the book beside the check that tests it.

:func:`verify` pairs each theorem, lemma and proposition found by
:func:`lib.checks.statements.find_statements` with its registered check, the chapter cells
that call the check and the test that runs it on unseen seeds; it runs the check with the
book's seed and keeps the measured figure. :func:`markdown_report` renders the result for the
book (``book/verification.ipynb`` runs both when the book is built), and
:func:`require_verified` raises when a statement has no check, no cell calling it, or a check
that fails, so that the appendix, and with it the build and the notebook tests, fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..checks import REGISTRY, Check, CheckResult, run
from .statements import Statement, cells_calling

__all__ = ["TEST_ID", "Verification", "VerificationError", "locate_check", "verify", "require_verified",
           "markdown_report"]

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
    problems : tuple of str
        Why the statement is not verified; empty when it is.
    """

    statement: Statement
    check: Check | None
    cells: tuple[int, ...]
    result: CheckResult | None
    problems: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def test_id(self) -> str:
        return TEST_ID.format(label=self.statement.label)


def _ordinal(number: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th": the N-th code cell of a chapter."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


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
    # the qualified name: a bare function name such as rayleigh_gradient also matches lib.rayleigh_gradient
    cells = tuple(cells_calling(statement.source, check.name))
    if not cells:
        problems.append(f"no cell of {statement.chapter} calls {check.name}")
    return check, cells, problems


def _verify_one(statement: Statement, seed: int) -> Verification:
    check, cells, problems = locate_check(statement)
    if check is None:
        return Verification(statement, None, (), None, tuple(problems))
    try:
        result = run(statement.label, seed=seed)
    except Exception as error:  # a crashing check is reported beside the others, then fails the appendix
        result = None
        problems.append(f"the check raised {type(error).__name__}: {error}")
    if result is not None and not result.passed:
        problems.append("the check FAILS")
    return Verification(statement, check, cells, result, tuple(problems))


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


def _plain(text: str) -> str:
    """Text shown as written: one line, markdown punctuation escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def _statement_line(verification: Verification) -> str:
    statement, result = verification.statement, verification.result
    title = f" ({statement.title})" if statement.title else ""
    if statement.label is None:
        name = _plain(f"{statement.kind.title()}{title} in {statement.chapter}, without a label")
    else:
        name = f"{{prf:ref}}`{statement.label}`{title}"
    verdict = "holds" if verification.verified else _plain("; ".join(verification.problems))
    bound = f", measured {result.measured:.6g} against the bound {result.bound:.6g}" if result is not None else ""
    return f"{name}: **{verdict}**{bound}."


def _evidence_lines(verification: Verification) -> list[str]:
    lines = []
    if verification.result is not None:
        lines.append(f"Measured with the book's seed: {_plain(verification.result.figure.rstrip('.'))}.")
    if verification.check is not None:
        numbers = [_ordinal(n) for n in verification.cells]
        cells = (" and ".join(numbers) + (" code cells" if len(numbers) > 1 else " code cell")) if numbers else "no code cell"
        lines.append(f"Checked by `{verification.check.name}` in {cells} of its chapter; tested on an "
                     f"unseen seed by `{verification.test_id.split('::')[-1]}`.")
        if verification.check.special_case:
            lines.append(f"*Covers only a special case:* {_plain(verification.check.special_case.rstrip('.'))}.")
    return lines


def markdown_report(verifications) -> str:
    """MyST markdown with one list item per statement: its verdict, measured figure, check and test,
    and the special case the check covers when it covers only one.

    Each item starts with a ``{prf:ref}`` role, so the rendered page links to the numbered
    statement; render the output with ``mystnb: markdown_format: myst``. (A table with these
    columns does not fit the page: the names of checks and tests do not wrap.)
    """
    items = []
    for verification in verifications:
        lines = [_statement_line(verification), *_evidence_lines(verification)]
        items.append("- " + "\\\n  ".join(lines))
    return "\n".join(items)
