#!/usr/bin/env bash
# Builds a free-threaded CPython 3.13 (python3.13t, --disable-gil) from Debian's source package, once per machine,
# and caches it outside the clone so later clones and CI runs on the same machine reuse it.
#
# No free-threaded interpreter installs ready-made here (pyenv, Debian binaries, PyPI and npm have none), but
# Debian's source package of CPython 3.13 fetches with apt and builds in 10-15 minutes on 2 cores.
# See ../shared/notes/free-threaded-python.md for what was measured with this recipe.
#
# Prints the interpreter's path on its last line. Quiet and quick when the cache is already there.
#   SERVER3_FT_CACHE   where to cache (default: ${XDG_CACHE_HOME:-~/.cache}/server3-free-threads)
set -euo pipefail

CACHE=${SERVER3_FT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/server3-free-threads}
PREFIX="$CACHE/cpython-3.13t"
PYTHON_FT="$PREFIX/bin/python3.13t"

log() { echo "setup: $*" >&2; }

gil_check() {
  # A build whose GIL is on would make every "GIL off" test meaningless: refuse it instead of accepting it.
  "$PYTHON_FT" -c 'import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1, "not a free-threaded build"
assert not sys._is_gil_enabled(), "the GIL is enabled"' 2>/dev/null
}

if [ -x "$PYTHON_FT" ] && gil_check; then
  echo "$PYTHON_FT"
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time per machine: a second setup waits for the first instead of building twice.
exec 9>"$CACHE/.build.lock"
flock 9
if [ -x "$PYTHON_FT" ] && gil_check; then
  echo "$PYTHON_FT"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# CPython's build dependencies (most are on the image already; dpkg-dev gives apt-get source its unpacker).
BUILD_DEPS=(gcc make pkg-config dpkg-dev xz-utils libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev
  libsqlite3-dev libreadline-dev libncurses-dev uuid-dev)
missing=()
for p in "${BUILD_DEPS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done

# A deb-src line for Debian 13 (trixie), source only: no binary package of trixie can reach this system.
# It copies the URIs and Signed-By of the machine's own Debian source list and changes only Types and Suites.
SRC_LIST=/etc/apt/sources.list.d/server3-trixie-src.sources
need_update=0
if [ ! -f "$SRC_LIST" ]; then
  base=/etc/apt/sources.list.d/debian.sources
  if [ ! -f "$base" ]; then
    log "cannot find $base to derive a Debian source line from; add a deb-src line for trixie by hand"
    exit 1
  fi
  sed -e 's/^Types:.*/Types: deb-src/' -e 's/^Suites:.*/Suites: trixie/' "$base" |
    awk 'BEGIN{RS="";ORS="\n\n"} NR==1' | $SUDO tee "$SRC_LIST" >/dev/null
  need_update=1
fi
if [ ${#missing[@]} -gt 0 ] || [ $need_update = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing CPython build dependencies: ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building free-threaded CPython 3.13 into $PREFIX (once per machine, about 10-15 minutes on 2 cores)"
(
  cd "$WORK"
  apt-get source --download-only -qq python3.13 >/dev/null 2>&1 || {
    log "apt-get source python3.13 failed (is Debian's source archive reachable?)"
    exit 1
  }
  tar xf python3.13_*.orig.tar.xz
  cd Python-3.13.*
  # Installed into a staging folder and moved in place at the end: an interrupted build leaves no half interpreter.
  ./configure --disable-gil --prefix="$PREFIX" --with-ensurepip=install >"$WORK/configure.log" 2>&1 ||
    { tail -30 "$WORK/configure.log" >&2; exit 1; }
  make -j"$(nproc)" >"$WORK/make.log" 2>&1 || { tail -40 "$WORK/make.log" >&2; exit 1; }
  make install DESTDIR="$WORK/stage" >"$WORK/install.log" 2>&1 || { tail -40 "$WORK/install.log" >&2; exit 1; }
  rm -rf "$PREFIX"
  mv "$WORK/stage$PREFIX" "$PREFIX"
)
if ! gil_check; then
  log "the built interpreter is not free-threaded: $("$PYTHON_FT" -VV 2>&1)"
  exit 1
fi
log "built $("$PYTHON_FT" -VV)"
echo "$PYTHON_FT"
