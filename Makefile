# genfocal_nb: two commands on a fresh machine (python3 >= 3.11 and make).
#   make demo   set up .venv and run the whole pipeline on the embedded world, ending with a report
#   make test   set up .venv and run all tests (nbdev hygiene, nbdev-test, pytest)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo_run
NBDEV_WORKERS ?= 2
export XLA_PYTHON_CLIENT_PREALLOCATE := false
export PYTHONWARNINGS := ignore::DeprecationWarning
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup test test-all check-clean nbtest pytest demo bench lab docs clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "genfocal_nb needs python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv installs the same packages as pip with parallel downloads (20 s instead of 105 s here); pip if uv is unavailable.
	# Neither byte-compiles everything up front: modules compile on first import.
	($(BIN)/python -m pip install -q uv && $(BIN)/uv pip install -q --python $(BIN)/python -e ".[dev]") \
	  || $(BIN)/python -m pip install -q --no-compile -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

check-clean: setup
	$(BIN)/python tools/check_clean.py

nbtest: setup
	$(BIN)/nbdev-test --n-workers $(NBDEV_WORKERS) --timing

pytest: setup
	$(BIN)/pytest tests -q -p no:cacheprovider

test: check-clean nbtest pytest

test-all: check-clean setup
	$(BIN)/nbdev-test --n-workers $(NBDEV_WORKERS) --flags slow --timing
	$(BIN)/pytest tests -q -p no:cacheprovider -m ''

demo: setup
	$(BIN)/genfocal-nb demo --workdir $(DEMO_DIR)

bench: setup
	$(BIN)/python benchmarks/run.py

lab: setup
	$(BIN)/python -m ipykernel install --user --name genfocal_nb --display-name "genfocal_nb (.venv)"
	$(BIN)/jupyter lab nbs/

docs: setup  # offline HTML pages from the notebooks (nbdev-docs needs Quarto, which cannot install here; see README)
	$(BIN)/python tools/readme.py
	$(BIN)/jupyter nbconvert --to html --output-dir _docs nbs/*.ipynb nbs/entry/*.ipynb

clean:
	rm -rf $(DEMO_DIR) _docs _proc .pytest_cache
