"""Soak: one server under a steady keep-alive load for minutes, the RSS of its process tree sampled all along.

The issue asks that our memory stay flat over a 10-minute soak at 64 connections. wrk runs in consecutive
chunks (30 s) so that req/s, errors and CPU per request come as a series too (the gap between two chunks, wrk
reconnecting, is milliseconds); a background thread samples the RSS every few seconds for the whole soak.

"Flat", judged on soaks of at least 2 minutes (a slope over less is mostly one allocator step), on the samples
after the warm-up (the first minute, or a quarter of a shorter soak):
- the end RSS (median of the last 3 samples) is at most max(2 MB, 10%) above the RSS after the warm-up
  (median of the first 3 samples after it): allocator arenas and thread stacks move RSS by a few hundred KB
  either way, a leak does not come back;
- the least-squares slope of RSS over time is below 0.1 MB/min (6 MB/hour). At ~30k req/s, leaking even one
  small object (~50 bytes) per request would grow ~90 MB/min: the bound catches one leaked object per ~1000
  requests, and sits well above the slope that sampling noise gives over 100 samples.
"""

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import checks
import peers
import workloads
from proc_tree import RssSeries, tree_cpu_seconds
from server_process import RunningServer
from wrk_runner import run_wrk

SOAK_WORKLOAD = next(w for w in workloads.FULL if w.key == "hello_ka_c64_p1")
MB = 2**20
END_GROWTH_MB = 2.0
END_GROWTH_FRACTION = 0.10
SLOPE_MB_PER_MIN = 0.1
EDGE_SAMPLES = 3  # samples whose median is the RSS "after warm-up" and "at the end"
MIN_JUDGED_S = 120


@dataclass(frozen=True)
class SoakPlan:
    seconds: float
    chunk_s: int  # one wrk run
    sample_s: float  # RSS sampling period
    row_s: int  # one row of the printed series
    judged: bool  # False under MIN_JUDGED_S (the CI smoke soak: it only shows that it runs and ours answers)

    @property
    def warmup_s(self) -> float:
        return min(60.0, self.seconds / 4)


# The CI smoke soak: shows that the soak runs and that ours keeps answering; too short to judge.
QUICK_PLAN = SoakPlan(seconds=20, chunk_s=10, sample_s=2, row_s=10, judged=False)


def plan_for(minutes: float) -> SoakPlan:
    seconds = minutes * 60
    return SoakPlan(seconds=seconds, chunk_s=30, sample_s=5, row_s=60, judged=seconds >= MIN_JUDGED_S)


def run_soak(server: peers.Server, plan: SoakPlan, scratch: Path, log_dir: Path) -> dict:
    w = SOAK_WORKLOAD
    print(f"bench: soak {server.name}: {w.title}, {plan.seconds:.0f} s", flush=True)
    with RunningServer(server, peers.APPS[w.app], w.processes, w.threads, scratch, log_dir) as run:
        why = run.start()
        if why:
            return {"server": server.name, "failed": f"start: {why}"}
        chunks = []
        with RssSeries(run.pid, plan.sample_s) as rss:
            while (left := plan.seconds - _elapsed(rss)) >= 1:
                chunks.append(_run_chunk(run, min(plan.chunk_s, int(left)), _elapsed(rss)))
        _, answers, detail = checks.check_hello(run.port)
    return summarize_soak(server.name, plan, rss.samples, chunks, answers, detail)


def _elapsed(rss: RssSeries) -> float:
    return time.monotonic() - rss.started


def _run_chunk(run: RunningServer, seconds: int, started_at: float) -> dict:
    """One wrk run, with the server's CPU seconds around it (CPU per request drifting up would also hint at a
    structure that grows with the requests served)."""
    cpu_before = tree_cpu_seconds(run.pid)
    result = run_wrk(SOAK_WORKLOAD.load, run.port, seconds)
    cpu = tree_cpu_seconds(run.pid) - cpu_before
    if "failed" in result:
        return {"t": round(started_at, 1), "seconds": seconds, "failed": result["failed"]}
    return {
        "t": round(started_at, 1),
        "seconds": result["duration_us"] / 1e6,
        "requests": result["requests"],
        "non_2xx": result["non_2xx_3xx"],
        "socket_errors": result["socket_errors"],
        "cpu_s": cpu,
    }


def summarize_soak(name, plan: SoakPlan, samples, chunks, answers: bool, answer_detail: str) -> dict:
    mb = [(round(t, 1), round(b / MB, 2)) for t, b in samples]
    after = [m for t, m in mb if t >= plan.warmup_s]
    good = [c for c in chunks if "failed" not in c]
    out = {
        "server": name,
        "plan": vars(plan) | {"warmup_s": plan.warmup_s},
        "samples_mb": mb,
        "chunks": chunks,
        "rows": _rows(plan, mb, good),
        "requests": sum(c["requests"] for c in good),
        "non_2xx": sum(c["non_2xx"] for c in good),
        "socket_errors": sum(c["socket_errors"] for c in good),
        "failed_chunks": [c["failed"] for c in chunks if "failed" in c],
        "answers_after": answers,
        "answer_detail": answer_detail,
        "max_mb": max((m for _, m in mb), default=0.0),
    }
    if len(after) >= 2 * EDGE_SAMPLES:
        out["after_warmup_mb"] = statistics.median(after[:EDGE_SAMPLES])
        out["end_mb"] = statistics.median(after[-EDGE_SAMPLES:])
        times = [t / 60 for t, _ in mb if t >= plan.warmup_s]
        out["slope_mb_per_min"] = round(statistics.linear_regression(times, after).slope, 3)
    out["flat"] = _flat(out) if plan.judged else None
    return out


def _rows(plan: SoakPlan, mb, chunks) -> list[dict]:
    """The series by row_s: req/s over the chunks that started in it, RSS at its end, errors, CPU/request."""
    rows: dict[int, list[dict]] = {}
    for c in chunks:
        rows.setdefault(int(c["t"] // plan.row_s), []).append(c)
    out = []
    for k, group in sorted(rows.items()):
        end = min((k + 1) * plan.row_s, round(plan.seconds))
        rss = [m for t, m in mb if t <= end]
        requests, seconds = sum(c["requests"] for c in group), sum(c["seconds"] for c in group)
        cpu_s = sum(c["cpu_s"] for c in group)
        out.append(
            {
                "until_s": end,
                "rps": round(requests / seconds) if seconds else 0,
                "rss_mb": rss[-1] if rss else None,
                "errors": sum(c["non_2xx"] + c["socket_errors"] for c in group),
                "cpu_us_per_req": round(1e6 * cpu_s / requests, 1) if requests else None,
            }
        )
    return out


def growth_limit_mb(after_warmup_mb: float) -> float:
    return max(END_GROWTH_MB, END_GROWTH_FRACTION * after_warmup_mb)


def _flat(s: dict) -> bool | None:
    """None when there were too few samples (or no answers) to say."""
    if "slope_mb_per_min" not in s or not s["requests"]:
        return None
    grew = s["end_mb"] - s["after_warmup_mb"]
    return grew <= growth_limit_mb(s["after_warmup_mb"]) and s["slope_mb_per_min"] < SLOPE_MB_PER_MIN


def format_soak(s: dict) -> str:
    if "failed" in s:
        return f"soak {s['server']}: FAILED {s['failed']}"
    lines = [f"\n## soak {s['server']}: {s['plan']['seconds']:.0f} s at 64 keep-alive connections"]
    lines.append("  until   req/s   RSS MB  errors  cpu us/req")
    for r in s["rows"]:
        numbers = f"{r['rps']:>6}  {r['rss_mb']!s:>7}  {r['errors']:>6}  {r['cpu_us_per_req']!s:>10}"
        lines.append(f"  {r['until_s']:>4} s  {numbers}")
    lines.append(
        f"  requests {s['requests']}, non-2xx {s['non_2xx']}, socket errors {s['socket_errors']},"
        f" failed wrk runs {len(s['failed_chunks'])}, GET / after: {'ok' if s['answers_after'] else 'FAILED'}"
    )
    if "slope_mb_per_min" in s:
        lines.append(
            f"  RSS after warm-up ({s['plan']['warmup_s']:.0f} s) {s['after_warmup_mb']:.1f} MB,"
            f" end {s['end_mb']:.1f} MB, max {s['max_mb']:.1f} MB,"
            f" slope {s['slope_mb_per_min']:+.3f} MB/min"
        )
    verdict = {True: "flat", False: "NOT flat", None: "not judged"}[s["flat"]]
    lines.append(f"  verdict: {verdict} ({flat_rule()})")
    return "\n".join(lines)


def duration_text(seconds: float) -> str:
    return f"{seconds:.0f}-second" if seconds < 120 else f"{seconds / 60:g}-minute"


def flat_rule() -> str:
    return (
        f"flat = end <= after warm-up + max({END_GROWTH_MB:g} MB, {END_GROWTH_FRACTION:.0%})"
        f" and slope < {SLOPE_MB_PER_MIN:g} MB/min"
    )
