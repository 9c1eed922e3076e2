"""One citation style for the text and the list: author-year, with the DOI or URL linked.

sphinxcontrib-bibtex cites author-year in the text (``bibtex_reference_style: author_year``), but
its list labels entries with pybtex's alpha labels ([IS15], [KDL+19]). This registers the pybtex
style ``author_year``: pybtex's ``unsrt`` formatting (which prints an entry's ``doi`` and ``url``
as links), entries sorted by author, year and title, and labels as the text cites them:
"Ioffe and Szegedy, 2015", "Kohler et al., 2019".
"""

from __future__ import annotations

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


def author_year_label(entry) -> str:
    """"A, year", "A and B, year" or "A et al., year" from the authors (or editors) of ``entry``."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last_name(person) for person in people]
    if not names:
        who = entry.fields.get("title", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year_label(entry)


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
