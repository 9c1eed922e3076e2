r"""Outcomes as plain JSON data, so that grading can judge in another process than the one that ran the code.

The grading command runs a submitted notebook in a child process (a Jupyter kernel), calls the
student's functions there on every case (:func:`lib.exercises.record_outcomes`), and judges
the outcomes in its own process against the reference's. What crosses between them is this
module's JSON: numbers, arrays, tuples, errors and warnings, never a Python object (no
pickle), so that nothing a submission returns can run code in the grader or claim a verdict.

:func:`encode` turns an :class:`~lib.exercises.checker.Outcome` into JSON data, :func:`decode`
reads it back and refuses anything else with a ``ValueError``. A value that is neither a real,
complex or boolean number, a string, None, a numpy array of numbers, nor a tuple or list of
those arrives as an :class:`Opaque` stand-in that names its type, and is judged a wrong
kind of result. Arrays of more than :data:`ENTRY_LIMIT` entries arrive as such stand-ins too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checker import MESSAGE_LIMIT, Outcome, RaisedError

__all__ = ["ENTRY_LIMIT", "Opaque", "decode", "encode"]

#: The largest array (in entries) an outcome carries; a bigger result is not a result of these exercises.
ENTRY_LIMIT = 1_000_000
#: How deeply tuples and lists may nest.
DEPTH_LIMIT = 8
#: The numpy kinds an array may hold across: booleans, integers, unsigned integers, floats, complex numbers.
_ARRAY_KINDS = {"b": bool, "i": np.int64, "u": np.uint64, "f": np.float64, "c": np.complex128}


class Opaque:
    """A returned value that was not carried across: shown as ``<type ...>``, never equal to a number."""

    def __init__(self, type_name: str, text: str):
        self.type_name = type_name
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _opaque(value, why: str = "") -> dict:
    name = type(value).__name__
    return {"t": "opaque", "type": name[:100], "text": f"<a {name}{why}>"[:MESSAGE_LIMIT]}


def _encode_value(value, depth: int = 0) -> dict:
    if depth > DEPTH_LIMIT:
        return _opaque(value, " nested too deeply")
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return {"t": "int", "v": int(value)} if abs(int(value)) < 2**63 else {"t": "float", "v": float(value)}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": float(value)}
    if isinstance(value, (complex, np.complexfloating)):
        return {"t": "complex", "v": [float(value.real), float(value.imag)]}
    if isinstance(value, str):
        return {"t": "str", "v": value[:MESSAGE_LIMIT]}
    if isinstance(value, (tuple, list)):
        if len(value) > ENTRY_LIMIT:
            return _opaque(value, f" of {len(value)} entries, too many to judge")
        return {"t": type(value).__name__, "v": [_encode_value(item, depth + 1) for item in value]}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ARRAY_KINDS:
            return _opaque(value, f" of dtype {value.dtype}")
        if value.size > ENTRY_LIMIT:
            return _opaque(value, f" of shape {value.shape}, too large to judge")
        flat = value.astype(_ARRAY_KINDS[value.dtype.kind]).ravel()
        data = [[float(z.real), float(z.imag)] for z in flat] if value.dtype.kind == "c" else flat.tolist()
        return {"t": "array", "kind": value.dtype.kind, "shape": list(value.shape), "v": data}
    return _opaque(value)


def encode(outcome: Outcome) -> dict:
    """An outcome as JSON data (see the module's notes); never raises."""
    data: dict[str, Any] = {"timed_out": bool(outcome.timed_out), "warning": outcome.warning}
    if outcome.error is not None:
        data["error"] = {"name": outcome.error.name, "kinds": list(outcome.error.kinds), "message": outcome.error.message}
    else:
        try:
            data["value"] = _encode_value(outcome.value)
        except Exception:  # noqa: BLE001 - a student's object that breaks while being read
            data["value"] = _opaque(outcome.value, " that could not be read")
    return data


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(f"not an encoded outcome: {what}")


def _text(value, what: str) -> str:
    _expect(isinstance(value, str), f"{what} must be a string")
    return value[:MESSAGE_LIMIT]


def _number(value, kinds: tuple[type, ...], what: str):
    _expect(isinstance(value, kinds) and not isinstance(value, bool), f"{what} must be a number")
    return value


def _decode_array(data: dict):
    kind, shape, entries = data.get("kind"), data.get("shape"), data.get("v")
    _expect(kind in _ARRAY_KINDS, "an array's kind")
    _expect(isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape),
            "an array's shape")
    _expect(isinstance(entries, list) and len(entries) == int(np.prod(shape, dtype=np.int64)) <= ENTRY_LIMIT,
            "an array's entries")
    if kind == "c":
        _expect(all(isinstance(z, list) and len(z) == 2 and all(isinstance(x, (int, float)) for x in z)
                    for z in entries), "complex entries")
        return np.array([complex(*z) for z in entries], dtype=complex).reshape(shape)
    allowed = (bool,) if kind == "b" else (int, float)
    _expect(all(isinstance(x, allowed) for x in entries), "an array's entries")
    return np.array(entries, dtype=_ARRAY_KINDS[kind]).reshape(shape)


def _decode_value(data, depth: int = 0):
    _expect(isinstance(data, dict) and depth <= DEPTH_LIMIT + 1, "a value")
    kind, value = data.get("t"), data.get("v")
    if kind == "none":
        return None
    if kind == "bool":
        _expect(isinstance(value, bool), "a boolean")
        return value
    if kind == "int":
        return int(_number(value, (int,), "an integer"))
    if kind == "float":
        return float(_number(value, (int, float), "a float"))
    if kind == "complex":
        _expect(isinstance(value, list) and len(value) == 2, "a complex number")
        return complex(_number(value[0], (int, float), "a real part"), _number(value[1], (int, float), "an imaginary part"))
    if kind == "str":
        return _text(value, "a string")
    if kind in ("tuple", "list"):
        _expect(isinstance(value, list), f"a {kind}")
        items = [_decode_value(item, depth + 1) for item in value]
        return tuple(items) if kind == "tuple" else items
    if kind == "array":
        return _decode_array(data)
    if kind == "opaque":
        name = _text(data.get("type"), "a type name")
        # a subclass of that name, so that messages say "a Widget", as they would in the student's process
        return type(name, (Opaque,), {})(name, _text(data.get("text"), "a text"))
    raise ValueError(f"not an encoded outcome: unknown value type {kind!r}")


def decode(data) -> Outcome:
    """The outcome that :func:`encode` wrote.

    Raises
    ------
    ValueError
        If ``data`` is anything else.
    """
    _expect(isinstance(data, dict), "expected an object")
    warning = data.get("warning")
    _expect(warning is None or isinstance(warning, str), "the warning")
    timed_out = data.get("timed_out")
    _expect(isinstance(timed_out, bool), "timed_out")
    if "error" in data:
        error = data["error"]
        _expect(isinstance(error, dict) and isinstance(error.get("kinds"), list), "the error")
        kinds = tuple(_text(k, "an error kind") for k in error["kinds"])
        return Outcome(error=RaisedError(_text(error.get("name"), "the error's name"), kinds,
                                         _text(error.get("message"), "the error's message")),
                       warning=warning, timed_out=timed_out)
    _expect("value" in data, "a value or an error")
    return Outcome(value=_decode_value(data["value"]), warning=warning, timed_out=timed_out)
