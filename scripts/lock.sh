#!/usr/bin/env bash
# Regenerate requirements.lock from pyproject.toml's ranges (every dependency, the test and ops extras).
# uv keeps the versions already in the lock unless a range excludes them; `--upgrade-package NAME` (passed
# through) moves one package. torch/torchvision come from the machine's local package index (pip's
# configured extra-index-url); their exact pins in pyproject.toml carry into the lock unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=${UV_TOOL_VENV:-/tmp/licbench-uv}
if [ ! -x "$tool/bin/uv" ]; then
  python3 -m venv "$tool"
  "$tool/bin/pip" install -q uv
fi
# uv reads pip's index settings from neither pip.conf nor PIP_* variables: pass them on.
index_args=()
for url in $(pip config get global.extra-index-url 2>/dev/null || true); do index_args+=(--extra-index-url "$url"); done
for dir in $(pip config get global.find-links 2>/dev/null || true); do index_args+=(--find-links "$dir"); done
"$tool/bin/uv" pip compile pyproject.toml --extra test --extra ops --python-version 3.11 \
  --index-strategy unsafe-best-match "${index_args[@]}" \
  --custom-compile-command "bash scripts/lock.sh" -o requirements.lock "$@"
