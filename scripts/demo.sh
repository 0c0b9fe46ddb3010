#!/usr/bin/env bash
# `npm start`: the demo. Builds and packages the extension, then runs code-server on 127.0.0.1 with the packaged
# extension installed and examples/hello open (Workspace Trust off in its scratch profile, so Start just works),
# prints the URL, and runs until Ctrl+C or SIGTERM, then kills everything it started. Needs no TTY.
# Run `bash scripts/setup.sh` once on a fresh machine first (apt packages, node_modules, .venv, code-server).
# Env: DEMO_PORT (default 8080), DEMO_FOLDER (default examples/hello).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-code-server.sh # seconds when already installed
echo "demo: building and packaging the extension (npm run package)"
build_log=$(mktemp)
if ! npm run package >"$build_log" 2>&1; then
  cat "$build_log" >&2
  rm -f "$build_log"
  echo "demo: npm run package failed (see above)" >&2
  exit 1
fi
rm -f "$build_log"
# exec: the Node launcher receives Ctrl+C/SIGTERM itself and kills code-server's process group before exiting.
exec node out/test/harness/demo.js
