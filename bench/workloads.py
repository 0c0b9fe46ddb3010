"""The workloads of the full benchmark and of the quick smoke run.

A workload is one wrk load against one app at a given process count. Threads: every threaded server gets the
same app-thread count: CPU_THREADS for CPU-bound routes, IO_THREADS for the 10 ms sleep (so a
thread-per-request server can overlap the sleeps of all its connections,
as users would configure it for an I/O-bound app).
Workloads with the same (app, processes, threads) share one server start, in list order: Connection: close
runs last in its group so that a server it leaves in a bad state does not spoil the other numbers.
"""

from dataclasses import dataclass

from wrk_runner import Load

CPU_THREADS = 4
IO_THREADS = 64
CLOSE = ("Connection: close",)


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    app: str
    processes: int
    threads: int
    load: Load

    @property
    def group(self) -> tuple[str, int, int]:
        return (self.app, self.processes, self.threads)


def _w(key, title, app, processes, threads, path, connections, script="get", headers=()):
    return Workload(key, title, app, processes, threads, Load(path, connections, script, headers))


FULL = [
    _w("hello_ka_c1_p1", "hello keep-alive, 1 conn, 1 proc", "hello", 1, CPU_THREADS, "/", 1),
    _w("hello_ka_c64_p1", "hello keep-alive, 64 conns, 1 proc", "hello", 1, CPU_THREADS, "/", 64),
    _w("hello_ka_c256_p1", "hello keep-alive, 256 conns, 1 proc", "hello", 1, CPU_THREADS, "/", 256),
    _w(
        "echo64k_c64_p1",
        "64 KiB POST echo, 64 conns, 1 proc",
        "hello",
        1,
        CPU_THREADS,
        "/echo",
        64,
        "post_64k",
    ),
    _w("big1m_c16_p1", "1 MiB response, 16 conns, 1 proc", "hello", 1, CPU_THREADS, "/big?kb=1024", 16),
    _w(
        "hello_close_c64_p1",
        "hello Connection: close, 64 conns, 1 proc",
        "hello",
        1,
        CPU_THREADS,
        "/",
        64,
        headers=CLOSE,
    ),
    _w("flask_c64_p1", "Flask hello, 64 conns, 1 proc", "flask", 1, CPU_THREADS, "/", 64),
    _w("sleep10_c64_p1", "10 ms sleep app, 64 conns, 1 proc", "hello", 1, IO_THREADS, "/sleep?ms=10", 64),
    _w("sleep10_c256_p1", "10 ms sleep app, 256 conns, 1 proc", "hello", 1, IO_THREADS, "/sleep?ms=10", 256),
    _w("hello_ka_c64_p2", "hello keep-alive, 64 conns, 2 procs", "hello", 2, CPU_THREADS, "/", 64),
    _w(
        "echo64k_c64_p2",
        "64 KiB POST echo, 64 conns, 2 procs",
        "hello",
        2,
        CPU_THREADS,
        "/echo",
        64,
        "post_64k",
    ),
    _w("flask_c64_p2", "Flask hello, 64 conns, 2 procs", "flask", 2, CPU_THREADS, "/", 64),
    _w("sleep10_c256_p2", "10 ms sleep app, 256 conns, 2 procs", "hello", 2, IO_THREADS, "/sleep?ms=10", 256),
]

QUICK_KEYS = ["hello_ka_c64_p1", "echo64k_c64_p1", "hello_close_c64_p1"]
QUICK = [w for w in FULL if w.key in QUICK_KEYS]

# `bench.py --gil-compare`: the same free-threaded build with the GIL on and off, at 1, 2 and 4 app threads
# (threads only run in parallel with the GIL off; under it more app threads mostly add hand-offs), 64 conns.
GIL_THREADS = (1, 2, 4)
GIL_COMPARE = [
    w
    for t in GIL_THREADS
    for w in (
        _w(f"hello_ka_c64_t{t}", f"hello keep-alive, 64 conns, {t} app threads", "hello", 1, t, "/", 64),
        _w(
            f"echo64k_c64_t{t}",
            f"64 KiB POST echo, 64 conns, {t} app threads",
            "hello",
            1,
            t,
            "/echo",
            64,
            "post_64k",
        ),
        _w(
            f"sleep10_c64_t{t}",
            f"10 ms sleep app, 64 conns, {t} app threads",
            "hello",
            1,
            t,
            "/sleep?ms=10",
            64,
        ),
        _w(f"flask_c64_t{t}", f"Flask hello, 64 conns, {t} app threads", "flask", 1, t, "/", 64),
    )
]

# The workload used for the metrics on/off comparison of our server.
METRICS_WORKLOAD = next(w for w in FULL if w.key == "hello_ka_c64_p1")


def groups(workloads: list[Workload]) -> list[tuple[tuple[str, int, int], list[Workload]]]:
    """Workloads grouped by server start, in first-appearance order."""
    out: dict[tuple[str, int, int], list[Workload]] = {}
    for w in workloads:
        out.setdefault(w.group, []).append(w)
    return list(out.items())
