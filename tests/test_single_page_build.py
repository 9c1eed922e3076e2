"""The single-page build that `make pdf` prints: it must render sphinx-proof's and sphinx-exercise's
boxes together, and write a page whose style sheets and figures load (_ext/single_page_build.py)."""

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


@pytest.mark.slow
def test_the_single_page_build_renders_proofs_and_exercises_at_the_output_root(tmp_path):
    book = tmp_path / "book"
    (book / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "_ext", book / "_ext")
    (book / "book" / "references.bib").write_text("")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/page\n")
    (book / "book" / "page.md").write_text(PAGE)
    _save_a_png(book / "book" / "figure.png")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    build = subprocess.run([str(jupyter_book), "build", "-W", "-n", "--keep-going", "--builder", "singlehtml", str(book)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    page = (book / "_build" / "singlehtml" / "book.html").read_text(encoding="utf-8")
    for box in ("proof assumption", "proof lemma", "exercise", "solution"):
        assert f'class="{box}' in page, f"no {box} box on the single page"
    for link in re.findall(r'(?:src|href)="((?:_static|_images)/[^"?#]+)', page):
        assert (book / "_build" / "singlehtml" / link).is_file(), f"book.html links to the missing {link}"


def _save_a_png(path: Path) -> None:
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [0, 1])
    figure.savefig(path)
