"""Ours with METRICS=off and =on: what the metrics cost per request.

Both servers run side by side and wrk alternates between them, so machine noise hits both alike. req/s alone
cannot resolve the issue's 3% on this 2-core machine (wrk shares the cores; repetitions spread by 5-10%), so
each run also measures the server's CPU time per request: CPU seconds of its process tree (from /proc) around
the wrk run, divided by the requests wrk counted. That is what the metrics add per request, and it moves much
less with the machine's load than throughput does. Ratios are taken within each pair (the two runs back to
back, in alternating order), so slow drift of the machine cancels out.
"""

import statistics
from pathlib import Path

import peers
import workloads
from measure import summarize
from proc_tree import tree_cpu_seconds
from server_process import RunningServer
from wrk_runner import run_wrk

MODES = ("off", "on")


def compare_metrics(pairs: int, seconds: float, warmup_s: float, scratch: Path, log_dir: Path) -> dict:
    w = workloads.METRICS_WORKLOAD
    app = peers.APPS[w.app]
    print(f"bench: ours METRICS=off vs on, {pairs} pairs of {seconds:g} s", flush=True)
    with (
        RunningServer(peers.Ours("off"), app, w.processes, w.threads, scratch, log_dir) as off,
        RunningServer(peers.Ours("on"), app, w.processes, w.threads, scratch, log_dir) as on,
    ):
        servers = {"off": off, "on": on}
        for srv in servers.values():
            why = srv.start()
            if why:
                return {"failed": why}
        for srv in servers.values():
            run_wrk(w.load, srv.port, warmup_s or 1)
        runs = {mode: [] for mode in MODES}
        for i in range(pairs):
            # Alternate which mode goes first: an order effect (caches, the other server's idle wake-ups)
            # then cancels over the pairs instead of favouring one mode.
            for mode in MODES if i % 2 == 0 else reversed(MODES):
                runs[mode].append(_measured_run(servers[mode], w.load, seconds))
    out = summarize_pairs(runs)
    print(format_comparison(out))
    return out


def _measured_run(srv: RunningServer, load, seconds: float) -> dict:
    cpu_before = tree_cpu_seconds(srv.pid)
    result = run_wrk(load, srv.port, seconds)
    if "failed" in result:
        return result
    cpu = tree_cpu_seconds(srv.pid) - cpu_before
    result["server_cpu_pct"] = round(100 * cpu / (result["duration_us"] / 1e6), 1)
    result["cpu_us_per_request"] = 1e6 * cpu / result["requests"] if result["requests"] else None
    result["peak_rss_bytes"] = 0  # not sampled here; summarize() wants the field
    return result


def summarize_pairs(runs: dict[str, list[dict]]) -> dict:
    out = {mode: summarize(runs[mode]) for mode in MODES}
    for mode in MODES:
        cpu = [r["cpu_us_per_request"] for r in runs[mode] if r.get("cpu_us_per_request")]
        if cpu and "failed" not in out[mode]:
            out[mode]["cpu_us_per_request"] = round(statistics.median(cpu), 2)
            out[mode]["cpu_spread_pct"] = round(100 * (max(cpu) - min(cpu)) / statistics.median(cpu), 1)
    out["rps_ratio"] = _pair_ratios(runs, "rps")
    out["cpu_ratio"] = _pair_ratios(runs, "cpu_us_per_request")
    out["pairs"] = len(runs["off"])
    out["runs"] = runs
    return out


def _pair_ratios(runs: dict[str, list[dict]], field: str) -> dict | None:
    """on/off of one field within each pair where both runs reported it: median, min, max."""
    ratios = [
        on[field] / off[field]
        for off, on in zip(runs["off"], runs["on"], strict=True)
        if off.get(field) and on.get(field)
    ]
    if not ratios:
        return None
    return {
        "median": round(statistics.median(ratios), 3),
        "min": round(min(ratios), 3),
        "max": round(max(ratios), 3),
    }


def ratio_text(ratio: dict | None) -> str:
    if not ratio:
        return "?"
    return f"{ratio['median']:.3f} (pairs {ratio['min']:.3f}..{ratio['max']:.3f})"


def format_comparison(out: dict) -> str:
    failed = out.get("failed") or next((out[m]["failed"] for m in MODES if "failed" in out.get(m, {})), "")
    if failed:
        return f"  METRICS on/off: FAILED {failed}"
    off, on = out["off"], out["on"]
    return "\n".join(
        [
            f"  req/s:          off {off['rps']:.0f} ±{off['spread_pct'] / 2:.0f}%,"
            f" on {on['rps']:.0f} ±{on['spread_pct'] / 2:.0f}%; on/off {ratio_text(out['rps_ratio'])}",
            f"  CPU us/request: off {off.get('cpu_us_per_request')} ±{off.get('cpu_spread_pct', 0) / 2:.1f}%,"
            f" on {on.get('cpu_us_per_request')} ±{on.get('cpu_spread_pct', 0) / 2:.1f}%;"
            f" on/off {ratio_text(out['cpu_ratio'])}",
        ]
    )
