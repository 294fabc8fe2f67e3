# One command per chore. `make run` installs and opens the app on the demo store;
# `make test` installs what the tests need (pip + Debian's chromium) and runs them all.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# The app listens on this machine only; ADDRESS=0.0.0.0 exposes it to the network (it has no authentication).
ADDRESS ?= 127.0.0.1

.PHONY: run install system-deps test test-deps lint format bench clean

# Debian packages: chromium (the report's chart export and browser tests), fonts for emoji, CJK, right-to-left text
# and the other scripts of multilingual logs (fonts-noto-core: Devanagari, Bengali, Tamil, Thai, Arabic...: without
# it the app's grids, drawn on a canvas, show Hindi as boxes) in the app and in reports (embedded in the PDF), pango
# (WeasyPrint's text layout), poppler-utils (pdftoppm, to look at pages), Java 17 (the Spark engine's parity tests).
SYSTEM_PACKAGES := chromium fonts-noto-color-emoji fonts-noto-cjk fonts-noto-core fonts-dejavu-core poppler-utils \
  libpango-1.0-0 libpangoft2-1.0-0 openjdk-17-jre-headless

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Faultline needs Python 3.11 or newer"'
	@$(PYTHON) -m venv $(VENV) || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-test: requirements-test.txt requirements-spark.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "apt-get install $$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Faultline needs these Debian packages: sudo apt-get install -y $$missing"; exit 1; fi; fi

run: install system-deps
	@[ "$(ADDRESS)" = 127.0.0.1 ] || echo "Faultline listens on $(ADDRESS): anyone who can reach this machine can use it (no authentication)"
	@# opens a browser only from an interactive terminal; unattended (no terminal, or CI) it just serves
	$(BIN)/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) \
	  --server.headless $$( [ -t 0 ] && [ -z "$$CI" ] && echo false || echo true )

test-deps: $(VENV)/.installed-test system-deps

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The suite runs on two workers (pytest-xdist), each test file on one worker (its module fixtures built once).
TEST_WORKERS ?= 2

test: test-deps lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
