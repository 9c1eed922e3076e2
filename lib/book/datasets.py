"""The real data sets of the book, read from the files scikit-learn bundles, without importing it.

``from sklearn.datasets import load_digits`` imports scikit-learn and SciPy, about 0.8 s of CPU, a
tenth of a chapter's time budget, to read a small CSV file inside the package. :func:`digits`
reads that file with numpy as ``sklearn.datasets.load_digits`` does (``tests/test_datasets.py``
compares the two), and :func:`breast_cancer` the breast-cancer data of chapters 3 and 4 as
``load_breast_cancer`` does (``tests/test_experiments.py``); scikit-learn only has to be installed
(``requirements.txt`` pins it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["bundled_file", "digits", "breast_cancer"]


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


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The 569 tumours of scikit-learn's Wisconsin diagnostic breast-cancer data, 30 features each.

    Returns
    -------
    X : ndarray of shape (569, 30)
        The features (``load_breast_cancer().data``).
    target : ndarray of shape (569,), int
        1 for benign, 0 for malignant (``load_breast_cancer().target``).

    Raises
    ------
    ValueError
        If the file's table does not have the shape its header announces.
    """
    path = bundled_file("breast_cancer.csv")
    with path.open() as file:
        rows, columns = (int(field) for field in file.readline().split(",")[:2])  # "569,30,malignant,benign"
        table = np.loadtxt(file, delimiter=",")
    if table.shape != (rows, columns + 1):
        raise ValueError(f"{path} holds a table of shape {table.shape}; its header announces {rows} rows of "
                         f"{columns} features and a target")
    return table[:, :columns], table[:, columns].astype(int)
