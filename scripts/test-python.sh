#!/usr/bin/env bash
# Runs the Python runtime's pytest suite with one of the project's virtualenvs (made by scripts/setup.sh):
#   bash scripts/test-python.sh [pytest args]        .venv: the default CPython (`npm run test:py`)
#   bash scripts/test-python.sh --ft [pytest args]   .venv-ft: free-threaded CPython 3.13t with the GIL off
#                                                    (`npm run test:py:ft`): PYTHON_GIL=0, and every server a
#                                                    test starts must report "gil": false (tests/conftest.py)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--ft" ]; then
  shift
  PY=.venv-ft/bin/python
  [ -x "$PY" ] || { echo "no .venv-ft: run 'bash scripts/setup.sh' first" >&2; exit 2; }
  # Packages that would turn the GIL back on are caught here, before a whole suite runs with the GIL.
  check=$(env -u PYTHON_GIL "$PY" scripts/check-gil-off.py 2>&1) || { echo "$check" >&2; exit 2; }
  export PYTHON_GIL=0 SERVER3_EXPECT_GIL=0
  echo "test-python: $("$PY" -VV | head -n 1), PYTHON_GIL=0"
else
  PY=.venv/bin/python
  [ -x "$PY" ] || { echo "no .venv: run 'bash scripts/setup.sh' first" >&2; exit 2; }
fi
exec "$PY" -m pytest server-runtime/python/tests "$@"
