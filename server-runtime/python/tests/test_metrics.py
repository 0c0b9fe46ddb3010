"""Per-thread metrics: the stream on the control channel (shape of MetricsSnapshot in protocol.ts) and the
STATS endpoint (JSON and Prometheus text), with counts checked against real traffic."""

import http.client
import json
import socket
import time

import pytest
from conftest import free_port

THREAD_KEYS = {
    "name",
    "role",
    "state",
    "items",
    "busySeconds",
    "waitSeconds",
    "queueDepth",
    "errors",
    "cpuSeconds",
}


def check_shape(snap):
    assert set(snap) >= {"type", "time", "uptimeSeconds", "pid", "worker", "threads", "totals"}
    for thread in snap["threads"]:
        assert set(thread) == THREAD_KEYS
        assert thread["role"] in ("accept", "read", "app", "close")
        assert thread["state"] in ("busy", "waiting", "stopped")
    totals = snap["totals"]
    assert set(totals) == {
        "connectionsOpen",
        "connectionsAccepted",
        "requests",
        "status",
        "bytesIn",
        "bytesOut",
        "latency",
    }
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
