"""Where does our server spend its time under load? Profiles it while wrk drives one benchmark workload.

    python3 bench/profile_ours.py                         # py-spy (sampling, all threads), hello 64 conns
    python3 bench/profile_ours.py --workload echo64k_c64_p1 --seconds 8
    python3 bench/profile_ours.py --cprofile              # cProfile in every thread (deterministic, slower)
    python3 bench/profile_ours.py --gil                   # py-spy, only samples that hold the GIL
    # perf (C functions) on the free-threaded build, GIL off:
    python3 bench/profile_ours.py --perf --python-gil 0 --workload flask_c64_t4 \
        --python ~/.cache/server3-free-threads/cpython-3.13t/bin/python3.13t

py-spy comes from .cache/bench/tools (bench/requirements-tools.txt; installed on first use). Output: the top
functions per thread (self time) and overall, printed and saved under .cache/bench/profile/.

Every mode also prints where the server's CPU went per thread (accept, read, app-N, close): CPU seconds and
CPU us per request of each, from the server's own metrics (METRICS=on, served on a STATS port) before and
after the load. `--perf` samples the C functions with Linux perf instead of py-spy (the interpreter's own
costs: eval loop, reference counting, allocation, locks; on 3.12+ with perf's trampoline for Python frames),
grouped into those categories, which is how a free-threaded build's extra cost per request shows.
"""

import argparse
import collections
import glob
import json
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import peers
import venvs
import workloads
from server_process import RunningServer, free_port
from wrk_runner import run_wrk

PROFILES = venvs.CACHE / "profile"


class ProfiledOurs(peers.Ours):
    """Ours, launched through bench/peers/profiled_ours.py (a cProfile per thread, dumped at exit)."""

    name = "ours-cprofile"

    def __init__(self, out_dir: Path):
        super().__init__("off")
        self.out_dir = out_dir

    def launch(self, app, port, processes, threads, scratch):
        plain = super().launch(app, port, processes, threads, scratch)
        wrapper = [str(venvs.BENCH / "peers" / "profiled_ours.py"), str(self.out_dir), "--"]
        plain.argv = plain.argv[:1] + wrapper + plain.argv[3:]  # replace "-m Server_3_free_threads"
        return plain


def thread_group(name: str) -> str:
    """'app-3' and 'app-1' are one group: strip trailing digits and separators."""
    return name.rstrip("0123456789").rstrip("-_ ") or name


def report_pyspy(collapsed: Path, top: int) -> str:
    per_thread: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    totals: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        # py-spy raw lines: 'process PID:"cmd";thread (TID): NAME;frame;...;leaf COUNT'
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        thread = thread_group(frames[0].partition("): ")[2] if frames[0].startswith("thread (") else "?")
        leaf = frames[-1]
        per_thread[thread][leaf] += int(count)
        totals[leaf] += int(count)
        for frame in set(frames[1:]):
            inclusive[f"[{thread}] {frame}"] += int(count)
    all_samples = sum(totals.values()) or 1
    lines = [f"py-spy: {all_samples} samples (self time; % of all samples of all threads)"]
    for thread, counter in sorted(per_thread.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(counter.values())
        lines.append(f"\n[{thread}] {n} samples = {100 * n / all_samples:.1f}%")
        for leaf, c in counter.most_common(top):
            lines.append(f"  {100 * c / all_samples:5.1f}%  {leaf}")
    lines.append("\n[all threads] self time")
    for leaf, c in totals.most_common(top):
        lines.append(f"  {100 * c / all_samples:5.1f}%  {leaf}")
    lines.append(
        "\n[all threads] inclusive time (the frame or anything it called), threading frames left out"
    )
    shown = [(f, c) for f, c in inclusive.most_common() if "threading.py" not in f][: top * 2]
    for frame, c in shown:
        lines.append(f"  {100 * c / all_samples:5.1f}%  {frame}")
    return "\n".join(lines)


def report_cprofile(out_dir: Path, top: int) -> str:
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for path in sorted(glob.glob(str(out_dir / "*.pstats"))):
        thread = thread_group(Path(path).stem.split("-", 2)[2])
        groups[thread].append(path)
    lines = []
    for thread, paths in groups.items():
        stats = pstats.Stats(*paths)
        if not stats.total_tt:
            continue
        lines.append(f"\n[{thread}] {len(paths)} thread(s), {stats.total_tt:.2f}s profiled")
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
        for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in rows:
            where = f"{Path(file).name}:{line}({func})"
            lines.append(f"  tot {tottime:6.2f}s  cum {cumtime:6.2f}s  {calls:>9} calls  {where}")
    return "\n".join(lines) or "no cProfile output (did the server exit through atexit?)"


def stats(port: int) -> list[dict]:
    """The server's metrics snapshots from its STATS endpoint (one per worker)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        data = json.loads(response.read())
    return data if isinstance(data, list) else [data]


def report_threads(before: list[dict], after: list[dict], wall_s: float) -> str:
    """CPU per thread over the load, from two snapshots: seconds, % of one core, us per request served."""
    requests = sum(s["totals"]["requests"] for s in after) - sum(s["totals"]["requests"] for s in before)
    cpu_before = {(s["worker"], t["name"]): t["cpuSeconds"] for s in before for t in s["threads"]}
    groups: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter = collections.Counter()
    for snap in after:
        for t in snap["threads"]:
            group = thread_group(t["name"])
            groups[group] += t["cpuSeconds"] - cpu_before.get((snap["worker"], t["name"]), 0.0)
            counts[group] += 1
    total = sum(groups.values())
    lines = [f"CPU per thread over {wall_s:.1f} s, {requests} requests (METRICS=on, from /proc per thread):"]
    for group, cpu in sorted(groups.items(), key=lambda kv: -kv[1]):
        per_req = 1e6 * cpu / requests if requests else 0.0
        lines.append(
            f"  {group:<8} x{counts[group]}  {cpu:6.2f} s  {100 * cpu / wall_s:5.0f}% of a core"
            f"  {per_req:6.1f} us/request"
        )
    per_req = 1e6 * total / requests if requests else 0.0
    lines.append(
        f"  {'all':<8}     {total:6.2f} s  {100 * total / wall_s:5.0f}% of a core  {per_req:6.1f} us/request"
    )
    return "\n".join(lines)


# perf symbols -> what they are: first match wins (names of CPython 3.11-3.13 and mimalloc).
PERF_CATEGORIES = [
    # sched_yield is how CPython 3.13's PyMutex spins on a contended lock: kernel scheduling = waiting threads
    (
        "kernel: sched_yield, context switches",
        ("sched_yield", "finish_task_switch", "__schedule", "_raw_spin_unlock_irqrestore", "schedule"),
    ),
    ("eval loop", ("_PyEval_EvalFrameDefault",)),
    (
        "refcounting",
        (
            "Py_DECREF",
            "Py_INCREF",
            "_Py_DecRef",
            "_Py_IncRef",
            "Refcount",
            "_Py_brc",
            "_Py_Dealloc",
            "_Py_XDECREF",
        ),
    ),
    (
        "locks, critical sections, waits",
        (
            "Mutex",
            "CriticalSection",
            "Semaphore",
            "ParkingLot",
            "_PyRWMutex",
            "futex",
            "pthread_",
            "lock",
            "Lock",
        ),
    ),
    ("allocation", ("mi_", "Malloc", "malloc", "_PyMem", "free", "Free", "alloc")),
    ("garbage collector", ("gc_", "_PyGC", "visit_", "GC_")),
    (
        "dict, attribute and type lookups",
        ("Dict", "dict_", "lookdict", "GetAttr", "_PyType_Lookup", "SetAttr"),
    ),
    ("python frames (perf trampoline)", ("py::",)),
    (
        "libc (syscall wrappers, memcpy)",
        ("__libc", "__memmove", "__memcpy", "__memset", "__GI_", "__send", "__recv"),
    ),
]


def report_perf(data: Path, top: int) -> str:
    done = subprocess.run(
        ["perf", "report", "-i", str(data), "--no-children", "--sort", "symbol", "--stdio", "-g", "none"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    rows = []
    for line in done.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].endswith("%") and parts[1] in ("[.]", "[k]"):
            # the symbol, without perf's trailing IPC columns ("-      -")
            rows.append((float(parts[0][:-1]), parts[2].split("  ")[0].strip()))
    if not rows:
        return f"perf report gave nothing: {done.stderr.strip()[:300]}"
    categories: collections.Counter = collections.Counter()
    for pct, symbol in rows:
        name = next((c for c, keys in PERF_CATEGORIES if any(k in symbol for k in keys)), "other C code")
        categories[name] += pct
    lines = ["perf: self time by kind of C function (% of the server's samples, all threads)"]
    lines += [f"  {pct:5.1f}%  {name}" for name, pct in categories.most_common()]
    waits = [sym for _, sym in rows if any(k in sym for k in PERF_CATEGORIES[0][1])]
    sources = wait_sources(data, waits) if waits else []
    if sources:
        lines.append(
            "\nperf: the Python functions those yields and context switches come from (first Python frame)"
        )
        lines += [f"  {pct:5.1f}%  {frame}" for frame, pct in sources[:top]]
    lines.append(f"\nperf: top {top} C functions (self time)")
    lines += [f"  {pct:5.1f}%  {symbol}" for pct, symbol in sorted(rows, reverse=True)[:top]]
    return "\n".join(lines)


def wait_sources(data: Path, symbols: list[str]) -> list[tuple[str, float]]:
    """For the kernel's scheduling symbols: the nearest Python frame (perf trampoline `py::` names, 3.12+) of
    each call chain, summed: which lines of ours wait on a contended lock or yield."""
    done = subprocess.run(
        ["perf", "report", "-i", str(data), "--no-children", "--sort", "symbol", "--stdio", "-G"]
        + ["-S", ",".join(symbols)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    found: collections.Counter = collections.Counter()
    for line in done.stdout.splitlines():
        at = line.find("%--py::")
        if at > 0:
            pct = float(line[:at].rpartition("--")[2])
            found[line[at + 3 :].strip().replace(str(venvs.REPO) + "/", "")] += pct
    return found.most_common()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="hello_ka_c64_p1", help="a workload key from bench/workloads.py")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--cprofile", action="store_true", help="use cProfile in every thread instead of py-spy")
    p.add_argument("--gil", action="store_true", help="py-spy: only samples of the thread holding the GIL")
    p.add_argument("--perf", action="store_true", help="Linux perf (C functions) instead of py-spy")
    p.add_argument(
        "--cpu-only", action="store_true", help="no profiler: only the CPU per thread (no overhead)"
    )
    p.add_argument("--python", help="interpreter to run our server on (its venv is made from it)")
    p.add_argument("--python-gil", choices=("0", "1"), help="PYTHON_GIL for a free-threaded interpreter")
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args(argv)
    w = next(x for x in workloads.FULL + workloads.GIL_COMPARE if x.key == args.workload)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    tool = "cprofile" if args.cprofile else "perf" if args.perf else "cpu" if args.cpu_only else "pyspy"
    out_dir = PROFILES / f"{w.key}-{tool}-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    stats_port = free_port()
    # METRICS=on and a STATS port for the CPU split per thread; PYTHONPERFSUPPORT names Python frames for
    # perf on 3.12+ (an unknown variable elsewhere).
    extra = {
        "config": f"STATS=127.0.0.1:{stats_port}\n",
        "env": {"PYTHONPERFSUPPORT": "1"} if args.perf else {},
    }
    if args.cprofile:
        server = ProfiledOurs(out_dir)
        server.config = extra["config"]
    else:
        server = peers.Ours("on", python=args.python, gil=args.python_gil, **extra)
    if not venvs.ensure_venv("ours", python=args.python)[0]:
        print("the venv of our server could not be made", file=sys.stderr)
        return 1
    if not (args.cprofile or args.perf or args.cpu_only) and not venvs.ensure_venv("tools")[0]:
        print("py-spy could not be installed; use --cprofile or --perf", file=sys.stderr)
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    with RunningServer(server, peers.APPS[w.app], w.processes, w.threads, scratch, out_dir) as run:
        why = run.start()
        if why:
            print(f"ours did not start: {why}", file=sys.stderr)
            return 1
        run_wrk(w.load, run.port, 1)  # warm-up
        result: dict = {}
        before, started = stats(stats_port), time.monotonic()
        load = threading.Thread(target=lambda: result.update(run_wrk(w.load, run.port, args.seconds)))
        load.start()
        if args.perf:
            # DWARF call graphs: CPython is built without frame pointers, so -g alone loses the callers.
            cmd = ["perf", "record", "-F", "299", "--call-graph", "dwarf,16384", "-p", str(run.pid)]
            cmd += ["-o", str(out_dir / "perf.data")]
            cmd += ["--", "sleep", str(max(1, int(args.seconds) - 1))]
            subprocess.run(cmd, capture_output=True, timeout=args.seconds + 60, stdin=subprocess.DEVNULL)
        elif not (args.cprofile or args.cpu_only):
            collapsed = out_dir / "pyspy.collapsed"
            cmd = [str(venvs.venv_dir("tools") / "bin" / "py-spy"), "record", "--pid", str(run.pid)]
            cmd += ["--duration", str(max(1, int(args.seconds) - 1)), "--rate", "200", "--threads"]
            cmd += ["--subprocesses", "--format", "raw", "-o", str(collapsed)] + (
                ["--gil"] if args.gil else []
            )
            subprocess.run(cmd, capture_output=True, timeout=args.seconds + 30, stdin=subprocess.DEVNULL)
        load.join()
        threads_text = report_threads(before, stats(stats_port), time.monotonic() - started)
        run.stop(grace_s=20)  # graceful: the cProfile wrapper dumps its stats at exit
    where = f"{args.python or sys.executable}" + (f" PYTHON_GIL={args.python_gil}" if args.python_gil else "")
    print(
        f"{w.title} on {where}: {result.get('rps', 0):.0f} req/s"
        f"{'' if args.cpu_only else ' under the profiler'},"
        f" p99 {result.get('p99_us', 0) / 1000} ms"
    )
    if args.cpu_only:
        text = "(--cpu-only: no profiler ran)"
    elif args.cprofile:
        text = report_cprofile(out_dir, args.top)
    elif args.perf:
        text = report_perf(out_dir / "perf.data", args.top)
    else:
        text = report_pyspy(out_dir / "pyspy.collapsed", args.top)
    text = threads_text + "\n\n" + text
    (out_dir / "report.txt").write_text(text + "\n")
    print(text)
    print(f"\nsaved in {out_dir.relative_to(venvs.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
