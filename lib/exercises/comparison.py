r"""Comparing what a student's function returned with what the reference returns.

:func:`describe_difference` answers one question, precisely enough for a student to act on:
*where* does the returned value first differ from the expected one? It handles the kinds of
values the book's exercises return (a float, a numpy array, or a tuple of those) and names
the first wrong entry, so that a failing self-check can say, for instance,

.. code-block:: text

    returned[1] (the direction gradient) has shape (3,), expected shape (4,)
    first wrong entry: index 2, expected -0.3141593, returned 0.3141593

Only real numbers (integers and floats) are results: a complex number, a boolean or a string
is reported as the wrong kind of value, never converted (a complex result whose real part is
right is wrong).

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
    """A short, exact-enough text for a value shown in a message (arrays, floats, tuples, functions).

    Never raises: a value whose ``__repr__`` raises is shown by its type.
    """
    try:
        return _format(value)
    except Exception:  # noqa: BLE001 - a student's object whose __repr__ or __str__ raises
        return f"<a {type(value).__name__} that cannot be shown>"


def _format(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_format(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, np.ndarray):
        with np.printoptions(**_PRINT_OPTIONS):
            text = np.array2string(value, separator=", ")
        return text if "\n" not in text else "\n" + text
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return f"{value:.1f}" if value.is_integer() and abs(value) < 1e15 else f"{value:.10g}"
    return repr(value)


#: The kinds of numpy arrays that hold real numbers (signed and unsigned integers, floats).
_REAL_KINDS = "iuf"
#: What other kinds of arrays hold, for the messages.
_KIND_NAMES = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects"}


def _is_real_scalar(value) -> bool:
    """Whether ``value`` is one real number: not a bool, not a complex number, not an array of size > 1."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in _REAL_KINDS


def _as_real_array(value) -> np.ndarray | None:
    """``value`` as a float array, or None if it is not real numbers.

    Strings, booleans, complex numbers, None and other objects are not converted: a complex
    result whose real part is right, or ``True`` for 1, is a wrong result.
    """
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged lists, and objects whose __array__ or __len__ raises
        return None
    return array.astype(float) if array.dtype.kind in _REAL_KINDS else None


def _what_it_is(value) -> str:
    """How a message names a value that is not what was expected: its type, and what an array holds."""
    if isinstance(value, (complex, np.complexfloating)):
        return "a complex number"
    if not isinstance(value, (np.ndarray, list, tuple)):
        return f"a {type(value).__name__}"
    container = "an array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
    try:
        dtype = np.asarray(value).dtype
    except (TypeError, ValueError):
        return f"{container} of entries of different shapes"
    except Exception:  # noqa: BLE001 - entries whose __array__ or __len__ raises
        return f"{container} whose entries cannot be read"
    if dtype.kind in _REAL_KINDS:
        return f"{container} of shape {np.shape(value)}"
    return f"{container} of {_KIND_NAMES.get(dtype.kind, f'dtype {dtype}')}"


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
        differs: a missing ``return``, a wrong type (complex and boolean values included) or
        shape, a NaN, or the first wrong entry
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
        return f"{where} is {_what_it_is(returned)}, expected a single real number"
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
        return f"{where} is {_what_it_is(returned)}, expected an array of real numbers of shape {expected.shape}"
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
