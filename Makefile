# The two commands a newcomer needs: `make run` and `make test` (both set everything up first).
VENV ?= .venv
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: setup run test test-fast worker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)

run: setup
	$(VENV)/bin/licbench run

worker: setup
	$(VENV)/bin/licbench worker

test: setup
	bash scripts/test.sh $(VENV)

# The edit loop: unit, CLI and API tests in-process, no servers or browser.
test-fast: setup
	$(VENV)/bin/python -m pytest -p no:cacheprovider -q tests/unit tests/cli tests/api

clean:
	rm -rf data .pytest_cache
