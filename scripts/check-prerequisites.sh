#!/usr/bin/env bash
# What setup.sh needs before it installs anything, checked first with a message that says what to do (instead of
# `npm: command not found` half-way): Node.js 20 with npm, and Python 3.10 or newer.
# Why Node 20 exactly: code-server 4.100.3, the VS Code the host/UI tests and `npm start` run, is built for Node 20
# and its installer refuses other versions (test/README.md, "What the host and UI suites need"). PYTHON (default
# python3) names the interpreter the .venv is made from.
set -uo pipefail

fail() {
  echo "setup: $*" >&2
  exit 1
}

if ! command -v node >/dev/null 2>&1; then
  fail "Node.js 20 is needed and no \`node\` is on PATH. Install Node 20 (for example \`nvm install 20\`, or the" \
    "nodejs package of NodeSource's node_20.x repository), then run \`bash scripts/setup.sh\` again."
fi
node_version=$(node --version 2>/dev/null)
node_major=${node_version#v}
node_major=${node_major%%.*}
if [ "$node_major" != 20 ]; then
  fail "Node.js 20 is needed; this is Node ${node_version:-of an unknown version}. code-server 4.100.3 (the VS Code" \
    "the tests and \`npm start\` run) is built for Node 20 and its installer refuses others. Switch to Node 20" \
    "(for example \`nvm install 20 && nvm use 20\`), then run \`bash scripts/setup.sh\` again."
fi
if ! command -v npm >/dev/null 2>&1; then
  fail "npm is missing (it comes with Node.js 20: reinstall Node 20 with its npm), then run setup again."
fi

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  fail "Python 3.10 or newer is needed and \`$python\` is not on PATH. Install it (\`apt-get install python3" \
    "python3-venv\` on Debian 12 or Ubuntu 22.04 and later), or name one: PYTHON=/path/to/python3.11 bash scripts/setup.sh"
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
  fail "Python 3.10 or newer is needed; \`$python\` is $("$python" --version 2>&1). Install a newer one and name it:" \
    "PYTHON=/path/to/python3.11 bash scripts/setup.sh"
fi
