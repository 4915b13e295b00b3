#!/usr/bin/env bash
# Install the real servers and browser the tests use, run ruff and mypy, then the whole suite.
# PostgreSQL and Redis are started (and stopped) by the test fixtures in tests/servers.py.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v butteraugli_main >/dev/null 2>&1 || need+=(libjxl-devtools)  # butteraugli metrics
if [ ${#need[@]} -gt 0 ]; then
  echo "test: installing ${need[*]} with apt-get"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The whole suite (no pytest arguments) starts with the linters; `make lint` runs them alone.
if [ $# -le 1 ]; then
  bash scripts/lint.sh "$venv"
fi

# The 25 slowest tests close the report of a whole-suite run (where the time budget goes).
durations=(); [ $# -le 1 ] && durations=(--durations=25)
exec "$venv/bin/python" -m pytest -p no:cacheprovider "${durations[@]}" "${@:2}"
