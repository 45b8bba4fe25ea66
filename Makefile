# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres install translations compile-translations update-translations lint format db-upgrade demo bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

compile-translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy=false -d translations -f 2>/dev/null || $(BIN)/pybabel compile -d translations

# Re-extract every marked string and merge it into the catalogue (then translate the new entries).
update-translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs ".* __pycache__ node_modules instance" -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 --no-location --sort-output -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

db-upgrade: $(STAMP)
	$(BIN)/flask db upgrade

run: compile-translations db-upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: test-sqlite test-postgres

test-sqlite: compile-translations
	$(BIN)/python -m pytest

test-postgres: compile-translations
	TEST_DATABASE=postgresql $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: compile-translations
	$(BIN)/python tests/bench_feeds.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name '*.mo' -delete
