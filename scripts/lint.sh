#!/usr/bin/env bash
# ruff (lint and format check) and mypy, configured in pyproject.toml; the first step of `make test`.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

echo "lint: ruff check"
"$venv/bin/ruff" check --quiet .

if grep -qE '^format-check *= *true' pyproject.toml; then
  echo "lint: ruff format --check"
  "$venv/bin/ruff" format --check --quiet .
else
  pending=$("$venv/bin/ruff" format --check --output-format concise . 2>/dev/null | grep -c "would be reformatted" || true)
  echo "lint: ruff format --check not enforced yet ([tool.licbench] format-check = false): $pending files would be reformatted"
fi

echo "lint: mypy"
"$venv/bin/mypy"
