# pmdesk — two commands for a newcomer: `make demo` and `make test`.
# Needs only Python ≥ 3.11 and make; everything else is installed into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck unit integration browser chromium postgres clean lock

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pmdesk needs Python >= 3.11, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/pmdesk demo

chromium:
	@bash scripts/ensure-chromium.sh

postgres:
	@bash scripts/ensure-postgres.sh

# requirements.lock: every runtime dependency, hash-pinned, for the container image (Dockerfile).
# Run after changing [project] dependencies in pyproject.toml (tests/unit/app/test_containers.py
# fails until the two agree).
LOCK_COMPILE := uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --no-header
lock: $(STAMP)
	{ echo '# Hash-pinned runtime dependencies of the container image (Dockerfile). Regenerate with'; \
	  echo '# `make lock` after changing [project] dependencies in pyproject.toml; it runs'; \
	  echo '#   $(LOCK_COMPILE)'; \
	  echo '# (uv is pinned in the dev extras).'; \
	  $(BIN)/$(LOCK_COMPILE) --quiet; } > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) chromium postgres lint typecheck
	$(BIN)/pytest

# One folder at a time, with what that folder needs: the store suites in unit/ and integration/
# run on SQLite and PostgreSQL; only browser/ drives chromium.
unit: $(STAMP) postgres
	$(BIN)/pytest tests/unit

integration: $(STAMP) postgres
	$(BIN)/pytest tests/integration

browser: $(STAMP) chromium
	$(BIN)/pytest tests/browser

clean:
	rm -rf $(VENV) var artifacts .mypy_cache .ruff_cache .pytest_cache
