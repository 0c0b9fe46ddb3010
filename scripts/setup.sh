#!/usr/bin/env bash
# Sets up a fresh machine (Debian/Ubuntu, run as root or with sudo available) for building, running and testing:
# system packages, node_modules, the Python virtualenvs (.venv on the default python3, .venv-ft on a free-threaded
# CPython 3.13t built from source once per machine), and code-server for the VS Code tests and the demo.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node 20 with npm and Python 3.10+, checked before anything is installed (a clear message, not a failure later).
bash scripts/check-prerequisites.sh

# haproxy, nginx, prometheus, systemd: the deploy suite runs Debian's own programs against deploy/ (each
# started by the test on loopback ports, never as a system service: see below).
APT_PACKAGES=(chromium wrk curl ripgrep libkrb5-dev build-essential python3-venv haproxy nginx prometheus systemd)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Installing nginx, haproxy or prometheus starts them as services (nginx on port 80, Prometheus on 9090):
  # a policy-rc.d that refuses keeps them stopped while they install (Debian's own mechanism), unless the
  # machine already has one. The tests run the programs themselves.
  policy_added=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
  fi
  status=0
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    status=$?
  if [ -n "$policy_added" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  [ "$status" = 0 ] || exit "$status"
fi

# The free-threaded CPython (scripts/setup-free-threaded-python.sh: ~7 min of CPU on a fresh machine, a second
# when cached) builds in the background while npm, pip and code-server install. Started after the apt step
# above because it may run apt-get itself (its build dependencies), and two apt-gets cannot hold dpkg's lock.
mkdir -p .cache
FT_LOG=.cache/setup-free-threaded-python.log
# In its own session (setsid: its PID is the group id), so a failing later step stops the whole build, make too.
setsid bash scripts/setup-free-threaded-python.sh >"$FT_LOG" 2>&1 </dev/null &
FT_PID=$!
trap 'kill -- "-$FT_PID" 2>/dev/null || true' EXIT

bash scripts/npm-ci-if-needed.sh

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r server-runtime/python/requirements-test.txt \
  -r server-runtime/python/requirements-lint.txt -r server-runtime/python/requirements-mutation.txt \
  -r deploy/requirements-test.txt

if [ -f scripts/install-code-server.sh ]; then bash scripts/install-code-server.sh; fi

# .venv-ft: the same test packages on CPython 3.13t, for `npm run test:py:ft` and `bench.py --gil-compare`.
if ! wait "$FT_PID"; then
  trap - EXIT
  echo "setup: FAILED to build the free-threaded CPython 3.13t (scripts/setup-free-threaded-python.sh):" >&2
  tail -n 30 "$FT_LOG" >&2
  echo "setup: full log in $FT_LOG" >&2
  exit 1
fi
trap - EXIT
PYTHON_FT=$(tail -n 1 "$FT_LOG") # the script prints the interpreter's path last
if [ ! -x .venv-ft/bin/python ] || [ "$(readlink -f .venv-ft/bin/python)" != "$(readlink -f "$PYTHON_FT")" ]; then
  echo "setup: creating .venv-ft with $("$PYTHON_FT" -VV)"
  "$PYTHON_FT" -m venv --clear .venv-ft
fi
.venv-ft/bin/python -m pip install -q --disable-pip-version-check -r server-runtime/python/requirements-test.txt
# A package whose C extension does not support free-threading turns the GIL back on when imported (a
# RuntimeWarning, then sys._is_gil_enabled() is True): the "GIL off" tests and numbers would be a lie. Refuse.
if ! check=$(env -u PYTHON_GIL .venv-ft/bin/python scripts/check-gil-off.py 2>&1); then
  echo "setup: FAILED: .venv-ft does not keep the GIL off:" >&2
  echo "$check" >&2
  exit 1
fi
echo "setup: done"
