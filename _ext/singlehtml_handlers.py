"""Let the single-page HTML build (``make pdf``) render every node the HTML build renders.

Sphinx looks up the visitor of an extension's node under the builder's name and, only when
no extension registered anything under that name, under its format. sphinx-exercise registers
its nodes for ``singlehtml`` by name, so the ``singlehtml`` builder stops falling back to the
``html`` visitors, and sphinx-proof's nodes (registered for ``html`` only) crash it with
"unknown node type: assumption_node" (jupyter-book's ``pdfhtml`` builds on ``singlehtml`` and
crashes the same way). This extension copies every ``html`` visitor that ``singlehtml`` lacks.
"""

from __future__ import annotations


def _copy_html_visitors(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single_page = handlers.setdefault("singlehtml", {})
    for node_name, visitors in handlers.get("html", {}).items():
        single_page.setdefault(node_name, visitors)


def setup(app):
    app.connect("builder-inited", _copy_html_visitors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
