"""The notebooks as a student runs them: JupyterLab started as `make lab` starts it, in Chromium.

The fixture starts ``jupyter lab --config=jupyter/jupyter_lab_config.py`` (the command of
``make lab``) on 127.0.0.1, at a port the system picks, with a random token, in a Jupyter home of
its own: the tester's ~/.jupyter is never read, autosave is off (Run All must not write outputs
into the repository's notebooks; the test checks that their bytes are unchanged), and a decoy
kernel named ``python3`` sits in the user's kernel folder, as ``ipykernel install --user`` leaves
one, to show that the configuration runs the environment's Python. ``tests/browser/jupyterlab.mjs``
opens every chapter in Chromium (two browser pages side by side, each taking every other chapter), clicks Run > Run All Cells, waits for the kernel, scrolls through
the cells and records what is on the screen; then JupyterLab is shut down and the test checks
that neither it nor a kernel is left. Screenshots go to ``artifacts/jupyterlab/``, the record to
``artifacts/jupyterlab-report.json``.

The figures and explorers a chapter must show are those of the book's own run of it
(``_build/jupyter_execute``), so these tests are ``published``: ``make test`` runs them after
building the book.
"""

import hashlib
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from bs4 import BeautifulSoup

from course import layout
from lib.checks.statements import find_statements, read_cells

pytestmark = [pytest.mark.published, pytest.mark.slow]  # runs a browser: started first (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CONFIG = ROOT / "jupyter" / "jupyter_lab_config.py"
CACHE = ROOT / ".cache" / "browser"
EXECUTED = ROOT / "_build" / "jupyter_execute"
HTML = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "jupyterlab"
CHAPTERS = layout.chapters(ROOT)
NOTEBOOKS = [source.relative_to(BOOK).as_posix() for source in CHAPTERS]

sys.path.insert(0, str(ROOT / "jupyter"))
import book_labels  # noqa: E402

#: Page errors that come from JupyterLab and jupyterlab-myst together, not from the book:
#: JupyterLab's cell toolbar measures the active markdown cell through ``inputArea.renderedInput``,
#: which jupyterlab-myst's markdown cell does not set (it renders MyST into a widget of its own).
KNOWN_UPSTREAM_PAGE_ERRORS = (
    re.compile(r"TypeError: Cannot read properties of undefined \(reading 'node'\)\s+at \S+\._markdownOverlapsToolbar"),
)
STARTUP_TIMEOUT = 120  # seconds for JupyterLab to answer
BROWSER_TIMEOUT = 3600  # seconds for every chapter, run and inspected (a few minutes on 2 quiet cores)
#: Browser pages that run chapters at once, each in its own kernel: a chapter's run waits mostly on
#: its kernel (one core) and the rendering on timers, so that two pages share the 2 cores
PAGES_AT_ONCE = 2


def _get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _post(url: str, token: str) -> None:
    request = urllib.request.Request(url, method="POST", data=b"", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def _jupyter_home(tmp: Path) -> dict:
    """Environment variables for a Jupyter home of the test's own, with autosave off and a decoy kernel."""
    folders = {name: tmp / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    autosave = folders["settings"] / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    autosave.parent.mkdir(parents=True)
    autosave.write_text(json.dumps({"autosave": False}))
    decoy = folders["data"] / "kernels" / "python3" / "kernel.json"
    decoy.parent.mkdir(parents=True)
    decoy.write_text(json.dumps({"argv": ["/bin/false", "{connection_file}"], "display_name": "decoy",
                                 "language": "python"}))
    return {**os.environ,
            "JUPYTER_CONFIG_DIR": str(folders["config"]), "JUPYTER_DATA_DIR": str(folders["data"]),
            "JUPYTER_RUNTIME_DIR": str(folders["runtime"]), "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(folders["workspaces"]), "IPYTHONDIR": str(folders["ipython"])}


def _server_info(runtime: Path, pid: int, process: subprocess.Popen) -> dict:
    """The server's own record of its address (it picks a free port), once it answers."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    info_file = runtime / f"jpserver-{pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode} before answering")
        if info_file.is_file():
            info = json.loads(info_file.read_text())
            try:
                _get(f"{info['url']}api/status", info["token"])
                return info
            except (urllib.error.URLError, ConnectionError):
                pass
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {STARTUP_TIMEOUT} s")


def _stop(process: subprocess.Popen, info: dict | None, home: Path) -> dict:
    """Shut JupyterLab down as its user would; what was left of it and its kernels afterwards.

    A kernel left behind is a child of the server, or an orphan that still names its connection
    file in the test's Jupyter home: both are looked for, and killed if found (then the test fails).
    """
    children = []
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    if info and process.poll() is None:
        try:
            _post(f"{info['url']}api/shutdown", info["token"])
        except (urllib.error.URLError, ConnectionError):
            pass
    try:
        process.wait(timeout=30)
        stopped_by_shutdown = True
    except subprocess.TimeoutExpired:
        stopped_by_shutdown = False
        process.terminate()
        process.wait(timeout=30)
    psutil.wait_procs(children, timeout=15)
    left = []
    for candidate in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(candidate.info["cmdline"] or [])
        if candidate in children or str(home) in cmdline:
            try:
                if candidate.is_running():
                    left.append({"pid": candidate.pid, "cmdline": cmdline})
                    candidate.kill()  # the test leaves no process behind, even when it fails
            except psutil.NoSuchProcess:
                pass
    return {"stoppedByShutdown": stopped_by_shutdown, "childrenAtShutdown": len(children), "left": left}


def _hashes() -> dict:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(BOOK.glob("*.ipynb"))}


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> dict:
    missing = [str(EXECUTED / "book" / name) for name in NOTEBOOKS if not (EXECUTED / "book" / name).is_file()]
    if missing:
        pytest.fail(f"the book's run of the chapters is missing ({missing[0]}): build the book first "
                    "(`make book`; `make test` does it)")
    subprocess.run([str(ROOT / "tests" / "browser" / "install.sh"), str(CACHE)], check=True)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's screenshots are kept
    SCREENSHOTS.mkdir(parents=True)
    tmp = tmp_path_factory.mktemp("jupyter-home")
    env = _jupyter_home(tmp)
    before = _hashes()
    log_path = ARTIFACTS / "jupyterlab.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyter"), "lab", f"--config={CONFIG}", "--no-browser",
             "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={secrets.token_hex(24)}", "--LabApp.expose_app_in_browser=True"],
            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        info = None
        try:
            info = _server_info(Path(env["JUPYTER_RUNTIME_DIR"]), process.pid, process)
            kernelspecs = _get(f"{info['url']}api/kernelspecs", info["token"])
            out = ARTIFACTS / "jupyterlab-report.json"
            report = _run_pages(info, out)
        finally:
            stopped = _stop(process, info, tmp)
    report.update(info=info, kernelspecs=kernelspecs, stopped=stopped, seconds=time.monotonic() - started,
                  unchanged=_hashes() == before, log=log_path.read_text())
    out.write_text(json.dumps(report, indent=1))
    return report


def _run_pages(info: dict, out: Path) -> dict:
    """Every chapter run and recorded by ``jupyterlab.mjs``, PAGES_AT_ONCE browser pages side by side.

    Each page (a browser of its own, in a workspace of its own, in the one JupyterLab) takes every
    PAGES_AT_ONCE-th chapter in turn; their records are put together in the chapters' order.
    """
    groups = [NOTEBOOKS[i::PAGES_AT_ONCE] for i in range(PAGES_AT_ONCE)]
    outs = [out.with_name(f"{out.stem}-{i + 1}.json") for i in range(len(groups))]
    runs = [subprocess.Popen(["node", str(ROOT / "tests" / "browser" / "jupyterlab.mjs"), "--url", info["url"],
                              "--token", info["token"], "--notebooks", ",".join(group), "--cache", str(CACHE),
                              "--screenshots", str(SCREENSHOTS), "--out", str(part), "--workspace", f"page-{i + 1}"])
            for i, (group, part) in enumerate(zip(groups, outs))]
    try:
        for i, run in enumerate(runs):
            code = run.wait(timeout=BROWSER_TIMEOUT)  # the pages run at once: each has the whole time limit
            assert code == 0, f"jupyterlab.mjs ({', '.join(groups[i])}) exited with status {code}"
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    parts = [json.loads(part.read_text()) for part in outs]
    entries = {entry["notebook"]: entry for part in parts for entry in part["notebooks"]}
    return {"url": parts[0]["url"], "notebooks": [entries[name] for name in NOTEBOOKS if name in entries],
            "pageErrors": [error for part in parts for error in part.get("pageErrors", [])],
            "loadSeconds": max(part.get("loadSeconds", 0.0) for part in parts),
            "toasts": [toast for part in parts for toast in part.get("toasts", [])],
            "blocked": [url for part in parts for url in part.get("blocked", [])],
            "pages": len(parts)}


def _entry(lab: dict, notebook: str) -> dict:
    return next(entry for entry in lab["notebooks"] if entry["notebook"] == notebook)


def _book_run(notebook: str) -> list[dict]:
    """Per cell id, the figures and widgets of the book's own run of the chapter."""
    cells = json.loads((EXECUTED / "book" / notebook).read_text())["cells"]
    counts = []
    for cell in cells:
        data = [output.get("data", {}) for output in cell.get("outputs", [])]
        counts.append({"id": cell.get("id"),
                       "images": sum(1 for d in data if "image/png" in d or "image/svg+xml" in d),
                       "widgets": sum(1 for d in data if "application/vnd.jupyter.widget-view+json" in d)})
    return counts


def test_jupyterlab_runs_with_the_project_configuration(lab):
    assert Path(lab["info"]["root_dir"]) == BOOK, "JupyterLab does not open the book's folder"
    assert lab["info"]["hostname"] == "127.0.0.1"
    specs = lab["kernelspecs"]["kernelspecs"]
    assert list(specs) == ["python3"] and specs["python3"]["spec"]["display_name"] != "decoy", \
        f"the kernel is not the environment's Python: {specs}"
    assert "Running as root is not recommended" not in lab["log"]
    assert not [toast for toast in lab["toasts"] if "news" in toast.lower()], f"pop-ups: {lab['toasts']}"
    for entry in lab["notebooks"]:
        assert entry["kernel"] == specs["python3"]["spec"]["display_name"]


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_run_all_runs_every_cell_without_an_error(lab, notebook):
    entry = _entry(lab, notebook)
    errors = [(cell["index"], cell["errors"]) for cell in entry["outputs"] if cell["errors"]]
    assert not errors, f"{notebook}: error outputs in JupyterLab: {errors}"
    stderr = [(cell["index"], cell["stderr"]) for cell in entry["outputs"] if cell["stderr"]]
    assert not stderr, f"{notebook}: warnings (stderr) in JupyterLab: {stderr}"
    not_run = [cell["index"] for cell in entry["outputs"] if cell["type"] == "code" and cell["executionCount"] is None]
    assert not not_run, f"{notebook}: cells that Run All did not run: {not_run}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_figure_of_the_book_is_drawn(lab, notebook):
    entry = _entry(lab, notebook)
    book = _book_run(notebook)
    assert [cell["images"] for cell in entry["outputs"]] == [cell["images"] for cell in book], \
        f"{notebook}: the figures per cell differ from the book's run of the chapter"
    drawn = [image for image in entry["images"] if not image["widget"]]
    assert len(drawn) == sum(cell["images"] for cell in book), f"{notebook}: {len(drawn)} figures on the screen"
    assert all(image["complete"] and image["naturalWidth"] > 0 for image in drawn), f"{notebook}: a figure did not load"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_markdown_is_rendered_with_no_myst_left_raw(lab, notebook):
    entry = _entry(lab, notebook)
    markdown = [cell for cell in entry["cells"] if cell["type"] == "markdown"]
    raw = [(cell["index"], cell["raw"]) for cell in markdown if cell["raw"]]
    assert not raw, f"{notebook}: MyST markup shown as text: {raw}"
    assert markdown and all(cell["rendered"] for cell in markdown), \
        f"{notebook}: markdown cells not rendered by jupyterlab-myst: {[c['index'] for c in markdown if not c['rendered']]}"
    dollars = [(cell["index"], cell["dollars"]) for cell in markdown if cell["dollars"]]
    assert not dollars, f"{notebook}: a $ outside typeset math: {dollars}"
    assert not entry["unresolved"], f"{notebook}: references shown as a warning and a bare label: {entry['unresolved']}"
    assert not entry["warnings"], f"{notebook}: what jupyterlab-myst could not render (formulas, references): {entry['warnings']}"
    # a role that jupyterlab-myst does not know shows its bare content: a label of the book or a
    # citation key (the labels that are English words, such as the page label "notation", aside)
    labels = book_labels.book_labels(ROOT)
    bare = [(cell["index"], word) for cell in markdown
            for word in re.findall(r"\w[\w-]*\w", cell["text"]) if word in labels and not word.isalpha()]
    assert not bare, f"{notebook}: labels shown as text: {bare}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_references_read_as_the_book_prints_them(lab, notebook):
    labels = book_labels.book_labels(ROOT)
    entry = _entry(lab, notebook)
    wrong = [item for item in entry["relabelled"] if item["text"] != labels[item["label"]]["text"]]
    assert not wrong, f"{notebook}: references that do not read as in the book: {wrong}"
    source = BOOK / notebook
    markdown = "\n".join(cell["source"] for cell in read_cells(source) if cell["cell_type"] == "markdown")
    cited = set(re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", markdown))
    shown = {item["label"] for item in entry["relabelled"]}
    assert {key.strip() for keys in cited for key in keys.split(",")} <= shown, \
        f"{notebook}: citations that do not read as in the book"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_statement_is_a_box_with_the_book_number(lab, notebook):
    labels = book_labels.book_labels(ROOT)
    entry = _entry(lab, notebook)
    boxes = {box["id"]: box["title"] for box in entry["boxes"] if box["id"]}
    for statement in find_statements([BOOK / notebook], kinds=book_labels.NUMBERED_KINDS):
        if statement.label:
            title = boxes.get(statement.label, "")
            assert title.startswith(labels[statement.label]["text"]), \
                f"{notebook}: {statement.label} is shown as {title!r}, the book prints {labels[statement.label]['text']}"
    proofs = [box["title"] for box in entry["boxes"] if not box["id"]]
    source = "\n".join(cell["source"] for cell in read_cells(BOOK / notebook) if cell["cell_type"] == "markdown")
    assert proofs == ["Proof"] * source.count("{prf:proof}"), f"{notebook}: proof boxes {proofs}"
    exercises = {box["id"]: box["title"] for box in entry["exercises"]}
    for label in re.findall(r"^```+\{exercise\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:label:\s*([\w-]+)", source, re.MULTILINE):
        assert exercises.get(label, "").startswith(labels[label]["text"]), \
            f"{notebook}: exercise {label} is shown as {exercises.get(label)!r}"
    assert entry["admonitions"] == len(re.findall(r"^```+\{(?:admonition|note|tip|hint|important|seealso|attention|caution|warning|danger|error)\}", source, re.MULTILINE)), \
        f"{notebook}: {entry['admonitions']} admonitions on the screen"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_explorer_draws_at_once_and_redraws_when_a_slider_moves(lab, notebook):
    entry = _entry(lab, notebook)
    book = _book_run(notebook)
    assert [cell["widgets"] for cell in entry["outputs"]] == [cell["widgets"] for cell in book]
    assert len(entry["explorers"]) == sum(cell["widgets"] for cell in book), f"{notebook}: explorers on the screen"
    for cell in entry["outputs"]:
        if cell["widgets"]:
            assert not cell["texts"], f"{notebook}: the explorer of cell {cell['index']} also prints {cell['texts']}"
    for explorer in entry["explorers"]:
        assert explorer["naturalWidthBefore"] > 0, f"{notebook}: the explorer shows no figure after Run All"
        assert explorer["readoutAfter"] != explorer["readoutBefore"], f"{notebook}: the slider did not move: {explorer}"
        # the readout shows the option the slider sends: 20 moves to 50, not to a rounded float like 19.9526
        assert re.fullmatch(r"-?\d+(\.\d{1,2})?", explorer["readoutAfter"]), \
            f"{notebook}: the slider reads {explorer['readoutAfter']!r}, not an exact value"
        assert "waitError" not in explorer and explorer["srcAfter"] != explorer["srcBefore"] and explorer["imageChanged"], \
            f"{notebook}: the figure did not change when the slider moved: {explorer}"
        assert explorer["naturalWidthAfter"] > 0 and not explorer["messages"], f"{notebook}: {explorer['messages']}"
        for moment in ("Before", "After"):
            shown, held = explorer[f"sliders{moment}"], explorer[f"kernel{moment}"]
            assert isinstance(held, list) and held, \
                f"{notebook}: no controls in the kernel for the explorer of Out[{explorer['executionCount']}]: {held}"
            values = dict(held)
            assert shown and all(label in values for label, _ in shown), \
                f"{notebook}: sliders {shown}, controls in the kernel {held}"
            wrong = [(label, readout, values[label]) for label, readout in shown if not _reads_as(readout, values[label])]
            assert not wrong, f"{notebook}: sliders that read otherwise than the value the figure is drawn with " \
                              f"({moment.lower()} the move): {wrong}"


def _reads_as(readout: str, value) -> bool:
    """Whether a slider's readout is the value its control holds in the kernel.

    The readouts of the explorers are their options' labels (``f"{kappa:g}"``) or whole numbers, so
    a held value reads back to within a float's rounding of a short decimal (relative 1e-16); 1e-12
    leaves room for that and is far below what a log slider does to 20 (10**1.3 = 19.9526,
    relative 2e-3) or what any readout of three significant digits hides (5e-3).
    """
    try:
        return math.isclose(float(readout), float(value), rel_tol=1e-12, abs_tol=1e-300)
    except (TypeError, ValueError):
        return readout == str(value)


def test_no_script_error_and_no_request_leaves_the_machine(lab):
    for entry in [lab, *lab["notebooks"]]:
        errors = [e for e in entry["pageErrors"] if not any(known.search(e) for known in KNOWN_UPSTREAM_PAGE_ERRORS)]
        assert not errors, f"{entry.get('notebook', 'JupyterLab')}: script errors {errors}"
    assert not lab["blocked"], f"requests to other hosts: {lab['blocked'][:5]}"


def test_jupyterlab_and_its_kernels_are_gone_and_the_notebooks_unchanged(lab):
    assert lab["stopped"]["stoppedByShutdown"], "JupyterLab did not stop when asked to shut down"
    assert not lab["stopped"]["left"], f"processes left behind: {lab['stopped']['left']}"
    assert lab["unchanged"], "running the chapters in JupyterLab changed a notebook of book/"


def test_the_labels_are_the_texts_of_the_built_book():
    """Every reference of the built book to a label reads as jupyter/book_labels.py says it does."""
    if not (HTML / "book").is_dir():
        pytest.fail(f"{HTML} is missing: build the book first (`make book`; `make test` does it)")
    labels = book_labels.book_labels(ROOT)
    checked, wrong = 0, []
    for source in layout.pages(ROOT):
        page = HTML / source.relative_to(ROOT).with_suffix(".html")
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for anchor in soup.select("a.reference.internal[href*='#']"):
            fragment = anchor["href"].split("#", 1)[1]
            label = fragment.removeprefix("equation-")
            text = " ".join(anchor.get_text().split())
            if label not in labels or text == "#":
                continue
            checked += 1
            # a solution's title links to its exercise with the exercise's title after the number
            if text != labels[label]["text"] and not text.startswith(labels[label]["text"] + " ("):
                wrong.append((page.name, label, text, labels[label]["text"]))
        markdown = "\n".join(cell["source"] for cell in read_cells(source) if cell["cell_type"] == "markdown")
        cited = [(role, key.strip()) for role, keys in re.findall(r"\{cite(:\w+)?\}`([^`]+)`", markdown)
                 for key in keys.split(",")]
        printed = [" ".join(span.get_text().split()) for span in soup.select("span.bibtex-citation")]
        assert printed == [_as_cited(labels[key]["text"], role) for role, key in cited], f"{page.name}: citations {printed}"
        checked += len(cited)
    assert not wrong, f"labels that the book prints otherwise: {wrong}"
    assert checked > 100  # the book has well over a hundred references; none were skipped unseen


def _as_cited(label: str, role: str) -> str:
    """A citation as the book prints it for its role: the label itself (``[Kohler et al., 2019]``),
    or, for a textual citation ({cite:t}, which no chapter uses), ``Kohler et al. [2019]``."""
    if role != ":t":
        return label
    authors, year = re.fullmatch(r"\[(.*), ([^,]+)\]", label).groups()
    return f"{authors} [{year}]"
