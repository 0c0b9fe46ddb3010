#!/usr/bin/env bash
# Sets up a fresh machine (Debian/Ubuntu, run as root or with sudo available) for building, running and testing:
# system packages, node_modules, the Python virtualenv, and code-server for the VS Code tests and the demo.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium wrk curl ripgrep libkrb5-dev build-essential python3-venv)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r server-runtime/python/requirements-test.txt \
  -r server-runtime/python/requirements-mutation.txt

if [ -f scripts/install-code-server.sh ]; then bash scripts/install-code-server.sh; fi
echo "setup: done"
