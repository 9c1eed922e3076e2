"""The book's build must fail when a notebook fails: the guarantee `make test` relies on."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _book_with(tmp_path: Path, code: str) -> Path:
    book = tmp_path / "book"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "_ext", book / "_ext")  # the local Sphinx extensions _config.yml loads
    (book / "book" / "references.bib").write_text("")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/page\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A page"), nbformat.v4.new_code_cell(code)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, book / "book" / "page.ipynb")
    return book


def _build(book: Path) -> subprocess.CompletedProcess:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run([str(jupyter_book), "build", "-W", "-n", "--keep-going", str(book)],
                          capture_output=True, text=True, timeout=600)


def test_a_failing_notebook_fails_the_build(tmp_path):
    failing = _build(_book_with(tmp_path / "bad", "raise RuntimeError('this cell fails on purpose')"))
    assert failing.returncode != 0, failing.stdout[-2000:]
    assert "this cell fails on purpose" in failing.stdout + failing.stderr


def test_a_warning_printed_by_a_cell_fails_the_build(tmp_path):
    noisy = _build(_book_with(tmp_path / "noisy", "import numpy as np\nnp.exp(1000.0)"))
    assert noisy.returncode != 0, noisy.stdout[-2000:]


def test_a_clean_notebook_builds(tmp_path):
    clean = _build(_book_with(tmp_path / "good", "print(1 + 1)"))
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]


# ------------------------------------------------------------------ the run of `make execute` first
# `make book` and `make test` run every notebook once with tools/execute_book.py into the build's
# cache (_build/.jupyter_cache), and the build (execute_notebooks: cache) takes the outputs from there.

def _execute(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "execute_book.py"), "--jobs", "1", "--root", str(book)],
                          capture_output=True, text=True, timeout=600)


def test_a_failing_notebook_stops_make_execute_and_still_fails_the_build(tmp_path):
    book = _book_with(tmp_path / "bad", "raise RuntimeError('this cell fails on purpose')")
    run = _execute(book)
    assert run.returncode == 1 and "this cell fails on purpose" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    failing = _build(book)  # the notebook is not in the cache: the build runs it, and it fails there too
    assert failing.returncode != 0, failing.stdout[-2000:]
    assert "this cell fails on purpose" in failing.stdout + failing.stderr


def test_the_build_shows_the_outputs_of_the_last_make_execute_never_older_ones(tmp_path):
    """jupyter-cache matches a notebook by its code alone; a change to lib (here: a file the cell reads)
    leaves the code as it is, so the run of ``make execute`` must replace what the cache held."""
    book = _book_with(tmp_path / "lib-changed", "print(open('../value.txt').read())")
    for value in ("first value 4711", "second value 1742"):
        (book / "value.txt").write_text(value)
        run = _execute(book)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        built = _build(book)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        page = (book / "_build" / "html" / "book" / "page.html").read_text(encoding="utf-8")
        other = ({"first value 4711", "second value 1742"} - {value}).pop()
        assert value in page and other not in page
