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

pytestmark = [pytest.mark.published, pytest.mark.slow]  # runs a browser: started first (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CACHE = ROOT / ".cache" / "browser"
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

#: Boxes of sphinx-proof that the chapters use; each labelled one must be on its page.
BOX_KINDS = ("theorem", "lemma", "proposition", "corollary", "definition", "assumption", "algorithm")

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
    """The markdown of a page's source, without its code blocks in a language (a shell's $PATH is not
    math); MyST directives (```{name}) and their bodies stay."""
    text = "\n".join(cell["source"] for cell in read_cells(source) if cell["cell_type"] == "markdown")
    return re.sub(r"^```[A-Za-z][^\n]*\n.*?^```[ \t]*$", "", text, flags=re.S | re.M)


def _luminance(colour: str) -> float:
    red, green, blue = (int(value) / 255 for value in re.findall(r"\d+", colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("page", PAGES)
def test_the_page_loads_without_script_errors_or_missing_files(report, page):
    entry = report[page]
    assert entry["status"] == 200
    assert not entry["pageErrors"], f"{page}: script errors {entry['pageErrors']}"
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


# --- nothing cut off, at a desktop's and a phone's width -------------------------------------

def _described(boxes, limit=8) -> str:
    return "; ".join(f"{box['kind']} by {box['by']} px: <{box['tag']} class='{box['classes'][:40]}'> in "
                     f"{box['in'][:40] or box['near'][:40]}: {box['text'][:70]!r}" for box in boxes[:limit])


@pytest.mark.parametrize("page", PAGES)
def test_nothing_overflows_its_box_at_desktop_width(report, page):
    """At 1280 px no formula, output or table is wider than its box (hidden, scrolled or spilling
    past the column), and no box cuts the top or bottom of what it holds. The source of a code cell
    may scroll sideways with its scroll bar in sight."""
    overflowing = [box for box in report[page]["light"]["overflow"] if box["kind"] != "code that scrolls"]
    assert not overflowing, f"{page}: {len(overflowing)} elements do not fit their box at 1280 px: {_described(overflowing)}"


def _overlap(a: dict, b: dict) -> float:
    """The area (px^2) that two boxes of the page share."""
    return max(0.0, min(a["right"], b["right"]) - max(a["left"], b["left"])) * \
        max(0.0, min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]))


def test_the_overlap_rule_sees_a_number_on_a_formula():
    formula = dict(left=0, right=300, top=0, bottom=40)
    assert _overlap(formula, dict(left=280, right=320, top=10, bottom=30)) > 0  # on top of its end
    assert not _overlap(formula, dict(left=280, right=320, top=40, bottom=60)) > 0  # on the line below


@pytest.mark.parametrize("page", PAGES)
def test_equation_numbers_do_not_sit_on_their_formula_on_a_phone(report, page):
    """At 390 px the column holds a formula or its number, not both on one line (issue 14): the
    style sheet puts the number on a line of its own, and this fails if it ever sits on the formula
    again (more than 1 px^2 shared, the antialiased edge of two boxes that touch)."""
    numbers = report[page]["phone"]["equationNumbers"]
    on_top = [f"{n['text']} ({n['id']})" for n in numbers if n["formula"] and _overlap(n["number"], n["formula"]) > 1]
    assert not on_top, f"{page}: at 390 px these equation numbers sit on their formula: {on_top}"


@pytest.mark.parametrize("page", PAGES)
def test_the_page_does_not_scroll_sideways_on_a_phone(report, page):
    phone = report[page]["phone"]
    assert phone["viewportWidth"] == 390
    assert phone["pageWidth"] <= phone["viewportWidth"], (
        f"{page}: at 390 px the page is {phone['pageWidth']} px wide and scrolls sideways; too wide: "
        f"{_described([box for box in phone['overflow'] if box['kind'] == 'past the column'])}")


# --- accessibility ---------------------------------------------------------------------------

#: axe-core's impacts that block or seriously hinder a reader (the other two are moderate and minor).
BLOCKING = ("serious", "critical")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_axe_finds_no_serious_accessibility_violation(report, page, theme):
    violations = [v for v in report[page][theme]["axe"] if v["impact"] in BLOCKING]
    assert not violations, f"{page} ({theme} theme): " + "; ".join(
        f"{v['impact']} {v['id']} x{v['count']} ({v['help']}): {[n['target'] for n in v['nodes'][:3]]}" for v in violations)


@pytest.mark.parametrize("page", PAGES)
def test_formulas_are_not_tab_stops_and_ids_are_unique(report, page):
    light = report[page]["light"]
    assert light["formulaTabStops"] == 0, \
        f"{page}: {light['formulaTabStops']} of {light['tabStops']} tab stops are formulas; a keyboard user tabs through each"
    assert not light["duplicateIds"], f"{page}: ids used more than once: {light['duplicateIds']}"


# --- figures: described, opened full size, legible -----------------------------------------

#: The smallest text a reader can read in a figure, in CSS pixels as rendered at 1280 px.
SMALLEST_TEXT_PX = 9.0
#: How many panels a figure may put side by side in the book's column.
MOST_PANELS_A_ROW = 2


def _figure_file(src: str) -> Path:
    return HTML / unquote(urlsplit(src).path).lstrip("/")


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_has_alt_text_and_opens_full_size(report, page):
    for figure in report[page]["light"]["figures"]:
        name = Path(urlsplit(figure["src"]).path).name
        alt = (figure["alt"] or "").strip()
        assert alt and name not in alt and not re.search(r"(^|\s)[\w./-]*/[\w.-]+\.(png|svg|jpe?g)\b", alt), \
            f"{page}: the figure {name} has the alt text {alt!r}, not a description"
        assert figure["opensFullImage"], f"{page}: a click on the figure {name} does not open the full image"


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_is_legible_at_desktop_width(report, page):
    """The smallest text of each figure (tick labels, legends, labels), as rendered at 1280 px, is
    at least 9 px: its size in points, from the PNG's own record, times the PNG's dots per inch over
    72, times the rendered width over the PNG's width. At most two panels a row."""
    for figure in (f for f in report[page]["light"]["figures"] if f["inCellOutput"]):
        file = _figure_file(figure["src"])
        info = Image.open(file).info
        assert "smallest text (pt)" in info, (f"{page}: {file.name} does not record its text sizes: draw it with "
                                              "the book's style (lib.plotting.use_book_style)")
        dpi = info["dpi"][0]
        assert abs(figure["naturalWidth"] - Image.open(file).size[0]) <= 1
        rendered = float(info["smallest text (pt)"]) * dpi / 72 * figure["renderedWidth"] / figure["naturalWidth"]
        assert rendered >= SMALLEST_TEXT_PX, (
            f"{page}: in {file.name} the smallest text ({info.get('smallest text is', '')}) is {rendered:.1f} px "
            f"at 1280 px ({info['smallest text (pt)']} pt at {dpi:.0f} dpi, shown at "
            f"{figure['renderedWidth']:.0f} of {figure['naturalWidth']} px)")
        assert int(info["panels a row"]) <= MOST_PANELS_A_ROW, \
            f"{page}: {file.name} puts {info['panels a row']} panels side by side in the column"


# --- what a reader does besides reading: search, unfold a solution, look a statement up --------

#: Words a reader searches for; each is found on pages full of formulas.
QUERIES = ("rayleigh", "bisection", "gradient")
#: TeX delimiters of the pages' formulas, which no prose and no code cell of the book contains.
TEX_DELIMITERS = re.compile(r"\\[()\[\]]|\\(begin|end)\{")


@pytest.fixture(scope="module")
def actions() -> dict:
    if not (HTML / "search.html").is_file():
        pytest.fail(f"{HTML} is missing: build the book first (`make book`; `make test` does it)")
    subprocess.run([str(ROOT / "tests" / "browser" / "install.sh"), str(CACHE)], check=True)
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / "reader-actions.json"
    subprocess.run(["node", str(ROOT / "tests" / "browser" / "reader_actions.mjs"), "--root", str(HTML),
                    "--queries", ",".join(QUERIES), "--pages", ",".join(CHAPTER_PAGES), "--cache", str(CACHE),
                    "--out", str(out)], check=True, timeout=900)
    return json.loads(out.read_text())


def _tex_commands_only_in_formulas() -> set:
    """TeX commands of the book's formulas that no code cell contains (a cell may print or draw TeX)."""
    prose, code = set(), set()
    for source in SOURCES:
        for cell in read_cells(source):
            (prose if cell["cell_type"] == "markdown" else code).update(re.findall(r"\\[a-zA-Z]+", cell["source"]))
    return prose - code


@pytest.mark.parametrize("query", QUERIES)
def test_search_results_show_their_formulas_as_text_not_tex(actions, query):
    """Sphinx cuts each result's snippet out of the page's text, where a formula is TeX until MathJax
    typesets it; the snippet must show the formula's reading instead."""
    search = next(search for search in actions["searches"] if search["query"] == query)
    assert not search["errors"], f"search for {query!r}: script errors {search['errors']}"
    assert search["finished"] and len(search["results"]) >= 3, f"search for {query!r}: {search['results']}"
    snippets = [result["snippet"] for result in search["results"] if result["snippet"]]
    assert len(snippets) >= 3, f"search for {query!r}: only {len(snippets)} results have a snippet"
    commands = _tex_commands_only_in_formulas()
    assert len(commands) >= 10, f"too few TeX commands to tell: {sorted(commands)}"
    raw = [snippet for snippet in snippets if TEX_DELIMITERS.search(snippet)
           or any(re.search(re.escape(tex) + "(?![a-zA-Z])", snippet) for tex in commands)]
    assert not raw, f"search for {query!r}: {len(raw)} of {len(snippets)} snippets show TeX: {raw[:2]}"
    # the page's buttons and contents list are not its text, and its line breaks mean nothing
    chrome = [snippet for snippet in snippets if re.search(r"\n\s*\n|\bContents \d+\.\d+\. ", snippet)]
    assert not chrome, f"search for {query!r}: snippets of the page's chrome or blank lines: {chrome[:2]}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_a_click_on_a_folded_solutions_title_opens_it_in_place(actions, page):
    """A click on the words of a folded solution's title ("Solution to Exercise 1.2") unfolds the
    solution, and the page stays where it is."""
    clicks = next(entry["clicks"] for entry in actions["solutions"] if entry["page"] == page)
    dropdowns = len(re.findall(r"^:class:[^\n]*\bdropdown\b", _markdown_of(_source_of(page)), flags=re.M))
    assert len(clicks) >= dropdowns, f"{page}: {dropdowns} folded boxes in the source, {len(clicks)} on the page"
    for click in clicks:
        where = f"{page}: {click['title']!r}, clicked on {click['clickedOn']!r}"
        assert not click["openBefore"], f"{where}: the box was not folded to begin with"
        assert not click["jumped"], f"{where}: the click jumped to {click['to']}"
        assert click["openAfter"], f"{where}: the click left the box folded"


def _soup(page: str) -> BeautifulSoup:
    file = HTML / page
    assert file.is_file(), f"{file} is missing: build the book first"
    return BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")


def _target_exists(page: str, href: str) -> bool:
    parts = urlsplit(href)
    target = (HTML / page).parent / unquote(parts.path) if parts.path else HTML / page
    return target.is_file() and (not parts.fragment or unquote(parts.fragment) in _anchors(target.resolve()))


def test_the_index_of_statements_gives_each_its_number_and_title_and_links_to_it():
    index = _soup("prf-prf.html")
    entries = {}
    for link in index.select("table.indextable a[href]"):
        entries[unquote(urlsplit(link["href"]).fragment)] = (" ".join(link.get_text(" ").split()), link["href"])
    statements = find_statements(layout.chapters(ROOT), kinds=BOX_KINDS)
    assert len(statements) >= 20
    for statement in statements:
        assert statement.label in entries, f"the index of statements has no entry for {statement.label}"
        text, href = entries[statement.label]
        assert re.match(rf"{statement.kind.title()} \d+\.\d+\b", text), f"{statement.label}: entry {text!r} has no number"
        if statement.title and "$" not in statement.title:
            assert statement.title.replace("'", "’") in text.replace("'", "’"), f"{statement.label}: entry {text!r}"
        assert statement.label not in text, f"the entry of {statement.label} shows its label: {text!r}"
        assert _target_exists("prf-prf.html", href), f"the entry of {statement.label} links to nothing: {href}"


def test_the_general_index_lists_every_titled_statement_with_a_link_to_it():
    index = _soup("genindex.html")
    quotes = str.maketrans("‘’", "''")
    links = {" ".join(link.get_text(" ").split()).translate(quotes): link["href"]
             for link in index.select("table.indextable a[href]")}
    titled = [s for s in find_statements(layout.chapters(ROOT), kinds=BOX_KINDS) if s.title and "$" not in s.title]
    assert len(titled) >= 10
    for statement in titled:
        title = " ".join(statement.title.split()).translate(quotes)
        href = links.get(title) or next((h for text, h in links.items() if text.startswith(title)), None)
        assert href, f"the general index has no entry {title!r} ({statement.label})"
        assert _target_exists("genindex.html", href) and href.endswith(f"#{statement.label}"), \
            f"the entry {title!r} links to {href}, not to {statement.label}"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_links_both_indexes(page):
    soup = _soup(page)
    for index in ("prf-prf.html", "genindex.html"):
        links = [link["href"] for link in soup.select("a.book-index") if urlsplit(link["href"]).path.endswith(index)]
        assert links and all(_target_exists(page, href) for href in links), f"{page}: no working link to {index}"


@pytest.mark.parametrize("page", PAGES)
def test_no_page_carries_widget_state_or_scripts_for_a_widget_it_does_not_show(page):
    """myst-nb adds the state of every widget a notebook made, and the widget scripts from a CDN,
    even when the widget's output is removed; a page that shows no widget needs neither."""
    from myst_nb.core.config import ipywidgets_js_factory

    soup = _soup(page)
    if soup.find("script", attrs={"type": "application/vnd.jupyter.widget-view+json"}):
        return
    state = soup.find_all("script", attrs={"type": "application/vnd.jupyter.widget-state+json"})
    assert not state, f"{page}: {sum(len(s.get_text()) for s in state) / 1e3:.0f} kB of widget state and no widget"
    scripts = [s["src"] for s in soup.find_all("script", src=True) if s["src"] in ipywidgets_js_factory()]
    assert not scripts, f"{page}: widget scripts {scripts} and no widget"


def test_the_authors_are_named_alike_everywhere_and_the_bibtex_has_one_group_author():
    """The book's authors, as _config.yml names them, on the landing page, in the BibTeX to cite it
    (one group author, not split at its "and"), in the footer and in both licence files."""
    from pybtex.database import parse_string
    from yaml import safe_load

    author = safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["author"]
    intro = _soup("book/intro.html")
    bibtex = next(block.get_text() for block in intro.select("div.highlight pre") if "@book{" in block.get_text())
    entry = next(iter(parse_string(bibtex, "bibtex").entries.values()))
    persons = entry.persons["author"]
    # pybtex keeps the braces of a group name ({The X contributors}); a person reads "Last, First"
    assert len(persons) == 1 and str(persons[0]).removeprefix("{").removesuffix("}") == author, \
        f"the BibTeX of the book reads its author as {[str(p) for p in persons]}, not {author!r}"
    text = " ".join(intro.get_text(" ").split()).lower()
    assert author.lower().removeprefix("the ") in text, f"the landing page does not name {author!r}"
    for licence in ("LICENSE", "LICENSE-TEXT.md"):
        assert author.lower() in (ROOT / licence).read_text(encoding="utf-8").lower(), f"{licence} does not name {author!r}"


def test_the_landing_pages_chapter_map_has_a_row_for_every_chapter():
    """The map of the landing page says what each chapter proves and what it needs: one row per
    chapter of the table of contents, in its order, each linking its chapter."""
    intro = _soup("book/intro.html")
    table = next((table for table in intro.select("table") if "what it needs" in table.get_text().lower()), None)
    assert table is not None, "the landing page has no chapter map (a table with a column 'what it needs')"
    rows = [row for row in table.select("tbody tr")]
    linked = [next((urlsplit(a["href"]).path for a in row.select("a[href]")), "") for row in rows]
    chapters = [Path(page).name for page in CHAPTER_PAGES]
    assert [Path(path).name for path in linked] == chapters, f"the chapter map links {linked}, the book has {chapters}"
    for row in rows:
        cells = [" ".join(cell.get_text(" ").split()) for cell in row.select("td")]
        assert len(cells) == 3 and all(cells), f"a row of the chapter map is incomplete: {cells}"
