"""Seeded random numbers: every random draw of the book starts from :func:`rng_from`."""

from __future__ import annotations

import numpy as np

__all__ = ["rng_from"]


def rng_from(seed) -> np.random.Generator:
    """A numpy generator from a seed (int) or an existing generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))
