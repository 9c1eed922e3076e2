"""The course kit: exercise cells of the chapters, the student edition, and what it hides."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

import lib
from course import layout, student
from course.exercise_cells import (BEGIN, END, STUB, ExerciseStructureError, check_calls, read_exercises,
                                   stub_solution_code)
from lib import exercises

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = student.chapter_notebooks(ROOT)
NOTEBOOKS = {path.stem: nbformat.read(path, as_version=4) for path in CHAPTERS}
STRUCTURE = {name: read_exercises(notebook, name) for name, notebook in NOTEBOOKS.items()}
ALL_EXERCISES = [(name, e) for name, found in STRUCTURE.items() for e in found]


def _namespace():
    return {"np": np, "lib": lib}


def _reference_function(chapter, exercise):
    """Define the book's solution of a coding exercise (its marked cell) and return the function."""
    namespace = _namespace()
    for index in exercise.marked_cells:
        exec(NOTEBOOKS[chapter].cells[index].source, namespace)  # noqa: S102 - the book's own code
    return namespace[exercises.EXERCISES[exercise.label].function_name]


# --------------------------------------------------------------------------- the chapters
def test_there_are_chapters():
    assert {"01-reparametrization", "02-least-squares", "03-halfspaces"} <= set(NOTEBOOKS)


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_every_chapter_has_four_exercises_of_all_three_kinds(chapter):
    kinds = [e.kind for e in STRUCTURE[chapter]]
    assert len(kinds) >= 4, f"{chapter} has {len(kinds)} exercises; the course kit asks for at least four"
    assert set(kinds) == {"pencil", "coding", "experiment"}, f"{chapter} has exercises of the kinds {set(kinds)}"


def test_exercise_labels_are_unique_in_the_book():
    labels = [e.label for _, e in ALL_EXERCISES]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("chapter, exercise", ALL_EXERCISES, ids=lambda x: getattr(x, "label", ""))
def test_every_exercise_has_a_folded_solution(chapter, exercise):
    assert exercise.solution is not None, f"{exercise.label} has no solution"
    opening = NOTEBOOKS[chapter].cells[exercise.solution.start].source
    assert re.search(r"^:class: dropdown$", opening, re.M), f"the solution of {exercise.label} is not folded"
    if exercise.kind == "pencil":
        assert not exercise.marked_cells, f"{exercise.label} is a pencil exercise with code to write"
    else:
        assert exercise.marked_cells, f"the solution of {exercise.label} marks no code for the student to write"


@pytest.mark.parametrize("chapter, exercise", [(c, e) for c, e in ALL_EXERCISES if e.kind == "coding"],
                         ids=lambda x: getattr(x, "label", ""))
def test_every_coding_exercise_is_registered_and_self_checked(chapter, exercise):
    assert exercise.label in exercises.EXERCISES, f"{exercise.label} has no checker in lib.exercises"
    registered = exercises.EXERCISES[exercise.label]
    assert registered.chapter == chapter
    assert exercise.check_name == f"check_{registered.function_name}", (
        f"{exercise.label}: the self-check cell calls {exercise.check_name}")
    assert exercise.check_cell == exercise.solution.end + 1, f"the self-check of {exercise.label} must follow its solution"
    code = "\n".join(NOTEBOOKS[chapter].cells[i].source for i in exercise.marked_cells)
    assert f"def {registered.function_name}(" in code


def test_every_registered_exercise_is_in_its_chapter():
    in_book = {e.label for _, e in ALL_EXERCISES if e.kind == "coding"}
    assert set(exercises.EXERCISES) == in_book


@pytest.mark.parametrize("label", sorted(exercises.EXERCISES))
def test_the_books_solution_passes_its_self_check(label):
    chapter, exercise = next((c, e) for c, e in ALL_EXERCISES if e.label == label)
    result = exercises.EXERCISES[label].evaluate(_reference_function(chapter, exercise))
    assert result.passed, result.message


@pytest.mark.parametrize("label", sorted(exercises.EXERCISES))
def test_a_perturbed_solution_fails_its_self_check_with_the_case(label, capsys):
    """The book's solution with its result off by 0.1 %: the self-check cell must fail and say where."""
    chapter, exercise = next((c, e) for c, e in ALL_EXERCISES if e.label == label)
    right = _reference_function(chapter, exercise)

    def perturb(value):
        if isinstance(value, tuple):
            return tuple(perturb(v) for v in value)
        return np.asarray(value) * 1.001 + 1e-3

    namespace = _namespace()
    namespace[exercises.EXERCISES[label].function_name] = lambda *args: perturb(right(*args))
    with pytest.raises(exercises.ExerciseFailure):
        exec(NOTEBOOKS[chapter].cells[exercise.check_cell].source, namespace)  # noqa: S102 - the self-check cell
    printed = capsys.readouterr().out
    assert "wrong on case 1" in printed and "expected:" in printed and "returned:" in printed


def test_the_lecturers_page_lists_every_exercise():
    page = (ROOT / "book" / "lecturers.md").read_text()
    listed = set(re.findall(r"\{ref\}`(ex-[\w-]+)`", page))
    assert listed == {e.label for _, e in ALL_EXERCISES}
    registered = exercises.EXERCISES["ex-ls-rayleigh-gradient"]
    assert f"`rayleigh_gradient: correct ({len(registered.cases)} cases)`" in page
    assert f"longer than {registered.time_limit:g} seconds" in page


# --------------------------------------------------------------------------- the student edition
@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    student.write_student_edition(CHAPTERS, out, say=lambda *_: None)
    return {path.stem: nbformat.read(path, as_version=4) for path in sorted(out.glob("*.ipynb"))}


def _code(notebook) -> str:
    return "\n".join(cell.source for cell in notebook.cells)


def _marked_regions(source: str) -> list[str]:
    return re.findall(rf"{re.escape(BEGIN)}\n(.*?)\n[ \t]*{re.escape(END)}", source, re.S)


def test_the_student_edition_has_every_chapter(edition):
    assert set(edition) == set(NOTEBOOKS)
    for name, notebook in edition.items():
        assert notebook.metadata["course"]["chapter"] == name
        nbformat.validate(notebook)


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_student_edition_contains_no_solution(edition, chapter):
    book, handout = NOTEBOOKS[chapter], edition[chapter]
    inside = {i for e in STRUCTURE[chapter] for i in range(e.solution.start, e.solution.end + 1)}
    # the cells outside the solutions are kept as they are, in order, and nothing else is added...
    copied = [c for c in handout.cells if not {"stub", "answer"} & set(c.metadata.get("tags", []))]
    assert [c.source for c in copied] == [c.source for i, c in enumerate(book.cells) if i not in inside]
    # ...but stubs and answer cells: the solution's code cells without markers are gone (the comparison
    # above shows it), and in a stub only nbgrader's stub stands between the markers
    written = "\n".join(c.source for c in handout.cells if c not in copied)
    assert "{solution-" not in written
    for cell in handout.cells:
        if "stub" in cell.metadata.get("tags", []):
            label = cell.metadata["nbgrader"]["grade_id"].rsplit("-code-", 1)[0]
            for region in _marked_regions(cell.source):
                assert [line.strip() for line in region.splitlines()] == [STUB[0], STUB[1].format(label=label)]
    # and no paragraph of a solution's text is anywhere in the edition
    edition_text = "\n".join(c.source for c in handout.cells)
    for exercise in STRUCTURE[chapter]:
        for cell in book.cells[exercise.solution.start:exercise.solution.end + 1]:
            if cell.cell_type == "markdown":
                prose = cell.source.split("```", 2)[-1] if "{solution-" in cell.source else cell.source
                leaked = [p.strip() for p in prose.split("\n\n") if p.strip() and p.strip() in edition_text]
                assert not leaked, f"solution text of {exercise.label} is in the student edition: {leaked}"


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_every_stub_raises_not_implemented(edition, chapter):
    stubs = [cell for cell in edition[chapter].cells if "stub" in cell.metadata.get("tags", [])]
    expected = sum(len(e.marked_cells) for e in STRUCTURE[chapter])
    assert len(stubs) == expected and stubs
    coding = {e.label: exercises.EXERCISES[e.label] for e in STRUCTURE[chapter] if e.kind == "coding"}
    for cell in stubs:
        label = cell.metadata["nbgrader"]["grade_id"].rsplit("-code-", 1)[0]
        namespace = _namespace()
        if label in coding:
            exec(cell.source, namespace)  # noqa: S102 - defines the stub function
            function = namespace[coding[label].function_name]
            with pytest.raises(NotImplementedError):
                function(*coding[label].cases[0].arguments.values())
        else:
            with pytest.raises(NotImplementedError):
                exec(cell.source, namespace)  # noqa: S102 - an experiment's stub cell


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_student_edition_is_marked_for_nbgrader(edition, chapter):
    cells = edition[chapter].cells
    graded = [cell.metadata["nbgrader"] for cell in cells if "nbgrader" in cell.metadata]
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[\w-]+", i) for i in ids)
    for cell in cells:
        tags = cell.metadata.get("tags", [])
        meta = cell.metadata.get("nbgrader")
        if "stub" in tags:
            assert meta["solution"] and not meta["grade"] and not meta["locked"]
        elif "answer" in tags:
            assert cell.cell_type == "markdown" and "YOUR ANSWER HERE" in cell.source
            assert meta["solution"] and meta["grade"] and meta["points"] == 1
        elif "self-check" in tags:
            assert check_calls(cell.source) and meta["grade"] and meta["locked"] and meta["points"] == 1
        else:
            assert meta is None
    answers = sum(1 for cell in cells if "answer" in cell.metadata.get("tags", []))
    assert answers == sum(1 for e in STRUCTURE[chapter] if e.kind != "coding")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_student_edition_runs_with_only_not_implemented_errors(edition, chapter, tmp_path):
    from nbclient import NotebookClient

    raised = []
    notebook = edition[chapter]
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   on_cell_error=lambda cell, cell_index, execute_reply: raised.append(
                       (cell.id, execute_reply["content"]["ename"])),
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    names = {name for _, name in raised}
    assert names <= {"NotImplementedError"}, f"{chapter}: cells raised {raised}"
    coding = [e for e in STRUCTURE[chapter] if e.kind == "coding"]
    experiments = [e for e in STRUCTURE[chapter] if e.kind == "experiment"]
    assert len(raised) == len(coding) + sum(len(e.marked_cells) for e in experiments)
    for exercise in coding:
        output = "".join(o.get("text", "") for o in notebook.cells[_index_of(notebook, exercise.label + "-check")].outputs)
        assert "not written yet" in output


def _index_of(notebook, cell_id):
    return next(i for i, cell in enumerate(notebook.cells) if cell.id == cell_id)


def test_the_student_edition_is_not_overwritten_without_force(tmp_path, capsys):
    chapter = CHAPTERS[:1]
    assert student.main([str(chapter[0]), "--out", str(tmp_path)]) == 0
    target = tmp_path / chapter[0].name
    assert f"wrote {target}" in capsys.readouterr().out
    target.write_text("my own notes")  # a file the user wrote
    assert student.main([str(chapter[0]), "--out", str(tmp_path)]) == 1
    assert "nothing was written" in capsys.readouterr().err
    assert target.read_text() == "my own notes"
    assert student.main([str(chapter[0]), "--out", str(tmp_path), "--force"]) == 0
    assert nbformat.read(target, as_version=4).metadata["course"]["chapter"] == chapter[0].stem


def test_the_student_edition_refuses_a_path_that_is_not_a_notebook(tmp_path, capsys):
    with pytest.raises(SystemExit):
        student.main([str(tmp_path / "missing.ipynb"), "--out", str(tmp_path)])
    assert f"not a notebook file: {tmp_path / 'missing.ipynb'} (expected existing .ipynb files)" in capsys.readouterr().err


@pytest.mark.parametrize("content, complaint", [
    (b"\xff\xfe not text", "not UTF-8 text (byte 0 cannot be decoded)"),
    (b"{ not json", "not JSON"),
    (b'{"cells": 5}', "not a notebook of nbformat 4"),
    (b'{"cells": 5, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "not a valid notebook of nbformat 4: data.cells must be array"),
])
def test_a_broken_notebook_is_named_and_nothing_is_written(tmp_path, content, complaint):
    """A valid chapter before a broken file: the error names the file, and no edition is half written."""
    broken = tmp_path / "broken.ipynb"
    broken.write_bytes(content)
    out = tmp_path / "out"
    with pytest.raises(ValueError) as error:
        student.write_student_edition([CHAPTERS[0], broken], out, say=lambda *_: None)
    assert f"{broken}: {complaint}" in str(error.value) and "nothing was written" in str(error.value)
    assert not out.exists()


def test_an_exercise_error_writes_nothing_and_main_says_why(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    nbformat.write(_notebook(EXERCISE, START), broken)  # a solution that is never closed
    out = tmp_path / "out"
    assert student.main([str(CHAPTERS[0]), str(broken), "--out", str(out)]) == 1
    assert "broken: the solution of ex-a is never closed" in capsys.readouterr().err
    assert not out.exists()


def _toc(root, text):
    (root / "book").mkdir(exist_ok=True)
    (root / "_toc.yml").write_text(text)


def test_student_main_fails_when_the_toc_names_no_chapter(tmp_path, capsys):
    _toc(tmp_path, "format: jb-book\nroot: book/intro\nparts:\n  - caption: Appendices\n    chapters:\n"
                   "      - file: book/notes\n")
    (tmp_path / "book" / "intro.md").write_text("# Intro")
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "book" / "notes.ipynb")
    assert student.main(["--out", str(tmp_path / "out")], root=tmp_path) == 1
    assert "names no chapter notebook" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the table of contents
def test_the_chapters_are_the_numbered_parts_of_the_toc():
    assert CHAPTERS == [ROOT / "book" / f"{name}.ipynb" for name in
                        ("01-reparametrization", "02-least-squares", "03-halfspaces", "04-networks", "05-beyond",
                         "06-faster")]
    assert ROOT / "book" / "verification.ipynb" in layout.appendices(ROOT)


def test_the_toc_is_read_with_its_sections_and_default_numbering(tmp_path):
    _toc(tmp_path, "format: jb-book\nroot: book/intro\ndefaults:\n  numbered: true\nparts:\n"
                   "  - chapters:\n      - file: book/one\n        sections:\n          - file: book/one-a\n"
                   "  - numbered: false\n    chapters:\n      - file: book/notes\n")
    for name in ("intro.md", "one.ipynb", "one-a.md", "notes.md"):
        (tmp_path / "book" / name).write_text("")
    book = tmp_path / "book"
    assert layout.toc_entries(tmp_path) == ["book/intro", "book/one", "book/one-a", "book/notes"]
    assert layout.chapters(tmp_path) == [book / "one.ipynb", book / "one-a.md"]
    assert layout.appendices(tmp_path) == [book / "notes.md"]
    assert student.chapter_notebooks(tmp_path) == [book / "one.ipynb"]


@pytest.mark.parametrize("text, complaint", [
    ("format: jb-article\nroot: book/intro\n", "jb-book format"),
    ("- just a list\n", "jb-book format"),
    ("format: jb-book\nroot: book/intro\nparts:\n  - caption: No chapters\n", "list of 'chapters'"),
    ("format: jb-book\nroot: book/intro\nparts:\n  - chapters:\n      - book/one\n", "'file: book/<name>'"),
    ("format: jb-book\nroot: [\n", "cannot read the table of contents"),
])
def test_a_broken_toc_is_refused_with_what_is_expected(tmp_path, text, complaint):
    _toc(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(complaint)):
        layout.toc_entries(tmp_path)


def test_a_toc_entry_without_a_source_is_named(tmp_path):
    _toc(tmp_path, "format: jb-book\nroot: book/intro\nparts:\n  - numbered: true\n    chapters:\n"
                   "      - file: book/missing\n")
    with pytest.raises(FileNotFoundError, match="_toc.yml lists book/missing, but neither"):
        layout.chapters(tmp_path)


# --------------------------------------------------------------------------- the rules of exercise cells
def _notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("md:") else nbformat.v4.new_code_cell(c)
                      for c in cells]
    return notebook


EXERCISE = "md:```{exercise} A title\n:label: ex-a\n:class: coding\n\nDo it.\n```"
START = "md:```{solution-start} ex-a\n:class: dropdown\n```\nWhy."
END_CELL = "md:```{solution-end}\n```"
CODE = f"def f(x):\n    '''Doc.'''\n    {BEGIN}\n    return 2 * x\n    {END}"


def test_a_well_formed_exercise_is_read():
    [exercise] = read_exercises(_notebook(EXERCISE, START, CODE, END_CELL, "lib.exercises.check_f(f)"))
    assert (exercise.label, exercise.kind, exercise.title) == ("ex-a", "coding", "A title")
    assert exercise.marked_cells == [2] and exercise.check_cell == 4 and exercise.check_name == "check_f"


@pytest.mark.parametrize("cells, complaint", [
    ((EXERCISE.replace("```{exercise}", ":::{exercise}").replace("\n```", "\n:::"), START, END_CELL), "cannot read"),
    ((EXERCISE.replace("```", "````"), START, END_CELL), "cannot read the line '````{exercise} A title'"),
    ((EXERCISE, "md:```{solution} ex-a\n:class: dropdown\nWhy.\n```"), "cannot read the line '```{solution} ex-a'"),
    ((EXERCISE, "md::::{solution-start} ex-a\n:::\nWhy.", END_CELL), "cannot read"),
    ((EXERCISE + "\n\n" + EXERCISE[3:].replace("ex-a", "ex-b"), START, END_CELL), "one per cell"),
    ((EXERCISE, START, "md:```{solution-end}"), "cannot read the line '```{solution-end}'"),
    ((EXERCISE, CODE), "outside a solution"),
    ((EXERCISE, START, CODE), "never closed"),
    ((EXERCISE, START, START, END_CELL), "opens inside"),
    ((EXERCISE, END_CELL), "not opened"),
    ((EXERCISE, START, END_CELL + "\nMore text."), "only the directive"),
    ((EXERCISE, "md:Text first.\n" + START[3:], END_CELL), "start with the directive"),
    ((START, END_CELL), "no exercise before it"),
    ((EXERCISE.replace(":class: coding", ":class: hard"), START, END_CELL), "exactly one kind"),
    ((EXERCISE, START, "lib.exercises.check_f(f)", END_CELL), "inside a solution"),
    ((EXERCISE, EXERCISE), "a second exercise"),
    ((EXERCISE.replace("ex-a", "ex-Upper"),), "lowercase"),
])
def test_broken_exercise_cells_are_refused(cells, complaint):
    with pytest.raises(ExerciseStructureError, match=complaint):
        read_exercises(_notebook(*cells))


def test_a_stub_keeps_the_signature_docstring_and_indentation():
    stub = stub_solution_code(CODE, "ex-a")
    assert stub.startswith(f"def f(x):\n    '''Doc.'''\n    {BEGIN}\n    # YOUR CODE HERE\n    raise NotImplementedError(")
    assert stub.endswith(f"\n    {END}") and stub_solution_code(stub, "ex-a") == stub
    namespace = {}
    exec(stub, namespace)  # noqa: S102
    with pytest.raises(NotImplementedError, match="ex-a"):
        namespace["f"](1)


@pytest.mark.parametrize("source", [f"{BEGIN}\nx = 1", f"x = 1\n{END}", f"{BEGIN}\n{BEGIN}\n{END}", f"y = 2  {BEGIN}"])
def test_unbalanced_markers_are_refused(source):
    with pytest.raises(ExerciseStructureError):
        stub_solution_code(source, "ex-a")
