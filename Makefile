# make run: the app at http://127.0.0.1:$(PORT) with its worker.  make test: the whole suite.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint typecheck pytest demo bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12) and "Python >= 3.12 is needed (see .python-version)")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	@echo "Serving http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server and the worker)"
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(PY) manage.py run_worker & \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: lint typecheck pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy .

pytest: $(VENV)/.installed
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache

# make demo: the whole product against a simulated Firecrawl (user demo / demo-password-123).
demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	FIRECRAWL_API_URLS='*' FIRECRAWL_POLL_INTERVAL=2 $(PY) manage.py demo --port $(PORT)

# make bench: the five benchmarks, written to docs/PERFORMANCE.md (5-10 minutes).
# make bench ARGS=--quick: tiny sizes, SQLite only, prints the tables and writes nothing.
# make bench ARGS=--large: one job of 100,000 documents, docs/PERFORMANCE-LARGE.md (not in CI).
bench: $(VENV)/.installed
	$(PY) -m bench $(ARGS)
