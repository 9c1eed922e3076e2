"""The real data sets of the book, read from the files scikit-learn bundles, without importing it.

``from sklearn.datasets import load_digits`` imports scikit-learn and SciPy, about 0.8 s of CPU, a
tenth of a chapter's time budget, to read a small CSV file inside the package. :func:`digits`
reads that file with numpy as ``sklearn.datasets.load_digits`` does (``tests/test_datasets.py``
compares the two); scikit-learn only has to be installed (``requirements.txt`` pins it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["bundled_file", "digits"]


def bundled_file(name: str) -> Path:
    """The path of the data file ``name`` that scikit-learn bundles (``sklearn/datasets/data/name``).

    Raises
    ------
    ModuleNotFoundError
        If scikit-learn is not installed.
    FileNotFoundError
        If it has no such file.
    """
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed: the book reads the data sets it bundles "
                                  "(pip install -r requirements.txt)")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"scikit-learn has no bundled data file {name!r} (looked for {path})")
    return path


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 handwritten digits of scikit-learn (UCI optical digits, 8 x 8 images).

    Returns
    -------
    images : ndarray of shape (1797, 64)
        Gray levels 0 to 16, one row per image (``load_digits().data``).
    labels : ndarray of shape (1797,), int
        The digits 0 to 9 (``load_digits().target``).
    """
    table = np.loadtxt(bundled_file("digits.csv.gz"), delimiter=",")
    return table[:, :-1], table[:, -1].astype(int)
