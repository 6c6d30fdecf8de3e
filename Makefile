# The two quick-start commands: `make run` and `make test`. Each creates the virtualenv and installs first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

## run the service on the embedded SQLite store (./data/zonecase.sqlite unless ZONECASE_DATABASE_URL says otherwise)
run: $(STAMP)
	$(BIN)/zonecase serve

## run the whole test suite (PostgreSQL tests run when ZONECASE_TEST_DATABASE_URL's server answers; CI requires it)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
