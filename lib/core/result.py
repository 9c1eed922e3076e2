"""The one result type that every solver of the book returns, and what its callback receives."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .validation import as_finite_float

__all__ = ["OptimizationResult", "DivergenceError", "IntermediateResult"]


class DivergenceError(ArithmeticError):
    """The iterates of a solver left the floating-point range (the step size is too large).

    The partial run is kept in the attribute ``result`` (its trace stops at the last finite
    state), so that an experiment that sweeps step sizes can record where divergence starts.
    """

    def __init__(self, message: str, result: "OptimizationResult"):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class OptimizationResult:
    r"""The final point of a run and the per-iteration trace of what the theorems bound.

    Attributes
    ----------
    method : str
        ``"gd"`` or ``"gdnp"`` (or the name of another solver).
    w_tilde : ndarray of shape (d,)
        The final weights :math:`\tilde w_T = g_T w_T/\|w_T\|_S`.
    g : float
        The final length :math:`g_T`.
    w : ndarray of shape (d,)
        The final direction :math:`w_T` (for ``gd``: :math:`\tilde w_T/\|\tilde w_T\|_S`).
    trace : dict of str to ndarray
        State quantities have ``T + 1`` entries, entry ``t`` for the iterate after ``t`` steps
        (entry 0 is the start): ``loss``, ``grad_norm_sq`` (:math:`\|\nabla f\|_{S^{-1}}^2`),
        ``grad_norm_sq_length`` and ``grad_norm_sq_direction`` (its two parts, lemma
        ``lem-norm-split``), ``rho_gap`` (:math:`\rho(w_t) - \rho^*`), ``length``
        (:math:`g_t`), ``time`` (seconds since the start), and where they exist ``loss_gap``
        (:math:`f - f^*`), ``c1``, ``bracket_width`` and ``length_bound``. Step quantities have
        ``T`` entries, entry ``t`` for the step from ``t`` to ``t + 1``: ``step`` and, for
        GDNP, ``eta`` (the Rayleigh step :math:`\eta_t`).
    info : dict
        Settings of the run (step size, bisection steps, how the length was found, ...); for
        GDNP also ``w0_hat``, the unit start direction, so that ``trace["length"][0] * w0_hat``
        is the first iterate.
    """

    method: str
    w_tilde: np.ndarray
    g: float
    w: np.ndarray
    trace: dict[str, np.ndarray]
    info: dict = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        """The number of steps ``T`` that were taken (-1 for a run that diverged at its start)."""
        return len(self.trace.get("loss", ())) - 1

    def iterations_to(self, key: str, threshold: float) -> int | None:
        """The first ``t`` with ``trace[key][t] <= threshold``, or ``None`` if never reached.

        Raises
        ------
        KeyError
            If the trace has no column ``key`` (the message lists the columns it has).
        TypeError, ValueError
            If ``threshold`` is not a real number, or is NaN.
        """
        if key not in self.trace:
            raise KeyError(f"the trace has no {key!r}; it has {sorted(self.trace)}")
        if not (isinstance(threshold, float) and threshold in (np.inf, -np.inf)):
            threshold = as_finite_float("threshold", threshold)
        hits = np.flatnonzero(self.trace[key] <= threshold)
        return int(hits[0]) if hits.size else None

    def __repr__(self) -> str:
        trace = self.trace

        def last(key: str, digits: int) -> str:
            column = trace.get(key)
            return "none" if column is None or len(column) == 0 else _brief(column[-1], digits)

        return (
            f"OptimizationResult(method={self.method!r}, iterations={self.iterations}, "
            f"loss={last('loss', 6)}, grad_norm_sq={last('grad_norm_sq', 3)}, "
            f"g={_brief(self.g, 6)}, trace keys={sorted(trace)})"
        )


def _brief(value, digits: int) -> str:
    """A number, or an array of them (the lengths of a network's units), with ``digits`` significant digits."""
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.{digits}g}"
    return np.array2string(array, precision=digits, threshold=6, separator=", ")


@dataclass(frozen=True)
class IntermediateResult:
    r"""What a solver passes to ``callback(intermediate_result)`` after recording iterate ``t``.

    The callback may stop the run, as in :func:`scipy.optimize.minimize`, by returning ``True``
    or by raising :class:`StopIteration`; the solver then returns its result at iterate ``t``,
    with ``info["stopped_by_callback"] = t``.

    Attributes
    ----------
    t : int
        The iteration, 0 for the start.
    w_tilde : ndarray
        The iterate :math:`\tilde w_t = g_t\,w_t/\|w_t\|_S`.
    g : float
        The length :math:`g_t` (for ``gd``: :math:`\|\tilde w_t\|_S`).
    w : ndarray
        The direction :math:`w_t` (for ``gd``: :math:`\tilde w_t/g_t`).
    loss : float
        :math:`f(\tilde w_t)`.
    time : float
        Seconds of the run so far, as its ``time`` trace records them.
    """

    t: int
    w_tilde: np.ndarray
    g: float
    w: np.ndarray
    loss: float
    time: float
