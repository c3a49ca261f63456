# Acolhe: `make run` starts everything, `make test` runs the tests. Both start an embedded PostgreSQL
# and Redis under .data/ unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
QUICK ?=
export ACOLHE_DEVELOPMENT ?= 1

.PHONY: install run test lint format bench faults e2e clean-data messages

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

# Fault scenarios against a real local stack (gunicorn, worker, beat, a Redis of its own); not part of `test`.
faults: install
	$(PY) -m helpdesk.devenv $(PY) -m tests.faults

e2e: install
	$(PY) -m helpdesk.devenv $(PY) -m pytest tests/e2e $(ARGS)

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
