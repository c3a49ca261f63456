# Acolhe: `make run` starts everything, `make test` runs the tests. Both start an embedded PostgreSQL
# and Redis under .data/ unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
QUICK ?=
export ACOLHE_DEVELOPMENT ?= 1

.PHONY: install run test lint format bench e2e screenshots clean-data messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[embedded,dev]'
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=$${DEBUG:-1} $(PY) -m helpdesk.devenv $(PY) -m helpdesk.run --port $(PORT)

test: install
	$(PY) -m helpdesk.devenv $(PY) -m pytest $(ARGS)

# The browser tests and the crawl of every page (screenshots under build/screenshots/).
e2e: install
	ACOLHE_CRAWL=1 $(PY) -m helpdesk.devenv $(PY) -m pytest tests/e2e $(ARGS)

# The README's screenshot tour, from a running `make run` (URL=... to use another address).
screenshots: install
	$(PY) -m tests.e2e.tour $(or $(URL),http://127.0.0.1:$(PORT)) docs/screenshots

bench: install
	$(PY) -m helpdesk.devenv $(PY) -m tests.bench $(if $(QUICK),--quick,)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install
	$(PY) manage.py makemessages -l pt_BR --ignore '.venv/*' --ignore '.data/*' --ignore 'tests/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean-data:
	@echo "Stopping embedded services and removing .data/"
	-$(VENV)/bin/python -c "import pgserver; pgserver.get_server('.data/pg', cleanup_mode='stop')" 2>/dev/null
	-test -f .data/redis.pid && kill $$(cat .data/redis.pid)
	rm -rf .data
