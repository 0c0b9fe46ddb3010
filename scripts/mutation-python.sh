#!/usr/bin/env bash
# Mutation testing of the Python runtime (scripts/mutation-python.py says how): `npm run mutation:py` runs every
# mutant (hours), `npm run mutation:py:gate` / `--gate` the CI sample (~5 min). Extra arguments are passed on
# (--modules parser,metrics, --report FILE, --budget SECONDS, --list ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "no .venv: run 'bash scripts/setup.sh' first" >&2; exit 2; }
"$PY" -c "import cosmic_ray" 2>/dev/null || {
  echo "cosmic-ray is not in .venv: run 'bash scripts/setup.sh' (requirements-mutation.txt)" >&2
  exit 2
}
exec "$PY" scripts/mutation-python.py "$@"
