#!/usr/bin/env bash
# `npm run bench`: ours vs gunicorn, waitress, cheroot, uWSGI, Granian, bjoern and nginx on loopback.
# `npm run bench -- --quick`: the CI smoke run. All options: python3 bench/bench.py --help
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  echo "bench: wrk is not installed (apt-get install wrk, or bash scripts/setup.sh)" >&2
  exit 1
fi
exec python3 bench/bench.py "$@"
