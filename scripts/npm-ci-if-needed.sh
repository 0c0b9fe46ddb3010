#!/usr/bin/env bash
# `npm ci`, skipped when node_modules already holds what package-lock.json says: it deletes and reinstalls all
# of node_modules (~1 minute here), and setup.sh runs before every `npm start` and `npm test`. The stamp is the
# lockfile's hash with the Node version (native modules are built for one), written only after npm ci succeeds.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.server3-installed
want="$(sha256sum package-lock.json | cut -d' ' -f1) node $(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: node_modules matches package-lock.json (npm ci skipped)"
  exit 0
fi
echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
