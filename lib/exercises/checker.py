r"""Running a student's function on the cases of a coding exercise, and judging what it returned.

A :class:`CodingExercise` knows the function a student is asked to write (its name and its
reference implementation in :mod:`lib`) and two lists of :class:`Case` inputs:

* the *visible* cases, seeded and fixed, edge cases included: the self-check cell of the
  chapter runs them, and its report shows the failing case in full;
* the *hidden* cases, random instances of the same kinds drawn from a seed
  (:meth:`CodingExercise.hidden_cases`): only grading runs them (the grading command, and
  nbgrader's test cells of the instructor edition). Whoever knows the seed can rebuild them:
  they are hidden from the notebook, and secret only if the lecturer's seed is.

Judging happens in two steps that need not share a process. :func:`call` runs a function on one
case and records its :class:`Outcome` (a value, an error, a warning or a time-out) as plain
data; :meth:`CodingExercise.judge` compares the outcomes with the reference's and returns an
:class:`ExerciseResult`, with the number of cases passed (for partial credit) and the report
of the first failing case. :meth:`CodingExercise.evaluate` does both in this process (a
self-check); the grading command calls the student's function in the submission's kernel and
judges in its own process (:mod:`lib.exercises.transport` carries the outcomes across).
:meth:`CodingExercise.check`, what a self-check cell calls, prints the result and raises when
the function is wrong, so that a failing self-check shows as a failing cell:

* all cases right: it prints one line, ``rayleigh_gradient: correct (7 cases)``;
* the function still raises :class:`NotImplementedError` (the stub of the student edition):
  it says so and raises :class:`NotImplementedError` again;
* a case is wrong: it prints the case (its inputs), the expected and the returned value and
  the first wrong entry, and raises :class:`ExerciseFailure`.

The reference's behaviour is the specification, errors included: where the reference raises
(a ``ValueError`` for an input outside the domain), the student's function must raise an
exception of the same built-in kind. A function that calls ``exit()`` or ``sys.exit()`` fails
its case (it does not end the check or the grading). A case also fails when the function prints
a numpy warning (an overflow, a division by zero), when it does not return within a time limit
(an endless loop; the limit needs the main thread of a Unix process, as in a Jupyter kernel),
or when it returns something that is not a result (``None``: a forgotten ``return``).
"""

from __future__ import annotations

import copy
import dataclasses
import signal
import threading
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .comparison import describe_difference, format_value

__all__ = ["Case", "CaseTimeout", "CodingExercise", "Described", "ExerciseFailure", "ExerciseResult", "Outcome",
           "RaisedError", "call", "earned_points"]

#: How many characters of an error's message are kept.
MESSAGE_LIMIT = 500


class ExerciseFailure(AssertionError):
    """A self-check found the student's function wrong; the message says on which case and how."""


class CaseTimeout(BaseException):
    """Raised inside a student's function that runs past the time limit of one case.

    A ``BaseException``, so that an ``except Exception`` in the student's code cannot swallow it.
    """


@dataclass(frozen=True)
class Case:
    """One input of a coding exercise.

    Attributes
    ----------
    description : str
        What the case tests, in a few words ("w at the optimum: the gradient vanishes").
    arguments : dict
        The arguments in the order of the function's signature, by name; the function is
        called with them positionally.
    hidden : bool, default False
        Whether the case is one of the hidden cases that only grading runs.
    """

    description: str
    arguments: dict
    hidden: bool = False


class Described:
    """A function passed as an argument, shown in messages by a formula instead of its address.

    Parameters
    ----------
    function : callable
    text : str
        How messages show it, e.g. ``"h(g) = g - 1"``.
    """

    def __init__(self, function: Callable, text: str):
        self.function = function
        self.text = text

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RaisedError:
    """An exception a call raised, as plain data.

    Attributes
    ----------
    name : str
        The name of its type (``BracketError``).
    kinds : tuple of str
        The built-in exception types it is an instance of, nearest first
        (``("ValueError", "Exception", "BaseException")``).
    message : str
        Its message, at most :data:`MESSAGE_LIMIT` characters.
    """

    name: str
    kinds: tuple[str, ...]
    message: str

    @classmethod
    def of(cls, error: BaseException) -> "RaisedError":
        """The plain-data description of ``error`` (whatever its ``__str__`` does)."""
        kinds = tuple(t.__name__ for t in type(error).__mro__ if t.__module__ == "builtins" and t is not object)
        try:
            message = str(error)[:MESSAGE_LIMIT]
        except Exception:  # noqa: BLE001 - a student's exception whose __str__ raises
            message = "(its message cannot be shown)"
        return cls(type(error).__name__, kinds, message)

    @property
    def kind(self) -> str:
        """The nearest built-in exception type (``ValueError`` for a ``BracketError``)."""
        return self.kinds[0] if self.kinds else "Exception"


@dataclass(frozen=True)
class Outcome:
    """What one call of a function on one case did: returned a value, raised, warned, or ran out of time."""

    value: Any = None
    error: RaisedError | None = None
    warning: str | None = None
    timed_out: bool = False

    @property
    def not_implemented(self) -> bool:
        """Whether the call raised NotImplementedError (the stub of the student edition)."""
        return self.error is not None and "NotImplementedError" in self.error.kinds


@contextmanager
def _time_limit(seconds: float):
    """Raise :class:`CaseTimeout` in the body after ``seconds``, where signals allow it."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise CaseTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def call(function: Callable, arguments: dict, time_limit: float | None = None) -> Outcome:
    """Call ``function`` on copies of a case's arguments and record what it did.

    Parameters
    ----------
    function : callable
    arguments : dict
        The case's arguments, passed positionally in their order.
    time_limit : float, optional
        Seconds the call may take (no limit if None).

    Returns
    -------
    Outcome
        The value, or the error it raised (``SystemExit`` included), the first warning it
        printed (overflow, division by zero and invalid values warn; underflow does not), or
        that it ran out of time. ``KeyboardInterrupt`` is not an outcome: it propagates.
    """
    inputs = copy.deepcopy(list(arguments.values()))  # a function that edits its inputs edits copies
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn",
                                                                      invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            with _time_limit(time_limit) if time_limit is not None else nullcontext():
                value = function(*inputs)
        except CaseTimeout:
            return Outcome(timed_out=True)
        # any error of the student's code is reported, sys.exit() included; KeyboardInterrupt still stops
        except (Exception, SystemExit) as error:  # noqa: BLE001
            return Outcome(error=RaisedError.of(error))
    shown = [w for w in caught if issubclass(w.category, (RuntimeWarning, UserWarning, DeprecationWarning))]
    warning = f"{shown[0].category.__name__}: {shown[0].message}"[:MESSAGE_LIMIT] if shown else None
    return Outcome(value=value, warning=warning)


def earned_points(points: float, passed: int, total: int) -> float:
    """The points for ``passed`` of ``total`` cases: ``points * passed / total``, rounded to hundredths.

    Rounding to hundredths keeps the gradebook readable; two graders that count the same cases
    (this kit and nbgrader's test cells) give the same number.
    """
    if total <= 0:
        return 0.0
    return round(points * passed / total, 2)


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one coding exercise for one function.

    Attributes
    ----------
    exercise : str
        The exercise's book label, e.g. ``"ex-ls-rayleigh-gradient"``.
    function : str
        The name of the function the exercise asks for.
    status : str
        ``"correct"`` (every case passed), ``"partial"`` (some did), ``"wrong"`` (none did),
        ``"not written"`` (it raises NotImplementedError) or ``"missing"`` (no such function
        was defined; only when grading a notebook).
    cases_passed, cases_total : int
        Visible and hidden cases together.
    message : str
        The report: one line when correct, the first failing case in full otherwise.
    failed_case : int or None
        The index (from 0, in the order the cases were tried) of the first failing case.
    """

    exercise: str
    function: str
    status: str
    cases_passed: int
    cases_total: int
    message: str
    failed_case: int | None = None

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def points(self, points: float) -> float:
        """The share of ``points`` this result earns: one per case passed, see :func:`earned_points`."""
        return earned_points(points, self.cases_passed, self.cases_total)

    def as_dict(self) -> dict:
        """The result as plain data (for JSON), with ``passed`` added."""
        return {**dataclasses.asdict(self), "passed": self.passed}


def _shown(head: str, value, indent: str) -> str:
    """``head value`` on one line, or ``head`` and the value indented below it when it is long."""
    text = format_value(value)
    if text.startswith("\n"):
        return head + text.replace("\n", "\n" + indent)
    return f"{head} {text}"


class CodingExercise:
    """A coding exercise: the function a student writes, its reference in :mod:`lib`, and its cases.

    Parameters
    ----------
    label : str
        The exercise's book label (``ex-...``); the exercise directive in the chapter has it.
    chapter : str
        The chapter's notebook name, e.g. ``"02-least-squares"``.
    function_name : str
        The name the student's function has in the chapter (``rayleigh_gradient``).
    reference : callable
        The reference implementation, taking the same arguments.
    cases : callable
        Returns the list of visible :class:`Case` (built on first use, so that importing is cheap).
    rtol, atol : float
        The tolerance of one entry of the result.
    names : tuple of str, optional
        Names of the entries of a tuple result, for the messages.
    time_limit : float, default 10
        Seconds one call of the student's function may take.
    hidden : callable, optional
        ``hidden(rng)`` returns the hidden cases drawn with the numpy generator ``rng``.
    delegates : tuple of str
        The dotted names of the functions of :mod:`lib` that solve the exercise whole
        (``"lib.rayleigh.rayleigh_gradient"``): a solution that calls them is flagged for the
        lecturer when grading.
    """

    def __init__(self, label: str, chapter: str, function_name: str, reference: Callable,
                 cases: Callable[[], Iterable[Case]], *, rtol: float, atol: float,
                 names: tuple[str, ...] | None = None, time_limit: float = 10.0,
                 hidden: Callable[[np.random.Generator], Iterable[Case]] | None = None,
                 delegates: tuple[str, ...] = ()):
        self.label = label
        self.chapter = chapter
        self.function_name = function_name
        self.reference = reference
        self._make_cases = cases
        self._cases: list[Case] | None = None
        self._make_hidden = hidden
        self._hidden: dict[int, list[Case]] = {}
        self.rtol = rtol
        self.atol = atol
        self.names = names
        self.time_limit = time_limit
        self.delegates = tuple(delegates)

    def __repr__(self) -> str:
        return f"CodingExercise({self.label!r}, function {self.function_name!r}, chapter {self.chapter!r})"

    @property
    def cases(self) -> list[Case]:
        """The visible cases, in the order they are tried."""
        if self._cases is None:
            self._cases = list(self._make_cases())
        return self._cases

    def hidden_cases(self, seed: int) -> list[Case]:
        """The hidden cases drawn from ``seed`` (a non-negative integer), marked ``hidden``.

        Raises
        ------
        ValueError
            If ``seed`` is not a non-negative integer.
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"the seed of the hidden cases must be a non-negative integer, got {seed!r}")
        if self._make_hidden is None:
            return []
        if int(seed) not in self._hidden:
            rng = np.random.default_rng([int(seed), sum(map(ord, self.label))])  # another stream per exercise
            self._hidden[int(seed)] = [dataclasses.replace(case, hidden=True) for case in self._make_hidden(rng)]
        return self._hidden[int(seed)]

    def graded_cases(self, seed: int | None) -> list[Case]:
        """The visible cases, then the hidden cases of ``seed`` (none if ``seed`` is None)."""
        return self.cases + ([] if seed is None else self.hidden_cases(seed))

    def expected(self, cases: list[Case]) -> list[Outcome]:
        """The reference's outcome on every case.

        Raises
        ------
        RuntimeError
            If the reference warns on a case (a bug of :mod:`lib` or of the case, not of a student).
        """
        outcomes = [call(self.reference, case.arguments) for case in cases]
        for case, outcome in zip(cases, outcomes):
            if outcome.warning is not None:
                raise RuntimeError(f"the reference of {self.label} warned on {case.description}: {outcome.warning}")
        return outcomes

    def run(self, function, cases: list[Case]) -> list[Outcome]:
        """The outcomes of ``function`` on ``cases``; it stops after a first case that raises NotImplementedError."""
        outcomes = []
        for case in cases:
            outcomes.append(call(function, case.arguments, self.time_limit))
            if outcomes[0].not_implemented:
                break
        return outcomes

    # ------------------------------------------------------------------ judging
    def evaluate(self, function, seed: int | None = None) -> ExerciseResult:
        """Run ``function`` on the visible cases (and the hidden cases of ``seed``) and judge it.

        Never raises for anything ``function`` does (``KeyboardInterrupt`` aside).
        """
        if not callable(function):
            name = self.function_name
            shown = format_value(function)[:60]
            return self._result("wrong", 0, len(self.graded_cases(seed)), (
                f"{name}: the check expects the function {name} itself, got a {type(function).__name__} "
                f"({shown}); pass `{name}`, not `{name}(...)`"), failed=0)
        cases = self.graded_cases(seed)
        return self.judge(cases, self.expected(cases), self.run(function, cases))

    def judge(self, cases: list[Case], expected: list[Outcome], returned: list[Outcome | None]) -> ExerciseResult:
        """Compare the outcomes of a student's function with the reference's; never raises.

        Parameters
        ----------
        cases : list of Case
            The cases, in the order they were tried.
        expected : list of Outcome
            The reference's outcomes (:meth:`expected`).
        returned : list of Outcome or None
            The student's outcomes, in the same order; a missing or None entry is a case
            without a result (the grading stopped before it).

        Returns
        -------
        ExerciseResult
            ``"not written"`` when the first case raised NotImplementedError; otherwise
            ``"correct"``, ``"partial"`` or ``"wrong"`` with the number of cases passed and the
            report of the first failing case.
        """
        name, total = self.function_name, len(cases)
        returned = list(returned)[:total] + [None] * (total - len(returned))
        if returned and returned[0] is not None and returned[0].not_implemented and not expected[0].not_implemented:
            return self._result("not written", 0, total, (
                f"{name}: not written yet (it raises NotImplementedError). Write its body in the cell "
                f"that defines it, run that cell, then run this check again."), failed=0)
        problems = [self._problem(e, r) for e, r in zip(expected, returned)]
        passed = sum(problem is None for problem in problems)
        if passed == total:
            hidden = sum(case.hidden for case in cases)
            return self._result("correct", total, total,
                                f"{name}: correct ({total} cases{f', {hidden} of them hidden' if hidden else ''})")
        first = next(index for index, problem in enumerate(problems) if problem is not None)
        report = self._report(cases, first, expected[first], returned[first], problems[first])
        if len(cases) > 1:
            report += f"\n  cases passed: {passed} of {total}"
        return self._result("partial" if passed else "wrong", passed, total, report, failed=first)

    def _result(self, status: str, passed: int, total: int, message: str, failed: int | None = None) -> ExerciseResult:
        return ExerciseResult(self.label, self.function_name, status, passed, total, message, failed)

    def _problem(self, expected: Outcome, returned: Outcome | None) -> str | None:
        """What is wrong with the returned outcome, or None."""
        if returned is None:
            return "no result: the grading stopped before this case (did an earlier case stop the kernel?)"
        if returned.timed_out:
            return f"it did not return within {self.time_limit:g} s (an endless loop?)"
        if expected.error is not None:
            kind = expected.error.kind
            if returned.error is None:
                return (f"it returned {format_value(returned.value)}, but this input must raise {kind} "
                        f"(the reference says: {expected.error.message})")
            if kind not in returned.error.kinds:
                return (f"it raised {returned.error.name}: {returned.error.message}; this input must raise "
                        f"{kind} (the reference says: {expected.error.message})")
            return None
        if returned.error is not None:
            return f"it raised {returned.error.name}: {returned.error.message}"
        if returned.warning is not None:
            return f"it printed a warning, {returned.warning}; compute without overflow or division by zero"
        try:
            return describe_difference(expected.value, returned.value, self.rtol, self.atol, names=self.names)
        except Exception as error:  # noqa: BLE001 - a result whose __array__, __len__ or __eq__ raises
            return f"its result cannot be compared with the expected value ({type(error).__name__}: {error})"[:600]

    def _report(self, cases: list[Case], index: int, expected: Outcome, returned: Outcome | None, problem: str) -> str:
        case = cases[index]
        same = [c for c in cases if c.hidden == case.hidden]
        which = f"{'hidden ' if case.hidden else ''}case {same.index(case) + 1} of {len(same)}"
        lines = [f"{self.function_name}: wrong on {which} ({case.description})", "  input:"]
        lines += [_shown(f"    {key} =", value, "      ") for key, value in case.arguments.items()]
        if expected.error is not None:
            lines.append(f"  expected: raises {expected.error.kind}")
        else:
            lines.append(_shown("  expected:", expected.value, "    "))
        if returned is None:
            lines.append("  returned: nothing, the grading stopped before this case")
        elif returned.timed_out:
            lines.append("  returned: nothing, it raised a time-out")
        elif returned.error is not None:
            lines.append(f"  returned: nothing, it raised {returned.error.name}")
        else:
            lines.append(_shown("  returned:", returned.value, "    "))
        lines.append(f"  what is wrong: {problem}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ the self-check and nbgrader's tests
    def check(self, function) -> None:
        """Evaluate ``function`` on the visible cases, print the report, and raise unless it is correct.

        Returns nothing, so that a self-check cell shows only the printed line.

        Raises
        ------
        NotImplementedError
            If the function is still the stub of the student edition.
        ExerciseFailure
            If a case is wrong; the printed report says which and how.
        """
        result = self.evaluate(function)
        print(result.message)
        if result.status == "not written":
            raise NotImplementedError(f"{self.function_name} is not written yet ({self.label})")
        if not result.passed:
            raise ExerciseFailure(f"{self.function_name} is wrong on case {result.failed_case + 1} of "
                                  f"{result.cases_total}: see the report printed above")
