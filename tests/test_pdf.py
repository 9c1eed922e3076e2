"""The PDF of the whole book (`make pdf`): it exists, it has every chapter and appendix, every
theorem, lemma and proposition by its title, and typeset math rather than TeX source."""

import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from course import layout
from lib.checks.statements import find_statements, read_cells

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
