"""`make lab`'s set-up, without a browser: the project's JupyterLab configuration and the labels.

The browser side (every chapter run in JupyterLab) is tests/test_jupyterlab.py.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from course import layout
from lib.checks.statements import read_cells

ROOT = Path(__file__).resolve().parents[1]
JUPYTER = ROOT / "jupyter"
EXTENSION = JUPYTER / "labextensions" / "length-direction-labels"

sys.path.insert(0, str(JUPYTER))
import book_labels  # noqa: E402

#: The roles whose target jupyterlab-myst looks up inside the notebook only.
REFERENCE = re.compile(r"\{(?:prf:ref|ref|numref|eq)\}`(?:[^`<]*<)?(?P<label>[\w-]+)>?`")
CITATION = re.compile(r"\{cite(?::\w+)?\}`(?P<keys>[^`]+)`")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    """The configuration file as JupyterLab loads it, from a copy of jupyter/ (loading it writes the labels)."""
    copy = tmp_path_factory.mktemp("repository")
    shutil.copytree(JUPYTER, copy / "jupyter", ignore=shutil.ignore_patterns("labels.json", "__pycache__"))
    for name in ("book", "course", "lib", "_toc.yml", "_config.yml"):
        (copy / name).symlink_to(ROOT / name)
    loader = PyFileConfigLoader("jupyter_lab_config.py", path=str(copy / "jupyter"))
    return copy, loader.load_config()


def test_make_lab_starts_jupyterlab_with_the_project_configuration():
    command = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert re.search(r"^\S*jupyter lab --config=jupyter/jupyter_lab_config\.py$", command, re.MULTILINE), command


def test_the_configuration_opens_the_book_as_root_too_without_news(config):
    copy, loaded = config
    assert Path(loaded.ServerApp.root_dir) == copy / "book"
    assert loaded.ServerApp.allow_root is True
    assert loaded.LabApp.news_url is None
    overrides = json.loads((Path(loaded.LabApp.app_settings_dir) / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"checkForUpdates": False, "fetchNews": "false"}
    assert Path(loaded.LabApp.extra_labextensions_path[0]) == copy / "jupyter" / "labextensions"


def test_the_kernel_is_the_python_of_the_environment(config):
    _, loaded = config
    manager = loaded.ServerApp.kernel_spec_manager_class()
    assert manager.kernel_dirs == [str(Path(sys.prefix) / "share" / "jupyter" / "kernels")]
    assert "python3" in manager.find_kernel_specs()


def test_starting_jupyterlab_writes_the_labels(config):
    copy, _ = config
    labels = json.loads((copy / "jupyter" / "labextensions" / book_labels.EXTENSION / "static" / "labels.json").read_text())
    assert labels == json.loads(json.dumps(book_labels.book_labels(ROOT)))


def test_the_labextension_is_a_complete_federated_extension():
    package = json.loads((EXTENSION / "package.json").read_text())
    assert package["name"] == book_labels.EXTENSION
    entry = EXTENSION / package["jupyterlab"]["_build"]["load"]
    assert entry.is_file()
    source = entry.read_text()
    assert f"const NAME = '{book_labels.EXTENSION}'" in source and "window._JUPYTERLAB[NAME]" in source


def test_every_reference_and_citation_of_a_chapter_has_a_label():
    """A reference that jupyterlab-myst cannot resolve and no label explains would read as a bare label."""
    labels = book_labels.book_labels(ROOT)
    missing = []
    for source in layout.chapters(ROOT):
        markdown = "\n".join(cell["source"] for cell in read_cells(source) if cell["cell_type"] == "markdown")
        missing += [(source.name, m["label"]) for m in REFERENCE.finditer(markdown) if m["label"] not in labels]
        missing += [(source.name, key.strip()) for m in CITATION.finditer(markdown)
                    for key in m["keys"].split(",") if key.strip() not in labels]
    assert not missing, f"references without a label: {missing}"


def test_the_numbered_kinds_are_those_of_sphinx_proof():
    from sphinx_proof.proof_type import PROOF_TYPES

    assert set(book_labels.NUMBERED_KINDS) == set(PROOF_TYPES)


def test_labels_count_per_chapter_and_share_the_theorem_counter(tmp_path):
    """A small book: numbers restart in each chapter; lemmas count with theorems, definitions apart."""
    (tmp_path / "book").mkdir()
    (tmp_path / "course").symlink_to(ROOT / "course")
    (tmp_path / "lib").symlink_to(ROOT / "lib")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n  - numbered: true\n    chapters:\n"
                                        "      - file: book/one\n      - file: book/two\n")
    (tmp_path / "_config.yml").write_text("sphinx:\n  config:\n    prf_realtyp_to_countertyp:\n      lemma: theorem\n")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "book" / "references.bib").write_text(
        "@article{a2020, title={On {BN}}, author={Bj{\\\"o}rck, Nils and Doe, Jane and Roe, Rick}, year={2020}}\n")
    (tmp_path / "book" / "one.md").write_text(
        "(ch-one)=\n# The first\n\n```{prf:definition} D\n:label: def-d\n```\n\n```{prf:theorem} T\n:label: thm-t\n```\n\n"
        "```{prf:lemma} L\n:label: lem-l\n```\n\n$$ x $$\n\n$$ y $$ (eq-y)\n\n```{exercise} E\n:label: ex-e\n```\n")
    (tmp_path / "book" / "two.md").write_text("(ch-two)=\n# The second\n\n```{prf:lemma}\n:label: lem-m\n```\n")
    labels = {label: entry["text"] for label, entry in book_labels.book_labels(tmp_path).items()}
    assert labels == {"ch-one": "The first", "def-d": "Definition 1.1", "thm-t": "Theorem 1.1", "lem-l": "Lemma 1.2",
                      "eq-y": "(1.1)", "ex-e": "Exercise 1.1", "ch-two": "The second", "lem-m": "Lemma 2.1",
                      "a2020": "[Björck et al., 2020]"}


def test_an_unreadable_source_costs_the_labels_not_the_start(tmp_path, caplog):
    book_labels.write_quietly(tmp_path, tmp_path / "labels.json")  # no _toc.yml here
    assert not (tmp_path / "labels.json").exists()
    assert "no labels" in caplog.text
