# The two commands a newcomer needs: `make run` and `make test` (both set everything up first).
VENV ?= .venv
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: setup run test worker clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)

run: setup
	$(VENV)/bin/licbench run

worker: setup
	$(VENV)/bin/licbench worker

test: setup
	bash scripts/test.sh $(VENV)

clean:
	rm -rf data .pytest_cache
