"""Per-thread metrics: the stream on the control channel (its shape is control_schema.json's, which
contract.generated.ts types for the editor) and the STATS endpoint (JSON and Prometheus text), with counts
checked against real traffic."""

import http.client
import json
import socket
import time

import pytest
from conftest import free_port
from Server_3_free_threads import contract

# The schema's per-thread fields: a field the runtime adds must be in the schema (so in the editor's types).
THREAD_KEYS = {field["name"] for field in contract.OBJECTS["thread"]}
TOTALS_KEYS = {field["name"] for field in contract.OBJECTS["totals"]}


def check_shape(snap):
    assert set(snap) >= {"type", "time", "uptimeSeconds", "pid", "worker", "threads", "totals"}
    for thread in snap["threads"]:
        assert set(thread) == THREAD_KEYS
        assert thread["role"] in ("accept", "read", "app", "close")
        assert thread["state"] in ("busy", "waiting", "stopped")
    totals = snap["totals"]
    assert set(totals) == TOTALS_KEYS
    assert set(totals["status"]) == {"1xx", "2xx", "3xx", "4xx", "5xx"}
    assert len(totals["latency"]["counts"]) == len(totals["latency"]["boundsMs"]) + 1


def test_no_metrics_until_asked_then_at_the_interval(server_factory):
    server = server_factory()
    server.control.settimeout(0.6)
    with pytest.raises(TimeoutError):
        server.control.recv(100)  # idle and unasked: nothing is sent
    for _ in range(20):
        assert server.request("GET", "/")[0] == 200
    assert server.request("GET", "/status?code=404")[0] == 404
    assert server.request("GET", "/error")[0] == 500
    server.send_command({"cmd": "metrics", "intervalMs": 200})
    first = server.read_message(want="metrics")
    started = time.monotonic()
    second = server.read_message(want="metrics")
    assert 0.1 < time.monotonic() - started < 1.0
    for snap in (first, second):
        check_shape(snap)
    snap = second
    assert snap["pid"] == server.proc.pid and snap["worker"] == 0
    names = [t["name"] for t in snap["threads"]]
    assert names == ["accept", "read", "app-1", "app-2", "app-3", "app-4", "close"]
    totals = snap["totals"]
    assert totals["requests"] == 22
    assert totals["status"]["2xx"] == 20 and totals["status"]["4xx"] == 1 and totals["status"]["5xx"] == 1
    assert totals["connectionsAccepted"] == 22
    assert sum(totals["latency"]["counts"]) == 22
    assert totals["bytesIn"] > 22 * 30 and totals["bytesOut"] > 20 * 13
    by_name = {t["name"]: t for t in snap["threads"]}
    assert by_name["accept"]["items"] == 22
    assert by_name["read"]["items"] == 22
    assert sum(by_name[f"app-{i}"]["items"] for i in range(1, 5)) == 22
    assert sum(by_name[f"app-{i}"]["errors"] for i in range(1, 5)) >= 1
    assert by_name["close"]["items"] >= 20
    assert all(t["waitSeconds"] > 0 for t in snap["threads"])
    assert by_name["read"]["cpuSeconds"] >= 0
    # stop the stream
    server.send_command({"cmd": "metrics", "intervalMs": 0})
    time.sleep(0.3)
    server.control.settimeout(0.2)
    try:
        while server.control.recv(65536):
            pass
    except TimeoutError:
        pass
    server.control.settimeout(0.6)
    with pytest.raises(TimeoutError):
        server.control.recv(100)


def test_connections_open_counts_live_connections(server_factory):
    server = server_factory()
    socks = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
    time.sleep(0.2)
    server.send_command({"cmd": "metrics", "intervalMs": 100})
    snap = server.read_message(want="metrics")
    assert snap["totals"]["connectionsOpen"] == 5
    for sock in socks:
        sock.close()
    deadline = time.monotonic() + 5
    while snap["totals"]["connectionsOpen"] and time.monotonic() < deadline:
        snap = server.read_message(want="metrics")
    assert snap["totals"]["connectionsOpen"] == 0


def test_stats_endpoint_json_and_prometheus(server_factory):
    port = free_port()
    server = server_factory(config=f"STATS=127.0.0.1:{port}\n")
    for _ in range(3):
        server.request("GET", "/")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    deadline = time.monotonic() + 5
    while True:  # a response is counted right after its last byte is sent: allow a moment
        conn.request("GET", "/stats")
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Content-Type") == "application/json"
        snaps = json.loads(response.read())
        if snaps[0]["totals"]["requests"] == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(snaps) == 1 and snaps[0]["totals"]["requests"] == 3
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    assert 'server3_requests_total{worker="0"} 3' in text
    assert 'server3_thread_items_total{worker="0",thread="app-1",role="app"}' in text
    assert 'server3_request_duration_seconds_bucket{worker="0",le="+Inf"} 3' in text
    assert 'server3_ready{worker="0"} 1' in text and 'server3_healthy{worker="0"} 1' in text
    assert 'process_open_fds{worker="0"} ' in text
    conn.close()


def test_metrics_off_still_counts_nothing_but_serves(server_factory):
    server = server_factory(config="METRICS=off\n")
    for _ in range(3):
        assert server.request("GET", "/")[2] == b"Hello, world!"
    server.send_command({"cmd": "metrics", "intervalMs": 100})
    snap = server.read_message(want="metrics")
    check_shape(snap)
    assert snap["totals"]["requests"] == 0  # per-request accounting is off


def test_recorded_responses_land_in_the_right_status_class_and_latency_bucket():
    from Server_3_free_threads.metrics import LATENCY_BOUNDS_MS, ThreadStats, snapshot

    stats = ThreadStats("app-0", "app")
    cases = [(200, 0.0005), (204, 0.001), (301, 0.0011), (404, 0.0099), (500, 7.5), (101, 11.0), (503, 0.25)]
    for code, seconds in cases:
        stats.record_response(code, 10, seconds)
    totals = snapshot([stats], time.monotonic(), 0, 0, 0)["totals"]
    assert totals["requests"] == len(cases) and totals["bytesOut"] == 10 * len(cases)
    assert totals["status"] == {"1xx": 1, "2xx": 2, "3xx": 1, "4xx": 1, "5xx": 2}
    counts = totals["latency"]["counts"]
    expected = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    for _, seconds in cases:  # a bucket counts latencies <= its bound (Prometheus `le`)
        expected[next((i for i, b in enumerate(LATENCY_BOUNDS_MS) if seconds * 1000 <= b), -1)] += 1
    assert counts == expected and counts[0] == 2 and counts[-1] == 1


def test_snapshot_says_which_python_whether_the_gil_is_on_and_the_process_cpu(server_factory):
    # What the views show next to the per-thread busy %: the interpreter, the GIL's state now (a free-threaded
    # build turns it back on when an extension module that is not free-threading-safe is imported, possibly
    # long after the ready line), and the process's CPU seconds (CPU per wall second above 1 = threads ran
    # in parallel).
    import sys

    server = server_factory(app="apps.hostile")
    first = server.snapshot()
    for _ in range(200):
        server.request("GET", "/")
    second = server.snapshot()
    assert first["python"] == sys.version.split()[0]
    expected_gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    assert first["gil"] is expected_gil
    assert 0 < first["processCpuSeconds"] < second["processCpuSeconds"]
    threads_cpu = sum(t["cpuSeconds"] for t in second["threads"])
    assert second["processCpuSeconds"] >= threads_cpu - 0.02  # the process counts every thread's CPU


def test_an_idle_server_sleeps_in_every_stage(server_factory):
    # With nothing to do, each stage blocks in its own wait (epoll with no timeout, a queue): none polls or
    # spins. A loop that woke at once (a zero timeout) would burn a core here, whatever else the machine does.
    server = server_factory(app="apps.hostile")
    server.request("GET", "/")  # one connection through every stage; it is closed and gone
    time.sleep(0.3)
    before = {t["name"]: t["cpuSeconds"] for t in server.snapshot()["threads"]}
    time.sleep(1.5)
    after = {t["name"]: t["cpuSeconds"] for t in server.snapshot()["threads"]}
    burnt = {name: round(after[name] - before[name], 3) for name in before}
    # 0.1 s of CPU in 1.5 s: far above a sleeping thread's (0.00), far below a spinning one's (~0.5-1.5).
    assert all(seconds < 0.1 for seconds in burnt.values()), burnt


# ---- the figures the user reads, computed in process with a clock the test controls ----


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_loop_timer_splits_time_into_busy_and_waiting_at_each_flip(monkeypatch):
    from Server_3_free_threads import metrics

    clock = FakeClock(100.0)
    monkeypatch.setattr(metrics.time, "perf_counter", clock)
    stats = metrics.ThreadStats("read", "read")
    timer = metrics.LoopTimer(stats, enabled=True)  # the clock starts at creation: busy until it first waits
    clock.now = 100.5
    timer.waiting()
    assert (stats.state, stats.busy, stats.wait, stats.wakeups) == ("waiting", 0.5, 0.0, 0)
    clock.now = 102.0
    timer.busy()  # 1.5 s blocked in epoll
    assert (stats.state, stats.busy, stats.wait, stats.wakeups) == ("busy", 0.5, 1.5, 1)
    clock.now = 102.25
    timer.waiting()
    clock.now = 103.0
    timer.busy()
    assert stats.busy == 0.75 and stats.wait == 2.25 and stats.wakeups == 2
    # busy % as the views compute it: busy / (busy + wait) of the interval
    assert stats.busy / (stats.busy + stats.wait) == 0.25


def test_loop_timer_with_metrics_off_flips_the_state_and_reads_no_clock(monkeypatch):
    from Server_3_free_threads import metrics

    stats = metrics.ThreadStats("app-1", "app")
    timer = metrics.LoopTimer(stats, enabled=False)

    def no_clock() -> float:
        raise AssertionError("METRICS=off must not read the clock")

    monkeypatch.setattr(metrics.time, "perf_counter", no_clock)
    timer.busy()
    assert stats.state == "busy" and stats.wakeups == 1
    timer.waiting()
    assert (stats.state, stats.busy, stats.wait, stats.wakeups) == ("waiting", 0.0, 0.0, 1)


def test_snapshot_sums_every_thread_and_rounds_what_it_publishes(monkeypatch):
    from Server_3_free_threads import metrics

    read = metrics.ThreadStats("read", "read", queue_depth=lambda: 7)
    read.items, read.busy, read.wait, read.errors, read.bytes_in = 5, 1.23456789, 2.00000049, 2, 300
    app1 = metrics.ThreadStats("app-1", "app")
    app2 = metrics.ThreadStats("app-2", "app")
    app1.record_response(200, 100, 0.0004)
    app1.record_response(404, 10, 0.003)
    app2.record_response(500, 1, 20.0)
    app2.record_response(302, 2, 0.003)
    app2.bytes_in = 11
    monkeypatch.setattr(metrics.time, "monotonic", lambda: 1000.0)
    snap = metrics.snapshot(
        [read, app1, app2], 1000.0 - 12.3456, 3, connections_accepted=9, connections_closed=4
    )
    assert snap["uptimeSeconds"] == 12.346 and snap["worker"] == 3
    assert snap["health"] == {"status": "ok", "problems": []}
    first = snap["threads"][0]
    assert first == {
        "name": "read",
        "role": "read",
        "state": "waiting",
        "items": 5,
        "busySeconds": 1.234568,
        "waitSeconds": 2.0,
        "queueDepth": 7,
        "errors": 2,
        "cpuSeconds": 0.0,  # native_id 0: not started, no /proc entry to read
    }
    assert snap["threads"][1]["queueDepth"] == 0
    totals = snap["totals"]
    assert totals["connectionsOpen"] == 5 and totals["connectionsAccepted"] == 9
    assert totals["requests"] == 4 and totals["bytesIn"] == 311 and totals["bytesOut"] == 113
    assert totals["status"] == {"1xx": 0, "2xx": 1, "3xx": 1, "4xx": 1, "5xx": 1}
    assert totals["latency"]["boundsMs"] == [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    assert totals["latency"]["counts"] == [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    # more closes than accepts counted (a race between two counters) never shows a negative open count
    assert metrics.snapshot([], 0.0, 0, 3, 5)["totals"]["connectionsOpen"] == 0
    health = {"status": "degraded", "problems": ["x"]}
    assert metrics.snapshot([], 0.0, 0, 0, 0, health)["health"] is health


def test_latency_buckets_hold_their_bounds_and_the_next_bucket_starts_just_above():
    from Server_3_free_threads.metrics import LATENCY_BOUNDS_MS, ThreadStats

    assert LATENCY_BOUNDS_MS == [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    for i, bound in enumerate(LATENCY_BOUNDS_MS):
        stats = ThreadStats("app-1", "app")
        stats.record_response(200, 0, bound / 1000)
        stats.record_response(200, 0, bound / 1000 * 1.001)
        assert stats.latency[i] == 1 and stats.latency[i + 1] == 1, bound


def test_thread_cpu_seconds_reads_this_threads_user_and_system_time():
    import os
    import threading

    from Server_3_free_threads.metrics import thread_cpu_seconds

    assert thread_cpu_seconds(0) == 0.0
    assert thread_cpu_seconds(2**22 + 12345) == 0.0  # no such thread: 0, not an exception
    tid = threading.get_native_id()
    with open(f"/proc/self/task/{tid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    before = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    started = time.process_time()
    while time.process_time() - started < 0.3:  # burn CPU in this thread
        pass
    measured = thread_cpu_seconds(tid)
    # Generous: clock ticks are 10 ms and the machine is shared; what matters is utime+stime in seconds,
    # not ticks (x100) and not one field alone.
    assert before + 0.2 <= measured <= before + 5, (before, measured)


def test_prometheus_text_of_a_known_snapshot():
    from Server_3_free_threads.metrics import prometheus_text

    bounds = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    snap = {
        "worker": 2,
        "health": {"status": "degraded", "problems": ["stuck"]},
        "threads": [
            {
                "name": "read",
                "role": "read",
                "items": 4,
                "busySeconds": 0.5,
                "waitSeconds": 1.5,
                "queueDepth": 1,
                "errors": 3,
                "cpuSeconds": 0.25,
            }
        ],
        "totals": {
            "connectionsOpen": 2,
            "connectionsAccepted": 6,
            "requests": 5,
            "status": {"1xx": 0, "2xx": 3, "3xx": 0, "4xx": 1, "5xx": 1},
            "bytesIn": 100,
            "bytesOut": 200,
            "latency": {"boundsMs": bounds, "counts": [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]},
        },
    }
    lines = prometheus_text(snap).splitlines()
    t = 'worker="2",thread="read",role="read"'
    for name, value in [
        ("thread_items_total", 4),
        ("thread_busy_seconds_total", 0.5),
        ("thread_wait_seconds_total", 1.5),
        ("thread_queue_depth", 1),
        ("thread_errors_total", 3),
        ("thread_cpu_seconds_total", 0.25),
    ]:
        assert f"server3_{name}{{{t}}} {value}" in lines
    w = 'worker="2"'
    for sample in [
        f"server3_healthy{{{w}}} 0",
        f"server3_connections_open{{{w}}} 2",
        f"server3_connections_accepted_total{{{w}}} 6",
        f"server3_requests_total{{{w}}} 5",
        f'server3_responses_total{{{w},status="2xx"}} 3',
        f'server3_responses_total{{{w},status="5xx"}} 1',
        f"server3_received_bytes_total{{{w}}} 100",
        f"server3_sent_bytes_total{{{w}}} 200",
        "# TYPE server3_thread_busy_seconds_total counter",
        "# TYPE server3_thread_queue_depth gauge",
        "# TYPE server3_request_duration_seconds histogram",
    ]:
        assert sample in lines, sample
    buckets = [line for line in lines if line.startswith("server3_request_duration_seconds_bucket")]
    assert buckets[0] == f'server3_request_duration_seconds_bucket{{{w},le="0.001"}} 1'
    assert buckets[1] == f'server3_request_duration_seconds_bucket{{{w},le="0.002"}} 3'  # cumulative
    assert buckets[11] == f'server3_request_duration_seconds_bucket{{{w},le="5.0"}} 3'
    assert buckets[12] == f'server3_request_duration_seconds_bucket{{{w},le="10.0"}} 4'
    assert buckets[13] == f'server3_request_duration_seconds_bucket{{{w},le="+Inf"}} 5'
    assert len(buckets) == 14 and f"server3_request_duration_seconds_count{{{w}}} 5" in lines
    # no sum in the snapshot (an older worker): 0, so the family stays a valid histogram
    assert f"server3_request_duration_seconds_sum{{{w}}} 0.0" in lines
    snap["health"] = {"status": "ok", "problems": []}
    assert f"server3_healthy{{{w}}} 1" in prometheus_text(snap).splitlines()


def test_busy_seconds_of_a_slow_app_land_on_the_app_thread(server_factory):
    # A request that sleeps 400 ms keeps its app thread busy that long; the read thread meanwhile waits.
    server = server_factory(app="apps.hostile", config="APP_THREADS=1\n")
    before = {t["name"]: t for t in server.snapshot()["threads"]}
    assert server.request("GET", "/sleep?ms=400")[0] == 200
    deadline = time.monotonic() + 5
    while True:  # the app thread records its busy time when it next waits: right after the response
        after = {t["name"]: t for t in server.snapshot()["threads"]}
        if (
            after["app-1"]["busySeconds"] - before["app-1"]["busySeconds"] >= 0.4
            or time.monotonic() > deadline
        ):
            break
        time.sleep(0.05)
    busy = after["app-1"]["busySeconds"] - before["app-1"]["busySeconds"]
    # Upper bound generous (a loaded 2-core machine): the point is seconds, not milliseconds or 0.
    assert 0.4 <= busy < 3.0, busy
    assert after["app-1"]["items"] - before["app-1"]["items"] == 1
    assert after["read"]["busySeconds"] - before["read"]["busySeconds"] < 0.4
    assert after["read"]["waitSeconds"] > before["read"]["waitSeconds"]
