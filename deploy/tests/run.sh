#!/usr/bin/env bash
# The deploy suite of `npm test`: the files of deploy/ checked by the programs that read them, then three
# instances behind HAProxy under load while one is reloaded, one restarted and one killed, scraped by
# Prometheus (deploy/tests/test_multi_instance.py prints the figures). Needs what scripts/setup.sh installs:
# .venv with deploy/requirements-test.txt, and Debian's haproxy, nginx, prometheus and systemd.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "no .venv: run 'bash scripts/setup.sh' first" >&2; exit 2; }
exec "$PY" -m pytest deploy/tests -p no:cacheprovider --timeout=170 "$@"
