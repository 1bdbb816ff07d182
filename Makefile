# One place for setting up, running and testing cetbot. See README.md.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEB_STAMP := $(VENV)/.debian
DEBIAN_PACKAGES := fonts-wqy-microhei poppler-utils chromium fonts-noto-color-emoji

.PHONY: setup system-deps services demo run test lint format bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev]'
	touch $(STAMP)

# Debian packages the product needs (CJK font for tickets, poppler for checks, chromium and
# an emoji font for the chat page test; playwright drives Debian's chromium, never its own).
$(DEB_STAMP): | $(BIN)/python
	@if ! dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES); \
	fi
	touch $(DEB_STAMP)

system-deps: $(DEB_STAMP)

setup: $(STAMP) $(DEB_STAMP)

services:
	bash scripts/ensure_services.sh

demo: setup
	$(BIN)/cetbot demo

run: setup
	$(BIN)/cetbot run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup services lint
	CETBOT_TEST_PG=$${CETBOT_TEST_PG:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest -q -rs -p no:cacheprovider

bench: setup services
	$(BIN)/python bench/bookings.py
	$(BIN)/python bench/roster_import.py
	$(BIN)/python bench/tickets.py
	$(BIN)/python bench/faq_eval.py
	$(BIN)/python bench/chat.py

clean:
	rm -rf $(VENV) *.db *.db-wal *.db-shm .pytest_cache .ruff_cache
