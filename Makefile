# Acolhe: `make run` starts everything, `make test` runs the tests. Both start an embedded PostgreSQL
# and Redis under .data/ unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The development server listens on this address only; HOST=0.0.0.0 make run to reach it from elsewhere.
HOST ?= 127.0.0.1
QUICK ?=
export ACOLHE_DEVELOPMENT ?= 1
# The browser tests drive this Chromium (Debian's package); without it they are skipped, and `make test` says so.
export ACOLHE_CHROMIUM ?= /usr/bin/chromium
# Test processes: `auto` is one per core. `make test TEST_WORKERS=0` runs the suite in this process alone.
TEST_WORKERS ?= auto
# Every install comes from the lock files, each pinned version with its hashes: `make lock` refreshes them
# from pyproject.toml (requirements.lock: what the image runs; requirements-dev.lock: plus the embedded
# services and the test and lint tools).
LOCK_OPTIONS := --generate-hashes --universal --python-version 3.11 --quiet --custom-compile-command 'make lock'

.PHONY: install lock run test lint check-deploy format bench bench-scaling faults e2e screenshots clean-data messages

$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

# uv resolves for Python 3.11 on every platform, reading only pyproject.toml and the package index: nothing
# is installed into .venv. It is the virtualenv's uv, or one put under .data/uv the first time.
UV = $(firstword $(wildcard $(VENV)/bin/uv) .data/uv/bin/uv)

.data/uv/bin/uv:
	$(PYTHON) -m venv .data/uv
	.data/uv/bin/pip install --quiet uv

lock: $(UV)
	$(UV) pip compile pyproject.toml $(LOCK_OPTIONS) -o requirements.lock
	$(UV) pip compile pyproject.toml --extra embedded --extra dev $(LOCK_OPTIONS) -o requirements-dev.lock

run: install
	DEBUG=$${DEBUG:-1} $(PY) -m helpdesk.devenv $(PY) -m helpdesk.run --host $(HOST) --port $(PORT)

test: install
	@command -v "$$ACOLHE_CHROMIUM" >/dev/null || echo "No Chromium at $$ACOLHE_CHROMIUM: the browser tests (tests/e2e) will be skipped; install Debian's chromium package to run them."
	$(PY) -m helpdesk.devenv $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup -rs $(ARGS)

# Fault scenarios against a real local stack (gunicorn, worker, beat, a Redis of its own); not part of `test`.
faults: install
	$(PY) -m helpdesk.devenv $(PY) -m tests.faults

# The browser tests and the crawl of every page (screenshots under build/screenshots/).
e2e: install
	@command -v "$$ACOLHE_CHROMIUM" >/dev/null || echo "No Chromium at $$ACOLHE_CHROMIUM: the browser tests will be skipped; install Debian's chromium package to run them."
	ACOLHE_CRAWL=1 $(PY) -m helpdesk.devenv $(PY) -m pytest tests/e2e -rs $(ARGS)

# The README's screenshot tour, from a running `make run` (URL=... to use another address).
screenshots: install
	$(PY) -m tests.e2e.tour $(or $(URL),http://127.0.0.1:$(PORT)) docs/screenshots

bench: install
	$(PY) -m helpdesk.devenv $(PY) -m tests.bench $(if $(QUICK),--quick,) $(if $(ONLY),--only $(ONLY),)

# Only the scaling curves: mail in with 1, 2 and 4 worker processes, pages with 1, 2 and 4 gunicorn workers
# (JSON on standard output and in .bench/scaling.json; docs/deploy.md says how to read it).
bench-scaling: install
	$(PY) -m helpdesk.devenv $(PY) -m tests.bench.scaling $(if $(QUICK),--quick,)

lint: install check-deploy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Static checks of what no container engine runs here: the Dockerfile (hadolint), the compose file (the
# Compose Specification's JSON schema) and the Kubernetes manifests (the API's own schemas, bundled by
# kubernetes-validate: offline; strict, so a misspelt field fails). kustomization.yaml is kustomize's, not
# the API's: tests/helpdesk/test_deploy.py checks that it lists every manifest.
K8S_MANIFESTS := $(filter-out deploy/k8s/kustomization.yaml,$(wildcard deploy/k8s/*.yaml))
check-deploy: install
	$(VENV)/bin/hadolint Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
	$(VENV)/bin/kubernetes-validate --strict --quiet $(K8S_MANIFESTS)

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
