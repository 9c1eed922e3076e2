"""What the written HTML pages still lack for a reader with a screen reader, a keyboard or a phone.

Run on every page the HTML builders wrote (``html`` and the ``singlehtml`` page that ``make pdf``
prints), after the build, by the event ``build-finished``:

1. **Figures are described and open full size.** An image whose alt text is missing or is its own
   file path gets its figure's caption as alt text (its formulas read as plain text), and every
   image of a figure or a cell output is wrapped in a link to the image itself.
2. **Ids are unique.** sphinx-proof and sphinx-exercise give every unlabelled proof, and every
   content box, the same id (``proof``, ``proof-content``, ...); later copies get ``-2``, ``-3``
   when no link of the page points to them.
3. **Accessible names match what is seen.** An element whose visible text is not part of its
   ``aria-label`` (the theme's search field, folded cells' "Show code" toggles) is named by its
   text; the theme's icon glyphs are hidden from assistive technology; the references'
   ``role="list"``, which has no list items, is dropped.
4. **The links to the PDF** (book_edition writes them relative to the output folder) are made
   relative to each page; the single page, which is printed to the PDF, keeps their words only.
5. **No empty output box.** An output that holds only white space is dropped.
6. **No script is declared twice.** sphinx-thebe adds its configuration script twice, and the
   second copy stops with "Identifier 'THEBE_JS_URL' has already been declared".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bs4 import BeautifulSoup

#: TeX commands of captions and their plain-text reading, for alt text.
TEX_WORDS = {
    r"\|": "‖", r"\rho": "ρ", r"\mu": "μ", r"\kappa": "κ", r"\nabla": "∇", r"\Psi": "Ψ", r"\Phi": "Φ",
    r"\eta": "η", r"\theta": "θ", r"\sigma": "σ", r"\zeta": "ζ", r"\xi": "ξ", r"\varepsilon": "ε",
    r"\top": "ᵀ", r"\infty": "∞", r"\le": "≤", r"\ge": "≥", r"\times": "×", r"\cdot": "·", r"\approx": "≈",
    r"\to": "→", r"\in": "∈", r"\sqrt": "√", r"\ldots": "…", r"\dots": "…", r"\pm": "±",
}


def tex_as_text(tex: str) -> str:
    """A formula as a screen reader can read it: Greek letters and symbols as characters, no braces."""
    text = re.sub(r"\\(tilde|hat|bar)\s*\{?(\w)\}?", lambda m: m.group(2) + {"tilde": "\u0303", "hat": "\u0302",
                                                                              "bar": "\u0304"}[m.group(1)], tex)
    for command in sorted(TEX_WORDS, key=len, reverse=True):
        # a command made of letters ends where the letters end (\in is not \infty)
        text = re.sub(re.escape(command) + (r"(?![a-zA-Z])" if command[-1].isalpha() else ""), TEX_WORDS[command], text)
    text = re.sub(r"\\(left|right|big|Big|bigg|mathrm|operatorname|mathbb|text|mathcal)\b", "", text)
    text = re.sub(r"\\[,;:!]|\\ |\\", " ", text)
    return " ".join(text.replace("{", "").replace("}", "").split())


def _caption_text(figure) -> str:
    caption = figure.find("figcaption")
    if caption is None:
        return ""
    parts = []
    for piece in caption.find(class_="caption-text") or caption:
        if getattr(piece, "name", None) == "span" and "math" in (piece.get("class") or []):
            parts.append(tex_as_text(piece.get_text().strip().removeprefix(r"\(").removesuffix(r"\)")))
        else:
            parts.append(piece.get_text() if hasattr(piece, "get_text") else str(piece))
    return " ".join("".join(parts).split())


def describe_and_link_figures(soup) -> None:
    for image in soup.select("figure img, .cell_output img"):
        alt = (image.get("alt") or "").strip()
        figure = image.find_parent("figure")
        if figure is not None and (not alt or alt == image.get("src") or re.search(r"\.(png|jpe?g|svg)$", alt)):
            image["alt"] = _caption_text(figure) or "a figure computed by the code above"
        if image.find_parent("a") is None:
            link = soup.new_tag("a", href=image["src"], attrs={"class": "full-image"})
            image.wrap(link)


def make_ids_unique(soup) -> None:
    targets = {href[1:] for href in (a.get("href", "") for a in soup.find_all("a")) if href.startswith("#")}
    seen: dict[str, int] = {}
    for element in soup.find_all(id=True):
        name = element["id"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1 and name not in targets:
            element["id"] = f"{name}-{seen[name]}"


def name_elements_by_what_is_seen(soup) -> None:
    for icon in soup.select('i[class*="fa-"], .theme-switch'):
        icon["aria-hidden"] = "true"
        icon.attrs.pop("title", None)
    for element in soup.find_all(attrs={"aria-label": True}):
        text = " ".join(element.get_text(" ").split())
        if text and text.lower() not in element["aria-label"].lower():
            del element["aria-label"]
    for listing in soup.select(".citation-list[role=list]"):
        del listing["role"]


def declare_scripts_once(soup) -> None:
    seen = set()
    for script in soup.find_all("script"):
        body = script.string or ""
        if body.strip() and not script.get("src"):
            if body in seen:
                script.decompose()
            seen.add(body)


def link_the_pdf(soup, page: Path, outdir: Path, single_page: bool) -> None:
    """Links to the PDF relative to ``page``; the single page, from which the PDF is printed, has none."""
    for link in soup.select("a.book-pdf"):
        if single_page:
            link.decompose() if link.find_parent(class_="book-edition") else link.unwrap()
        else:
            link["href"] = os.path.relpath(outdir / link["href"], page.parent).replace(os.sep, "/")


def drop_empty_outputs(soup) -> None:
    """An output of a cell that holds only white space (a lone newline a kernel flushed on its own)
    would show as an empty code box."""
    for output in soup.select("div.cell_output div.output"):
        if not output.get_text().strip() and output.find(["img", "svg", "table", "iframe"]) is None:
            output.decompose()


def improve_page(html: str, page: Path, outdir: Path, single_page: bool = False) -> str:
    soup = BeautifulSoup(html, "html.parser")
    link_the_pdf(soup, page, outdir, single_page)
    drop_empty_outputs(soup)
    describe_and_link_figures(soup)
    make_ids_unique(soup)
    name_elements_by_what_is_seen(soup)
    declare_scripts_once(soup)
    return str(soup)


def _improve_written_pages(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "<html" in text[:2000]:
            page.write_text(improve_page(text, page, Path(app.outdir), app.builder.name == "singlehtml"),
                            encoding="utf-8")


def setup(app):
    # after single_page_build has copied its page (extensions' handlers run in the order of setup)
    app.connect("build-finished", _improve_written_pages, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
