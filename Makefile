# Beatbook developer tasks.  `make run` sets everything up and serves the app;
# `make test` runs the test suite (no server needed).

PYTHON      ?= python3
VENV        ?= .venv
PIP         := $(VENV)/bin/pip
FLASK       := $(VENV)/bin/flask --app app
GUNICORN    := $(VENV)/bin/gunicorn
PYTEST      := $(VENV)/bin/pytest
HOST        ?= 127.0.0.1
PORT        ?= 5000
PYTEST_ARGS ?=

# Stamps: redo the slow installs only when their inputs change.
VENV_STAMP  := $(VENV)/.installed-requirements
NPM_STAMP   := node_modules/.installed-package-lock

.PHONY: help venv vendor migrate keys seed run run-worker lint test test-fast test-browser audit-phone clean

help:
	@echo "make venv          create $(VENV) and install requirements-dev.txt (when changed)"
	@echo "make vendor        npm ci (when package-lock.json changed), copy into static/vendor/, build/static/"
	@echo "make migrate       flask db upgrade"
	@echo "make keys          flask seal-key init and flask audit key init (the phones' sealing key, the audit"
	@echo "                   log's checkpoint signing key; each made once)"
	@echo "make seed          flask seed-demo --if-empty (prints the demo logins)"
	@echo "make run           all of the above, then gunicorn on http://$(HOST):$(PORT)/"
	@echo "make run-worker    the background-job worker (RQ), when REDIS_URL is set; without it jobs run in the app"
	@echo "make lint          bandit -ll over pcso/ (medium and high findings fail; each # nosec says why)"
	@echo "make test          make lint, then pytest -q \$$PYTEST_ARGS"
	@echo "make test-fast     pytest -q -n auto, no browser tests (quick loops)"
	@echo "make test-browser  pytest -q tests/browser (needs /usr/bin/chromium)"
	@echo "make audit-phone   Lighthouse, axe-core and installability on the phone pages (fails below target)"
	@echo "make clean         remove node_modules, static/vendor and caches (keeps $(VENV) and instance/)"

# --- Python -----------------------------------------------------------------

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# --- Front-end libraries (npm registry -> static/vendor/) --------------------

# Then content-hashed, precompressed copies of static/ into build/static/ (served by WhiteNoise).
vendor: venv $(NPM_STAMP)
	$(PYTHON) scripts/vendor.py
	$(VENV)/bin/python scripts/build_static.py

# --ignore-scripts: no package may run install hooks (and so download browsers).
$(NPM_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# --- Database and server ----------------------------------------------------

migrate: venv
	$(FLASK) db upgrade
	$(FLASK) pole rebuild-match-keys  # idempotent: rewrites only the keys the matcher now makes differently

# Sealing the audit log (`flask audit seal`) is a scheduled job (docs/DEPLOY.md), not part of `make run`.
keys: migrate
	$(FLASK) seal-key init
	$(FLASK) audit key init

seed: migrate
	$(FLASK) seed-demo --if-empty

run: venv vendor migrate keys seed
	@echo "Beatbook: serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(GUNICORN) -w 2 -b $(HOST):$(PORT) app:app  # the app logs each request (JSON, no query strings)

# Background jobs (pcso/jobs/): with REDIS_URL set, `make run` queues them on Redis and this runs them.
run-worker: venv migrate
	$(FLASK) jobs worker

# --- Tests ------------------------------------------------------------------

# Security lint: medium and high severity findings fail. A false positive gets an inline # nosec BNNN on its
# line, with the reason in a comment above it.
lint: venv
	$(VENV)/bin/bandit -ll -q -r pcso

# pytest exits 5 when it collects no tests; that fails the build like any other error.
test: venv vendor lint
	@$(PYTEST) -q $(PYTEST_ARGS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing" >&2; fi; \
	  exit $$rc; }

test-fast: venv
	$(PYTEST) -q -n auto --ignore=tests/browser $(PYTEST_ARGS)

test-browser: venv vendor
	$(PYTEST) -q tests/browser $(PYTEST_ARGS)

# Lighthouse 12.2.3 and axe-core come from package.json's devDependencies (npm ci installs them).
audit-phone: venv vendor
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(VENV)/bin/python scripts/audit_phone.py

# --- Housekeeping -----------------------------------------------------------

clean:
	rm -rf node_modules static/vendor build .pytest_cache test-artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
