"""The book's two indexes, as a reader uses them: the index of statements and the general index.

sphinx-proof's "Proof Index" (``prf-prf.html``) lists every box by its label (``thm-ls-rate``),
without its number or title, in the alphabetical order of the labels. Here each entry reads as
the box's heading does, "Theorem 2.3 (The rate of GDNP)", grouped by chapter in the order of the
book, and links to the box. The general index (``genindex.html``), empty otherwise since the book
writes no ``{index}`` entries, gets one entry for every titled statement, under its title, so
that a reader can look up "bisection" or "Rayleigh quotient" there.

Both pages are linked from the foot of every page (``book_edition``).
"""

from __future__ import annotations

from collections import defaultdict

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx_proof.domain import ProofDomain, ProofIndex

from reader_pages import tex_as_text

#: The kinds of sphinx-proof boxes that a reader looks up (a proof has no title of its own).
KINDS = ("theorem", "lemma", "proposition", "corollary", "definition", "assumption", "algorithm",
         "remark", "example", "conjecture", "criterion", "property", "observation", "axiom", "notation")


def _title(node) -> str:
    """The box's own title, as plain text (formulas read as text), without the parentheses around it."""
    title = next(iter(node.findall(nodes.title)), None)
    if title is None:
        return ""
    parts = [tex_as_text(piece.astext()) if isinstance(piece, nodes.math) else piece.astext()
             for piece in title.children]
    return " ".join("".join(parts).split()).strip().removeprefix("(").removesuffix(")").strip()


def _statements(doctree):
    for node in doctree.findall(nodes.Element):
        if node.get("realtype") in KINDS and node.get("label") and node["ids"]:
            yield node


class StatementEntries(SphinxTransform):
    """Remember each statement's title, and write its entry of the general index before it (before
    Sphinx's SphinxDomains transform, priority 850, collects the index entries of the page)."""

    default_priority = 845

    def apply(self, **kwargs) -> None:
        env = self.env
        titles = env.__dict__.setdefault("statement_titles", {})
        for node in list(_statements(self.document)):  # a list: the loop inserts nodes into the tree it walks
            title = _title(node)
            titles[node["label"]] = (env.docname, title)
            if title and node.parent is not None:
                index = addnodes.index(entries=[("single", title, node["ids"][0], "", None)])
                node.parent.insert(node.parent.index(node), index)


def _purge(app, env, docname) -> None:
    titles = getattr(env, "statement_titles", {})
    for label in [label for label, (doc, _) in titles.items() if doc == docname]:
        del titles[label]


def _merge(app, env, docnames, other) -> None:
    env.__dict__.setdefault("statement_titles", {}).update(getattr(other, "statement_titles", {}))


class StatementIndex(ProofIndex):
    """sphinx-proof's index (same name, same page), with the book's headings as its entries."""

    def generate(self, docnames=None):
        env = self.domain.env
        titles = getattr(env, "statement_titles", {})
        groups = defaultdict(list)
        for label, values in getattr(env, "proof_list", {}).items():
            docname = values["docname"]
            if docnames and docname not in docnames:
                continue
            number = env.toc_fignumbers.get(docname, {}).get(values["countertype"], {}).get(label)
            if values["nonumber"]:
                number = None
            kind = values["realtype"].title()
            heading = f"{kind} {'.'.join(map(str, number))}" if number else kind
            title = titles.get(label, (docname, ""))[1]
            # the page's own number in the book (chapter 2), when the table of contents numbers it
            section = env.toc_secnumbers.get(docname, {}).get("", ())
            page_title = env.titles[docname].astext() if docname in env.titles else docname
            chapter = (section or (10**6,), docname, f"{'.'.join(map(str, section))}. {page_title}" if section else page_title)
            anchor = values["ids"][0] if values["ids"] else label
            groups[chapter].append((tuple(number or ()), label,
                                    (f"{heading} ({title})" if title else heading, 0, docname, anchor, "", "", "")))
        content = [(chapter, [entry for *_, entry in sorted(entries)]) for (*_, chapter), entries in sorted(groups.items())]
        return content, False


def setup(app):
    # the index keeps sphinx-proof's name ("prf") and so its page, prf-prf.html
    ProofDomain.indices = [StatementIndex]
    app.add_transform(StatementEntries)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
