#!/usr/bin/env bash
# Runs the Python runtime's pytest suites with the project's virtualenv (made by scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "no .venv: run 'bash scripts/setup.sh' first" >&2; exit 2; }
exec "$PY" -m pytest server-runtime/python/tests "$@"
