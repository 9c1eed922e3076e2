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
7. **A folded solution's title only unfolds it** (no link to the exercise in it; book.js makes
   every word of the title a click target).
8. **Formulas have a plain-text reading** (``data-text``): the search page builds each result's
   snippet from a page's text, where a formula is still TeX; _static/book.js shows the reading.
9. **No widget state where no widget is shown.** An executed notebook keeps the state of every
   widget a cell made, and myst-nb then adds it and the widget scripts (RequireJS and the widget
   manager, from a CDN) to the page even when the widget's output is removed
   (``remove-output``): about 100 kB for nothing. They stay only on a page that shows a widget.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from bs4 import BeautifulSoup

#: TeX commands and their plain-text reading, for alt text, search results and index entries.
TEX_WORDS = {
    r"\|": "‖", r"\lVert": "‖", r"\rVert": "‖", r"\lvert": "|", r"\rvert": "|", r"\mid": "|",
    r"\langle": "⟨", r"\rangle": "⟩", r"\lceil": "⌈", r"\rceil": "⌉",
    r"\alpha": "α", r"\beta": "β", r"\gamma": "γ", r"\delta": "δ", r"\varepsilon": "ε", r"\epsilon": "ε",
    r"\zeta": "ζ", r"\eta": "η", r"\theta": "θ", r"\vartheta": "ϑ", r"\kappa": "κ", r"\lambda": "λ",
    r"\mu": "μ", r"\nu": "ν", r"\xi": "ξ", r"\pi": "π", r"\rho": "ρ", r"\sigma": "σ", r"\tau": "τ",
    r"\phi": "φ", r"\chi": "χ", r"\psi": "ψ", r"\omega": "ω", r"\ell": "ℓ",
    r"\Delta": "Δ", r"\Lambda": "Λ", r"\Sigma": "Σ", r"\Phi": "Φ", r"\Psi": "Ψ",
    r"\nabla": "∇", r"\partial": "∂", r"\sum": "Σ", r"\int": "∫", r"\infty": "∞",
    r"\top": "ᵀ", r"\perp": "⊥", r"\parallel": "∥", r"\angle": "∠", r"\circ": "∘",
    r"\le": "≤", r"\leq": "≤", r"\ge": "≥", r"\geq": "≥", r"\ne": "≠", r"\neq": "≠", r"\approx": "≈",
    r"\sim": "~", r"\propto": "∝", r"\in": "∈", r"\subset": "⊂", r"\to": "→", r"\mapsto": "↦",
    r"\times": "×", r"\cdot": "·", r"\pm": "±", r"\mp": "∓", r"\ldots": "…", r"\dots": "…", r"\cdots": "⋯",
    r"\sqrt": "√",
}

#: Accents and the combining character that reads as each.
_ACCENTS = {"tilde": "\u0303", "hat": "\u0302", "bar": "\u0304", "check": "\u030c"}
#: Letters of the blackboard font the book uses.
_BLACKBOARD = {"R": "ℝ", "E": "𝔼", "N": "ℕ", "P": "ℙ", "Z": "ℤ"}


def tex_as_text(tex: str) -> str:
    """A formula as a screen reader or a search result can show it: Greek letters and symbols as
    characters, fractions as a/b, no TeX commands, no braces."""
    text = tex.strip()
    for delimiters in ((r"\(", r"\)"), (r"\[", r"\]"), ("$$", "$$")):
        text = text.removeprefix(delimiters[0]).removesuffix(delimiters[1])
    text = re.sub(r"\\(begin|end)\{\w+\*?\}(\{[^{}]*\})?", " ", text)  # environments and their column specs
    text = text.replace("\\\\", " ").replace("&", " ")
    text = re.sub(r"\\mathbb\s*\{?\s*(\w)\s*\}?", lambda m: _BLACKBOARD.get(m.group(1), m.group(1)), text)
    # words set in roman: their text stays, the command goes
    text = re.sub(r"\\(operatorname|mathrm|mathbf|mathcal|text|textrm)\s*\{([^{}]*)\}", r"\2", text)
    text = re.sub(r"\\(left|right|[bB]igg?[lr]?|displaystyle|textstyle|limits)(?![a-zA-Z])", "", text)
    text = re.sub(r"\\q?quad(?![a-zA-Z])|\\[,;:! ]", " ", text)
    for command in sorted(TEX_WORDS, key=len, reverse=True):
        # a command made of letters ends where the letters end (\in is not \infty)
        text = re.sub(re.escape(command) + (r"(?![a-zA-Z])" if command[-1].isalpha() else ""),
                      lambda m, word=TEX_WORDS[command]: word, text)
    text = text.replace("^ᵀ", "ᵀ").replace("^{ᵀ}", "ᵀ")
    text = re.sub(r"\\(tilde|hat|bar|check)\s*(?:\{\s*(\w)\s*\}|(\w))",
                  lambda m: (m.group(2) or m.group(3)) + _ACCENTS[m.group(1)], text)

    def fraction(match):
        top, bottom = (part.strip() for part in match.group(2, 3))
        simple = lambda part: re.fullmatch(r"[\w\u0300-\u036f.ᵀ]+", part) is not None
        return (top if simple(top) else f"({top})") + "/" + (bottom if simple(bottom) else f"({bottom})")

    def script(match):
        body = match.group(2).strip()
        letters = re.sub("[\u0300-\u036f]", "", body)  # a letter with an accent is one letter
        return match.group(1) + (body if len(letters) <= 1 else f"({body})")

    while True:  # innermost groups first
        before = text
        text = re.sub(r"\\([dt]?frac)\s*\{([^{}]*)\}\s*\{([^{}]*)\}", fraction, text)
        text = re.sub(r"√\s*\{([^{}]*)\}", r"√(\1)", text)
        text = re.sub(r"([_^])\s*\{([^{}]*)\}", script, text)
        if text == before:
            break
    # named functions (\tanh, \log, \max) read as their names; any other command loses its backslash
    text = re.sub(r"\\([a-zA-Z]+)", r"\1", text)
    text = text.replace("\\", " ")
    return " ".join(text.replace("{", "").replace("}", "").split())


def _caption_text(figure) -> str:
    caption = figure.find("figcaption")
    if caption is None:
        return ""
    parts = []
    for piece in caption.find(class_="caption-text") or caption:
        if getattr(piece, "name", None) == "span" and "math" in (piece.get("class") or []):
            parts.append(tex_as_text(piece.get_text()))
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
    """Links to the PDF and to the indexes relative to ``page``; the single page, from which the
    PDF is printed, has none."""
    if single_page:
        for links in soup.select(".book-edition .book-links"):
            links.decompose()
    for link in soup.select("a.book-pdf, a.book-index"):
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


def give_formulas_a_reading(soup) -> None:
    """Every formula gets its plain-text reading in ``data-text`` (its equation number left out)."""
    for formula in soup.select("span.math, div.math"):
        tex = "".join(piece if isinstance(piece, str) else "" for piece in formula.children)
        formula["data-text"] = tex_as_text(tex)


#: The widget-view output that shows a widget, and the state every widget of a notebook leaves.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def drop_unshown_widgets(soup, widget_scripts) -> None:
    """Without a widget on the page, its widget state and the widget scripts (``nb_ipywidgets_js``) go."""
    if soup.find("script", attrs={"type": WIDGET_VIEW}) is not None:
        return
    for script in soup.find_all("script"):
        if script.get("type") == WIDGET_STATE or (script.get("src") and script["src"] in widget_scripts):
            script.decompose()


def unlink_folded_titles(soup) -> None:
    """The title of a folded box (a solution) unfolds it on a click; a link in it (sphinx-exercise
    links "Exercise 1.2" to the exercise, just above) would jump away and leave the box folded."""
    for link in soup.select(".admonition.dropdown > .admonition-title a[href]"):
        link.unwrap()


def improve_page(html: str, page: Path, outdir: Path, single_page: bool = False,
                 widget_scripts: tuple = ()) -> str:
    soup = BeautifulSoup(html, "html.parser")
    drop_unshown_widgets(soup, widget_scripts)
    give_formulas_a_reading(soup)
    unlink_folded_titles(soup)
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
            page.write_text(improve_page(text, page, Path(app.outdir), app.builder.name == "singlehtml",
                                         tuple(getattr(app.config, "nb_ipywidgets_js", None) or ())),
                            encoding="utf-8")


def setup(app):
    # after single_page_build has copied its page (extensions' handlers run in the order of setup)
    app.connect("build-finished", _improve_written_pages, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
