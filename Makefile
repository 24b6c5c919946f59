# Two commands on a fresh machine: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test install system-deps ui ui-test lint typecheck imports bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q uv && $(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]' \
	  || $(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Debian packages the tests use as real protocol peers (Dovecot for IMAP, Kamailio and sipp for SIP, Chromium for
## the browser tests); installed when missing (needs root). Playwright drives Debian's Chromium: it never downloads one.
system-deps:
	@command -v dovecot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	  else echo "dovecot-imapd is missing: sudo apt-get install dovecot-imapd (the IMAP tests need it)"; fi; }
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (the browser tests need it)"; fi; }
	@{ command -v /usr/sbin/kamailio && command -v sipp && test -e /usr/lib/x86_64-linux-gnu/kamailio/modules/http_client.so \
	  && test -e /usr/lib/x86_64-linux-gnu/kamailio/modules/json.so; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kamailio kamailio-json-modules kamailio-utils-modules sip-tester >/dev/null; \
	  else echo "Kamailio or sipp is missing: sudo apt-get install kamailio kamailio-json-modules kamailio-utils-modules sip-tester (the SIP tests need them)"; fi; }

## The web UI (ui/, Vue + Vite) built into src/switchboard/web/static/app; skipped where node/npm are absent.
## npm install, not npm ci: this npm leaves other platforms' optional packages out of the lock.
ui:
	@if command -v npm >/dev/null 2>&1; then \
	  [ ui/node_modules/.package-lock.json -nt ui/package-lock.json ] || (cd ui && npm install --no-audit --no-fund); \
	  cd ui && npm run build; \
	else echo "npm is missing: the web UI is not built (the API works without it)"; fi

ui-test: ui
	@if command -v npm >/dev/null 2>&1; then cd ui && npm test; fi

## make run: install, migrate the embedded SQLite database under var/, load demo data when empty, serve on :8000
run: install ui
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
test: install system-deps lint typecheck imports ui-test
	$(VENV)/bin/pytest

bench: install
	$(PY) bench/intake.py
	$(PY) bench/routing.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
