"""Re-read the pages that are generated from the rest of the book at every build.

Sphinx re-reads a page only when its own source changed. The verification appendix
(``book/verification.ipynb``) is generated from the chapters and ``lib.checks``: when a chapter
states a new lemma or a check changes, its source does not change, and an incremental build
would publish the old table. The pages listed in the configuration value ``generated_pages``
(docnames, e.g. ``book/verification``) are therefore re-read, and so re-executed, by every build.
"""

from __future__ import annotations


def _always_outdated(app, env, added, changed, removed) -> list[str]:
    return [docname for docname in app.config.generated_pages if docname in env.found_docs]


def setup(app):
    app.add_config_value("generated_pages", [], "env")
    app.connect("env-get-outdated", _always_outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
