# The two commands of README.md are `make book` and `make test`; both create the virtual
# environment .venv from requirements.txt when it is missing or older than requirements.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_BUILD := $(BIN)/jupyter-book build -W -n --keep-going .
# matplotlib's configuration and font cache of the project's own (gitignored): the figures do not
# depend on a reader's matplotlibrc, and a font cache left stale by another installation (fonts
# "not found", printed to stderr, which fails the -W build) cannot break the build
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
# headless Chromium, playwright-core and MathJax for the browser test and the PDF (gitignored)
BROWSER_DEPS := .cache/browser
PDF := _build/pdf/length-and-direction.pdf
# .venv's bytecode is compiled on every core after pip has installed the packages (pip compiles one
# file after another); the one file left out is torch's test helper for Python 3.12's syntax, which
# Python 3.11 cannot compile (pip skips it alike)
# Two processes at once on 2 cores: `make book` runs two notebooks at a time, `make test` two of its
# targets at a time and the tests on two pytest-xdist workers (TEST_JOBS=1: one at a time). Each
# test process and kernel gets one BLAS and OpenMP thread, so that two of them share the cores
# instead of oversubscribing them (OPENBLAS_CORETYPE is left as it is).
TEST_JOBS ?= 2
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# whole files (a notebook, a test file) to a worker, so that a module-scoped fixture (a JupyterLab
# session, the browser's report) and a notebook's kernel serve one worker only
XDIST = $(if $(filter-out 0 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile)
# tests/: a whole file to a worker only when it has such a fixture; every other test to whichever
# worker is free, the tests marked slow first (tests/conftest.py, --dist-fixture-files)
XDIST_TESTS = $(if $(XDIST),$(XDIST) --dist-fixture-files)

.PHONY: mutation all book execute pdf test test-lib test-notebooks test-build test-published test-nbgrader browser-deps sandbox-deps lab benchmark venv clean student grade nbgrader

all: book

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.version_info >= (3, 11, 5) or sys.exit("Python 3.11.5 or newer is needed (pinned packages such as soupsieve 4.1.3 require it), found " + sys.version.split()[0] + ": set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	$(BIN)/python -m compileall -q -j 0 -x 'torch/testing/_internal/py312_intrinsics\.py' $(VENV)/lib
	touch $(STAMP)

venv: $(STAMP)

## Run every notebook of the book afresh, TEST_JOBS at a time, into _build/.jupyter_cache, where the
## build and the PDF read their outputs (tools/execute_book.py): the two builds of `make book` or
## `make test` share one run of each chapter; a notebook that fails stops make with its traceback
execute: $(STAMP)
	$(ONE_THREAD) $(BIN)/python tools/execute_book.py --jobs $(TEST_JOBS)

## Build the book into _build/html (warnings are errors: a notebook that fails fails the build)
book: $(STAMP) execute
	$(BOOK_BUILD)

## Print the whole book to one PDF: the single-page HTML build, printed by headless Chromium
# (in `make test`, after test-build: the two builds share _build/.doctrees)
pdf: $(STAMP) browser-deps execute | $(PDF_AFTER)
	$(BOOK_BUILD) --builder singlehtml
	node tests/browser/print_pdf.mjs --root _build/singlehtml --page book.html --cache $(BROWSER_DEPS) --out $(PDF)
	# the web pages link the PDF from their footer (_ext/book_edition.py)
	if [ -d _build/html/_static ]; then cp $(PDF) _build/html/_static/; fi

## Run every test: lib and hygiene tests, every notebook under nbval, the -W build, then the
## built book in a browser and its PDF, and nbgrader on a problem set; each target's output in one piece.
## Two chains side by side: the build's (execute, test-build, pdf, test-published), which is the
## longest, and the others one after the other (test-notebooks, test-nbgrader, test-lib), so that
## the build's chain never waits for a free job; the others run at a lower priority (BESIDE), on
## the time the build's chain leaves (its browsers and JupyterLab wait on pages and kernels)
test: $(STAMP) sandbox-deps browser-deps
	$(MAKE) -j$(TEST_JOBS) --output-sync=target PDF_AFTER=test-build NBGRADER_AFTER=test-notebooks \
		LIB_AFTER=test-nbgrader BESIDE="nice -n 5" test-published test-notebooks test-lib test-nbgrader

test-lib: $(STAMP) sandbox-deps | $(LIB_AFTER)
	$(ONE_THREAD) $(BESIDE) $(BIN)/python -m pytest $(XDIST_TESTS) -m "not published and not nbgrader" tests

# nbval runs every notebook of the book as a test (one test per code cell), each notebook in a kernel
# of its own, on the pytest-xdist workers (a whole notebook to one worker); it runs beside the build's
# own run of the notebooks (`execute`), not from its outputs
test-notebooks: $(STAMP)
	$(ONE_THREAD) $(BESIDE) $(BIN)/python -m pytest $(XDIST) --nbval-lax --nbval-current-env --nbval-cell-timeout=300 book

test-build: $(STAMP) execute
	$(BOOK_BUILD)

# the pages of _build/html in headless Chromium (screenshots in artifacts/screenshots), the PDF, and
# every chapter run in JupyterLab as `make lab` starts it (screenshots in artifacts/jupyterlab)
test-published: $(STAMP) test-build pdf
	$(ONE_THREAD) $(BIN)/python -m pytest $(XDIST_TESTS) -m published tests

# chromium (apt-get) and the pinned npm packages, when missing
browser-deps:
	tests/browser/install.sh $(BROWSER_DEPS)

# bubblewrap (apt-get), the sandbox of make grade, when missing; grading works without it, visibly
sandbox-deps:
	course/install-bubblewrap.sh

# nbgrader 0.9.6 for real (installed into .cache/nbgrader-env by the test): generate_assignment,
# autograde, generate_feedback on a problem set, and its points compared with make grade's
test-nbgrader: $(STAMP) | $(NBGRADER_AFTER)
	$(ONE_THREAD) $(BESIDE) $(BIN)/python -m pytest -m nbgrader tests/test_nbgrader.py

## Open the notebooks in JupyterLab, with MyST rendered and the kernel of .venv (works as root too);
## the configuration is the project's (jupyter/jupyter_lab_config.py), never the user's ~/.jupyter
lab: $(STAMP)
	$(BIN)/jupyter lab --config=jupyter/jupyter_lab_config.py

## Mutation testing: apply each mutation of tools/mutations.toml to a copy of lib and report which
## ones survive every chapter check and tests/test_theorems.py (JOBS=2 at once; EXHAUSTIVE=1 to run
## every check and test on every mutant instead of stopping at its first failure)
JOBS ?= 2
mutation: $(STAMP)
	$(BIN)/python tools/mutate.py --jobs $(JOBS) $(if $(ONLY),--only $(ONLY)) $(if $(EXHAUSTIVE),--exhaustive)

## Print the benchmark tables (benchmarks/*.py)
benchmark: $(STAMP)
	for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## Course kit (see book/lecturers.md)
## make student [FORCE=1] [EDITION=instructor] [EXERCISES=ex-a,ex-b NAME=week-1 | PROBLEM_SET="a.yml b.yml"] [OUT=student] [SEED=n]
##   the student edition of every chapter (solutions replaced by stubs), or one notebook per problem set;
##   never overwrites without FORCE=1
OUT ?= student
COURSE_SELECTION = $(if $(EXERCISES),--exercises "$(EXERCISES)" $(if $(NAME),--name "$(NAME)")) \
	$(foreach file,$(PROBLEM_SET),--problem-set "$(file)") $(if $(SEED),--seed $(SEED))
student: $(STAMP)
	$(BIN)/python -m course.student --out "$(OUT)" $(if $(EDITION),--edition $(EDITION)) $(COURSE_SELECTION) \
		$(if $(filter 1 yes true,$(FORCE)),--force)

## make grade SUBMISSIONS=folder [GRADES=folder] [JOBS=2] [SANDBOX=auto|bubblewrap|none] [SEED=n]
##   [PROBLEM_SET="a.yml b.yml"] [ASSIGNMENT=name] [FORCE=1] [TIMEOUT=600] [CELL_TIMEOUT=120]
TIMEOUT ?= 600
CELL_TIMEOUT ?= 120
# one notebook at a time unless JOBS is given (JOBS ?= 2 above is make mutation's default)
GRADE_JOBS = $(if $(filter command line environment,$(origin JOBS)),$(JOBS),1)
SANDBOX ?= auto
grade: $(STAMP) sandbox-deps
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [GRADES=folder] [JOBS=2] [SANDBOX=auto] [SEED=n] [PROBLEM_SET=file.yml] [ASSIGNMENT=name] [FORCE=1] [TIMEOUT=600] [CELL_TIMEOUT=120]"; exit 2; }
	$(BIN)/python -m course.grade "$(SUBMISSIONS)" $(if $(GRADES),--out "$(GRADES)") --jobs $(GRADE_JOBS) --sandbox $(SANDBOX) \
		--timeout $(TIMEOUT) --cell-timeout $(CELL_TIMEOUT) $(if $(SEED),--seed $(SEED)) \
		$(foreach file,$(PROBLEM_SET),--problem-set "$(file)") $(if $(ASSIGNMENT),--assignment "$(ASSIGNMENT)") \
		$(if $(filter 1 yes true,$(FORCE)),--force)

## make nbgrader [COURSE=nbgrader-course] [ASSIGNMENT=chapters] [EXERCISES=ex-a,ex-b | PROBLEM_SET=file.yml] [SEED=n] [FORCE=1]
##   nbgrader in its own environment (.cache/nbgrader-env) with the kernel of .venv, and a course folder
##   with the instructor edition in source/<assignment>/
COURSE ?= nbgrader-course
nbgrader: $(STAMP)
	$(BIN)/python -m course.nbgrader --course "$(COURSE)" --assignment "$(or $(ASSIGNMENT),chapters)" \
		$(if $(EXERCISES),--exercises "$(EXERCISES)") $(if $(PROBLEM_SET),--problem-set "$(PROBLEM_SET)") \
		$(if $(SEED),--seed $(SEED)) $(if $(filter 1 yes true,$(FORCE)),--force)

clean:
	rm -rf _build
