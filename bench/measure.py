"""One workload against one running server: warm-up, N repetitions of wrk, CPU and peak RSS of the server's
process tree for each repetition, and the summary (median and spread) the table shows."""

import statistics

from proc_tree import PeakRssSampler, tree_cpu_seconds
from workloads import Workload
from wrk_runner import run_wrk


def measure(pid: int, port: int, workload: Workload, seconds: float, reps: int, warmup_s: float) -> dict:
    if warmup_s > 0:
        run_wrk(workload.load, port, warmup_s)
    runs = []
    for _ in range(reps):
        cpu_before = tree_cpu_seconds(pid)
        with PeakRssSampler(pid) as rss:
            result = run_wrk(workload.load, port, seconds)
        if "failed" not in result:
            wall = result["duration_us"] / 1e6
            result["server_cpu_pct"] = round(100 * (tree_cpu_seconds(pid) - cpu_before) / wall, 1)
            result["peak_rss_bytes"] = rss.peak
        runs.append(result)
    return {"runs": runs, "summary": summarize(runs)}


def summarize(runs: list[dict]) -> dict:
    good = [r for r in runs if "failed" not in r]
    if not good:
        return {"failed": "; ".join(r["failed"] for r in runs) or "no runs"}
    rps = [r["rps"] for r in good]
    median_rps = statistics.median(rps)
    return {
        "rps": round(median_rps, 1),
        "rps_min": round(min(rps), 1),
        "rps_max": round(max(rps), 1),
        "spread_pct": round(100 * (max(rps) - min(rps)) / median_rps, 1) if median_rps else 0.0,
        "p50_ms": round(statistics.median(r["p50_us"] for r in good) / 1000, 2),
        "p99_ms": round(statistics.median(r["p99_us"] for r in good) / 1000, 2),
        "requests": sum(r["requests"] for r in good),
        "non_2xx": sum(r["non_2xx_3xx"] for r in good),
        "socket_errors": sum(r["socket_errors"] for r in good),
        "server_cpu_pct": statistics.median(r["server_cpu_pct"] for r in good),
        "wrk_cpu_pct": statistics.median(r.get("wrk_cpu_pct", 0.0) for r in good),
        # CPU of the server's process tree per answered request (the cost of a request, whatever share of
        # the machine the server got): median over the repetitions.
        "cpu_us_per_req": round(
            statistics.median(1e4 * r["server_cpu_pct"] / r["rps"] if r["rps"] else 0.0 for r in good), 1
        ),
        "peak_rss_mb": round(max(r["peak_rss_bytes"] for r in good) / 2**20, 1),
        "reps": len(good),
        "failed_reps": len(runs) - len(good),
    }
