#!/usr/bin/env bash
# Dead code and unused dependencies, a step of `npm run lint`:
# - knip (knip.json): TypeScript files, exports and package.json dependencies nothing uses, from the bundles'
#   entry points, the scripts and the tests;
# - vulture: Python functions, methods, variables and parameters nothing uses, in the runtime, its tests and
#   the benchmark. Names only the stdlib, a framework or an app calls are listed, with the reason, in
#   server-runtime/python/vulture_allowlist.py (the intended exceptions).
set -euo pipefail
cd "$(dirname "$0")/.."
npx knip --no-progress
.venv/bin/python -m vulture --min-confidence 60 \
  --exclude server-runtime/python/tests/apps,bench/apps,bench/results \
  server-runtime/python/Server_3_free_threads server-runtime/python/tests bench \
  server-runtime/python/vulture_allowlist.py
