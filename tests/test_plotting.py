"""lib.book.plotting: the PNG a notebook shows records the size of its smallest text."""

import io

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")


def test_png_records_its_text_metadata_in_its_header():
    from lib.book.plotting import _png, new_figure, text_metadata

    fig, axes = new_figure(3)
    for ax in axes:
        ax.semilogy(np.exp(-np.arange(50) / 10.0), label="GD (step 4/ζ)")  # a non-latin-1 legend: an iTXt chunk
        ax.legend(fontsize=7.5)
    image = Image.open(io.BytesIO(_png(fig)))
    recorded = {key: image.info.get(key) for key in ("smallest text (pt)", "smallest text is", "panels a row")}
    assert recorded == text_metadata(fig) == {"smallest text (pt)": "7.50", "smallest text is": "'GD (step 4/ζ)'",
                                              "panels a row": "2"}
    image.load()  # Pillow checks the CRC of every chunk: a wrong one is an error
    assert image.size[0] > 600
