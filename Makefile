# make run: the app at http://127.0.0.1:$(PORT) with its worker.  make test: the whole suite.
# make demo: the same against a simulated Firecrawl, in a database of its own.
# make lock: rewrite the dependency locks after editing requirements.in or requirements-dev.in.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# make demo: the simulator's port (0: any free one), and the folder (git-ignored) holding the
# demo's own database, its kept screenshots and its worker's log.
SIM_PORT ?= 0
DEMO_DIR ?= .demo

.PHONY: run test lint typecheck pytest demo bench lock clean

# Every package, transitive ones too, comes from a lock that pins it with its hashes: pip refuses
# an unlisted package or a download whose hash is not in the lock.
PIP_INSTALL := $(PY) -m pip install --quiet --require-hashes

# What the app needs to run (requirements.txt) ... The venv's pip is first replaced by the one the
# lock pins (its lines cut out of the lock), so the rest is installed by a known pip.
$(VENV)/.installed-run: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12) and "Python >= 3.12 is needed (see .python-version)")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	sed -n '/^pip==/,/[^\\]$$/p' requirements.txt | $(PIP_INSTALL) -r /dev/stdin
	$(PIP_INSTALL) -r requirements.txt
	touch $@

# ... and, only for the targets that use them, the test, lint, benchmark and lock tools.
$(VENV)/.installed-dev: $(VENV)/.installed-run requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed-run
	$(PY) manage.py migrate --noinput
	@$(PY) manage.py devserver 127.0.0.1:$(PORT)

test: lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy .

# make pytest PYTEST_ARGS="tests/jobs -x": a part of the suite.
pytest: $(VENV)/.installed-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# make lock: requirements.in -> requirements.txt, then requirements-dev.in -> requirements-dev.txt
# (constrained by the first, so both agree), with the options in pyproject.toml. Pins that still
# fit are kept; make lock ARGS="--upgrade-package NAME" moves one package, ARGS=--upgrade all.
lock: $(VENV)/.installed-dev
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet $(ARGS) requirements.in
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet $(ARGS) requirements-dev.in

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache $(DEMO_DIR)

# make demo: the whole product against a simulated Firecrawl (user demo / demo-password-123).
# Its own database, so the worker of `make run` never retries the demo's jobs on a simulator
# that is gone. The demo user and its jobs are made afresh on every run.
# (Plain commands, no shell: make runs them itself, so Ctrl-C ends them quietly.)
demo: export DATABASE_URL = sqlite:///$(abspath $(DEMO_DIR))/db.sqlite3
demo: export FIRECRAWL_API_URLS = *
demo: export FIRECRAWL_POLL_INTERVAL = 2
demo: export NOTIFY_DIGEST_SECONDS = 5
demo: export MEDIA_ROOT = $(abspath $(DEMO_DIR))/media
demo: export PUBLIC_URL = http://127.0.0.1:$(PORT)
demo: $(VENV)/.installed-run
	@mkdir -p $(DEMO_DIR)
	$(PY) manage.py migrate --noinput
	@$(PY) manage.py demo --port $(PORT) --sim-port $(SIM_PORT) --log $(DEMO_DIR)/worker.log

# make bench: every benchmark, written to docs/PERFORMANCE.md (25-35 minutes: the load test of a
# hostile key runs 2 minutes of load on each database, the webhooks' batches a minute or two, the
# many workers' 40 jobs synced by 1, 2 and 4 workers on PostgreSQL 3-4 minutes).
# make bench ARGS=--quick: tiny sizes, SQLite only, prints the tables and writes nothing.
# make bench ARGS=--large: one job of 100,000 documents, docs/PERFORMANCE-LARGE.md (not in CI).
bench: $(VENV)/.installed-dev
	$(PY) -m bench $(ARGS)
