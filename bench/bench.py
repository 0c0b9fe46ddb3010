"""The benchmark driver: ours vs the WSGI servers users would pick instead, in one run on this machine.

    python3 bench/bench.py            # full run (`npm run bench`), < 20 min
    python3 bench/bench.py --quick    # CI smoke: correctness + 1 s loads, < 90 s, no timing assertions
    python3 bench/bench.py --soak     # only the soak: ours at 64 connections for 10 min, RSS sampled
    python3 bench/bench.py --metrics  # only ours METRICS=on vs off (CPU per request and req/s)
    python3 bench/bench.py --gil-compare   # free-threaded 3.13t: GIL on vs off, vs 3.11, vs peers on 3.13t
    python3 bench/bench.py --python PATH   # any mode with ours and the peers on another interpreter

Order: group-major (for each server start configuration, every server in turn), so every server is measured
on one workload within the same few minutes and drifting machine load hurts all of them alike.
Loopback only; every wrk run, server start and stop is bounded in time; every server runs in its own process
group and is killed with it.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import checks
import metrics_on_off
import peers
import report
import soak
import targets
import venvs
import workloads
from held_connections import held_connections
from measure import measure
from proc_tree import tree_pids, tree_rss_bytes
from server_process import RunningServer, http_get_ok

RESULTS = venvs.BENCH / "results"
QUICK_VENVS = ["ours", "waitress"]  # the quick mode installs these itself; other peers only if already cached
# The free-threaded CPython that scripts/setup-free-threaded-python.sh builds (and prints the path of).
FT_SETUP = venvs.REPO / "scripts" / "setup-free-threaded-python.sh"
FT_CACHED = (
    Path(
        os.environ.get("SERVER3_FT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "server3-free-threads"
    )
    / "cpython-3.13t"
    / "bin"
    / "python3.13t"
)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke run: each installed server once, 1 s loads")
    p.add_argument("--servers", help="comma-separated server names to run (default: all)")
    p.add_argument("--workloads", help="comma-separated workload keys to run (default: all of the mode)")
    p.add_argument("--seconds", type=float, help="seconds per wrk repetition (full: 3, quick: 1)")
    p.add_argument("--reps", type=int, help="repetitions per workload (full: 3, quick: 1)")
    p.add_argument("--warmup", type=float, help="warm-up seconds before the repetitions (full: 1, quick: 0)")
    p.add_argument("--budget", type=float, help="stop starting new measurements after this many seconds")
    p.add_argument("--no-install", action="store_true", help="use only venvs already in .cache/bench/")
    p.add_argument("--no-metrics-check", action="store_true", help="skip the METRICS=on vs off comparison")
    p.add_argument("--metrics", action="store_true", help="run only the METRICS=on vs off comparison")
    p.add_argument("--metrics-pairs", type=int, default=5, help="off/on pairs of wrk runs (default 5)")
    p.add_argument(
        "--soak", action="store_true", help="run only the soak (ours; --servers ours,waitress adds waitress)"
    )
    p.add_argument("--soak-minutes", type=float, default=10.0, help="soak length in minutes (default 10)")
    p.add_argument(
        "--python",
        help="interpreter for ours and the peers (their venvs are made from it, apart from the default ones);"
        " with --gil-compare: the free-threaded build to compare (default: the one scripts/setup.sh builds)",
    )
    p.add_argument(
        "--gil-compare",
        action="store_true",
        help="only the GIL comparison: ours on free-threaded CPython with PYTHON_GIL=1 vs 0 and on the"
        " default CPython, and the pure-Python peers on the free-threaded build, at 1/2/4 app threads",
    )
    args = p.parse_args(argv)
    quick = args.quick
    args.seconds = args.seconds or (1.0 if quick else 3.0)
    args.reps = args.reps or (1 if quick else 3)
    args.warmup = args.warmup if args.warmup is not None else (0.0 if quick else 1.0)
    # Past the budget no new server start begins (the one running finishes): full runs end before 20 min.
    args.budget = args.budget or (75.0 if quick else 18 * 60.0)
    return args


def machine_info() -> dict:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return {
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
    }


def install(wanted: list[tuple[str, str | None]], allow: bool) -> dict[tuple, str]:
    """Ensures venvs, each (name, interpreter or None for the default); returns {(name, interpreter): why it
    is unavailable} for the ones that could not be had."""
    missing = [(n, py) for n, py in wanted if not venvs.is_ready(n, py)]
    problems = {}
    if missing and allow:
        where = ", ".join(str(venvs.venv_dir(n, py).relative_to(venvs.REPO)) for n, py in missing)
        print(f"bench: installing peers into {where} (uWSGI compiles: minutes)")
        with ThreadPoolExecutor(max_workers=3) as pool:
            done = pool.map(lambda v: venvs.ensure_venv(v[0], python=v[1]), missing)
            for key, (ok, why) in zip(missing, done, strict=True):
                if not ok:
                    problems[key] = why
    return problems


def free_threaded_python(args, build: bool) -> str | None:
    """The free-threaded interpreter: --python, else the cached build of scripts/setup-free-threaded-python.sh
    (built by it when `build`, which takes minutes the first time on a machine), else None."""
    if args.python:
        return args.python
    if FT_CACHED.is_file():
        return str(FT_CACHED)
    if not build:
        return None
    print(
        "bench: building the free-threaded CPython (scripts/setup-free-threaded-python.sh, once per machine)"
    )
    done = subprocess.run(["bash", str(FT_SETUP)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return lines[-1]


def gil_problem(server) -> str:
    """On a free-threaded interpreter, a server that would run with the GIL turned back on by an import (and
    not on purpose, like ours-gil-on) must not be measured as a GIL-off server."""
    python = venvs.python_for(server.python)
    if not venvs.python_info(python)["free_threaded"] or getattr(server, "gil", None) == "1":
        return ""
    path = str(peers.RUNTIME_DIR) if isinstance(server, peers.Ours) else ""
    why = venvs.gil_turned_on(server.venv, list(server.imports), server.python, path)
    return f"the GIL turns back on in its venv: {why}" if why else ""


class Bench:
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.results: list[dict] = []
        self.servers: dict[str, dict] = {}
        self.scratch = Path(tempfile.mkdtemp(prefix="bench-"))
        self.log_dir = venvs.CACHE / "logs"
        self.soak_results: list[dict] = []

    @property
    def dirs(self) -> tuple[Path, Path]:
        """Where servers put their scratch files and logs."""
        return self.scratch, self.log_dir

    def ours_soak(self) -> dict | None:
        return next((s for s in self.soak_results if s["server"] == "ours"), None)

    def compare_metrics(self) -> dict:
        pairs = max(self.args.metrics_pairs, 1)
        return metrics_on_off.compare_metrics(pairs, self.args.seconds, self.args.warmup, *self.dirs)

    def over_budget(self) -> bool:
        return time.monotonic() - self.started > self.args.budget

    def record(self, workload, server, status, reason="", measured=None):
        entry = {"workload": workload.key, "server": server.name, "status": status, "reason": reason}
        if measured:
            entry.update(measured)
        self.results.append(entry)

    def probe(self, server, running: RunningServer):
        """First start of a server: idle memory after one request, then held connections."""
        http_get_ok(running.port)
        time.sleep(0.5)
        info = self.servers[server.name]
        info["idle_rss_bytes"] = tree_rss_bytes(running.pid)
        info["idle_processes"] = len(tree_pids(running.pid))
        # Servers with a thread per connection never answer most of them: 5 s is plenty for those that do.
        info["held"] = held_connections(running.port, 256, deadline_s=5.0)

    def run_checks(self, server, app: str, running: RunningServer):
        info = self.servers[server.name]
        done_apps = info.setdefault("checked_apps", [])
        if app in done_apps:
            return
        done_apps.append(app)
        for check in checks.checks_for(app, server.is_ceiling):
            name, ok, detail = check(running.port)
            info.setdefault("checks", []).append({"name": f"{app}: {name}", "ok": ok, "detail": detail})
            if not ok:
                print(f"  CHECK FAILED {server.name} {app}: {name}: {detail}")

    def run_group(self, group, group_workloads, servers):
        app, processes, threads = group
        for server in servers:
            info = self.servers[server.name]
            skip = info["reason"] if info["status"] != "ok" else server.supports(app, processes)
            if not skip and self.over_budget():
                skip = "time budget used up"
            if skip:
                for w in group_workloads:
                    self.record(w, server, "skipped", skip)
                continue
            runnable = []
            for w in group_workloads:
                why = server.supports_workload(w.load.path, w.load.script)
                if why:
                    self.record(w, server, "skipped", why)
                else:
                    runnable.append(w)
            if not runnable:
                continue
            print(f"bench: {server.name}: {app} app, {processes} proc, {threads} threads", flush=True)
            with RunningServer(
                server, peers.APPS[app], processes, threads, self.scratch, self.log_dir
            ) as run:
                why = run.start()
                if why:
                    print(f"  {server.name} failed to start: {why}")
                    for w in runnable:
                        self.record(w, server, "failed", f"start: {why}")
                    info.setdefault("start_failures", []).append(why)
                    continue
                if "idle_rss_bytes" not in info and app == "hello" and processes == 1:
                    self.probe(server, run)
                self.check_gil(server, app, run)
                self.run_checks(server, app, run)
                for i, w in enumerate(runnable):
                    # Warm up once per start (lazy imports, thread pools); later loads follow a warm one.
                    warmup = self.args.warmup if i == 0 else 0
                    m = measure(run.pid, run.port, w, self.args.seconds, self.args.reps, warmup)
                    s = m["summary"]
                    status = "failed" if "failed" in s else "ok"
                    self.record(w, server, status, s.get("failed", ""), m)
                    if status == "ok":
                        print(
                            f"  {w.key}: {s['rps']:.0f} req/s ±{s['spread_pct'] / 2:.0f}%"
                            f" p99 {s['p99_ms']} ms"
                            f" non-2xx {s['non_2xx']} sock-err {s['socket_errors']}",
                            flush=True,
                        )
                    else:
                        print(f"  {w.key}: FAILED {s['failed']}")
                self.check_still_answers(server, app, processes, run)

    def check_gil(self, server, app: str, running: RunningServer):
        """Ours logs "GIL on"/"GIL off" at startup: it must be what this server entry is meant to measure."""
        expected = server.expected_gil()
        if expected is None:
            return
        try:
            log = running.log_path.read_text(errors="replace")
        except OSError:
            log = ""
        seen = "on" if "GIL on" in log else "off" if "GIL off" in log else "not logged"
        want = "on" if expected else "off"
        label = f"{app}: GIL {want} as this entry is meant to run"
        ok = seen == want
        self.servers[server.name].setdefault("checks", []).append({"name": label, "ok": ok, "detail": seen})
        if not ok:
            print(f"  CHECK FAILED {server.name}: {label}: the server says GIL {seen}")

    def check_still_answers(self, server, app: str, processes: int, running: RunningServer):
        """A server that a load left wedged (lost wake-ups, leaked connections) must not pass as healthy."""
        name, ok, detail = checks.check_hello(running.port)
        label = f"{app}, {processes} proc: GET / still answers after the loads"
        self.servers[server.name].setdefault("checks", []).append({"name": label, "ok": ok, "detail": detail})
        if not ok:
            print(f"  CHECK FAILED {server.name}: {label}: {detail}")


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if args.gil_compare:
        return gil_compare(args)
    if args.python:
        venvs.use_python(args.python)
    plan = workloads.QUICK if args.quick else workloads.FULL
    if args.workloads:
        keys = set(args.workloads.split(","))
        plan = [w for w in workloads.FULL if w.key in keys]
    servers = peers.all_servers()
    ft_python = free_threaded_python(args, build=False) if args.quick and not args.python else None
    if ft_python:
        # A brief smoke of ours on the free-threaded build, GIL off, if it is built already (setup builds it).
        servers.insert(1, peers.Ours(python=ft_python, gil="0", name="ours-ft"))
    wanted = args.servers.split(",") if args.servers else None
    # The soak runs ours alone unless --servers adds a peer; the metrics comparison is ours alone.
    if args.metrics or (args.soak and not wanted):
        wanted = ["ours"]
    if wanted:
        servers = [s for s in servers if s.name in wanted]

    bench = Bench(args)
    info = machine_info()
    mode = run_mode(args)
    print(f"bench: {mode} run, {info['cores']} cores, loadavg {info['loadavg_start']}")
    prepare_servers(bench, servers, quick=args.quick)

    if args.soak:
        return soak_only(bench, servers, info)
    if args.metrics:
        return metrics_only(bench, info)

    # First, so that the time budget never cuts it off.
    metrics = None
    ours_ok = bench.servers.get("ours", {}).get("status") == "ok"
    if not args.quick and ours_ok and not args.no_metrics_check and not args.workloads:
        metrics = bench.compare_metrics()

    for group, group_workloads in workloads.groups(plan):
        bench.run_group(group, group_workloads, servers)
    if args.quick and ours_ok:
        bench.soak_results.append(soak.run_soak(peers.Ours(), soak.QUICK_PLAN, *bench.dirs))
        print(soak.format_soak(bench.soak_results[-1]))

    info["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    info["seconds"] = round(time.monotonic() - bench.started, 1)
    peer_names = {s.name for s in servers if s.peer}
    verdicts = targets.check_targets(bench.results, bench.servers, peer_names, metrics, bench.ours_soak())

    for w in plan:
        print(report.workload_table(w, [r for r in bench.results if r["workload"] == w.key]))
    print(report.summary_table(plan, bench.results, peer_names))
    print(report.servers_table(bench.servers))
    if not args.quick:
        print(targets.targets_table(verdicts))

    extra = {"results": bench.results, "metrics_on_off": metrics, "soak": bench.soak_results}
    write_results(bench, info, mode, extra | {"targets": verdicts})

    passed, failed = smoke_verdict(bench)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def prepare_servers(bench: Bench, servers: list, quick: bool) -> None:
    """Installs the venvs the servers need (quick: only QUICK_VENVS) and notes which servers can run."""
    wanted_venvs = sorted({(s.venv, s.python) for s in servers if s.venv}, key=str)
    to_install = [v for v in wanted_venvs if v[0] in QUICK_VENVS] if quick else wanted_venvs
    install_problems = install(to_install, allow=not bench.args.no_install)
    for s in servers:
        why = install_problems.get((s.venv, s.python)) or s.unavailable_reason()
        if why and quick and s.venv and s.venv not in QUICK_VENVS and not venvs.is_ready(s.venv, s.python):
            why = "not installed (quick mode installs only ours and waitress; npm run bench: all)"
        why = why or gil_problem(s)
        bench.servers[s.name] = {"status": "skipped" if why else "ok", "reason": why}
        if why:
            print(f"bench: skipping {s.name}: {why}")


def gil_compare(args) -> int:
    """--gil-compare: the free-threaded build with the GIL on and off, the default CPython, the pure-Python
    peers on the free-threaded build; at 1/2/4 app threads. Prints the tables and the GIL targets."""
    ft_python = free_threaded_python(args, build=True)
    if not ft_python or not venvs.python_info(ft_python)["free_threaded"]:
        print(f"bench: --gil-compare needs a free-threaded CPython (got {ft_python})")
        return 1
    plan = workloads.GIL_COMPARE
    if args.workloads:
        keys = set(args.workloads.split(","))
        plan = [w for w in plan if w.key in keys]
    default = sys.executable
    default_name = f"ours-{venvs.python_info(default)['tag']}"
    servers = peers.gil_compare_servers(ft_python, default, venvs.python_info(default)["tag"])
    if args.servers:
        servers = [s for s in servers if s.name in args.servers.split(",")]
    bench = Bench(args)
    info = machine_info()
    info["python_ft"] = venvs.python_info(ft_python) | {"path": ft_python}
    print(
        f"bench: gil-compare run, {info['cores']} cores, loadavg {info['loadavg_start']};"
        f" {ft_python} ({info['python_ft']['full']}) vs {default} ({info['python']})"
    )
    prepare_servers(bench, servers, quick=False)
    for group, group_workloads in workloads.groups(plan):
        bench.run_group(group, group_workloads, servers)
    info["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    info["seconds"] = round(time.monotonic() - bench.started, 1)
    peer_names = {s.name for s in servers if s.peer}
    for w in plan:
        print(report.workload_table(w, [r for r in bench.results if r["workload"] == w.key], "ours-gil-off"))
    print(report.gil_table(plan, bench.results, default_name, peer_names))
    print(report.servers_table(bench.servers))
    verdicts = targets.gil_targets(bench.results, peer_names)
    print(targets.targets_table(verdicts))
    write_results(bench, info, "gil-compare", {"results": bench.results, "targets": verdicts})
    passed, failed = smoke_verdict(bench)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_mode(args) -> str:
    if args.soak:
        return "soak"
    if args.metrics:
        return "metrics"
    return "quick" if args.quick else "full"


def soak_only(bench: Bench, servers, info: dict) -> int:
    """--soak: the soak of each chosen server (ours by default), its series, and the flat-RSS target. Like the
    full run, it fails only when a server did not start or answer, not on a target."""
    plan = soak.plan_for(bench.args.soak_minutes)
    for server in servers:
        if bench.servers[server.name]["status"] == "ok":
            bench.soak_results.append(soak.run_soak(server, plan, *bench.dirs))
            print(soak.format_soak(bench.soak_results[-1]))
    verdict = targets.soak_verdict(bench.ours_soak())
    print(targets.targets_table([verdict]))
    write_results(bench, info, "soak", {"soak": bench.soak_results, "targets": [verdict]})
    passed, failed = smoke_verdict(bench)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def metrics_only(bench: Bench, info: dict) -> int:
    """--metrics: ours METRICS=off vs on alone, and its target."""
    if bench.servers.get("ours", {}).get("status") != "ok":
        print("bench: ours is not available")
        return 1
    metrics = bench.compare_metrics()
    verdict = targets.metrics_verdict(metrics)
    print(targets.targets_table([verdict]))
    write_results(bench, info, "metrics", {"metrics_on_off": metrics, "targets": [verdict]})
    return 1 if verdict["met"] is None else 0  # unknown: it could not measure; a NOT met is a number


def write_results(bench: Bench, info: dict, mode: str, extra: dict):
    info.setdefault("loadavg_end", Path("/proc/loadavg").read_text().split()[:3])
    info.setdefault("seconds", round(time.monotonic() - bench.started, 1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = RESULTS / f"bench-{mode}-{stamp}.json"
    payload = {"machine": info, "settings": vars(bench.args), "servers": bench.servers} | extra
    out.write_text(json.dumps(payload, indent=1))
    print(
        f"\nbench: raw numbers in {out.relative_to(venvs.REPO)}; {info['seconds']}s;"
        f" loadavg {info['loadavg_start']} -> {info['loadavg_end']}"
    )


def smoke_verdict(bench: Bench) -> tuple[int, int]:
    """Counts what must hold for every server that ran: it started, its answers were correct, every wrk load
    got answers with no non-2xx, all held connections were answered. No timing is judged."""
    passed = failed = 0
    # The smoke run exists to check our server: one where it could not be installed or started, or measured
    # nothing, must not pass on the strength of the peers alone.
    ours = bench.servers.get("ours")
    measured = [r for r in bench.results if r["server"] == "ours" and r["status"] == "ok"]
    if ours is not None and (ours["status"] != "ok" or not measured):
        failed += 1
        why = ours.get("reason") or "; ".join(ours.get("start_failures", [])) or "no load was measured"
        print(f"FAILED ours: not among the servers measured: {why}")
    for name, info in bench.servers.items():
        if info["status"] != "ok":
            continue
        for c in info.get("checks", []):
            passed, failed = (passed + 1, failed) if c["ok"] else (passed, failed + 1)
        for why in info.get("start_failures", []):
            failed += 1
            print(f"FAILED {name}: did not start: {why}")
        held = info.get("held")
        # Peers that leave held connections unanswered do so by design (a thread or process per connection):
        # that is a number for the table. For ours it is a promise of the architecture, so it must hold.
        if held and name.startswith("ours"):
            if held["served_200"] == held["connections"]:
                passed += 1
            else:
                failed += 1
                print(
                    f"FAILED {name}: {held['served_200']}/{held['connections']} held connections answered 200"
                )
    for s in bench.soak_results:
        ok = "failed" not in s and s["requests"] > 0 and s["non_2xx"] == 0 and s["answers_after"]
        passed, failed = (passed + 1, failed) if ok else (passed, failed + 1)
        if not ok:
            why = s.get("failed") or "no answers, non-2xx answers, or no answer to GET / after it"
            print(f"FAILED soak {s['server']}: {why}")
    for r in bench.results:
        if r["status"] == "skipped":
            continue
        s = r.get("summary", {})
        if r["status"] == "ok" and s["requests"] > 0 and s["non_2xx"] == 0:
            passed += 1
        elif r["status"] != "failed" or not r["reason"].startswith("start:"):
            failed += 1
            if r["reason"]:
                why = r["reason"]
            elif s.get("requests") == 0:
                why = f"no answer at all in the whole load ({s['socket_errors']} socket errors)"
            else:
                why = f"{s['non_2xx']} non-2xx answers out of {s['requests']}"
            print(f"FAILED {r['server']} {r['workload']}: {why}")
    return passed, failed


def _exit_on_sigterm(signum, frame):
    # SystemExit unwinds through every `with RunningServer(...)`, which kills that server's process group.
    raise SystemExit(143)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background (SIG_IGN)
    sys.exit(main())
