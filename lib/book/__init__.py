"""The tooling of the book itself, not of the mathematics: figures, experiments, the verification appendix.

* :mod:`lib.book.setup`: :func:`~lib.book.setup.start_chapter`, the first cell of every chapter;
* :mod:`lib.book.plotting`: the book's figure style;
* :mod:`lib.book.explorer`: the interactive figure of chapter 2;
* :mod:`lib.book.experiments`: fair experiments (pinned threads, tuned steps, spread over seeds);
* :mod:`lib.book.datasets`: the real data sets scikit-learn bundles, read without importing it;
* :mod:`lib.book.statements`, :mod:`lib.book.verification`: the statements of the chapters and the
  appendix that lists each with its check.

Nothing is imported here: these modules need matplotlib, ipywidgets or the checks, which
``import lib`` does not load.
"""
