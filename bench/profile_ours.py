"""Where does our server spend its time under load? Profiles it while wrk drives one benchmark workload.

    python3 bench/profile_ours.py                         # py-spy (sampling, all threads), hello 64 conns
    python3 bench/profile_ours.py --workload echo64k_c64_p1 --seconds 8
    python3 bench/profile_ours.py --cprofile              # cProfile in every thread (deterministic, slower)
    python3 bench/profile_ours.py --gil                   # py-spy, only samples that hold the GIL

py-spy comes from .cache/bench/tools (bench/requirements-tools.txt; installed on first use). Output: the top
functions per thread (self time) and overall, printed and saved under .cache/bench/profile/.
"""

import argparse
import collections
import glob
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
from server_process import RunningServer
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="hello_ka_c64_p1", help="a workload key from bench/workloads.py")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--cprofile", action="store_true", help="use cProfile in every thread instead of py-spy")
    p.add_argument("--gil", action="store_true", help="py-spy: only samples of the thread holding the GIL")
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args(argv)
    w = next(x for x in workloads.FULL if x.key == args.workload)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_dir = PROFILES / f"{w.key}-{'cprofile' if args.cprofile else 'pyspy'}-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    server = ProfiledOurs(out_dir) if args.cprofile else peers.Ours("off")
    if not args.cprofile and not venvs.ensure_venv("tools")[0]:
        print("py-spy could not be installed; use --cprofile", file=sys.stderr)
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    with RunningServer(server, peers.APPS[w.app], w.processes, w.threads, scratch, out_dir) as run:
        why = run.start()
        if why:
            print(f"ours did not start: {why}", file=sys.stderr)
            return 1
        run_wrk(w.load, run.port, 1)  # warm-up
        result: dict = {}
        load = threading.Thread(target=lambda: result.update(run_wrk(w.load, run.port, args.seconds)))
        load.start()
        if not args.cprofile:
            collapsed = out_dir / "pyspy.collapsed"
            cmd = [str(venvs.venv_dir("tools") / "bin" / "py-spy"), "record", "--pid", str(run.pid)]
            cmd += ["--duration", str(max(1, int(args.seconds) - 1)), "--rate", "200", "--threads"]
            cmd += ["--subprocesses", "--format", "raw", "-o", str(collapsed)] + (
                ["--gil"] if args.gil else []
            )
            subprocess.run(cmd, capture_output=True, timeout=args.seconds + 30, stdin=subprocess.DEVNULL)
        load.join()
        run.stop(grace_s=20)  # graceful: the cProfile wrapper dumps its stats at exit
    print(
        f"{w.title}: {result.get('rps', 0):.0f} req/s under the profiler,"
        f" p99 {result.get('p99_us', 0) / 1000} ms"
    )
    text = (
        report_cprofile(out_dir, args.top)
        if args.cprofile
        else report_pyspy(out_dir / "pyspy.collapsed", args.top)
    )
    (out_dir / "report.txt").write_text(text + "\n")
    print(text)
    print(f"\nsaved in {out_dir.relative_to(venvs.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
