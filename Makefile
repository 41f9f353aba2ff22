# Pressroom: `make run` serves the blog, `make test` runs the suite. Each makes .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench audit security clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Pressroom needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/flask --app app db upgrade
	FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(PORT) $(BIN)/flask --app app run

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/post_page.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/related_quality.py
	$(BIN)/python bench/related_speed.py
	$(BIN)/python bench/wordpress_import.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/backup.py

# wapiti and sqlmap (apt-get install wapiti sqlmap chromium) and the full XSS lists in
# Chromium, against a throwaway site: long (an hour and more), so not in `make test`.
security: $(VENV)/.installed-test
	$(BIN)/python -m audit.security

# axe-core, the Nu HTML checker and Lighthouse, from the npm registry (audit/package-lock.json).
audit/node_modules/.installed: audit/package.json audit/package-lock.json
	npm ci --prefix audit --no-audit --no-fund
	@touch $@

# Lighthouse's scores for the home and post pages, and what axe and vnu find.
audit: $(VENV)/.installed-test audit/node_modules/.installed
	$(BIN)/python -m audit

# Code blocks' colours, from blog/highlighting.py (tests/test_code_and_math.py checks it).
static/highlight.css: blog/highlighting.py | $(VENV)/.installed
	$(BIN)/python -c 'from blog.highlighting import stylesheet; print(stylesheet(), end="")' > $@

clean:
	rm -rf $(VENV) .pytest_cache .coverage .ruff_cache audit/node_modules
