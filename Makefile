# The two commands of README.md are `make book` and `make test`; both create the virtual
# environment .venv from requirements.txt when it is missing or older than requirements.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_BUILD := $(BIN)/jupyter-book build -W -n --keep-going .

.PHONY: all book test test-lib test-notebooks test-build lab benchmark venv clean

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

## Run every test: lib and hygiene tests, every notebook under nbval, and the -W build
test: test-lib test-notebooks test-build

test-lib: $(STAMP)
	$(BIN)/python -m pytest tests

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=300 book

test-build: $(STAMP)
	$(BOOK_BUILD)

## Open the notebooks in JupyterLab (the kernel is this environment's Python)
lab: $(STAMP)
	$(BIN)/jupyter lab book

## Print the benchmark tables (benchmarks/*.py)
benchmark: $(STAMP)
	for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf _build
