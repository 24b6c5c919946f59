# Two commands on a fresh machine: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test install system-deps lint typecheck imports bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q uv && $(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]' \
	  || $(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages the tests use as real protocol peers (Dovecot for IMAP, Kamailio and sipp for SIP); installed when missing (needs root)
system-deps:
	@command -v dovecot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	  else echo "dovecot-imapd is missing: sudo apt-get install dovecot-imapd (the IMAP tests need it)"; fi; }
	@{ command -v /usr/sbin/kamailio && command -v sipp && test -e /usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so \
	  && test -e /usr/lib/x86_64-linux-gnu/kamailio/modules/json.so; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kamailio kamailio-json-modules kamailio-utils-modules sip-tester >/dev/null; \
	  else echo "Kamailio or sipp is missing: sudo apt-get install kamailio kamailio-json-modules kamailio-utils-modules sip-tester (the SIP tests need them)"; fi; }

## make run: install, migrate the embedded SQLite database under var/, load demo data when empty, serve on :8000
run: install
	$(VENV)/bin/switchboard migrate
	$(VENV)/bin/switchboard demo
	$(VENV)/bin/switchboard serve

lint: install
	$(VENV)/bin/ruff check src tests $(wildcard bench)

typecheck: install
	$(VENV)/bin/mypy

imports: install
	$(VENV)/bin/lint-imports

## make test: install, then lint, types, layer contracts and the whole suite (SQLite + PostgreSQL, memory bus + RabbitMQ)
test: install system-deps lint typecheck imports
	$(VENV)/bin/pytest

bench: install
	$(PY) bench/intake.py
	$(PY) bench/routing.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
