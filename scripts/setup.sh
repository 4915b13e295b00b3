#!/usr/bin/env bash
# Create the virtual environment and install licbench with its test tools.
# Versions come from requirements.lock; torch/torchvision are pinned there and in pyproject.toml and taken
# from local disk; we refuse any other build.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

python=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "setup: Python 3.11 is required (apt-get install python3 python3-venv)" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv "$venv"
    else
      echo "setup: cannot create a virtual environment; install python3-venv" >&2; exit 1
    fi
  fi
fi

# The butteraugli metrics run libjxl's reference tool butteraugli_main (Debian libjxl-devtools); best effort:
# without it those metrics say they are unavailable.
if ! command -v butteraugli_main >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjxl-devtools \
    >/dev/null) || echo "setup: could not install libjxl-devtools; butteraugli will be unavailable" >&2
fi

echo "setup: installing licbench into $venv (first run takes a few minutes: torch is large)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Exactly the versions in requirements.lock (made by scripts/lock.sh from pyproject.toml's ranges), and
# nothing else: --no-deps stops pip from resolving anything itself, so no other torch build can come in;
# `pip check` then proves the locked set is complete and consistent.
if ! { "$venv/bin/python" -m pip install -q --no-deps -r requirements.lock \
       && "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e . \
       && "$venv/bin/python" -m pip check; } >"$log" 2>&1; then
  grep -v "is ignored" "$log" >&2
  echo "setup: pip install failed" >&2
  exit 1
fi
"$venv/bin/python" - <<'PY'
import sys
from importlib.metadata import version
want = {"torch": "2.14.1", "torchvision": "0.29.1"}
got = {name: version(name).split("+")[0] for name in want}
if got != want:
    sys.exit(f"setup: wrong torch build installed {got}, expected {want}")
import compressai, app.main  # noqa: F401  (fails loudly if the install is incomplete)
PY
touch "$venv/.installed"
echo "setup: done"
