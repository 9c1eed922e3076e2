"""lib.book.datasets: the bundled data sets, read without importing scikit-learn."""

import subprocess
import sys

import numpy as np
import pytest

from lib.book.datasets import bundled_file, digits


def test_digits_are_sklearns_digits():
    from sklearn.datasets import load_digits

    images, labels = digits()
    reference = load_digits()
    assert images.shape == (1797, 64) and labels.dtype.kind == "i"
    # both parse the same text file with np.loadtxt: the same numbers, small integers stored exactly
    assert np.array_equal(images, reference.data) and np.array_equal(labels, reference.target)  # exact: integers 0-16 and 0-9 parsed from one text file, no arithmetic


def test_digits_do_not_import_sklearn():
    code = "import sys; from lib.book.datasets import digits; digits(); print('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_a_missing_file_is_named():
    with pytest.raises(FileNotFoundError, match="no-such-file.csv"):
        bundled_file("no-such-file.csv")
