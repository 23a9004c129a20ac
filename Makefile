# The README's two commands: `make demo` (the main job) and `make test` (every test tier).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test unit bench lint install system-packages label-studio clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: $(STAMP)

## The Label Studio server's own virtualenv (label-studio 1.23.2), installed once.
label-studio: install
	$(BIN)/annotate server install

## Debian packages for the test tiers: chromium (Playwright cannot download browsers here), strace
## (the test that Label Studio makes no outbound connection) and postgresql (initdb, pg_ctl, pg_dump under
## /usr/lib/postgresql/*/bin, for database = "postgresql"; it also creates the `postgres` user that runs the
## cluster when annotate runs as root).
system-packages:
	@command -v chromium >/dev/null 2>&1 && command -v strace >/dev/null 2>&1 && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium strace postgresql >/dev/null; }

## Main job: start the embedded Label Studio, pre-annotate seeds/, push, print where to go.
demo: install
	$(BIN)/annotate demo

## Every tier: unit, integration (real Label Studio), browser (real headless Chromium).
test: install label-studio system-packages
	$(BIN)/python -m pytest

## Fast edit loop: unit tests only.
unit: install
	$(BIN)/python -m pytest -m "not integration and not browser"

bench: install label-studio
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check annotate tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache
