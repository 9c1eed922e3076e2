"""Write each page's executed notebook to ``jupyter_execute/`` with its outputs, in cache mode too.

The build takes the notebooks' outputs from ``_build/.jupyter_cache`` (``execute_notebooks:
cache``; ``tools/execute_book.py`` runs every notebook into it first). myst-nb 1.4 renders the
page from the cached outputs but writes ``_build/jupyter_execute/<page>.ipynb`` from the notebook
as it read it, without them (it has them only when it executed the notebook in place).
``tests/test_jupyterlab.py`` compares what JupyterLab draws with that file. After a notebook page
is read, its file is written again with the cache's outputs, as the build used them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat


def _write_executed(app, doctree) -> None:
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    docname = app.env.docname
    written = Path(config.output_folder).joinpath(*(docname + ".ipynb").split("/"))
    if not written.is_file():  # not a notebook page
        return
    from jupyter_cache import get_cache

    try:
        _, executed = get_cache(config.execution_cache_path).merge_match_into_notebook(
            nbformat.read(written, as_version=4))
    except KeyError:  # executed by the build itself, in place: the file has its outputs already
        return
    written.write_text(nbformat.writes(executed), encoding="utf-8")


def setup(app):
    app.connect("doctree-read", _write_executed)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
