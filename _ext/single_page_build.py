"""Make the single-page HTML build (``make pdf`` prints it) render, and render where its links work.

Two problems of Sphinx's ``singlehtml`` builder with this book, both fixed here:

1. Sphinx looks up the visitor of an extension's node under the builder's name and, only when
   no extension registered anything under that name, under its format. sphinx-exercise
   registers its nodes for ``singlehtml`` by name, so the builder stops falling back to the
   ``html`` visitors, and sphinx-proof's nodes (registered for ``html`` only) crash it with
   "unknown node type: assumption_node" (jupyter-book's ``pdfhtml`` crashes the same way). The
   builder gets a copy of every ``html`` visitor it lacks.
2. The page is written to ``<root_doc>.html``, here ``book/intro.html``, but its links to
   ``_static/`` and ``_images/`` are relative to the output folder, so from ``book/`` no style
   sheet or figure loads. The page is copied to ``book.html`` in the output folder, where
   every relative link resolves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: The single-page book, in the output folder of the ``singlehtml`` builder.
SINGLE_PAGE = "book.html"


def _copy_html_visitors(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single_page = handlers.setdefault("singlehtml", {})
    for node_name, visitors in handlers.get("html", {}).items():
        single_page.setdefault(node_name, visitors)


def _place_page_at_the_root(app, exception) -> None:
    if app.builder.name != "singlehtml" or exception is not None:
        return
    written = Path(app.outdir) / (app.config.root_doc + app.builder.out_suffix)
    shutil.copyfile(written, Path(app.outdir) / SINGLE_PAGE)


def setup(app):
    app.connect("builder-inited", _copy_html_visitors)
    app.connect("build-finished", _place_page_at_the_root)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
