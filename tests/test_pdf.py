"""The PDF of the whole book (`make pdf`): it exists, it has every chapter and appendix, every
theorem, lemma and proposition by its title, and typeset math rather than TeX source; every
displayed formula of the sources is printed in full, and no text runs past the column."""

import json
import re
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from course import layout
from lib.checks.statements import find_statements, read_cells
from test_book_features import _prose_lines

pytestmark = pytest.mark.published

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "length-and-direction.pdf"


def _normalized(text: str) -> str:
    """NFKC (ligatures such as 'fi' become two letters), straight quotes, one space between words."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


@pytest.fixture(scope="module")
def text() -> str:
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf` (`make test` does)")
    return _normalized("\n".join(page.extract_text() for page in PdfReader(PDF).pages))


def _page_title(source: Path) -> str:
    """The first level-one heading of a page or notebook."""
    for cell in read_cells(source):
        if cell["cell_type"] == "markdown":
            heading = re.search(r"^# (.+)$", cell["source"], re.MULTILINE)
            if heading:
                return heading.group(1).strip()
    raise AssertionError(f"{source} has no level-one heading")


CHAPTERS = layout.chapters(ROOT)
APPENDICES = layout.appendices(ROOT)


def test_the_pdf_is_a_book():
    reader = PdfReader(PDF) if PDF.is_file() else pytest.fail(f"{PDF} is missing: run `make pdf`")
    assert len(reader.pages) >= 10 * len(CHAPTERS), f"only {len(reader.pages)} pages for {len(CHAPTERS)} chapters"
    assert reader.metadata.title == "Length and direction"


@pytest.mark.parametrize("source", CHAPTERS + APPENDICES, ids=lambda p: p.stem)
def test_the_pdf_has_every_chapter_and_appendix(text, source):
    title = _normalized(_page_title(source))
    assert title in text, f"{title!r} ({source.name}) is not in the PDF"


@pytest.mark.parametrize("statement", find_statements(CHAPTERS), ids=lambda s: s.label)
def test_the_pdf_states_every_theorem_by_its_title(text, statement):
    heading = f"{statement.kind.title()} "
    # a title with math is typeset: only its words before the first formula are in the text as written
    title, has_math = _normalized(statement.title.split("$", 1)[0]), "$" in statement.title
    pattern = re.escape(heading) + r"\d+\.\d+ \(" + re.escape(title) + ("" if has_math else r"\)")
    assert re.search(pattern, text), f"no '{heading}n.m ({statement.title})' in the PDF"


def _tex_commands_only_in_prose() -> set:
    """TeX commands of the book's formulas that no code cell contains (code may print TeX legitimately)."""
    prose, code = set(), set()
    for source in layout.pages(ROOT):
        for cell in read_cells(source):
            (prose if cell["cell_type"] == "markdown" else code).update(re.findall(r"\\[a-zA-Z]+", cell["source"]))
    return prose - code


def test_the_pdf_has_typeset_math_not_tex(text):
    commands = _tex_commands_only_in_prose()
    assert len(commands) >= 10, f"too few TeX commands to tell: {sorted(commands)}"
    leftovers = sorted(tex for tex in commands if re.search(re.escape(tex) + "(?![a-zA-Z])", text))
    leftovers += [tex for tex in ("$$", r"\(", r"\[") if tex in text]
    assert not leftovers, f"TeX source in the PDF's text: {leftovers}"
    assert "ρ" in text or "\U0001d70c" in text, "no typeset rho: the math did not reach the PDF"


# --- nothing cut off: every displayed formula in full, nothing past the column ----------------

#: Written by tests/browser/print_pdf.mjs beside the PDF: the displayed formulas as printed.
FORMULAS = PDF.with_name(PDF.stem + ".formulas.json")
#: The PDF's side margins (print_pdf.mjs prints A4 with 14 mm on either side), in points.
SIDE_MARGIN_PT = 14 / 25.4 * 72
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$|^(\\begin\{(\w+\*?)\}.*?\\end\{\3\})", re.S | re.M)


def _source_formulas() -> list[tuple[str, str]]:
    """(page, TeX) of every displayed formula of the book's markdown, in the order of the book."""
    found = []
    for source in layout.pages(ROOT):
        for cell in read_cells(source):
            if cell["cell_type"] == "markdown":
                for match in DISPLAY_MATH.finditer("\n".join(_prose_lines(cell["source"]))):
                    found.append((source.name, (match.group(1) or match.group(2)).strip()))
    return found


def _squeezed(tex: str) -> str:
    """TeX without white space and without the split environment Sphinx wraps multi-line formulas in."""
    return re.sub(r"\s+|\\(begin|end)\{split\}", "", tex)


@pytest.fixture(scope="module")
def printed() -> dict:
    if not FORMULAS.is_file():
        pytest.fail(f"{FORMULAS} is missing: run `make pdf` (`make test` does)")
    return json.loads(FORMULAS.read_text(encoding="utf-8"))


def test_the_formula_rule_reads_the_sources():
    formulas = _source_formulas()
    assert len(formulas) >= 30 and all(tex for _, tex in formulas)
    assert _squeezed("\\begin{split} a &= b \\\\\n c \\end{split}") == "a&=b\\\\c"


def test_every_displayed_formula_of_the_sources_is_in_the_pdf(printed):
    squeezed = [_squeezed(formula["tex"]) for formula in printed["formulas"]]
    missing = [(page, tex) for page, tex in _source_formulas() if not any(_squeezed(tex) in p for p in squeezed)]
    assert not missing, f"{len(missing)} displayed formulas of the sources are not in the printed book: {missing[:5]}"


def test_every_displayed_formula_is_printed_in_full(printed):
    """In the printed layout (the PDF's column, print_pdf.mjs measures it), each displayed formula is
    no wider than its box and does not run over its equation number."""
    lost = [f for f in printed["formulas"] if f["needed"] > f["available"] + 1 or f["pastTheBox"] > 1 or f["overNumber"]]
    assert not lost, (f"{len(lost)} of {len(printed['formulas'])} displayed formulas do not fit the printed column "
                      f"of {printed['columnPx']} px: " + "; ".join(
                          f"{f['number'] or 'unnumbered'} needs {f['needed']} px of {f['available']}"
                          f"{' and runs over its number' if f['overNumber'] else ''}: {f['tex'][:80]!r}" for f in lost[:12]))


def _words(pdf: Path) -> list[dict]:
    """Every word of the PDF with its page and box, in points (poppler's pdftotext -bbox)."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    words, page = [], 0
    for line in html.splitlines():
        size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line)
        if size:
            page, width = page + 1, float(size.group(1))
        word = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*)</word>', line)
        if word:
            words.append({"page": page, "width": width, "left": float(word.group(1)), "right": float(word.group(2)),
                          "text": word.group(3)})
    return words


def test_no_text_of_the_pdf_runs_past_the_column():
    """Print does not clip formulas (print_pdf.mjs): a formula or a line too wide for the column runs
    into the margin or off the page, and its glyphs are found there."""
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    words = _words(PDF)
    assert len(words) > 10_000, f"only {len(words)} words in the PDF"
    slack = 2.0  # points: glyph boxes of italic letters reach slightly past their advance
    outside = [w for w in words if w["right"] > w["width"] - SIDE_MARGIN_PT + slack or w["left"] < SIDE_MARGIN_PT - slack]
    assert not outside, f"{len(outside)} words of the PDF lie past the column: " + "; ".join(
        f"p. {w['page']}: {w['text']!r} at {w['left']:.0f}-{w['right']:.0f} pt" for w in outside[:12])


#: The tint of every code box in print (_static/print.css), as rendered: red, green, blue.
CODE_BOX_TINT = (0xEA, 0xF1, 0xF8)


def _code_boxes(page: Image.Image) -> list[tuple[int, int, bool]]:
    """The code boxes of one rendered page: (top, bottom, holds text) for each band of rows that
    are mostly the code boxes' tint, holds text when a dark pixel lies inside the band."""
    pixels = np.asarray(page.convert("RGB"), dtype=int)
    tint = np.all(np.abs(pixels - np.array(CODE_BOX_TINT)) <= 3, axis=2)
    width = pixels.shape[1]
    # a row crosses a box where a tenth of it has the tint (lines of code cover some of it); a band
    # of such rows is a box when one of its rows is tinted over a third of the page (the column)
    box_rows = tint.sum(axis=1) >= 0.1 * width
    dark = pixels.mean(axis=2) < 150
    boxes, top = [], None
    for row, in_box in enumerate(list(box_rows) + [False]):
        if in_box and top is None:
            top = row
        elif not in_box and top is not None:
            if tint[top:row].sum(axis=1).max() >= width / 3:
                columns = np.flatnonzero(tint[top:row].any(axis=0))
                boxes.append((top, row, bool(dark[top:row, columns.min():columns.max() + 1].any())))
            top = None
    return boxes


def test_the_code_box_rule_sees_an_empty_box():
    page = Image.new("RGB", (200, 300), "white")
    page.paste(CODE_BOX_TINT, (10, 20, 190, 60))      # a box with a line of code
    page.paste((20, 20, 20), (20, 35, 120, 40))
    page.paste(CODE_BOX_TINT, (10, 250, 190, 290))    # an empty box at the bottom
    assert [holds for _, _, holds in _code_boxes(page)] == [True, False]


def test_no_code_box_of_the_pdf_is_empty(tmp_path):
    """A code box at the bottom of a page whose code went to the next page shows as an empty box."""
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    # 40 dots per inch: a line of 8-point code is 4 pixels high, dark enough to be seen
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(PDF), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(PDF).pages)
    boxes = {page.stem: _code_boxes(Image.open(page)) for page in pages}
    assert sum(len(found) for found in boxes.values()) >= 50, "too few code boxes found: is the tint of print.css the test's?"
    empty = [f"p. {int(name.split('-')[-1])} (rows {top}-{bottom})" for name, found in boxes.items()
             for top, bottom, holds in found if not holds and bottom - top >= 3]
    assert not empty, f"{len(empty)} code boxes of the PDF hold no code: {empty[:12]}"


def _pdf_pages_text(pdf: Path) -> list[str]:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout.split("\f")


@pytest.mark.parametrize("source", CHAPTERS + APPENDICES, ids=lambda p: p.stem)
def test_the_contents_give_the_page_on_which_each_chapter_starts(source):
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    pages = _pdf_pages_text(PDF)
    title = " ".join(_normalized(_page_title(source)).split()).lower()
    contents = [" ".join(line.split()) for line in pages[0].splitlines()]
    entry = next((line for line in contents if title in _normalized(line).lower()), None)
    assert entry, f"{title!r} is not in the table of contents on the first page"
    number = re.search(r"(\d+)$", entry)
    assert number, f"the table of contents gives no page for {title!r}: {entry!r}"
    start = " ".join(_normalized(pages[int(number.group(1)) - 1]).split()[:40]).lower().replace("- ", "-")
    assert title in start, f"the contents send {title!r} to p. {number.group(1)}, which starts {start[:80]!r}"


def _headings() -> list[str]:
    """The text of every heading of the book's sources (levels 1-4), as the PDF prints it (lower case),
    without MyST targets, roles and headings with math (their printed text differs from the source)."""
    headings = []
    for source in layout.pages(ROOT):
        for cell in read_cells(source):
            if cell["cell_type"] != "markdown":
                continue
            for heading in re.findall(r"^#{1,4} (.+)$", cell["source"], re.MULTILINE):
                heading = re.sub(r"\{[^}]*\}`?|`", "", heading).strip()
                if "$" not in heading:
                    headings.append(" ".join(_normalized(heading).split()).lower())
    return headings


def _stranded_headings(pages: list[str], headings: list[str]) -> list[tuple[int, str]]:
    """The pages whose last line of text (the page number left out) is a heading, or the start of
    one that goes on over the page: a heading cut off from the text it heads."""
    stranded = []
    for number, page in enumerate(pages, start=1):
        lines = [line for line in page.splitlines() if line.strip() and not re.fullmatch(r"\s*\d+\s*", line)]
        if not lines:
            continue
        last = re.sub(r"^[\d.]+\s+", "", " ".join(_normalized(lines[-1]).split()).lower())  # "2.3 Title" as "title"
        if any(last == heading or (len(last) >= 12 and heading.startswith(last)) for heading in headings if len(heading) > 3):
            stranded.append((number, last))
    return stranded


def test_the_heading_rule_sees_a_stranded_heading():
    headings = ["the rate of gdnp on least squares", "exercises"]
    pages = ["text\n\n2.3 The rate of GDNP on\n\n   12\n", "least squares\ntext\n  13\n", "Some text\n  14", "Exercises\n"]
    assert _stranded_headings(pages, headings) == [(1, "the rate of gdnp on"), (4, "exercises")]


def test_no_heading_is_the_last_line_of_a_pdf_page():
    """A heading at the foot of a page, its text on the next (issue 14): the print style sheet keeps
    a heading with what follows (break-after: avoid); this fails if a page ever ends with one."""
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    headings = _headings()
    assert len(headings) > 50, f"only {len(headings)} headings read from the sources: is the rule broken?"
    stranded = _stranded_headings(_pdf_pages_text(PDF), headings)
    assert not stranded, f"these pages of the PDF end with a heading whose text is on the next page: {stranded}"
