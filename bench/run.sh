#!/usr/bin/env bash
# `npm run bench`: ours vs gunicorn, waitress, cheroot, uWSGI, Granian, bjoern and nginx on loopback.
# `npm run bench -- --quick`: the CI smoke run; `npm run bench -- --soak`: the 10-minute memory soak.
# All options: python3 bench/bench.py --help
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  echo "bench: wrk is not installed (apt-get install wrk, or bash scripts/setup.sh)" >&2
  exit 1
fi

# The full run also needs Debian's nginx (the ceiling), libev-dev (bjoern) and gcc (uWSGI). Install what is
# missing when we can (root with apt-get); otherwise those peers are skipped with the reason in the table.
# The quick mode installs nothing from Debian: it uses nginx only if it is already there. Nor do --soak and
# --metrics, which run only our server (and at most waitress, from its venv), nor --gil-compare (pure-Python
# servers only).
needs_debian=true
for arg in "$@"; do
  case "$arg" in --quick | --soak | --metrics | --gil-compare) needs_debian=false ;; esac
done
if [ "$needs_debian" = true ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for p in nginx libev-dev build-essential; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq || true
    timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      echo "bench: could not install ${missing[*]}: the peers that need them are skipped" >&2
  fi
fi
exec python3 bench/bench.py "$@"
