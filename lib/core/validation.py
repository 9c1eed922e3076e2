"""Input checks shared by the whole library.

Every public function of :mod:`lib` turns what the user gave into float64 numpy arrays
through these helpers, so that bad input is refused in one place and with one kind of
message: what was wrong, and what is expected instead.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_vector",
    "as_matrix",
    "as_spd_matrix",
    "as_positive_int",
    "as_nonnegative_int",
    "as_positive_float",
    "as_finite_float",
    "as_optional_function",
    "MAX_CONDITION",
    "MAX_ITERATIONS",
    "as_iteration_count",
]


#: The largest condition number :math:`\kappa = L/\mu` of a matrix :math:`S` that the library accepts.
#: The direction gap of an iterate is computed from a residual whose entries carry absolute rounding
#: errors of about :math:`\kappa\varepsilon\|u\|`, so its relative error is about
#: :math:`\kappa\varepsilon\sqrt{|\rho^*|/\text{gap}}`, and :math:`S^{-1}` itself is known only to
#: :math:`\kappa\varepsilon` relative: at :math:`\kappa = 10^{12}` that is 2.2e-4 already at the
#: largest gap, and the gaps of a converging run are wrong by whole factors (at 1e13, by 43x).
MAX_CONDITION = 1e12


def _as_float_array(name: str, value, ndim: int) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(
            f"{name} must be a numeric array of real numbers, got a {type(value).__name__} numpy cannot read "
            f"as one ({error})"
        ) from error
    if raw.dtype.kind == "c":
        raise TypeError(f"{name} has complex entries; expected real numbers (pass {name}.real if that is meant)")
    if raw.dtype.kind == "O":  # a list holding None, a string, or an integer beyond float64
        for index, entry in np.ndenumerate(raw):
            if isinstance(entry, (bool, np.bool_)) or not isinstance(entry, numbers.Real):
                raise TypeError(f"{name} must hold real numbers only; its entry at {index} is {entry!r}")
            if abs(entry) > float(np.finfo(float).max):  # exact for Python ints
                raise ValueError(f"{name} has an integer of {len(str(abs(int(entry))))} digits at {index}, beyond the "
                                 "float64 range (about 1.8e308); expected finite real numbers")
    elif raw.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got an array of {raw.dtype} ({type(value).__name__})")
    array = np.asarray(raw, dtype=np.float64)
    if array.ndim != ndim:
        shape = "(d,)" if ndim == 1 else "(n, d)" if ndim == 2 else f"{ndim} axes"
        raise ValueError(f"{name} must have shape {shape}, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty; expected at least one entry")
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite entries (NaN or inf), the first at "
            f"index {where if ndim > 1 else where[0]}; expected finite real numbers"
        )
    return array


def as_vector(name: str, value, dim: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 vector, of length ``dim`` when given."""
    vector = _as_float_array(name, value, 1)
    if dim is not None and vector.shape[0] != dim:
        raise ValueError(
            f"{name} has length {vector.shape[0]}, but the problem has dimension {dim}; "
            f"expected shape ({dim},)"
        )
    return vector.copy()


def as_matrix(name: str, value, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 matrix with the given number of rows/columns."""
    matrix = _as_float_array(name, value, 2)
    if rows is not None and matrix.shape[0] != rows:
        raise ValueError(f"{name} has {matrix.shape[0]} rows, expected {rows}")
    if cols is not None and matrix.shape[1] != cols:
        raise ValueError(f"{name} has {matrix.shape[1]} columns, expected {cols}")
    return matrix.copy()


def as_spd_matrix(name: str, value) -> tuple[np.ndarray, np.ndarray]:
    """Check that ``value`` is a symmetric positive definite matrix.

    Returns
    -------
    matrix : ndarray of shape (d, d)
        The matrix, symmetrised exactly (``(A + A.T) / 2``) after the check.
    eigenvalues : ndarray of shape (d,)
        Its eigenvalues in increasing order.

    Raises
    ------
    ValueError
        If the matrix is not square, not symmetric to a relative tolerance of 1e-10, has an
        eigenvalue that is not positive (relative to the largest one, below 1e-14), or has a
        condition number above :data:`MAX_CONDITION` (1e12).
    """
    matrix = _as_float_array(name, value, 2)
    d = matrix.shape[0]
    if matrix.shape != (d, d):
        raise ValueError(f"{name} must be a square matrix of shape (d, d), got {matrix.shape}")
    scale = np.max(np.abs(matrix))
    asymmetry = np.max(np.abs(matrix - matrix.T))
    if asymmetry > 1e-10 * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"{name} must be symmetric; the largest |{name}[i,j] - {name}[j,i]| is {asymmetry:.3g} "
            f"(relative {asymmetry / scale:.3g})"
        )
    matrix = 0.5 * (matrix + matrix.T)
    eigenvalues = np.linalg.eigvalsh(matrix)
    if eigenvalues[0] <= 1e-14 * max(abs(eigenvalues[-1]), np.finfo(float).tiny):
        raise ValueError(
            f"{name} must be positive definite; its smallest eigenvalue is {eigenvalues[0]:.3g} "
            f"(largest {eigenvalues[-1]:.3g}), zero or negative to float64's resolution. If {name} is a "
            "second moment E[x x^T] of data, the data do not span every direction (remove constant or "
            "collinear features); if it was built with a prescribed spectrum, its condition number is beyond "
            f"the {MAX_CONDITION:.0e} the library accepts"
        )
    kappa = eigenvalues[-1] / eigenvalues[0]
    if kappa > MAX_CONDITION:
        raise ValueError(
            f"{name} is too ill-conditioned: kappa = L/mu = {kappa:.3g} exceeds {MAX_CONDITION:.0e}. Then "
            "S^-1 and the direction gaps rho - rho* carry relative rounding errors of about kappa * 2.2e-16 "
            f"= {kappa * np.finfo(float).eps:.1g} and more (gaps of a converging run come out wrong by whole "
            f"factors); expected kappa <= {MAX_CONDITION:.0e}: standardise the features or drop nearly "
            "collinear ones, or ask a generator for a smaller kappa"
        )
    return matrix, eigenvalues


def _as_int_at_least(name: str, value, smallest: int, kind: str) -> int:
    """Return ``value`` as a Python int, refusing booleans, non-integers and values < ``smallest``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {kind} integer, got {value!r}")
    if value < smallest:
        raise ValueError(f"{name} must be a {kind} integer, got {value}")
    return int(value)


def as_positive_int(name: str, value) -> int:
    """Return ``value`` as a Python int, refusing booleans, non-integers and values < 1."""
    return _as_int_at_least(name, value, 1, "positive")


#: The most iterations a solver accepts: its trace keeps about ten float64 numbers per iterate, so
#: 1e8 iterates already need about 8 GB; a larger count could only end in a MemoryError (or run
#: for years), never in a result.
MAX_ITERATIONS = 10**8


def as_iteration_count(name: str, value) -> int:
    """Return ``value`` as a positive Python int of at most :data:`MAX_ITERATIONS` (a count of iterations)."""
    count = as_positive_int(name, value)
    if count > MAX_ITERATIONS:
        raise ValueError(f"{name} = {count if count < 10**15 else f'10^{len(str(count)) - 1}+'} is more than the {MAX_ITERATIONS:.0e} iterations whose trace fits "
                         "in memory (about ten float64 numbers per iterate); expected a smaller count")
    return count


def as_nonnegative_int(name: str, value) -> int:
    """Return ``value`` as a Python int, refusing booleans, non-integers and negatives."""
    return _as_int_at_least(name, value, 0, "non-negative")


def _real_to_float(name: str, value) -> float:
    """``float(value)``, with a ValueError instead of Python's OverflowError for an integer beyond float64."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} is an integer of {len(str(abs(int(value))))} digits, beyond the float64 range "
                         "(about 1.8e308); expected a finite real number") from None


def as_positive_float(name: str, value) -> float:
    """Return ``value`` as a finite positive float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {value!r}")
    value = _real_to_float(name, value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value}")
    return value


def as_finite_float(name: str, value) -> float:
    """Return ``value`` as a finite float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = _real_to_float(name, value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def as_optional_function(name: str, value):
    """Return ``value`` if it is None or callable, else raise TypeError (before a run starts, not at its first call)."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be a function (called after each iterate) or None, got {type(value).__name__} "
                        f"{value!r:.40}")
    return value
