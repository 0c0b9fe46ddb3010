"""Per-thread metrics and the snapshot the control channel and the STATS endpoint publish.

Each thread owns one `ThreadStats` and is the only writer of its plain-int/float fields (no locks, no atomics:
under the GIL or free-threaded, a reader may see a value a moment old, never a torn one). Nothing is
aggregated on the hot path: `snapshot()` sums the per-thread counters when someone asks (only while a
supervisor or a STATS client is watching). CPU time per thread is read from /proc/self/task/<tid>/stat at
snapshot time, which costs the threads nothing.

The snapshot's shape is `MetricsSnapshot` of server-runtime/src/protocol.ts minus `id` (camelCase exactly).
"""

from __future__ import annotations

import os
import sys
import time
from bisect import bisect_left

LATENCY_BOUNDS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]  # + a last +Inf bucket
# The same bounds in seconds, so recording a latency needs no unit conversion (per request).
_LATENCY_BOUNDS_S = [bound / 1000.0 for bound in LATENCY_BOUNDS_MS]
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class ThreadStats:
    """Counters of one thread, written only by that thread."""

    __slots__ = (
        "name",
        "role",
        "state",
        "items",
        "busy",
        "wait",
        "errors",
        "wakeups",
        "native_id",
        "queue_depth",
        # server totals this thread contributes to (each thread fills only those it produces)
        "requests",
        "status",
        "bytes_in",
        "bytes_out",
        "latency",
    )

    def __init__(self, name: str, role: str, queue_depth=None) -> None:
        self.name = name
        self.role = role
        self.state = "waiting"
        self.items = 0
        self.busy = 0.0
        self.wait = 0.0
        self.errors = 0
        self.wakeups = 0  # times the loop woke up (read by the main thread's stuck-stage check)
        self.native_id = 0
        self.queue_depth = queue_depth  # a callable returning the depth of the queue this thread feeds
        self.requests = 0
        # Responses by the status code's first digit (0-9; a WSGI status is three digits): indexed directly,
        # with no range check per request; snapshots publish 1xx..5xx.
        self.status = [0] * 10
        self.bytes_in = 0
        self.bytes_out = 0
        self.latency = [0] * (len(LATENCY_BOUNDS_MS) + 1)

    def record_response(self, status_code: int, bytes_out: int, seconds: float) -> None:
        # Per request with METRICS=on: kept to a few list/int updates (the metrics on/off target is 3%).
        self.requests += 1
        self.status[status_code // 100] += 1
        self.bytes_out += bytes_out
        self.latency[bisect_left(_LATENCY_BOUNDS_S, seconds)] += 1


class LoopTimer:
    """Splits a thread loop's time into busy (handling items) and waiting (blocked in epoll or on its queue).

    Each of the four thread loops calls `waiting()` just before it blocks and `busy()` right after it wakes,
    so the views can show what each thread is doing and how busy it is. Called once per wake-up (a batch of
    items), not per item. With METRICS=off only the state flips; no clock is read.
    """

    __slots__ = ("stats", "enabled", "mark")

    def __init__(self, stats: ThreadStats, enabled: bool) -> None:
        self.stats = stats
        self.enabled = enabled
        self.mark = time.perf_counter()

    def waiting(self) -> None:
        stats = self.stats
        stats.state = "waiting"
        if self.enabled:
            now = time.perf_counter()
            stats.busy += now - self.mark
            self.mark = now

    def busy(self) -> None:
        stats = self.stats
        stats.state = "busy"
        stats.wakeups += 1
        if self.enabled:
            now = time.perf_counter()
            stats.wait += now - self.mark
            self.mark = now


def thread_cpu_seconds(native_id: int) -> float:
    if not native_id:
        return 0.0
    try:
        with open(f"/proc/self/task/{native_id}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def process_cpu_seconds() -> float:
    """utime + stime of the whole process (every thread, the main and control threads too)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def gil_enabled() -> bool:
    """Whether the GIL is on right now: a free-threaded build turns it back on when an extension module that
    does not declare itself free-threading-safe is imported, which can happen long after startup."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def snapshot(
    stats: list[ThreadStats],
    started: float,
    worker: int,
    connections_accepted: int,
    connections_closed: int,
    health: dict | None = None,
) -> dict:
    threads = []
    status = [0, 0, 0, 0, 0]
    latency = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    requests = bytes_in = bytes_out = 0
    for s in stats:
        depth = s.queue_depth() if s.queue_depth is not None else 0
        threads.append(
            {
                "name": s.name,
                "role": s.role,
                "state": s.state,
                "items": s.items,
                "busySeconds": round(s.busy, 6),
                "waitSeconds": round(s.wait, 6),
                "queueDepth": depth,
                "errors": s.errors,
                "cpuSeconds": thread_cpu_seconds(s.native_id),
            }
        )
        requests += s.requests
        bytes_in += s.bytes_in
        bytes_out += s.bytes_out
        for i, count in enumerate(s.status[1:6]):
            status[i] += count
        for i, count in enumerate(list(s.latency)):
            latency[i] += count
    return {
        "time": time.time(),
        "uptimeSeconds": round(time.monotonic() - started, 3),
        "pid": os.getpid(),
        "worker": worker,
        "python": sys.version.split()[0],
        "gil": gil_enabled(),
        "processCpuSeconds": process_cpu_seconds(),
        "health": health or {"status": "ok", "problems": []},
        "threads": threads,
        "totals": {
            "connectionsOpen": max(0, connections_accepted - connections_closed),
            "connectionsAccepted": connections_accepted,
            "requests": requests,
            "status": {f"{i + 1}xx": status[i] for i in range(5)},
            "bytesIn": bytes_in,
            "bytesOut": bytes_out,
            "latency": {"boundsMs": list(LATENCY_BOUNDS_MS), "counts": latency},
        },
    }


def prometheus_text(snap: dict) -> str:
    """The snapshot in Prometheus text exposition format (for STATS /metrics)."""
    worker = snap["worker"]
    lines = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP server3_{name} {help_text}")
        lines.append(f"# TYPE server3_{name} {kind}")
        for labels, value in samples:
            lines.append(f"server3_{name}{{{labels}}} {value}")

    def per_thread(key: str) -> list[tuple[str, float]]:
        return [
            (f'worker="{worker}",thread="{t["name"]}",role="{t["role"]}"', t[key]) for t in snap["threads"]
        ]

    metric("thread_items_total", "counter", "Items handled by the thread.", per_thread("items"))
    metric(
        "thread_busy_seconds_total", "counter", "Seconds the thread spent working.", per_thread("busySeconds")
    )
    metric(
        "thread_wait_seconds_total", "counter", "Seconds the thread spent waiting.", per_thread("waitSeconds")
    )
    metric("thread_queue_depth", "gauge", "Depth of the queue the thread feeds.", per_thread("queueDepth"))
    metric("thread_errors_total", "counter", "Errors in the thread.", per_thread("errors"))
    metric("thread_cpu_seconds_total", "counter", "CPU time of the thread.", per_thread("cpuSeconds"))
    totals = snap["totals"]
    w = f'worker="{worker}"'
    healthy = (snap.get("health") or {}).get("status", "ok") == "ok"
    metric("healthy", "gauge", "1 when every pipeline stage runs, else 0.", [(w, 1 if healthy else 0)])
    metric("connections_open", "gauge", "Open client connections.", [(w, totals["connectionsOpen"])])
    metric(
        "connections_accepted_total", "counter", "Accepted connections.", [(w, totals["connectionsAccepted"])]
    )
    metric("requests_total", "counter", "Responses sent.", [(w, totals["requests"])])
    metric(
        "responses_total",
        "counter",
        "Responses by status class.",
        [(f'{w},status="{k}"', v) for k, v in totals["status"].items()],
    )
    metric("bytes_in_total", "counter", "Bytes received.", [(w, totals["bytesIn"])])
    metric("bytes_out_total", "counter", "Bytes sent.", [(w, totals["bytesOut"])])
    lines.append("# HELP server3_request_duration_seconds Time from parsed request to sent response.")
    lines.append("# TYPE server3_request_duration_seconds histogram")
    cumulative = 0
    bounds = totals["latency"]["boundsMs"]
    for bound, count in zip(bounds + [None], totals["latency"]["counts"], strict=True):
        cumulative += count
        le = "+Inf" if bound is None else repr(bound / 1000)
        lines.append(f'server3_request_duration_seconds_bucket{{{w},le="{le}"}} {cumulative}')
    lines.append(f"server3_request_duration_seconds_count{{{w}}} {cumulative}")
    return "\n".join(lines) + "\n"
