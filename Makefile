# The two commands a newcomer needs: `make run` and `make test` (both set everything up first).
VENV ?= .venv
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: setup run test test-fast test-faults lint worker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock scripts/setup.sh
	bash scripts/setup.sh $(VENV)

run: setup
	$(VENV)/bin/licbench run

worker: setup
	$(VENV)/bin/licbench worker

test: setup
	bash scripts/test.sh $(VENV)

# ruff (lint, format check) and mypy, the first step of `make test`.
lint: setup
	bash scripts/lint.sh $(VENV)

# The edit loop: unit, CLI and API tests in-process, no servers or browser.
test-fast: setup
	$(VENV)/bin/python -m pytest -p no:cacheprovider -q tests/unit tests/cli tests/api

# Processes killed mid-job on real PostgreSQL/Redis/Celery (tests/faults; also part of `make test`).
test-faults: setup
	bash scripts/test.sh $(VENV) -q tests/faults

clean:
	rm -rf data .pytest_cache
