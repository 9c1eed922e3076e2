"""The notebook pages follow the cache of executed notebooks: outputs written out, stale pages read again.

The build takes the notebooks' outputs from ``_build/.jupyter_cache`` (``execute_notebooks:
cache``; ``tools/execute_book.py`` runs every notebook into it afresh first, in ``make book`` and
``make test``). Two things myst-nb 1.4 does not do in that mode, done here:

* **The executed notebook keeps its outputs.** myst-nb renders the page from the cached outputs
  but writes ``_build/jupyter_execute/<page>.ipynb`` from the notebook as it read it, without them
  (it has them only when it executed the notebook in place). ``tests/test_jupyterlab.py``
  compares what JupyterLab draws with that file. After a notebook page is read, its file is
  written again with the cache's outputs, as the build used them.
* **A page is read again when its notebook was run again.** Sphinx reads a page again only when
  its source file changed; a notebook whose code is unchanged but whose outputs changed (after a
  change to ``lib``, ``make book`` runs it again into the cache) would keep its old page. Each
  notebook page remembers which cache record (number and time of creation) it was rendered from,
  and is outdated when the cache no longer holds that record.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

#: the environment's attribute: docname -> (pk, created) of the cache record the page was rendered from
RECORDS = "executed_notebook_records"


def _cache(config):
    from jupyter_cache import get_cache

    return get_cache(config.execution_cache_path)


def _write_executed(app, doctree) -> None:
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    docname = app.env.docname
    written = Path(config.output_folder).joinpath(*(docname + ".ipynb").split("/"))
    if not written.is_file():  # not a notebook page
        return
    cache = _cache(config)
    try:
        pk, executed = cache.merge_match_into_notebook(nbformat.read(written, as_version=4))
    except KeyError:  # not in the cache (the build ran it and could not store it): read it again next time
        getattr(app.env, RECORDS, {}).pop(docname, None)
        return
    if not hasattr(app.env, RECORDS):
        setattr(app.env, RECORDS, {})
    getattr(app.env, RECORDS)[docname] = (pk, str(cache.get_cache_record(pk).created))
    written.write_text(nbformat.writes(executed), encoding="utf-8")


def _outdated(app, env, added, changed, removed) -> list[str]:
    """The notebook pages whose cache record is gone or was replaced since they were read."""
    config = getattr(env, "mystnb_config", None)
    records = getattr(env, RECORDS, {})
    if config is None or config.execution_mode != "cache" or not records:
        return []
    cache = _cache(config)
    stale = []
    for docname, (pk, created) in records.items():
        if docname in removed or docname in changed or docname in added:
            continue
        try:
            current = str(cache.get_cache_record(pk).created)
        except KeyError:
            current = None
        if current != created:
            stale.append(docname)
    return stale


def _purge(app, env, docname) -> None:
    getattr(env, RECORDS, {}).pop(docname, None)


def _merge(app, env, docnames, other) -> None:
    mine = getattr(env, RECORDS, None)
    if mine is None:
        mine = {}
        setattr(env, RECORDS, mine)
    mine.update({name: record for name, record in getattr(other, RECORDS, {}).items() if name in docnames})


def setup(app):
    app.connect("doctree-read", _write_executed)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
