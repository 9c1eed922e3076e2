"""The published book as a reader's browser shows it: every page of _build/html in headless Chromium.

``tests/browser/inspect_pages.mjs`` opens each page of the table of contents (MathJax served from
the npm package, every other outside request refused), records what is on it in the light and
the dark theme, and saves full-page screenshots to ``artifacts/screenshots/``. These tests
judge the record. They need the built book: ``make test`` builds it first (``make test-published``
runs them alone); the set-up installs chromium and the npm packages when they are missing.
"""

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from pybtex.database import parse_file

from course import layout
from lib.checks.statements import find_statements, read_cells
from test_book_features import _cited_keys

pytestmark = pytest.mark.published

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CACHE = ROOT / ".cache" / "browser"
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

#: Boxes of sphinx-proof that the chapters use; each labelled one must be on its page.
BOX_KINDS = ("theorem", "lemma", "proposition", "corollary", "definition", "assumption", "algorithm")

#: Page errors that come from the theme's packages, not from the book: sphinx-thebe adds its
#: configuration script twice (`const THEBE_JS_URL` twice), so the second copy fails to parse.
KNOWN_UPSTREAM_PAGE_ERRORS = (re.compile(r"SyntaxError: Identifier 'THEBE_JS_URL' has already been declared"),)


def _page(source: Path) -> str:
    """The page of _build/html built from a source, relative to _build/html."""
    return str(source.relative_to(ROOT).with_suffix(".html"))


#: The book's sources in the order of _toc.yml, and their pages.
SOURCES = layout.pages(ROOT)
PAGES = [_page(source) for source in SOURCES]
CHAPTER_PAGES = [_page(source) for source in layout.chapters(ROOT)]


@pytest.fixture(scope="module")
def report() -> dict:
    if not (HTML / "book").is_dir():
        pytest.fail(f"{HTML} is missing: build the book first (`make book`; `make test` does it)")
    subprocess.run([str(ROOT / "tests" / "browser" / "install.sh"), str(CACHE)], check=True)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's screenshots are kept
    SCREENSHOTS.mkdir(parents=True)
    out = ARTIFACTS / "browser-report.json"
    subprocess.run(["node", str(ROOT / "tests" / "browser" / "inspect_pages.mjs"), "--root", str(HTML),
                    "--pages", ",".join(PAGES), "--cache", str(CACHE), "--screenshots", str(SCREENSHOTS),
                    "--out", str(out)], check=True, timeout=900)
    data = json.loads(out.read_text())
    return {entry["page"]: entry for entry in data["pages"]}


def _source_of(page: str) -> Path:
    return SOURCES[PAGES.index(page)]


def _markdown_of(source: Path) -> str:
    return "\n".join(cell["source"] for cell in read_cells(source) if cell["cell_type"] == "markdown")


def _luminance(colour: str) -> float:
    red, green, blue = (int(value) / 255 for value in re.findall(r"\d+", colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("page", PAGES)
def test_the_page_loads_without_script_errors_or_missing_files(report, page):
    entry = report[page]
    assert entry["status"] == 200
    errors = [e for e in entry["pageErrors"] if not any(known.search(e) for known in KNOWN_UPSTREAM_PAGE_ERRORS)]
    assert not errors, f"{page}: script errors {errors}"
    assert not entry["brokenResources"], f"{page}: files of the book that failed to load: {entry['brokenResources']}"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset_and_no_raw_tex_is_left(report, page):
    entry, light = report[page], report[page]["light"]
    source_has_math = bool(re.search(r"\$[^$\n]+\$", _markdown_of(_source_of(page))))
    if source_has_math:
        assert entry["mathjax"] == "typeset", f"{page}: {entry['mathjax']}"
        assert light["mathElements"] > 0, f"{page}: the source has math but the page has no math elements"
    assert light["typesetMathElements"] == light["mathElements"], \
        f"{page}: {light['mathElements'] - light['typesetMathElements']} formulas were not typeset"
    assert not light["rawMath"], f"{page}: raw TeX in the text: {light['rawMath'][:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_no_cell_shows_an_error_and_no_formula_failed(report, page):
    errors = report[page]["light"]["errors"]
    assert not errors, f"{page}: error output on the page: {errors[:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads_and_every_figure_is_opaque(report, page):
    images = report[page]["light"]["images"]
    broken = [image["src"] for image in images if not image["complete"] or image["naturalWidth"] == 0]
    assert not broken, f"{page}: images that did not load: {broken}"
    see_through = [image["src"] for image in images if image["inCellOutput"] and image["transparentPixels"]]
    assert not see_through, f"{page}: figures with transparent pixels (unreadable in dark mode): {see_through}"
    outputs = [image for image in images if image["inCellOutput"]]
    if re.search(r"plt\.show\(\)", "\n".join(c["source"] for c in read_cells(_source_of(page)) if c["cell_type"] == "code")):
        assert outputs, f"{page}: its notebook draws figures, but no figure is on the page"


@pytest.mark.parametrize("page", PAGES)
def test_figures_stay_readable_in_the_dark_theme(report, page):
    dark = report[page]["dark"]
    assert dark["theme"] == "dark" and _luminance(dark["background"]) < 0.2, \
        f"{page}: the dark theme did not take effect (background {dark['background']})"
    figures = [image for image in dark["images"] if image["inCellOutput"]]
    assert len(dark["figureScreenshots"]) == len(figures)
    for screenshot in dark["figureScreenshots"]:
        pixels = Image.open(screenshot).convert("L")
        histogram = pixels.histogram()
        light_share = sum(histogram[200:]) / sum(histogram)
        assert light_share > 0.6, (f"{screenshot}: on the dark page only {light_share:.0%} of the figure is light; "
                                   "its background is not opaque white")


@pytest.mark.parametrize("page", PAGES)
def test_every_theorem_and_proof_box_is_on_the_page(report, page):
    source = _source_of(page)
    boxes = {box["id"]: box for box in report[page]["light"]["boxes"] if box["id"]}
    for statement in find_statements([source], kinds=BOX_KINDS):
        box = boxes.get(statement.label)
        assert box, f"{page}: no box for {statement.kind} {statement.label}"
        assert statement.kind in box["classes"]
        assert re.match(rf"{statement.kind.title()} \d+\.\d+", box["title"]), f"{page}: unnumbered box {box['title']!r}"
        if statement.title and "$" not in statement.title:
            assert statement.title.replace("'", "’") in box["title"].replace("'", "’")
    proofs = [box for box in report[page]["light"]["boxes"] if set(box["classes"]) == {"proof", "admonition"}]
    assert len(proofs) == _markdown_of(source).count("{prf:proof}"), f"{page}: proof boxes missing"


@pytest.mark.parametrize("page", PAGES)
def test_equations_and_figures_are_numbered(page):
    """Every labelled equation and every named figure of the source has its number on the page."""
    source = _source_of(page)
    soup = BeautifulSoup((HTML / page).read_text(encoding="utf-8"), "html.parser")
    for label in re.findall(r"\$\$[ \t]*\(([\w-]+)\)", _markdown_of(source)):
        equation = soup.find(id=f"equation-{label}")
        number = equation.find(class_="eqno") if equation else None
        assert number and re.match(r"\(\d+\.\d+\)", number.get_text()), f"{page}: equation {label} has no number"
    for cell in read_cells(source):
        name = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
        if name:
            figure = soup.find("figure", id=name)
            number = figure.find(class_="caption-number") if figure else None
            assert number and re.match(r"Fig\. \d+\.\d+", number.get_text()), f"{page}: figure {name} has no number"


@functools.lru_cache(maxsize=None)
def _anchors(file: Path) -> set:
    soup = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
    return {element.get("id") for element in soup.find_all(id=True)} | \
           {element.get("name") for element in soup.find_all(attrs={"name": True})}


@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_resolves(report, page):
    origin = None
    dead = []
    for link in report[page]["light"]["links"]:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or parts.hostname != "127.0.0.1":
            continue
        origin = origin or f"{parts.scheme}://{parts.netloc}"
        target = HTML / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            dead.append(link)
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _anchors(target):
            dead.append(link)
    assert not dead, f"{page}: links to nothing: {sorted(set(dead))}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_a_chapter_has_launch_and_download_buttons(report, page):
    notebook = Path(page).with_suffix(".ipynb").as_posix()
    links = report[page]["light"]["links"]
    assert any("mybinder.org" in link and notebook in link for link in links), f"{page}: no Binder button"
    assert any("colab.research.google.com" in link and notebook in link for link in links), f"{page}: no Colab button"
    downloads = [link for link in links if link.endswith(f"_sources/{notebook}")]
    assert downloads and (HTML / "_sources" / notebook).is_file(), f"{page}: no download button for {notebook}"


@pytest.mark.parametrize("page", PAGES)
def test_screenshots_of_both_themes_are_kept(report, page):
    for theme in ("light", "dark"):
        screenshot = Path(report[page][theme]["screenshot"])
        assert screenshot.is_file() and screenshot.parent == SCREENSHOTS
        width, height = Image.open(screenshot).size
        assert width >= 1000 and height >= 800


def test_the_references_page_lists_every_cited_paper():
    page = next(page for page in PAGES if page.endswith("references.html"))
    assert (HTML / page).is_file(), f"{HTML / page} is missing: build the book first"
    text = " ".join(BeautifulSoup((HTML / page).read_text(encoding="utf-8"), "html.parser").get_text().split())
    bibliography = parse_file(str(ROOT / "book" / "references.bib"))
    for key in _cited_keys():
        title = re.sub(r"[{}]", "", bibliography.entries[key].fields["title"])
        # the bibliography style lower-cases titles
        assert " ".join(title.split()).lower() in text.lower(), f"{key} is cited but {title!r} is not on the references page"
