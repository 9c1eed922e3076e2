"""The edition of the book on every page: its version, its build date and commit, its licences.

The version is the one of ``pyproject.toml`` (the library and the book are released together),
the date is the build's (or ``SOURCE_DATE_EPOCH``'s, for a reproducible build), and the commit is
git's when the sources are a git checkout. Nothing is written by hand, so a page can never show
an edition other than the one it was built from. They reach the reader in three places:

* the footer of every page: version, date, commit, the licences, links to the PDF and to the
  two indexes (statement_index);
* the MyST substitutions ``{{ version }}``, ``{{ build_date }}`` and ``{{ citation }}`` (the
  BibTeX entry of this edition, as a code block) for the landing page;
* Sphinx's ``version`` and ``release``.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import tomllib
from pathlib import Path

#: Where ``make pdf`` copies the PDF, relative to the HTML output folder (see the Makefile);
#: reader_pages makes each page's link to it relative to the page.
PDF_IN_HTML = "_static/length-and-direction.pdf"


def edition(root: Path) -> dict:
    """Version, build date and short commit of the book's sources at ``root``."""
    pyproject = root / "pyproject.toml"
    # a copy of the book without the library (the small books of tests/test_local_extensions.py)
    version = (tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
               if pyproject.is_file() else "unknown")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    date = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
            else datetime.datetime.now(datetime.timezone.utc)).date().isoformat()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return {"version": version, "date": date, "commit": commit}


def citation(config, facts: dict) -> str:
    """The BibTeX entry of this edition, as a markdown code block."""
    url = config.html_theme_options.get("repository_url", "") or ""
    return "\n".join([
        "```bibtex",
        "@book{length_and_direction,",
        f"  title     = {{Length and direction: the optimization theory of Batch Normalization}},",
        # braced twice: a group, not people (BibTeX would read "A and B contributors" as two persons)
        f"  author    = {{{{{config.author}}}}},",
        f"  year      = {{{facts['date'][:4]}}},",
        f"  edition   = {{version {facts['version']}{', commit ' + facts['commit'] if facts['commit'] else ''}}},",
        f"  url       = {{{url}}},",
        f"  note      = {{Built on {facts['date']}; text CC BY 4.0, code MIT}}",
        "}",
        "```",
    ])


def _set_edition(app, config) -> None:
    facts = edition(Path(app.confdir))
    config.version = config.release = facts["version"]
    commit = f", commit <code>{facts['commit']}</code>" if facts["commit"] else ""
    footer = (f'<p class="book-edition">Version {facts["version"]}, built on {facts["date"]}{commit}. '
              'Text <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>, '
              'code <a href="https://opensource.org/license/mit">MIT</a>. '
              f'<span class="book-links"><a class="book-pdf" href="{PDF_IN_HTML}">The whole book as a PDF</a>; '
              '<a class="book-index" href="prf-prf.html">index of theorems and definitions</a>, '
              '<a class="book-index" href="genindex.html">general index</a>.</span></p>')
    options = dict(config.html_theme_options)
    options["extra_footer"] = footer + options.get("extra_footer", "")
    config.html_theme_options = options
    substitutions = dict(getattr(config, "myst_substitutions", {}) or {})
    substitutions.update(version=facts["version"], build_date=facts["date"], commit=facts["commit"] or "unknown",
                         citation=citation(config, facts))
    config.myst_substitutions = substitutions


def setup(app):
    app.connect("config-inited", _set_edition)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
