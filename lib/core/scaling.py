r"""Rescaling by powers of two, so that scale-invariant quantities never overflow or underflow.

The Rayleigh quotient, the unit direction :math:`w/\|w\|_S` and the other functions of the
direction alone do not change when :math:`w` is multiplied by a constant, but the products
:math:`w^\top S w` that compute them overflow for :math:`|w| \gtrsim 10^{154}` and underflow for
:math:`|w| \lesssim 10^{-154}`. Multiplying :math:`w` by a power of two :math:`2^{-k}` is exact in
floating point (no digit changes, only the exponent), and every product and sum of the formulas
then scales by an exact power of two too: for a vector whose products stay in range, the
results computed from the rescaled vector are the same to the bit as before; for any other
finite nonzero vector they are the right values instead of 0, inf or NaN.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["power_of_two_scale", "rescaled", "moderated", "unit_direction", "s_norm_of", "unit_and_product"]

#: Vectors whose largest entry lies in [2^-MODERATE, 2^MODERATE] are left as they are by
#: :func:`moderated`: their quadratic forms with a matrix of entries up to 1e150 stay in range.
MODERATE = 256

#: :func:`unit_and_product` takes its one-product path when w.S.w lies in (SAFE_LOW, SAFE_HIGH): there
#: no product of the solvers' formulas (up to ||w||_S^3 = (w.S.w)^1.5) leaves float64.
SAFE_LOW, SAFE_HIGH = 2.0 ** -600, 2.0 ** 600


def power_of_two_scale(w: np.ndarray) -> int:
    """The exponent ``k`` with ``max|w| = m 2^k``, ``0.5 <= m < 1`` (0 for the zero vector)."""
    largest = float(np.max(np.abs(w))) if w.size else 0.0
    return int(np.frexp(largest)[1]) if largest > 0.0 else 0


def rescaled(w: np.ndarray) -> tuple[np.ndarray, int]:
    """``(w 2^-k, k)`` with the largest entry of ``w 2^-k`` in [0.5, 1): exact, only exponents change."""
    k = power_of_two_scale(w)
    return np.ldexp(w, -k), k


def moderated(w: np.ndarray) -> np.ndarray:
    """``w`` itself when its largest entry lies in [2^-256, 2^256], else ``w`` rescaled exactly into [0.5, 1)."""
    k = power_of_two_scale(w)
    return w if abs(k) <= MODERATE else np.ldexp(w, -k)


def unit_direction(w: np.ndarray, S: np.ndarray) -> np.ndarray:
    r""":math:`w/\|w\|_S` for any finite nonzero ``w``, computed from the exactly rescaled vector."""
    w, _ = rescaled(w)
    return w / np.sqrt(w @ S @ w)


def s_norm_of(w: np.ndarray, S: np.ndarray) -> float:
    r""":math:`\|w\|_S = 2^k\|2^{-k}w\|_S`: right for any finite ``w`` (inf only if the norm itself is beyond float64)."""
    w, k = rescaled(w)
    with np.errstate(over="ignore"):
        return float(np.ldexp(np.sqrt(max(float(w @ S @ w), 0.0)), k))


def unit_and_product(w: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    r""":math:`(\hat w, S\hat w, \|w\|_S)` with :math:`\hat w = w/\|w\|_S`, from one product :math:`Sw`.

    For a vector whose :math:`w^\top Sw` is far inside the float64 range this is one matrix-vector
    product and three vector operations; :math:`\hat w` then differs from :func:`unit_direction`'s
    only by the rounding of :math:`w^\top Sw` (summed here as :math:`w^\top(Sw)`). Any other finite
    nonzero ``w`` is rescaled exactly first, as :func:`unit_direction` does. Returns None if ``w`` has an entry that is not finite, or is zero.
    """
    S_w = S @ w
    norm_sq = float(w @ S_w)
    if SAFE_LOW < norm_sq < SAFE_HIGH:
        norm = math.sqrt(norm_sq)
        return w / norm, S_w / norm, norm
    if not np.all(np.isfinite(w)) or not np.any(w):
        return None
    v, k = rescaled(w)
    S_v = S @ v
    norm_v = math.sqrt(max(float(v @ S_v), 0.0))
    if not norm_v > 0.0:
        return None
    with np.errstate(over="ignore"):
        return v / norm_v, S_v / norm_v, float(np.ldexp(norm_v, k))
