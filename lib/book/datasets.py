"""The breast-cancer data of chapters 3 and 4, read without importing scikit-learn.

scikit-learn bundles the Wisconsin diagnostic breast-cancer data (569 tumours, 30 features) as
a CSV file; ``sklearn.datasets.load_breast_cancer`` reads it, but importing ``sklearn.datasets``
takes about half a second, a tenth of a chapter's time budget. :func:`breast_cancer` reads the
same file from scikit-learn's installed package, located with ``importlib.util.find_spec``
(which does not import the package), and returns the same arrays.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["breast_cancer"]


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The features and the 0/1 targets of scikit-learn's breast-cancer data, as ``load_breast_cancer`` returns them.

    Returns
    -------
    X : ndarray of shape (569, 30)
    target : ndarray of shape (569,)
        1 for benign, 0 for malignant (scikit-learn's coding).

    Raises
    ------
    ImportError
        If scikit-learn is not installed, or its copy of the data is not where scikit-learn keeps it.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the breast-cancer data are read from scikit-learn's package: install scikit-learn")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "breast_cancer.csv"
    if not path.is_file():
        raise ImportError(f"scikit-learn's breast-cancer data are not at {path}")
    with path.open() as file:
        rows, columns = (int(field) for field in file.readline().split(",")[:2])  # "569,30,malignant,benign"
        table = np.loadtxt(file, delimiter=",")
    if table.shape != (rows, columns + 1):
        raise ImportError(f"{path} holds a table of shape {table.shape}; its header announces {rows} rows of {columns} "
                          "features and a target")
    return table[:, :columns], table[:, columns].astype(int)
