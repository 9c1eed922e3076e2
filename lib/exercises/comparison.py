r"""Comparing what a student's function returned with what the reference returns.

:func:`describe_difference` answers one question, precisely enough for a student to act on:
*where* does the returned value first differ from the expected one? It handles the kinds of
values the book's exercises return (a float, a numpy array, or a tuple of those) and names
the first wrong entry, so that a failing self-check can say, for instance,

.. code-block:: text

    returned[1] (the direction gradient) has shape (3,), expected shape (4,)
    first wrong entry: index 2, expected -0.3141593, returned 0.3141593

An entry is right when :math:`|r - e| \le \mathrm{atol} + \mathrm{rtol}\,|e|` (numpy's
``isclose``, not symmetric in :math:`r` and :math:`e`: the tolerance scales with the
expected value only).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["describe_difference", "format_value"]

#: How numbers are printed in messages: enough digits to see a wrong digit, no more.
_PRINT_OPTIONS = dict(precision=8, suppress=False, threshold=40, edgeitems=4, linewidth=100)


def format_value(value) -> str:
    """A short, exact-enough text for a value shown in a message (arrays, floats, tuples, functions)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, np.ndarray):
        with np.printoptions(**_PRINT_OPTIONS):
            text = np.array2string(value, separator=", ")
        return text if "\n" not in text else "\n" + text
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return f"{value:.1f}" if value.is_integer() and abs(value) < 1e15 else f"{value:.10g}"
    return repr(value)


def _is_real_scalar(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number)


def _as_real_array(value) -> np.ndarray | None:
    """``value`` as a float array, or None if it is not numbers (a string, None, an object)."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array


def _name_of(where: str, names: tuple[str, ...] | None, index: int) -> str:
    label = f"{where}[{index}]"
    if names is not None and index < len(names):
        label += f" ({names[index]})"
    return label


def describe_difference(expected, returned, rtol: float, atol: float, *, where: str = "the result",
                        names: tuple[str, ...] | None = None) -> str | None:
    """Describe the first difference between ``returned`` and ``expected``, or return None.

    Parameters
    ----------
    expected : float, ndarray or tuple of those
        What the reference returned.
    returned : object
        What the student's function returned.
    rtol, atol : float
        The tolerance of one entry (see the module notes).
    where : str, default "the result"
        How the compared value is called in the message.
    names : tuple of str, optional
        Names of the entries of a tuple result, e.g. ``("the length derivative",
        "the direction gradient")``, used in the message.

    Returns
    -------
    str or None
        None if every entry is within the tolerance, else one or a few lines that say what
        differs: a missing ``return``, a wrong type or shape, a NaN, or the first wrong entry
        with both values and the largest error.
    """
    if returned is None and expected is not None:
        return f"{where} is None: did the function forget to `return` its result?"
    if isinstance(expected, tuple):
        if not isinstance(returned, (tuple, list)):
            return (f"{where} is a {type(returned).__name__}, expected a tuple of {len(expected)} values "
                    f"(return them as `return a, b`)")
        if len(returned) != len(expected):
            return f"{where} has {len(returned)} values, expected {len(expected)}"
        for index, (e, r) in enumerate(zip(expected, returned)):
            found = describe_difference(e, r, rtol, atol, where=_name_of(where, names, index))
            if found is not None:
                return found
        return None
    if _is_real_scalar(expected):
        return _scalar_difference(float(expected), returned, rtol, atol, where)
    return _array_difference(np.asarray(expected, dtype=float), returned, rtol, atol, where)


def _scalar_difference(expected: float, returned, rtol: float, atol: float, where: str) -> str | None:
    if not _is_real_scalar(returned):
        array = _as_real_array(returned)
        shape = f"an array of shape {array.shape}" if array is not None else f"a {type(returned).__name__}"
        return f"{where} is {shape}, expected a single number"
    value = float(returned)
    if np.isnan(value) and not np.isnan(expected):
        return f"{where} is NaN, expected {format_value(expected)}"
    if np.isclose(value, expected, rtol=rtol, atol=atol, equal_nan=True):
        return None
    return (f"{where} is wrong: expected {format_value(expected)}, returned {format_value(value)} "
            f"(error {abs(value - expected):.3g}; tolerance {atol + rtol * abs(expected):.3g})")


def _array_difference(expected: np.ndarray, returned, rtol: float, atol: float, where: str) -> str | None:
    array = _as_real_array(returned)
    if array is None:
        return f"{where} is a {type(returned).__name__}, expected an array of shape {expected.shape}"
    if array.shape != expected.shape:
        return f"{where} has shape {array.shape}, expected shape {expected.shape}"
    bad_nan = np.isnan(array) & ~np.isnan(expected)
    if bad_nan.any():
        index = _index_text(np.argwhere(bad_nan)[0])
        return f"{where} has {int(bad_nan.sum())} NaN entries, the first at index {index} (expected {format_value(expected[tuple(np.argwhere(bad_nan)[0])])})"
    close = np.isclose(array, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    first = tuple(np.argwhere(~close)[0])
    error = np.abs(array - expected)
    error[close] = 0.0
    return (f"{where}: {int((~close).sum())} of {close.size} entries are wrong; first wrong entry: index "
            f"{_index_text(first)}, expected {format_value(expected[first])}, returned {format_value(array[first])} "
            f"(largest error {np.nanmax(error):.3g}; tolerance {atol:g} + {rtol:g} |expected|)")


def _index_text(index) -> str:
    index = tuple(int(i) for i in index)
    return str(index[0]) if len(index) == 1 else str(index)
