"""The book's local Sphinx extensions (_ext/), each on a small book built from the real _config.yml.

* single_page_build: the single-page build that `make pdf` prints renders sphinx-proof's and
  sphinx-exercise's boxes together, and writes a page whose style sheets and figures load.
* generated_pages: a page generated from the rest of the book (the verification appendix) is
  re-read by every build, even when its own source did not change.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]

PAGE = """# A page

```{prf:assumption} An assumption
:label: asm-x
Some $x$.
```

```{prf:lemma} A lemma
:label: lem-x
Under {prf:ref}`asm-x`, $x = x$.
```

```{exercise} An exercise
:label: ex-x
Prove {prf:ref}`lem-x`.
```

```{solution} ex-x
:class: dropdown
By reflexivity.
```

```{image} figure.png
```
"""


def _small_book(directory: Path, toc: str, pages: dict) -> Path:
    book = directory / "book"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "_ext", book / "_ext")
    (book / "book" / "references.bib").write_text("")
    (book / "_toc.yml").write_text(toc)
    for name, text in pages.items():
        (book / "book" / name).write_text(text)
    return book


def _build(book: Path, builder: str = "html") -> str:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    build = subprocess.run([str(jupyter_book), "build", "-W", "-n", "--keep-going", "--builder", builder, str(book)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return build.stdout


@pytest.mark.slow
def test_the_single_page_build_renders_proofs_and_exercises_at_the_output_root(tmp_path):
    book = _small_book(tmp_path, "format: jb-book\nroot: book/page\n", {"page.md": PAGE})
    _save_a_png(book / "book" / "figure.png")
    _build(book, "singlehtml")
    page = (book / "_build" / "singlehtml" / "book.html").read_text(encoding="utf-8")
    for box in ("proof assumption", "proof lemma", "exercise", "solution"):
        assert f'class="{box}' in page, f"no {box} box on the single page"
    for link in re.findall(r'(?:src|href)="((?:_static|_images)/[^"?#]+)', page):
        assert (book / "_build" / "singlehtml" / link).is_file(), f"book.html links to the missing {link}"


def _save_a_png(path: Path) -> None:
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [0, 1])
    figure.savefig(path)


@pytest.mark.slow
def test_a_generated_page_is_read_again_by_every_build(tmp_path):
    """_config.yml lists book/verification; a small book whose page has that name shows the effect."""
    toc = "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/verification\n"
    book = _small_book(tmp_path, toc, {"intro.md": "# Intro\n", "verification.md": "# Generated\n"})
    reading = re.compile(r"reading sources\.\.\..*?(book/\w+)")
    assert set(reading.findall(_build(book))) == {"book/intro", "book/verification"}
    assert set(reading.findall(_build(book))) == {"book/verification"}  # nothing changed, yet it is read
