"""A static guard against assertions that depend on bit-exact floating point.

Two computations of one quantity agree only to rounding, and the last digits differ between CPUs
and BLAS kernels (a comparison ``table[2.0][0] == 1.0`` once held with OpenBLAS's SkylakeX kernel
and failed with every other). This module reads Python source (files of ``lib/checks``, the tests,
the code cells of the notebooks) and reports the places where a comparison can only hold to the
bit:

* ``==`` or ``!=`` (outside the condition of an ``if`` or ``while``: an algorithm may test for an
  exact zero) with an operand that is evidently a float: a float literal (``1.0``, ``1e-3``),
  a division or a power, arithmetic with a float literal, a call of ``float``, of ``math`` or of a
  numpy function that returns floats, or a solver's ``trace``;
* a call of an exact array comparison (``np.array_equal``, ``np.testing.assert_array_equal``,
  ``np.testing.assert_equal``);
* an ``assert`` that reads wall-clock time (a name assigned from ``time.perf_counter()`` and the
  like, or a ``"time"``/``"seconds"`` entry of a trace).

A line may opt out with a comment ``# exact: <reason>`` that says why the comparison is exact (an
integer-valued result, a value copied without arithmetic): the reason must not be empty.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

__all__ = ["Finding", "scan_source"]

#: numpy and math functions whose results are floats in practice (rounding included)
FLOAT_FUNCTIONS = {
    "mean", "median", "std", "var", "sqrt", "exp", "log", "log1p", "expm1", "log10", "log2", "sin", "cos",
    "tan", "tanh", "arctan", "norm", "inv", "solve", "eigh", "eigvalsh", "eigvals", "svd", "det", "dot",
    "trace", "max", "min", "amax", "amin", "nanmax", "nanmin", "sum", "prod", "cumsum", "diff", "quantile",
    "percentile", "hypot", "erf", "erfc", "lstsq", "cond", "matmul", "inner", "outer", "einsum", "cbrt",
    "logaddexp", "geomspace", "linspace", "average", "cosh", "sinh", "arccos", "arcsin", "power", "float",
}
#: math functions that return integers or booleans
INTEGER_FUNCTIONS = {"floor", "ceil", "comb", "factorial", "gcd", "isclose", "isfinite", "isnan", "isinf",
                     "perm", "isqrt", "lcm", "trunc"}
EXACT_ARRAY_COMPARISONS = {"array_equal", "assert_array_equal", "assert_equal", "array_equiv"}
CLOCKS = {"perf_counter", "time", "monotonic", "process_time", "perf_counter_ns", "time_ns", "default_timer"}
TIME_KEYS = {"time", "seconds", "elapsed", "wall"}
#: attributes of an array that are integers or types, never floats
SHAPES = {"shape", "ndim", "size", "dtype"}
OPT_OUT = re.compile(r"#\s*exact:\s*(\S.*)?$")


@dataclass(frozen=True)
class Finding:
    """One comparison that can only hold to the bit."""

    line: int
    code: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.why}: {self.code.strip()}"


def _callee(node: ast.Call) -> tuple[str, str]:
    """(module-ish prefix, function name) of a call: ``np.linalg.norm(x)`` gives ("np.linalg", "norm")."""
    parts, function = [], node.func
    while isinstance(function, ast.Attribute):
        parts.append(function.attr)
        function = function.value
    if isinstance(function, ast.Name):
        parts.append(function.id)
    parts.reverse()
    return ".".join(parts[:-1]), parts[-1] if parts else ""


def _is_float_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, float)


def _reads_trace(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "trace" or isinstance(n, ast.Name) and n.id == "trace"
               for n in ast.walk(node))


def _joins_paths(node: ast.BinOp) -> bool:
    """Whether a ``/`` joins paths: one side is a string literal or itself such a join."""
    def path_like(side):
        return (isinstance(side, ast.Constant) and isinstance(side.value, str)) or (
            isinstance(side, ast.BinOp) and isinstance(side.op, ast.Div) and _joins_paths(side))
    return path_like(node.left) or path_like(node.right)


def _is_float_valued(node: ast.AST) -> bool:
    """Whether ``node`` evidently evaluates to a float (so that ``==`` on it needs equal bits)."""
    if _is_float_literal(node):
        return True
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Div) and _joins_paths(node):
            return False  # pathlib: folder / "name", never a number
        if isinstance(node.op, (ast.Div, ast.Pow)):
            return True
        return _is_float_valued(node.left) or _is_float_valued(node.right)
    if isinstance(node, ast.UnaryOp):
        return _is_float_valued(node.operand)
    if isinstance(node, ast.Call):
        prefix, name = _callee(node)
        if name == "float":
            return True
        if name in {"list", "tuple", "sorted"}:
            return any(_reads_trace(argument) for argument in node.args)
        if prefix.split(".")[0] in {"np", "numpy", "math", "torch", "scipy"} and name not in INTEGER_FUNCTIONS:
            return name in FLOAT_FUNCTIONS or prefix.endswith("linalg") or prefix == "math"
        return False
    if isinstance(node, ast.Attribute) and node.attr in SHAPES:
        return False
    if isinstance(node, (ast.Subscript, ast.Attribute)):
        return _reads_trace(node)
    return False


def _clock_names(tree: ast.AST) -> set[str]:
    """Names assigned (directly or through other such names) from a wall-clock reading."""
    tainted: set[str] = set()
    assignments = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    for _ in range(5):  # propagate through chains such as start -> elapsed -> per_step
        for node in assignments:
            value = node.value
            if value is None:
                continue
            reads_clock = any(isinstance(n, ast.Call) and _callee(n)[1] in CLOCKS and "time" in _callee(n)[0]
                              for n in ast.walk(value))
            reads_tainted = any(isinstance(n, ast.Name) and n.id in tainted for n in ast.walk(value))
            if reads_clock or reads_tainted:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                tainted |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return tainted


def _reads_clock(node: ast.AST, clock_names: set[str]) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id in clock_names:
            return True
        if isinstance(n, ast.Call) and _callee(n)[1] in CLOCKS and "time" in _callee(n)[0]:
            return True
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and n.slice.value in TIME_KEYS:
            return True
    return False


def _opted_out(lines: list[str], node: ast.AST) -> bool:
    """Whether a line of ``node`` carries ``# exact: <reason>`` with a reason."""
    for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
        match = OPT_OUT.search(lines[number - 1]) if number <= len(lines) else None
        if match and match.group(1):
            return True
    return False


def _comments_without_reason(source: str) -> list[Finding]:
    findings = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and OPT_OUT.search(token.string) and not OPT_OUT.search(token.string).group(1):
                findings.append(Finding(token.start[0], token.line, "'# exact:' without a reason"))
    except (tokenize.TokenError, IndentationError):
        pass
    return findings


def scan_source(source: str) -> list[Finding]:
    """Every comparison of ``source`` that can only hold to the bit, or that asserts on wall-clock time.

    ``source`` is Python code; IPython magics (lines starting with ``%`` or ``!``) are ignored.
    Raises :class:`SyntaxError` if the code does not parse.
    """
    cleaned = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tree = ast.parse(cleaned)
    lines = cleaned.splitlines()
    clock_names = _clock_names(tree)
    findings = _comments_without_reason(cleaned)
    branches = {id(n) for statement in ast.walk(tree) if isinstance(statement, (ast.If, ast.While, ast.IfExp))
                for n in ast.walk(statement.test)}
    for node in ast.walk(tree):
        why = None
        if isinstance(node, ast.Compare) and id(node) not in branches:
            pairs = zip([node.left, *node.comparators[:-1]], node.ops, node.comparators)
            if any(isinstance(op, (ast.Eq, ast.NotEq)) and (_is_float_valued(a) or _is_float_valued(b))
                   for a, op, b in pairs):
                why = "a float compared with == or != (holds only to the bit)"
        elif isinstance(node, ast.Call) and _callee(node)[1] in EXACT_ARRAY_COMPARISONS:
            why = f"{_callee(node)[1]} compares arrays to the bit"
        elif isinstance(node, ast.Assert) and _reads_clock(node.test, clock_names):
            why = "an assertion on wall-clock time"
        if why and not _opted_out(lines, node):
            findings.append(Finding(node.lineno, lines[node.lineno - 1], why))
    return sorted(findings, key=lambda f: f.line)
