# Masthead: `make run` serves the sample site; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VAR    := $(or $(MASTHEAD_VAR_DIR),var)

.PHONY: run test install lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

$(VAR)/secret_key:
	mkdir -p $(VAR)
	$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	chmod 600 $@

run: $(STAMP) $(VAR)/secret_key
	$(BIN)/masthead setup
	@echo "Serving on http://127.0.0.1:$${PORT:-8000}"
	$(BIN)/gunicorn -c config/gunicorn.py config.wsgi

test: $(STAMP)
	SECRET_KEY=$${SECRET_KEY:-test-only-secret} $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VAR)/cache $(VAR)/static
