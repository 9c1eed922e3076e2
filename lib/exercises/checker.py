r"""Running a student's function on the cases of a coding exercise, against a reference.

A :class:`CodingExercise` knows the function a student is asked to write (its name and its
reference implementation in :mod:`lib`) and a list of :class:`Case` inputs, seeded and
including edge cases. :meth:`CodingExercise.evaluate` calls the student's function and the
reference on copies of every input and returns an :class:`ExerciseResult`; it never raises.
:meth:`CodingExercise.check`, what a self-check cell calls, prints the result and raises when
the function is wrong, so that a failing self-check shows as a failing cell (and as a failing
test in nbgrader):

* all cases right: it prints one line, ``rayleigh_gradient: correct (7 cases)``;
* the function still raises :class:`NotImplementedError` (the stub of the student edition):
  it says so and raises :class:`NotImplementedError` again;
* a case is wrong: it prints the case (its inputs), the expected and the returned value and
  the first wrong entry, and raises :class:`ExerciseFailure`.

The reference's behaviour is the specification, errors included: where the reference raises
(a ``ValueError`` for an input outside the domain), the student's function must raise an
exception of the same built-in kind. A function that calls ``exit()`` or ``sys.exit()`` fails
its case (it does not end the check or the grading). A case also fails when the function prints a numpy
warning (an overflow, a division by zero), when it does not return within a time limit (an
endless loop; the limit needs the main thread of a Unix process, as in a Jupyter kernel),
or when it returns something that is not a result (``None``: a forgotten ``return``).
"""

from __future__ import annotations

import copy
import signal
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .comparison import describe_difference, format_value

__all__ = ["Case", "Described", "CodingExercise", "ExerciseResult", "ExerciseFailure", "CaseTimeout"]


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
    """

    description: str
    arguments: dict


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
class ExerciseResult:
    """The outcome of one coding exercise for one function.

    Attributes
    ----------
    exercise : str
        The exercise's book label, e.g. ``"ex-ls-rayleigh-gradient"``.
    function : str
        The name of the function the exercise asks for.
    status : str
        ``"correct"``, ``"wrong"``, ``"not written"`` (it raises NotImplementedError) or
        ``"missing"`` (no such function was defined; only when grading a notebook).
    cases_passed, cases_total : int
    message : str
        The report: one line when correct, the failing case in full otherwise.
    """

    exercise: str
    function: str
    status: str
    cases_passed: int
    cases_total: int
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def as_dict(self) -> dict:
        """The result as plain data (for JSON), with ``passed`` added."""
        return {"exercise": self.exercise, "function": self.function, "status": self.status,
                "passed": self.passed, "cases_passed": self.cases_passed,
                "cases_total": self.cases_total, "message": self.message}


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


def _builtin_kind(error_type: type) -> type:
    """The nearest built-in ancestor of an exception type (BracketError -> ValueError)."""
    for ancestor in error_type.__mro__:
        if ancestor.__module__ == "builtins":
            return ancestor
    return Exception


@dataclass(frozen=True)
class _Outcome:
    """What one call returned or raised, and the warnings it printed."""

    value: Any = None
    error: BaseException | None = None
    warning: str | None = None


def _call(function: Callable, arguments: dict, time_limit: float | None) -> _Outcome:
    inputs = copy.deepcopy(list(arguments.values()))  # a function that edits its inputs edits copies
    # overflow, division by zero and NaN warn; underflow to zero is harmless and does not
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn",
                                                                      invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            if time_limit is None:
                value = function(*inputs)
            else:
                with _time_limit(time_limit):
                    value = function(*inputs)
        except CaseTimeout as timeout:
            return _Outcome(error=timeout)
        # any error of the student's code is reported, sys.exit() included; KeyboardInterrupt still stops the check
        except (Exception, SystemExit) as error:  # noqa: BLE001
            return _Outcome(error=error)
    shown = [w for w in caught if issubclass(w.category, (RuntimeWarning, UserWarning, DeprecationWarning))]
    warning = f"{shown[0].category.__name__}: {shown[0].message}" if shown else None
    return _Outcome(value=value, warning=warning)


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
        Returns the list of :class:`Case` (built on first use, so that importing is cheap).
    rtol, atol : float
        The tolerance of one entry of the result.
    names : tuple of str, optional
        Names of the entries of a tuple result, for the messages.
    time_limit : float, default 10
        Seconds one call of the student's function may take.
    """

    def __init__(self, label: str, chapter: str, function_name: str, reference: Callable,
                 cases: Callable[[], Iterable[Case]], *, rtol: float, atol: float,
                 names: tuple[str, ...] | None = None, time_limit: float = 10.0):
        self.label = label
        self.chapter = chapter
        self.function_name = function_name
        self.reference = reference
        self._make_cases = cases
        self._cases: list[Case] | None = None
        self.rtol = rtol
        self.atol = atol
        self.names = names
        self.time_limit = time_limit

    def __repr__(self) -> str:
        return f"CodingExercise({self.label!r}, function {self.function_name!r}, chapter {self.chapter!r})"

    @property
    def cases(self) -> list[Case]:
        """The cases, in the order they are tried."""
        if self._cases is None:
            self._cases = list(self._make_cases())
        return self._cases

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, function) -> ExerciseResult:
        """Run ``function`` on every case and compare with the reference; never raises.

        Stops at the first wrong case: its report is the message of the result.
        """
        name = self.function_name
        total = len(self.cases)
        if not callable(function):
            return self._result("wrong", 0, (
                f"{name}: the check expects the function {name} itself, got a {type(function).__name__} "
                f"({format_value(function)[:60]}); pass `{name}`, not `{name}(...)`"))
        for index, case in enumerate(self.cases):
            expected = _call(self.reference, case.arguments, None)
            if expected.warning is not None:  # pragma: no cover - a bug of lib, not of the student
                raise RuntimeError(f"the reference of {self.label} warned on {case.description}: {expected.warning}")
            returned = _call(function, case.arguments, self.time_limit)
            if isinstance(returned.error, NotImplementedError):
                return self._result("not written", index, (
                    f"{name}: not written yet (it raises NotImplementedError). Write its body in the cell "
                    f"that defines it, run that cell, then run this check again."))
            problem = self._problem(expected, returned)
            if problem is not None:
                return self._result("wrong", index, self._report(index, case, expected, returned, problem))
        return self._result("correct", total, f"{name}: correct ({total} cases)")

    def _result(self, status: str, passed: int, message: str) -> ExerciseResult:
        return ExerciseResult(self.label, self.function_name, status, passed, len(self.cases), message)

    def _problem(self, expected: _Outcome, returned: _Outcome) -> str | None:
        """What is wrong with the returned outcome, or None."""
        if isinstance(returned.error, CaseTimeout):
            return f"it did not return within {self.time_limit:g} s (an endless loop?)"
        if expected.error is not None:
            kind = _builtin_kind(type(expected.error))
            if returned.error is None:
                return (f"it returned {format_value(returned.value)}, but this input must raise {kind.__name__} "
                        f"(the reference says: {expected.error})")
            if not isinstance(returned.error, kind):
                return (f"it raised {type(returned.error).__name__}: {returned.error}; this input must raise "
                        f"{kind.__name__} (the reference says: {expected.error})")
            return None
        if returned.error is not None:
            return f"it raised {type(returned.error).__name__}: {returned.error}"
        if returned.warning is not None:
            return f"it printed a warning, {returned.warning}; compute without overflow or division by zero"
        return describe_difference(expected.value, returned.value, self.rtol, self.atol, names=self.names)

    def _report(self, index: int, case: Case, expected: _Outcome, returned: _Outcome, problem: str) -> str:
        lines = [f"{self.function_name}: wrong on case {index + 1} of {len(self.cases)} ({case.description})",
                 "  input:"]
        lines += [_shown(f"    {key} =", value, "      ") for key, value in case.arguments.items()]
        if expected.error is not None:
            lines.append(f"  expected: raises {_builtin_kind(type(expected.error)).__name__}")
        else:
            lines.append(_shown("  expected:", expected.value, "    "))
        if returned.error is not None:
            error = "a time-out" if isinstance(returned.error, CaseTimeout) else type(returned.error).__name__
            lines.append(f"  returned: nothing, it raised {error}")
        else:
            lines.append(_shown("  returned:", returned.value, "    "))
        lines.append(f"  what is wrong: {problem}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ the self-check
    def check(self, function) -> None:
        """Evaluate ``function``, print the report, and raise unless it is correct.

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
            raise ExerciseFailure(f"{self.function_name} is wrong on case {result.cases_passed + 1} of "
                                  f"{result.cases_total}: see the report printed above")
