"""Per-thread metrics and the snapshot the control channel and the STATS endpoint publish.

Each thread owns one `ThreadStats` and is the only writer of its plain-int/float fields (no locks, no atomics:
under the GIL or free-threaded, a reader may see a value a moment old, never a torn one). Nothing is
aggregated on the hot path: `snapshot()` sums the per-thread counters when someone asks (only while a
supervisor or a STATS client is watching). CPU time per thread is read from /proc/self/task/<tid>/stat at
snapshot time, which costs the threads nothing.

The snapshot's shape is `MetricsSnapshot` of server-runtime/src/protocol.ts minus `id` (camelCase exactly),
plus fields the editor does not read: `process` (the process_* metrics), `totals.latency.sumSeconds`, and
`ready` (added by Server.snapshot).
"""

from __future__ import annotations

import os
import sys
import time
from bisect import bisect_left

from . import __version__
from .contract import OBJECTS

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
        "latency_sum",
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
        self.latency_sum = 0.0  # seconds, the histogram's _sum

    def record_response(self, status_code: int, bytes_out: int, seconds: float) -> None:
        # Per request with METRICS=on: kept to a few list/int updates (the metrics on/off target is 3%).
        self.requests += 1
        self.status[status_code // 100] += 1
        self.bytes_out += bytes_out
        self.latency[bisect_left(_LATENCY_BOUNDS_S, seconds)] += 1
        self.latency_sum += seconds


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


_START_TIME: list[float] = []  # the process's start, seconds since the epoch (it never changes: read once)


def _boot_time() -> float:
    with open("/proc/stat", "rb") as f:
        for line in f:
            if line.startswith(b"btime "):
                return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


def process_stats() -> dict:
    """What Prometheus client libraries publish as the standard process_* metrics, from /proc: resident and
    virtual memory, open and allowed descriptors, start time (0 for what cannot be read)."""
    rss = vsize = 0
    start = _START_TIME[0] if _START_TIME else 0.0
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        vsize = int(fields[20])
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        if not _START_TIME:
            start = _boot_time() + int(fields[19]) / _CLOCK_TICKS
            _START_TIME.append(start)
    except (OSError, IndexError, ValueError):
        pass
    try:
        open_fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_fds = 0
    import resource  # already loaded by the server's connection limit

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return {
        "residentMemoryBytes": rss,
        "virtualMemoryBytes": vsize,
        "openFds": open_fds,
        "maxFds": -1 if soft == resource.RLIM_INFINITY else soft,
        "startTimeSeconds": round(start, 2),
    }


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
    latency_sum = 0.0
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
        latency_sum += s.latency_sum
    return {
        "time": time.time(),
        "uptimeSeconds": round(time.monotonic() - started, 3),
        "pid": os.getpid(),
        "worker": worker,
        "python": sys.version.split()[0],
        "gil": gil_enabled(),
        "processCpuSeconds": process_cpu_seconds(),
        "process": process_stats(),
        "health": health or {"status": "ok", "problems": []},
        "threads": threads,
        "totals": {
            "connectionsOpen": max(0, connections_accepted - connections_closed),
            "connectionsAccepted": connections_accepted,
            "requests": requests,
            "status": {f"{i + 1}xx": status[i] for i in range(5)},
            "bytesIn": bytes_in,
            "bytesOut": bytes_out,
            "latency": {
                "boundsMs": list(LATENCY_BOUNDS_MS),
                "counts": latency,
                "sumSeconds": round(latency_sum, 6),
            },
        },
    }


def _label(value) -> str:
    """A label value as the text format writes it: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(value)


# (name, type, help, key of the JSON value): the per-thread families STATS /metrics publishes, from the
# schema's thread fields that name one (control_schema.json: `prometheus`; a counter when `counter`, HELP
# its meaning).
_THREAD_FAMILIES = [
    (f["prometheus"], "counter" if f.get("counter") else "gauge", f["meaning"], f["name"])
    for f in OBJECTS["thread"]
    if "prometheus" in f
]


def prometheus_text(snapshots) -> str:
    """Snapshots (one per worker process; a single dict is one) in the Prometheus text exposition format
    0.0.4, for STATS /metrics: one HELP/TYPE per family, every worker's samples under it with a `worker`
    label (a family repeated per worker is a scrape error in Prometheus). Names follow its conventions:
    `server3_` namespace, base units in the name (`_seconds`, `_bytes`), `_total` on counters; the standard
    process_* families describe each worker process."""
    if isinstance(snapshots, dict):
        snapshots = [snapshots]
    families: dict[str, tuple[str, str, list[str]]] = {}

    def add(name: str, kind: str, help_text: str, labels: str, value, suffix: str = "") -> None:
        family = families.setdefault(name, (kind, help_text, []))
        family[2].append(f"{name}{suffix}{{{labels}}} {_number(value)}")

    for snap in snapshots:
        w = f'worker="{_label(snap["worker"])}"'
        for name, kind, help_text, key in _THREAD_FAMILIES:
            for t in snap["threads"]:
                labels = f'{w},thread="{_label(t["name"])}",role="{_label(t["role"])}"'
                add(name, kind, help_text, labels, t[key])
        info = f'{w},version="{_label(__version__)}",python="{_label(snap.get("python", ""))}"'
        info += f',gil="{"on" if snap.get("gil", True) else "off"}"'
        add("server3_info", "gauge", "The runtime's version, its Python and whether the GIL is on.", info, 1)
        healthy = (snap.get("health") or {}).get("status", "ok") == "ok"
        add("server3_healthy", "gauge", "1 when every pipeline stage runs, else 0.", w, healthy)
        ready = snap.get("ready", True)
        add("server3_ready", "gauge", "1 while the worker takes requests (0 starting or draining).", w, ready)
        totals = snap["totals"]
        add("server3_connections_open", "gauge", "Open client connections.", w, totals["connectionsOpen"])
        add(
            "server3_connections_accepted_total",
            "counter",
            "Accepted client connections.",
            w,
            totals["connectionsAccepted"],
        )
        add("server3_requests_total", "counter", "Responses sent.", w, totals["requests"])
        for status, count in totals["status"].items():
            add(
                "server3_responses_total",
                "counter",
                "Responses sent, by status class.",
                f'{w},status="{_label(status)}"',
                count,
            )
        add("server3_received_bytes_total", "counter", "Bytes received from clients.", w, totals["bytesIn"])
        add("server3_sent_bytes_total", "counter", "Bytes sent to clients.", w, totals["bytesOut"])
        name, help_text = "server3_request_duration_seconds", "Time from parsed request to sent response."
        latency = totals["latency"]
        cumulative = 0
        for bound, count in zip(latency["boundsMs"] + [None], latency["counts"], strict=True):
            cumulative += count
            le = "+Inf" if bound is None else repr(bound / 1000)
            add(name, "histogram", help_text, f'{w},le="{le}"', cumulative, "_bucket")
        add(name, "histogram", help_text, w, latency.get("sumSeconds", 0.0), "_sum")
        add(name, "histogram", help_text, w, cumulative, "_count")
        process = snap.get("process") or {}
        add(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            w,
            snap.get("processCpuSeconds", 0.0),
        )
        for name, help_text, key in [
            ("process_resident_memory_bytes", "Resident memory size in bytes.", "residentMemoryBytes"),
            ("process_virtual_memory_bytes", "Virtual memory size in bytes.", "virtualMemoryBytes"),
            ("process_open_fds", "Number of open file descriptors.", "openFds"),
            ("process_max_fds", "Maximum number of open file descriptors.", "maxFds"),
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                "startTimeSeconds",
            ),
        ]:
            if key in process:
                add(name, "gauge", help_text, w, process[key])
    lines = []
    for name, (kind, help_text, samples) in families.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples)
    return "\n".join(lines) + "\n"
