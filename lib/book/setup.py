"""The set-up of a chapter: what the first code cell of every chapter does, in one call."""

from __future__ import annotations

import sys

import numpy as np

from ..core.random import rng_from
from .experiments import pin_threads
from .plotting import use_book_style

__all__ = ["start_chapter"]


def start_chapter(seed: int = 0, threads: int = 1) -> tuple[np.random.Generator, str]:
    """Pin the thread pools, set the book's figure style and seed the chapter's random numbers.

    Every chapter starts with ``rng, THREADS = start_chapter(seed=0)``: one BLAS (and, when the
    chapter has imported torch, one torch) thread, since the book's arrays are small and more
    threads only wait for each other, most of all on a busy machine
    (:func:`lib.book.experiments.pin_threads`); the style of :func:`lib.book.plotting.use_book_style`;
    and torch's generator seeded with ``seed`` when torch is imported, so that its random numbers
    are reproducible too.

    Parameters
    ----------
    seed : int, default 0
        The chapter's seed (the book uses 0 in every chapter).
    threads : int, default 1

    Returns
    -------
    rng : numpy.random.Generator
        ``numpy.random.default_rng(seed)``, the generator of the chapter's cells.
    pinned : str
        What was pinned, for the text of a timing (see :func:`~lib.book.experiments.pin_threads`).
    """
    if isinstance(seed, np.random.Generator):
        raise TypeError("seed must be an int (the chapter's seed, which torch is seeded with too), got a Generator")
    rng = rng_from(seed)
    pinned = pin_threads(threads)
    use_book_style()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return rng, pinned
