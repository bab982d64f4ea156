# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv when it is missing
# or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PREFECT_DB := $(VENV)/.prefect-database
SAMPLE := data/verbatims/panorama_culture_client_2025
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run test test-fast serve-flows bench lint clean-cache

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch==2.13.0 is the CPU wheel on local disk (pinned in pyproject); other versions pull several GB.
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Prefect's database migrated once, here: a new Prefect home's server starts from a copy (cli/prefect_database.py).
$(PREFECT_DB): $(STAMP)
	$(BIN)/python -m cli.prefect_database
	touch $(PREFECT_DB)

run: $(PREFECT_DB)
	$(BIN)/verbatims analyze $(SAMPLE).csv --codebook $(SAMPLE).codebook.yaml --out outputs/sample
	@echo ""
	@echo "Pour revoir dans le navigateur : $(BIN)/verbatims users add VOUS --role admin, puis $(BIN)/verbatims serve"
	@echo "  -> http://127.0.0.1:8765/"

test: $(PREFECT_DB)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# The unit layer, under a minute: no Prefect flow or server, no browser, no PostgreSQL, no end-to-end command
# (the tests marked `slow` in tests/conftest.py). `make test` runs everything.
test-fast: $(PREFECT_DB)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

# A local Prefect server (UI on http://127.0.0.1:4200) and the scheduled deployments; Ctrl-C stops both.
serve-flows: $(PREFECT_DB)
	$(BIN)/verbatims serve-flows

bench: $(PREFECT_DB)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/review_loop.py
	$(BIN)/python bench/speed.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean-cache:
	rm -rf outputs/.cache
