# The two commands of README.md are `make book` and `make test`; both create the virtual
# environment .venv from requirements.txt when it is missing or older than requirements.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_BUILD := $(BIN)/jupyter-book build -W -n --keep-going .
# headless Chromium, playwright-core and MathJax for the browser test and the PDF (gitignored)
BROWSER_DEPS := .cache/browser
PDF := _build/pdf/length-and-direction.pdf

.PHONY: mutation all book pdf test test-lib test-notebooks test-build test-published browser-deps lab benchmark venv clean student grade

all: book

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

## Build the book into _build/html (warnings are errors: a notebook that fails fails the build)
book: $(STAMP)
	$(BOOK_BUILD)

## Print the whole book to one PDF: the single-page HTML build, printed by headless Chromium
pdf: $(STAMP) browser-deps
	$(BOOK_BUILD) --builder singlehtml
	node tests/browser/print_pdf.mjs --root _build/singlehtml --page book.html --cache $(BROWSER_DEPS) --out $(PDF)
	# the web pages link the PDF from their footer (_ext/book_edition.py)
	if [ -d _build/html/_static ]; then cp $(PDF) _build/html/_static/; fi

## Run every test: lib and hygiene tests, every notebook under nbval, the -W build, then the
## built book in a browser and its PDF
test: test-lib test-notebooks test-build test-published

test-lib: $(STAMP)
	$(BIN)/python -m pytest -m "not published" tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 book

test-build: $(STAMP)
	$(BOOK_BUILD)

# the pages of _build/html in headless Chromium (screenshots in artifacts/screenshots) and the PDF
test-published: $(STAMP) test-build pdf
	$(BIN)/python -m pytest -m published tests

# chromium (apt-get) and the pinned npm packages, when missing
browser-deps:
	tests/browser/install.sh $(BROWSER_DEPS)

## Open the notebooks in JupyterLab (the kernel is this environment's Python)
lab: $(STAMP)
	$(BIN)/jupyter lab book

## Mutation testing: apply each mutation of tools/mutations.toml to a copy of lib and report which
## ones survive every chapter check and tests/test_theorems.py (JOBS=2 at once; EXHAUSTIVE=1 to run
## every check and test on every mutant instead of stopping at its first failure)
JOBS ?= 2
mutation: $(STAMP)
	$(BIN)/python tools/mutate.py --jobs $(JOBS) $(if $(ONLY),--only $(ONLY)) $(if $(EXHAUSTIVE),--exhaustive)

## Print the benchmark tables (benchmarks/*.py)
benchmark: $(STAMP)
	for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## Course kit (see book/lecturers.md): the student edition, and grading of submitted notebooks
## make student [FORCE=1]: write student/*.ipynb (solutions replaced by stubs); never overwrites without FORCE=1
student: $(STAMP)
	$(BIN)/python -m course.student --out student $(if $(filter 1 yes true,$(FORCE)),--force)

## make grade SUBMISSIONS=folder [GRADES=folder] [FORCE=1] [TIMEOUT=600] [CELL_TIMEOUT=120]
TIMEOUT ?= 600
CELL_TIMEOUT ?= 120
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [GRADES=folder] [FORCE=1] [TIMEOUT=600] [CELL_TIMEOUT=120]"; exit 2; }
	$(BIN)/python -m course.grade "$(SUBMISSIONS)" $(if $(GRADES),--out "$(GRADES)") --timeout $(TIMEOUT) --cell-timeout $(CELL_TIMEOUT) $(if $(filter 1 yes true,$(FORCE)),--force)

clean:
	rm -rf _build
