"""The course kit: exercise cells of the chapters, the editions (student, instructor, problem sets), rubrics."""

import copy
import os
import re
import stat
from pathlib import Path

import nbformat
import numpy as np
import pytest

import lib
from course import catalogue, flags, layout, student
from course.exercise_cells import (BEGIN, END, SKIP_TAG, STUB, ExerciseStructureError, check_calls, context_cells,
                                   read_exercises, stub_solution_code)
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
def test_the_books_solution_passes_its_self_check_and_hidden_cases(label):
    chapter, exercise = next((c, e) for c, e in ALL_EXERCISES if e.label == label)
    function = _reference_function(chapter, exercise)
    for seed in (None, exercises.DEFAULT_SEED, 0, 1, 2, 3):
        result = exercises.EXERCISES[label].evaluate(function, seed=seed)
        assert result.passed, f"seed {seed}: {result.message}"


@pytest.mark.parametrize("label", sorted(exercises.EXERCISES))
def test_the_books_solution_is_not_flagged(label):
    chapter, exercise = next((c, e) for c, e in ALL_EXERCISES if e.label == label)
    registered = exercises.EXERCISES[label]
    # the whole chapter, solutions and the chapter's own uses of lib included
    trees = flags.parse_cells([cell.source for cell in NOTEBOOKS[chapter].cells if cell.cell_type == "code"])
    assert flags.delegation(trees, registered.function_name, registered.delegates) == []
    assert flags.tampering(trees) == []


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


# --------------------------------------------------------------------------- the chapters' tags
@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_cells_the_exercises_do_not_need_are_tagged(chapter):
    """Every code cell between the set-up cell and the exercises is tagged skip-grading, and nothing else is."""
    cells = NOTEBOOKS[chapter].cells
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    heading = next(i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("## Exercises"))
    tagged = [i for i in code if SKIP_TAG in cell_tags(cells[i])]
    assert tagged == [i for i in code[1:] if i < heading]
    context = context_cells(NOTEBOOKS[chapter], STRUCTURE[chapter])
    assert context[0] == code[0] and all(i > heading for i in context[1:]) and len(context) >= 2
    assert "import lib.exercises" in "\n".join(cells[i].source for i in context)


def cell_tags(cell) -> list:
    return cell.metadata.get("tags", [])


# --------------------------------------------------------------------------- the student edition
@pytest.fixture(scope="module")
def edition():
    return {name: student.chapter_edition(notebook, name) for name, notebook in NOTEBOOKS.items()}


@pytest.fixture(scope="module")
def instructor():
    return {name: student.chapter_edition(notebook, name, "instructor", seed=12345) for name, notebook in NOTEBOOKS.items()}


def _marked_regions(source: str) -> list[str]:
    return re.findall(rf"{re.escape(BEGIN)}\n(.*?)\n[ \t]*{re.escape(END)}", source, re.S)


def _label(cell) -> str:
    return cell.metadata["course"]["exercise"]


def test_the_student_edition_has_every_chapter(edition):
    assert set(edition) == set(NOTEBOOKS)
    for name, notebook in edition.items():
        assert notebook.metadata["course"]["chapter"] == name and notebook.metadata["course"]["edition"] == "student"
        assert [e["label"] for e in notebook.metadata["course"]["exercises"]] == [e.label for e in STRUCTURE[name]]
        nbformat.validate(notebook)


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_student_edition_contains_no_solution(edition, chapter):
    book, handout = NOTEBOOKS[chapter], edition[chapter]
    inside = {i for e in STRUCTURE[chapter] for i in range(e.solution.start, e.solution.end + 1)}
    # the cells outside the solutions are kept as they are, in order, and nothing else is added...
    copied = [c for c in handout.cells if not {"stub", "answer"} & set(cell_tags(c))]
    assert [c.source for c in copied] == [c.source for i, c in enumerate(book.cells) if i not in inside]
    # ...but stubs and answer cells: the solution's code cells without markers are gone (the comparison
    # above shows it), and in a stub only nbgrader's stub stands between the markers
    written = "\n".join(c.source for c in handout.cells if c not in copied)
    assert "{solution-" not in written
    for cell in handout.cells:
        if "stub" in cell_tags(cell):
            for region in _marked_regions(cell.source):
                assert [line.strip() for line in region.splitlines()] == [STUB[0], STUB[1].format(label=_label(cell))]
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
    stubs = [cell for cell in edition[chapter].cells if "stub" in cell_tags(cell)]
    expected = sum(len(e.marked_cells) for e in STRUCTURE[chapter])
    assert len(stubs) == expected and stubs
    coding = {e.label: exercises.EXERCISES[e.label] for e in STRUCTURE[chapter] if e.kind == "coding"}
    for cell in stubs:
        label = _label(cell)
        namespace = _namespace()
        if label in coding:
            exec(cell.source, namespace)  # noqa: S102 - defines the stub function
            function = namespace[coding[label].function_name]
            with pytest.raises(NotImplementedError):
                function(*coding[label].cases[0].arguments.values())
        else:
            with pytest.raises(NotImplementedError):
                exec(cell.source, namespace)  # noqa: S102 - an experiment's stub cell
            assert SKIP_TAG in cell_tags(cell)  # graded by hand: grading does not run it


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_student_edition_is_tagged_and_has_no_nbgrader_metadata(edition, chapter):
    """The student edition is handed out as it is; nbgrader's metadata belong to the instructor edition."""
    cells = edition[chapter].cells
    assert not [cell.id for cell in cells if "nbgrader" in cell.metadata]
    for kind, tag in (("answer", "answer"), ("check", "self-check")):
        labels = [_label(cell) for cell in cells if tag in cell_tags(cell)]
        wanted = [e.label for e in STRUCTURE[chapter] if (e.kind != "coding") == (kind == "answer")]
        assert labels == wanted
    for cell in cells:
        if "answer" in cell_tags(cell):
            assert cell.cell_type == "markdown" and "YOUR ANSWER HERE" in cell.source
        if "self-check" in cell_tags(cell):
            assert check_calls(cell.source)


def _clear_hidden_tests(source: str) -> str:
    """What nbgrader's ClearHiddenTests leaves of a cell: the lines outside BEGIN/END HIDDEN TESTS."""
    kept, inside = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_instructor_edition_is_nbgraders_source(instructor, chapter):
    cells, known = instructor[chapter].cells, catalogue.entries()
    graded = [cell.metadata["nbgrader"] for cell in cells if "nbgrader" in cell.metadata]
    ids = [m["grade_id"] for m in graded]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[\w-]+", i) for i in ids)
    assert all(m["schema_version"] == 3 for m in graded)
    for exercise in STRUCTURE[chapter]:
        own = [cell for cell in cells if cell.metadata.get("course", {}).get("exercise") == exercise.label]
        by_tag = {tag: [c for c in own if tag in cell_tags(c)] for tag in ("solution", "answer", "self-check", "tests")}
        points = known[exercise.label].points
        # the code to write, with the book's solution between the markers: an autograded answer cell
        assert [c.source for c in by_tag["solution"]] == [NOTEBOOKS[chapter].cells[i].source for i in exercise.marked_cells]
        assert all(c.metadata["nbgrader"]["solution"] and not c.metadata["nbgrader"]["grade"] for c in by_tag["solution"])
        if exercise.kind == "coding":
            [check], [tests] = by_tag["self-check"], by_tag["tests"]
            assert check.metadata["nbgrader"]["locked"] and not check.metadata["nbgrader"]["grade"]
            meta = tests.metadata["nbgrader"]
            assert meta["grade"] and meta["locked"] and meta["points"] == pytest.approx(points)
            call = f"lib.exercises.points({exercise.label!r}, {exercises.EXERCISES[exercise.label].function_name}, "
            assert call in tests.source and "seed=12345" in tests.source
            assert call not in _clear_hidden_tests(tests.source) and _clear_hidden_tests(tests.source).startswith("# ")
            assert not by_tag["answer"]
        else:
            [answer] = by_tag["answer"]
            meta = answer.metadata["nbgrader"]
            assert meta["solution"] and meta["grade"] and meta["points"] == pytest.approx(points)
            assert "**Rubric**" in answer.source and all(c.text in answer.source for c in known[exercise.label].rubric)
            # nbgrader replaces a whole answer cell, unless it holds a marked region: then only that region
            assert BEGIN not in answer.source and END not in answer.source and "HIDDEN TESTS" not in answer.source
            assert not by_tag["tests"]


@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_instructor_edition_hides_nothing_in_cells_nbgrader_releases(instructor, chapter):
    """Only answer cells carry solutions: every other cell is a cell of the book outside the solutions, or a check."""
    book = NOTEBOOKS[chapter]
    inside = {i for e in STRUCTURE[chapter] for i in range(e.solution.start, e.solution.end + 1)}
    released = [c for c in instructor[chapter].cells if not {"solution", "answer", "tests"} & set(cell_tags(c))]
    assert [c.source for c in released] == [c.source for i, c in enumerate(book.cells) if i not in inside]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", NOTEBOOKS)
def test_the_student_edition_runs_as_graded_with_only_not_implemented_errors(edition, chapter, tmp_path):
    """The edition without its cells tagged skip-grading, as grading runs it: the exercises need no other cell.

    The other cells are the book's own, unchanged (test_the_student_edition_contains_no_solution),
    and run under nbval with the book.
    """
    from nbclient import NotebookClient

    raised = []
    notebook = copy.deepcopy(edition[chapter])
    for cell in notebook.cells:
        if SKIP_TAG in cell_tags(cell):
            cell.source = ""  # not run, as in course.runner
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   on_cell_error=lambda cell, cell_index, execute_reply: raised.append(
                       (cell.id, execute_reply["content"]["ename"])),
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    names = {name for _, name in raised}
    assert names <= {"NotImplementedError"}, f"{chapter}: cells raised {raised}"
    coding = [e for e in STRUCTURE[chapter] if e.kind == "coding"]
    assert len(raised) == len(coding)  # the self-checks of the stubs; the experiments' stubs are not run
    for exercise in coding:
        output = "".join(o.get("text", "") for o in notebook.cells[_index_of(notebook, exercise.label + "-check")].outputs)
        assert "not written yet" in output


def _index_of(notebook, cell_id):
    return next(i for i, cell in enumerate(notebook.cells) if cell.id == cell_id)


def test_the_student_edition_is_not_overwritten_without_force(tmp_path, capsys):
    chapter = CHAPTERS[:1]
    assert student.main([str(chapter[0]), "--out", str(tmp_path)]) == 0
    target = tmp_path / chapter[0].name
    assert f"wrote {target} (student edition" in capsys.readouterr().out
    target.write_text("my own notes")  # a file the user wrote
    assert student.main([str(chapter[0]), "--out", str(tmp_path)]) == 1
    assert "nothing was written" in capsys.readouterr().err
    assert target.read_text() == "my own notes"
    assert student.main([str(chapter[0]), "--out", str(tmp_path), "--force"]) == 0
    assert nbformat.read(target, as_version=4).metadata["course"]["chapter"] == chapter[0].stem


def test_the_book_folder_is_never_written_to(tmp_path, capsys):
    """--out book --force would replace the chapter by its student edition: refused, and the chapter is unchanged."""
    before = CHAPTERS[0].read_bytes()
    for out in (CHAPTERS[0].parent, Path(os.path.relpath(CHAPTERS[0].parent))):
        assert student.main([str(CHAPTERS[0]), "--out", str(out), "--force"]) == 1
        assert "is the folder of the book's chapters" in capsys.readouterr().err
    copy_of_book = tmp_path / "copy"
    copy_of_book.mkdir()
    (copy_of_book / CHAPTERS[0].name).write_bytes(before)
    assert student.main([str(copy_of_book / CHAPTERS[0].name), "--out", str(copy_of_book), "--force"]) == 1
    assert CHAPTERS[0].read_bytes() == before and (copy_of_book / CHAPTERS[0].name).read_bytes() == before


def test_a_symbolic_link_in_the_way_is_replaced_never_written_through(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    dangling = out / CHAPTERS[0].name
    dangling.symlink_to(elsewhere / "target.ipynb")  # points at nothing yet
    assert student.main([str(CHAPTERS[0]), "--out", str(out)]) == 1  # a dangling link counts as a file
    assert "exist already" in capsys.readouterr().err and not (elsewhere / "target.ipynb").exists()
    (elsewhere / "target.ipynb").write_text("someone else's file")
    assert student.main([str(CHAPTERS[0]), "--out", str(out), "--force"]) == 0
    assert (elsewhere / "target.ipynb").read_text() == "someone else's file"
    assert not dangling.is_symlink() and nbformat.read(dangling, as_version=4).metadata["course"]["edition"] == "student"
    assert sorted(p.name for p in out.iterdir()) == [CHAPTERS[0].name]  # no temporary file left


def test_the_edition_is_readable_as_a_plain_write_would_make_it(tmp_path):
    """Written through a private temporary file, the edition still gets the permissions the umask gives."""
    previous = os.umask(0o022)
    try:
        assert student.main([str(CHAPTERS[0]), "--out", str(tmp_path)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / CHAPTERS[0].name).stat().st_mode) == 0o644


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
def test_a_broken_notebook_is_named_and_nothing_is_written(tmp_path, capsys, content, complaint):
    """A valid chapter before a broken file: the error names the file, and no edition is half written."""
    broken = tmp_path / "broken.ipynb"
    broken.write_bytes(content)
    out = tmp_path / "out"
    assert student.main([str(CHAPTERS[0]), str(broken), "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert f"{broken}: {complaint}" in error and "nothing was written" in error
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


# --------------------------------------------------------------------------- problem sets
ACROSS = ["ex-hs-bisection", "ex-ls-rayleigh-gradient", "ex-hs-stein-1d", "ex-ls-step-size"]


@pytest.fixture(scope="module")
def problem_sets():
    chosen = catalogue.problem_set(ACROSS, "week-1", "Week 1")
    return {kind: student.problem_set_edition(chosen, NOTEBOOKS, kind, seed=7) for kind in student.EDITIONS}


def test_a_problem_set_has_its_exercises_in_order_with_their_chapters_set_up(problem_sets):
    notebook = problem_sets["student"]
    nbformat.validate(notebook)
    assert notebook.metadata["course"]["problem_set"] == "week-1"
    assert [e["label"] for e in notebook.metadata["course"]["exercises"]] == ACROSS
    statements = [re.search(r":label: (ex-[\w-]+)", c.source)[1] for c in notebook.cells
                  if c.cell_type == "markdown" and c.source.startswith("```{exercise}")]
    assert statements == ACROSS
    for chapter in ("02-least-squares", "03-halfspaces"):  # each chapter's set-up, once, before the exercises
        context = [NOTEBOOKS[chapter].cells[i].source for i in context_cells(NOTEBOOKS[chapter], STRUCTURE[chapter])]
        sources = [c.source for c in notebook.cells]
        assert all(sources.count(text) >= 1 for text in context)
    first_statement = next(i for i, c in enumerate(notebook.cells) if c.source.startswith("```{exercise}"))
    assert all(c.cell_type == "markdown" or "import" in c.source for c in notebook.cells[:first_statement])
    assert len({c.id for c in notebook.cells}) == len(notebook.cells)
    title = notebook.cells[0].source
    total = sum(catalogue.entries()[label].points for label in ACROSS)
    assert title.startswith("# Week 1") and f"{total:g} points in all" in title


def test_a_problem_set_hides_the_solutions_and_keeps_the_self_checks(problem_sets):
    notebook = problem_sets["student"]
    text = "\n".join(c.source for c in notebook.cells)
    for label in ACROSS:
        chapter, exercise = next((c, e) for c, e in ALL_EXERCISES if e.label == label)
        for cell in NOTEBOOKS[chapter].cells[exercise.solution.start:exercise.solution.end + 1]:
            prose = cell.source.split("```", 2)[-1] if "{solution-" in cell.source else cell.source
            assert not [p for p in prose.split("\n\n") if len(p.strip()) > 40 and p.strip() in text], label
    assert [_label(c) for c in notebook.cells if "self-check" in cell_tags(c)] == ["ex-hs-bisection", "ex-ls-rayleigh-gradient"]
    assert [_label(c) for c in notebook.cells if "answer" in cell_tags(c)] == ["ex-hs-stein-1d", "ex-ls-step-size"]
    instructor_tests = [c for c in problem_sets["instructor"].cells if "tests" in cell_tags(c)]
    assert [c.metadata["nbgrader"]["points"] for c in instructor_tests] == [4.0, 4.0]


def test_a_problem_set_says_what_an_exercise_needs_from_its_chapter():
    chosen = catalogue.problem_set(["ex-beyond-length-step"], "one")
    notebook = student.problem_set_edition(chosen, NOTEBOOKS)
    heading = next(c.source for c in notebook.cells if c.source.startswith("## 1."))
    assert "*Context:*" in heading and "`problem`" in heading


def test_make_student_writes_one_notebook_per_problem_set(tmp_path, capsys):
    set_file = tmp_path / "week.yml"
    set_file.write_text("name: week-2\ntitle: Halfspaces\nexercises:\n  - ex-hs-bisection\n"
                        "  - label: ex-hs-step-size\n    points: 7\n")
    assert student.main(["--problem-set", str(set_file), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["week-2.ipynb"]
    listed = nbformat.read(tmp_path / "out" / "week-2.ipynb", as_version=4).metadata["course"]["exercises"]
    assert [(e["label"], e["points"]) for e in listed] == [("ex-hs-bisection", 4.0), ("ex-hs-step-size", 7.0)]
    assert "wrote" in capsys.readouterr().out
    other = tmp_path / "other.yml"
    other.write_text("name: week-3\nexercises: [ex-ls-gdnp-step]\n")
    assert student.main(["--problem-set", str(set_file), "--problem-set", str(other), "--out", str(tmp_path / "two")]) == 0
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["week-2.ipynb", "week-3.ipynb"]
    assert student.main(["--problem-set", str(set_file), "--problem-set", str(set_file), "--out", str(tmp_path / "x")]) == 1
    assert "two problem-set files have the name week-2" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert student.main(["--exercises", "ex-ls-gdnp-step, ex-nn-line-gradient", "--name", "quiz", "--edition",
                         "instructor", "--out", str(tmp_path / "out")]) == 0
    assert nbformat.read(tmp_path / "out" / "quiz.ipynb", as_version=4).metadata["course"]["edition"] == "instructor"


# --------------------------------------------------------------------------- points and rubrics
def test_every_exercise_has_points_and_every_exercise_graded_by_hand_a_rubric():
    known = catalogue.entries()
    assert set(known) == {e.label for _, e in ALL_EXERCISES}
    for _, exercise in ALL_EXERCISES:
        entry = known[exercise.label]
        assert bool(entry.rubric) == (exercise.kind != "coding"), exercise.label
        if entry.rubric:
            assert sum(c.points for c in entry.rubric) == pytest.approx(entry.points) and len(entry.rubric) >= 3
    assert catalogue.book_exercises().keys() == known.keys()


@pytest.mark.parametrize("reader, text, complaint", [
    (catalogue.read_problem_set, "name: w\nexercises: [ex-nope]\n", "no exercise of the book is labelled ex-nope"),
    (catalogue.read_problem_set, "name: w\nexercises: [ex-hs-bisection, ex-hs-bisection]\n", "lists each exercise once"),
    (catalogue.read_problem_set, "name: w\nexercises: []\n", "at least one"),
    (catalogue.read_problem_set, "name: Week 1\nexercises: [ex-hs-bisection]\n", "lowercase words joined by -"),
    (catalogue.read_problem_set, "exercises: [ex-hs-bisection]\n", "lowercase words joined by -"),
    (catalogue.read_problem_set, "name: w\nexercises: [{label: ex-hs-bisection, points: -1}]\n", "must be a positive number"),
    (catalogue.read_problem_set, "name: w\nexercises: ex-hs-bisection\n", "a list of 'exercises'"),
    (catalogue.read_problem_set, "name: [\n", "cannot read the problem set"),
    (catalogue.entries, "ex-a:\n  points: 0\n", "must be a positive number"),
    (catalogue.entries, "ex-a:\n  points: 3\n  rubric:\n    - [1, one]\n    - [1, two]\n", "add up to 2, not to the exercise's 3"),
    (catalogue.entries, "ex-a:\n  points: 2\n  rubric:\n    - one\n", "a rubric line is [points, text]"),
    (catalogue.entries, "- ex-a\n", "expected a mapping"),
], ids=lambda x: getattr(x, "__name__", None))
def test_a_broken_problem_set_or_rubrics_file_is_refused_with_what_is_expected(tmp_path, reader, text, complaint):
    path = tmp_path / "file.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(complaint)):
        reader(path)


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
