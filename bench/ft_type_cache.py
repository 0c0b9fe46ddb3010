#!/usr/bin/env python3
"""How often does a Flask request miss CPython's type attribute cache and take the interpreter's type lock?

    python3 bench/ft_type_cache.py             # .venv-ft (the free-threaded build of scripts/setup.sh)
    python3 bench/ft_type_cache.py --python VENV/bin/python --requests 5000   # any interpreter with Flask

Why it matters on the free-threaded build (3.13t): looking up an attribute on a type (a method, a property, a
slot of `self.x = ...`) first tries a global cache of 4,096 slots indexed by (type version ^ name address). A
miss takes the interpreter's one type lock and walks the MRO, and `super().name` always takes that lock. One
thread pays a few microseconds for it; app threads running Flask at once queue on that lock (PyMutex spins in
sched_yield), which is where a Flask request through our server loses CPU at 2 and 4 app threads with the GIL
off (bench/README.md, "Where the Flask target is lost").

It counts calls of `find_name_in_mro` (the miss path) and `_super_lookup_descr` with Linux uprobes (`perf
probe`; needs root and an interpreter with debug info, as the one scripts/setup.sh builds) while
bench/app_alone.py calls the Flask app in 1 and then 2 threads, and prints them per request, with the
(type, attribute) pairs missed on most requests: pairs that miss once per request evict each other from one
slot. The probes are removed at the end.
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DEFAULT_PYTHON = BENCH.parent / ".venv-ft" / "bin" / "python"  # scripts/setup.sh: 3.13t with Flask
GROUP = "server3_types"  # perf event names: "miss" would parse as a cache-event keyword
WARMUP = 2000  # app_alone.py's warm-up calls per thread


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)


def add_probes(binary: str, python: str) -> str:
    """Adds the two uprobes; returns "" or why they could not be added."""
    args = ""
    if platform.machine() == "x86_64":
        # The attribute name: the second argument (rsi on entry), a compact ASCII str whose characters follow
        # its header; sys.getsizeof("") is that header plus the terminating NUL.
        header = int(run([python, "-c", "import sys; print(sys.getsizeof('') - 1)"]).stdout.strip())
        args = f" type->tp_name:string name=+{header}(%si):string"
    for spec in (f"{GROUP}:mro_walk=find_name_in_mro{args}", f"{GROUP}:super_lookup=_super_lookup_descr"):
        done = run(["perf", "probe", "-q", "-x", binary, "-a", spec])
        if done.returncode != 0:
            return f"perf probe {spec!r} failed: {(done.stderr or done.stdout).strip()[:300]}"
    return ""


def count(python: str, threads: int, requests: int, scratch: Path) -> dict:
    data = scratch / f"t{threads}.data"
    argv = [
        "perf",
        "record",
        "-q",
        "-e",
        f"{GROUP}:mro_walk",
        "-e",
        f"{GROUP}:super_lookup",
        "-o",
        str(data),
        "--",
    ]
    argv += [python, str(BENCH / "app_alone.py"), "--threads", str(threads), "--requests", str(requests)]
    done = run(argv, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"perf record failed: {(done.stderr or done.stdout).strip()[:300]}")
    timing = next((line for line in done.stdout.splitlines() if "us of CPU" in line), "")
    script = run(["perf", "script", "-i", str(data), "-F", "pid,tid,event,trace"], timeout=300).stdout
    events: collections.Counter = collections.Counter()
    pairs: collections.Counter = collections.Counter()
    for line in script.splitlines():
        fields = line.split()
        if len(fields) < 3 or "/" not in fields[0] or fields[0].split("/")[0] == fields[0].split("/")[1]:
            continue  # the main thread: imports, not requests
        kind = "super" if f"{GROUP}:super_lookup" in line else "miss"
        events[kind] += 1
        if kind == "miss":
            match = re.search(r'tp_name="([^"]*)" name="([^"]*)"', line)
            if match:
                pairs[match.groups()] += 1
    calls = threads * (requests + WARMUP)
    return {"timing": timing, "calls": calls, "events": events, "pairs": pairs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--python", default=str(DEFAULT_PYTHON), help="the interpreter to measure (with Flask)")
    p.add_argument("--requests", type=int, default=10000, help="per thread, after the warm-up")
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args(argv)
    if not shutil.which("perf"):
        print("perf is not installed (Debian: linux-perf)", file=sys.stderr)
        return 2
    if not Path(args.python).exists():
        print(f"{args.python} not found: run scripts/setup.sh, or pass --python", file=sys.stderr)
        return 2
    binary = os.path.realpath(args.python)
    run(["perf", "probe", "-q", "-d", f"{GROUP}:*"])  # left over from an interrupted run
    why = add_probes(binary, args.python)
    if why:
        print(f"cannot probe {binary}: {why}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="ft-type-cache-") as scratch:
            results = {n: count(args.python, n, args.requests, Path(scratch)) for n in (1, 2)}
    finally:
        run(["perf", "probe", "-q", "-d", f"{GROUP}:*"])
    print(f"Flask app alone (bench/app_alone.py) on {binary}, PYTHON_GIL={os.environ.get('PYTHON_GIL', '-')}")
    for threads, r in results.items():
        per = {k: r["events"][k] / r["calls"] for k in ("miss", "super")}
        print(f"\n{threads} thread(s): {r['timing']}")
        print(f"  type cache misses (type lock + MRO walk): {per['miss']:.1f} per request")
        print(f"  super() lookups (type lock):              {per['super']:.1f} per request")
        frequent = [(pair, n / r["calls"]) for pair, n in r["pairs"].most_common(args.top)]
        print("  missed on most requests (type, attribute): per request")
        for (type_name, name), rate in frequent:
            if rate >= 0.05:
                print(f"    {type_name}.{name}: {rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
