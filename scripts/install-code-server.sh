#!/usr/bin/env bash
# Installs code-server (a real VS Code 1.100 server + extension host) into .cache/code-server/ for the host/UI tests
# and the demo. It is NOT a project dependency: it has its own npm prefix, so package.json and node_modules stay as
# they are. Works offline except for the npm registry; safe to run again (seconds when already installed).
#
# Why 4.100.3: the last code-server whose engines.node is 20 (our Node), matching engines.vscode ^1.100.0.
# Three workarounds are needed for its install (see /work/shared/notes/vscode-testing.md):
#   1. the `kerberos` native module needs gssapi headers: apt package libkrb5-dev (scripts/setup.sh installs it);
#   2. @vscode/ripgrep's postinstall downloads rg from GitHub: we pre-fill its download cache with a tarball of the
#      system's /usr/bin/rg (apt package ripgrep), so it never goes online;
#   3. node-pty's build runs `npx node-gyp`: npm_config_yes=true answers npx's prompt (no stdin in CI), and
#      --unsafe-perm lets install scripts run when we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.100.3
PREFIX="$PWD/.cache/code-server"
BIN="$PREFIX/node_modules/.bin/code-server"
# @vscode/ripgrep's cache folder name and asset name for the version code-server 4.100.3 depends on.
RG_CACHE_DIR_NAME=vscode-ripgrep-cache-1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null | head -n1 | cut -d' ' -f1)" = "$VERSION" ]; then
  echo "install-code-server: code-server $VERSION already in $PREFIX"
  exit 0
fi

for tool in rg; do
  command -v "$tool" >/dev/null || {
    echo "install-code-server: '$tool' missing: run scripts/setup.sh (apt package ripgrep)" >&2
    exit 1
  }
done
if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "install-code-server: apt package libkrb5-dev missing: run scripts/setup.sh" >&2
  exit 1
fi

# A private TMPDIR: the ripgrep cache lives there, and nothing of the install lands in the machine's /tmp.
SCRATCH="$PREFIX.tmp"
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH/$RG_CACHE_DIR_NAME" "$PREFIX"
trap 'rm -rf "$SCRATCH"' EXIT
tar -czf "$SCRATCH/$RG_CACHE_DIR_NAME/$RG_ASSET" -C "$(dirname "$(command -v rg)")" rg

# Its own package.json, so npm treats $PREFIX as the project root and never touches the repository's manifest.
[ -f "$PREFIX/package.json" ] || echo '{ "name": "code-server-cache", "private": true }' >"$PREFIX/package.json"

# code-server's native modules (argon2) build with node-gyp, which otherwise downloads Node's headers from
# nodejs.org (not reachable here): use the headers Debian's nodejs installs, unless npm is told otherwise.
if [ -z "${npm_config_nodedir:-}" ] && [ "$(npm config get nodedir 2>/dev/null)" = "undefined" ] &&
  [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr
fi

echo "install-code-server: installing code-server $VERSION into $PREFIX (about a minute)"
started=$(date +%s)
TMPDIR="$SCRATCH" npm_config_yes=true npm install --prefix "$PREFIX" --unsafe-perm --no-audit --no-fund --prefer-offline \
  --no-save --loglevel=error "code-server@$VERSION" </dev/null
"$BIN" --version >/dev/null
echo "install-code-server: done in $(($(date +%s) - started))s: $BIN"
